// SPDX-License-Identifier: GPL-2.0

//! What differs between the `<linux/relay.h>` of the two kernels relay_rs
//! builds against, 7.3 and 6.12 (`include/relay_rs.h` follows the one of
//! the kernel it is built against): the rest of relay_rs calls these and
//! never names a kernel version. Stands in for nothing: neither kernel's
//! `kernel` crate has relay abstractions.
//!
//! - 7.3 keeps loss counters in each buffer (`rchan_buf.stats`), which
//!   clients read directly; 6.12 keeps the size of the last record too big
//!   in the channel (`rchan.last_toobig`) and warns about it at close.
//! - 6.12 has `rchan_buf.prev_padding` and passes it to `subbuf_start`;
//!   7.3 has neither, so relay_rs keeps the value itself there.

use crate::bindings;
#[cfg(relay_rs_kernel = "7.3")]
use core::sync::atomic::AtomicU32;
use core::{
    ffi::{c_int, c_void},
    ptr::addr_of_mut,
    sync::atomic::{AtomicUsize, Ordering},
};

/// The kernel's `subbuf_start` callback type: 6.12's passes `prev_padding`.
#[cfg(relay_rs_kernel = "6.12")]
pub(crate) type SubbufStartFn =
    unsafe extern "C" fn(*mut bindings::rchan_buf, *mut c_void, *mut c_void, usize) -> c_int;
/// The kernel's `subbuf_start` callback type: 7.3's has three arguments.
#[cfg(relay_rs_kernel = "7.3")]
pub(crate) type SubbufStartFn =
    unsafe extern "C" fn(*mut bindings::rchan_buf, *mut c_void, *mut c_void) -> c_int;

/// Calls a client's `subbuf_start` with what the kernel's signature takes.
///
/// # Safety
///
/// As for calling `f` itself: `f` is a client's callback, `buf` a live
/// buffer of its channel and the caller the buffer's producer.
pub(crate) unsafe fn call_subbuf_start(
    f: SubbufStartFn,
    buf: *mut bindings::rchan_buf,
    subbuf: *mut c_void,
    prev: *mut c_void,
    _prev_padding: usize,
) -> bool {
    #[cfg(relay_rs_kernel = "6.12")]
    // SAFETY: per the function's contract.
    let r = unsafe { f(buf, subbuf, prev, _prev_padding) };
    #[cfg(relay_rs_kernel = "7.3")]
    // SAFETY: per the function's contract.
    let r = unsafe { f(buf, subbuf, prev) };
    r != 0
}

/// The word that holds the padding of the last sub-buffer completed:
/// 6.12's `rchan_buf.prev_padding`, or `own` on 7.3, which has no such
/// field.
///
/// # Safety
///
/// `raw` is valid and aligned for `'a`, and every access to its
/// `prev_padding` (6.12) is atomic.
pub(crate) unsafe fn prev_padding<'a>(
    raw: *mut bindings::rchan_buf,
    own: &'a AtomicUsize,
) -> &'a AtomicUsize {
    #[cfg(relay_rs_kernel = "6.12")]
    {
        let _ = own;
        // SAFETY: an aligned `size_t` field of a live buffer, accessed
        // atomically (caller contract).
        unsafe { AtomicUsize::from_ptr(addr_of_mut!((*raw).prev_padding)) }
    }
    #[cfg(relay_rs_kernel = "7.3")]
    {
        let _ = raw;
        own
    }
}

/// The loss counters the kernel's relay keeps in its own structures, kept
/// as it keeps them (relay_rs' own, `relay_rs_stats()`, count records).
///
/// Every access is atomic, and counts are read-modify-writes: the writers
/// of a lockless buffer interrupt each other.
///
/// # Invariants
///
/// `buf` and `chan` point to a live buffer and its channel for `'a`.
pub(crate) struct KernelStats<'a> {
    #[cfg_attr(relay_rs_kernel = "6.12", allow(dead_code))]
    buf: *mut bindings::rchan_buf,
    #[cfg_attr(relay_rs_kernel = "7.3", allow(dead_code))]
    chan: *mut bindings::rchan,
    _live: core::marker::PhantomData<&'a ()>,
}

