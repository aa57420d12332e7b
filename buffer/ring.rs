// SPDX-License-Identifier: GPL-2.0

//! Position arithmetic of one relay buffer, and the producer/consumer
//! protocol over the counters of its C `struct rchan_buf`.
//!
//! This file is plain `core` Rust: the kernel module and the host test crate
//! (`host/`) compile the same source, so the ring logic is property-tested,
//! fuzzed, model-checked (loom) and run under Miri outside the kernel.
//!
//! The counters live in C `struct rchan_buf` (their layout is part of the
//! API), are written by the producer with interrupts or preemption off and
//! are read concurrently by consumers, so they are viewed as atomics. The
//! semantics are those of Linux 6.12 `kernel/relay.c`, with its read-position
//! bugs fixed: every position is reduced modulo the ring size and every
//! sub-buffer index modulo the sub-buffer count, so a producer that switches
//! sub-buffers in the middle of a read can never make the reader index past
//! the padding array or the ring.
//!
//! # The protocol
//!
//! One producer per buffer (its CPU with interrupts or preemption off, or a
//! global buffer's lock) and any number of consumers, serialised among
//! themselves by the buffer's readers' lock. Three implementations of the
//! producer's fast paths follow this one store for store: the C header's
//! inline `relay_rs_write()`, `__relay_rs_write()` and `relay_rs_reserve()`
//! (`include/relay_rs.h`), the Rust API's `write` and `reserve`
//! (`include/relay_rs/`), and [`Ring::room`], [`Ring::wrote`] and
//! [`Ring::reserved`] here, which the tests drive. Everything else the
//! producer does (a switch) is out of line, in this file.
//!
//! Who writes which field of `struct rchan_buf`, in which order:
//!
//! | step | producer stores, in order | ordering |
//! |------|---------------------------|----------|
//! | fit check | none: `offset + length <= subbuf_size`, where a sum that overflows does not fit ([`fits`]) | |
//! | write | the bytes; `offset += length`; `records += 1` | offset, records: Release |
//! | reserve | `committed = offset`; `offset += length`; `records += 1`; the caller fills the slot later | all Release |
//! | reserve to commit (the Rust API) | `committed = offset + UNCOMMITTED`; `offset += length`; `records += 1` ([`Ring::reserved_to_commit`]) | all Release |
//! | commit | the slot's bytes; `committed = NO_RESERVATION` ([`Ring::commit`]) | Release |
//! | switch, [`Ring::finish`] | `prev_padding`, `padding[i]`; `offset = subbuf_size + 2` (in `subbuf_start`); `committed = NO_RESERVATION`; `subbufs_produced += 1`; full fence; reader wake-up (irq_work) | committed, produced: Release |
//! | switch, [`Ring::begin`] | start count `starts[i]` ([`tagged`] `records`); release fence; `data`; `offset = header`, or `subbuf_size + 1` if refused | start, offset: Release |
//!
//! Consumers write `subbufs_consumed` and `bytes_consumed` and the
//! accounting words of [`Counters`] (under the readers' lock), never a
//! producer field. Each consumer load pairs with one producer store:
//!
//! - `offset` (Acquire) with the write's `offset` store: the bytes before
//!   it are there. A consumer loads `subbufs_produced`, `offset`,
//!   `committed`, then `subbufs_produced` again ([`Ring::producer_snapshot`]):
//!   the readable extent of the current sub-buffer is `offset`, or
//!   `committed` while a reservation may be unfilled (a reservation stores
//!   `committed` before it moves `offset`, so a consumer that sees the new
//!   offset sees the new `committed`).
//! - `subbufs_produced` (Acquire) with [`Ring::finish`]'s store: the padding
//!   of the completed sub-buffer, and `committed` reset, are seen with it.
//! - a start count (Acquire) with [`Ring::begin`]'s store, and `records`
//!   (Acquire) with the record count's store: who sees a count that
//!   includes a record of a sub-buffer sees that sub-buffer's start count.
//! - [`Ring::consume_run`]'s fence (Acquire, after the copy) with
//!   [`Ring::begin`]'s release fence (before the first byte of a new lap):
//!   a copy that saw a byte of the next lap sees its sub-buffer begun.
//! - the producer's load of `subbufs_consumed` (Acquire, [`Ring::is_full`])
//!   with the consumer's store (Release, [`Ring::move_to`]): a no-overwrite
//!   producer reuses a sub-buffer only after its reader copied it out.
//!
//! The record count is stored after the offset, so a consumer may see a
//! record before its count ([`Ring::consume_run`] allows for one).
//!
//! A reservation to commit marks `committed` ([`UNCOMMITTED`]) until its
//! commit, and no producer that may meet it switches while it is marked
//! ([`Ring::finish_checked`]): the record that needed one is dropped and
//! counted, a flush completes nothing. Nothing then exposes or overwrites a
//! slot the client is still filling. A switch re-entered from the client's
//! `subbuf_start` (which may write to its own buffer) is refused too: the
//! offset is `subbuf_size + 2` while the callback runs.

use core::num::NonZeroUsize;
#[cfg(not(loom))]
use core::sync::atomic::{fence, AtomicUsize, Ordering, Ordering::Relaxed};
// The host's loom model (`host/tests/loom.rs`); the kernel never sets it.
#[cfg(loom)]
use loom::sync::atomic::{fence, AtomicUsize, Ordering, Ordering::Relaxed};

/// Why [`Geometry::new`] refused a channel geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryError {
    /// The sub-buffer size or the number of sub-buffers is zero.
    Zero,
    /// `subbuf_size * n_subbufs` exceeds `u32::MAX` (as in 6.12, even on 64-bit).
    Overflow,
    /// More than [`MAX_SUBBUFS`] sub-buffers.
    TooManySubbufs,
}

/// The validated shape of a relay buffer.
///
/// Both sizes are [`NonZeroUsize`], so that the compiler knows every
/// division and remainder by them is defined (no panic paths).
///
/// # Invariants
///
/// `subbuf_size * n_subbufs <= u32::MAX` and `n_subbufs <= MAX_SUBBUFS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    subbuf_size: NonZeroUsize,
    n_subbufs: NonZeroUsize,
}

impl Geometry {
    /// Validates a geometry.
    pub fn new(subbuf_size: usize, n_subbufs: usize) -> Result<Self, GeometryError> {
        let (Some(size), Some(n)) = (NonZeroUsize::new(subbuf_size), NonZeroUsize::new(n_subbufs))
        else {
            return Err(GeometryError::Zero);
        };
        if n_subbufs > MAX_SUBBUFS {
            return Err(GeometryError::TooManySubbufs);
        }
        if subbuf_size > u32::MAX as usize / n {
            return Err(GeometryError::Overflow);
        }
        // INVARIANT: the product fits in a `u32`, the count is bounded.
        Ok(Self {
            subbuf_size: size,
            n_subbufs: n,
        })
    }

    /// Size of one sub-buffer in bytes.
    pub fn subbuf_size(&self) -> usize {
        self.subbuf_size.get()
    }

    /// Number of sub-buffers in the ring.
    pub fn n_subbufs(&self) -> usize {
        self.n_subbufs.get()
    }

    /// Bytes covered by the sub-buffers (without page rounding).
    pub fn ring_size(&self) -> usize {
        self.subbuf_size.get() * self.n_subbufs.get()
    }

