// SPDX-License-Identifier: GPL-2.0

//! Memory mappings, shaped like upstream `kernel::mm::virt`.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h).

use crate::bindings;
use kernel::{ffi::c_void, types::Opaque};

/// VMA flags used by relay files (`include/linux/mm.h`).
pub(crate) mod flags {
    use crate::bindings;
    /// Mapped writable.
    pub(crate) const WRITE: usize = bindings::VM_WRITE as usize;
    /// May be made writable with `mprotect`.
    pub(crate) const MAYWRITE: usize = bindings::VM_MAYWRITE as usize;
    /// Cannot be grown with `mremap`.
    pub(crate) const DONTEXPAND: usize = bindings::VM_DONTEXPAND as usize;
    /// Left out of core dumps.
    pub(crate) const DONTDUMP: usize = bindings::VM_DONTDUMP as usize;
}

/// A VMA, borrowed inside `f_op->mmap` or a `vm_operations_struct` hook.
///
/// # Invariants
///
/// The VMA is valid and its mm's mmap lock is held (for writing in
/// `f_op->mmap`) for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Vma(Opaque<bindings::vm_area_struct>);

impl Vma {
    /// Borrows a VMA.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid VMA whose mmap lock is held for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Vma {
        // SAFETY: transparent wrapper; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    fn raw(&self) -> *mut bindings::vm_area_struct {
        self.0.get()
    }

    /// Length of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: the VMA is valid and its bounds fixed while the lock is held.
        unsafe { bindings::relay_rs_glue_vma_len(self.raw()) as usize }
    }

    /// Offset of the mapping in the file, in pages.
    pub(crate) fn pgoff(&self) -> usize {
        // SAFETY: as for `len`.
        unsafe { (*self.raw()).vm_pgoff }
    }

    /// The VMA's flags.
    pub(crate) fn flags(&self) -> usize {
        // SAFETY: the VMA is valid.
        unsafe { bindings::relay_rs_glue_vma_flags(self.raw()) as usize }
    }

    /// The file mapped.
    pub(crate) fn file(&self) -> *mut bindings::file {
        // SAFETY: the VMA is valid.
        unsafe { (*self.raw()).vm_file }
    }

    /// The `vm_private_data` set by [`VmaNew::set_ops`].
    pub(crate) fn private_data(&self) -> *mut c_void {
        // SAFETY: the VMA is valid.
        unsafe { (*self.raw()).vm_private_data }
    }
}

/// A VMA being set up by `f_op->mmap` (upstream `VmaNew`).
#[repr(transparent)]
pub(crate) struct VmaNew(Vma);

impl VmaNew {
    /// Borrows the VMA argument of `f_op->mmap`.
    ///
    /// # Safety
    ///
    /// `ptr` is the VMA passed to `f_op->mmap`, valid for `'a` with the mmap
    /// lock held for writing.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a VmaNew {
        // SAFETY: transparent wrappers; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    /// Sets and clears flags.
    pub(crate) fn mod_flags(&self, set: usize, clear: usize) {
        // SAFETY: the mmap lock is held for writing during `f_op->mmap`.
        unsafe { bindings::relay_rs_glue_vma_flags_mod(self.0.raw(), set as _, clear as _) };
    }

    /// Installs the mapping's operations and private data.
    ///
    /// # Safety
    ///
    /// `private` must stay valid for `ops` until the VMA's `close`.
    pub(crate) unsafe fn set_ops(
        &self,
        ops: &'static bindings::vm_operations_struct,
        private: *mut c_void,
    ) {
        // SAFETY: the VMA is being set up under the mmap write lock.
        unsafe {
            (*self.0.raw()).vm_ops = ops;
            (*self.0.raw()).vm_private_data = private;
        }
    }
}

impl core::ops::Deref for VmaNew {
    type Target = Vma;
    fn deref(&self) -> &Vma {
        &self.0
    }
}

/// A page fault, borrowed inside a `fault` hook.
#[repr(transparent)]
pub(crate) struct VmFault(Opaque<bindings::vm_fault>);

impl VmFault {
    /// Borrows the fault argument of a `fault` hook.
    ///
    /// # Safety
    ///
    /// `ptr` is the `vm_fault` passed to the hook, valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_fault) -> &'a VmFault {
        // SAFETY: transparent wrapper; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    /// The faulting VMA.
    pub(crate) fn vma(&self) -> &Vma {
        // SAFETY: the fault's VMA is valid (its lock is held) during the hook.
        unsafe { Vma::from_raw(bindings::relay_rs_glue_vmf_vma(self.0.get())) }
    }

    /// The faulting page's offset in the file, in pages.
    pub(crate) fn pgoff(&self) -> usize {
        // SAFETY: the fault is valid during the hook.
        unsafe { bindings::relay_rs_glue_vmf_pgoff(self.0.get()) as usize }
    }

    /// Answers the fault with `page`, taking a reference for the page table.
    ///
    /// # Safety
    ///
    /// `page` must be a live page that may be mapped into user space.
    pub(crate) unsafe fn set_page(&self, page: *mut bindings::page) {
        // SAFETY: the fault is valid; `page` is live (caller contract).
        unsafe { bindings::relay_rs_glue_vmf_set_page(self.0.get(), page) };
    }
}

/// The `private` word of a page (`page_private()`).
///
/// # Safety
///
/// `page` must be a valid page whose `private` word its owner (the caller)
/// uses, so no one else writes it concurrently.
#[inline(always)]
pub(crate) unsafe fn page_private(page: *mut bindings::page) -> usize {
    // SAFETY: a valid page (caller contract); `private` is a plain word of
    // its first union, which the owner of a non-slab, non-compound page uses.
    unsafe { core::ptr::addr_of!((*page).__bindgen_anon_1.__bindgen_anon_1.private).read() }
}

/// Sets the `private` word of a page (`set_page_private()`).
///
/// # Safety
///
/// As for [`page_private`], and no one reads it concurrently.
pub(crate) unsafe fn set_page_private(page: *mut bindings::page, value: usize) {
    // SAFETY: as in `page_private`; the caller owns the word.
    unsafe {
        core::ptr::addr_of_mut!((*page).__bindgen_anon_1.__bindgen_anon_1.private).write(value)
    };
}
