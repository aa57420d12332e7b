// SPDX-License-Identifier: GPL-2.0

//! A per-CPU array of buffer pointers (`struct rchan_buf * __percpu *`).
//! Relay_rs' own on both kernels: 7.3's `kernel` crate has no per-CPU
//! allocations either.
//!
//! C header: [`include/linux/percpu.h`](srctree/include/linux/percpu.h).

use super::cpu::CpuId;
use crate::bindings;
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// One `struct rchan_buf *` slot per possible CPU, zero-initialised.
///
/// Slots are read by producers on their own CPU and written by open, close
/// and CPU hotplug under the channels lock, so they are accessed atomically.
///
/// # Invariants
///
/// `ptr` is a live `alloc_percpu(struct rchan_buf *)` allocation owned by
/// this object.
pub(crate) struct PerCpuBufPtrs {
    ptr: NonNull<*mut bindings::rchan_buf>,
}

// SAFETY: per-CPU memory is usable from any CPU; slot accesses are atomic.
unsafe impl Send for PerCpuBufPtrs {}
// SAFETY: as above.
unsafe impl Sync for PerCpuBufPtrs {}

impl PerCpuBufPtrs {
    /// Allocates the slots, all NULL.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain allocation.
        let ptr = unsafe { bindings::relay_rs_glue_alloc_buf_ptrs() };
        // INVARIANT: a non-NULL result is a fresh per-CPU allocation we own.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// The `__percpu` pointer, as stored in C `struct rchan`.
    pub(crate) fn as_raw(&self) -> *mut *mut bindings::rchan_buf {
        self.ptr.as_ptr()
    }

    fn slot(&self, cpu: CpuId) -> &AtomicPtr<bindings::rchan_buf> {
        // SAFETY: the allocation is live (type invariant) and `cpu` is a valid id.
        let p = unsafe { bindings::relay_rs_glue_per_cpu_buf(self.ptr.as_ptr(), cpu.as_u32()) };
        // SAFETY: `p` is an aligned pointer slot that lives as long as `self`,
        // and every access to it goes through an atomic.
        unsafe { AtomicPtr::from_ptr(p) }
    }

    /// The pointer stored for `cpu`.
    pub(crate) fn get(&self, cpu: CpuId) -> *mut bindings::rchan_buf {
        self.slot(cpu).load(Ordering::Acquire)
    }

    /// Stores the pointer for `cpu`.
    pub(crate) fn set(&self, cpu: CpuId, buf: *mut bindings::rchan_buf) {
        self.slot(cpu).store(buf, Ordering::Release);
    }
}

impl Drop for PerCpuBufPtrs {
    fn drop(&mut self) {
        // SAFETY: the allocation is ours and freed once.
        unsafe { bindings::relay_rs_glue_free_buf_ptrs(self.ptr.as_ptr()) };
    }
}
