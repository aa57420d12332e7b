// SPDX-License-Identifier: GPL-2.0

//! Safe Rust API of relay_rs, for Rust modules that log through it.
//!
//! A Rust module cannot link another module's crate, so include this file
//! (`#[path = ".../include/relay_rs.rs"] mod relay_rs;`); it declares the
//! functions `relay_rs.ko` exports and wraps them in safe types. relay_rs'
//! own KUnit suite uses the same file.
//!
//! # The rules, as the types enforce them
//!
//! - [`Channel::write`] copies one record into the current CPU's buffer
//!   from any context but NMI (interrupts off around it), inside a
//!   [`Producer`] too. On a global channel (`Callbacks::GLOBAL`) every CPU
//!   shares one buffer, so the wrapper serialises its writers with a
//!   spinlock of its own, taken with interrupts off: relay leaves that to
//!   the clients of global channels (a rule safe code could break); here
//!   no safe code can write a global buffer from two CPUs at once. A write
//!   from inside this CPU's own holder of the lock (its `Producer`, or a
//!   `subbuf_start` its write reached) goes on under that holding.
//! - Reserving a slot to fill in place takes a [`Producer`]: interrupts
//!   off on this CPU (and the global lock), for as long as it lives. There
//!   is at most one per buffer: [`Channel::producer`] returns `None` when
//!   interrupts were already off (a hard interrupt handler, under
//!   `spin_lock_irqsave`, or inside another `Producer`); use `write` there.
//!   A [`Reservation`] borrows its producer mutably, so one producer has
//!   at most one live reservation.
//! - A [`Reservation`] is marked uncommitted in the buffer until it drops,
//!   which commits it: readers see its bytes from then on, and relay_rs
//!   makes no sub-buffer switch while it lives (a `write` of the same CPU
//!   that needs one meanwhile is dropped and counted as full), so nothing
//!   exposes or overwrites a slot being filled.
//! - A `subbuf_start` callback that writes to its own channel gets its
//!   records dropped and counted instead of a nested switch.
//! - Every record counts: a zero-length one too (it is stored, with no
//!   bytes); a record bigger than a sub-buffer (or than what a header left
//!   free) is lost as [`STATS_WRT_BIG`], one refused because the buffer is
//!   full (or by the commit rule) as [`STATS_BUF_FULL`]; `subbuf_start` is
//!   asked again for each record while it refuses. [`Channel::lost`] sums
//!   the reasons its flags name.
//! - A global channel has one file, `<base>0`; a per-CPU one `<base><cpu>`
//!   for each CPU; both a `<base>.stats`. Files go in the debugfs root.
//! - PREEMPT_RT kernels are refused at build time: there spinlocks sleep
//!   and interrupts-off sections are not what pins the CPU here.
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
//! typed private data, filled in place with `reserve`:
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
//! if let Some(mut producer) = chan.producer() {
//!     if let Some(mut slot) = producer.reserve(16) {
//!         slot.copy_from_slice(&[0u8; 16]);
//!     }; // committed here (the `;` ends the borrow, edition 2021)
//! } // interrupts back on, global lock released
//! ```
//!
//! What the borrow checker refuses (relay_rs' `make test` builds these and
//! expects them to fail, `tests/compile-fail/`): two live reservations of
//! one producer, a reservation that outlives its producer, a producer sent
//! to another CPU.

#![allow(dead_code)]

use core::{
    marker::PhantomData,
    ptr::{addr_of_mut, NonNull},
    sync::atomic::{AtomicU32, AtomicUsize, Ordering},
};
use kernel::{
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
    sync::{
        lock::{spinlock::SpinLockBackend, Guard},
        SpinLock,
    },
};

#[cfg(CONFIG_PREEMPT_RT)]
compile_error!("relay_rs' Rust API does not support PREEMPT_RT (its spinlocks sleep)");

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
/// The last store of a write or a reservation (relay_rs' `buffer/ring.rs`
/// writes the protocol down).
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

