// SPDX-License-Identifier: GPL-2.0

//! Client callbacks (`struct rchan_callbacks`) and their defaults.

use crate::{
    bindings,
    buffer::Buffer,
    compat::{self, debugfs, fs::File, sync::AssertSync},
    fileops,
};
use core::ffi::{c_int, c_void};
use kernel::{prelude::*, str::CStr};

/// The callbacks of a channel: the client's table, never written to, with
/// relay_rs' default standing in for each NULL entry.
///
/// # Invariants
///
/// `table` points to the client's `struct rchan_callbacks`, which it keeps
/// alive until the channel is closed and whose functions behave as
/// `include/relay_rs.h` documents (the relay API's contract), or to the
/// static all-defaults table.
#[derive(Clone, Copy)]
pub(crate) struct Callbacks {
    table: *const bindings::rchan_callbacks,
    /// Whether the client has its own `subbuf_start`, read at open: files
    /// outlive the channel (and the client's table) while readers hold
    /// them.
    may_overwrite: bool,
}

/// The table `rchan.cb` points to when a client passes NULL: all defaults.
// SAFETY: the table is immutable and holds only NULL function pointers.
static DEFAULT_CALLBACKS: AssertSync<bindings::rchan_callbacks> = unsafe {
    AssertSync::new(bindings::rchan_callbacks {
        subbuf_start: None,
        create_buf_file: None,
        remove_buf_file: None,
        buf_mapped: None,
        buf_unmapped: None,
    })
};

impl Callbacks {
    /// Wraps a client's table.
    ///
    /// # Safety
    ///
    /// `table` must be NULL or stay valid until the channel is closed, and
    /// its functions must behave as `include/relay_rs.h` documents them (in
    /// particular, a `create_buf_file` without a `remove_buf_file` makes
    /// debugfs files, which the default removes).
    pub(crate) unsafe fn new(table: *const bindings::rchan_callbacks) -> Self {
        let table = if table.is_null() {
            DEFAULT_CALLBACKS.get()
        } else {
            table
        };
        // SAFETY: valid now (caller contract, or the static table).
        let may_overwrite = unsafe { (*table).subbuf_start.is_some() };
        // INVARIANT: per the caller contract, or the static default table.
        Self {
            table,
            may_overwrite,
        }
    }

    /// The pointer to store in `rchan.cb`: never NULL.
    pub(crate) fn as_raw(&self) -> *const bindings::rchan_callbacks {
        self.table
    }

    fn table(&self) -> &bindings::rchan_callbacks {
        // SAFETY: `as_raw` is never NULL and valid by the type invariant.
        unsafe { &*self.as_raw() }
    }

    /// May the producer start `subbuf`? Default: only if the buffer is not full.
    pub(crate) fn subbuf_start(
        &self,
        buf: &Buffer,
        subbuf: *mut c_void,
        prev: *mut c_void,
        prev_padding: usize,
    ) -> bool {
        match self.table().subbuf_start {
            // SAFETY: a client callback, called with a live buffer as the API promises.
            Some(f) => unsafe {
                compat::relay::call_subbuf_start(f, buf.as_raw(), subbuf, prev, prev_padding)
            },
            None => !buf.ring().is_full(),
        }
    }

    /// Can the producer overwrite unconsumed data? Only a client's own
    /// `subbuf_start` can accept a switch onto a full buffer (overwrite
    /// mode); relay_rs cannot tell whether it does, the default never does.
    /// Valid after the channel is closed, unlike the table.
    pub(crate) fn may_overwrite(&self) -> bool {
        self.may_overwrite
    }

    /// Asks the client for the file of `buf` (`name` is `None` for
    /// buffer-only channels, which only learn `is_global` this way).
    ///
    /// Returns the dentry, NULL when no file was made; an `ERR_PTR` result
    /// is an error.
    ///
    /// # Safety
    ///
    /// `parent` is NULL or a live directory dentry of the filesystem these
    /// callbacks make files in (a debugfs directory for the default), and
    /// the file made is removed with [`Callbacks::remove_buf_file`] before
    /// `buf` is freed.
    pub(crate) unsafe fn create_buf_file(
        &self,
        name: Option<&CStr>,
        parent: *mut bindings::dentry,
        buf: &Buffer,
        is_global: &mut c_int,
    ) -> Result<*mut bindings::dentry> {
        let mode = bindings::S_IRUSR as u16;
        match self.table().create_buf_file {
            Some(f) => {
                let name_ptr = name.map_or(core::ptr::null(), compat::str::as_char_ptr);
                // `parent` is as the callback expects (caller contract).
                // SAFETY: a valid, documented client callback (invariant);
                // `name_ptr` is NULL or a live C string; `buf` is live.
                let d = unsafe { f(name_ptr, parent, mode, buf.as_raw(), is_global) };
                kernel::error::from_err_ptr(d)
            }
            // SAFETY: `parent` is NULL or a live debugfs directory, and the
            // file is removed with `remove_buf_file` before `buf` is freed
            // (caller contract).
            None => unsafe { fileops::create_default_file(name, mode, parent, buf.as_raw()) },
        }
    }

    /// Removes a file made by [`Callbacks::create_buf_file`].
    ///
    /// # Safety
    ///
    /// `dentry` was returned by [`Callbacks::create_buf_file`] of these
    /// callbacks and has not been removed yet.
    pub(crate) unsafe fn remove_buf_file(&self, dentry: *mut bindings::dentry) {
        match self.table().remove_buf_file {
            Some(f) => {
                // SAFETY: a client callback (type invariant), with a file its
                // `create_buf_file` made, not removed yet (caller contract).
                let _ = unsafe { f(dentry) };
            }
            // SAFETY: a debugfs file not removed yet: made by the default
            // `create_buf_file`, or by the client's, which makes debugfs
            // files when there is no `remove_buf_file` (type invariant).
            None => unsafe { debugfs::remove(dentry) },
        }
    }

    /// Tells the client that a buffer file was mapped, as the original
    /// 2.6-era relay API did (6.12 dropped the two mapping callbacks).
    pub(crate) fn buf_mapped(&self, buf: &Buffer, file: Option<&File>) {
        if let Some(f) = self.table().buf_mapped {
            let file = file.map_or(core::ptr::null_mut(), File::as_ptr);
            // SAFETY: a client callback (type invariant), with a live buffer
            // and the mapping's file, valid for the call.
            unsafe { f(buf.as_raw(), file) };
        }
    }

    /// Tells the client that a mapping of a buffer file went away.
    pub(crate) fn buf_unmapped(&self, buf: &Buffer, file: Option<&File>) {
        if let Some(f) = self.table().buf_unmapped {
            let file = file.map_or(core::ptr::null_mut(), File::as_ptr);
            // SAFETY: as in `buf_mapped`.
            unsafe { f(buf.as_raw(), file) };
        }
    }
}