    /// Bytes to allocate: the ring rounded up to whole pages.
    pub fn alloc_size(&self, page_size: usize) -> usize {
        self.ring_size().div_ceil(page_size) * page_size
    }

    /// The `offset` value that marks a buffer whose last switch was refused.
    pub fn refused_offset(&self) -> usize {
        // No overflow: at most `u32::MAX + 1` (type invariant).
        self.subbuf_size.get().wrapping_add(1)
    }

    /// The `offset` value while the client's `subbuf_start` decides.
    pub fn in_callback_offset(&self) -> usize {
        // No overflow on 64-bit: at most `u32::MAX + 2` (type invariant).
        self.subbuf_size.get().wrapping_add(2)
    }

    /// The `offset` value of a lockless buffer, for good: past the end of
    /// any sub-buffer, so that the inline fast paths, which test a record
    /// against it, always take the out-of-line path, which is lockless.
    pub fn lockless_offset(&self) -> usize {
        // No overflow on 64-bit: at most `u32::MAX + 3` (type invariant).
        self.subbuf_size.get().wrapping_add(3)
    }

    /// The sub-buffer that the `count`-th sub-buffer occupies.
    pub fn index(&self, count: usize) -> usize {
        let n = self.n_subbufs.get();
        // A mask for the usual power-of-two count: no division on the
        // consumers' per-page paths.
        if n.is_power_of_two() {
            count & (n - 1)
        } else {
            count % self.n_subbufs
        }
    }
}

/// Views of the counters of one C `struct rchan_buf`.
///
/// `start` and `data` are addresses, used only for arithmetic here.
pub struct Counters<'a> {
    /// Address of the first byte of the ring.
    pub start: usize,
    /// `data`: address of the current sub-buffer.
    pub data: &'a AtomicUsize,
    /// `offset`: write offset in the current sub-buffer. A write moves it
    /// after its copy, so it is also the readable extent, unless:
    pub offset: &'a AtomicUsize,
    /// `committed` (relay_rs' own field): the readable extent while a
    /// reservation may be unfilled (its start, as everything before it is
    /// filled), else [`NO_RESERVATION`].
    pub committed: &'a AtomicUsize,
    /// `subbufs_produced`.
    pub produced: &'a AtomicUsize,
    /// `subbufs_consumed`.
    pub consumed: &'a AtomicUsize,
    /// `bytes_consumed`: bytes read from the current read sub-buffer.
    pub bytes_consumed: &'a AtomicUsize,
    /// `prev_padding`.
    pub prev_padding: &'a AtomicUsize,
    /// `padding[n_subbufs]`: unused bytes at the end of each sub-buffer.
    pub padding: &'a [AtomicUsize],
    /// The index of sub-buffer `produced` (`produced % n_subbufs`), kept
    /// by the producer so that a switch needs no division.
    pub index: &'a AtomicUsize,
    /// `records` (relay_rs' own field): records written since the reset,
    /// counted by the producer after each accepted write or reservation.
    pub written: &'a AtomicUsize,
    /// Per sub-buffer: [`tagged`] `written` when the producer started the
    /// sub-buffer that occupies it, the records written before it.
    pub starts: &'a [AtomicUsize],
    /// A header reserved by `subbuf_start` (`subbuf_start_reserve`), which
    /// becomes the write offset when the switch ends.
    pub header: &'a AtomicUsize,
    /// Consumer side (under the readers' lock), for overwrite accounting:
    /// the start count of sub-buffer `consumed` (mod 2^[`COUNT_BITS`])...
    pub base: &'a AtomicUsize,
    /// ... the unread records counted as overwritten so far...
    pub overwritten: &'a AtomicUsize,
    /// ... how many of those were in sub-buffers a reader had read part
    /// of (it may have delivered some of them: the kernel does not know
    /// where records end inside a sub-buffer), the bound of the over-count...
    pub partial: &'a AtomicUsize,
    /// ... a count no smaller than the records before the end of the last
    /// run a reader took from sub-buffer `consumed`...
    pub read_end: &'a AtomicUsize,
    /// ... and a sequence count, odd while the consumer changes `consumed`,
    /// `base` and `overwritten`, so that [`Ring::overwritten`] can read them
    /// consistently without the lock.
    pub seq: &'a AtomicUsize,
}

/// Bits of a [`tagged`] start count that tell which sub-buffer it is for.
const TAG_BITS: u32 = 16;
const TAG_MASK: usize = (1 << TAG_BITS) - 1;
/// Bits of a [`tagged`] start count that count records: differences of
/// start counts are exact modulo 2^48.
pub const COUNT_BITS: u32 = usize::BITS - TAG_BITS;
/// The count bits of a start count.
pub const COUNT_MASK: usize = usize::MAX >> (usize::BITS - COUNT_BITS);

/// Most sub-buffers a ring may have: the tag of a start count must tell
/// sub-buffers `k - n`, `k` and `k + n` apart (see [`Ring::start_of`]).
pub const MAX_SUBBUFS: usize = 1 << (TAG_BITS - 2);

/// The start count `written` of sub-buffer `k`, as the producer stores it:
/// the count in the high bits, `k` in the low ones (two instructions).
#[inline(always)]
pub fn tagged(written: usize, k: usize) -> usize {
    (written << TAG_BITS) ^ k
}

/// Does a record of `length` bytes fit at write offset `offset` of a
/// sub-buffer of `subbuf_size` bytes? A sum that overflows does not fit
/// (the record then goes to the switch, which drops it as too big). The
/// one rule of every fast path (module doc): the C header's
/// `relay_rs_room()` and the Rust API's `fits` compute exactly this.
#[inline(always)]
pub const fn fits(offset: usize, length: usize, subbuf_size: usize) -> bool {
    match offset.checked_add(length) {
        Some(end) => end <= subbuf_size,
        None => false,
    }
}

/// What a sub-buffer's start-count slot holds for sub-buffer `k`.
enum Start {
    /// The records written before sub-buffer `k` (mod 2^48).
    Count(usize),
    /// The producer has not started sub-buffer `k` (the current one) yet.
    NotBegun,
    /// The producer reused the slot: sub-buffer `k` is overwritten.
    Reused,
}

/// `committed` when no reservation is pending (`RELAY_RS_NO_RESERVATION`).
pub const NO_RESERVATION: usize = usize::MAX;

/// What marks a reservation to commit as not committed yet (the Rust
/// API's; see the module doc): `committed` is `offset + UNCOMMITTED`
/// (wrapping), which as an `isize` is below `-1` (offsets are below 2^33),
/// unlike [`NO_RESERVATION`] and a plain offset: one comparison with an
/// immediate. It is a sum, not a bit, so that the producer computes it
/// with one `lea` (a top bit alone makes the compiler copy and `xor`).
pub const UNCOMMITTED: usize = (1 << (usize::BITS - 1)) | (1 << (usize::BITS - 2));

/// The readable extent of the current sub-buffer, from `offset` and
/// `committed` as a consumer loaded them (see the module doc).
#[inline(always)]
fn readable_extent(offset: usize, committed: usize) -> usize {
    match committed {
        NO_RESERVATION => offset,
        c if (c as isize) < -1 => c.wrapping_sub(UNCOMMITTED).min(offset),
        c => c.min(offset),
    }
}

