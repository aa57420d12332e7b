// SPDX-License-Identifier: GPL-2.0

//! Files and inodes, shaped like upstream `kernel::fs::File`.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use crate::bindings;
use core::ffi::c_void;
use kernel::types::Opaque;

/// A `file_operations` table that can live in a `static`.
#[repr(transparent)]
pub(crate) struct FileOperations(pub(crate) bindings::file_operations);

// SAFETY: the table is immutable; its pointers are to functions and the module.
unsafe impl Sync for FileOperations {}

// The module's own `struct module`, defined by modpost (`module!` declares it the same way).
#[allow(improper_ctypes)]
extern "C" {
    static __this_module: Opaque<bindings::module>;
}

/// `THIS_MODULE`, usable in `static` initialisers (for `file_operations.owner`).
pub(crate) const fn this_module() -> *mut bindings::module {
    // SAFETY: only the address of the module's own `struct module` is taken.
    unsafe { __this_module.get() }
}

/// Takes a reference on this module (`__module_get(THIS_MODULE)`), for
/// objects that call back into it after its files are closed (pipe buffers).
///
/// Only call it from code the caller already keeps loaded (a file
/// operation of an open file, whose owner is this module).
pub(crate) fn module_get() {
    // SAFETY: the module is live and referenced (function contract);
    // `__module_get` only increments its count.
    unsafe { bindings::__module_get(this_module()) }
}

/// Gives back a reference taken with [`module_get`].
///
/// # Safety
///
/// The caller owns a reference from [`module_get`], and nothing of this
/// module may run after this call but the caller's return (the module may
/// be unloaded as soon as the count drops).
pub(crate) unsafe fn module_put() {
    // SAFETY: a reference we own (caller contract).
    unsafe { bindings::module_put(this_module()) }
}

/// `FMODE_READ` (`include/linux/fs.h`; bindgen cannot read its `__force` cast).
const FMODE_READ: u32 = 1 << 0;
/// `FMODE_PREAD`.
const FMODE_PREAD: u32 = 1 << 3;
/// `FMODE_PWRITE`.
const FMODE_PWRITE: u32 = 1 << 4;

/// An open file, borrowed for the duration of a file operation.
///
/// # Invariants
///
/// The wrapped `struct file` is valid for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

impl File {
    /// Borrows a `struct file`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct file` for the lifetime `'a`, as
    /// it does for the `file` argument of a file operation.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a File {
        // SAFETY: `File` is a transparent wrapper of `struct file`, valid for 'a.
        unsafe { &*ptr.cast() }
    }

    /// The raw pointer.
    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.get()
    }

    /// The file's `private_data`.
    pub(crate) fn private_data(&self) -> *mut c_void {
        // SAFETY: the file is valid; `private_data` is owned by the file's fops.
        unsafe { (*self.as_ptr()).private_data }
    }

    /// Refuses `pread`/`pwrite` (-ESPIPE). Unlike `nonseekable_open`, keeps
    /// `FMODE_LSEEK`, which `sendfile` to a regular file requires of its
    /// input in 6.12 (`splice_direct_to_actor`); `llseek` must then refuse
    /// seeks itself.
    pub(crate) fn forbid_positional_io(&self) {
        // SAFETY: called from `open`, before the file is shared.
        unsafe { (*self.as_ptr()).f_mode &= !(FMODE_PREAD | FMODE_PWRITE) };
    }

    /// Was the file opened for reading?
    pub(crate) fn is_readable(&self) -> bool {
        // SAFETY: the file is valid and `f_mode` is fixed after open.
        unsafe { (*self.as_ptr()).f_mode & FMODE_READ != 0 }
    }
}

/// The inode behind a dentry (`d_inode()`).
///
/// # Safety
///
/// `dentry` must be a live, positive dentry.
#[inline(always)]
pub(crate) unsafe fn d_inode(dentry: *mut bindings::dentry) -> *mut bindings::inode {
    // SAFETY: live (caller contract); a positive dentry's inode pointer is
    // set and stable, and `d_inode()` is this read.
    unsafe { (*dentry).d_inode }
}

/// Adds `bytes` to the size of the inode behind `dentry` (the relay
/// files' `i_size` counts the bytes produced).
///
/// # Safety
///
/// `dentry` must be a live, positive dentry, and the caller must be the
/// only writer of that inode's size.
pub(crate) unsafe fn inode_add_size(dentry: *mut bindings::dentry, bytes: usize) {
    // SAFETY: live and positive (caller contract).
    let inode = unsafe { d_inode(dentry) };
    // SAFETY: `inode` is valid while the dentry is; single writer (caller contract).
    unsafe { (*inode).i_size = (*inode).i_size.wrapping_add(bytes as i64) };
}

/// Sets the size of the inode behind `dentry`.
///
/// # Safety
///
/// As for [`inode_add_size`].
pub(crate) unsafe fn inode_set_size(dentry: *mut bindings::dentry, bytes: usize) {
    // SAFETY: live and positive (caller contract).
    let inode = unsafe { d_inode(dentry) };
    // SAFETY: `inode` is valid while the dentry is; single writer (caller contract).
    unsafe { (*inode).i_size = bytes as i64 };
}
