// SPDX-License-Identifier: GPL-2.0

//! The exported C API (`include/relay_rs.h`). Every function here is a thin
//! adapter from raw C arguments to the safe [`Channel`] and [`Buffer`] types.

use super::{callbacks::Callbacks, Channel};
use crate::{
    bindings,
    buffer::{lockless::Slot, Buffer},
    compat::{self, cpu::CpuId},
};
use kernel::ffi::{c_char, c_int, c_void};

/// Creates a relay channel (`relay_open()`).
///
/// Arguments:
/// - `base_filename`: base name of files to create, NULL for buffering only
/// - `parent`: dentry of parent directory, NULL for root directory or buffer
/// - `subbuf_size`: size of sub-buffers
/// - `n_subbufs`: number of sub-buffers
/// - `cb`: client callback functions (NULL, or any entry NULL, for defaults)
/// - `private_data`: user-defined data
///
/// Returns channel pointer if successful, NULL otherwise (with one warning).
///
/// Creates a channel buffer for each online CPU, each with a file named
/// base_filename0...N-1 (mode `S_IRUSR`) unless `base_filename` is NULL.
///
/// # Safety
///
/// `base_filename` is NULL or a C string; `parent` is NULL or a live
/// directory dentry of the filesystem the callbacks create files in (a
/// debugfs directory for the default `create_buf_file`), valid until
/// [`relay_rs_close`]; `cb` is NULL or valid until [`relay_rs_close`], and
/// its functions behave as `include/relay_rs.h` documents.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_open(
    base_filename: *const c_char,
    parent: *mut bindings::dentry,
    subbuf_size: usize,
    n_subbufs: usize,
    cb: *const bindings::rchan_callbacks,
    private_data: *mut c_void,
) -> *mut bindings::rchan {
    // SAFETY: the caller's contract is ours.
    unsafe {
        relay_rs_open_flags(
            base_filename,
            parent,
            subbuf_size,
            n_subbufs,
            cb,
            private_data,
            0,
        )
    }
}

/// Creates a relay channel with options (`relay_rs_open_flags()`).
///
/// As [`relay_rs_open`], with `flags`: 0, or `RELAY_RS_LOCKLESS` for a
/// channel whose writers may run in any context, NMI included, nested on
/// one CPU, and, for a global channel, on all CPUs without a lock. A
/// lockless channel never overwrites and takes no `subbuf_start` callback
/// (-EINVAL: NULL with a warning).
///
/// # Safety
///
/// As for [`relay_rs_open`].
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_open_flags(
    base_filename: *const c_char,
    parent: *mut bindings::dentry,
    subbuf_size: usize,
    n_subbufs: usize,
    cb: *const bindings::rchan_callbacks,
    private_data: *mut c_void,
    flags: u32,
) -> *mut bindings::rchan {
    let base = if base_filename.is_null() {
        None
    } else {
        // SAFETY: a non-NULL `base_filename` is a C string (caller contract).
        Some(unsafe { compat::str::from_char_ptr(base_filename) })
    };
    // SAFETY: `cb` is NULL or valid until close, and behaves as documented
    // (caller contract).
    let cb = unsafe { Callbacks::new(cb) };
    // SAFETY: `parent` is NULL or a live directory dentry of the callbacks'
    // filesystem, valid until close (caller contract).
    match unsafe {
        Channel::open(
            base,
            parent,
            subbuf_size,
            n_subbufs,
            cb,
            private_data,
            flags,
        )
    } {
        Ok(chan) => Channel::into_raw(chan),
        Err(e) => {
            if e != kernel::error::code::EINVAL {
                kernel::pr_warn!("open: failed with error {}\n", e.to_errno());
            }
            core::ptr::null_mut()
        }
    }
}

