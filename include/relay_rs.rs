// SPDX-License-Identifier: GPL-2.0

//! Safe Rust API of relay_rs, for Rust modules that log through it.
//!
//! A Rust module cannot link another module's crate, so include this file
//! (`#[path = ".../include/relay_rs.rs"] mod relay_rs;`); it declares the
//! functions `relay_rs.ko` exports and wraps them in safe types. relay_rs'
//! own KUnit suite uses the same file.
//!
//! # Examples
//!
//! A per-CPU channel with relay's defaults (no-overwrite, debugfs files
//! `mylog0`, `mylog1`, ...):
//!
//! ```ignore
//! let chan = relay_rs::Channel::<relay_rs::Defaults>::open(Some(c_str!("mylog")), 16384, 8, ())?;
//! chan.write(b"hello");
//! chan.flush();
//! // Closed when `chan` is dropped.
//! ```
//!
//! A global flight recorder whose callbacks count sub-buffer switches in
//! typed private data, filled under a spinlock with `reserve`:
//!
//! ```ignore
//! struct Recorder;
//! impl relay_rs::Callbacks for Recorder {
//!     type Data = AtomicUsize;
//!     const GLOBAL: bool = true;
//!     fn subbuf_start(switch: &mut relay_rs::SubbufStart<'_, Self>) -> bool {
//!         switch.data().fetch_add(1, Ordering::Relaxed);
//!         true // overwrite the oldest data when full
//!     }
//! }
//! let chan = relay_rs::Channel::<Recorder>::open(Some(c_str!("rec")), 4096, 4, AtomicUsize::new(0))?;
//! let mut guard = lock.lock(); // a SpinLock: preemption is off while it is held
//! if let Some(slot) = chan.reserve(&mut guard, 16) {
//!     slot.copy_from_slice(&[0u8; 16]);
//! }
//! ```

#![allow(dead_code)]

use core::marker::PhantomData;
use kernel::{
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    sync::lock::{spinlock::SpinLockBackend, Guard},
};

/// C `struct rchan`, opaque here.
#[repr(C)]
pub(crate) struct RawChan {
    _opaque: [u8; 0],
}

/// C `struct rchan_buf`, opaque here.
#[repr(C)]
pub(crate) struct RawBuf {
    _opaque: [u8; 0],
}

/// C `struct rchan_callbacks` (relay_rs' layout: 6.12's three, then the
/// seed's two mapping callbacks).
#[repr(C)]
pub(crate) struct RawCallbacks {
    subbuf_start:
        Option<unsafe extern "C" fn(*mut RawBuf, *mut c_void, *mut c_void, usize) -> c_int>,
    create_buf_file: Option<
        unsafe extern "C" fn(
            *const c_char,
            *mut c_void,
            u16,
            *mut RawBuf,
            *mut c_int,
        ) -> *mut c_void,
    >,
    remove_buf_file: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    buf_mapped: Option<unsafe extern "C" fn(*mut RawBuf, *mut c_void)>,
    buf_unmapped: Option<unsafe extern "C" fn(*mut RawBuf, *mut c_void)>,
}

/// Records refused because the buffer was full.
pub(crate) const STATS_BUF_FULL: c_int = 1 << 0;
/// Records bigger than a sub-buffer.
pub(crate) const STATS_WRT_BIG: c_int = 1 << 1;
/// Unread records overwritten (overwrite mode).
pub(crate) const STATS_OVERWRITTEN: c_int = 1 << 2;

extern "C" {
    fn relay_rs_open(
        base_filename: *const c_char,
        parent: *mut c_void,
        subbuf_size: usize,
        n_subbufs: usize,
        cb: *const RawCallbacks,
        private_data: *mut c_void,
    ) -> *mut RawChan;
    fn relay_rs_close(chan: *mut RawChan);
    fn relay_rs_flush(chan: *mut RawChan);
    fn relay_rs_reset(chan: *mut RawChan);
    fn relay_rs_write(chan: *mut RawChan, data: *const c_void, length: usize);
    fn relay_rs_reserve(chan: *mut RawChan, length: usize) -> *mut c_void;
    fn relay_rs_stats(chan: *mut RawChan, flags: c_int) -> usize;
    fn relay_rs_buf_full(buf: *mut RawBuf) -> c_int;
    fn relay_rs_subbuf_start_reserve(buf: *mut RawBuf, length: usize) -> c_int;
    fn relay_rs_buf_private_data(buf: *mut RawBuf) -> *mut c_void;
    fn relay_rs_buf_cpu(buf: *mut RawBuf) -> u32;
    fn relay_rs_create_buf_file_default(
        filename: *const c_char,
        parent: *mut c_void,
        mode: u16,
        buf: *mut RawBuf,
        is_global: *mut c_int,
    ) -> *mut c_void;
}

