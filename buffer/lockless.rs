// SPDX-License-Identifier: GPL-2.0

//! The producer side of a lockless channel's buffer: reservation by
//! compare-and-exchange, a commit count per sub-buffer, and in-order
//! delivery to the consumers of [`super::ring`], so that records may be
//! written from any context, NMI included, with writers of one CPU nesting
//! (task, softirq, hardirq, NMI) and, for a global buffer, with writers of
//! every CPU at once.
//!
//! Plain `core` Rust, compiled on the host too (property tests, the loom
//! model in `host/tests/loom_lockless.rs`), like `ring.rs`.
//!
//! # The protocol
//!
//! A lockless buffer keeps its own producer words ([`Words`]) and publishes
//! to the consumers' fields of `struct rchan_buf` only through a
//! *deliverer*: whoever holds the delivery token, one at a time, does the
//! stores the default producer's switch does ([`Ring::deliver`],
//! [`Ring::publish`]), so consumers (read, mmap, splice, poll, stats) run
//! the very protocol of `ring.rs` unchanged.
//!
//! | step | stores, in order | ordering |
//! |------|------------------|----------|
//! | reserve | `head` from `h` to `h + length`, or past the padding to the next sub-buffer's start plus `length` (one compare-and-exchange); `records += 1` | head: Relaxed (the commit publishes); records: Release |
//! | ... that leaves sub-buffer `k` | `tail[k]` = where its data ends; `commit[k] += padding` | commit: Release (SeqCst) |
//! | commit | the slot's bytes; `commit[k] += length` | Release (SeqCst) |
//! | deliver (token holder) | a complete oldest sub-buffer: `commit[k] = 0`, `tail[k]` cleared, then [`Ring::deliver`]; else the committed extent of the current one ([`Ring::publish`]) | token: Acquire, released SeqCst |
//!
//! - `head` counts the bytes reserved since the reset, padding included:
//!   sub-buffer `head / subbuf_size`, offset `head % subbuf_size`. It only
//!   grows, so a compare-and-exchange on it cannot succeed on a stale value
//!   (no ABA).
//! - A reservation that enters a sub-buffer (starts at its first byte) is
//!   the only one that does, and checks first that the sub-buffer's slot
//!   was consumed (`subbufs_consumed`, Acquire): lockless buffers never
//!   overwrite (a channel asking for overwrite is refused at open). A
//!   record that would enter a slot not consumed yet is dropped and counted
//!   as lost (full); the sub-buffer it would have left is completed all
//!   the same (its padding claimed), as the default producer completes the
//!   current sub-buffer before `subbuf_start` refuses the next.
//! - `commit[k % n]` counts the bytes of sub-buffer `k` committed, padding
//!   included: `k` is complete when it reaches `subbuf_size`. Its slot is
//!   reused only after `k` is delivered and consumed, and the deliverer
//!   clears it before the delivery (Release), so the count of each lap
//!   starts at 0 without a read-modify-write against later writers.
//! - Delivery is in order: the deliverer delivers sub-buffer `produced`
//!   while it is complete. Sub-buffers completed out of order (a nested
//!   writer filled `k + 1` while the writer it interrupted still fills a
//!   slot of `k`) wait for `k`.
//! - The token is taken by compare-and-exchange (never waited for: its
//!   holder may be the context a nested writer interrupted). A writer that
//!   does not get it leaves the delivery to the holder, who looks again
//!   after it releases the token: the commit (SeqCst) before the failed
//!   take, and the release (SeqCst) before the holder's look, cannot both
//!   miss each other.
//! - The extent of the current sub-buffer readers may read (`committed`)
//!   is published only when every byte reserved in it is committed: the
//!   deliverer loads `commit[k]` (Acquire), then `head`; if the commit
//!   count equals the reserved extent, nothing was reserved in between, and
//!   everything reserved before is committed.

use super::ring::{Ring, SwitchHooks};
#[cfg(not(loom))]
use core::sync::atomic::{AtomicUsize, Ordering, Ordering::Relaxed};
#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering, Ordering::Relaxed};

