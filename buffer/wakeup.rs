// SPDX-License-Identifier: GPL-2.0

//! Waking a buffer's readers: `poll()`, and the wake-up the producer defers
//! to `irq_work` when a sub-buffer completes (waking directly could
//! deadlock when logging from the scheduler).

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

    /// Poll state: readable when a complete sub-buffer is unconsumed;
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
            if self.ring().has_complete_data() {
                mask |= events::EPOLLIN | events::EPOLLRDNORM;
            }
        }
        if self.is_finalized() {
            mask |= events::EPOLLHUP;
        }
        mask
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