/// Creates the files of a buffer-only channel (`relay_late_setup_files()`).
///
/// Arguments:
/// - `chan`: channel to operate on
/// - `base_filename`: base name of files to create
/// - `parent`: dentry of parent directory, NULL for root directory
///
/// Returns 0 if successful, -EEXIST if the channel already has files,
/// -EINVAL for bad arguments or if a file could not be created (then no
/// file is left behind and the channel stays buffer-only).
///
/// Use to set up files for a buffer-only channel opened with a NULL
/// base_filename, e.g. once the filesystem is available.
///
/// # Safety
///
/// `chan` is NULL or an open channel; `base_filename` is NULL or a C string;
/// `parent` is NULL or a live directory dentry of the filesystem the
/// channel's callbacks create files in (a debugfs directory for the default
/// `create_buf_file`), valid until [`relay_rs_close`].
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_late_setup_files(
    chan: *mut bindings::rchan,
    base_filename: *const c_char,
    parent: *mut bindings::dentry,
) -> c_int {
    if chan.is_null() || base_filename.is_null() {
        return kernel::error::code::EINVAL.to_errno();
    }
    // SAFETY: a non-NULL `base_filename` is a C string (caller contract).
    let base = unsafe { compat::str::from_char_ptr(base_filename) };
    // SAFETY: an open channel; `parent` is as `late_setup_files` requires
    // (caller contract).
    match unsafe { Channel::borrow(chan).late_setup_files(base, parent) } {
        Ok(()) => 0,
        Err(e) if e == kernel::error::code::EEXIST => e.to_errno(),
        Err(_) => kernel::error::code::EINVAL.to_errno(),
    }
}

/// Closes a channel (`relay_close()`).
///
/// Arguments:
/// - `chan`: the channel
///
/// Closes all channel buffers and removes their files. Buffer memory is
/// freed when the last reader closes its file.
///
/// # Safety
///
/// `chan` is NULL or a channel from [`relay_rs_open`], not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_close(chan: *mut bindings::rchan) {
    if !chan.is_null() {
        // SAFETY: the caller gives up its reference from `relay_rs_open`.
        Channel::close(unsafe { Channel::from_raw(chan) });
    }
}

/// Flushes a channel (`relay_flush()`).
///
/// Arguments:
/// - `chan`: the channel
///
/// Completes the current sub-buffer of every buffer so that readers see it.
///
/// # Safety
///
/// `chan` is NULL or an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_flush(chan: *mut bindings::rchan) {
    if !chan.is_null() {
        // SAFETY: an open channel (caller contract).
        unsafe { Channel::borrow(chan) }.flush();
    }
}

/// Resets a channel (`relay_reset()`).
///
/// Arguments:
/// - `chan`: the channel
///
/// Erases all data from all channel buffers and restarts them. The caller
/// must make sure that nothing writes to the channel meanwhile, and call it
/// from process context: it waits for pending reader wake-ups (as 6.12's
/// `relay_reset()` does), so it may sleep.
///
/// # Safety
///
/// `chan` is NULL or an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_reset(chan: *mut bindings::rchan) {
    if !chan.is_null() {
        // SAFETY: an open channel (caller contract).
        unsafe { Channel::borrow(chan) }.reset();
    }
}

/// Hands sub-buffers of one buffer back (`relay_subbufs_consumed()`).
///
/// Arguments:
/// - `chan`: the channel
/// - `cpu`: the cpu associated with the channel buffer to update
/// - `consumed`: number of sub-buffers to add to current buf's count
///
/// The sub-buffers handed back are those from the current consumed count
/// on; the count never passes the produced count, to which larger counts
/// are clamped (6.12 ignores counts above the number of sub-buffers, so a
/// consumer lapped by more than a ring could never catch up). Sub-buffers
/// the producer overwrote before they were handed back (overwrite mode)
/// are counted in `RELAY_RS_STATS_OVERWRITTEN`: a client that copied them
/// must drop those copies, which the ioctl `RELAY_RS_IOC_CONSUMED` reports
/// and this function, void as in relay.h, does not.
///
/// Context: process context; takes the buffer's reader lock, as every
/// consumer does (consumers account overwritten records as they move).
///
/// # Safety
///
/// `chan` is NULL or an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_subbufs_consumed(
    chan: *mut bindings::rchan,
    cpu: u32,
    consumed: usize,
) {
    if chan.is_null() {
        return;
    }
    // SAFETY: an open channel (caller contract).
    let chan = unsafe { Channel::borrow(chan) };
    if let Some(buf) = CpuId::from_u32(cpu).and_then(|c| chan.buffer(c)) {
        buf.consume_subbufs(consumed);
    }
}

/// Tells whether a buffer is full (`relay_buf_full()`).
///
/// Arguments:
/// - `buf`: channel buffer
///
/// Returns 1 if every sub-buffer is produced and unconsumed, 0 otherwise.
///
/// # Safety
///
/// `buf` is a buffer of an open channel (as passed to a callback).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_buf_full(buf: *mut bindings::rchan_buf) -> c_int {
    // SAFETY: a live buffer (caller contract).
    c_int::from(unsafe { Buffer::from_raw(buf) }.ring().is_full())
}

