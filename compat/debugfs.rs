// SPDX-License-Identifier: GPL-2.0

//! The parts of debugfs relay files need: files with arbitrary file
//! operations (upstream's `kernel::debugfs` does not allow those).
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h).

use crate::bindings;
use core::ffi::c_void;
use kernel::{error::from_err_ptr, prelude::*, str::CStr};

/// Creates a debugfs file whose `fops` are called directly, without the
/// debugfs proxy (so that `mmap` and `splice_read` reach them).
///
/// The caller must keep `data` valid until the file is removed; `open` runs
/// inside debugfs' active-user protection, so `fops.open` may take its own
/// reference on `data`.
pub(crate) fn create_file_unsafe(
    name: &CStr,
    mode: u16,
    parent: *mut bindings::dentry,
    data: *mut c_void,
    fops: &'static bindings::file_operations,
) -> Result<*mut bindings::dentry> {
    // SAFETY: `name` is NUL-terminated; `parent` is NULL or a debugfs
    // directory (caller contract of the relay API); `fops` is static.
    let d = unsafe {
        bindings::debugfs_create_file_unsafe(name.as_char_ptr(), mode, parent, data, fops)
    };
    from_err_ptr(d)
}

/// Creates a debugfs file behind debugfs' proxy, which makes its `read`
/// fail with -EIO instead of running once removal has started.
pub(crate) fn create_file(
    name: &CStr,
    mode: u16,
    parent: *mut bindings::dentry,
    data: *mut c_void,
    fops: &'static bindings::file_operations,
) -> Result<*mut bindings::dentry> {
    // SAFETY: as for `create_file_unsafe`.
    let d = unsafe { bindings::debugfs_create_file(name.as_char_ptr(), mode, parent, data, fops) };
    from_err_ptr(d)
}

/// `DEBUGFS_MAGIC` (`include/uapi/linux/magic.h`).
const DEBUGFS_MAGIC: usize = 0x6462_6720;

/// Is `dir` a debugfs directory (NULL meaning the debugfs root)?
pub(crate) fn is_debugfs_dir(dir: *mut bindings::dentry) -> bool {
    if dir.is_null() {
        return true;
    }
    // SAFETY: a non-NULL `dir` is a live dentry (relay API contract); its
    // superblock lives as long as it does.
    unsafe { (*(*dir).d_sb).s_magic == DEBUGFS_MAGIC }
}

/// Removes a debugfs file or directory tree; waits for active users.
pub(crate) fn remove(dentry: *mut bindings::dentry) {
    // SAFETY: `debugfs_remove` accepts NULL and error pointers, and dentries it created.
    unsafe { bindings::debugfs_remove(dentry) };
}
