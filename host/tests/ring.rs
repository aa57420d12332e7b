// SPDX-License-Identifier: GPL-2.0

//! Ring logic on the host: unit tests of 6.12 semantics and a property
//! test of ordering, exactness and loss accounting.
#![cfg(not(loom))] // Under loom only tests/loom.rs builds.

use proptest::prelude::*;
use relay_rs_host::{
    check_ops,
    ring::{Geometry, GeometryError, MAX_SUBBUFS},
    HostBuffer, Op,
};

fn rec(seq: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
}

/// `n` iterations, or a fifth of them under Miri (`make test`'s bounded
/// run).
const fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        n / 5
    } else {
        n
    }
}

#[test]
fn geometry_validation() {
    assert_eq!(Geometry::new(0, 4), Err(GeometryError::Zero));
    assert_eq!(Geometry::new(4, 0), Err(GeometryError::Zero));
    assert_eq!(Geometry::new(1 << 31, 2), Err(GeometryError::Overflow));
    assert_eq!(Geometry::new(usize::MAX, 2), Err(GeometryError::Overflow));
    assert_eq!(
        Geometry::new(1, MAX_SUBBUFS + 1),
        Err(GeometryError::TooManySubbufs)
    );
    let g = Geometry::new(1000, 3).unwrap();
    assert_eq!(g.ring_size(), 3000);
    assert_eq!(g.alloc_size(4096), 4096);
    assert_eq!(g.refused_offset(), 1001);
}

#[test]
fn padding_is_recorded_and_skipped() {
    let mut b = HostBuffer::new(64, 4, false);
    assert!(b.write(&rec(1, 40)));
    assert!(b.write(&rec(2, 40)));
    assert_eq!(b.padding(0), 24);
    assert_eq!(b.produced(), 1);
    let got = b.read(usize::MAX);
    assert_eq!(got, [rec(1, 40), rec(2, 40)].concat());
    assert_eq!(b.produced_bytes, 40);
}

#[test]
fn no_overwrite_refuses_when_full_and_recovers() {
    let mut b = HostBuffer::new(64, 2, false);
    for i in 0..5 {
        b.write(&rec(i, 64));
    }
    assert_eq!(b.lost_full, 3);
    assert_eq!(b.read(usize::MAX), [rec(0, 64), rec(1, 64)].concat());
    assert!(b.write(&rec(9, 64)));
    b.flush();
    assert_eq!(b.read(usize::MAX), rec(9, 64));
}

#[test]
fn overwrite_reader_jumps_to_newest() {
    let mut b = HostBuffer::new(64, 4, true);
    for i in 0..10 {
        b.write(&rec(i, 64));
    }
    let got = b.read(usize::MAX);
    assert_eq!(got, (6..10).flat_map(|i| rec(i, 64)).collect::<Vec<_>>());
}

#[test]
fn too_big_does_not_switch() {
    let mut b = HostBuffer::new(64, 4, false);
    assert!(b.write(&rec(1, 20)));
    assert!(!b.write(&rec(2, 65)));
    assert_eq!((b.lost_big, b.produced()), (1, 0));
    assert_eq!(b.read(usize::MAX), rec(1, 20));
}

#[test]
fn empty_flush_is_all_padding() {
    let mut b = HostBuffer::new(64, 4, false);
    b.flush();
    b.flush();
    assert_eq!(b.produced(), 2);
    assert_eq!(b.padding(0), 64);
    assert!(!b.ring().has_complete_data(), "padding only: not readable");
    assert!(b.read(usize::MAX).is_empty());
    // Both all-padding sub-buffers were consumed by that one read.
    assert!(b.ring().is_empty());
    b.write(&rec(1, 10));
    assert!(!b.ring().has_complete_data(), "current sub-buffer: not yet");
    b.flush();
    assert!(b.ring().has_complete_data());
}