/// `tail[k]` when no reservation left sub-buffer `k` early (no padding).
const NO_TAIL: usize = usize::MAX;

/// The lockless producer's words of one buffer.
pub struct Words<'a> {
    /// Bytes reserved since the reset, padding included.
    pub head: &'a AtomicUsize,
    /// Per sub-buffer slot: bytes of its current lap committed.
    pub commit: &'a [AtomicUsize],
    /// Per sub-buffer slot: the `head` value at which the data of its
    /// current lap ended, if a reservation padded it ([`NO_TAIL`] if not).
    pub tail: &'a [AtomicUsize],
    /// The delivery token: 0 free, 1 held.
    pub token: &'a AtomicUsize,
}

/// A reserved slot, to fill and then [`Lockless::commit`].
#[must_use = "a reservation blocks delivery until it is committed"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Offset of the slot's first byte in the ring.
    pub pos: usize,
    /// The slot's length (at least 1).
    pub len: usize,
}

impl Slot {
    /// The slot as one word (`index << 32 | len`), for a producer that keeps
    /// it where only a word fits (a pending reservation of the C API).
    /// Never 0. The ring is at most `u32::MAX` bytes ([`super::ring::Geometry`]).
    pub fn pack(self) -> usize {
        ((self.pos as u64) << 32 | self.len as u64) as usize
    }

    /// The slot [`Slot::pack`] made, `None` for 0.
    pub fn unpack(word: usize) -> Option<Self> {
        let w = word as u64;
        (w != 0).then(|| Slot {
            pos: (w >> 32) as usize,
            len: (w & u64::from(u32::MAX)) as usize,
        })
    }
}

// The packed form needs a 64-bit word (the kernel builds relay_rs for
// 64-bit architectures only).
const _: () = assert!(usize::BITS == 64);

/// What [`Lockless::reserve`] needs of a position.
struct Place {
    /// The sub-buffer count of the record.
    k: usize,
    /// The record's offset in it.
    off: usize,
    /// Does the record start its sub-buffer (the reservation enters it)?
    enters: bool,
    /// The padding claimed to leave the previous sub-buffer (0 if none).
    pad: usize,
}

/// Builds a lockless buffer's [`Ring`] at each use: [`Lockless`] keeps no
/// view, so that a path that needs one counter of it computes that one
/// alone once inlined, where a kept view (some twenty words) would be built
/// whole for every record.
pub trait Rings<'a> {
    /// The buffer's ring.
    fn ring(&self) -> Ring<'a>;
}

impl<'a, F: Fn() -> Ring<'a>> Rings<'a> for F {
    #[inline(always)]
    fn ring(&self) -> Ring<'a> {
        self()
    }
}

/// A lockless buffer: its [`Ring`] (as [`Rings`] builds it) and its
/// producer [`Words`].
pub struct Lockless<'a, R> {
    rings: R,
    words: Words<'a>,
}

