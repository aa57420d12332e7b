// SPDX-License-Identifier: GPL-2.0

//! Order-0 pages mapped into one virtually contiguous kernel range, built
//! on upstream's `kernel::page::Page` on both kernels. The mapping is
//! relay_rs' own: neither kernel's crate maps pages it is given (`vmap`).
//! 7.3's `VVec` lists the pages of its `vmalloc` memory (`page_iter`), but
//! only borrowed, while relay_rs owns its pages, gives C their array
//! (`rchan_buf.page_array`) and uses each page's `private` word (splice).
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h).

use crate::bindings;
use core::ptr::NonNull;
use kernel::{
    alloc::{flags, KVVec},
    page::Page,
    prelude::*,
};

/// Zeroed pages, owned, and their contiguous kernel mapping.
///
/// # Invariants
///
/// `addr` is the `vmap` of exactly the pages in `pages`, in order, and
/// `array[i] == pages[i].as_ptr()`; the mapping is `pages.len() * PAGE_SIZE`
/// bytes long and lives until drop.
pub(crate) struct VmappedPages {
    pages: KVVec<Page>,
    array: KVVec<*mut bindings::page>,
    addr: NonNull<u8>,
}

// SAFETY: the pages and the mapping are plain kernel memory, usable from any thread.
unsafe impl Send for VmappedPages {}
// SAFETY: `&VmappedPages` only hands out addresses; accesses are the users' to order.
unsafe impl Sync for VmappedPages {}

impl VmappedPages {
    /// Allocates `n_pages` zeroed order-0 pages and maps them contiguously.
    pub(crate) fn new(n_pages: usize) -> Result<Self> {
        let count = u32::try_from(n_pages).map_err(|_| EINVAL)?;
        let mut pages = KVVec::with_capacity(n_pages, GFP_KERNEL)?;
        let mut array = KVVec::with_capacity(n_pages, GFP_KERNEL)?;
        for _ in 0..n_pages {
            let page = Page::alloc_page(GFP_KERNEL | flags::__GFP_ZERO)?;
            array.push(page.as_ptr(), GFP_KERNEL)?;
            pages.push(page, GFP_KERNEL)?;
        }
        // SAFETY: `array` holds `count` valid pages that we own; they stay
        // allocated until the mapping is removed in `drop`.
        let addr = unsafe { bindings::relay_rs_glue_vmap(array.as_mut_ptr(), count) };
        let addr = NonNull::new(addr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `addr` maps `pages` in order, and `array` mirrors them.
        Ok(Self { pages, array, addr })
    }

    /// Start of the mapping.
    pub(crate) fn addr(&self) -> *mut u8 {
        self.addr.as_ptr()
    }

    /// Number of pages.
    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// The `index`-th page.
    pub(crate) fn page(&self, index: usize) -> Option<*mut bindings::page> {
        self.array.get(index).copied()
    }

    /// The `struct page *` array (as C `rchan_buf.page_array` exposes it).
    pub(crate) fn page_array(&self) -> *mut *mut bindings::page {
        self.array.as_ptr().cast_mut()
    }
}

impl Drop for VmappedPages {
    fn drop(&mut self) {
        // SAFETY: `addr` came from `vmap` (type invariant) and is unmapped once;
        // the pages are freed afterwards when `pages` drops.
        unsafe { bindings::vunmap(self.addr.as_ptr().cast()) };
    }
}