#[test]
fn unread_data_includes_the_current_subbuffer() {
    // poll's readiness with a delivery interval: whatever read() would return.
    let mut b = HostBuffer::new(64, 4, false);
    assert!(!b.ring().has_unread_data(), "nothing written");
    b.write(&rec(1, 10));
    assert!(!b.ring().has_complete_data());
    assert!(
        b.ring().has_unread_data(),
        "a record in the current sub-buffer"
    );
    assert_eq!(b.read(4), rec(1, 10)[..4]);
    assert!(b.ring().has_unread_data(), "part of it left");
    assert_eq!(b.read(usize::MAX), rec(1, 10)[4..]);
    assert!(!b.ring().has_unread_data(), "all read");
    // An empty flush adds padding only; a completed sub-buffer counts.
    b.flush();
    assert!(!b.ring().has_unread_data(), "padding only");
    b.write(&rec(2, 30));
    b.write(&rec(3, 30));
    b.write(&rec(4, 30));
    assert!(b.ring().has_complete_data() && b.ring().has_unread_data());
    assert_eq!(b.read(60), [rec(2, 30), rec(3, 30)].concat());
    // Sub-buffer 2 was read and moved past: its successor's bytes count.
    assert!(
        b.ring().has_unread_data(),
        "the record in the next sub-buffer"
    );
    assert_eq!(b.read(usize::MAX), rec(4, 30));
    assert!(!b.ring().has_unread_data());
    // A reservation that may be unfilled is not readable: nothing unread
    // until the switch that completes it.
    assert!(b.reserve(&rec(5, 10)));
    assert!(!b.ring().has_unread_data(), "a reservation being filled");
    assert!(b.read(usize::MAX).is_empty());
    b.flush();
    assert!(b.ring().has_unread_data());
    assert_eq!(b.read(usize::MAX), rec(5, 10));
    assert!(!b.ring().has_unread_data());
}

#[test]
fn data_after_two_empty_flushes_is_read_once() {
    // 6.12 returns the last record twice here (found by the property test).
    let mut b = HostBuffer::new(8, 4, false);
    b.flush();
    b.flush();
    b.flush();
    assert!(b.read(1).is_empty());
    assert!(b.write(&[155]));
    b.flush();
    assert_eq!(b.read(usize::MAX), vec![155]);
    assert!(b.read(usize::MAX).is_empty());
}

#[test]
fn partial_reads_see_every_byte_once() {
    let mut b = HostBuffer::new(100, 4, false);
    let mut want = Vec::new();
    for i in 0..7 {
        let r = rec(i, 30 + i as usize);
        b.write(&r);
        want.extend(r);
    }
    b.flush();
    let mut got = Vec::new();
    loop {
        let chunk = b.read(7);
        if chunk.is_empty() {
            break;
        }
        got.extend(chunk);
    }
    assert_eq!(got, want);
}

#[test]
fn reserve_zero_after_refusal_returns_the_new_subbuf() {
    let mut b = HostBuffer::new(64, 2, false);
    b.write(&rec(0, 64));
    b.write(&rec(1, 64));
    assert!(!b.write(&rec(2, 64)), "the third record is refused");
    assert!(!b.write(&[]), "reserve(0) must fail while refused");
    b.read(usize::MAX);
    assert!(
        b.write(&[]),
        "reserve(0) succeeds once the reader caught up"
    );
}

#[test]
fn overwritten_records_are_counted() {
    let mut b = HostBuffer::new(64, 4, true);
    for i in 0..10 {
        b.write(&rec(i, 32));
    }
    // 5 sub-buffers of 2 records; the 5th reuses the 1st before it is read.
    assert_eq!(b.overwritten(), 2);
    assert_eq!(b.read(usize::MAX).len() / 32 + b.overwritten(), 10);
}

/// Start counts are compared modulo 2^48: across the wrap, reads plus
/// overwritten records are still all records.
#[test]
fn record_counts_wrap_exactly() {
    for start in [0usize, (1 << 48) - 7, usize::MAX - 5] {
        let mut b = HostBuffer::new(64, 4, true);
        b.count_from(start);
        let (mut read, count) = (0, scaled(1000));
        for i in 0..count as u32 {
            let accepted = if i % 3 == 0 {
                b.reserve(&rec(i, 16))
            } else {
                b.write(&rec(i, 16))
            };
            assert!(accepted);
            // A reader lapped inside a sub-buffer it read part of also has
            // those records counted (the kernel does not know where records
            // end): read whole sub-buffers here.
            if i % 97 == 0 {
                b.flush();
                read += b.read(usize::MAX).len() / 16;
            }
        }
        b.flush();
        read += b.read(usize::MAX).len() / 16;
        assert_eq!(read + b.overwritten(), count, "from {start}");
    }
}

/// A reader lapped inside a sub-buffer it read part of: the kernel does
/// not know where records end, so the records it read of that sub-buffer
/// are counted as overwritten too. Losses are over-counted, never missed,
/// and by at most what was read of the lapped sub-buffers.
#[test]
fn partial_reads_overcount_never_undercount() {
    let mut b = HostBuffer::new(64, 4, true);
    let (mut read, mut bound, count) = (0, 0, scaled(1000));
    for i in 0..count as u32 {
        assert!(b.write(&rec(i, 16)));
        if i % 37 == 0 {
            // 3 of a sub-buffer's 4 records, or what the current one has.
            let got = b.read(48).len() / 16;
            read += got;
            bound += got;
        }
    }
    b.flush();
    read += b.read(usize::MAX).len() / 16;
    let counted = read + b.overwritten();
    assert!(
        (count..=count + bound).contains(&counted),
        "{counted} counted"
    );
}

