// SPDX-License-Identifier: GPL-2.0

//! Host build of relay_rs' ring logic (`buffer/ring.rs`, compiled as is)
//! and a test harness that owns the counters a kernel `rchan_buf` holds.
//!
//! Empty under `--cfg loom`: there `ring.rs` takes loom's atomics, which
//! only the loom model (`tests/loom.rs`, compiling `ring.rs` itself) has.
#![cfg(not(loom))]

#[path = "../../buffer/ring.rs"]
pub mod ring;

#[path = "../../buffer/lockless.rs"]
pub mod lockless;

use ring::{Counters, Geometry, Ring, SwitchHooks};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The counters a kernel `rchan_buf` (and relay_rs' `Buffer`) holds for
/// the ring, as atomics.
pub struct Cells {
    data: AtomicUsize,
    offset: AtomicUsize,
    committed: AtomicUsize,
    written: AtomicUsize,
    index: AtomicUsize,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    bytes_consumed: AtomicUsize,
    prev_padding: AtomicUsize,
    padding: Vec<AtomicUsize>,
    starts: Vec<AtomicUsize>,
    header: AtomicUsize,
    base: AtomicUsize,
    overwritten: AtomicUsize,
    partial: AtomicUsize,
    read_end: AtomicUsize,
    seq: AtomicUsize,
}

impl Cells {
    /// Zeroed counters for `n_subbufs` sub-buffers.
    pub fn new(n_subbufs: usize) -> Self {
        let z = || (0..n_subbufs).map(|_| AtomicUsize::new(0)).collect();
        Cells {
            data: AtomicUsize::new(0),
            offset: AtomicUsize::new(0),
            committed: AtomicUsize::new(ring::NO_RESERVATION),
            written: AtomicUsize::new(0),
            index: AtomicUsize::new(0),
            produced: AtomicUsize::new(0),
            consumed: AtomicUsize::new(0),
            bytes_consumed: AtomicUsize::new(0),
            prev_padding: AtomicUsize::new(0),
            padding: z(),
            starts: z(),
            header: AtomicUsize::new(0),
            base: AtomicUsize::new(0),
            overwritten: AtomicUsize::new(0),
            partial: AtomicUsize::new(0),
            read_end: AtomicUsize::new(0),
            seq: AtomicUsize::new(0),
        }
    }

    /// `subbufs_produced`, as a consumer loads it.
    pub fn produced(&self) -> usize {
        self.produced.load(Ordering::Acquire)
    }

    /// `subbufs_consumed`.
    pub fn consumed(&self) -> usize {
        self.consumed.load(Ordering::Relaxed)
    }

    /// The padding of the sub-buffer at `index`.
    pub fn padding(&self, index: usize) -> usize {
        self.padding[index].load(Ordering::Relaxed)
    }

    /// Overwritten records the consumers counted as they caught up.
    pub fn folded(&self) -> usize {
        self.overwritten.load(Ordering::Relaxed)
    }

    /// Records counted as overwritten that a reader may have read part of.
    pub fn partial(&self) -> usize {
        self.partial.load(Ordering::Relaxed)
    }

    /// The ring over these counters (the ring starts at address 0).
    pub fn ring(&self, geo: Geometry) -> Ring<'_> {
        Ring::new(
            geo,
            Counters {
                start: 0,
                data: &self.data,
                offset: &self.offset,
                committed: &self.committed,
                produced: &self.produced,
                consumed: &self.consumed,
                bytes_consumed: &self.bytes_consumed,
                prev_padding: &self.prev_padding,
                padding: &self.padding,
                index: &self.index,
                written: &self.written,
                starts: &self.starts,
                header: &self.header,
                base: &self.base,
                overwritten: &self.overwritten,
                partial: &self.partial,
                read_end: &self.read_end,
                seq: &self.seq,
            },
        )
    }
}

/// A relay buffer in user memory: counters, padding and the ring bytes.
pub struct HostBuffer {
    pub geo: Geometry,
    pub mem: Vec<u8>,
    cells: Cells,
    /// Switch decisions: `None` is the default no-overwrite callback.
    pub overwrite: bool,
    pub lost_full: usize,
    pub lost_big: usize,
    pub produced_bytes: usize,
    pub refused_while_not_full: usize,
}

