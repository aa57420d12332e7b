// SPDX-License-Identifier: GPL-2.0

//! A loom model of a lockless buffer (`buffer/lockless.rs`) and a reader
//! of `buffer/ring.rs`, as shipped, compiled with loom's atomics: two
//! writers, which stand for nested writers of one CPU (every interleaving
//! of an interrupted writer and its interrupter is one of theirs) or for
//! writers of two CPUs on a global buffer, and a reader running at once.
//!
//! Ring cells are loom atomics stored and loaded `Relaxed`, as the
//! kernel's copies are, each naming its writer, record and index, so a
//! reader's copy of a slot not committed yet, or not delivered whole,
//! shows. Checked in every execution: what is read is whole records, each
//! writer's in order, none twice; and at the end, after a flush, written =
//! read + lost, exactly.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_lockless`.
#![cfg(loom)]

#[allow(dead_code)]
#[path = "../../buffer/ring.rs"]
mod ring;

#[allow(dead_code)]
#[path = "../../buffer/lockless.rs"]
mod lockless;

use lockless::{Lockless, Rings, Slot, Words};
use loom::{
    model::Builder,
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        Arc,
    },
    thread,
};
use ring::{Counters, Geometry, Ring, SwitchHooks, NO_RESERVATION};

/// A lockless buffer's counters, words and ring cells.
struct Buf {
    geo: Geometry,
    c: Vec<AtomicUsize>,
    padding: Vec<AtomicUsize>,
    starts: Vec<AtomicUsize>,
    commit: Vec<AtomicUsize>,
    tail: Vec<AtomicUsize>,
    mem: Vec<AtomicUsize>,
    lost: AtomicUsize,
}

// Indices of the plain counters in `Buf::c`.
const DATA: usize = 0;
const OFFSET: usize = 1;
const COMMITTED: usize = 2;
const WRITTEN: usize = 3;
const INDEX: usize = 4;
const PRODUCED: usize = 5;
const CONSUMED: usize = 6;
const BYTES: usize = 7;
const PREV: usize = 8;
const HEADER: usize = 9;
const BASE: usize = 10;
const OVER: usize = 11;
const PARTIAL: usize = 12;
const READ_END: usize = 13;
const SEQ: usize = 14;
const HEAD: usize = 15;
const TOKEN: usize = 16;

impl Buf {
    fn new(ss: usize, n: usize) -> Self {
        let z = |k: usize| (0..k).map(|_| AtomicUsize::new(0)).collect::<Vec<_>>();
        let b = Buf {
            geo: Geometry::new(ss, n).unwrap(),
            c: z(17),
            padding: z(n),
            starts: z(n),
            commit: z(n),
            tail: z(n),
            mem: z(ss * n),
            lost: AtomicUsize::new(0),
        };
        b.c[COMMITTED].store(NO_RESERVATION, Relaxed);
        b.lockless().reset();
        b
    }

    fn ring(&self) -> Ring<'_> {
        let c = &self.c;
        Ring::new(
            self.geo,
            Counters {
                start: 0,
                data: &c[DATA],
                offset: &c[OFFSET],
                committed: &c[COMMITTED],
                produced: &c[PRODUCED],
                consumed: &c[CONSUMED],
                bytes_consumed: &c[BYTES],
                prev_padding: &c[PREV],
                padding: &self.padding,
                index: &c[INDEX],
                written: &c[WRITTEN],
                starts: &self.starts,
                header: &c[HEADER],
                base: &c[BASE],
                overwritten: &c[OVER],
                partial: &c[PARTIAL],
                read_end: &c[READ_END],
                seq: &c[SEQ],
            },
        )
    }

    fn lockless(&self) -> Lockless<'_, impl Rings<'_>> {
        Lockless::new(
            || self.ring(),
            Words {
                head: &self.c[HEAD],
                commit: &self.commit,
                tail: &self.tail,
                token: &self.c[TOKEN],
            },
        )
    }

    /// Writer `w`'s record `seq` of `len` cells; true if accepted.
    fn write(&self, w: usize, seq: usize, len: usize) -> bool {
        let l = self.lockless();
        let Some(Slot { pos, len }) = l.reserve(len, &mut Hooks(self)) else {
            return false;
        };
        for i in 0..len {
            self.mem[pos + i].store(cell(w, seq, len, i), Relaxed);
        }
        l.commit(Slot { pos, len }, &mut Hooks(self));
        true
    }

    /// Reads what is readable, as `read()` does, cell by cell.
    fn read(&self, out: &mut Vec<usize>) {
        let ring = self.ring();
        while let Some(run) = ring.next_read(usize::MAX) {
            let copy: Vec<usize> = (run.pos..run.pos + run.len)
                .map(|p| self.mem[p].load(Relaxed))
                .collect();
            assert!(ring.consume_run(run), "a no-overwrite copy dropped");
            out.extend(copy);
        }
    }
}