/// A reserved slot is readable from the next reservation or switch on.
#[test]
fn reserved_slot_readable_after_the_next() {
    let mut b = HostBuffer::new(256, 4, false);
    assert!(b.write(&rec(0, 16)));
    assert!(b.reserve(&rec(1, 16)));
    assert_eq!(b.read(usize::MAX), rec(0, 16));
    assert!(b.reserve(&rec(2, 16)));
    assert_eq!(b.read(usize::MAX), rec(1, 16));
    b.flush();
    assert_eq!(b.read(usize::MAX), rec(2, 16));
}

/// The mmap consumer of issue 15: 4 KiB x 4, 80 numbered 256-byte
/// records, sub-buffers copied and handed back: the 16 overwritten records
/// stay counted, the hand-back names the one copy to drop.
#[test]
fn mmap_hand_back_keeps_losses() {
    let mut b = HostBuffer::new(4096, 4, true);
    for i in 0..80 {
        assert!(b.write(&rec(i, 256)));
    }
    assert_eq!((b.produced(), b.consumed(), b.overwritten()), (4, 0, 16));
    assert_eq!(b.subbufs_consumed(4), 1, "sub-buffer 0 was overwritten");
    assert_eq!((b.consumed(), b.overwritten()), (4, 16));
    b.flush();
    assert_eq!(
        b.read(usize::MAX),
        (64..80).flat_map(|i| rec(i, 256)).collect::<Vec<_>>()
    );
    assert_eq!(48 + 16 + b.overwritten(), 80);
    // Lapped by more than a ring: a hand-back of everything catches up.
    for i in 80..240 {
        assert!(b.write(&rec(i, 256)));
    }
    let back = b.produced() - b.consumed();
    assert!(back > 4);
    assert_eq!(b.subbufs_consumed(back), back - 3);
    assert_eq!(b.consumed(), b.produced());
    b.flush();
    assert_eq!(
        b.read(usize::MAX).len() / 256 + 64 + 48 + b.overwritten(),
        240
    );
}

/// A consumer step of the property test below.
#[derive(Debug, Clone)]
enum Step {
    /// A record written (fixed size per case).
    Write,
    Flush,
    /// `read()` of at most this many bytes.
    Read(usize),
    /// An mmap round: copy what is completed, hand back this many.
    HandBack(usize),
}

/// Records numbered in their first 4 bytes, `len` bytes each; the delivered
/// ones are checked: intact, in order, none twice.
struct Delivered {
    len: usize,
    next_min: u32,
    count: usize,
    /// The sub-buffer ring offset being assembled and its bytes so far.
    at: Option<(usize, Vec<u8>)>,
}

impl Delivered {
    /// Bytes `data` of the sub-buffer at ring offset `base`, `off` bytes in.
    fn take(&mut self, base: usize, off: usize, data: &[u8]) -> Result<(), String> {
        let mut cur = match self.at.take() {
            Some((b, v)) if b == base && v.len() == off => v,
            // A new sub-buffer (a lapped reader's cut record goes).
            _ if off == 0 => Vec::new(),
            _ => return Err(format!("bytes at {off} of {base} continue nothing")),
        };
        let done = cur.len() / self.len;
        cur.extend_from_slice(data);
        for r in cur.chunks_exact(self.len).skip(done) {
            let seq = u32::from_le_bytes(r[..4].try_into().unwrap());
            if r[4..] != numbered(seq, self.len)[4..] || seq < self.next_min {
                return Err(format!("record {seq} torn, repeated or out of order"));
            }
            self.next_min = seq + 1;
            self.count += 1;
        }
        self.at = Some((base, cur));
        Ok(())
    }
}

fn numbered(seq: u32, len: usize) -> Vec<u8> {
    let mut r = rec(seq, len);
    r[..4].copy_from_slice(&seq.to_le_bytes());
    r
}

