// SPDX-License-Identifier: GPL-2.0

//! Client callbacks: the [`Callbacks`] trait a client implements,
//! [`SubbufStart`] (what its `subbuf_start` sees and may do), and the C
//! trampolines and callback table relay_rs calls them through.

use super::raw::{
    relay_rs_buf_cpu, relay_rs_buf_full, relay_rs_buf_private_data,
    relay_rs_create_buf_file_default, relay_rs_subbuf_start_reserve, RawBuf, RawCallbacks,
};
use core::marker::PhantomData;
use kernel::ffi::{c_char, c_int, c_void};

/// Client callbacks. Every method has relay's default behaviour.
pub trait Callbacks: Sized + 'static {
    /// Per-channel data, reachable from the callbacks.
    type Data: Send + Sync;

    /// One buffer shared by all CPUs instead of one per CPU.
    const GLOBAL: bool = false;

    /// A lockless channel (`RELAY_RS_LOCKLESS` in `relay_rs.h`):
    /// [`Channel::write`](super::Channel::write) and
    /// [`Channel::reserve`](super::Channel::reserve) work from any context,
    /// NMI included, with writers of one CPU nesting, and a global
    /// channel's writers of all CPUs take no lock (nor does its flush). It
    /// never overwrites and never calls [`Callbacks::subbuf_start`]; it has
    /// no [`Producer`](super::Producer) ([`Channel::producer`](super::Channel::producer)
    /// is `None`). A zero-length record is not stored (not counted, not
    /// lost). Every record takes relay_rs' out-of-line lockless path.
    const LOCKLESS: bool = false;

    /// May the producer start a new sub-buffer? Returning false drops the
    /// record (counted as lost). Default: only when the buffer is not full
    /// (no-overwrite mode); return true always for overwrite mode.
    fn subbuf_start(switch: &mut SubbufStart<'_, Self>) -> bool {
        !switch.is_full()
    }
}

/// relay's defaults: per-CPU, no-overwrite, no data.
pub struct Defaults;

impl Callbacks for Defaults {
    type Data = ();
}

/// A sub-buffer switch, as seen by [`Callbacks::subbuf_start`].
pub struct SubbufStart<'a, T: Callbacks> {
    buf: *mut RawBuf,
    subbuf: *mut u8,
    first: bool,
    /// 6.12 passes it; on 7.3 relay_rs tells it, asked only if wanted.
    #[cfg(relay_rs_kernel = "6.12")]
    prev_padding: usize,
    _p: PhantomData<&'a T::Data>,
}

impl<'a, T: Callbacks> SubbufStart<'a, T> {
    /// Are all sub-buffers of this buffer produced and unread?
    pub fn is_full(&self) -> bool {
        // SAFETY: a live buffer during its callback.
        unsafe { relay_rs_buf_full(self.buf) != 0 }
    }

    /// The channel's data.
    pub fn data(&self) -> &'a T::Data {
        // SAFETY: `private_data` is the channel's `T::Data`, which outlives
        // the channel's buffers' callbacks (see `Channel`).
        unsafe { &*relay_rs_buf_private_data(self.buf).cast::<T::Data>() }
    }

    /// The CPU of the buffer (0 for a global buffer).
    pub fn cpu(&self) -> u32 {
        // SAFETY: a live buffer during its callback.
        unsafe { relay_rs_buf_cpu(self.buf) }
    }

    /// Is this the first sub-buffer (at open or reset)?
    pub fn is_first(&self) -> bool {
        self.first
    }

    /// Unused bytes at the end of the previous sub-buffer.
    pub fn prev_padding(&self) -> usize {
        #[cfg(relay_rs_kernel = "6.12")]
        let p = self.prev_padding;
        // SAFETY: a live buffer, from inside its `subbuf_start`.
        #[cfg(relay_rs_kernel = "7.3")]
        let p = unsafe { super::raw::relay_rs_buf_prev_padding(self.buf) };
        p
    }

    /// Reserves a header of `len` bytes at the start of the new sub-buffer
    /// and returns it to fill; `None` if it would leave no room for data.
    /// Only meaningful when the callback returns true.
    pub fn reserve_header(&mut self, len: usize) -> Option<&mut [u8]> {
        // SAFETY: a live buffer, from inside its `subbuf_start`.
        if unsafe { relay_rs_subbuf_start_reserve(self.buf, len) } != 0 {
            return None;
        }
        // SAFETY: relay_rs accepted the header, so the new sub-buffer holds
        // more than `len` bytes; its producer (the caller) owns them.
        Some(unsafe { core::slice::from_raw_parts_mut(self.subbuf, len) })
    }
}

/// The `subbuf_start` trampoline for `T`.
///
/// # Safety
///
/// Called by relay_rs with a live buffer of a `Channel<T>`.
#[cfg(relay_rs_kernel = "6.12")]
unsafe extern "C" fn subbuf_start_tramp<T: Callbacks>(
    buf: *mut RawBuf,
    subbuf: *mut c_void,
    prev: *mut c_void,
    prev_padding: usize,
) -> c_int {
    let mut s = SubbufStart::<T> {
        buf,
        subbuf: subbuf.cast(),
        first: prev.is_null(),
        prev_padding,
        _p: PhantomData,
    };
    c_int::from(T::subbuf_start(&mut s))
}

/// The `subbuf_start` trampoline for `T` (7.3's passes no `prev_padding`:
/// [`SubbufStart::prev_padding`] asks relay_rs, when called, which keeps
/// the call off the switches of callbacks that do not ask).
///
/// # Safety
///
/// Called by relay_rs with a live buffer of a `Channel<T>`.
#[cfg(relay_rs_kernel = "7.3")]
unsafe extern "C" fn subbuf_start_tramp<T: Callbacks>(
    buf: *mut RawBuf,
    subbuf: *mut c_void,
    prev: *mut c_void,
) -> c_int {
    let mut s = SubbufStart::<T> {
        buf,
        subbuf: subbuf.cast(),
        first: prev.is_null(),
        _p: PhantomData,
    };
    c_int::from(T::subbuf_start(&mut s))
}

/// `create_buf_file` of a global channel: relay_rs' default file, one buffer.
///
/// # Safety
///
/// Called by relay_rs with the arguments of `create_buf_file`.
// `inline` so that, although the public `Channel::open` reaches it through
// `VTable`, it is emitted only in the clients whose global channel's table
// points to it, as the generic `subbuf_start_tramp` is.
#[inline]
unsafe extern "C" fn create_global_tramp(
    filename: *const c_char,
    parent: *mut c_void,
    mode: u16,
    buf: *mut RawBuf,
    is_global: *mut c_int,
) -> *mut c_void {
    // SAFETY: relay_rs passes a writable `is_global`.
    unsafe { *is_global = 1 };
    // SAFETY: forwarding relay_rs' own arguments to its default.
    unsafe { relay_rs_create_buf_file_default(filename, parent, mode, buf, is_global) }
}

/// The callback table of `T`.
pub(super) struct VTable<T>(PhantomData<T>);

impl<T: Callbacks> VTable<T> {
    const TABLE: RawCallbacks = RawCallbacks {
        // A lockless channel decides its switches itself (and refuses a
        // `subbuf_start`).
        subbuf_start: if T::LOCKLESS {
            None
        } else {
            Some(subbuf_start_tramp::<T>)
        },
        create_buf_file: if T::GLOBAL {
            Some(create_global_tramp)
        } else {
            None
        },
        remove_buf_file: None,
        buf_mapped: None,
        buf_unmapped: None,
    };

    pub(super) const fn table() -> &'static RawCallbacks {
        &Self::TABLE
    }
}
