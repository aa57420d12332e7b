// SPDX-License-Identifier: GPL-2.0

//! Zero-copy `splice_read` of relay files (`splice(2)`, `sendfile(2)`).
//!
//! Pipe buffers reference the ring's pages: no byte is copied, and padding
//! is never handed out. Consumption advances only when a pipe buffer is
//! released, so a no-overwrite producer cannot reuse a sub-buffer whose
//! pages are still in a pipe; until then the bytes are "in flight" and the
//! next splice starts after them. Each pipe buffer holds a reference to its
//! page. While any bytes are in flight, one reference on the buffer and one
//! on this module are held (a pipe outlives the file that filled it, and its
//! buffers call back into this module): taken when they go from none to
//! some, given back by the release that brings them back to none.
//! Duplicating a pipe buffer (`tee`) is refused, as it would consume the
//! same bytes twice.

use crate::{
    bindings,
    buffer::Buffer,
    compat::{fs, mm, sync::AssertSync},
};
use kernel::{ffi::c_int, page::PAGE_SIZE, prelude::*, sync::Arc};

/// `SPLICE_F_NONBLOCK` (`include/linux/splice.h`).
const SPLICE_F_NONBLOCK: u32 = 0x02;
/// Pages per `splice_to_pipe` call at most: 1 MiB, the default
/// `pipe-max-size` (a pipe takes what fits; the rest is given back).
const MAX_PAGES: usize = 256;

// SAFETY: an immutable table of function pointers, which races nothing.
static RELAY_PIPE_BUF_OPS: AssertSync<bindings::pipe_buf_operations> = unsafe {
    AssertSync::new(bindings::pipe_buf_operations {
        confirm: None,
        release: Some(relay_pipe_buf_release),
        try_steal: None,
        get: Some(relay_pipe_buf_get),
    })
};

impl Buffer {
    /// Moves up to `len` readable bytes into `pipe` without copying.
    ///
    /// Returns the bytes spliced, 0 when nothing is readable (or -EAGAIN
    /// with `SPLICE_F_NONBLOCK`).
    ///
    /// # Safety
    ///
    /// `pipe` is the locked pipe passed to `f_op->splice_read` of a relay
    /// file, which this call serves (the file's `owner` reference keeps
    /// this module loaded meanwhile).
    pub(crate) unsafe fn splice_read(
        self: &Arc<Self>,
        pipe: *mut bindings::pipe_inode_info,
        len: usize,
        flags: u32,
    ) -> Result<isize> {
        // As many pages as asked for, up to what a large pipe holds, so that
        // one call moves up to 1 MiB (the arrays are too big for the stack).
        let max = len.div_ceil(PAGE_SIZE).saturating_add(1).min(MAX_PAGES);
        let mut pages = KVec::<*mut bindings::page>::with_capacity(max, GFP_KERNEL)?;
        let mut partial = KVec::<bindings::partial_page>::with_capacity(max, GFP_KERNEL)?;
        let mut guard = self.read_lock.lock();
        let ring = self.ring();
        let mut n = 0;
        let mut total = 0;
        while n < max && total < len {
            let Some((mut pos, mut run)) = ring.read_at(*guard + total, len - total) else {
                break;
            };
            while run > 0 && n < max {
                let Some(page) = self.page(pos / PAGE_SIZE) else {
                    break;
                };
                let off = pos % PAGE_SIZE;
                let this = run.min(PAGE_SIZE - off);
                // Cannot fail: `n < max`, the capacity.
                pages.push(page, GFP_KERNEL)?;
                partial.push(
                    bindings::partial_page {
                        offset: off as u32,
                        len: this as u32,
                        private: this,
                    },
                    GFP_KERNEL,
                )?;
                // The pipe buffer's reference to its page.
                // SAFETY: a live page of the ring.
                unsafe { bindings::relay_rs_glue_get_page(page) };
                pos += this;
                run -= this;
                total += this;
                n += 1;
            }
        }
        if n == 0 {
            return if flags & SPLICE_F_NONBLOCK != 0 {
                Err(EAGAIN)
            } else {
                Ok(0)
            };
        }
        let mut spd = bindings::splice_pipe_desc {
            pages: pages.as_mut_ptr(),
            partial: partial.as_mut_ptr(),
            nr_pages: n as c_int,
            nr_pages_max: max as u32,
            ops: RELAY_PIPE_BUF_OPS.get(),
            spd_release: Some(relay_spd_release),
        };
        // Pages `splice_to_pipe` does not take go to `spd_release`; those it
        // takes are in flight until released, which needs this lock, so
        // they are counted before any can be.
        // The pipe buffers' operations are this module's: the module
        // reference taken below, before any of them can be released (that
        // needs this lock), keeps them loaded.
        // SAFETY: `pipe` is locked (caller contract); `spd` describes `n`
        // referenced pages of this buffer, with operations kept loaded.
        let ret = unsafe { bindings::splice_to_pipe(pipe, &mut spd) };
        if ret < 0 {
            return Err(Error::from_errno(ret as i32));
        }
        if *guard == 0 && ret > 0 {
            // Bytes in flight from none to some: the references that keep
            // the buffer and the pipe buffers' operations alive until the
            // last of them is released.
            let _ = Arc::into_raw(self.clone());
            // A reference that keeps the module: the open relay file's
            // `owner` reference holds it now (caller contract).
            fs::module_get();
        }
        *guard += ret as usize;
        Ok(ret)
    }
}

