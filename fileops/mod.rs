// SPDX-License-Identifier: GPL-2.0

//! File operations of relay buffer files (`relay_rs_file_operations`).
//!
//! `open` takes a buffer reference for the file, so the buffer (and the
//! data in it) outlives `relay_rs_close` while the file is open. The
//! default `create_buf_file` makes the files with
//! `debugfs_create_file_unsafe`, whose open proxy holds off file removal
//! while `open` takes that reference; after that the reference alone keeps
//! the buffer alive, and the module cannot unload while a file is open
//! (`owner`).

use crate::{
    bindings,
    buffer::Buffer,
    compat::{
        debugfs,
        fs::{self, File, OpeningFile},
        poll::PollTable,
        sync::AssertSync,
    },
};
use kernel::ffi::{c_char, c_int, c_uint};
use kernel::{prelude::*, sync::Arc};

/// The file operations of relay buffer files, exported for clients'
/// `create_buf_file` callbacks.
#[no_mangle]
#[used]
pub(crate) static relay_rs_file_operations: AssertSync<bindings::file_operations> = {
    let fops = bindings::file_operations {
        owner: fs::this_module(),
        open: Some(relay_file_open),
        read: Some(relay_file_read),
        read_iter: Some(relay_file_read_iter),
        poll: Some(relay_file_poll),
        mmap: Some(relay_file_mmap),
        splice_read: Some(relay_file_splice_read),
        unlocked_ioctl: Some(relay_file_ioctl),
        release: Some(relay_file_release),
        llseek: Some(relay_file_llseek),
        // SAFETY: all-zero is a valid `file_operations` (every hook absent).
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };
    // SAFETY: an immutable table of function pointers and of the module's
    // address, which races nothing; `AssertSync` is transparent, so C sees
    // a `struct file_operations`.
    unsafe { AssertSync::new(fops) }
};

/// The default `create_buf_file`: a debugfs file with these operations
/// reading `buf` (none for a buffer-only channel, which has no `name`).
///
/// # Safety
///
/// `parent` is NULL or a live debugfs directory, and `buf` is a live buffer
/// ([`Buffer::as_raw`]) that stays alive until the file is removed.
pub(crate) unsafe fn create_default_file(
    name: Option<&kernel::str::CStr>,
    mode: u16,
    parent: *mut bindings::dentry,
    buf: *mut bindings::rchan_buf,
) -> Result<*mut bindings::dentry> {
    match name {
        // `relay_file_open` takes a buffer reference while debugfs holds off
        // removal, and the other operations use only that reference.
        Some(name) =>
        // SAFETY: `parent` and `buf` per the caller contract (`buf` lives
        // while the file exists), so the operations on `i_private` are sound.
        unsafe {
            debugfs::create_file_unsafe(
                name,
                mode,
                parent,
                buf.cast(),
                relay_rs_file_operations.get(),
            )
        },
        None => Ok(core::ptr::null_mut()),
    }
}

/// Borrows the buffer behind an open relay file.
///
/// # Safety
///
/// `file` must be a relay file opened by [`relay_file_open`], not yet released.
unsafe fn file_buffer<'a>(file: &File) -> kernel::sync::ArcBorrow<'a, Buffer> {
    // SAFETY: `open` stored a buffer reference that `release` has not dropped.
    unsafe { Buffer::from_raw(file.private_data().cast()) }
}

