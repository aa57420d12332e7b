// SPDX-License-Identifier: GPL-2.0

//! Memory mappings.
//!
//! [`Vma`] and [`VmaNew`] stand in on 6.12 for upstream's
//! `kernel::mm::virt::{VmaRef, VmaNew}`; on 7.3 they are thin wrappers of
//! those, whose bounds, flags and flag operations (`set_dontexpand`,
//! `set_dontdump`, `try_clear_maywrite`) they use. What 7.3 still lacks
//! stays relay_rs' own on both: a VMA's offset, file and private data,
//! installing `vm_operations_struct` ([`VmaNew::set_ops`]), the fault of a
//! `fault` hook ([`VmFault`]; upstream maps pages with `vm_insert_page` in
//! `mmap` instead), and a page's `private` word.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h).

use super::fs::File;
use crate::bindings;
use core::ops::Deref;
use kernel::{ffi::c_void, prelude::*, types::Opaque};

/// VMA flags used by relay files (`include/linux/mm.h`).
#[cfg(relay_rs_kernel = "6.12")]
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
/// `f_op->mmap`), or in a `fault` hook its own VMA lock instead, for the
/// lifetime of the reference.
#[cfg(relay_rs_kernel = "6.12")]
#[repr(transparent)]
pub(crate) struct Vma(Opaque<bindings::vm_area_struct>);

/// A VMA, borrowed inside `f_op->mmap` or a `vm_operations_struct` hook:
/// upstream's `VmaRef`, with relay_rs' accessors.
///
/// # Invariants
///
/// As for upstream's `VmaRef`: the VMA is valid and its mm's mmap lock
/// (for writing in `f_op->mmap`) or, in a `fault` hook, its own VMA lock
/// is held for the lifetime of the reference.
#[cfg(relay_rs_kernel = "7.3")]
#[repr(transparent)]
pub(crate) struct Vma(kernel::mm::virt::VmaRef);

#[cfg(relay_rs_kernel = "6.12")]
impl Vma {
    /// Borrows a VMA.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid VMA whose mmap lock (or VMA lock, in a fault)
    /// is held for `'a`.
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

    /// The VMA's flags.
    pub(crate) fn flags(&self) -> usize {
        // SAFETY: the VMA is valid.
        unsafe { bindings::relay_rs_glue_vma_flags(self.raw()) as usize }
    }
}

#[cfg(relay_rs_kernel = "7.3")]
impl Vma {
    /// Borrows a VMA.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid VMA whose mmap lock (or VMA lock, in a fault)
    /// is held for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a Vma {
        // SAFETY: valid, with its mmap or VMA lock held for 'a (caller
        // contract), which is what upstream asks.
        let vma = unsafe { kernel::mm::virt::VmaRef::from_raw(ptr) };
        // INVARIANT: upstream's `VmaRef` invariant, just established.
        // SAFETY: `Vma` is a transparent wrapper of `VmaRef`.
        unsafe { &*core::ptr::from_ref(vma).cast::<Vma>() }
    }

    fn raw(&self) -> *mut bindings::vm_area_struct {
        self.0.as_ptr()
    }

    /// Length of the mapping in bytes.
    pub(crate) fn len(&self) -> usize {
        self.0.end() - self.0.start()
    }

    /// The VMA's flags.
    // Kept for the same items on both kernels; on 7.3 only upstream's
    // flag operations read the flags.
    #[allow(dead_code)]
    pub(crate) fn flags(&self) -> usize {
        self.0.flags()
    }
}

impl Vma {
    /// Offset of the mapping in the file, in pages.
    pub(crate) fn pgoff(&self) -> usize {
        // SAFETY: the VMA is valid and its offset fixed while the lock is held.
        unsafe { (*self.raw()).vm_pgoff }
    }