/// What [`Ring::offer`] tells the client's `subbuf_start`.
pub struct Next {
    /// Address of the sub-buffer to start.
    pub subbuf: usize,
    /// Address of the current sub-buffer (the one completed).
    pub prev_subbuf: usize,
    /// Unused bytes at the end of the completed sub-buffer.
    pub prev_padding: usize,
}

/// A readable run that [`Ring::next_read`] found: copy `len` bytes at ring
/// offset `pos`, then hand it to [`Ring::consume_run`].
#[must_use]
#[derive(Debug)]
pub struct Run {
    /// Offset in the ring of the run's first byte.
    pub pos: usize,
    /// Bytes in the run (at least 1).
    pub len: usize,
    /// The sub-buffer count the run is in.
    subbuf: usize,
}

/// What a producer's sub-buffer switch reports to its owner.
pub trait SwitchHooks {
    /// The client's `subbuf_start` callback: may the producer move on to the
    /// sub-buffer at address `subbuf`? `prev_subbuf` is `0` on reset.
    fn subbuf_start(&mut self, subbuf: usize, prev_subbuf: usize, prev_padding: usize) -> bool;
    /// A sub-buffer with `bytes` bytes of data was completed.
    fn produced(&mut self, bytes: usize);
    /// Wake readers (deferred: never directly from the producer).
    fn wake_readers(&mut self);
    /// A record of `length` bytes was dropped because the buffer is full.
    fn lost_full(&mut self, length: usize);
    /// A record of `length` bytes was dropped because it cannot fit a sub-buffer.
    fn lost_too_big(&mut self, length: usize);
}

/// One relay buffer: a [`Geometry`] and the [`Counters`] of its `rchan_buf`.
///
/// The counters are shared memory, which anyone holding them may store
/// anything into, so no memory access here depends on their values being
/// sane: positions are reduced modulo the ring, indices are checked, and
/// arithmetic wraps. The producer of the protocol (module doc) keeps them
/// meaningful: `data` is `start` plus a multiple of `subbuf_size` below the
/// ring size and `index` below `n_subbufs` (both written only here),
/// `offset` at most `subbuf_size + 1` (written here, and by the inline
/// paths only as the end of a record that [`fits`]).
///
/// `Relaxed` accesses are of the producer's own fields, or of values that
/// are re-checked under a lock.
pub struct Ring<'a> {
    geo: Geometry,
    counters: Counters<'a>,
}

impl<'a> Ring<'a> {
    /// Binds a geometry to a buffer's counters.
    ///
    /// `counters.padding` should hold `n_subbufs` entries; a shorter array
    /// reads as zero padding past its end and is never indexed out of bounds.
    #[inline(always)]
    pub fn new(geo: Geometry, counters: Counters<'a>) -> Self {
        Self { geo, counters }
    }

    fn pad(&self, index: usize) -> usize {
        self.counters
            .padding
            .get(index)
            .map_or(0, |p| p.load(Relaxed))
    }

    #[inline(always)]
    fn set_pad(&self, index: usize, value: usize) {
        if let Some(p) = self.counters.padding.get(index) {
            p.store(value, Relaxed);
        }
    }

    /// The ring's geometry.
    pub fn geometry(&self) -> Geometry {
        self.geo
    }

    /// Number of produced sub-buffers not yet consumed.
    pub fn ready(&self) -> usize {
        self.counters
            .produced
            .load(Ordering::Acquire)
            .wrapping_sub(self.counters.consumed.load(Relaxed))
    }

    /// True when every sub-buffer is produced and unconsumed (`relay_buf_full`).
    pub fn is_full(&self) -> bool {
        self.ready() >= self.geo.n_subbufs()
    }

    /// Is there a completed sub-buffer with unread data (poll's readiness)?
    ///
    /// Unlike 6.12, which counts any unconsumed sub-buffer, an all-padding
    /// one (an empty flush) does not make the buffer readable: `read()`
    /// would return 0 and a poll-driven reader would spin.
    pub fn has_complete_data(&self) -> bool {
        let ss = self.geo.subbuf_size();
        let produced = self.counters.produced.load(Ordering::Acquire);
        let mut count = self.counters.consumed.load(Relaxed);
        let mut at = self.counters.bytes_consumed.load(Relaxed);
        for _ in 0..self.geo.n_subbufs() {
            if count == produced {
                return false;
            }
            if ss - self.pad(self.geo.index(count)).min(ss) > at {
                return true;
            }
            count = count.wrapping_add(1);
            at = 0;
        }
        // The producer lapped the reader (overwrite mode): data is there.
        true
    }

    /// Is there unread data, in a completed sub-buffer or in the one being
    /// written (poll's readiness on a channel with a delivery interval)?
    ///
    /// Reads the counters only: the delivery timer calls it for every
    /// buffer it looks at, without the readers' lock, and the producer
    /// never learns it was looked at. A producer that keeps switching
    /// under the look counts as nothing unread: its switches wake readers.
    pub fn has_unread_data(&self) -> bool {
        if self.has_complete_data() {
            return true;
        }
        let Some((produced, _, readable)) = self.producer_snapshot() else {
            return false;
        };
        // What was read of sub-buffer `produced`: `bytes_consumed` if the
        // reader is in it, else nothing (every completed one before it has
        // nothing left, or the check above would have said so).
        let read = if self.counters.consumed.load(Relaxed) == produced {
            self.counters.bytes_consumed.load(Relaxed)
        } else {
            0
        };
        readable > read
    }

    /// True when no produced sub-buffer is unconsumed.
    pub fn is_empty(&self) -> bool {
        self.ready() == 0
    }

    /// Restores the empty state and offers the first sub-buffer to the client.
    ///
    /// The caller guarantees that no producer or consumer runs concurrently.
    pub fn reset(&self, hooks: &mut impl SwitchHooks) {
        self.reset_counters();
        // As in 6.12 the result is ignored: a client that refuses here simply
        // gets asked again at the first write.
        hooks.subbuf_start(self.counters.start, 0, 0);
        self.counters.offset.store(self.take_header(), Relaxed);
    }

    /// The part of a reset that every buffer shares.
    fn reset_counters(&self) {
        self.counters.produced.store(0, Relaxed);
        self.counters.consumed.store(0, Relaxed);
        self.counters.bytes_consumed.store(0, Relaxed);
        self.counters.data.store(self.counters.start, Relaxed);
        self.counters.offset.store(0, Relaxed);
        self.counters.committed.store(NO_RESERVATION, Relaxed);
        self.counters.written.store(0, Relaxed);
        // The first sub-buffer.
        self.counters.index.store(0, Relaxed);
        self.counters.prev_padding.store(0, Relaxed);
        self.counters.header.store(0, Relaxed);
        self.counters.base.store(0, Relaxed);
        self.counters.overwritten.store(0, Relaxed);
        self.counters.partial.store(0, Relaxed);
        self.counters.read_end.store(0, Relaxed);
        // Sub-buffer 0 starts with count 0 (`tagged(0, 0)`); the other
        // slots' tag 0 names no sub-buffer they will hold before reuse.
        for p in self.counters.padding.iter().chain(self.counters.starts) {
            p.store(0, Relaxed);
        }
    }

