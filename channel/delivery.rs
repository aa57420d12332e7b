// SPDX-License-Identifier: GPL-2.0

//! Bounded delivery latency (opt-in per channel): with a delivery interval
//! set, a reader blocked in `poll()` on a buffer with unread bytes wakes
//! within the interval plus one timer tick, even if no sub-buffer
//! completes, and `poll()` counts the bytes of the sub-buffer being
//! written as readable (`read()` returns them already).
//!
//! One timer per channel, not per CPU, looks at every buffer of the
//! channel: it reads the counters a reader would (through
//! [`Ring::has_unread_data`](crate::buffer::ring::Ring::has_unread_data)),
//! never writes a producer's, so the write paths do not change at all and
//! no sub-buffer is switched (no padding). It wakes only the readers of
//! buffers with unread data.
//!
//! The timer runs only while a reader waits: `poll()` arms it when it
//! finds nothing to read (the reader is about to sleep), and a run re-arms
//! it only if some buffer still has a reader waiting. A channel that
//! nobody polls, or whose readers are busy reading, has no timer armed.
//! While a reader waits the timer must run, every interval, as nothing
//! else can tell it that a record was written (the producer does not). It
//! is a plain timer, not a deferrable one: a deferrable timer does not
//! fire while its CPU idles in `NO_HZ`, which is exactly when a slow
//! producer's record would wait unseen. It is not pinned to a CPU either,
//! so the timer wheel runs it where a CPU is awake anyway (with `NO_HZ`,
//! an idle CPU's timers are expired by a busy one), and wakes one CPU only
//! when all idle. CPU hotplug moves it off a CPU that goes offline; each
//! run looks at the channel's buffer slots as they are then, so buffers of
//! CPUs that came online since are covered, and those of offline CPUs
//! (kept, with their data) too.
//!
//! The channel's close shuts the timer down (waiting for a run in
//! progress) before it releases the buffers, whose slots the timer reads
//! without a reference of its own.

use super::Channel;
use crate::{
    bindings,
    compat::timer::{self, Timer},
};
use core::sync::atomic::{fence, AtomicU32, AtomicUsize, Ordering};
use kernel::{prelude::*, time::Jiffies};

/// The longest interval accepted, in milliseconds: an hour.
pub(crate) const MAX_MSECS: u32 = 3_600_000;

/// A channel's delivery interval and its timer.
#[pin_data]
pub(crate) struct Delivery {
    #[pin]
    timer: Timer,
    /// The interval in milliseconds, 0 when off.
    msecs: AtomicU32,
    /// The timeout the timer is armed with ([`timeout_for`]), 0 when off.
    timeout: AtomicUsize,
    /// Timer runs (with an interval set).
    runs: AtomicUsize,
    /// Readers woken by the timer: buffers that had unread data and a
    /// reader waiting in `poll()` when it ran.
    wakeups: AtomicUsize,
}

impl Delivery {
    /// No interval, the timer not armed.
    pub(super) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            timer <- Timer::new(deliver),
            msecs: AtomicU32::new(0),
            timeout: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
            wakeups: AtomicUsize::new(0),
        })
    }
}

/// The timeout that makes the timer expire at most `interval` jiffies
/// plus one tick after it is armed.
///
/// The timer wheel (`kernel/time/timer.c`) files a timeout of `d` jiffies
/// in the level whose granularity `g` is 1 for `d` < 63, 8 for `d` < 504,
/// 64 for `d` < 4032, and so on (levels of 64 buckets, each 8 times
/// coarser), and expires it at the first multiple of `g` past its expiry:
/// `g` ticks late at most. Arming with `interval + 1 - g` makes up for it
/// (the timer runs a little more often than the interval, never later).
fn timeout_for(interval: Jiffies) -> Jiffies {
    let (mut granularity, mut level_end): (Jiffies, Jiffies) = (1, 63);
    while interval >= level_end && granularity < 1 << 24 {
        granularity *= 8;
        level_end *= 8;
    }
    interval
        .saturating_add(1)
        .saturating_sub(granularity)
        .max(1)
}

