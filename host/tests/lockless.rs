// SPDX-License-Identifier: GPL-2.0

//! The lockless producer (`buffer/lockless.rs`) against the consumers of
//! `buffer/ring.rs`: nested writers modelled on one thread (a writer
//! interrupted between its reservation and its commit is a slot on a
//! stack), property-tested against a reference, and writers on threads (a
//! global buffer) with a reader, checked record by record.

use proptest::prelude::*;
use relay_rs_host::{lockless::Slot, record, LocklessBuffer};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

#[test]
fn writes_read_back_in_order() {
    let b = LocklessBuffer::new(64, 4);
    let mut want = Vec::new();
    for i in 0..10 {
        let r = record(i, 10);
        assert!(b.write(&r));
        want.extend(r);
    }
    // 6 records per sub-buffer, 4 bytes of padding: one delivered.
    assert_eq!(b.produced(), 1);
    assert_eq!(b.cells.padding(0), 4);
    // The current sub-buffer's records are readable too (committed).
    assert_eq!(b.read(usize::MAX), want);
    assert!(b.read(usize::MAX).is_empty());
}

#[test]
fn an_uncommitted_slot_hides_what_follows() {
    let b = LocklessBuffer::new(64, 4);
    let a = b.reserve(8).unwrap();
    // A nested writer writes after it and completes the sub-buffer.
    for i in 0..7 {
        assert!(b.write(&record(i, 8)));
    }
    assert_eq!(b.produced(), 0, "delivered past an uncommitted slot");
    assert!(b.read(usize::MAX).is_empty());
    b.fill(a, &record(100, 8));
    b.commit(a);
    assert_eq!(b.produced(), 1);
    let mut want = record(100, 8);
    for i in 0..7 {
        want.extend(record(i, 8));
    }
    assert_eq!(b.read(usize::MAX), want);
}

#[test]
fn full_ring_drops_and_counts() {
    let b = LocklessBuffer::new(32, 2);
    let mut accepted = 0;
    for i in 0..20 {
        accepted += usize::from(b.write(&record(i, 10)));
    }
    // 3 records per sub-buffer: the first two sub-buffers, the third is
    // refused (and the second delivered when the third was refused).
    assert_eq!(accepted, 6);
    assert_eq!(b.lost(), 14);
    assert_eq!(b.produced(), 2);
    assert_eq!(b.read(usize::MAX).len(), 60);
    // Consumed: room again.
    assert!(b.write(&record(99, 10)));
}

#[test]
fn too_big_and_empty() {
    let b = LocklessBuffer::new(32, 2);
    assert!(b.reserve(33).is_none());
    assert_eq!(b.tally.lost_big.load(Ordering::Relaxed), 1);
    assert!(b.reserve(0).is_none());
    assert_eq!(b.lost(), 1);
    // An exactly full sub-buffer is complete: delivered at once.
    assert!(b.write(&record(1, 32)));
    assert_eq!(b.produced(), 1);
    assert_eq!(b.cells.padding(0), 0);
    assert!(b.write(&record(2, 1)));
    assert_eq!(b.produced(), 1);
}

#[test]
fn flush_completes_and_skips_empty() {
    let b = LocklessBuffer::new(32, 4);
    assert!(!b.flush());
    assert!(b.write(&record(1, 5)));
    assert!(b.flush());
    assert_eq!(b.produced(), 1);
    assert_eq!(b.cells.padding(0), 27);
    assert!(!b.flush());
    assert_eq!(b.read(usize::MAX), record(1, 5));
}

#[test]
fn slot_packs() {
    let s = Slot {
        pos: 12345,
        len: 77,
    };
    assert_eq!(Slot::unpack(s.pack()), Some(s));
    assert_eq!(Slot::unpack(0), None);
}

/// One step of nested writers on one CPU.
#[derive(Debug, Clone)]
enum Op {
    /// A writer reserves and is interrupted before it fills its slot.
    Begin(usize),
    /// The innermost interrupted writer fills and commits its slot.
    End,
    /// A writer writes a whole record (at the current nesting level).
    Write(usize),
    Flush,
    Read(usize),
}

fn op(ss: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=ss + 2).prop_map(Op::Begin),
        3 => Just(Op::End),
        4 => (1..=ss + 2).prop_map(Op::Write),
        1 => Just(Op::Flush),
        2 => (1..200usize).prop_map(Op::Read),
    ]
}

