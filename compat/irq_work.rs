// SPDX-License-Identifier: GPL-2.0

//! Deferred work run from a self-IPI (`irq_work`): lets a producer in any
//! context, even under a scheduler lock, arrange a wake-up. Relay_rs' own
//! on both kernels: 7.3's `kernel` crate has no `irq_work` either.
//!
//! C header: [`include/linux/irq_work.h`](srctree/include/linux/irq_work.h).

use crate::bindings;
use kernel::types::Opaque;

/// An `irq_work` embedded in a C structure.
///
/// # Invariants
///
/// The wrapped `irq_work` has been initialised with [`IrqWork::init`].
#[repr(transparent)]
pub(crate) struct IrqWork(Opaque<bindings::irq_work>);

impl IrqWork {
    /// Initialises the `irq_work` at `ptr` to run `func`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes, not queued, and must not move while
    /// in use.
    pub(crate) unsafe fn init(
        ptr: *mut bindings::irq_work,
        func: unsafe extern "C" fn(*mut bindings::irq_work),
    ) {
        // SAFETY: `ptr` is valid for writes (caller contract).
        unsafe { bindings::relay_rs_glue_init_irq_work(ptr, Some(func)) };
    }

    /// Borrows an initialised `irq_work`.
    ///
    /// # Safety
    ///
    /// `ptr` must have been initialised with [`IrqWork::init`] and stay valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::irq_work) -> &'a IrqWork {
        // SAFETY: transparent wrapper; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    /// Queues the work on this CPU; false if it was already pending.
    pub(crate) fn queue(&self) -> bool {
        // SAFETY: initialised by the type invariant; callable from any context.
        unsafe { bindings::irq_work_queue(self.0.get()) }
    }

    /// Waits until the work is not running anywhere.
    pub(crate) fn sync(&self) {
        // SAFETY: initialised by the type invariant.
        unsafe { bindings::irq_work_sync(self.0.get()) };
    }
}
