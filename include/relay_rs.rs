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

use core::{
    marker::PhantomData,
    ptr::{addr_of_mut, NonNull},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    sync::lock::{spinlock::SpinLockBackend, Guard},
};

/// C `struct rchan`: the fields up to `buf`, which the inline write paths
/// read (the layout of `include/relay_rs.h`, checked against it at build
/// time inside relay_rs).
#[repr(C)]
pub(crate) struct RawChan {
    version: u32,
    subbuf_size: usize,
    n_subbufs: usize,
    alloc_size: usize,
    cb: *const RawCallbacks,
    kref: kernel::bindings::kref,
    private_data: *mut c_void,
    last_toobig: usize,
    /// `struct rchan_buf * __percpu *`: this CPU's buffer pointer is at
    /// this address plus the CPU's per-CPU offset.
    buf: *mut *mut RawBuf,
    // Further fields are not accessed from here.
}

/// C `struct rchan_buf`, through relay_rs' two own fields at its end (the
/// layout of `include/relay_rs.h`, checked at build time inside relay_rs).
#[repr(C)]
pub(crate) struct RawBuf {
    start: *mut u8,
    /// Never NULL in a live buffer (it points into the ring), which lets
    /// the compiler drop NULL checks of the slots derived from it.
    data: NonNull<u8>,
    offset: usize,
    subbufs_produced: usize,
    subbufs_consumed: usize,
    chan: *mut RawChan,
    read_wait: kernel::bindings::wait_queue_head,
    /// `struct irq_work`: a `struct __call_single_node`, a function pointer
    /// and a `struct rcuwait` on 64-bit.
    wakeup_work: [usize; 4],
    dentry: *mut c_void,
    kref: kernel::bindings::kref,
    page_array: *mut c_void,
    page_count: u32,
    finalized: u32,
    padding: *mut usize,
    prev_padding: usize,
    bytes_consumed: usize,
    early_bytes: usize,
    cpu: u32,
    committed: usize,
    records: usize,
}

/// Counts one more record in `buf` (`buf->records`), with release: who
/// sees the count sees the start count relay_rs stored for the sub-buffer.
///
/// # Safety
///
/// `buf` is an open channel's buffer and the caller is its producer.
#[inline(always)]
unsafe fn count_record(buf: *mut RawBuf) {
    // SAFETY: an aligned field of a live buffer (caller contract); only
    // its producer writes it, consumers read it atomically.
    let records = unsafe { AtomicUsize::from_ptr(addr_of_mut!((*buf).records)) };
    records.store(
        records.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

/// Offsets of the fields the inline write paths use: `rchan.subbuf_size`,
/// `rchan.buf`, `rchan_buf.data`, `.offset`, `.committed`, `.records`
/// (relay_rs checks them against the C header at build time).
pub(crate) const RAW_OFFSETS: [usize; 6] = [
    core::mem::offset_of!(RawChan, subbuf_size),
    core::mem::offset_of!(RawChan, buf),
    core::mem::offset_of!(RawBuf, data),
    core::mem::offset_of!(RawBuf, offset),
    core::mem::offset_of!(RawBuf, committed),
    core::mem::offset_of!(RawBuf, records),
];

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
    fn relay_rs_make_room(buf: *mut RawBuf, length: usize) -> c_int;
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

/// Local interrupts disabled on this CPU until drop (`local_irq_save()`),
/// which also pins the task to the CPU.
pub(crate) struct IrqsDisabled {
    flags: usize,
    _not_send: PhantomData<*mut ()>,
}

// SAFETY: interrupts, hence preemption, stay off until the guard drops.
unsafe impl PinsCpu for IrqsDisabled {}

/// The inline parts of `local_irq_save()`, `local_irq_restore()` and
/// `this_cpu_read()` that the write fast paths need. Rust cannot inline the
/// kernel's C inline functions, so on x86-64 (native, not Xen PV, whose
/// paravirt operations are not the native instructions) they are written
/// out here; elsewhere relay_rs' exported copies are called.
pub(crate) mod arch {
    use super::{RawBuf, RawChan};

    #[cfg(all(target_arch = "x86_64", not(CONFIG_XEN_PV)))]
    mod imp {
        use super::{RawBuf, RawChan};
        use core::arch::asm;

        /// `X86_EFLAGS_IF`.
        const IF: usize = 1 << 9;

        pub(crate) fn irq_save() -> usize {
            let flags: usize;
            // SAFETY: reads EFLAGS and clears IF, exactly as the kernel's
            // `native_save_fl()` plus `native_irq_disable()`; the compiler
            // must not move memory accesses across it (no `nomem`).
            unsafe { asm!("pushfq", "pop {}", "cli", out(reg) flags) };
            flags
        }

        /// # Safety
        ///
        /// `flags` came from the matching [`irq_save`] on this CPU, and
        /// every section that disabled interrupts since has ended.
        pub(crate) unsafe fn irq_restore(flags: usize) {
            if flags & IF != 0 {
                // SAFETY: re-enables interrupts that the matching
                // `irq_save` found enabled (caller contract), as
                // `arch_local_irq_restore()` does.
                unsafe { asm!("sti", options(nostack)) };
            }
        }

        /// This CPU's buffer of `chan`: `this_cpu_read(*chan->buf)`, one
        /// `%gs`-relative load where `*this_cpu_ptr(chan->buf)` takes two
        /// (x86-64 per-CPU data is `%gs`-relative with a zero-based section
        /// in 6.12).
        ///
        /// # Safety
        ///
        /// `chan` is an open channel; the caller is pinned to its CPU.
        pub(crate) unsafe fn this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf {
            // SAFETY: `chan` is an open channel (caller contract).
            let slot = unsafe { (*chan).buf };
            let buf: *mut RawBuf;
            // SAFETY: `slot` is an open channel's per-CPU pointer, whose copy
            // for this CPU holds this CPU's buffer while the channel is open.
            unsafe {
                asm!(
                    "mov {}, qword ptr gs:[{}]",
                    out(reg) buf,
                    in(reg) slot,
                    options(nostack, readonly, preserves_flags)
                )
            };
            buf
        }
    }

    #[cfg(not(all(target_arch = "x86_64", not(CONFIG_XEN_PV))))]
    mod imp {
        use super::{RawBuf, RawChan};

        extern "C" {
            fn relay_rs_local_irq_save() -> usize;
            fn relay_rs_local_irq_restore(flags: usize);
            fn relay_rs_this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf;
        }

        pub(crate) fn irq_save() -> usize {
            // SAFETY: no preconditions.
            unsafe { relay_rs_local_irq_save() }
        }

        /// # Safety
        ///
        /// `flags` came from the matching [`irq_save`] on this CPU, and
        /// every section that disabled interrupts since has ended.
        pub(crate) unsafe fn irq_restore(flags: usize) {
            // SAFETY: forwarded caller contract.
            unsafe { relay_rs_local_irq_restore(flags) }
        }

        /// # Safety
        ///
        /// `chan` is an open channel; the caller is pinned to its CPU.
        pub(crate) unsafe fn this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf {
            // SAFETY: forwarded caller contract.
            unsafe { relay_rs_this_cpu_buf(chan) }
        }
    }

    pub(crate) use imp::*;
}

impl IrqsDisabled {
    /// Disables local interrupts (`local_irq_save()`).
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            flags: arch::irq_save(),
            _not_send: PhantomData,
        }
    }
}

