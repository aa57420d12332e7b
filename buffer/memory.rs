// SPDX-License-Identifier: GPL-2.0

//! A buffer's memory: allocating the ring (vmap'd order-0 pages), the
//! padding and start-count arrays and the C `struct rchan_buf`; tagging
//! the pages for splice; freeing it all with the last reference.

use super::{wakeup::wakeup_readers, zeroed, Accounting, Buffer, LocklessWords, ProducerWords};
use crate::{
    bindings,
    channel::Channel,
    compat::{cpu, irq_work::IrqWork, mm, poll::WaitQueue, vmap::VmappedPages},
};
use core::ptr::addr_of_mut;
#[cfg(CONFIG_KUNIT)]
use core::sync::atomic::Ordering;
use kernel::{page::PAGE_SIZE, prelude::*, sync::Arc, types::Opaque};

impl Buffer {
    /// Allocates a buffer for `chan`, not yet reset and without a file.
    pub(crate) fn new(chan: &Arc<Channel>, cpu: u32) -> Result<Arc<Self>> {
        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::should_fail()?;
        let geo = chan.geometry();
        let mem = VmappedPages::new(geo.alloc_size(PAGE_SIZE) / PAGE_SIZE)?;
        let padding = zeroed(geo.n_subbufs())?;
        let starts = zeroed(geo.n_subbufs())?;
        let lockless = if chan.is_lockless() {
            Some(LocklessWords::new(
                geo.n_subbufs(),
                cpu::nr_cpu_ids() as usize,
            )?)
        } else {
            None
        };
        let buf = Arc::pin_init(
            pin_init!(Self {
                raw: Opaque::new(bindings::rchan_buf::default()),
                chan: chan.clone(),
                geo,
                mem,
                padding,
                starts,
                producer: ProducerWords::default(),
                lockless,
                read_lock <- kernel::new_mutex!(0),
                accounting: Accounting::default(),
            }),
            GFP_KERNEL,
        )?;
        let r = buf.raw.get();
        // SAFETY: `buf` is not shared yet, so we have exclusive access to
        // `raw`; it lives in the `Arc` allocation and never moves.
        unsafe {
            (*r).start = buf.mem.addr().cast();
            (*r).data = buf.mem.addr().cast();
            (*r).chan = chan.as_raw();
            (*r).page_array = buf.mem.page_array();
            (*r).page_count = buf.mem.page_count() as u32;
            (*r).padding = buf.padding.as_ptr().cast::<usize>().cast_mut();
            (*r).cpu = cpu;
            WaitQueue::init(addr_of_mut!((*r).read_wait));
            IrqWork::init(addr_of_mut!((*r).wakeup_work), wakeup_readers);
        }
        // Splice finds a pipe buffer's relay buffer through its page.
        for i in 0..buf.mem.page_count() {
            if let Some(page) = buf.mem.page(i) {
                // SAFETY: a page we own, not shared yet; `private` is unused by
                // the allocator.
                unsafe { mm::set_page_private(page, buf.as_raw() as usize) };
            }
        }
        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        // INVARIANT: every field named by the invariant was just set.
        Ok(buf)
    }

    /// The `pgoff`-th page of the ring, for the mmap fault handler.
    pub(crate) fn page(&self, pgoff: usize) -> Option<*mut bindings::page> {
        self.mem.page(pgoff)
    }
}

#[pinned_drop]
impl PinnedDrop for Buffer {
    fn drop(self: Pin<&mut Self>) {
        // A queued wake-up must not run on freed memory.
        self.wakeup_work().sync();
        for i in 0..self.mem.page_count() {
            if let Some(page) = self.mem.page(i) {
                // SAFETY: a page we own, about to be freed, that no pipe or
                // mapping reads any more (a mapping's file, or bytes in flight
                // in a pipe, keep the buffer alive): clear what `new` set.
                unsafe { mm::set_page_private(page, 0) };
            }
        }
        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}