/// Counters the hooks update, copied out of and back into the buffer.
#[derive(Default, Clone, Copy)]
struct Tally {
    lost_full: usize,
    lost_big: usize,
    produced_bytes: usize,
    refused_while_not_full: usize,
}

/// Hooks of a kernel buffer: the default `subbuf_start` asks the ring
/// whether it is full when it is called, as `relay_buf_full` does.
struct Hooks<'a, 'r> {
    ring: &'a Ring<'r>,
    overwrite: bool,
    t: &'a mut Tally,
}

impl SwitchHooks for Hooks<'_, '_> {
    fn subbuf_start(&mut self, _subbuf: usize, _prev: usize, _pad: usize) -> bool {
        self.overwrite || !self.ring.is_full()
    }
    fn produced(&mut self, bytes: usize) {
        self.t.produced_bytes += bytes;
    }
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _length: usize) {
        self.t.lost_full += 1;
        if !self.ring.is_full() {
            self.t.refused_while_not_full += 1;
        }
    }
    fn lost_too_big(&mut self, _length: usize) {
        self.t.lost_big += 1;
    }
}

impl HostBuffer {
    pub fn new(subbuf_size: usize, n_subbufs: usize, overwrite: bool) -> Self {
        let geo = Geometry::new(subbuf_size, n_subbufs).expect("valid geometry");
        let mut b = Self {
            geo,
            mem: vec![0; geo.ring_size()],
            cells: Cells::new(n_subbufs),
            overwrite,
            lost_full: 0,
            lost_big: 0,
            produced_bytes: 0,
            refused_while_not_full: 0,
        };
        b.reset();
        b
    }

