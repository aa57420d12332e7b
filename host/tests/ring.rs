// SPDX-License-Identifier: GPL-2.0

//! Ring logic on the host: unit tests of 6.12 semantics and a property
//! test of ordering, exactness and loss accounting.

use proptest::prelude::*;
use relay_rs_host::{
    check_ops,
    ring::{Geometry, GeometryError, MAX_SUBBUFS},
    HostBuffer, Op,
};

fn rec(seq: u32, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq as usize * 31 + i) as u8).collect()
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
        let mut read = 0;
        for i in 0..1000 {
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
        assert_eq!(read + b.overwritten(), 1000, "from {start}");
    }
}

/// A reader lapped inside a sub-buffer it read part of: the kernel does
/// not know where records end, so the records it read of that sub-buffer
/// are counted as overwritten too. Losses are over-counted, never missed,
/// and by at most what was read of the lapped sub-buffers.
#[test]
fn partial_reads_overcount_never_undercount() {
    let mut b = HostBuffer::new(64, 4, true);
    let (mut read, mut bound) = (0, 0);
    for i in 0..1000 {
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
        (1000..=1000 + bound).contains(&counted),
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

fn ops(max_len: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            12 => (0..=max_len).prop_map(Op::Write),
            2 => Just(Op::Flush),
            4 => (1usize..300).prop_map(Op::Read),
            1 => Just(Op::Reset),
        ],
        1..200,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

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
