// SPDX-License-Identifier: GPL-2.0

//! A buffer's producer side: switching sub-buffers (through the client's
//! `subbuf_start`), the out-of-line part of the inline write paths, and the
//! [`SwitchHooks`] that connect the ring's protocol to the buffer's file
//! size, wake-ups and loss counters. The caller of each is the buffer's
//! only producer, unless the buffer is lockless: then any writer in any
//! context, and each path here takes the lockless producer's.

use super::lockless::{Lockless, Slot};
use super::ring::SwitchHooks;
use super::Buffer;
use crate::compat::{self, fs};
use core::sync::atomic::{AtomicUsize, Ordering};

impl Buffer {
    /// Completes the current sub-buffer (`relay_switch_subbuf`). On a
    /// lockless buffer, a flush: a record of `length > 0` bytes is dropped
    /// and counted (its caller would write it at `offset`, which a lockless
    /// buffer does not have).
    pub(crate) fn switch_subbuf(&self, length: usize) -> usize {
        if let Some(l) = self.lockless() {
            self.commit_all_pending(&l);
            l.flush(&mut Hooks(self));
            if length > 0 {
                Hooks(self).lost_full(length);
            }
            return 0;
        }
        self.ring().switch_subbuf(length, &mut Hooks(self))
    }

    /// Writes a record that does not fit at the write offset, or any record
    /// of a lockless buffer: the out-of-line part of the inline
    /// `relay_rs_write()` and `__relay_rs_write()`, with the stores they
    /// make for a record that fits ([`Ring::room`], the copy,
    /// [`Ring::wrote`]).
    ///
    /// # Safety
    ///
    /// `data` is valid for reads of `length` bytes. Unless the buffer is
    /// lockless, the caller is its producer.
    ///
    /// [`Ring::room`]: super::ring::Ring::room
    /// [`Ring::wrote`]: super::ring::Ring::wrote
    pub(crate) unsafe fn write_slow(&self, data: *const u8, length: usize) {
        let Some(l) = self.lockless() else {
            let ring = self.ring();
            let Some(pos) = ring.room(length, &mut Hooks(self)) else {
                return;
            };
            // SAFETY: `room` found `length` bytes at `pos` in the ring,
            // which only this producer writes; `data` is readable (caller
            // contract).
            unsafe { core::ptr::copy_nonoverlapping(data, self.ring_ptr(pos), length) };
            ring.wrote(length);
            return;
        };
        self.commit_pending(&l);
        if let Some(slot) = l.reserve(length, &mut Hooks(self)) {
            // SAFETY: the slot is `length` bytes of the ring reserved for us
            // alone until we commit it; `data` is readable (caller contract).
            unsafe { core::ptr::copy_nonoverlapping(data, self.ring_ptr(slot.pos), length) };
            l.commit(slot, &mut Hooks(self));
        }
    }

    /// Reserves `length` bytes for a record that does not fit at the write
    /// offset, or for any record of a lockless buffer: the out-of-line part
    /// of the inline `relay_rs_reserve()`, with its stores
    /// ([`Ring::room`], [`Ring::reserved`]). Returns the slot, or NULL if
    /// the record was dropped (counted). A lockless buffer's slot is
    /// committed by the next write or reservation of the same context
    /// level on the same CPU, or by a flush or close, as the relay API lets
    /// readers see a slot from the next reservation or switch on.
    ///
    /// # Safety
    ///
    /// Unless the buffer is lockless, the caller is its producer.
    ///
    /// [`Ring::room`]: super::ring::Ring::room
    /// [`Ring::reserved`]: super::ring::Ring::reserved
    pub(crate) unsafe fn reserve_slow(&self, length: usize) -> *mut u8 {
        let Some(l) = self.lockless() else {
            let ring = self.ring();
            let Some(pos) = ring.room(length, &mut Hooks(self)) else {
                return core::ptr::null_mut();
            };
            ring.reserved(length);
            return self.ring_ptr(pos);
        };
        self.note_pending();
        let Some(pending) = self.my_pending() else {
            return core::ptr::null_mut();
        };
        if let Some(slot) = Slot::unpack(pending.swap(0, Ordering::Relaxed)) {
            l.commit(slot, &mut Hooks(self));
        }
        match l.reserve(length, &mut Hooks(self)) {
            Some(slot) => {
                pending.store(slot.pack(), Ordering::Relaxed);
                self.ring_ptr(slot.pos)
            }
            None => core::ptr::null_mut(),
        }
    }

    /// Reserves `length` bytes of a lockless buffer for a writer that
    /// commits them itself ([`Buffer::commit_lockless`]), from any context:
    /// the slot and where it starts, or `None` if the record was dropped
    /// (counted) or the buffer is not lockless. A reservation, so it first
    /// commits the pending `relay_rs_reserve()` slot of its context level.
    pub(crate) fn reserve_lockless(&self, length: usize) -> Option<(Slot, *mut u8)> {
        let l = self.lockless()?;
        self.commit_pending(&l);
        let slot = l.reserve(length, &mut Hooks(self))?;
        Some((slot, self.ring_ptr(slot.pos)))
    }

