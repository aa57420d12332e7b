// SPDX-License-Identifier: GPL-2.0

//! The C side as the Rust API sees it: the layout of `struct rchan`,
//! `struct rchan_buf` and `struct rchan_callbacks` of the kernel it is
//! built against (`cfg(relay_rs_kernel)`, from `kernel.mk`) as far as the
//! inline write paths use them (checked against `include/relay_rs.h` at build time
//! inside relay_rs), the protocol's constants and fit rule, and the
//! functions `relay_rs.ko` exports.

use core::{
    ptr::{addr_of_mut, NonNull},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::ffi::{c_char, c_int, c_void};

/// C `struct rchan`: the fields up to `buf`, which the inline write paths
/// read (the layout of `include/relay_rs.h`, checked against it at build
/// time inside relay_rs).
// Fields the inline paths do not use are here for the layout only.
#[allow(dead_code)]
#[repr(C)]
pub struct RawChan {
    version: u32,
    pub(super) subbuf_size: usize,
    n_subbufs: usize,
    alloc_size: usize,
    cb: *const RawCallbacks,
    kref: kernel::bindings::kref,
    private_data: *mut c_void,
    #[cfg(relay_rs_kernel = "6.12")]
    last_toobig: usize,
    /// `struct rchan_buf * __percpu *`: this CPU's buffer pointer is at
    /// this address plus the CPU's per-CPU offset.
    pub(super) buf: *mut *mut RawBuf,
    // Further fields are not accessed from here.
}

/// C `struct rchan_buf`, through relay_rs' two own fields at its end (the
/// layout of `include/relay_rs.h`, checked at build time inside relay_rs).
// Fields the inline paths do not use are here for the layout only.
#[allow(dead_code)]
#[repr(C)]
pub struct RawBuf {
    start: *mut u8,
    /// Never NULL in a live buffer (it points into the ring), which lets
    /// the compiler drop NULL checks of the slots derived from it.
    pub(super) data: NonNull<u8>,
    pub(super) offset: usize,
    subbufs_produced: usize,
    subbufs_consumed: usize,
    chan: *mut RawChan,
    read_wait: kernel::bindings::wait_queue_head,
    /// `struct irq_work`: a `struct __call_single_node`, a function pointer
    /// and a `struct rcuwait` on 64-bit.
    wakeup_work: [usize; 4],
    dentry: *mut c_void,
    kref: kernel::bindings::kref,
    /// 7.3's `struct rchan_buf_stats`: `full_count`, `big_count`.
    #[cfg(relay_rs_kernel = "7.3")]
    stats: [u32; 2],
    page_array: *mut c_void,
    page_count: u32,
    finalized: u32,
    padding: *mut usize,
    #[cfg(relay_rs_kernel = "6.12")]
    prev_padding: usize,
    bytes_consumed: usize,
    early_bytes: usize,
    cpu: u32,
    pub(super) committed: usize,
    pub(super) records: usize,
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
pub(super) unsafe fn count_record(buf: *mut RawBuf) {
    // SAFETY: an aligned field of a live buffer (caller contract); only
    // its producer writes it, consumers read it atomically.
    let records = unsafe { AtomicUsize::from_ptr(addr_of_mut!((*buf).records)) };
    records.store(
        records.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

/// Where the fields the inline write paths use are, as this mirror lays
/// them out (relay_rs checks each against the C header at build time).
pub struct Offsets {
    /// `rchan.subbuf_size`.
    pub subbuf_size: usize,
    /// `rchan.buf`.
    pub buf: usize,
    /// `rchan_buf.data`.
    pub data: usize,
    /// `rchan_buf.offset`.
    pub offset: usize,
    /// `rchan_buf.committed`.
    pub committed: usize,
    /// `rchan_buf.records`.
    pub records: usize,
}

/// The mirror's [`Offsets`].
pub const OFFSETS: Offsets = Offsets {
    subbuf_size: core::mem::offset_of!(RawChan, subbuf_size),
    buf: core::mem::offset_of!(RawChan, buf),
    data: core::mem::offset_of!(RawBuf, data),
    offset: core::mem::offset_of!(RawBuf, offset),
    committed: core::mem::offset_of!(RawBuf, committed),
    records: core::mem::offset_of!(RawBuf, records),
};

/// C `subbuf_start`: 6.12's passes `prev_padding`.
#[cfg(relay_rs_kernel = "6.12")]
pub(super) type SubbufStartFn =
    unsafe extern "C" fn(*mut RawBuf, *mut c_void, *mut c_void, usize) -> c_int;
/// C `subbuf_start`: 7.3's has three arguments.
#[cfg(relay_rs_kernel = "7.3")]
pub(super) type SubbufStartFn =
    unsafe extern "C" fn(*mut RawBuf, *mut c_void, *mut c_void) -> c_int;

/// C `struct rchan_callbacks` (relay_rs' layout: the kernel's three, then
/// the two mapping callbacks of the original 2.6-era relay API).
#[repr(C)]
pub(super) struct RawCallbacks {
    pub(super) subbuf_start: Option<SubbufStartFn>,
    pub(super) create_buf_file: Option<
        unsafe extern "C" fn(
            *const c_char,
            *mut c_void,
            u16,
            *mut RawBuf,
            *mut c_int,
        ) -> *mut c_void,
    >,
    pub(super) remove_buf_file: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    pub(super) buf_mapped: Option<unsafe extern "C" fn(*mut RawBuf, *mut c_void)>,
    pub(super) buf_unmapped: Option<unsafe extern "C" fn(*mut RawBuf, *mut c_void)>,
}

/// Records refused because the buffer was full.
pub const STATS_BUF_FULL: c_int = 1 << 0;
/// Records bigger than a sub-buffer.
pub const STATS_WRT_BIG: c_int = 1 << 1;
/// Unread records overwritten (overwrite mode).
pub const STATS_OVERWRITTEN: c_int = 1 << 2;

/// The longest delivery interval, in milliseconds (an hour):
/// `RELAY_RS_MAX_DELIVERY_MS`.
pub const MAX_DELIVERY_MS: u32 = 3_600_000;

/// `RELAY_RS_NO_RESERVATION`: `committed` when no reservation is pending.
pub const NO_RESERVATION: usize = usize::MAX;
/// What marks a [`Reservation`](super::Reservation) not committed yet:
/// `committed` is `offset + UNCOMMITTED` (relay_rs' `ring::UNCOMMITTED`);
/// no switch happens while it is marked.
pub const UNCOMMITTED: usize = (1 << (usize::BITS - 1)) | (1 << (usize::BITS - 2));

/// Does a record of `length` bytes fit at `offset` of a sub-buffer of
/// `subbuf_size` bytes? Exactly relay_rs' `ring::fits`, the rule of every
/// write path: a sum that overflows does not fit. For
/// [`Producer::reserve`](super::Producer::reserve), whose length is any
/// `usize`.
#[inline(always)]
pub const fn fits(offset: usize, length: usize, subbuf_size: usize) -> bool {
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
pub const fn fits_slice(offset: usize, length: usize, subbuf_size: usize) -> bool {
    if cfg!(target_pointer_width = "64") {
        offset.wrapping_add(length) <= subbuf_size
    } else {
        fits(offset, length, subbuf_size)
    }
}

/// `RELAY_RS_LOCKLESS`: `relay_rs_open_flags()`'s lockless channel.
pub(super) const LOCKLESS: u32 = 1;

extern "C" {
    pub(super) fn relay_rs_open_flags(
        base_filename: *const c_char,
        parent: *mut c_void,
        subbuf_size: usize,
        n_subbufs: usize,
        cb: *const RawCallbacks,
        private_data: *mut c_void,
        flags: u32,
    ) -> *mut RawChan;
    pub(super) fn relay_rs_write_slow(buf: *mut RawBuf, data: *const c_void, length: usize);
    pub(super) fn relay_rs_lockless_reserve(
        buf: *mut RawBuf,
        length: usize,
        slot: *mut usize,
    ) -> *mut c_void;
    pub(super) fn relay_rs_lockless_commit(buf: *mut RawBuf, slot: usize);
    pub(super) fn relay_rs_close(chan: *mut RawChan);
    pub(super) fn relay_rs_flush(chan: *mut RawChan);
    pub(super) fn relay_rs_reset(chan: *mut RawChan);
    pub(super) fn relay_rs_make_room(buf: *mut RawBuf, length: usize) -> c_int;
    pub(super) fn relay_rs_make_room_checked(buf: *mut RawBuf, length: usize) -> c_int;
    pub(super) fn relay_rs_stats(chan: *mut RawChan, flags: c_int) -> usize;
    pub(super) fn relay_rs_set_delivery_interval(chan: *mut RawChan, msecs: u32) -> c_int;
    pub(super) fn relay_rs_buf_full(buf: *mut RawBuf) -> c_int;
    pub(super) fn relay_rs_subbuf_start_reserve(buf: *mut RawBuf, length: usize) -> c_int;
    pub(super) fn relay_rs_buf_private_data(buf: *mut RawBuf) -> *mut c_void;
    pub(super) fn relay_rs_buf_cpu(buf: *mut RawBuf) -> u32;
    #[cfg_attr(relay_rs_kernel = "6.12", allow(dead_code))]
    pub(super) fn relay_rs_buf_prev_padding(buf: *mut RawBuf) -> usize;
    pub(super) fn relay_rs_this_cpu() -> u32;
    pub(super) fn relay_rs_raw_spin_lock_init(lock: *mut kernel::bindings::raw_spinlock);
    pub(super) fn relay_rs_raw_spin_lock(lock: *mut kernel::bindings::raw_spinlock);
    pub(super) fn relay_rs_raw_spin_unlock(lock: *mut kernel::bindings::raw_spinlock);
    pub(super) fn relay_rs_create_buf_file_default(
        filename: *const c_char,
        parent: *mut c_void,
        mode: u16,
        buf: *mut RawBuf,
        is_global: *mut c_int,
    ) -> *mut c_void;
}