    /// [`Ring::reset`] for a lockless buffer (`lockless.rs`), which asks no
    /// client callback and whose `offset` is [`Geometry::lockless_offset`]
    /// for good.
    pub fn reset_lockless(&self) {
        self.reset_counters();
        self.counters
            .offset
            .store(self.geo.lockless_offset(), Relaxed);
        self.counters.committed.store(0, Relaxed);
    }

    /// The header `subbuf_start` reserved (0 if none), cleared for the next
    /// switch. Only the producer (or `reset`) calls it: no atomic swap.
    #[inline(always)]
    fn take_header(&self) -> usize {
        let header = self.counters.header.load(Relaxed);
        self.counters.header.store(0, Relaxed);
        header
    }

    /// Completes the current sub-buffer and moves to the next one
    /// (`relay_switch_subbuf`).
    ///
    /// Returns `length` if a record of that size now fits at the write
    /// position, or 0 if it was dropped (too big, or the client refused the
    /// switch). Only the producer of this buffer calls it.
    pub fn switch_subbuf(&self, length: usize, hooks: &mut impl SwitchHooks) -> usize {
        if self.switch(length, hooks) {
            length
        } else {
            0
        }
    }

    /// The switch itself: true if `length` bytes now fit.
    ///
    /// Unlike 6.12's return value this tells a successful switch for a
    /// zero-length reservation from a refused one, so `reserve(0)` returns
    /// the new sub-buffer instead of NULL right after a refusal ends.
    ///
    /// It is [`Ring::finish`], the client's `subbuf_start` with what
    /// [`Ring::offer`] tells, then [`Ring::begin`]. A producer that rebuilds
    /// its ring view after each call it makes (as the kernel's does, like
    /// 6.12 re-reading its fields, so that nothing is kept across a call)
    /// runs the steps itself.
    #[inline(always)]
    pub fn switch(&self, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        if !self.finish_checked(length, hooks) {
            return false;
        }
        let next = self.offer();
        let accepted = hooks.subbuf_start(next.subbuf, next.prev_subbuf, next.prev_padding);
        self.begin(accepted, length, hooks)
    }

    /// First step of a switch: drops a record the producer may not switch
    /// for now ([`Ring::refuse`]) or too big for any sub-buffer (false),
    /// else completes the current sub-buffer, unless the last
    /// switch was refused, which completed it already. The write position
    /// stays "refused" until [`Ring::begin`] is told the client accepted the
    /// next sub-buffer ([`Ring::offer`]).
    #[inline(always)]
    pub fn finish(&self, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        let ss = self.geo.subbuf_size();
        let offset = self.counters.offset.load(Relaxed);
        if offset > ss {
            return self.finish_unusual(offset, length, hooks);
        }
        if length > ss {
            hooks.lost_too_big(length);
            return false;
        }
        // `offset <= ss` here (kept so by the producer, and not refused).
        let pad = ss.wrapping_sub(offset);
        // No write position until `subbuf_start` accepts the next
        // sub-buffer, and nothing of it readable yet: a consumer that sees
        // the new count sees both, never the old extent nor an offset that
        // would make a refused switch look like a lap.
        self.counters
            .offset
            .store(self.geo.in_callback_offset(), Relaxed);
        self.complete(pad, NO_RESERVATION, hooks);
        true
    }

    /// The stores that complete the current sub-buffer with `pad` bytes of
    /// padding, shared by [`Ring::finish`] and [`Ring::deliver`]: its
    /// padding, `committed` (the next sub-buffer's extent marker), the count
    /// that publishes both, the next index; then the file size and the
    /// reader wake-up.
    #[inline(always)]
    fn complete(&self, pad: usize, committed: usize, hooks: &mut impl SwitchHooks) {
        let index = self.counters.index.load(Relaxed);
        self.counters.prev_padding.store(pad, Relaxed);
        self.set_pad(index, pad);
        self.counters.committed.store(committed, Ordering::Release);
        // Publish the padding before the count that makes it readable.
        let produced = self.counters.produced.load(Relaxed);
        self.counters
            .produced
            .store(produced.wrapping_add(1), Ordering::Release);
        // `index < n_subbufs`, so `next <= n_subbufs`.
        let mut next = index.wrapping_add(1);
        if next == self.geo.n_subbufs() {
            next = 0;
        }
        self.counters.index.store(next, Relaxed);
        // `pad <= ss` (callers).
        hooks.produced(self.geo.subbuf_size().wrapping_sub(pad));
        // Order the count against the waitqueue check (smp_mb in 6.12).
        fence(Ordering::SeqCst);
        hooks.wake_readers();
    }

    /// [`Ring::begin`]'s stores for sub-buffer `produced` at `index`: its
    /// start count, then (release fence) its address.
    #[inline(always)]
    fn start_subbuf(&self, index: usize) {
        // The start count first: a consumer that sees the sub-buffer begun
        // (its offset) sees it. Counting the records it overwrites is left
        // to consumers, who compare start counts ([`Ring::overwritten`]).
        if let Some(s) = self.counters.starts.get(index) {
            let k = self.counters.produced.load(Relaxed);
            s.store(
                tagged(self.counters.written.load(Relaxed), k),
                Ordering::Release,
            );
        }
        // ... and before any byte of the new lap: a consumer whose copy of
        // sub-buffer `k - n` saw one of them sees `k` begun when it checks
        // the copy ([`Ring::consume_run`]). No instruction on x86.
        fence(Ordering::Release);
        // `index < n_subbufs` (as in `offer`).
        self.counters.data.store(
            self.counters
                .start
                .wrapping_add(index.wrapping_mul(self.geo.subbuf_size())),
            Relaxed,
        );
    }

    /// [`Ring::finish`] for a producer not in a sub-buffer (`offset` past
    /// its end): a record too big is dropped as such; after a refusal the
    /// client is asked again (true); a switch re-entered from
    /// `subbuf_start` is refused ([`Ring::refuse`]).
    #[inline(always)]
    fn finish_unusual(&self, offset: usize, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        if length > self.geo.subbuf_size() {
            hooks.lost_too_big(length);
            return false;
        }
        if offset == self.geo.refused_offset() {
            return true;
        }
        // In a `subbuf_start` callback, or a lockless buffer's (whose
        // producer is `lockless.rs`, not this switch): refused.
        self.refuse(length, hooks)
    }

    /// [`Ring::finish`] for a producer that may run while a reservation to
    /// commit is uncommitted (the Rust API's `Channel::write`, a flush):
    /// refuses the switch then ([`Ring::refuse`]). A producer that knows
    /// none is (the C header's paths, which the Rust API's reservations
    /// never meet; a Rust `Producer`, the only one of its CPU, with no live
    /// reservation while it writes) calls [`Ring::finish`], one comparison
    /// less per switch.
    #[inline(always)]
    pub fn finish_checked(&self, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        if self.uncommitted() {
            return self.refuse(length, hooks);
        }
        self.finish(length, hooks)
    }