/// Proof that the current task cannot move to another CPU, as
/// [`Channel::reserve`] needs until the reserved bytes are filled.
///
/// # Safety
///
/// Implementors guarantee that preemption (or interrupts) stay disabled on
/// the current CPU for as long as the value is borrowed.
pub(crate) unsafe trait PinsCpu {}

// SAFETY: a held spinlock keeps preemption disabled (non-PREEMPT_RT kernels,
// which are the only ones relay_rs supports).
unsafe impl<T: ?Sized> PinsCpu for Guard<'_, T, SpinLockBackend> {}

/// Client callbacks. Every method has relay's default behaviour.
pub(crate) trait Callbacks: Sized + 'static {
    /// Per-channel data, reachable from the callbacks.
    type Data: Send + Sync;

    /// One buffer shared by all CPUs instead of one per CPU.
    const GLOBAL: bool = false;

    /// May the producer start a new sub-buffer? Returning false drops the
    /// record (counted as lost). Default: only when the buffer is not full
    /// (no-overwrite mode); return true always for overwrite mode.
    fn subbuf_start(switch: &mut SubbufStart<'_, Self>) -> bool {
        !switch.is_full()
    }
}

/// relay's defaults: per-CPU, no-overwrite, no data.
pub(crate) struct Defaults;

impl Callbacks for Defaults {
    type Data = ();
}

/// A sub-buffer switch, as seen by [`Callbacks::subbuf_start`].
pub(crate) struct SubbufStart<'a, T: Callbacks> {
    buf: *mut RawBuf,
    subbuf: *mut u8,
    first: bool,
    prev_padding: usize,
    _p: PhantomData<&'a T::Data>,
}

impl<'a, T: Callbacks> SubbufStart<'a, T> {
    /// Are all sub-buffers of this buffer produced and unread?
    pub(crate) fn is_full(&self) -> bool {
        // SAFETY: a live buffer during its callback.
        unsafe { relay_rs_buf_full(self.buf) != 0 }
    }

    /// The channel's data.
    pub(crate) fn data(&self) -> &'a T::Data {
        // SAFETY: `private_data` is the channel's `T::Data`, which outlives
        // the channel's buffers' callbacks (see `Channel`).
        unsafe { &*relay_rs_buf_private_data(self.buf).cast::<T::Data>() }
    }

    /// The CPU of the buffer (0 for a global buffer).
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: a live buffer during its callback.
        unsafe { relay_rs_buf_cpu(self.buf) }
    }

    /// Is this the first sub-buffer (at open or reset)?
    pub(crate) fn is_first(&self) -> bool {
        self.first
    }

    /// Unused bytes at the end of the previous sub-buffer.
    pub(crate) fn prev_padding(&self) -> usize {
        self.prev_padding
    }

    /// Reserves a header of `len` bytes at the start of the new sub-buffer
    /// and returns it to fill; `None` if it would leave no room for data.
    /// Only meaningful when the callback returns true.
    pub(crate) fn reserve_header(&mut self, len: usize) -> Option<&mut [u8]> {
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

/// `create_buf_file` of a global channel: relay_rs' default file, one buffer.
///
/// # Safety
///
/// Called by relay_rs with the arguments of `create_buf_file`.
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
struct VTable<T>(PhantomData<T>);

impl<T: Callbacks> VTable<T> {
    const TABLE: RawCallbacks = RawCallbacks {
        subbuf_start: Some(subbuf_start_tramp::<T>),
        create_buf_file: if T::GLOBAL {
            Some(create_global_tramp)
        } else {
            None
        },
        remove_buf_file: None,
        buf_mapped: None,
        buf_unmapped: None,
    };

    const fn table() -> &'static RawCallbacks {
        &Self::TABLE
    }
}