/// `f_op` hook.
///
/// # Safety
///
/// `inode` and `file` are the arguments of `f_op->open` for a relay file
/// created with the buffer as its `i_private`.
unsafe extern "C" fn relay_file_open(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `inode` is valid during open; `i_private` is the buffer that
    // `create_buf_file` was given, kept alive until its file is removed,
    // which cannot complete while this open runs.
    let buf = unsafe { Buffer::from_raw((*inode).i_private.cast()) };
    let reference: Arc<Buffer> = buf.into();
    // SAFETY: the `file` argument of this `open` call.
    let file = unsafe { OpeningFile::from_raw(file) };
    // The file's reference, dropped by `relay_file_release`.
    file.set_private_data(Arc::into_raw(reference).cast_mut().cast());
    file.forbid_positional_io();
    0
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`], released once.
unsafe extern "C" fn relay_file_release(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `file` is valid during release.
    let file = unsafe { File::from_raw(file) };
    // SAFETY: the reference stored by `open`, dropped exactly once here.
    drop(unsafe { Arc::from_raw(file.private_data().cast::<Buffer>()) });
    0
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`]; `ubuf` is a
/// user pointer (checked by `copy_to_user`).
unsafe extern "C" fn relay_file_read(
    file: *mut bindings::file,
    ubuf: *mut c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `file` is valid during read.
    let file = unsafe { File::from_raw(file) };
    // SAFETY: `file` is an open relay file.
    let buf = unsafe { file_buffer(file) };
    let res = buf.read(count, |src, len, at| {
        let dst = (ubuf as usize).wrapping_add(at);
        // SAFETY: `src` is readable for `len` bytes (`Buffer::read`); the
        // destination is user memory, checked by `copy_to_user`.
        let left = unsafe { bindings::copy_to_user(dst as *mut _, src.cast(), len) };
        if left != 0 {
            return Err(EFAULT);
        }
        Ok(())
    });
    match res {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `f_op` hook: `readv()`, and `splice_read` of channels whose producer
/// may overwrite what a pipe would hold (see [`relay_file_splice_read`]).
///
/// # Safety
///
/// `iocb` is a valid kiocb of a relay file opened by [`relay_file_open`];
/// `to` is a valid iterator.
unsafe extern "C" fn relay_file_read_iter(
    iocb: *mut bindings::kiocb,
    to: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: `iocb` and its file are valid during the call.
    let file = unsafe { File::from_raw((*iocb).ki_filp) };
    // SAFETY: `file` is an open relay file.
    let buf = unsafe { file_buffer(file) };
    // SAFETY: `to` is valid during the call.
    let max = unsafe { bindings::relay_rs_glue_iov_iter_count(to) };
    // Bytes the iterator has advanced by: a dropped copy is reverted.
    let mut pos = 0;
    let res = buf.read(max, |src, len, at| {
        if at < pos {
            // SAFETY: `to` advanced by `pos` bytes in this call.
            unsafe { bindings::iov_iter_revert(to, pos - at) };
        }
        // SAFETY: `src` is readable for `len` bytes (`Buffer::read`); `to`
        // is valid and has room for `max - at >= len` bytes.
        let copied = unsafe { bindings::relay_rs_glue_copy_to_iter(src.cast(), len, to) };
        pos = at + copied;
        if copied != len {
            // SAFETY: as above, `to` advanced by `copied` bytes past `at`.
            unsafe { bindings::iov_iter_revert(to, copied) };
            pos = at;
            return Err(EFAULT);
        }
        Ok(())
    });
    match res {
        Ok(n) => {
            if n < pos {
                // The last copy was dropped (overwritten): not delivered.
                // SAFETY: `to` advanced by `pos` bytes in this call.
                unsafe { bindings::iov_iter_revert(to, pos - n) };
            }
            n as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`]; `wait` is NULL or
/// valid for the call.
unsafe extern "C" fn relay_file_poll(
    file: *mut bindings::file,
    wait: *mut bindings::poll_table_struct,
) -> c_uint {
    // SAFETY: `file` is valid during poll.
    let file = unsafe { File::from_raw(file) };
    // SAFETY: `wait` is NULL or valid during poll.
    let mut table = unsafe { PollTable::from_raw(wait) };
    // SAFETY: `file` is an open relay file.
    let buf = unsafe { file_buffer(file) };
    // SAFETY: `file` holds a reference on `buf` until it is released.
    unsafe { buf.poll(file, &mut table) }
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`]; `vma` is the new
/// mapping, with the mmap lock held for writing.
unsafe extern "C" fn relay_file_mmap(
    file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: `file` is valid during mmap.
    let file = unsafe { File::from_raw(file) };
    // SAFETY: `file` is an open relay file.
    let buf: Arc<Buffer> = unsafe { file_buffer(file) }.into();
    // SAFETY: per the function's contract.
    let vma = unsafe { crate::compat::mm::VmaNew::from_raw(vma) };
    match buf.mmap(vma) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`]; `arg` is a user
/// pointer (checked on access).
unsafe extern "C" fn relay_file_ioctl(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: kernel::ffi::c_ulong,
) -> kernel::ffi::c_long {
    // SAFETY: `file` is valid during ioctl.
    let file = unsafe { File::from_raw(file) };
    // SAFETY: `file` is an open relay file.
    match unsafe { file_buffer(file) }.ioctl(cmd, arg) {
        Ok(v) => v,
        Err(e) => e.to_errno() as isize,
    }
}

/// `f_op` hook.
///
/// # Safety
///
/// `file` is a relay file opened by [`relay_file_open`]; `pipe` is the
/// locked destination pipe.
unsafe extern "C" fn relay_file_splice_read(
    raw: *mut bindings::file,
    ppos: *mut bindings::loff_t,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: `file` is valid during splice.
    let file = unsafe { File::from_raw(raw) };
    // SAFETY: `file` is an open relay file.
    let buf: Arc<Buffer> = unsafe { file_buffer(file) }.into();
    if buf.channel().callbacks().may_overwrite() {
        // Pages in a pipe could be overwritten before the pipe is read:
        // copy instead (through `read_iter`, checked like `read()`), into
        // pages the pipe owns.
        // SAFETY: the arguments of this `splice_read` call.
        return unsafe { bindings::copy_splice_read(raw, ppos, pipe, len, flags) };
    }
    // SAFETY: `pipe` is the locked pipe of this `splice_read` of a relay
    // file (function contract).
    match unsafe { buf.splice_read(pipe, len, flags) } {
        Ok(n) => n,
        Err(e) => e.to_errno() as isize,
    }
}

/// `f_op` hook: relay files are not seekable.
extern "C" fn relay_file_llseek(
    _file: *mut bindings::file,
    _offset: bindings::loff_t,
    _whence: c_int,
) -> bindings::loff_t {
    ESPIPE.to_errno().into()
}
