// SPDX-License-Identifier: GPL-2.0

//! What makes a producer of a buffer: [`IrqsDisabled`], which pins the
//! task to its CPU, and, for a global channel, the writers' lock that
//! [`Shared`] holds and [`GlobalLocked`] proves held.

use super::{
    arch,
    callbacks::Callbacks,
    raw::{relay_rs_raw_spin_lock, relay_rs_raw_spin_lock_init, relay_rs_raw_spin_unlock},
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicU32, Ordering},
};
use kernel::{prelude::*, types::Opaque};

/// Local interrupts disabled on this CPU until drop (`local_irq_save()`),
/// which also pins the task to the CPU. On kernels that trace IRQ flags
/// (lockdep), lockdep is told, as `local_irq_save()` tells it.
#[must_use = "interrupts are enabled again when the guard drops"]
pub struct IrqsDisabled {
    flags: usize,
    _not_send: PhantomData<*mut ()>,
}

impl IrqsDisabled {
    /// Disables local interrupts (`local_irq_save()`).
    // No `Default`: making a guard disables interrupts, an action that a
    // `..Default::default()` or `unwrap_or_default()` would hide.
    #[allow(clippy::new_without_default)]
    #[inline(always)]
    pub fn new() -> Self {
        Self {
            flags: arch::irq_save(),
            _not_send: PhantomData,
        }
    }

    /// Were interrupts enabled before? Then no other `IrqsDisabled` of
    /// this CPU is alive (each keeps them off until it drops).
    #[inline(always)]
    pub(super) fn outermost(&self) -> bool {
        arch::irqs_enabled(self.flags)
    }
}

impl Drop for IrqsDisabled {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: `flags` came from `irq_save` in `new` on this CPU (the
        // guard is not `Send`). Only the outermost guard re-enables
        // interrupts; a guard that found them off restores nothing.
        unsafe { arch::irq_restore(self.flags) };
    }
}

/// A `raw_spinlock_t`: unlike [`kernel::sync::SpinLock`]'s `spinlock_t`,
/// which sleeps on PREEMPT_RT and so may not be taken in an IPI or a hard
/// interrupt that is never threaded (lockdep's raw-lock nesting check,
/// on wherever PREEMPT_RT is possible, reports it), any context may take
/// it, as any context may write. The kernel crate has none; relay_rs.ko
/// exports its three operations.
#[pin_data]
pub(super) struct RawSpinLock {
    #[pin]
    raw: Opaque<kernel::bindings::raw_spinlock>,
}

// SAFETY: a lock is meant to be shared and handed between CPUs; its state
// is only touched by the C lock operations.
unsafe impl Send for RawSpinLock {}
// SAFETY: as above.
unsafe impl Sync for RawSpinLock {}

impl RawSpinLock {
    /// An unlocked lock.
    pub(super) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `p` is the lock's storage, valid and pinned for the
            // lock's life; initialising it is what the function does.
            raw <- Opaque::ffi_init(|p| unsafe { relay_rs_raw_spin_lock_init(p) }),
        })
    }

    /// Takes the lock (spins); the caller has interrupts off, else an
    /// interrupt handler that writes could spin on it forever.
    #[inline(always)]
    pub(super) fn lock(&self, _irqs: &IrqsDisabled) -> RawSpinLockGuard<'_> {
        // SAFETY: an initialised lock (`new`), pinned while `self` lives.
        unsafe { relay_rs_raw_spin_lock(self.raw.get()) };
        RawSpinLockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// [`RawSpinLock`] held until drop, on this CPU.
#[must_use = "the lock is released when the guard drops"]
pub(super) struct RawSpinLockGuard<'a> {
    lock: &'a RawSpinLock,
    _not_send: PhantomData<*mut ()>,
}

impl Drop for RawSpinLockGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: taken by `lock` on this CPU (the guard is not `Send`)
        // and not released since.
        unsafe { relay_rs_raw_spin_unlock(self.lock.raw.get()) };
    }
}

/// What a [`Channel`] owns beside the C channel: the client's data, and
/// the lock that serialises the writers of a global channel.
#[pin_data]
pub(super) struct Shared<T: Callbacks> {
    /// Taken with interrupts off by every writer of a global channel (not
    /// used by per-CPU channels).
    #[pin]
    pub(super) global: RawSpinLock,
    /// The CPU that holds `global`, plus one (0: none). Written only by
    /// the holder, while it holds it, with interrupts off: a CPU that reads
    /// its own number here is inside its own holder, which called it.
    pub(super) owner: AtomicU32,
    pub(super) data: T::Data,
}

/// The right to produce into a global channel's buffer on this CPU, with
/// interrupts off: its lock taken, or already held by this CPU (a `write`
/// from inside this CPU's own [`Producer`], or from a `subbuf_start` that
/// a write of this CPU reached), or nothing for a per-CPU channel.
pub(super) struct GlobalLocked<'a> {
    pub(super) guard: Option<RawSpinLockGuard<'a>>,
    pub(super) owner: &'a AtomicU32,
}

impl Drop for GlobalLocked<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.guard.is_some() {
            // Before the unlock (the guard drops after this).
            self.owner.store(0, Ordering::Relaxed);
        }
    }
}