/// Switches to a new sub-buffer (`relay_switch_subbuf()`).
///
/// Arguments:
/// - `buf`: channel buffer
/// - `length`: size of current event
///
/// Returns either the length passed in or 0 if the event was dropped.
///
/// # Safety
///
/// `buf` is a buffer of an open channel, and the caller is its producer
/// (preemption or interrupts off, or the client's lock for global buffers).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_switch_subbuf(
    buf: *mut bindings::rchan_buf,
    length: usize,
) -> usize {
    // SAFETY: a live buffer (caller contract).
    unsafe { Buffer::from_raw(buf) }.switch_subbuf(length)
}

/// Makes room for a record that does not fit.
///
/// Arguments:
/// - `buf`: the current CPU's buffer (the global one for a global channel)
/// - `length`: size of the record
///
/// The out-of-line part of the inline `relay_rs_write()`, `__relay_rs_write()`
/// and `relay_rs_reserve()`, for a record that does not fit at `buf->offset`:
/// completes the current sub-buffer and starts the next, as
/// `relay_rs_switch_subbuf()` does. Returns 1 when the record now fits at
/// `buf->offset` (the caller writes it and moves the offset, as the inline
/// paths do), 0 when it was dropped (counted: buffer full, or too big).
///
/// # Safety
///
/// `buf` is a buffer of an open channel and the caller is its producer
/// (on its CPU with preemption or interrupts off, or holding the client's
/// lock for a global buffer).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_make_room(
    buf: *mut bindings::rchan_buf,
    length: usize,
) -> c_int {
    // SAFETY: a live buffer whose producer we are (caller contract).
    c_int::from(unsafe { Buffer::from_raw(buf) }.make_room(length, false))
}

/// Writes a record the inline write paths do not (`relay_rs_write_slow()`).
///
/// Arguments:
/// - `buf`: the current CPU's buffer (the global one for a global channel)
/// - `data`: the record
/// - `length`: its size
///
/// The out-of-line part of the inline `relay_rs_write()` and
/// `__relay_rs_write()`: a record that does not fit at `buf->offset`
/// (switches sub-buffers first), or any record of a lockless channel. A
/// record that cannot be written is dropped and counted.
///
/// # Safety
///
/// `buf` is a buffer of an open channel; `data` is valid for reads of
/// `length` bytes; unless the channel is lockless the caller is the
/// buffer's producer (as for [`relay_rs_make_room`]).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_write_slow(
    buf: *mut bindings::rchan_buf,
    data: *const c_void,
    length: usize,
) {
    // SAFETY: a live buffer; `data` readable; the producer unless lockless
    // (caller contract).
    unsafe { Buffer::from_raw(buf).write_slow(data.cast(), length) }
}

/// Reserves a slot the inline `relay_rs_reserve()` does not
/// (`relay_rs_reserve_slow()`).
///
/// Arguments:
/// - `buf`: the current CPU's buffer (the global one for a global channel)
/// - `length`: size of the slot
///
/// For a record that does not fit at `buf->offset`, or any record of a
/// lockless channel. Returns the slot, or NULL if the record was dropped
/// (counted).
///
/// # Safety
///
/// `buf` is a buffer of an open channel; unless the channel is lockless
/// the caller is the buffer's producer (as for [`relay_rs_make_room`]).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_reserve_slow(
    buf: *mut bindings::rchan_buf,
    length: usize,
) -> *mut c_void {
    // SAFETY: a live buffer; the producer unless lockless (caller contract).
    unsafe { Buffer::from_raw(buf).reserve_slow(length) }.cast()
}

/// Reserves a slot of a lockless channel's buffer that its writer commits
/// itself (`relay_rs_lockless_reserve()`).
///
/// Arguments:
/// - `buf`: a buffer of a lockless channel (any context, any CPU)
/// - `length`: size of the slot
/// - `slot`: where to store the slot's handle for `relay_rs_lockless_commit()`
///
/// Returns the slot, or NULL if the record was dropped (counted) or the
/// channel is not lockless (warned).
///
/// # Safety
///
/// `buf` is a buffer of an open channel; `slot` is valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_lockless_reserve(
    buf: *mut bindings::rchan_buf,
    length: usize,
    slot: *mut usize,
) -> *mut c_void {
    // SAFETY: a live buffer (caller contract).
    let buf = unsafe { Buffer::from_raw(buf) };
    let Some((s, addr)) = buf.reserve_lockless(length) else {
        // Asked only once refused: the write path tests for lockless once.
        if !buf.channel().is_lockless() {
            kernel::pr_warn!("lockless_reserve: the channel is not lockless\n");
        }
        return core::ptr::null_mut();
    };
    // SAFETY: writable (caller contract).
    unsafe { slot.write(s.pack()) };
    addr.cast()
}

