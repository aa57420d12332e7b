// SPDX-License-Identifier: GPL-2.0

//! The parts of debugfs relay files need: files with arbitrary file
//! operations. Relay_rs' own on both kernels: 7.3's `kernel::debugfs`
//! makes files whose `file_operations` it generates itself (`seq_file`
//! reads, writes, callbacks of a Rust value), so it has no way to give
//! relay files their own (`mmap`, `splice_read`, `poll`), nor to create
//! one in a directory made by C (a client's parent).
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h).

use crate::bindings;
use core::ffi::c_void;
use kernel::{error::from_err_ptr, prelude::*, str::CStr};

/// Creates a debugfs file whose `fops` are called directly, without the
/// debugfs proxy (so that `mmap` and `splice_read` reach them).
///
/// # Safety
///
/// - `parent` is NULL (the debugfs root) or a live debugfs directory.
/// - `fops` are sound to call on a file whose inode's `i_private` is
///   `data`, as long as the file exists. Debugfs holds off the file's
///   removal only while `fops.open` runs; any other operation may run
///   during and after [`remove`], so whatever it needs of `data` must be
///   kept alive by what `open` took (a reference on `data`, say).
pub(crate) unsafe fn create_file_unsafe(
    name: &CStr,
    mode: u16,
    parent: *mut bindings::dentry,
    data: *mut c_void,
    fops: &'static bindings::file_operations,
) -> Result<*mut bindings::dentry> {
    // SAFETY: `name` is NUL-terminated and `fops` static; `parent` is NULL
    // or a live debugfs directory, and `fops` are sound with `data` on this
    // unproxied file (caller contract).
    let d = unsafe {
        bindings::debugfs_create_file_unsafe(
            super::str::as_char_ptr(name),
            mode,
            parent,
            data,
            fops,
        )
    };
    from_err_ptr(d)
}

/// Creates a debugfs file behind debugfs' proxy, which makes its `read`
/// fail with -EIO instead of running once removal has started.
///
/// # Safety
///
/// - `parent` is NULL (the debugfs root) or a live debugfs directory.
/// - `fops` are sound to call on a file whose inode's `i_private` is
///   `data` until the file is removed with [`remove`] (the proxy runs no
///   operation once removal has started, and `remove` waits for those
///   running), and their `release`, which may run later, does not use
///   `data`.
pub(crate) unsafe fn create_file(
    name: &CStr,
    mode: u16,
    parent: *mut bindings::dentry,
    data: *mut c_void,
    fops: &'static bindings::file_operations,
) -> Result<*mut bindings::dentry> {
    // SAFETY: `name` is NUL-terminated and `fops` static; `parent` is NULL
    // or a live debugfs directory, and `fops` are sound with `data` behind
    // the proxy (caller contract).
    let d = unsafe {
        bindings::relay_rs_glue_debugfs_create_file(
            super::str::as_char_ptr(name),
            mode,
            parent,
            data,
            fops,
        )
    };
    from_err_ptr(d)
}

/// `DEBUGFS_MAGIC` (`include/uapi/linux/magic.h`).
const DEBUGFS_MAGIC: usize = 0x6462_6720;

/// Is `dir` a debugfs directory (NULL meaning the debugfs root)?
///
/// # Safety
///
/// `dir` is NULL or a live dentry.
pub(crate) unsafe fn is_debugfs_dir(dir: *mut bindings::dentry) -> bool {
    if dir.is_null() {
        return true;
    }
    // SAFETY: a non-NULL `dir` is a live dentry (caller contract); its
    // `d_sb` is set when it is made and its superblock outlives it.
    unsafe { (*(*dir).d_sb).s_magic == DEBUGFS_MAGIC }
}

/// Removes a debugfs file or directory tree; waits for active users.
///
/// # Safety
///
/// `dentry` is NULL, an error pointer, or a debugfs file or directory
/// that has not been removed yet.
pub(crate) unsafe fn remove(dentry: *mut bindings::dentry) {
    // SAFETY: `debugfs_remove` accepts NULL and error pointers, and live
    // debugfs dentries (caller contract).
    unsafe { bindings::debugfs_remove(dentry) };
}