    /// What to offer the client's `subbuf_start` after [`Ring::finish`]:
    /// the sub-buffer to start (sub-buffer `produced`), the current one and
    /// the padding of the last one completed.
    #[inline(always)]
    pub fn offer(&self) -> Next {
        Next {
            // `index < n_subbufs` (kept so by the producer), so this is inside the
            // ring (no overflow: the ring is at most `u32::MAX` bytes,
            // `Geometry` invariant).
            subbuf: self.counters.start.wrapping_add(
                self.counters
                    .index
                    .load(Relaxed)
                    .wrapping_mul(self.geo.subbuf_size()),
            ),
            prev_subbuf: self.counters.data.load(Relaxed),
            prev_padding: self.counters.prev_padding.load(Relaxed),
        }
    }

    /// Last step of a switch, once the client's `subbuf_start` answered
    /// `accepted` for the sub-buffer of [`Ring::offer`]: starts it, or stays
    /// refused and drops the record. True if `length` bytes now fit.
    ///
    /// The new sub-buffer's padding entry is left as it is: consumers read
    /// the padding of completed sub-buffers only, which [`Ring::finish`]
    /// sets.
    ///
    /// The offset is "refused" during the callback (which may reserve a
    /// header with `subbuf_start_reserve`); it becomes a position only here.
    #[inline(always)]
    pub fn begin(&self, accepted: bool, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        let ss = self.geo.subbuf_size();
        if !accepted {
            self.counters.header.store(0, Relaxed);
            self.counters
                .offset
                .store(self.geo.refused_offset(), Relaxed);
            if length > 0 {
                hooks.lost_full(length);
            }
            return false;
        }
        self.start_subbuf(self.counters.index.load(Relaxed));
        // `subbuf_start_reserve` checked the header (at most `ss - 2`).
        let offset = self.take_header();
        self.counters.offset.store(offset, Ordering::Release);
        // `subbuf_start` may have reserved a header with `subbuf_start_reserve`
        // (at most `ss - 2`, and `length <= ss`: no overflow).
        if length.wrapping_add(offset) > ss {
            hooks.lost_too_big(length);
            return false;
        }
        true
    }

    /// Finds room for `length` bytes at the write position, switching
    /// sub-buffers if needed. Returns the ring offset of the room, or `None`
    /// if the record was dropped (and counted). Nothing is claimed yet: the
    /// producer fills the room and calls [`Ring::wrote`], or calls
    /// [`Ring::reserved`] and fills it later. Only the producer of this
    /// buffer calls it (the inline fast paths of `include/relay_rs.h` do
    /// the same when the record fits).
    #[inline(always)]
    pub fn room(&self, length: usize, hooks: &mut impl SwitchHooks) -> Option<usize> {
        if !fits(
            self.counters.offset.load(Relaxed),
            length,
            self.geo.subbuf_size(),
        ) && !self.switch(length, hooks)
        {
            return None;
        }
        let offset = self.counters.offset.load(Relaxed);
        // `data` is the current sub-buffer's address (kept so by the producer).
        Some(
            self.counters
                .data
                .load(Relaxed)
                .wrapping_sub(self.counters.start)
                .wrapping_add(offset),
        )
    }

    /// Claims and publishes the `length` bytes that [`Ring::room`] found,
    /// once the producer copied them there.
    #[inline(always)]
    pub fn wrote(&self, length: usize) {
        let offset = self.counters.offset.load(Relaxed);
        // `room` found `length` bytes at `offset` inside the sub-buffer.
        self.counters
            .offset
            .store(offset.wrapping_add(length), Ordering::Release);
        self.count_record();
    }

    /// Claims the `length` bytes that [`Ring::room`] found for a producer
    /// that fills them later: readers see up to their start until the next
    /// reservation or switch (by then the relay API requires them filled).
    #[inline(always)]
    pub fn reserved(&self, length: usize) {
        self.claim(length, 0);
    }

    /// The stores of a reservation (module doc): `committed` is the slot's
    /// start plus `mark`, then the offset moves past it (both release: the
    /// bytes before the slot are filled), then the record counts.
    #[inline(always)]
    fn claim(&self, length: usize, mark: usize) {
        let offset = self.counters.offset.load(Relaxed);
        self.counters
            .committed
            .store(offset.wrapping_add(mark), Ordering::Release);
        self.counters
            .offset
            .store(offset.wrapping_add(length), Ordering::Release);
        self.count_record();
    }

    /// Commits a reservation to commit once its slot is filled: readers
    /// see up to the offset again, and switches resume. The module does
    /// not call it: the Rust API's `Reservation` stores it inline when it
    /// drops; the tests and models drive it here.
    #[allow(dead_code)]
    #[inline(always)]
    pub fn commit(&self) {
        self.counters
            .committed
            .store(NO_RESERVATION, Ordering::Release);
    }

    /// Claims the `length` bytes that [`Ring::room`] found for a producer
    /// that fills and then commits them ([`Ring::commit`]): marked
    /// [`UNCOMMITTED`] until then, so that no switch exposes or reuses them
    /// (the Rust API's `Reservation`, inline, does the same stores; the
    /// module calls this only from its tests).
    #[allow(dead_code)]
    #[inline(always)]
    pub fn reserved_to_commit(&self, length: usize) {
        self.claim(length, UNCOMMITTED);
    }

    /// Is a reservation to commit not committed yet (then the producer
    /// must not switch, see the module doc)? One comparison: a marked
    /// `committed` is below `-1` as an `isize` ([`UNCOMMITTED`]).
    #[inline(always)]
    pub fn uncommitted(&self) -> bool {
        (self.counters.committed.load(Relaxed) as isize) < -1
    }

    /// A switch the producer may not make now (an uncommitted reservation,
    /// or a switch re-entered from the client's `subbuf_start`): the record
    /// that needed it is dropped and counted, as for a full buffer (or as
    /// too big). Returns false, as a refused [`Ring::switch`] does.
    pub fn refuse(&self, length: usize, hooks: &mut impl SwitchHooks) -> bool {
        if length > self.geo.subbuf_size() {
            hooks.lost_too_big(length);
        } else if length > 0 {
            hooks.lost_full(length);
        }
        false
    }

    #[inline(always)]
    fn count_record(&self) {
        // Only this buffer's producer writes it: no read-modify-write needed.
        // Release: a consumer that sees the count sees the sub-buffer's
        // start count ([`Ring::start_of`]).
        let w = self.counters.written.load(Relaxed);
        self.counters
            .written
            .store(w.wrapping_add(1), Ordering::Release);
    }

    // ---- a lockless buffer's deliverer (`lockless.rs`) ----
    //
    // One deliverer at a time (its token), which is thus the only writer
    // of the consumers' producer fields, as the default producer is: it
    // does a switch's stores (`finish`, then `begin` but for the offset)
    // for each sub-buffer every byte of which is committed, and publishes
    // the committed extent of the current one in `committed`, which only
    // it writes, in plain offsets (`offset` is the lockless marker, so the
    // consumers' readable extent is `committed`).

    /// The deliverer's sub-buffer count (its own field: a relaxed load).
    #[inline(always)]
    pub fn produced_by_producer(&self) -> usize {
        self.counters.produced.load(Relaxed)
    }

    /// The consumers' sub-buffer count, for a producer about to reuse a
    /// slot: Acquire, as in [`Ring::is_full`].
    #[inline(always)]
    pub fn consumed(&self) -> usize {
        self.counters.consumed.load(Ordering::Acquire)
    }

    /// The extent of the current sub-buffer published to consumers.
    #[inline(always)]
    pub fn published(&self) -> usize {
        self.counters.committed.load(Relaxed)
    }