/// Commits a slot of [`relay_rs_lockless_reserve`]
/// (`relay_rs_lockless_commit()`).
///
/// Arguments:
/// - `buf`: the buffer of the reservation
/// - `slot`: the handle the reservation stored
///
/// # Safety
///
/// `buf` is a buffer of an open channel; `slot` is a handle
/// `relay_rs_lockless_reserve()` stored for `buf` since its channel's last
/// reset, not committed before.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_lockless_commit(
    buf: *mut bindings::rchan_buf,
    slot: usize,
) {
    let Some(s) = Slot::unpack(slot) else {
        return;
    };
    // SAFETY: a live buffer; a slot of its reservation, committed once
    // (caller contract).
    unsafe { Buffer::from_raw(buf).commit_lockless(s) }
}

/// [`relay_rs_make_room`] that may meet a reservation.
///
/// Arguments:
/// - `buf`: the current CPU's buffer (the global one for a global channel)
/// - `length`: size of the record
///
/// As `relay_rs_make_room()`, but refuses the switch (drops the record,
/// counted as full) while a reservation of relay_rs' Rust API is not
/// committed yet: for the Rust API's `Channel::write`, which may run
/// inside its own CPU's `Producer`.
///
/// # Safety
///
/// As for [`relay_rs_make_room`].
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_make_room_checked(
    buf: *mut bindings::rchan_buf,
    length: usize,
) -> c_int {
    // SAFETY: a live buffer whose producer we are (caller contract).
    c_int::from(unsafe { Buffer::from_raw(buf) }.make_room(length, true))
}

/// Counts the records a channel lost (`relay_stats()`).
///
/// Arguments:
/// - `chan`: the channel
/// - `flags`: any of `RELAY_RS_STATS_BUF_FULL` (refused: buffer full),
///   `RELAY_RS_STATS_WRT_BIG` (refused: too big for a sub-buffer) and
///   `RELAY_RS_STATS_OVERWRITTEN` (unread records a lapping producer
///   overwrote, overwrite mode)
///
/// Returns the number of records lost for the selected reasons, summed
/// over all buffers since open or the last reset.
///
/// # Safety
///
/// `chan` is NULL or an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_stats(chan: *mut bindings::rchan, flags: c_int) -> usize {
    if chan.is_null() {
        return 0;
    }
    // SAFETY: an open channel (caller contract).
    unsafe { Channel::borrow(chan) }.stats(flags as u32)
}

/// Sets the channel's delivery interval (relay_rs' own).
///
/// Arguments:
/// - `chan`: the channel
/// - `msecs`: the interval in milliseconds, 0 to turn it off
///
/// A reader blocked in `poll()` on a buffer with unread bytes then wakes
/// within `msecs` (plus one timer tick) even if no sub-buffer completes,
/// and `poll()` reports the bytes of the sub-buffer being written as
/// readable. Returns 0, or -EINVAL (with a warning) for a NULL channel or
/// an interval above [`delivery::MAX_MSECS`](super::delivery::MAX_MSECS).
///
/// # Safety
///
/// `chan` is NULL or an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_set_delivery_interval(
    chan: *mut bindings::rchan,
    msecs: u32,
) -> c_int {
    let res = if chan.is_null() {
        Err(kernel::error::code::EINVAL)
    } else {
        // SAFETY: an open channel (caller contract).
        unsafe { Channel::borrow(chan) }.set_delivery_interval(msecs)
    };
    match res {
        Ok(()) => 0,
        Err(e) => {
            kernel::pr_warn!(
                "set_delivery_interval: {msecs} ms refused: {}\n",
                e.to_errno()
            );
            e.to_errno()
        }
    }
}