/// Readers and mmap consumers, in both modes: a reported loss never goes
/// down; what is delivered is intact, in order, never twice; written =
/// delivered + counted, exactly without partial reads of lapped
/// sub-buffers, and over-counted by at most the reported bound.
fn check_consumers(
    ss: usize,
    n: usize,
    overwrite: bool,
    len: usize,
    steps: &[Step],
) -> Result<(), String> {
    let mut b = HostBuffer::new(ss, n, overwrite);
    let mut d = Delivered {
        len,
        next_min: 0,
        count: 0,
        at: None,
    };
    let (mut seq, mut accepted, mut last) = (0u32, 0usize, 0usize);
    for step in steps
        .iter()
        .chain([Step::Flush, Step::Read(usize::MAX)].iter())
    {
        match *step {
            Step::Write => {
                accepted += usize::from(b.write(&numbered(seq, len)));
                seq += 1;
            }
            Step::Flush => b.flush(),
            Step::Read(k) => {
                for (pos, data) in b.read_runs(k) {
                    d.take(pos - pos % ss, pos % ss, &data)?;
                }
            }
            Step::HandBack(k) => {
                let (from, to, bc) = (b.consumed(), b.produced(), b.bytes_consumed());
                let copies: Vec<_> = (from..to)
                    .map(|s| {
                        let (start, l) = b.subbuf(s);
                        let skip = if s == from { bc.min(l) } else { 0 };
                        (start, skip, b.mem[start + skip..start + l].to_vec())
                    })
                    .collect();
                let dropped = b.subbufs_consumed(k);
                let handed = k.min(to - from);
                if dropped > handed || (!overwrite && dropped != 0) {
                    return Err(format!("{dropped} of {handed} dropped"));
                }
                for (start, skip, data) in &copies[dropped..handed] {
                    d.take(*start, *skip, data)?;
                }
            }
        }
        let now = b.overwritten();
        if now < last {
            return Err(format!("overwritten went down from {last} to {now}"));
        }
        last = now;
    }
    let counted = d.count + b.lost_full + b.overwritten();
    let writes = accepted + b.lost_full;
    if !(writes..=writes + b.partial()).contains(&counted) {
        return Err(format!(
            "{writes} written, {} delivered + {} full + {} overwritten (partial {})",
            d.count,
            b.lost_full,
            b.overwritten(),
            b.partial()
        ));
    }
    Ok(())
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            12 => Just(Step::Write),
            1 => Just(Step::Flush),
            3 => (1usize..300).prop_map(Step::Read),
            3 => (0usize..12).prop_map(Step::HandBack),
        ],
        1..scaled(300),
    )
}

fn ops(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            12 => (0..=max_len).prop_map(Op::Write),
            2 => Just(Op::Flush),
            4 => (1usize..300).prop_map(Op::Read),
            1 => Just(Op::Reset),
        ],
        1..scaled(200),
    )
}

proptest! {
    // Under Miri (`make test`'s bounded run): a few cases, and no
    // regressions file (Miri's isolation has no file system).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 2000 },
        failure_persistence: if cfg!(miri) {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        ..ProptestConfig::default()
    })]

    /// Read and mmap consumers handing back at random points, both modes.
    #[test]
    fn consumers_keep_losses_counted(ss in 16usize..200, n in 1usize..6, len in 4usize..40, overwrite: bool, steps in steps()) {
        prop_assume!(len <= ss);
        if let Err(e) = check_consumers(ss, n, overwrite, len, &steps) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// No-overwrite mode against the reference model (`check_ops`).
    #[test]
    fn no_overwrite_is_exact(ss in 8usize..200, n in 1usize..6, ops in ops(220)) {
        if let Err(e) = check_ops(ss, n, false, &ops) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// Overwrite mode: accounting, bounds and read sizes.
    #[test]
    fn overwrite_keeps_its_bounds(ss in 8usize..200, n in 1usize..6, ops in ops(220)) {
        if let Err(e) = check_ops(ss, n, true, &ops) {
            return Err(TestCaseError::fail(e));
        }
    }

    /// Overwrite mode: reads are always a sequence of whole accepted records
    /// (records never straddle what the reader sees), in order.
    #[test]
    fn overwrite_reads_whole_records_in_order(ss in 16usize..200, n in 2usize..6, count in 1usize..100, len in 1usize..16) {
        let mut b = HostBuffer::new(ss, n, true);
        let mut all = Vec::new();
        for seq in 0..count {
            let r = rec(seq as u32, len);
            prop_assert!(b.write(&r));
            all.push(r);
        }
        let got = b.read(usize::MAX);
        // Conservation: every record is read or counted as overwritten.
        prop_assert_eq!(got.len() / len + b.overwritten(), count);
        prop_assert_eq!(got.len() % len, 0);
        // What is read is a contiguous run of the newest records.
        let k = got.len() / len;
        prop_assert!(k <= count);
        prop_assert_eq!(got, all[count - k..].concat());
    }
}