/// `RELAY_RS_NO_RESERVATION`: `committed` when no reservation is pending.
pub(crate) const NO_RESERVATION: usize = usize::MAX;
/// What marks a [`Reservation`] not committed yet: `committed` is
/// `offset + UNCOMMITTED` (relay_rs' `ring::UNCOMMITTED`); no switch
/// happens while it is marked.
pub(crate) const UNCOMMITTED: usize = (1 << (usize::BITS - 1)) | (1 << (usize::BITS - 2));

/// Does a record of `length` bytes fit at `offset` of a sub-buffer of
/// `subbuf_size` bytes? Exactly relay_rs' `ring::fits`, the rule of every
/// write path: a sum that overflows does not fit. For [`Producer::reserve`],
/// whose length is any `usize`.
#[inline(always)]
pub(crate) const fn fits(offset: usize, length: usize, subbuf_size: usize) -> bool {
    match offset.checked_add(length) {
        Some(end) => end <= subbuf_size,
        None => false,
    }
}

/// [`fits`] for the length of a slice (at most `isize::MAX`), as the C
/// header's `relay_rs_fits()`: on 64-bit the plain sum of such a length and
/// an offset (at most `subbuf_size + 1 <= 2^32 + 1`, as relay_rs' producers
/// keep it) cannot overflow, so it is exact and costs no overflow check;
/// elsewhere it is [`fits`].
#[inline(always)]
pub(crate) const fn fits_slice(offset: usize, length: usize, subbuf_size: usize) -> bool {
    if cfg!(target_pointer_width = "64") {
        offset.wrapping_add(length) <= subbuf_size
    } else {
        fits(offset, length, subbuf_size)
    }
}

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
    fn relay_rs_make_room_checked(buf: *mut RawBuf, length: usize) -> c_int;
    fn relay_rs_stats(chan: *mut RawChan, flags: c_int) -> usize;
    fn relay_rs_buf_full(buf: *mut RawBuf) -> c_int;
    fn relay_rs_subbuf_start_reserve(buf: *mut RawBuf, length: usize) -> c_int;
    fn relay_rs_buf_private_data(buf: *mut RawBuf) -> *mut c_void;
    fn relay_rs_buf_cpu(buf: *mut RawBuf) -> u32;
    fn relay_rs_this_cpu() -> u32;
    fn relay_rs_create_buf_file_default(
        filename: *const c_char,
        parent: *mut c_void,
        mode: u16,
        buf: *mut RawBuf,
        is_global: *mut c_int,
    ) -> *mut c_void;
}