    /// The ring over this buffer's counters (the ring starts at address 0).
    pub fn ring(&self) -> Ring<'_> {
        self.cells.ring(self.geo)
    }

    fn run<R>(&mut self, f: impl FnOnce(&Ring<'_>, &mut Hooks<'_, '_>) -> R) -> R {
        let mut t = Tally {
            lost_full: self.lost_full,
            lost_big: self.lost_big,
            produced_bytes: self.produced_bytes,
            refused_while_not_full: self.refused_while_not_full,
        };
        let r = {
            let ring = self.ring();
            let mut hooks = Hooks {
                ring: &ring,
                overwrite: self.overwrite,
                t: &mut t,
            };
            f(&ring, &mut hooks)
        };
        self.lost_full = t.lost_full;
        self.lost_big = t.lost_big;
        self.produced_bytes = t.produced_bytes;
        self.refused_while_not_full = t.refused_while_not_full;
        r
    }

    pub fn reset(&mut self) {
        self.run(|r, h| r.reset(h));
    }

    /// Writes `rec`; true if it was accepted.
    pub fn write(&mut self, rec: &[u8]) -> bool {
        self.put(rec, false)
    }

    /// Reserves room for `rec` and fills it (`relay_reserve()`); true if
    /// it was accepted. Readers see it from the next reservation or switch.
    pub fn reserve(&mut self, rec: &[u8]) -> bool {
        self.put(rec, true)
    }

    /// Finds room for `rec` and copies it there, claiming the room after
    /// the copy (a write) or before it (a reservation).
    fn put(&mut self, rec: &[u8], reserve: bool) -> bool {
        let Some(p) = self.run(|r, h| r.room(rec.len(), h)) else {
            return false;
        };
        assert!(p + rec.len() <= self.mem.len(), "reservation past the ring");
        if reserve {
            self.ring().reserved(rec.len());
        }
        self.mem[p..p + rec.len()].copy_from_slice(rec);
        if !reserve {
            self.ring().wrote(rec.len());
        }
        true
    }

    /// Makes the counters look as if `count` records had been written
    /// before the last reset, so that counts wrap in a short test.
    pub fn count_from(&mut self, count: usize) {
        let c = &self.cells;
        c.written.store(count, Ordering::Relaxed);
        let start = count & ring::COUNT_MASK;
        c.starts[0].store(ring::tagged(start, 0), Ordering::Relaxed);
        c.base.store(start, Ordering::Relaxed);
    }

    /// Completes the current sub-buffer (`relay_flush`).
    pub fn flush(&mut self) {
        self.run(|r, h| r.switch_subbuf(0, h));
    }

    /// Reads up to `max` bytes, as `read()` on the file does.
    pub fn read(&self, max: usize) -> Vec<u8> {
        let ring = self.ring();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(run) = ring.next_read(max - out.len()) else {
                break;
            };
            let (pos, len) = (run.pos, run.len);
            assert!(pos + len <= self.mem.len(), "read past the ring");
            assert!(len > 0);
            // Nothing overwrites the copy here (one thread).
            assert!(ring.consume_run(run), "an intact copy dropped");
            out.extend_from_slice(&self.mem[pos..pos + len]);
        }
        out
    }

    /// Reads up to `max` bytes as `read()` does, run by run: each run's
    /// ring offset and bytes.
    pub fn read_runs(&self, max: usize) -> Vec<(usize, Vec<u8>)> {
        let ring = self.ring();
        let (mut out, mut done) = (Vec::new(), 0);
        while done < max {
            let Some(run) = ring.next_read(max - done) else {
                break;
            };
            let (pos, len) = (run.pos, run.len);
            assert!(pos + len <= self.mem.len() && len > 0);
            assert!(ring.consume_run(run), "an intact copy dropped");
            out.push((pos, self.mem[pos..pos + len].to_vec()));
            done += len;
        }
        out
    }

    /// `bytes_consumed`.
    pub fn bytes_consumed(&self) -> usize {
        self.cells.bytes_consumed.load(Ordering::Relaxed)
    }

    /// Hands back `n` sub-buffers from the read position
    /// (`relay_subbufs_consumed`, `RELAY_RS_IOC_CONSUMED`): how many of
    /// them, from the first, were overwritten.
    pub fn subbufs_consumed(&self, n: usize) -> usize {
        self.ring().subbufs_consumed(n)
    }

    /// `subbufs_consumed`.
    pub fn consumed(&self) -> usize {
        self.cells.consumed()
    }

    /// Records counted as overwritten that a reader may have read part of.
    pub fn partial(&self) -> usize {
        self.cells.partial()
    }

    /// The sub-buffer count `count` is at: its ring offset and its data
    /// length (without padding; the current one: what was written).
    pub fn subbuf(&self, count: usize) -> (usize, usize) {
        let ss = self.geo.subbuf_size();
        let start = self.geo.index(count) * ss;
        if count == self.produced() {
            let off = self.cells.offset.load(Ordering::Relaxed);
            (start, if off > ss { 0 } else { off })
        } else {
            (start, ss - self.padding(self.geo.index(count)).min(ss))
        }
    }

    /// Unread records overwritten so far (`relay_rs_stats()`).
    pub fn overwritten(&self) -> usize {
        self.ring().overwritten()
    }

    pub fn produced(&self) -> usize {
        self.cells.produced.load(Ordering::Relaxed)
    }

    pub fn padding(&self, i: usize) -> usize {
        self.cells.padding[i].load(Ordering::Relaxed)
    }
}

/// One operation on a buffer, for the model checks.
#[derive(Debug, Clone)]
pub enum Op {
    /// Write a record of this many bytes.
    Write(usize),
    /// `relay_flush`.
    Flush,
    /// `read()` of at most this many bytes.
    Read(usize),
    /// `relay_reset`.
    Reset,
}

/// A record whose bytes tell which write made it.
pub fn record(seq: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (seq * 31 + i) as u8).collect()
}

