// SPDX-License-Identifier: GPL-2.0

//! Safe Rust API of relay_rs, for Rust modules that log through it.
//!
//! A Rust module cannot link another module's crate, so include this file
//! (`#[path = ".../include/relay_rs.rs"] mod relay_rs;`); it declares the
//! functions `relay_rs.ko` exports and wraps them in safe types.
//!
//! # Examples
//!
//! ```ignore
//! let chan = relay_rs::Channel::open(Some(c_str!("mylog")), 16384, 8)?;
//! chan.write(b"hello");
//! chan.flush();
//! // `chan` is closed when dropped.
//! ```

#![allow(dead_code)]

use kernel::{
    ffi::{c_char, c_int, c_void},
    prelude::*,
    str::CStr,
};

/// C `struct rchan`, opaque to Rust clients.
#[repr(C)]
pub(crate) struct RawChan {
    _opaque: [u8; 0],
}

/// Records refused because the buffer was full.
pub(crate) const STATS_BUF_FULL: c_int = 1 << 0;
/// Records bigger than a sub-buffer.
pub(crate) const STATS_WRT_BIG: c_int = 1 << 1;

extern "C" {
    fn relay_rs_open(
        base_filename: *const c_char,
        parent: *mut c_void,
        subbuf_size: usize,
        n_subbufs: usize,
        cb: *const c_void,
        private_data: *mut c_void,
    ) -> *mut RawChan;
    fn relay_rs_close(chan: *mut RawChan);
    fn relay_rs_flush(chan: *mut RawChan);
    fn relay_rs_reset(chan: *mut RawChan);
    fn relay_rs_write(chan: *mut RawChan, data: *const c_void, length: usize);
    fn relay_rs_stats(chan: *mut RawChan, flags: c_int) -> usize;
}

/// An open relay channel with default callbacks: per-CPU debugfs files
/// `<base><cpu>` (or no files when `base` is `None`), no-overwrite mode.
///
/// # Invariants
///
/// `raw` is an open channel, closed exactly once, on drop.
pub(crate) struct Channel {
    raw: *mut RawChan,
}

// SAFETY: relay_rs channels may be used and closed from any thread.
unsafe impl Send for Channel {}
// SAFETY: `write` is safe from any context concurrently (it writes the
// current CPU's buffer with interrupts off); `flush`/`reset` follow relay's rules.
unsafe impl Sync for Channel {}

impl Channel {
    /// Opens a channel in the debugfs root; `None` for a buffer-only channel.
    pub(crate) fn open(base: Option<&CStr>, subbuf_size: usize, n_subbufs: usize) -> Result<Self> {
        let name = base.map_or(core::ptr::null(), |b| b.as_char_ptr());
        // SAFETY: `name` is NULL or a C string; NULL parent and callbacks
        // select relay_rs' defaults.
        let raw = unsafe {
            relay_rs_open(
                name,
                core::ptr::null_mut(),
                subbuf_size,
                n_subbufs,
                core::ptr::null(),
                core::ptr::null_mut(),
            )
        };
        if raw.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `raw` was just opened.
        Ok(Self { raw })
    }

    /// Writes one record to the current CPU's buffer, from any context; a
    /// record that does not fit is dropped and counted.
    pub(crate) fn write(&self, data: &[u8]) {
        // SAFETY: an open channel (invariant); `data` is readable.
        unsafe { relay_rs_write(self.raw, data.as_ptr().cast(), data.len()) };
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

    /// Records lost for the reasons in `flags` ([`STATS_BUF_FULL`], [`STATS_WRT_BIG`]).
    pub(crate) fn lost(&self, flags: c_int) -> usize {
        // SAFETY: an open channel (invariant).
        unsafe { relay_rs_stats(self.raw, flags) }
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        // SAFETY: the channel is open and closed only here (invariant).
        unsafe { relay_rs_close(self.raw) };
    }
}