/// Local interrupts disabled on this CPU until drop (`local_irq_save()`),
/// which also pins the task to the CPU. On kernels that trace IRQ flags
/// (lockdep), lockdep is told, as `local_irq_save()` tells it.
#[must_use = "interrupts are enabled again when the guard drops"]
pub(crate) struct IrqsDisabled {
    flags: usize,
    _not_send: PhantomData<*mut ()>,
}

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

        #[cfg(CONFIG_TRACE_IRQFLAGS)]
        extern "C" {
            fn trace_hardirqs_off();
            fn trace_hardirqs_on();
        }

        /// Were interrupts enabled when `flags` were saved?
        #[inline(always)]
        pub(crate) fn irqs_enabled(flags: usize) -> bool {
            flags & IF != 0
        }

        /// `local_irq_save()`.
        #[inline(always)]
        pub(crate) fn irq_save() -> usize {
            let flags: usize;
            // SAFETY: reads EFLAGS and clears IF, exactly as the kernel's
            // `native_save_fl()` plus `native_irq_disable()`; the compiler
            // must not move memory accesses across it (no `nomem`).
            unsafe { asm!("pushfq", "pop {}", "cli", out(reg) flags) };
            #[cfg(CONFIG_TRACE_IRQFLAGS)]
            if irqs_enabled(flags) {
                // SAFETY: interrupts were just disabled, as the tracer
                // expects (`local_irq_save()` calls it here too).
                unsafe { trace_hardirqs_off() };
            }
            flags
        }

        /// `local_irq_restore()`.
        ///
        /// # Safety
        ///
        /// `flags` came from the matching [`irq_save`] on this CPU, and
        /// every section that disabled interrupts since has ended.
        #[inline(always)]
        pub(crate) unsafe fn irq_restore(flags: usize) {
            if irqs_enabled(flags) {
                // SAFETY: interrupts are about to be enabled, as the tracer
                // expects (`local_irq_restore()` calls it here too).
                #[cfg(CONFIG_TRACE_IRQFLAGS)]
                unsafe {
                    trace_hardirqs_on()
                };
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
        #[inline(always)]
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
            fn relay_rs_irqs_disabled_flags(flags: usize) -> bool;
            fn relay_rs_this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf;
        }

        pub(crate) fn irqs_enabled(flags: usize) -> bool {
            // SAFETY: no preconditions.
            !unsafe { relay_rs_irqs_disabled_flags(flags) }
        }

        /// `local_irq_save()` (traced there, if the kernel traces).
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

    /// Were interrupts enabled before? Then no other `IrqsDisabled` of
    /// this CPU is alive (each keeps them off until it drops).
    #[inline(always)]
    fn outermost(&self) -> bool {
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

/// What a [`Channel`] owns beside the C channel: the client's data, and
/// the lock that serialises the writers of a global channel.
#[pin_data]
struct Shared<T: Callbacks> {
    /// Taken with interrupts off by every writer of a global channel (not
    /// used by per-CPU channels).
    #[pin]
    global: SpinLock<()>,
    /// The CPU that holds `global`, plus one (0: none). Written only by
    /// the holder, while it holds it, with interrupts off: a CPU that reads
    /// its own number here is inside its own holder, which called it.
    owner: AtomicU32,
    data: T::Data,
}

/// The right to produce into a global channel's buffer on this CPU, with
/// interrupts off: its lock taken, or already held by this CPU (a `write`
/// from inside this CPU's own [`Producer`], or from a `subbuf_start` that
/// a write of this CPU reached), or nothing for a per-CPU channel.
struct GlobalLocked<'a> {
    guard: Option<Guard<'a, (), SpinLockBackend>>,
    owner: &'a AtomicU32,
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

/// An open relay channel with callbacks `T` and data `T::Data`; files are
/// created in the debugfs root (none when `base` is `None`).
///
/// # Invariants
///
/// `raw` is an open channel, closed exactly once, on drop;
/// its private data is `shared.data`, which is freed only after the close.
/// If `T::GLOBAL`, every producer of its one buffer holds `shared.global`
/// (or runs inside the holder of its own CPU, which waits for it).
pub(crate) struct Channel<T: Callbacks> {
    raw: *mut RawChan,
    shared: Pin<KBox<Shared<T>>>,
}

// SAFETY: relay_rs channels may be used and closed from any thread, and
// `T::Data` is `Send + Sync`.
unsafe impl<T: Callbacks> Send for Channel<T> {}
// SAFETY: every `&self` method that produces does so as the only producer
// of the buffer it writes: with interrupts off on this CPU for a per-CPU
// buffer, which only this CPU's producers write (relay_rs switches a
// buffer for a flush on its own CPU with interrupts off too), and under
// `shared.global` as well for a global one (type invariant); `reset`
// takes `&mut self`.
unsafe impl<T: Callbacks> Sync for Channel<T> {}

impl<T: Callbacks> Channel<T> {
    /// Opens a channel; `None` as `base` makes a buffer-only channel.
    pub(crate) fn open(
        base: Option<&CStr>,
        subbuf_size: usize,
        n_subbufs: usize,
        data: T::Data,
    ) -> Result<Self> {
        let shared = KBox::pin_init(
            pin_init!(Shared::<T> {
                global <- kernel::new_spinlock!(()),
                owner: AtomicU32::new(0),
                data,
            }),
            GFP_KERNEL,
        )?;
        let name = base.map_or(core::ptr::null(), |b| b.as_char_ptr());
        let private: *const T::Data = &shared.data;
        // SAFETY: `name` is NULL or a C string; the table is static; the
        // private data outlives the channel (closed before `shared` drops).
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
        // INVARIANT: `raw` was just opened with `shared.data` as its
        // private data; producers are made only by
        // `write` and `producer`, which take `shared.global` if `T::GLOBAL`.
        Ok(Self { raw, shared })
    }

    /// The channel's data.
    pub(crate) fn data(&self) -> &T::Data {
        &self.shared.data
    }

    /// The global channel's writers' lock, taken unless this CPU holds it
    /// already (see [`GlobalLocked`]); nothing for a per-CPU channel. The
    /// caller has interrupts off (`_irqs`).
    #[inline(always)]
    fn lock_global(&self, _irqs: &IrqsDisabled) -> GlobalLocked<'_> {
        let owner = &self.shared.owner;
        if !T::GLOBAL {
            return GlobalLocked { guard: None, owner };
        }
        // SAFETY: no preconditions.
        let me = unsafe { relay_rs_this_cpu() }.wrapping_add(1);
        if owner.load(Ordering::Relaxed) == me {
            // Our own holder called us (interrupts are off on this CPU, so
            // nothing else of it runs); it waits for us, and the lock stays
            // its.
            return GlobalLocked { guard: None, owner };
        }
        let guard = self.shared.global.lock();
        owner.store(me, Ordering::Relaxed);
        GlobalLocked {
            guard: Some(guard),
            owner,
        }
    }

    /// Writes one record to the current CPU's buffer (the global one, under
    /// the channel's lock, for a global channel), from any context; a
    /// record that does not fit is dropped and counted.
    #[inline]
    pub(crate) fn write(&self, data: &[u8]) {
        let irqs = IrqsDisabled::new();
        let _global = self.lock_global(&irqs);
        // Inside this CPU's own `Producer` (interrupts were off already),
        // whose reservation may be live: the checked switch. With
        // interrupts on before, no `Producer` of this CPU is alive, nor,
        // for a global buffer, one of another CPU (we hold the lock).
        // SAFETY: an open channel (invariant); interrupts are off, so no
        // other producer writes this CPU's buffer (a global one: we hold its
        // lock, or our paused holder does); the switch is checked as above.
        unsafe {
            let buf = arch::this_cpu_buf(self.raw);
            write_buf(self.raw, buf, data, !irqs.outermost());
        }
    }

    /// The right to produce into the current CPU's buffer (the global one
    /// for a global channel) until it drops: interrupts off, and the
    /// global channel's lock held. `None` if interrupts were off already
    /// (hard interrupt context, a spinlock taken with `_irqsave`, or inside
    /// another producer, of any channel): use [`Channel::write`] there.
    #[inline(always)]
    pub(crate) fn producer(&self) -> Option<Producer<'_, T>> {
        let irqs = IrqsDisabled::new();
        if !irqs.outermost() {
            return None;
        }
        let global = self.lock_global(&irqs);
        // SAFETY: an open channel (invariant); interrupts are off.
        let buf = unsafe { arch::this_cpu_buf(self.raw) };
        // INVARIANT: interrupts were on before `irqs`, so no other
        // `Producer` of this CPU is alive (each keeps them off for its
        // life, and later guards that find them off never turn them on),
        // and nothing else produces into `buf` meanwhile: this CPU's
        // interrupt handlers and relay_rs' flush IPIs wait, and a global
        // buffer's other producers wait for `global`.
        Some(Producer {
            chan: self,
            buf,
            _global: global,
            _irqs: irqs,
        })
    }

    /// Makes partially filled sub-buffers visible to readers (each
    /// buffer's switch runs on its CPU with interrupts off, or under the
    /// lock for a global channel). Process context; may sleep.
    pub(crate) fn flush(&self) {
        if T::GLOBAL {
            // relay_rs takes no lock for a global buffer: its writers' is ours.
            let irqs = IrqsDisabled::new();
            let _global = self.lock_global(&irqs);
            // SAFETY: an open channel (invariant); we are its buffer's only
            // producer now.
            unsafe { relay_rs_flush(self.raw) };
        } else {
            // SAFETY: an open channel (invariant).
            unsafe { relay_rs_flush(self.raw) };
        }
    }

    /// Empties all buffers; nothing may write to the channel meanwhile.
    pub(crate) fn reset(&mut self) {
        // SAFETY: an open channel; `&mut self` keeps every writer out (all
        // of them borrow the channel).
        unsafe { relay_rs_reset(self.raw) };
    }

    /// Records lost for the reasons in `flags` ([`STATS_BUF_FULL`],
    /// [`STATS_WRT_BIG`], [`STATS_OVERWRITTEN`]).
    pub(crate) fn lost(&self, flags: c_int) -> usize {
        // SAFETY: an open channel (invariant).
        unsafe { relay_rs_stats(self.raw, flags) }
    }

    /// The C channel, for APIs this wrapper does not cover (using it to
    /// produce is `unsafe` and must follow the rules above).
    pub(crate) fn as_raw(&self) -> *mut RawChan {
        self.raw
    }
}