/// Runs `ops` on a buffer and checks it against a reference model of a
/// relay buffer: the bytes read are exactly the accepted records in order
/// (no-overwrite mode; a reset discards what was not read), every write is
/// accepted or counted as lost, a refusal happens only when the ring is
/// full, nothing is read past the ring, and a read never exceeds its count.
pub fn check_ops(ss: usize, n: usize, overwrite: bool, ops: &[Op]) -> Result<(), String> {
    let mut b = HostBuffer::new(ss, n, overwrite);
    let mut pending = std::collections::VecDeque::new();
    let (mut writes, mut accepted) = (0, 0);
    let check_read = |got: Vec<u8>, pending: &mut std::collections::VecDeque<u8>, k: usize| {
        if got.len() > k {
            return Err(format!("read {k} returned {}", got.len()));
        }
        if overwrite {
            return Ok(());
        }
        if got.len() > pending.len() || !got.iter().zip(pending.iter()).all(|(a, b)| a == b) {
            return Err(format!(
                "read {k}: {} bytes that are not the next accepted ones",
                got.len()
            ));
        }
        pending.drain(..got.len());
        Ok(())
    };
    // Records in the ring's count, empty ones too.
    let mut stored = 0;
    for (seq, op) in ops.iter().enumerate() {
        match *op {
            Op::Write(len) => {
                // An empty write carries nothing to lose: relay_rs counts
                // neither it nor its refusal (nor a flush's, nor reserve(0)).
                let counted = len > 0;
                writes += usize::from(counted);
                let r = record(seq, len);
                if b.write(&r) {
                    accepted += usize::from(counted);
                    stored += 1;
                    if !overwrite {
                        pending.extend(r);
                    }
                }
            }
            Op::Flush => b.flush(),
            Op::Reset => {
                b.reset();
                pending.clear();
                stored = 0;
            }
            Op::Read(k) => check_read(b.read(k), &mut pending, k)?,
        }
        // Overwrite losses happen only in overwrite mode, to accepted records.
        let now = b.overwritten();
        if (!overwrite && now != 0) || now > stored {
            return Err(format!("overwritten {now} with {stored} stored"));
        }
        // The producer's index is the division it saves.
        let index = b.cells.index.load(Ordering::Relaxed);
        if index != b.produced() % n {
            return Err(format!("index {index} with {} produced", b.produced()));
        }
    }
    b.flush();
    check_read(b.read(usize::MAX), &mut pending, usize::MAX)?;
    if !overwrite && !pending.is_empty() {
        return Err(format!("{} accepted bytes never read", pending.len()));
    }
    if accepted + b.lost_full + b.lost_big != writes {
        return Err(format!(
            "{writes} writes != {accepted} accepted + {} + {} lost",
            b.lost_full, b.lost_big
        ));
    }
    if b.refused_while_not_full != 0 {
        return Err("a switch was refused while the ring was not full".into());
    }
    Ok(())
}

/// The words of a lockless buffer (`lockless.rs`), as atomics.
pub struct LocklessWords {
    head: AtomicUsize,
    commit: Vec<AtomicUsize>,
    tail: Vec<AtomicUsize>,
    token: AtomicUsize,
}

impl LocklessWords {
    pub fn new(n_subbufs: usize) -> Self {
        let z = || (0..n_subbufs).map(|_| AtomicUsize::new(0)).collect();
        Self {
            head: AtomicUsize::new(0),
            commit: z(),
            tail: z(),
            token: AtomicUsize::new(0),
        }
    }

    pub fn words(&self) -> lockless::Words<'_> {
        lockless::Words {
            head: &self.head,
            commit: &self.commit,
            tail: &self.tail,
            token: &self.token,
        }
    }

    /// Is the delivery token held?
    pub fn token_held(&self) -> bool {
        self.token.load(Ordering::Relaxed) != 0
    }
}

/// Loss counts of a lockless buffer, kept with read-modify-writes as the
/// kernel's are (writers of a lockless buffer interrupt each other).
#[derive(Default)]
pub struct LocklessTally {
    pub lost_full: AtomicUsize,
    pub lost_big: AtomicUsize,
    pub produced_bytes: AtomicUsize,
    pub wakeups: AtomicUsize,
}

/// Hooks of a lockless buffer: no `subbuf_start` (never asked).
pub struct LocklessHooks<'a>(pub &'a LocklessTally);

