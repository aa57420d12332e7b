// SPDX-License-Identifier: GPL-2.0

//! Timer-wheel timers (`struct timer_list`) and jiffies. Relay_rs' own on
//! both kernels: 7.3's `kernel` crate wraps `hrtimer`s only, 6.12's no
//! timer at all; the jiffies conversion is upstream's
//! (`kernel::time::msecs_to_jiffies`) on both.
//!
//! C header: [`include/linux/timer.h`](srctree/include/linux/timer.h).

use crate::bindings;
use kernel::{prelude::*, time::Jiffies, types::Opaque};

/// The current time in jiffies.
pub(crate) fn jiffies() -> Jiffies {
    // SAFETY: reads a kernel variable, marked (`READ_ONCE()`).
    unsafe { bindings::relay_rs_glue_jiffies() }
}

pub(crate) use kernel::time::msecs_to_jiffies;

/// A `timer_list` inside a pinned Rust structure.
///
/// Its function runs in softirq context on whichever CPU the timer wheel
/// expires it on (it is not pinned to a CPU: with `NO_HZ` the wheel hands
/// an idle CPU's timers to a busy one, and CPU hotplug migrates the timers
/// of a CPU that goes offline).
///
/// # Invariants
///
/// The `timer_list` was set up by [`Timer::new`]; once it is dropped it is
/// shut down (no longer queued, running or armable), so the function never
/// runs on freed memory.
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub(crate) struct Timer {
    #[pin]
    inner: Opaque<bindings::timer_list>,
}

// SAFETY: every operation on the `timer_list` goes through the timer API,
// which takes the timer base's lock; no field is accessed directly.
unsafe impl Send for Timer {}
// SAFETY: as above.
unsafe impl Sync for Timer {}

impl Timer {
    /// A timer that calls `func` when it expires, not armed.
    ///
    /// `func` gets the pointer that [`Timer::as_raw`] returns; it must not
    /// call [`Timer::shutdown`] on its own timer.
    pub(crate) fn new(func: unsafe extern "C" fn(*mut bindings::timer_list)) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes and pinned (`ffi_init`),
            // and no timer lives there yet.
            inner <- Opaque::ffi_init(move |slot| unsafe {
                bindings::relay_rs_glue_timer_setup(slot, Some(func))
            }),
        })
    }

    /// The C timer, as the timer's function receives it.
    pub(crate) fn as_raw(&self) -> *mut bindings::timer_list {
        self.inner.get()
    }

    /// Arms the timer to expire at `expires` (jiffies), or re-arms it.
    /// Nothing is done once it is shut down.
    pub(crate) fn arm(&self, expires: Jiffies) {
        // SAFETY: set up by `new` (type invariant); any context but NMI.
        unsafe { bindings::mod_timer(self.as_raw(), expires) };
    }

    /// Arms the timer to expire at `expires` unless it is armed to expire
    /// earlier (`timer_reduce()`). Nothing is done once it is shut down.
    pub(crate) fn arm_before(&self, expires: Jiffies) {
        // SAFETY: as for `arm`.
        unsafe { bindings::timer_reduce(self.as_raw(), expires) };
    }

    /// Disarms the timer; a run already started may still finish.
    pub(crate) fn disarm(&self) {
        // SAFETY: as for `arm`.
        unsafe { bindings::timer_delete(self.as_raw()) };
    }

    /// Disarms the timer for good, waiting for a run in progress: it
    /// cannot be armed again. Not from the timer's own function, nor from
    /// hard interrupt context.
    pub(crate) fn shutdown(&self) {
        // SAFETY: set up by `new` (type invariant); the caller is not the
        // timer's function (documented above).
        unsafe { bindings::timer_shutdown_sync(self.as_raw()) };
    }
}

#[pinned_drop]
impl PinnedDrop for Timer {
    fn drop(self: Pin<&mut Self>) {
        // INVARIANT: shut down before the memory goes (the owner is being
        // dropped, so its timer function is not the caller).
        self.shutdown();
    }
}