impl<T: Callbacks> Drop for Channel<T> {
    fn drop(&mut self) {
        // SAFETY: the channel is open and closed only here (invariant); its
        // buffers' callbacks stop before `shared` is freed after this.
        unsafe { relay_rs_close(self.raw) };
    }
}

/// Writes one record into `buf`: the inline `relay_rs_write_buf()` of
/// `include/relay_rs.h`, store for store (the protocol of relay_rs'
/// `buffer/ring.rs`).
///
/// A switch goes through `relay_rs_make_room_checked` if `checked` (the
/// caller may run while a [`Reservation`] of this buffer is live), else
/// through `relay_rs_make_room` (one comparison less per switch); only the
/// switch looks at `checked`.
///
/// # Safety
///
/// `chan` is an open channel, `buf` one of its buffers, and the caller its
/// only producer until this returns; unless `checked`, no [`Reservation`]
/// of `buf` is live.
#[inline(always)]
unsafe fn write_buf(chan: *mut RawChan, buf: *mut RawBuf, data: &[u8], checked: bool) {
    // SAFETY: an open channel's buffer, of which we are the producer
    // (caller contract); `subbuf_size` never changes.
    unsafe {
        let mut offset = (*buf).offset;
        if !fits_slice(offset, data.len(), (*chan).subbuf_size) {
            // A switch, or the record is dropped (and counted).
            let made = if checked {
                relay_rs_make_room_checked(buf, data.len())
            } else {
                relay_rs_make_room(buf, data.len())
            };
            if made == 0 {
                return;
            }
            offset = (*buf).offset;
        }
        // The record fits the current sub-buffer: no overflow.
        let end = offset.wrapping_add(data.len());
        core::ptr::copy_nonoverlapping(data.as_ptr(), (*buf).data.as_ptr().add(offset), data.len());
        // The bytes first, then the offset that makes them readable.
        AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
        count_record(buf);
    }
}