/// Reserves bytes at the start of a sub-buffer (`subbuf_start_reserve()`).
///
/// Arguments:
/// - `buf`: relay channel buffer
/// - `length`: number of bytes to reserve
///
/// For the `subbuf_start()` callback: the first `length` bytes of the new
/// sub-buffer are left for the client (a header), and writes start after
/// them. Returns 0, or -EINVAL (with a warning, and nothing reserved) for a
/// length that leaves no room for data, where 6.12 hits a BUG_ON.
///
/// # Safety
///
/// `buf` is the buffer passed to the `subbuf_start` callback, called from it.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_subbuf_start_reserve(
    buf: *mut bindings::rchan_buf,
    length: usize,
) -> c_int {
    // SAFETY: a live buffer, from inside its producer's callback (caller contract).
    let buf = unsafe { Buffer::from_raw(buf) };
    if buf.channel().is_lockless() {
        // It has no `subbuf_start`, so this is no call from one.
        kernel::pr_warn!("subbuf_start_reserve: lockless channels have no headers\n");
        return kernel::error::code::EINVAL.to_errno();
    }
    if buf.start_reserve(length) {
        return 0;
    }
    kernel::pr_warn!(
        "subbuf_start_reserve: {} bytes leave no room in {}-byte sub-buffers\n",
        length,
        buf.ring().geometry().subbuf_size()
    );
    kernel::error::code::EINVAL.to_errno()
}

/// The private data of a buffer's channel.
///
/// Arguments:
/// - `buf`: relay channel buffer
///
/// Returns the `private_data` given to `relay_rs_open()`, for callbacks that
/// only get the buffer (same as buf->chan->private_data).
///
/// # Safety
///
/// `buf` is a buffer of an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_buf_private_data(
    buf: *mut bindings::rchan_buf,
) -> *mut c_void {
    // SAFETY: a live buffer (caller contract), whose channel outlives it.
    unsafe { (*(*buf).chan).private_data }
}

/// The CPU of a buffer.
///
/// Arguments:
/// - `buf`: relay channel buffer
///
/// Returns the CPU the buffer belongs to, 0 for a global buffer.
///
/// # Safety
///
/// `buf` is a buffer of an open channel.
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_buf_cpu(buf: *mut bindings::rchan_buf) -> u32 {
    // SAFETY: a live buffer (caller contract).
    unsafe { Buffer::from_raw(buf) }.cpu()
}

/// The padding that ended the previous sub-buffer.
///
/// Arguments:
/// - `buf`: relay channel buffer
///
/// What 6.12 passes `subbuf_start` as `prev_padding`, for 7.3's callbacks,
/// which do not get it. Returns the bytes of padding at the end of the
/// sub-buffer before the one starting, 0 for the first.
///
/// # Safety
///
/// `buf` is a buffer of an open channel, and the caller its `subbuf_start`
/// callback (else the value may be stale, but reading it is no race).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_buf_prev_padding(buf: *mut bindings::rchan_buf) -> usize {
    // SAFETY: a live buffer (caller contract).
    unsafe { Buffer::from_raw(buf) }.prev_padding()
}

/// The default `create_buf_file` callback.
///
/// Arguments:
/// - `filename`: file name
/// - `parent`: debugfs directory, NULL for the root
/// - `mode`: file mode
/// - `buf`: the buffer the file reads
/// - `is_global`: not changed
///
/// Creates a debugfs file with relay_rs_file_operations (mmap and splice
/// included), as relay_rs does when a client gives no create_buf_file.
/// Lets a client's own callback (one that sets `*is_global`, say) reuse it.
/// Returns the dentry, NULL for a NULL `filename`, or an ERR_PTR.
///
/// # Safety
///
/// Called from a `create_buf_file` callback: `filename` is NULL or a C
/// string; `parent` is NULL or a live debugfs directory; `buf` is the
/// buffer relay_rs passed to the callback, which returns the file made (so
/// that relay_rs removes it before `buf` goes).
#[no_mangle]
pub(crate) unsafe extern "C" fn relay_rs_create_buf_file_default(
    filename: *const c_char,
    parent: *mut bindings::dentry,
    mode: u16,
    buf: *mut bindings::rchan_buf,
    _is_global: *mut c_int,
) -> *mut bindings::dentry {
    // SAFETY: a non-NULL `filename` is a C string (caller contract).
    let name = (!filename.is_null()).then(|| unsafe { compat::str::from_char_ptr(filename) });
    // SAFETY: `parent` is NULL or a live debugfs directory; `buf` is live,
    // and relay_rs removes the file (with `remove_buf_file`) before it
    // frees `buf` (caller contract).
    match unsafe { crate::fileops::create_default_file(name, mode, parent, buf) } {
        Ok(d) => d,
        Err(e) => e.to_ptr(),
    }
}