impl Drop for IrqsDisabled {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: `flags` came from `irq_save` in `new` on this CPU (the
        // guard is not `Send`), and guards drop in reverse order of creation.
        unsafe { arch::irq_restore(self.flags) };
    }
}

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
    #[inline]
    pub(crate) fn write(&self, data: &[u8]) {
        let mut irqs = IrqsDisabled::new();
        self.write_pinned(&mut irqs, data);
    }

    /// Writes one record to the current CPU's buffer (`__relay_write()`),
    /// for a caller that already keeps the CPU and never writes to this
    /// channel from interrupt context; a record that does not fit is
    /// dropped and counted.
    #[inline]
    pub(crate) fn write_pinned(&self, _pinned: &mut impl PinsCpu, data: &[u8]) {
        // SAFETY: an open channel (invariant), and `_pinned` keeps us on
        // this CPU with its buffer's other producers held off.
        let buf = unsafe { arch::this_cpu_buf(self.raw) };
        // SAFETY: an open channel's buffer, of which we are the producer
        // (see above); `subbuf_size` never changes.
        unsafe {
            let mut offset = (*buf).offset;
            // No overflow: `offset` is at most `subbuf_size + 1 <= 2^32` and
            // a slice is at most `isize::MAX` bytes.
            let mut end = offset.wrapping_add(data.len());
            if end > (*self.raw).subbuf_size {
                // A switch, or the record is dropped (and counted).
                if relay_rs_make_room(buf, data.len()) == 0 {
                    return;
                }
                offset = (*buf).offset;
                end = offset.wrapping_add(data.len());
            }
            // The record fits the current sub-buffer: the inline write path
            // of include/relay_rs.h, in Rust.
            core::ptr::copy_nonoverlapping(
                data.as_ptr(),
                (*buf).data.as_ptr().add(offset),
                data.len(),
            );
            // The bytes first, then the offset that makes them readable.
            AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
            count_record(buf);
        }
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
        // SAFETY: an open channel (invariant), and `_pinned` keeps us on
        // this CPU with its buffer's other producers held off.
        let buf = unsafe { arch::this_cpu_buf(self.raw) };
        // SAFETY: an open channel's buffer, of which we are the producer;
        // the slot is inside its current sub-buffer (it fit, or
        // `relay_rs_make_room` made room).
        let p = unsafe {
            let mut offset = (*buf).offset;
            if !offset
                .checked_add(len)
                .is_some_and(|end| end <= (*self.raw).subbuf_size)
            {
                // A switch, or the record is dropped (and counted).
                if relay_rs_make_room(buf, len) == 0 {
                    return None;
                }
                offset = (*buf).offset;
            }
            // `make_room` succeeded or the record fit: no overflow.
            let end = offset.wrapping_add(len);
            count_record(buf);
            // Everything before the slot is filled: readable. Then the
            // offset, after `committed` (release).
            AtomicUsize::from_ptr(addr_of_mut!((*buf).committed)).store(offset, Ordering::Release);
            AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
            (*buf).data.as_ptr().add(offset)
        };
        // SAFETY: relay_rs reserved `len` bytes for this producer; the CPU
        // cannot change (nor another producer of this buffer run) while
        // `_pinned` is borrowed, which bounds the slice's lifetime.
        Some(unsafe { core::slice::from_raw_parts_mut(p, len) })
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