impl Channel {
    /// Sets the delivery interval (`relay_rs_set_delivery_interval`); 0
    /// turns it off. Any context but NMI.
    pub(crate) fn set_delivery_interval(&self, msecs: u32) -> Result {
        if msecs > MAX_MSECS {
            return Err(EINVAL);
        }
        let d = &self.delivery;
        d.msecs.store(msecs, Ordering::Relaxed);
        if msecs == 0 {
            d.timeout.store(0, Ordering::Relaxed);
            // A run in progress may still wake readers once: a reader so
            // woken polls again and, with the interval off, sleeps.
            d.timer.disarm();
            return Ok(());
        }
        let timeout = timeout_for(timer::msecs_to_jiffies(msecs));
        d.timeout.store(timeout, Ordering::Relaxed);
        // Readers may be waiting already: the first run within the new
        // interval (a shorter one than the timer is armed for moves it
        // closer; if nobody waits, that run stops the timer).
        d.timer.arm_before(timer::jiffies().wrapping_add(timeout));
        Ok(())
    }

    /// Does `poll()` count the unread bytes of the sub-buffer being
    /// written, and the delivery timer wake its readers?
    pub(crate) fn delivers(&self) -> bool {
        self.delivery.timeout.load(Ordering::Relaxed) != 0
    }

    /// A reader is about to sleep in `poll()` on one of the channel's
    /// buffers, on whose wait queue it is registered: makes sure that the
    /// timer runs within the interval.
    pub(crate) fn delivery_wait(&self) {
        let timeout = self.delivery.timeout.load(Ordering::Relaxed);
        if timeout == 0 {
            return;
        }
        // Orders the registration before the timer's pending check in
        // `arm_before`; pairs with the fence in `deliver`: either this sees
        // the timer not pending (and arms it), or the run that dequeued it
        // sees this reader waiting (and re-arms it).
        fence(Ordering::SeqCst);
        self.delivery
            .timer
            .arm_before(timer::jiffies().wrapping_add(timeout));
    }

    /// Stops the delivery timer for good, waiting for a run in progress;
    /// [`Channel::close_bufs`] calls it before it releases the buffers.
    pub(super) fn stop_delivery(&self) {
        self.delivery.timer.shutdown();
    }

    /// The interval in milliseconds, the timer's runs and the readers it
    /// woke, for the stats file.
    pub(super) fn delivery_stats(&self) -> (u32, usize, usize) {
        let d = &self.delivery;
        (
            d.msecs.load(Ordering::Relaxed),
            d.runs.load(Ordering::Relaxed),
            d.wakeups.load(Ordering::Relaxed),
        )
    }

    /// A run of the delivery timer: wakes the waiting readers of buffers
    /// with unread data, re-arms the timer while any reader waits.
    fn deliver(&self) {
        let d = &self.delivery;
        let timeout = d.timeout.load(Ordering::Relaxed);
        if timeout == 0 {
            return;
        }
        d.runs.fetch_add(1, Ordering::Relaxed);
        // Pairs with `delivery_wait`'s fence (and with the one in
        // `poll_wait()` that `WaitQueue::is_active` asks for).
        fence(Ordering::SeqCst);
        let mut waiting = false;
        // The slots' buffers stay alive while this runs: `close_bufs`
        // shuts the timer down before it releases them.
        self.for_each_buffer(|b| {
            let (waits, woken) = b.deliver();
            waiting |= waits;
            if woken {
                d.wakeups.fetch_add(1, Ordering::Relaxed);
            }
        });
        if waiting {
            d.timer.arm(timer::jiffies().wrapping_add(timeout));
        }
    }
}

/// The delivery timer's function.
///
/// # Safety
///
/// `timer` is the timer of a [`Delivery`] inside a [`Channel`], as the
/// timer wheel passes it.
unsafe extern "C" fn deliver(timer: *mut bindings::timer_list) {
    // `timer` is the `timer` field (a transparent `Timer`) of a `Delivery`,
    // itself the `delivery` field of a `Channel` (function contract).
    // SAFETY: as said; the channel is alive: its timer is shut down,
    // waiting for this run, before its memory goes (`Timer`'s invariant).
    let chan = unsafe {
        let d: *const Delivery = kernel::container_of!(timer.cast::<Timer>(), Delivery, timer);
        let c: *const Channel = kernel::container_of!(d.cast_mut(), Channel, delivery);
        &*c
    };
    chan.deliver();
}