/// The buffer a ring page belongs to (its `page_private`).
///
/// # Safety
///
/// `page` is a page of a live buffer's ring.
unsafe fn page_buffer(page: *mut bindings::page) -> *const Buffer {
    // SAFETY: a live ring page, whose `private` word its buffer set in
    // `Buffer::new` and clears only when it is freed.
    unsafe { mm::page_private(page) as *const Buffer }
}

/// Gives back the page reference of a pipe buffer that never entered the
/// pipe (its bytes never were in flight).
///
/// # Safety
///
/// Called by `splice_to_pipe` for page `i` of a `spd` built by `splice_read`.
unsafe extern "C" fn relay_spd_release(spd: *mut bindings::splice_pipe_desc, i: u32) {
    // SAFETY: `i` indexes the descriptor's arrays (caller contract).
    let page = unsafe { *(*spd).pages.add(i as usize) };
    // SAFETY: the page reference taken for this page in `splice_read`.
    unsafe { bindings::relay_rs_glue_put_page(page) };
}

/// `release`: the pipe is done with the bytes: consume them.
///
/// # Safety
///
/// `buf` is a pipe buffer made by `splice_read`, released once.
unsafe extern "C" fn relay_pipe_buf_release(
    _pipe: *mut bindings::pipe_inode_info,
    buf: *mut bindings::pipe_buffer,
) {
    // SAFETY: a valid pipe buffer (caller contract).
    let (page, bytes) = unsafe { ((*buf).page, (*buf).private) };
    // SAFETY: a page of a ring whose buffer is alive: this pipe buffer's
    // bytes are in flight, so the in-flight reference is held.
    let rbuf = unsafe { page_buffer(page) };
    // SAFETY: as above, the buffer lives at least until the in-flight
    // reference is given back, below.
    let last = unsafe { &*rbuf }.consume_in_flight(bytes);
    // SAFETY: the page reference this pipe buffer holds.
    unsafe { bindings::relay_rs_glue_put_page(page) };
    if last {
        // SAFETY: the in-flight reference taken by `splice_read` (the
        // consumers' lock is released: the buffer may go now).
        drop(unsafe { Arc::from_raw(rbuf) });
        // SAFETY: the in-flight module reference taken by `splice_read`;
        // only our return follows.
        unsafe { fs::module_put() };
    }
}

/// `get`: refuse duplication (`tee`), which would consume bytes twice.
///
/// # Safety
///
/// Called by the pipe code with a valid pipe buffer.
unsafe extern "C" fn relay_pipe_buf_get(
    _pipe: *mut bindings::pipe_inode_info,
    _buf: *mut bindings::pipe_buffer,
) -> bool {
    false
}