    /// Counts a record of a producer that may be interrupted by another of
    /// the same buffer (read-modify-write). Release, as [`Ring::wrote`]'s.
    #[inline(always)]
    pub fn count_record_shared(&self) {
        self.counters.written.fetch_add(1, Ordering::Release);
    }

    /// Publishes `extent` bytes of the current sub-buffer, every one of
    /// them committed, to consumers (Release: the bytes are seen with it).
    #[inline(always)]
    pub fn publish(&self, extent: usize) {
        if extent > self.counters.committed.load(Relaxed) {
            self.begin_delivered();
            self.counters.committed.store(extent, Ordering::Release);
        }
    }

    /// Delivers the current sub-buffer, complete with `pad` bytes of
    /// padding: [`Ring::finish`]'s stores, in its order, but for the
    /// offset. The next one is begun when something of it is published or
    /// delivered ([`Ring::begin_delivered`]): its slot may still hold a
    /// sub-buffer consumers have not consumed.
    pub fn deliver(&self, pad: usize, hooks: &mut impl SwitchHooks) {
        self.begin_delivered();
        // Nothing of the next sub-buffer is readable yet (extent 0).
        self.complete(pad.min(self.geo.subbuf_size()), 0, hooks);
    }

    /// [`Ring::begin`]'s stores for the deliverer's current sub-buffer,
    /// unless its start count is stored already: a writer entered it, so
    /// its slot was consumed (`lockless.rs`).
    #[inline(always)]
    fn begin_delivered(&self) {
        let index = self.counters.index.load(Relaxed);
        let Some(s) = self.counters.starts.get(index) else {
            return;
        };
        let k = self.counters.produced.load(Relaxed);
        // The slot holds `k - n` or `k`, whose tags differ (`MAX_SUBBUFS`).
        if (s.load(Relaxed) ^ k) & TAG_MASK != 0 {
            self.start_subbuf(index);
        }
    }

    /// Reserves a header of `length` bytes at the start of the sub-buffer
    /// that the `subbuf_start` callback is asked about
    /// (`subbuf_start_reserve`): the write offset once the switch ends.
    /// Returns false, and changes nothing, if the header would not leave
    /// room for data.
    pub fn start_reserve(&self, length: usize) -> bool {
        if length.saturating_add(1) >= self.geo.subbuf_size() {
            return false;
        }
        self.counters.header.store(length, Relaxed);
        true
    }

    /// Hands back the `n` sub-buffers from the read position
    /// (`relay_subbufs_consumed`): a consumer that copied them out (mmap)
    /// is done with them. Counts above what is produced are clamped to it
    /// (6.12 ignores counts above `n_subbufs`, which leaves a consumer
    /// lapped by more than a ring unable to catch up); any partial `read()`
    /// of the first one is forgotten. The caller holds the readers' lock.
    ///
    /// Returns how many of them, from the first, the producer overwrote
    /// before they were handed back: they are counted as overwritten, so
    /// the consumer must drop its copies of them (a copy may have been
    /// torn by the overwrite). The other copies are intact: they were made
    /// before this call, and the producer had not begun overwriting them
    /// by then.
    pub fn subbufs_consumed(&self, n: usize) -> usize {
        let from = self.counters.consumed.load(Relaxed);
        let produced = self.counters.produced.load(Ordering::Acquire);
        let n = n.min(produced.wrapping_sub(from));
        if n == 0 {
            return 0;
        }
        // The consumer's copies were made before this call: load what the
        // producer did after them.
        fence(Ordering::Acquire);
        self.advance(from.wrapping_add(n))
    }

    // ---- overwrite accounting: consumers hold the readers' lock ----
    //
    // The producer stores each sub-buffer's start count (records written
    // before it) when it begins it, and nothing else: counting the unread
    // records it overwrites is the consumers' job. The records in the
    // sub-buffers from `consumed` up to the oldest one still intact are
    // lost, and their count telescopes to two start counts: the oldest
    // intact one's, read from its slot, minus `consumed`'s, which the
    // consumer keeps (`base`) because the producer reuses that slot when it
    // laps the consumer. A start count is tagged with its sub-buffer, so a
    // consumer never takes another lap's count for it.

    /// What the slot of sub-buffer `k` holds, for a consumer that saw
    /// `produced` (Acquire), with `k <= produced`. Valid if the producer
    /// then moved on by less than [`MAX_SUBBUFS`] sub-buffers
    /// ([`Ring::settled`]): then the slot holds sub-buffer `k - n`, `k` or
    /// `k + n` (the slots of older sub-buffers are not read), whose tags
    /// differ (`n <= MAX_SUBBUFS`).
    fn slot_of(&self, k: usize, produced: usize) -> Start {
        self.classify(k, produced, self.slot_value(k, produced))
    }

    /// The slot of sub-buffer `k`, loaded (Acquire), unless the producer
    /// seen at `produced` began `k + n` long ago (`None`). A ring without
    /// slots (not the kernel's) holds count 0 everywhere.
    fn slot_value(&self, k: usize, produced: usize) -> Option<usize> {
        if produced.wrapping_sub(k) > self.geo.n_subbufs() {
            return None;
        }
        Some(
            self.counters
                .starts
                .get(self.geo.index(k))
                .map_or(k, |slot| slot.load(Ordering::Acquire)),
        )
    }

    /// What a slot value loaded by [`Ring::slot_value`] says of sub-buffer
    /// `k`, for a producer seen at `produced` (loaded after the value).
    fn classify(&self, k: usize, produced: usize, value: Option<usize>) -> Start {
        let Some(v) = value else {
            // The producer began `k + n` long ago.
            return Start::Reused;
        };
        if produced.wrapping_sub(k) > self.geo.n_subbufs() {
            return Start::Reused;
        }
        let v = v ^ k;
        if v & TAG_MASK == 0 {
            Start::Count(v >> TAG_BITS)
        } else if k == produced {
            Start::NotBegun
        } else {
            // Sub-buffers before `produced` were all begun: this is `k + n`.
            Start::Reused
        }
    }

    /// The start count of sub-buffer `k` (see [`Ring::slot_of`]), `None`
    /// if the producer reused its slot.
    fn start_of(&self, k: usize, produced: usize) -> Option<usize> {
        match self.slot_of(k, produced) {
            Start::Count(c) => Some(c),
            Start::Reused => None,
            Start::NotBegun => {
                // Nothing is written while the producer is between
                // sub-buffers, so the count so far is `k`'s start count,
                // if `k` still is not begun after it was read: a producer
                // stores the start count before the records it counts
                // (release), so a count that includes one of `k`'s
                // records makes `k` look begun here. The slot is loaded
                // again, then the producer's count, and that one value is
                // judged against that count: a producer that began `k` and
                // then `k + n` meanwhile left `k + n`'s tag, which a count
                // loaded before the slot could take for `k` not begun (the
                // loom model found this under-count; `host/tests/loom.rs`).
                let written = self.counters.written.load(Ordering::Acquire);
                let value = self.slot_value(k, produced);
                let now = self.counters.produced.load(Ordering::Acquire);
                match self.classify(k, now, value) {
                    Start::Count(c) => Some(c),
                    Start::NotBegun => Some(written & COUNT_MASK),
                    // The producer moved past `k` since: the value may be
                    // from before `k` began. A slot loaded after `now`
                    // holds `k`'s count or a later lap's tag.
                    Start::Reused => match self.slot_of(k, now) {
                        Start::Count(c) => Some(c),
                        _ => None,
                    },
                }
            }
        }
    }