    /// The file mapped, `None` for an anonymous mapping.
    pub(crate) fn file(&self) -> Option<&File> {
        // SAFETY: the VMA is valid; `vm_file` is written only under the
        // mmap lock held for writing, which excludes every other holder (in
        // `f_op->mmap`, the writer would be this task).
        let file = unsafe { (*self.raw()).vm_file };
        // SAFETY: a VMA holds a reference on its file until it is freed, so
        // a non-NULL `vm_file` is valid for as long as the VMA is borrowed.
        (!file.is_null()).then(|| unsafe { File::from_raw(file) })
    }

    /// The `vm_private_data` set by [`VmaNew::set_ops`].
    pub(crate) fn private_data(&self) -> *mut c_void {
        // SAFETY: the VMA is valid.
        unsafe { (*self.raw()).vm_private_data }
    }
}

/// A VMA being set up by `f_op->mmap` (upstream `VmaNew`): its flags may
/// still be changed, by the named operations below only, which keep them
/// consistent (a raw flag mask could, say, set `VM_WRITE` on a read-only
/// file or `VM_PFNMAP` on a page-backed VMA).
///
/// # Invariants
///
/// For the lifetime of the reference, the VMA is being set up by an
/// `f_op->mmap` call on this task, with the mmap lock held for writing.
#[cfg(relay_rs_kernel = "6.12")]
#[repr(transparent)]
pub(crate) struct VmaNew(Vma);

/// A VMA being set up by `f_op->mmap`: upstream's `VmaNew`, whose named
/// flag operations keep the flags consistent, with relay_rs' `set_ops`.
///
/// # Invariants
///
/// As for upstream's `VmaNew`: for the lifetime of the reference, the VMA
/// is being set up by an `f_op->mmap` call (on this task, with the mmap
/// lock held for writing).
#[cfg(relay_rs_kernel = "7.3")]
#[repr(transparent)]
pub(crate) struct VmaNew(kernel::mm::virt::VmaNew);

#[cfg(relay_rs_kernel = "6.12")]
impl VmaNew {
    /// Borrows the VMA argument of `f_op->mmap`.
    ///
    /// # Safety
    ///
    /// `ptr` is the VMA passed to an `f_op->mmap` call that lasts for `'a`
    /// on this task (which holds the mmap lock for writing).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a VmaNew {
        // INVARIANT: per the caller contract; the reference cannot leave
        // this task (`VmaNew` is neither `Send` nor `Sync`, as `Opaque` is not).
        // SAFETY: transparent wrappers; validity per the caller contract.
        unsafe { &*ptr.cast() }
    }

    /// Sets the flags in `set` and clears those in `clear`.
    ///
    /// # Safety
    ///
    /// The resulting flags must be valid for this VMA.
    unsafe fn update_flags(&self, set: usize, clear: usize) {
        // SAFETY: the VMA is valid and the mmap lock held for writing (type
        // invariant), as `vm_flags_mod` requires; the result is valid
        // (caller contract).
        unsafe { bindings::relay_rs_glue_vma_flags_mod(self.0.raw(), set as _, clear as _) };
    }

    /// Sets `VM_DONTEXPAND`: `mremap` cannot grow the mapping.
    pub(crate) fn set_dontexpand(&self) {
        // SAFETY: setting `VM_DONTEXPAND` is always valid.
        unsafe { self.update_flags(flags::DONTEXPAND, 0) };
    }

    /// Sets `VM_DONTDUMP`: the mapping is left out of core dumps.
    pub(crate) fn set_dontdump(&self) {
        // SAFETY: setting `VM_DONTDUMP` is always valid.
        unsafe { self.update_flags(flags::DONTDUMP, 0) };
    }

    /// Is the mapping writable (`VM_WRITE`)?
    pub(crate) fn writable(&self) -> bool {
        self.flags() & flags::WRITE != 0
    }

    /// Clears `VM_MAYWRITE`, so that `mprotect` can never make the mapping
    /// writable; fails with `EINVAL` if it is writable already.
    pub(crate) fn try_clear_maywrite(&self) -> Result {
        if self.writable() {
            return Err(EINVAL);
        }
        // SAFETY: clearing `VM_MAYWRITE` is valid when `VM_WRITE` is clear.
        unsafe { self.update_flags(0, flags::MAYWRITE) };
        Ok(())
    }

    /// Installs the mapping's operations and private data.
    ///
    /// # Safety
    ///
    /// `ops` must be sound to call on this VMA and its copies with `private`
    /// as their `vm_private_data`: `private` must stay valid for them until
    /// the `close` of the last of them.
    pub(crate) unsafe fn set_ops(
        &self,
        ops: &'static bindings::vm_operations_struct,
        private: *mut c_void,
    ) {
        // SAFETY: the VMA is valid and being set up under the mmap write
        // lock (type invariant): nothing else reads these fields yet.
        unsafe {
            (*self.0.raw()).vm_ops = ops;
            (*self.0.raw()).vm_private_data = private;
        }
    }
}