impl SwitchHooks for LocklessHooks<'_> {
    fn subbuf_start(&mut self, _subbuf: usize, _prev: usize, _pad: usize) -> bool {
        unreachable!("a lockless buffer asks no subbuf_start")
    }
    fn produced(&mut self, bytes: usize) {
        self.0.produced_bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    fn wake_readers(&mut self) {
        self.0.wakeups.fetch_add(1, Ordering::Relaxed);
    }
    fn lost_full(&mut self, _length: usize) {
        self.0.lost_full.fetch_add(1, Ordering::Relaxed);
    }
    fn lost_too_big(&mut self, _length: usize) {
        self.0.lost_big.fetch_add(1, Ordering::Relaxed);
    }
}

/// A lockless relay buffer in user memory, for single-threaded models of
/// nested writers (a writer "interrupted" between its reservation and its
/// commit is a slot not committed yet) and for threads (a global buffer).
pub struct LocklessBuffer {
    pub geo: Geometry,
    pub mem: Vec<AtomicU8>,
    pub cells: Cells,
    pub words: LocklessWords,
    pub tally: LocklessTally,
}

use std::sync::atomic::AtomicU8;

impl LocklessBuffer {
    pub fn new(subbuf_size: usize, n_subbufs: usize) -> Self {
        let geo = Geometry::new(subbuf_size, n_subbufs).expect("valid geometry");
        let b = Self {
            geo,
            mem: (0..geo.ring_size()).map(|_| AtomicU8::new(0)).collect(),
            cells: Cells::new(n_subbufs),
            words: LocklessWords::new(n_subbufs),
            tally: LocklessTally::default(),
        };
        b.lockless().reset();
        b
    }

    pub fn lockless(&self) -> lockless::Lockless<'_, impl lockless::Rings<'_>> {
        lockless::Lockless::new(|| self.cells.ring(self.geo), self.words.words())
    }

    /// Reserves room for `len` bytes.
    pub fn reserve(&self, len: usize) -> Option<lockless::Slot> {
        self.lockless()
            .reserve(len, &mut LocklessHooks(&self.tally))
    }

    /// Fills a slot with `rec` (Relaxed byte stores, as the kernel's copy).
    pub fn fill(&self, slot: lockless::Slot, rec: &[u8]) {
        assert_eq!(slot.len, rec.len());
        assert!(slot.pos + slot.len <= self.mem.len(), "slot past the ring");
        for (m, b) in self.mem[slot.pos..slot.pos + slot.len].iter().zip(rec) {
            m.store(*b, Ordering::Relaxed);
        }
    }

    pub fn commit(&self, slot: lockless::Slot) {
        self.lockless()
            .commit(slot, &mut LocklessHooks(&self.tally));
    }

    /// Reserves, fills and commits `rec`; true if it was accepted.
    pub fn write(&self, rec: &[u8]) -> bool {
        match self.reserve(rec.len()) {
            Some(slot) => {
                self.fill(slot, rec);
                self.commit(slot);
                true
            }
            None => false,
        }
    }

    pub fn flush(&self) -> bool {
        self.lockless().flush(&mut LocklessHooks(&self.tally))
    }

    /// Reads up to `max` bytes, as `read()` on the file does (the caller
    /// serialises readers).
    pub fn read(&self, max: usize) -> Vec<u8> {
        let ring = self.cells.ring(self.geo);
        let mut out = Vec::new();
        while out.len() < max {
            let Some(run) = ring.next_read(max - out.len()) else {
                break;
            };
            let (pos, len) = (run.pos, run.len);
            assert!(pos + len <= self.mem.len() && len > 0, "read past the ring");
            let copy: Vec<u8> = self.mem[pos..pos + len]
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
            assert!(ring.consume_run(run), "a no-overwrite copy dropped");
            out.extend(copy);
        }
        out
    }

    pub fn lost(&self) -> usize {
        self.tally.lost_full.load(Ordering::Relaxed) + self.tally.lost_big.load(Ordering::Relaxed)
    }

    pub fn produced(&self) -> usize {
        self.cells.produced()
    }

    pub fn words_head(&self) -> usize {
        self.words.head.load(Ordering::Relaxed)
    }
}
