// SPDX-License-Identifier: GPL-2.0

//! Waking a buffer's readers: `poll()`, the wake-up the producer defers
//! to `irq_work` when a sub-buffer completes (waking directly could
//! deadlock when logging from the scheduler), and the one of the channel's
//! delivery timer (`channel/delivery.rs`).

use super::Buffer;
use crate::{
    bindings,
    compat::{
        fs,
        irq_work::IrqWork,
        poll::{events, WaitQueue},
    },
};
use core::ptr::addr_of_mut;

impl Buffer {
    pub(super) fn read_wait(&self) -> &WaitQueue {
        // SAFETY: initialised in `new` (type invariant), lives as long as `self`.
        unsafe { WaitQueue::from_raw(addr_of_mut!((*self.raw.get()).read_wait)) }
    }

    pub(super) fn wakeup_work(&self) -> &IrqWork {
        // SAFETY: initialised in `new` (type invariant), lives as long as `self`.
        unsafe { IrqWork::from_raw(addr_of_mut!((*self.raw.get()).wakeup_work)) }
    }

    /// Poll state: readable when a complete sub-buffer is unconsumed, or,
    /// on a channel with a delivery interval, when any byte is unread;
    /// hang-up once the channel is closed (readable too while data remains,
    /// so that a reader drains it, then stops).
    ///
    /// # Safety
    ///
    /// `file` holds a reference on this buffer until it is released.
    pub(crate) unsafe fn poll(
        &self,
        file: &fs::File,
        table: &mut crate::compat::poll::PollTable,
    ) -> u32 {
        let mut mask = 0;
        if file.is_readable() {
            // SAFETY: the wait queue lives as long as the buffer, which
            // `file` keeps until it is released (caller contract).
            unsafe { table.register_wait(file, self.read_wait()) };
            let ready = if self.chan.delivers() {
                self.ring().has_unread_data()
            } else {
                self.ring().has_complete_data()
            };
            if ready {
                mask |= events::EPOLLIN | events::EPOLLRDNORM;
            } else {
                // The reader may sleep: the delivery timer (if any) will look.
                self.chan.delivery_wait();
            }
        }
        if self.is_finalized() {
            mask |= events::EPOLLHUP;
        }
        mask
    }

    /// For the channel's delivery timer: wakes the readers waiting in
    /// `poll()` if there are unread bytes. Returns whether a reader waits,
    /// and whether it was woken. Reads the counters only; from the timer's
    /// softirq, where waking directly is safe.
    pub(crate) fn deliver(&self) -> (bool, bool) {
        // The caller issued the full barrier `is_active` asks for.
        if !self.read_wait().is_active() {
            return (false, false);
        }
        if !self.ring().has_unread_data() {
            return (true, false);
        }
        self.read_wait().wake_up_interruptible();
        (true, true)
    }

    /// A sub-buffer completed: wakes the readers waiting in `poll()`, from
    /// `irq_work` (see the module documentation).
    pub(super) fn wake_readers(&self) {
        if self.read_wait().is_active() {
            self.wakeup_work().queue();
        }
    }
}

/// `irq_work` handler: wakes the buffer's readers outside the producer's context.
///
/// # Safety
///
/// `work` is the `wakeup_work` of a live `rchan_buf`, as `irq_work` passes it.
pub(super) unsafe extern "C" fn wakeup_readers(work: *mut bindings::irq_work) {
    // SAFETY: `work` is the `wakeup_work` field of a live `rchan_buf`
    // (buffers sync their irq_work before they can be freed).
    let raw = unsafe { kernel::container_of!(work, bindings::rchan_buf, wakeup_work) };
    // SAFETY: as above, `read_wait` was initialised when the buffer was made.
    let wq = unsafe { WaitQueue::from_raw(core::ptr::addr_of!((*raw).read_wait).cast_mut()) };
    wq.wake_up_interruptible();
}