/// The only producer of one buffer of a [`Channel`] while it lives: local
/// interrupts off (and the channel's lock held, for a global channel).
/// Made by [`Channel::producer`]; not `Send` (it is about this CPU).
///
/// # Invariants
///
/// `buf` is `chan`'s buffer of this CPU (its global buffer), and nothing
/// else produces into it while `self` lives.
#[must_use = "the producer holds interrupts off until it drops"]
pub(crate) struct Producer<'a, T: Callbacks> {
    chan: &'a Channel<T>,
    buf: *mut RawBuf,
    // Dropped in this order: the lock, then interrupts back on.
    _global: GlobalLocked<'a>,
    _irqs: IrqsDisabled,
}

impl<T: Callbacks> Producer<'_, T> {
    /// The CPU this producer runs on.
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: no preconditions.
        unsafe { relay_rs_this_cpu() }
    }

    /// Writes one record (`__relay_write()`: interrupts are off already); a
    /// record that does not fit is dropped and counted.
    #[inline]
    pub(crate) fn write(&mut self, data: &[u8]) {
        // SAFETY: `buf` is the channel's buffer, whose only producer we
        // are (invariant); no reservation of it is live: ours are not
        // (`&mut self`), and no other producer of this CPU exists.
        unsafe { write_buf(self.chan.raw, self.buf, data, false) };
    }

    /// Reserves `len` bytes to fill in place; `None` if the record was
    /// dropped (and counted). Committed when the [`Reservation`] drops;
    /// until then it borrows the producer, so no other reservation or
    /// write goes through it, and relay_rs makes no switch in the buffer.
    #[inline]
    pub(crate) fn reserve(&mut self, len: usize) -> Option<Reservation<'_>> {
        let (chan, buf) = (self.chan.raw, self.buf);
        // SAFETY: an open channel's buffer, of which we are the only
        // producer (invariant), with no live reservation (`&mut self`, and
        // no other producer of this CPU): the unchecked switch.
        unsafe {
            let mut offset = (*buf).offset;
            if !fits(offset, len, (*chan).subbuf_size) {
                // A switch, or the record is dropped (and counted).
                if relay_rs_make_room(buf, len) == 0 {
                    return None;
                }
                offset = (*buf).offset;
            }
            // The record fits the current sub-buffer: no overflow.
            let end = offset.wrapping_add(len);
            // Everything before the slot is filled: readable, and the slot
            // marked uncommitted (no switch until it is). Then the offset
            // (release: who sees it sees `committed`), then the count.
            AtomicUsize::from_ptr(addr_of_mut!((*buf).committed))
                .store(offset.wrapping_add(UNCOMMITTED), Ordering::Release);
            AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
            count_record(buf);
            // INVARIANT: `len` bytes at `offset` of the current sub-buffer,
            // just reserved for us and marked uncommitted.
            Some(Reservation {
                slot: (*buf).data.as_ptr().add(offset),
                len,
                buf,
                _producer: PhantomData,
            })
        }
    }
}