    /// Did the producer, seen at `produced` before, move on by less than
    /// [`MAX_SUBBUFS`] sub-buffers (the slots read since are valid)?
    fn settled(&self, produced: usize) -> bool {
        self.counters
            .produced
            .load(Ordering::Acquire)
            .wrapping_sub(produced)
            < MAX_SUBBUFS
    }

    /// Moves the read position to the start of sub-buffer `to`, counting
    /// the records from `consumed` up to it as overwritten if `skipped`.
    /// False, with nothing changed, if `to`'s start count cannot be had.
    fn move_to(&self, to: usize, produced: usize, skipped: bool) -> bool {
        let Some(count) = self.start_of(to, produced) else {
            return false;
        };
        if !self.settled(produced) {
            return false;
        }
        // A sequence count around the change, for `overwritten`.
        let seq = self.counters.seq.load(Relaxed);
        self.counters.seq.store(seq.wrapping_add(1), Relaxed);
        fence(Ordering::Release);
        if skipped {
            let lost = count.wrapping_sub(self.counters.base.load(Relaxed)) & COUNT_MASK;
            let total = self.counters.overwritten.load(Relaxed).wrapping_add(lost);
            self.counters.overwritten.store(total, Relaxed);
            if self.counters.bytes_consumed.load(Relaxed) != 0 {
                // The reader was inside sub-buffer `consumed` and may have
                // delivered some of its records: at most those before
                // `read_end`, which it recorded when it read there.
                let part = self
                    .counters
                    .read_end
                    .load(Relaxed)
                    .wrapping_sub(self.counters.base.load(Relaxed))
                    & COUNT_MASK;
                let total = self
                    .counters
                    .partial
                    .load(Relaxed)
                    .wrapping_add(part.min(lost));
                self.counters.partial.store(total, Relaxed);
            }
        }
        self.counters.base.store(count, Relaxed);
        // Release: what was read of the sub-buffers before `to` was read
        // before a no-overwrite producer may reuse them.
        self.counters.consumed.store(to, Ordering::Release);
        self.counters.bytes_consumed.store(0, Relaxed);
        self.counters
            .seq
            .store(seq.wrapping_add(2), Ordering::Release);
        true
    }

    /// Where a consumer at `consumed` must catch up to, if the producer
    /// lapped it: the oldest sub-buffer whose records are all still there.
    /// The producer's current sub-buffer `produced` overwrites
    /// `produced - n` once it is begun.
    fn lapped(&self, produced: usize, consumed: usize) -> Option<usize> {
        let n = self.geo.n_subbufs();
        if produced.wrapping_sub(consumed) < n {
            return None;
        }
        let oldest = match self.slot_of(produced, produced) {
            Start::Count(_) => produced.wrapping_sub(n).wrapping_add(1),
            _ => produced.wrapping_sub(n),
        };
        (oldest != consumed).then_some(oldest)
    }

    /// Moves the read position to `to` (at most `produced`) after the
    /// sub-buffers before it were read or handed back. Those the producer
    /// overwrote by now are counted as overwritten, whether or not the
    /// consumer got them intact first: the stats may have reported them
    /// lost already, and a reported loss never goes down (a copy the
    /// consumer checked and then saw overwritten before this call is thus
    /// counted twice, and in [`Counters::partial`]). Returns how many of
    /// the sub-buffers before `to` that counted; if the producer overwrote
    /// `to` as well, the read position is the oldest intact one past it.
    ///
    /// Inline, as its callers, which run per page (splice): a call would
    /// need their ring view built in memory on every page.
    #[inline(always)]
    fn advance(&self, to: usize) -> usize {
        let from = self.counters.consumed.load(Relaxed);
        let n = to.wrapping_sub(from);
        let mut lost = 0;
        for _ in 0..4 {
            self.skip_lapped();
            let at = self.counters.consumed.load(Relaxed).wrapping_sub(from);
            lost = at.min(n);
            if at >= n || self.move_to(to, self.counters.produced.load(Ordering::Acquire), false) {
                break;
            }
            // `to` was overwritten meanwhile: count it too.
        }
        lost
    }

    /// Catches a consumer the producer lapped up to the oldest intact
    /// sub-buffer, counting the records it skips as overwritten.
    fn skip_lapped(&self) {
        for _ in 0..4 {
            let produced = self.counters.produced.load(Ordering::Acquire);
            let Some(oldest) = self.lapped(produced, self.counters.consumed.load(Relaxed)) else {
                return;
            };
            if self.move_to(oldest, produced, true) {
                return;
            }
        }
        // The producer keeps switching: the next read catches up.
    }

    /// Unread records overwritten by the producer since the reset: those
    /// consumers skipped, plus those from `consumed` up to the oldest
    /// sub-buffer still intact. Lock-free (any context); exact once the
    /// producer is idle, or the counts as they were at some point of the
    /// call. Between two moves of a consumer, differences are modulo
    /// 2^[`COUNT_BITS`] records.
    pub fn overwritten(&self) -> usize {
        let mut folded = self.counters.overwritten.load(Relaxed);
        for _ in 0..8 {
            let seq = self.counters.seq.load(Ordering::Acquire);
            if seq & 1 != 0 {
                core::hint::spin_loop();
                continue;
            }
            let consumed = self.counters.consumed.load(Relaxed);
            let base = self.counters.base.load(Relaxed);
            folded = self.counters.overwritten.load(Relaxed);
            fence(Ordering::Acquire);
            if self.counters.seq.load(Relaxed) != seq {
                continue;
            }
            let produced = self.counters.produced.load(Ordering::Acquire);
            let Some(oldest) = self.lapped(produced, consumed) else {
                return folded;
            };
            let Some(count) = self.start_of(oldest, produced) else {
                continue;
            };
            if self.settled(produced) {
                return folded.wrapping_add(count.wrapping_sub(base) & COUNT_MASK);
            }
        }
        // Producer or consumer kept moving: what was counted so far.
        folded
    }

    // ---- consumer side: callers hold the buffer's reader lock ----
    //
    // The read position is always the `consumed` sub-buffer, `bytes_consumed`
    // bytes in. 6.12 let its start position skip an all-padding sub-buffer
    // without consuming it and then credited the wrong one, so two empty
    // flushes before data made `read()` return that data twice; here every
    // completed sub-buffer with nothing left to read is consumed first.

    /// Consumes completed sub-buffers with nothing left to read.
    #[inline(always)]
    fn skip_consumed(&self, produced: usize) {
        let ss = self.geo.subbuf_size();
        let consumed = self.counters.consumed.load(Relaxed);
        let mut to = consumed;
        let mut at = self.counters.bytes_consumed.load(Relaxed);
        // At most the whole ring (a lapped reader is caught up elsewhere).
        for _ in 0..self.geo.n_subbufs() {
            if to == produced || at < ss - self.pad(self.geo.index(to)).min(ss) {
                break;
            }
            to = to.wrapping_add(1);
            at = 0;
        }
        if to != consumed {
            self.advance(to);
        }
    }