/// Runs `ops` and checks: what is read is always a prefix of the accepted
/// records in reservation order, each whole and filled (never the bytes of
/// a slot not committed), and at the end everything accepted is read and
/// every record is accepted or counted lost.
fn check_nested(ss: usize, n: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let b = LocklessBuffer::new(ss, n);
    let mut stack: Vec<(Slot, Vec<u8>)> = Vec::new();
    // Accepted records in reservation order, and which are committed.
    let mut order: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut slots: Vec<usize> = Vec::new();
    let mut read = Vec::new();
    let mut tries = 0;
    let check = |read: &[u8], order: &[(Vec<u8>, bool)]| -> Result<(), TestCaseError> {
        let mut expect = Vec::new();
        for (r, committed) in order {
            if expect.len() >= read.len() {
                break;
            }
            prop_assert!(*committed, "read reached a slot not committed");
            expect.extend_from_slice(r);
        }
        prop_assert!(expect.len() >= read.len(), "read more than was accepted");
        prop_assert_eq!(
            &expect[..read.len()],
            read,
            "read is not the accepted records"
        );
        Ok(())
    };
    for (seq, op) in ops.iter().enumerate() {
        match *op {
            Op::Begin(len) => {
                tries += 1;
                if let Some(s) = b.reserve(len) {
                    stack.push((s, record(seq, len)));
                    order.push((record(seq, len), false));
                    slots.push(order.len() - 1);
                }
            }
            Op::End => {
                if let Some((s, r)) = stack.pop() {
                    b.fill(s, &r);
                    b.commit(s);
                    let i = slots.pop().unwrap();
                    order[i].1 = true;
                }
            }
            Op::Write(len) => {
                tries += 1;
                let r = record(seq, len);
                if let Some(s) = b.reserve(len) {
                    order.push((r.clone(), false));
                    let i = order.len() - 1;
                    b.fill(s, &r);
                    b.commit(s);
                    order[i].1 = true;
                }
            }
            Op::Flush => {
                b.flush();
            }
            Op::Read(k) => {
                let got = b.read(k);
                prop_assert!(got.len() <= k);
                read.extend(got);
                check(&read, &order)?;
            }
        }
        prop_assert!(!b.words.token_held(), "token left held");
    }
    while let Some((s, r)) = stack.pop() {
        b.fill(s, &r);
        b.commit(s);
        let i = slots.pop().unwrap();
        order[i].1 = true;
    }
    b.flush();
    read.extend(b.read(usize::MAX));
    check(&read, &order)?;
    let total: usize = order.iter().map(|(r, _)| r.len()).sum();
    prop_assert_eq!(read.len(), total, "accepted bytes never read");
    prop_assert_eq!(
        order.len() + b.lost(),
        tries,
        "a record neither accepted nor counted"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn nested_writers(ss in 8usize..48, n in 1usize..5, ops in prop::collection::vec(op(48), 1..120)) {
        check_nested(ss, n, &ops)?;
    }
}

/// A record of writer `w`: `[w, seq (4 bytes), len, payload..., sum]`.
fn tagged_record(w: u8, seq: u32, len: usize) -> Vec<u8> {
    let mut r = vec![w];
    r.extend(seq.to_le_bytes());
    r.push(len as u8);
    r.extend((0..len - 7).map(|i| (seq as usize * 7 + i) as u8 ^ w));
    let sum = r.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    r.push(sum);
    r
}

#[test]
fn threads_write_one_buffer() {
    const WRITERS: u8 = 3;
    const RECORDS: u32 = 20_000;
    let b = Arc::new(LocklessBuffer::new(256, 8));
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut ok = 0;
                for seq in 0..RECORDS {
                    let len = 8 + (seq as usize * 13 + w as usize) % 40;
                    ok += usize::from(b.write(&tagged_record(w, seq, len)));
                }
                ok
            })
        })
        .collect();
    let reader = {
        let (b, done) = (b.clone(), done.clone());
        std::thread::spawn(move || {
            let mut stream = Vec::new();
            loop {
                let finished = done.load(Ordering::Acquire);
                stream.extend(b.read(4096));
                if finished {
                    b.flush();
                    stream.extend(b.read(usize::MAX));
                    return stream;
                }
            }
        })
    };
    let accepted: usize = writers.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, Ordering::Release);
    let stream = reader.join().unwrap();
    let mut last = [None::<u32>; WRITERS as usize];
    let (mut at, mut records) = (0, 0);
    while at < stream.len() {
        let w = stream[at];
        assert!(w < WRITERS, "garbage at {at}");
        let seq = u32::from_le_bytes(stream[at + 1..at + 5].try_into().unwrap());
        let len = stream[at + 5] as usize;
        let r = &stream[at..at + len];
        assert_eq!(r, &tagged_record(w, seq, len)[..], "torn record at {at}");
        assert!(
            last[w as usize].is_none_or(|l| l < seq),
            "writer {w} out of order"
        );
        last[w as usize] = Some(seq);
        at += len;
        records += 1;
    }
    assert_eq!(records, accepted);
    assert_eq!(accepted + b.lost(), WRITERS as usize * RECORDS as usize);
}