/// A reserved slot, filled through `DerefMut<Target = [u8]>` and committed
/// when dropped: readers see it from then on. A reservation that is leaked
/// (`mem::forget`) is never committed: its buffer then makes no more
/// switches, and every record that needs one is dropped and counted.
///
/// # Invariants
///
/// `slot` is `len` bytes of `buf`'s current sub-buffer reserved by its
/// producer, which the borrow `'p` keeps alive (interrupts off, the only
/// producer), and marked [`UNCOMMITTED`] in `committed`: no switch happens,
/// hence no reader sees or producer rewrites these bytes, until the
/// reservation commits (drops).
#[must_use = "a reservation is committed when it drops"]
pub(crate) struct Reservation<'p> {
    slot: *mut u8,
    len: usize,
    buf: *mut RawBuf,
    _producer: PhantomData<&'p mut ()>,
}

impl core::ops::Deref for Reservation<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts(self.slot, self.len) }
    }
}

impl core::ops::DerefMut for Reservation<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts_mut(self.slot, self.len) }
    }
}

impl Drop for Reservation<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the producer's buffer, alive while `'p` is (invariant).
        let committed = unsafe { AtomicUsize::from_ptr(addr_of_mut!((*self.buf).committed)) };
        // The slot's bytes first (release), then readers and switches go on.
        committed.store(NO_RESERVATION, Ordering::Release);
    }
}