impl KernelStats<'_> {
    /// The counters of buffer `buf` of channel `chan`.
    ///
    /// # Safety
    ///
    /// `buf` and `chan` are a buffer and its channel, live while the value is.
    pub(crate) unsafe fn new(buf: *mut bindings::rchan_buf, chan: *mut bindings::rchan) -> Self {
        // INVARIANT: per the function's contract.
        Self {
            buf,
            chan,
            _live: core::marker::PhantomData,
        }
    }

    #[cfg(relay_rs_kernel = "7.3")]
    fn bump(c: *mut u32) {
        // SAFETY: an aligned `unsigned int` field of the live buffer (type
        // invariant), accessed by relay_rs only atomically; clients read it.
        // A read-modify-write: writers of a lockless buffer nest.
        unsafe { AtomicU32::from_ptr(c) }.fetch_add(1, Ordering::Relaxed);
    }

    /// A sub-buffer switch found the buffer full (7.3's `stats.full_count`,
    /// counted before `subbuf_start` is asked, as 7.3 does).
    pub(crate) fn switch_found_full(&self) {
        #[cfg(relay_rs_kernel = "7.3")]
        // SAFETY: the buffer is live (type invariant).
        Self::bump(unsafe { addr_of_mut!((*self.buf).stats.full_count) });
    }

    /// A record of `length` bytes was too big (7.3's `stats.big_count`,
    /// 6.12's `rchan.last_toobig`).
    pub(crate) fn too_big(&self, length: usize) {
        #[cfg(relay_rs_kernel = "7.3")]
        {
            let _ = length;
            // SAFETY: the buffer is live (type invariant).
            Self::bump(unsafe { addr_of_mut!((*self.buf).stats.big_count) });
        }
        #[cfg(relay_rs_kernel = "6.12")]
        // SAFETY: an aligned `size_t` field of the live channel (type
        // invariant), accessed by relay_rs only atomically.
        unsafe { AtomicUsize::from_ptr(addr_of_mut!((*self.chan).last_toobig)) }
            .store(length, Ordering::Relaxed);
    }

    /// Zeroes the buffer's counters (`relay_reset`; 6.12 keeps
    /// `last_toobig`, a channel's).
    pub(crate) fn reset(&self) {
        #[cfg(relay_rs_kernel = "7.3")]
        // SAFETY: aligned fields of the live buffer (type invariant),
        // accessed by relay_rs only atomically.
        unsafe {
            AtomicU32::from_ptr(addr_of_mut!((*self.buf).stats.full_count))
                .store(0, Ordering::Relaxed);
            AtomicU32::from_ptr(addr_of_mut!((*self.buf).stats.big_count))
                .store(0, Ordering::Relaxed);
        }
    }
}

/// The size of the last record too big for channel `chan`'s sub-buffers,
/// which 6.12 warns about when the channel closes; 7.3 neither keeps nor
/// warns (0).
///
/// # Safety
///
/// `chan` is a live channel.
pub(crate) unsafe fn last_toobig(chan: *mut bindings::rchan) -> usize {
    #[cfg(relay_rs_kernel = "6.12")]
    // SAFETY: an aligned `size_t` field of the live channel (caller
    // contract), written atomically.
    return unsafe { AtomicUsize::from_ptr(addr_of_mut!((*chan).last_toobig)) }
        .load(Ordering::Relaxed);
    #[cfg(relay_rs_kernel = "7.3")]
    {
        let _ = chan;
        0
    }
}

/// Does the kernel's relay keep loss counters in each buffer (7.3's
/// `rchan_buf.stats`)? Else it keeps `rchan.last_toobig` (6.12).
pub(crate) const KEEPS_BUFFER_STATS: bool = cfg!(relay_rs_kernel = "7.3");

/// What the kernel's relay keeps of a buffer's losses, as relay_rs keeps
/// it for clients: 7.3's `stats` fields, 6.12's `last_toobig`; 0 for what
/// the kernel does not keep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KernelCounts {
    /// 7.3's `stats.full_count`.
    pub(crate) full_count: usize,
    /// 7.3's `stats.big_count`.
    pub(crate) big_count: usize,
    /// 6.12's `last_toobig`.
    pub(crate) last_toobig: usize,
}

impl KernelStats<'_> {
    /// The counts as they are now.
    pub(crate) fn counts(&self) -> KernelCounts {
        #[cfg(relay_rs_kernel = "7.3")]
        // SAFETY: aligned fields of the live buffer (type invariant),
        // accessed by relay_rs only atomically.
        let r = unsafe {
            KernelCounts {
                full_count: AtomicU32::from_ptr(addr_of_mut!((*self.buf).stats.full_count))
                    .load(Ordering::Relaxed) as usize,
                big_count: AtomicU32::from_ptr(addr_of_mut!((*self.buf).stats.big_count))
                    .load(Ordering::Relaxed) as usize,
                last_toobig: 0,
            }
        };
        #[cfg(relay_rs_kernel = "6.12")]
        let r = KernelCounts {
            // SAFETY: the channel is live (type invariant).
            last_toobig: unsafe { last_toobig(self.chan) },
            ..KernelCounts::default()
        };
        r
    }
}

/// Defines a C `subbuf_start` callback with the kernel's signature, from a
/// body that sees `prev_padding` on either kernel (7.3's callbacks get it
/// from `relay_rs_buf_prev_padding()`). For relay_rs' own tests, which
/// call into relay_rs as C clients do.
#[cfg(CONFIG_KUNIT)]
macro_rules! subbuf_start_callback {
    ($(#[$m:meta])* unsafe fn $name:ident($buf:ident, $subbuf:tt, $prev:tt, $pad:tt) $body:block) => {
        $(#[$m])*
        #[cfg(relay_rs_kernel = "6.12")]
        unsafe extern "C" fn $name(
            $buf: *mut $crate::bindings::rchan_buf,
            $subbuf: *mut core::ffi::c_void,
            $prev: *mut core::ffi::c_void,
            $pad: usize,
        ) -> core::ffi::c_int $body
        $(#[$m])*
        #[cfg(relay_rs_kernel = "7.3")]
        unsafe extern "C" fn $name(
            $buf: *mut $crate::bindings::rchan_buf,
            $subbuf: *mut core::ffi::c_void,
            $prev: *mut core::ffi::c_void,
        ) -> core::ffi::c_int {
            // SAFETY: a live buffer, passed to its `subbuf_start`.
            #[allow(unused_variables)]
            let $pad = unsafe { $crate::channel::api::relay_rs_buf_prev_padding($buf) };
            $body
        }
    };
}
#[cfg(CONFIG_KUNIT)]
pub(crate) use subbuf_start_callback;
