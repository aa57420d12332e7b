// SPDX-License-Identifier: GPL-2.0

//! Files and inodes.
//!
//! [`File`] stands in on 6.12 for upstream's `kernel::fs::File` and
//! `LocalFile`; on 7.3 it is a thin wrapper of upstream's `LocalFile` (a
//! file operation's file may be inside its own task's `fdget_pos` region,
//! which is what `LocalFile`, not `File`, allows), keeping relay_rs'
//! accessors: 7.3 still lacks `private_data` and `f_mode`. What 7.3 lacks
//! altogether stays relay_rs' own on both: a file being opened
//! ([`OpeningFile`], which may set the mode and private data),
//! `THIS_MODULE` usable in a `static` `file_operations`, module references,
//! inode sizes.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h).

use crate::bindings;
use core::{ffi::c_void, ops::Deref};
use kernel::types::Opaque;

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
/// The reference keeps the module loaded only if something already did
/// when it was taken (say the `owner` reference of an open file whose
/// operation calls this), as `__module_get` does not check that unloading
/// has not begun: code that relies on it must show that in its safety
/// comment.
pub(crate) fn module_get() {
    // SAFETY: `this_module()` is this module's `struct module`, which
    // exists while its code runs; `__module_get` only increments its count.
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
#[cfg(relay_rs_kernel = "6.12")]
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

/// An open file, borrowed for the duration of a file operation: upstream's
/// `LocalFile`, with relay_rs' accessors.
///
/// Deliberately not `Deref<Target = LocalFile>`: `release` borrows its file
/// too, once the file's count has dropped to zero, and a `&LocalFile` lets
/// anyone take a new reference (`ARef::from`), which must not happen then.
///
/// # Invariants
///
/// The wrapped `struct file` is valid for the lifetime of the reference.
/// Upstream `LocalFile`'s invariants hold as far as what they guard goes:
/// no reference is taken through it while the count may be zero, and its
/// `f_pos` is not raced through it (see [`File::from_raw`]).
#[cfg(relay_rs_kernel = "7.3")]
#[repr(transparent)]
pub(crate) struct File(kernel::fs::LocalFile);

#[cfg(relay_rs_kernel = "6.12")]
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
}

#[cfg(relay_rs_kernel = "7.3")]
impl File {
    /// Borrows a `struct file`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct file` for the lifetime `'a`, as
    /// it does for the `file` argument of a file operation.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a File {
        // The file is valid for 'a (caller contract). Its count is
        // positive for 'a, as upstream asks, in every file operation but
        // `release`, which runs once it has dropped to zero (upstream's
        // `miscdevice` borrows it there too): the count only matters to
        // references taken through the `&LocalFile`, and none is (it is
        // never handed out, see `File`). An `fdget_pos` region that skipped
        // `f_pos_lock` (the file had one reference then) is that of the
        // syscall running this operation, on this task, unless another
        // task took the file meanwhile (`pidfd_getfd`); what the rule
        // guards is `f_pos`, which relay files never touch (`read` ignores
        // the position, `llseek` refuses) and the wrapper cannot reach.
        // SAFETY: valid for 'a, with upstream's rules kept as argued above.
        let file = unsafe { kernel::fs::LocalFile::from_raw_file(ptr) };
        // INVARIANT: valid for 'a (caller contract), and upstream's
        // invariants kept as far as they matter, as argued above.
        // SAFETY: `File` is a transparent wrapper of `LocalFile`.
        unsafe { &*core::ptr::from_ref(file).cast::<File>() }
    }

    /// The raw pointer.
    pub(crate) fn as_ptr(&self) -> *mut bindings::file {
        self.0.as_ptr()
    }
}

impl File {
    /// The file's `private_data`.
    pub(crate) fn private_data(&self) -> *mut c_void {
        // SAFETY: the file is valid; `private_data` is owned by the file's fops.
        unsafe { (*self.as_ptr()).private_data }
    }

    /// Was the file opened for reading?
    pub(crate) fn is_readable(&self) -> bool {
        // SAFETY: the file is valid; `f_mode` is written only while the
        // file is being opened (`OpeningFile`), before anyone else sees it.
        unsafe { (*self.as_ptr()).f_mode & FMODE_READ != 0 }
    }
}

/// A file being opened, borrowed inside `f_op->open`: not yet reachable by
/// any other task, so its mode and private data may still be set (compare
/// upstream's `VmaNew` for a VMA being set up by `f_op->mmap`).
///
/// # Invariants
///
/// For the lifetime of the reference, the wrapped `struct file` is valid
/// and its `f_op->open` is running on this task, which alone can reach it.
#[repr(transparent)]
pub(crate) struct OpeningFile(File);

impl OpeningFile {
    /// Borrows the `file` argument of `f_op->open`.
    ///
    /// # Safety
    ///
    /// `ptr` is the `file` argument of an `f_op->open` call that lasts for
    /// `'a` on this task.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::file) -> &'a OpeningFile {
        // INVARIANT: the file is being opened for 'a (caller contract); the
        // reference cannot leave this task (`OpeningFile` is neither `Send`
        // nor `Sync`, as `Opaque` is not). On 7.3 `File` wraps upstream's
        // `LocalFile`, whose invariants hold too: the file's count is one
        // during open, and no other task, so no `fdget_pos`, can reach it.
        // SAFETY: `OpeningFile` and `File` are transparent wrappers of
        // `struct file`, valid for 'a.
        unsafe { &*ptr.cast() }
    }

    /// Refuses `pread`/`pwrite` (-ESPIPE). Unlike `nonseekable_open`, keeps
    /// `FMODE_LSEEK`, which `sendfile` to a regular file requires of its
    /// input in 6.12 (`splice_direct_to_actor`); `llseek` must then refuse
    /// seeks itself.
    pub(crate) fn forbid_positional_io(&self) {
        // SAFETY: the file is valid, and no other task can reach it while
        // it is being opened (type invariant): this write races nothing.
        unsafe { (*self.as_ptr()).f_mode &= !(FMODE_PREAD | FMODE_PWRITE) };
    }

    /// Sets the file's `private_data`, for its other operations.
    pub(crate) fn set_private_data(&self, data: *mut c_void) {
        // SAFETY: as in `forbid_positional_io`.
        unsafe { (*self.as_ptr()).private_data = data };
    }
}

impl Deref for OpeningFile {
    type Target = File;

    fn deref(&self) -> &File {
        &self.0
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