const MARK: usize = 1 << 40;

fn cell(w: usize, seq: usize, len: usize, i: usize) -> usize {
    MARK | w << 24 | seq << 16 | len << 8 | i
}

struct Hooks<'a>(&'a Buf);

impl SwitchHooks for Hooks<'_> {
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        unreachable!()
    }
    fn produced(&mut self, _: usize) {}
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _: usize) {
        self.0.lost.fetch_add(1, Relaxed);
    }
    fn lost_too_big(&mut self, _: usize) {
        self.0.lost.fetch_add(1, Relaxed);
    }
}

/// Checks a stream of cells: whole records, each writer's in order, once.
fn check(stream: &[usize], writers: usize) -> usize {
    let mut next = vec![0; writers];
    let (mut at, mut records) = (0, 0);
    while at < stream.len() {
        let c = stream[at];
        assert!(
            c & MARK != 0,
            "a cell never written read at {at}: {stream:x?}"
        );
        let (w, seq, len) = ((c >> 24) & 0xff, (c >> 16) & 0xff, (c >> 8) & 0xff);
        assert!(seq >= next[w], "writer {w}'s record {seq} out of order");
        for i in 0..len {
            assert_eq!(
                stream.get(at + i),
                Some(&cell(w, seq, len, i)),
                "torn record"
            );
        }
        next[w] = seq + 1;
        at += len;
        records += 1;
    }
    records
}

/// Two writers of `recs` records each (lengths `lens`) and a reader, on a
/// ring of `n` sub-buffers of `ss` cells.
fn model(ss: usize, n: usize, recs: usize, lens: &'static [usize]) {
    let mut b = Builder::new();
    b.preemption_bound = Some(
        std::env::var("LOOM_MAX_PREEMPTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    );
    b.check(move || {
        let buf = Arc::new(Buf::new(ss, n));
        let writers: Vec<_> = (0..2)
            .map(|w| {
                let buf = buf.clone();
                thread::spawn(move || {
                    (0..recs)
                        .filter(|&s| buf.write(w, s, lens[(w + s) % lens.len()]))
                        .count()
                })
            })
            .collect();
        let mut stream = Vec::new();
        buf.read(&mut stream);
        let accepted: usize = writers.into_iter().map(|t| t.join().unwrap()).sum();
        buf.lockless().flush(&mut Hooks(&buf));
        buf.read(&mut stream);
        let read = check(&stream, 2);
        assert_eq!(read, accepted, "accepted records not read");
        assert_eq!(accepted + buf.lost.load(Relaxed), 2 * recs);
    });
}

#[test]
fn nested_reserve_commit_deliver() {
    // Records of 2 and 3 cells in 4-cell sub-buffers: switches with
    // padding, out-of-order completion and delivery by either writer.
    model(4, 2, 2, &[2, 3]);
}

#[test]
fn full_ring_counts_losses() {
    // One sub-buffer: the second record of a writer often finds it full.
    model(3, 1, 2, &[2]);
}