    /// Commits a slot of [`Buffer::reserve_lockless`].
    ///
    /// # Safety
    ///
    /// `slot` was reserved in this buffer by [`Buffer::reserve_lockless`]
    /// since its last reset, and is committed once: the commit counts
    /// would otherwise deliver bytes a writer still fills.
    pub(crate) unsafe fn commit_lockless(&self, slot: Slot) {
        if let Some(l) = self.lockless() {
            l.commit(slot, &mut Hooks(self));
        }
    }

    /// The pending reservation of this CPU's current context level.
    fn my_pending(&self) -> Option<&AtomicUsize> {
        let cpu = if self.channel().is_global() {
            compat::cpu::this_cpu()
        } else {
            self.cpu()
        };
        self.pending(cpu, compat::cpu::context_level())
    }

    /// Commits the pending reservation of this CPU's context level: its
    /// writer writes again, so it filled it (the relay API's rule).
    fn commit_pending(&self, l: &Lockless<'_, &Buffer>) {
        if !self.any_pending() {
            return;
        }
        if let Some(p) = self.my_pending() {
            if p.load(Ordering::Relaxed) != 0 {
                if let Some(slot) = Slot::unpack(p.swap(0, Ordering::Relaxed)) {
                    l.commit(slot, &mut Hooks(self));
                }
            }
        }
    }

    /// Commits every pending reservation, for a flush or close: the relay
    /// API requires a slot filled by the next switch.
    pub(crate) fn commit_all_pending(&self, l: &Lockless<'_, &Buffer>) {
        for p in self.all_pending() {
            if let Some(slot) = Slot::unpack(p.swap(0, Ordering::Relaxed)) {
                l.commit(slot, &mut Hooks(self));
            }
        }
    }

    /// The address of ring offset `pos` (below the ring size).
    fn ring_ptr(&self, pos: usize) -> *mut u8 {
        self.mem.addr().cast::<u8>().wrapping_add(pos)
    }

    /// Makes room for a record of `length` bytes that does not fit at the
    /// write offset: completes the current sub-buffer and starts the next.
    /// False if the record was dropped (counted). The out-of-line part of
    /// the inline write paths, which then copy the record (or hand out the
    /// slot) and move the offset themselves.
    #[inline(always)]
    pub(crate) fn make_room(&self, length: usize, checked: bool) -> bool {
        // A lockless buffer's offset is past the end: `finish_unusual`
        // drops the record (its caller would write at `offset`).
        let finished = if checked {
            self.ring().finish_checked(length, &mut Hooks(self))
        } else {
            self.ring().finish(length, &mut Hooks(self))
        };
        if !finished {
            return false;
        }
        // Fresh views after each call: nothing is kept across one.
        let next = self.ring().offer();
        let accepted = self.subbuf_start(next.subbuf, next.prev_subbuf, next.prev_padding);
        self.ring().begin(accepted, length, &mut Hooks(self))
    }

    /// Asks the client's `subbuf_start` for the sub-buffer at `subbuf`.
    fn subbuf_start(&self, subbuf: usize, prev_subbuf: usize, prev_padding: usize) -> bool {
        if self.ring().is_full() {
            self.kernel_stats().switch_found_full();
        }
        self.chan.callbacks().subbuf_start(
            self,
            subbuf as *mut _,
            prev_subbuf as *mut _,
            prev_padding,
        )
    }

    /// Sets the write offset from a `subbuf_start` callback (`subbuf_start_reserve`).
    pub(crate) fn start_reserve(&self, length: usize) -> bool {
        self.ring().start_reserve(length)
    }
}

/// Connects [`Ring`] to the buffer's channel, file and counters.
pub(super) struct Hooks<'a>(pub(super) &'a Buffer);

impl SwitchHooks for Hooks<'_> {
    fn subbuf_start(&mut self, subbuf: usize, prev_subbuf: usize, prev_padding: usize) -> bool {
        self.0.subbuf_start(subbuf, prev_subbuf, prev_padding)
    }

    fn produced(&mut self, bytes: usize) {
        let dentry = self.0.dentry();
        if dentry.is_null() {
            let e = self.0.early_bytes();
            e.store(
                e.load(Ordering::Relaxed).wrapping_add(bytes),
                Ordering::Relaxed,
            );
        } else {
            // SAFETY: the dentry lives until `close`, which producers may not
            // race with; the producer is the only writer of the size.
            unsafe { fs::inode_add_size(dentry, bytes) };
        }
    }

    fn wake_readers(&mut self) {
        self.0.wake_readers();
    }

    fn lost_full(&mut self, _length: usize) {
        count_loss(&self.0.producer.lost.full);
        if self.0.lockless.is_some() {
            // No `subbuf_start` to count it before (7.3's `full_count`).
            self.0.kernel_stats().switch_found_full();
        }
    }

    fn lost_too_big(&mut self, length: usize) {
        count_loss(&self.0.producer.lost.too_big);
        self.0.kernel_stats().too_big(length);
    }
}

/// One more dropped record: a read-modify-write, as the writers of a
/// lockless buffer interrupt each other (one instruction either way).
fn count_loss(c: &AtomicUsize) {
    c.fetch_add(1, Ordering::Relaxed);
}