impl<'a, R: Rings<'a>> Lockless<'a, R> {
    /// Binds a buffer's ring to its lockless words. The arrays of `words`
    /// should hold `n_subbufs` entries; shorter ones drop the records that
    /// would need a missing entry, and nothing is indexed out of bounds.
    #[inline(always)]
    pub fn new(rings: R, words: Words<'a>) -> Self {
        Self { rings, words }
    }

    #[inline(always)]
    fn ring(&self) -> Ring<'a> {
        self.rings.ring()
    }

    /// Restores the empty state. The caller guarantees that no producer or
    /// consumer runs concurrently.
    pub fn reset(&self) {
        self.words.head.store(0, Relaxed);
        self.words.token.store(0, Relaxed);
        for c in self.words.commit {
            c.store(0, Relaxed);
        }
        for t in self.words.tail {
            t.store(NO_TAIL, Relaxed);
        }
        self.ring().reset_lockless();
    }

    /// Where a record of `length` bytes goes when `head` is `h`.
    #[inline(always)]
    fn place(&self, h: usize, length: usize) -> Place {
        let ss = self.ring().geometry().subbuf_size();
        let (k, off) = (h / ss, h % ss);
        if off == 0 {
            Place {
                k,
                off: 0,
                enters: true,
                pad: 0,
            }
        } else if off + length <= ss {
            // `off < ss <= u32::MAX` and `length <= ss` (checked): no overflow.
            Place {
                k,
                off,
                enters: false,
                pad: 0,
            }
        } else {
            Place {
                k: k.wrapping_add(1),
                off: 0,
                enters: true,
                pad: ss - off,
            }
        }
    }

    /// Reserves `length` bytes, from any context. `None` if the record was
    /// dropped (counted: too big, or the buffer is full); a zero-length
    /// reservation reserves nothing (`None`, not counted).
    #[inline]
    pub fn reserve(&self, length: usize, hooks: &mut impl SwitchHooks) -> Option<Slot> {
        let geo = self.ring().geometry();
        let (ss, n) = (geo.subbuf_size(), geo.n_subbufs());
        if length > ss {
            hooks.lost_too_big(length);
            return None;
        }
        if length == 0 {
            return None;
        }
        let mut h = self.words.head.load(Relaxed);
        let (place, full) = loop {
            let place = self.place(h, length);
            // Where the record starts (no overflow: `head` wraps only
            // after 2^64 bytes, beyond which positions wrap consistently).
            let start = place.k.wrapping_mul(ss).wrapping_add(place.off);
            let full = place.enters && place.k.wrapping_sub(self.ring().consumed()) >= n;
            // A full ring takes only the padding (if any) that completes
            // the current sub-buffer; nothing enters the next one.
            let new = match (full, place.pad) {
                (true, 0) => {
                    hooks.lost_full(length);
                    return None;
                }
                (true, _) => start,
                (false, _) => start.wrapping_add(length),
            };
            match self
                .words
                .head
                .compare_exchange_weak(h, new, Relaxed, Relaxed)
            {
                Ok(_) => break (place, full),
                Err(now) => h = now,
            }
        };
        if place.pad != 0 {
            // This reservation alone moved `head` past the sub-buffer
            // before `place.k`: it completes it with the padding.
            let prev = place.k.wrapping_sub(1);
            if let Some(t) = self.words.tail.get(geo.index(prev)) {
                t.store(h, Relaxed);
            }
            self.add_commit(prev, place.pad);
        }
        if full {
            hooks.lost_full(length);
            self.deliver(hooks);
            return None;
        }
        self.ring().count_record_shared();
        let slot = Slot {
            pos: geo.index(place.k) * ss + place.off,
            len: length,
        };
        if place.pad != 0 {
            // Deliver the completed sub-buffer now if nothing blocks it:
            // the record's own commit may come much later.
            self.deliver(hooks);
        }
        Some(slot)
    }

    /// Commits a filled slot: it becomes readable once everything reserved
    /// before it is committed too, and its sub-buffer is delivered once
    /// complete.
    #[inline]
    pub fn commit(&self, slot: Slot, hooks: &mut impl SwitchHooks) {
        let ss = self.ring().geometry().subbuf_size();
        self.add_commit(slot.pos / ss, slot.len);
        self.deliver(hooks);
    }

    /// Adds `bytes` to the commit count of the sub-buffer in slot `k % n`
    /// (or slot `k`, an index, when `k < n`).
    #[inline(always)]
    fn add_commit(&self, k: usize, bytes: usize) {
        if let Some(c) = self.words.commit.get(self.ring().geometry().index(k)) {
            // SeqCst: against the token's release (module doc).
            c.fetch_add(bytes, Ordering::SeqCst);
        }
    }

    /// Completes the current sub-buffer for a flush: claims its padding
    /// unless it is empty. Returns whether there was anything to complete.
    pub fn flush(&self, hooks: &mut impl SwitchHooks) -> bool {
        let ss = self.ring().geometry().subbuf_size();
        let mut h = self.words.head.load(Relaxed);
        let done = loop {
            let off = h % ss;
            if off == 0 {
                break false;
            }
            let end = h - off + ss;
            match self
                .words
                .head
                .compare_exchange_weak(h, end, Relaxed, Relaxed)
            {
                Ok(_) => {
                    let k = h / ss;
                    if let Some(t) = self.words.tail.get(self.ring().geometry().index(k)) {
                        t.store(h, Relaxed);
                    }
                    self.add_commit(k, ss - off);
                    break true;
                }
                Err(now) => h = now,
            }
        };
        self.deliver(hooks);
        done
    }

    /// Takes the delivery token and delivers what is ready, until nothing
    /// is left for a holder to do (module doc); leaves it to the holder if
    /// the token is taken.
    #[inline]
    pub fn deliver(&self, hooks: &mut impl SwitchHooks) {
        loop {
            if self
                .words
                .token
                .compare_exchange(0, 1, Ordering::SeqCst, Relaxed)
                .is_err()
            {
                return;
            }
            // Bounded: a sub-buffer count, and writers cannot refill the
            // ring while we deliver it without a reader consuming.
            for _ in 0..=self.ring().geometry().n_subbufs() {
                if !self.deliver_one(hooks) {
                    break;
                }
            }
            self.words.token.store(0, Ordering::SeqCst);
            if !self.ready() {
                return;
            }
        }
    }

    /// The sub-buffer the deliverer is at, its slot index and commit count.
    #[inline(always)]
    fn current(&self) -> (usize, usize) {
        let k = self.ring().produced_by_producer();
        let c = self
            .words
            .commit
            .get(self.ring().geometry().index(k))
            .map_or(0, |c| c.load(Ordering::SeqCst));
        (k, c)
    }

    /// The readable extent of sub-buffer `k` with commit count `c`, loaded
    /// before: `Some` if everything reserved in it is committed.
    #[inline(always)]
    fn extent(&self, k: usize, c: usize) -> Option<usize> {
        let ss = self.ring().geometry().subbuf_size();
        let h = self.words.head.load(Ordering::SeqCst);
        let reserved = h.wrapping_sub(k.wrapping_mul(ss));
        // `head` is in `k` (or at its end, or past it: then `c == ss` is the
        // complete case, handled by the caller).
        (reserved <= ss && reserved == c).then_some(c)
    }

    /// Is there something for a token holder to do?
    #[inline(always)]
    fn ready(&self) -> bool {
        let (k, c) = self.current();
        c >= self.ring().geometry().subbuf_size()
            || self
                .extent(k, c)
                .is_some_and(|e| e > self.ring().published())
    }

    /// One step of the token holder: delivers the complete sub-buffer
    /// `produced` (true: look at the next one), or publishes the committed
    /// extent of the current one (false).
    #[inline(always)]
    fn deliver_one(&self, hooks: &mut impl SwitchHooks) -> bool {
        let ss = self.ring().geometry().subbuf_size();
        let (k, c) = self.current();
        if c >= ss {
            self.deliver_complete(k, hooks);
            return true;
        }
        if let Some(e) = self.extent(k, c) {
            self.ring().publish(e);
        }
        false
    }

    /// Delivers the complete sub-buffer `k` (`produced`), out of line: once
    /// per sub-buffer, where publishing an extent is once per record.
    #[inline(never)]
    fn deliver_complete(&self, k: usize, hooks: &mut impl SwitchHooks) {
        let ss = self.ring().geometry().subbuf_size();
        let index = self.ring().geometry().index(k);
        let end = self
            .words
            .tail
            .get(index)
            .map_or(NO_TAIL, |t| t.swap(NO_TAIL, Relaxed));
        // A tail outside `k` (none, or a lap's before) means no padding.
        let pad = ss.saturating_sub(end.wrapping_sub(k.wrapping_mul(ss)));
        if let Some(c) = self.words.commit.get(index) {
            c.store(0, Relaxed);
        }
        self.ring().deliver(pad, hooks);
    }
}