/// An open relay channel with callbacks `T` and data `T::Data`; files are
/// created in the debugfs root (none when `base` is `None`).
///
/// # Invariants
///
/// `raw` is an open channel, closed exactly once, on drop; its private data
/// is `data`, which is freed only after the close.
pub(crate) struct Channel<T: Callbacks> {
    raw: *mut RawChan,
    data: Pin<KBox<T::Data>>,
}

// SAFETY: relay_rs channels may be used and closed from any thread, and
// `T::Data` is `Send + Sync`.
unsafe impl<T: Callbacks> Send for Channel<T> {}
// SAFETY: `write` is safe from any context concurrently (it writes the
// current CPU's buffer with interrupts off); `reset` takes `&mut self`.
unsafe impl<T: Callbacks> Sync for Channel<T> {}

impl<T: Callbacks> Channel<T> {
    /// Opens a channel; `None` as `base` makes a buffer-only channel.
    pub(crate) fn open(
        base: Option<&CStr>,
        subbuf_size: usize,
        n_subbufs: usize,
        data: T::Data,
    ) -> Result<Self> {
        let data = KBox::pin(data, GFP_KERNEL)?;
        let name = base.map_or(core::ptr::null(), |b| b.as_char_ptr());
        let private: *const T::Data = &*data;
        // SAFETY: `name` is NULL or a C string; the table is static; the
        // private data outlives the channel (closed before `data` drops).
        let raw = unsafe {
            relay_rs_open(
                name,
                core::ptr::null_mut(),
                subbuf_size,
                n_subbufs,
                VTable::<T>::table(),
                private.cast_mut().cast(),
            )
        };
        if raw.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `raw` was just opened with `data` as its private data.
        Ok(Self { raw, data })
    }

    /// The channel's data.
    pub(crate) fn data(&self) -> &T::Data {
        &self.data
    }

    /// Writes one record to the current CPU's buffer, from any context; a
    /// record that does not fit is dropped and counted.
    pub(crate) fn write(&self, data: &[u8]) {
        // SAFETY: an open channel (invariant); `data` is readable.
        unsafe { relay_rs_write(self.raw, data.as_ptr().cast(), data.len()) };
    }

    /// Reserves `len` bytes in the current CPU's buffer (the global one for
    /// a global channel) for the caller to fill while `pinned` is held.
    /// `None` if the record was dropped (and counted).
    ///
    /// `pinned` stays mutably borrowed while the slice lives, so no other
    /// reservation through it can wrap the ring onto the slice. Do not hold
    /// two CPU-pinning guards and reserve through both at once.
    pub(crate) fn reserve<'a>(
        &'a self,
        _pinned: &'a mut impl PinsCpu,
        len: usize,
    ) -> Option<&'a mut [u8]> {
        // SAFETY: an open channel (invariant).
        let p = unsafe { relay_rs_reserve(self.raw, len) };
        if p.is_null() {
            return None;
        }
        // SAFETY: relay_rs reserved `len` bytes for this producer; the CPU
        // cannot change (nor another producer of this buffer run) while
        // `_pinned` is borrowed, which bounds the slice's lifetime.
        Some(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), len) })
    }

    /// Makes partially filled sub-buffers visible to readers.
    pub(crate) fn flush(&self) {
        // SAFETY: an open channel (invariant).
        unsafe { relay_rs_flush(self.raw) };
    }

    /// Empties all buffers; nothing may write to the channel meanwhile.
    pub(crate) fn reset(&mut self) {
        // SAFETY: an open channel; `&mut self` keeps this handle's writers out.
        unsafe { relay_rs_reset(self.raw) };
    }

    /// Records lost for the reasons in `flags` ([`STATS_BUF_FULL`],
    /// [`STATS_WRT_BIG`], [`STATS_OVERWRITTEN`]).
    pub(crate) fn lost(&self, flags: c_int) -> usize {
        // SAFETY: an open channel (invariant).
        unsafe { relay_rs_stats(self.raw, flags) }
    }

    /// The C channel, for APIs this wrapper does not cover.
    pub(crate) fn as_raw(&self) -> *mut RawChan {
        self.raw
    }
}

impl<T: Callbacks> Drop for Channel<T> {
    fn drop(&mut self) {
        // SAFETY: the channel is open and closed only here (invariant); its
        // buffers' callbacks stop before `data` is freed after this.
        unsafe { relay_rs_close(self.raw) };
    }
}
