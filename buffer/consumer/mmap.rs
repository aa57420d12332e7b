// SPDX-License-Identifier: GPL-2.0

//! `mmap` of relay files: the whole ring, read-only, offset 0.
//!
//! Pages are served by a fault handler from the ring's page array. Every
//! VMA holds a buffer reference (taken in `mmap` and `open`, dropped in
//! `close`), so the ring outlives the channel while it is mapped, and the
//! client's `buf_mapped`/`buf_unmapped` callbacks see every VMA come and go
//! (until the channel is closed: the client may be gone after that).

use crate::{
    bindings,
    buffer::Buffer,
    compat::{
        mm::{VmFault, Vma, VmaNew},
        sync::AssertSync,
    },
};
use kernel::{prelude::*, sync::Arc};

static RELAY_VM_OPS: AssertSync<bindings::vm_operations_struct> = {
    let ops = bindings::vm_operations_struct {
        open: Some(relay_vm_open),
        close: Some(relay_vm_close),
        fault: Some(relay_vm_fault),
        // SAFETY: all-zero is a valid `vm_operations_struct` (every hook absent).
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };
    // SAFETY: an immutable table of function pointers, which races nothing.
    unsafe { AssertSync::new(ops) }
};

impl Buffer {
    /// Maps the ring into `vma`; refuses partial, offset or writable maps.
    pub(crate) fn mmap(self: Arc<Self>, vma: &VmaNew) -> Result {
        if vma.len()
            != self
                .channel()
                .geometry()
                .alloc_size(kernel::page::PAGE_SIZE)
        {
            return Err(EINVAL);
        }
        // 6.12 ignores the offset and faults past the ring for a non-zero one.
        if vma.pgoff() != 0 {
            return Err(EINVAL);
        }
        // Read-only for good: mprotect(PROT_WRITE) fails too.
        vma.try_clear_maywrite().map_err(|_| EPERM)?;
        vma.set_dontexpand();
        vma.set_dontdump();
        let file = vma.file();
        let raw = Arc::into_raw(self);
        // SAFETY: the hooks expect a buffer reference in `vm_private_data`
        // of every relay VMA; this one is the VMA's until `relay_vm_close`,
        // and each copy takes its own in `relay_vm_open`.
        unsafe { vma.set_ops(RELAY_VM_OPS.get(), raw.cast_mut().cast()) };
        // SAFETY: `raw` is the reference just stored in the VMA.
        let buf = unsafe { Buffer::from_raw(raw.cast_mut().cast()) };
        buf.channel()
            .with_live_callbacks(|cb| cb.buf_mapped(&buf, file));
        Ok(())
    }
}

/// The buffer a relay VMA references.
///
/// # Safety
///
/// `vma` was set up by [`Buffer::mmap`] (or duplicated by `open`) and not closed.
unsafe fn vma_buffer<'a>(vma: &Vma) -> kernel::sync::ArcBorrow<'a, Buffer> {
    // SAFETY: the VMA holds a buffer reference until its `close`.
    unsafe { Buffer::from_raw(vma.private_data().cast()) }
}

/// `vm_ops->open`: a relay VMA was duplicated (fork) or split.
///
/// # Safety
///
/// `vma` is a copy of a relay VMA, with the mmap lock held.
unsafe extern "C" fn relay_vm_open(vma: *mut bindings::vm_area_struct) {
    // SAFETY: per the function's contract.
    let vma = unsafe { Vma::from_raw(vma) };
    // SAFETY: the copy shares the original's private data, still referenced.
    let buf = unsafe { vma_buffer(vma) };
    let reference: Arc<Buffer> = buf.into();
    // The copy's own reference; `private_data` already points at the buffer.
    let _ = Arc::into_raw(reference);
    buf.channel()
        .with_live_callbacks(|cb| cb.buf_mapped(&buf, vma.file()));
}

/// `vm_ops->close`: a relay VMA goes away.
///
/// # Safety
///
/// `vma` is a relay VMA being closed, with the mmap lock held.
unsafe extern "C" fn relay_vm_close(vma: *mut bindings::vm_area_struct) {
    // SAFETY: per the function's contract.
    let vma = unsafe { Vma::from_raw(vma) };
    // SAFETY: the VMA's reference, dropped exactly once here.
    let buf = unsafe { Arc::from_raw(vma.private_data().cast::<Buffer>()) };
    buf.channel()
        .with_live_callbacks(|cb| cb.buf_unmapped(&buf, vma.file()));
}

/// `vm_ops->fault`: maps one page of the ring.
///
/// # Safety
///
/// `vmf` is a fault on a relay VMA.
unsafe extern "C" fn relay_vm_fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    // SAFETY: per the function's contract.
    let vmf = unsafe { VmFault::from_raw(vmf) };
    // SAFETY: the faulting VMA is a relay VMA, not closed during a fault.
    let buf = unsafe { vma_buffer(vmf.vma()) };
    match buf.page(vmf.pgoff()) {
        Some(page) => {
            // SAFETY: a page of the ring, alive while the buffer is.
            unsafe { vmf.set_page(page) };
            0
        }
        None => bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t,
    }
}