    /// The producer's sub-buffer count and write offset, for display.
    pub fn producer_state(&self) -> (usize, usize) {
        self.producer_snapshot().map(|(p, o, _)| (p, o)).unwrap_or((
            self.counters.produced.load(Ordering::Acquire),
            self.counters.offset.load(Relaxed),
        ))
    }

    /// A consistent view of the producer: `(produced, offset, readable)`
    /// where `readable` is the readable extent of sub-buffer `produced`
    /// (the producer resets it before the count moves on, and it only grows
    /// after).
    #[inline(always)]
    fn producer_snapshot(&self) -> Option<(usize, usize, usize)> {
        for _ in 0..4 {
            let p1 = self.counters.produced.load(Ordering::Acquire);
            // The offset before `committed`: a reservation stores
            // `committed` before it moves the offset (release).
            let offset = self.counters.offset.load(Ordering::Acquire);
            let committed = self.counters.committed.load(Ordering::Acquire);
            if self.counters.produced.load(Ordering::Acquire) == p1 {
                let readable = readable_extent(offset, committed);
                // A refused producer (offset past the end) has nothing
                // readable in sub-buffer `produced`: its last one is produced.
                let readable = if readable > self.geo.subbuf_size() {
                    0
                } else {
                    readable
                };
                return Some((p1, offset, readable));
            }
        }
        // The producer keeps switching under us: report nothing for now.
        None
    }

    /// Consumes what was read and catches a lapped reader up (6.12's
    /// catch-up): returns the producer's `(produced, readable)`.
    #[inline(always)]
    fn catch_up(&self, in_flight: usize) -> Option<(usize, usize)> {
        for _ in 0..4 {
            let (produced, offset, readable) = self.producer_snapshot()?;
            self.skip_consumed(produced);
            // A refused producer (offset past the end) writes nothing more,
            // and a full no-overwrite ring must not be skipped: only a ring
            // whose producer began a sub-buffer past the consumer is caught
            // up (and never under bytes in flight, which pin the sub-buffers
            // they point into). A begun offset was stored after the start
            // count that `lapped` reads.
            let lapped = if in_flight == 0 && offset <= self.geo.subbuf_size() {
                self.lapped(produced, self.counters.consumed.load(Relaxed))
            } else {
                None
            };
            if let Some(oldest) = lapped {
                if !self.move_to(oldest, produced, true) {
                    // The producer moved on meanwhile: look again.
                    continue;
                }
                self.skip_consumed(produced);
            }
            return Some((produced, readable));
        }
        None
    }

    /// Finds the next contiguous readable run of at most `max` bytes.
    ///
    /// The run never crosses a sub-buffer or the end of the ring. The
    /// caller copies it and then hands it to [`Ring::consume_run`], which
    /// tells whether the copy is intact. Also catches the consumer up when
    /// the producer lapped it (overwrite mode), as 6.12 does.
    ///
    /// Inline, with what it calls, so that `read()` keeps the counters'
    /// addresses in registers instead of building the whole view on the
    /// stack for every call.
    #[inline(always)]
    pub fn next_read(&self, max: usize) -> Option<Run> {
        self.run_at(0, max)
    }

    /// Like [`Ring::next_read`], for the run that starts `in_flight` readable
    /// bytes past the read position (bytes handed out, not yet consumed:
    /// splice's pipe buffers in flight), as `(ring offset, length)`. Out of
    /// line: inline, it crowds splice's page loop.
    #[inline(never)]
    pub fn read_at(&self, in_flight: usize, max: usize) -> Option<(usize, usize)> {
        self.run_at(in_flight, max).map(|r| (r.pos, r.len))
    }

    /// The body of [`Ring::next_read`] and [`Ring::read_at`].
    #[inline(always)]
    fn run_at(&self, in_flight: usize, max: usize) -> Option<Run> {
        if max == 0 {
            return None;
        }
        let ss = self.geo.subbuf_size();
        let n = self.geo.n_subbufs();
        let (produced, readable) = self.catch_up(in_flight)?;
        let mut count = self.counters.consumed.load(Relaxed);
        let mut at = self.counters.bytes_consumed.load(Relaxed);
        let mut skip = in_flight;
        // Walk at most the whole ring from the read position.
        for _ in 0..=n {
            let end = if count == produced {
                // The sub-buffer being written: what is readable in it.
                readable
            } else {
                ss - self.pad(self.geo.index(count)).min(ss)
            };
            let left = end.saturating_sub(at);
            if skip < left {
                let start = at + skip;
                return Some(Run {
                    pos: self.geo.index(count) * ss + start,
                    len: (end - start).min(max),
                    subbuf: count,
                });
            }
            if count == produced {
                return None;
            }
            skip -= left;
            count = count.wrapping_add(1);
            at = 0;
        }
        None
    }

    /// Consumes a run [`Ring::next_read`] returned, once the caller copied
    /// it: true if the copy is intact. False if the producer began
    /// overwriting the run's sub-buffer before the copy ended (overwrite
    /// mode): the copy may mix two laps and is not to be delivered (hence
    /// `#[must_use]`); the reader is caught up, the records it skips
    /// counted as overwritten. Then the next run is at the new read position.
    ///
    /// The check pairs with [`Ring::begin`]'s fence: a copy that saw a
    /// byte of the next lap sees its sub-buffer begun here.
    #[must_use]
    #[inline(always)]
    pub fn consume_run(&self, run: Run) -> bool {
        let k = run.subbuf;
        // The copy's loads before the checks.
        fence(Ordering::Acquire);
        let produced = self.counters.produced.load(Ordering::Acquire);
        // Records before the run's end, at most (for the over-count bound
        // of a reader lapped inside this sub-buffer later): the next
        // sub-buffer's start count, read before `k` is checked (so valid if
        // `k` is intact), or, in the one being written, the count so far
        // and the record whose count may not be stored yet.
        let end = if k == produced {
            Some(
                self.counters
                    .written
                    .load(Ordering::Acquire)
                    .wrapping_add(1)
                    & COUNT_MASK,
            )
        } else {
            self.start_of(k.wrapping_add(1), produced)
        };
        let intact = matches!(self.slot_of(k, produced), Start::Count(_)) && self.settled(produced);
        if let (Some(end), true) = (end, intact) {
            // The run may lie past sub-buffers with nothing left to read
            // that are not consumed yet (a catch-up stopped before them).
            if k != self.counters.consumed.load(Relaxed) {
                self.advance(k);
            }
            // Unless the producer overwrote `k` meanwhile (then counted).
            if k == self.counters.consumed.load(Relaxed) {
                self.counters.read_end.store(end, Relaxed);
                self.consume(run.len);
                return true;
            }
        }
        self.skip_lapped();
        false
    }

    /// Marks `bytes` handed out from the read position as consumed (the
    /// pipe released them: splice, on channels whose producer cannot
    /// overwrite them, see `fileops/splice.rs`).
    #[inline(always)]
    pub fn consume(&self, bytes: usize) {
        let bc = self
            .counters
            .bytes_consumed
            .load(Relaxed)
            .saturating_add(bytes)
            .min(self.geo.subbuf_size());
        self.counters.bytes_consumed.store(bc, Relaxed);
        self.skip_consumed(self.counters.produced.load(Ordering::Acquire));
    }
}