#[cfg(relay_rs_kernel = "6.12")]
impl Deref for VmaNew {
    type Target = Vma;
    fn deref(&self) -> &Vma {
        &self.0
    }
}

#[cfg(relay_rs_kernel = "7.3")]
impl VmaNew {
    /// Borrows the VMA argument of `f_op->mmap`.
    ///
    /// # Safety
    ///
    /// `ptr` is the VMA passed to an `f_op->mmap` call that lasts for `'a`
    /// on this task (which holds the mmap lock for writing).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::vm_area_struct) -> &'a VmaNew {
        // SAFETY: the VMA is undergoing its initial setup in `f_op->mmap`
        // for 'a (caller contract), which is what upstream asks.
        let vma = unsafe { kernel::mm::virt::VmaNew::from_raw(ptr) };
        // INVARIANT: upstream's `VmaNew` invariant, just established; the
        // reference cannot leave this task (`VmaNew` is neither `Send` nor
        // `Sync`, as upstream's is not).
        // SAFETY: `VmaNew` is a transparent wrapper of upstream's.
        unsafe { &*core::ptr::from_ref(vma).cast::<VmaNew>() }
    }

    /// Sets `VM_DONTEXPAND`: `mremap` cannot grow the mapping.
    pub(crate) fn set_dontexpand(&self) {
        self.0.set_dontexpand();
    }

    /// Sets `VM_DONTDUMP`: the mapping is left out of core dumps.
    pub(crate) fn set_dontdump(&self) {
        self.0.set_dontdump();
    }

    /// Is the mapping writable (`VM_WRITE`)?
    // Kept for the same items on both kernels; upstream's
    // `try_clear_maywrite` checks it itself.
    #[allow(dead_code)]
    pub(crate) fn writable(&self) -> bool {
        self.0.writable()
    }

    /// Clears `VM_MAYWRITE`, so that `mprotect` can never make the mapping
    /// writable; fails with `EINVAL` if it is writable already.
    pub(crate) fn try_clear_maywrite(&self) -> Result {
        self.0.try_clear_maywrite()
    }

    /// Installs the mapping's operations and private data.
    ///
    /// # Safety
    ///
    /// `ops` must be sound to call on this VMA and its copies with `private`
    /// as their `vm_private_data`: `private` must stay valid for them until
    /// the `close` of the last of them.
    pub(crate) unsafe fn set_ops(
        &self,
        ops: &'static bindings::vm_operations_struct,
        private: *mut c_void,
    ) {
        let vma = self.0.as_ptr();
        // SAFETY: the VMA is valid and being set up under the mmap write
        // lock (type invariant): nothing else reads these fields yet.
        unsafe {
            (*vma).vm_ops = ops;
            (*vma).vm_private_data = private;
        }
    }
}

#[cfg(relay_rs_kernel = "7.3")]
impl Deref for VmaNew {
    type Target = Vma;
    fn deref(&self) -> &Vma {
        // SAFETY: the VMA is valid and its mmap lock held for writing for
        // as long as `self` is borrowed (type invariant).
        unsafe { Vma::from_raw(self.0.as_ptr()) }
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
