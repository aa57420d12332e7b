// SPDX-License-Identifier: GPL-2.0

//! A buffer's producer side: switching sub-buffers (through the client's
//! `subbuf_start`), the out-of-line part of the inline write paths, and the
//! [`SwitchHooks`] that connect the ring's protocol to the buffer's file
//! size, wake-ups and loss counters. The caller of each is the buffer's
//! only producer.

use super::ring::SwitchHooks;
use super::Buffer;
use crate::compat::fs;
use core::sync::atomic::{AtomicUsize, Ordering};

impl Buffer {
    /// Completes the current sub-buffer (`relay_switch_subbuf`).
    pub(crate) fn switch_subbuf(&self, length: usize) -> usize {
        self.ring().switch_subbuf(length, &mut Hooks(self))
    }

    /// Makes room for a record of `length` bytes that does not fit at the
    /// write offset: completes the current sub-buffer and starts the next.
    /// False if the record was dropped (counted). The out-of-line part of
    /// the inline write paths, which then copy the record (or hand out the
    /// slot) and move the offset themselves.
    #[inline(always)]
    pub(crate) fn make_room(&self, length: usize, checked: bool) -> bool {
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
    }

    fn lost_too_big(&mut self, length: usize) {
        count_loss(&self.0.producer.lost.too_big);
        self.0.kernel_stats().too_big(length);
    }
}

/// One more dropped record: only the buffer's producer counts them, so no
/// read-modify-write is needed.
fn count_loss(c: &AtomicUsize) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}
