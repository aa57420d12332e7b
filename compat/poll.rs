// SPDX-License-Identifier: GPL-2.0

//! Wait queues and poll tables.
//!
//! [`PollTable`] stands in on 6.12 for upstream's
//! `kernel::sync::poll::PollTable`, and stays relay_rs' own on 7.3 too:
//! 7.3's `PollTable` registers only a `PollCondVar`, a pinned condition
//! variable owned by Rust (its drop clears its pollers), and does not give
//! its raw table back; relay_rs' wait queue is the `wait_queue_head_t`
//! inside the C `struct rchan_buf` (`read_wait`, at the offset C clients
//! see), which no `PollCondVar` can be. 7.3 lacks a wrapper of such a bare
//! wait queue head as well ([`WaitQueue`]).
//!
//! C headers: [`include/linux/wait.h`](srctree/include/linux/wait.h),
//! [`include/linux/poll.h`](srctree/include/linux/poll.h).

use super::fs::File;
use crate::bindings;
use kernel::types::Opaque;

/// Poll event bits (`include/uapi/linux/eventpoll.h`; bindgen cannot read
/// their `__force` casts).
pub(crate) mod events {
    /// There is data to read.
    pub(crate) const EPOLLIN: u32 = 0x0001;
    /// Hang-up: the channel was closed.
    pub(crate) const EPOLLHUP: u32 = 0x0010;
    /// Normal data to read.
    pub(crate) const EPOLLRDNORM: u32 = 0x0040;
}

/// A `wait_queue_head_t` embedded in a C structure.
///
/// # Invariants
///
/// The wrapped head has been initialised with [`WaitQueue::init`].
#[repr(transparent)]
pub(crate) struct WaitQueue(Opaque<bindings::wait_queue_head>);

impl WaitQueue {
    /// Initialises the wait queue head at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes and must not move while in use.
    pub(crate) unsafe fn init(ptr: *mut bindings::wait_queue_head) {
        // SAFETY: `ptr` is valid for writes (caller contract).
        unsafe { bindings::relay_rs_glue_init_waitqueue(ptr) };
    }

    /// Borrows an initialised wait queue head.
    ///
    /// # Safety
    ///
    /// `ptr` must have been initialised with [`WaitQueue::init`] and stay valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::wait_queue_head) -> &'a WaitQueue {
        // SAFETY: transparent wrapper; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    /// Does anybody wait? (The caller orders this check after its update.)
    pub(crate) fn is_active(&self) -> bool {
        // `waitqueue_active()`: is the list non-empty? The caller issued
        // the full barrier that pairs with the one in `prepare_to_wait()`
        // and `poll_wait()`.
        let wq = self.0.get();
        // SAFETY: initialised by the type invariant, so `head` is a valid
        // list head; its `next` is read once, as `list_empty()` does.
        unsafe {
            let head = core::ptr::addr_of_mut!((*wq).head);
            core::ptr::read_volatile(core::ptr::addr_of!((*head).next)) != head
        }
    }

    /// Wakes interruptible waiters; must not be called from a producer's context.
    pub(crate) fn wake_up_interruptible(&self) {
        // SAFETY: initialised by the type invariant.
        unsafe { bindings::relay_rs_glue_wake_up_interruptible(self.0.get()) };
    }
}

/// The `poll_table` of a `poll` file operation.
pub(crate) struct PollTable(*mut bindings::poll_table_struct);

impl PollTable {
    /// Wraps the poll table argument of `f_op->poll`, which may be NULL.
    ///
    /// # Safety
    ///
    /// `ptr` must be NULL or valid for the duration of the `poll` call.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::poll_table_struct) -> Self {
        Self(ptr)
    }

    /// Registers `wq` so that the poller is woken when it is.
    ///
    /// # Safety
    ///
    /// `wq` must stay valid until `file` is released: a poller (epoll) may
    /// keep its entry on `wq` until then.
    pub(crate) unsafe fn register_wait(&mut self, file: &File, wq: &WaitQueue) {
        // SAFETY: `file` and `wq` are valid, and `wq` outlives the entries
        // pollers put on it (caller contract); the table is NULL or valid
        // for this `poll` call (`from_raw` contract).
        unsafe { bindings::relay_rs_glue_poll_wait(file.as_ptr(), wq.0.get(), self.0) };
    }
}
