// SPDX-License-Identifier: GPL-2.0

//! CPU identifiers, CPU masks and the contexts that pin a task to its CPU.
//!
//! [`CpuId`] and [`nr_cpu_ids`] stand in on 6.12 for upstream's
//! `kernel::cpu`; on 7.3 they are built on it: [`nr_cpu_ids`]
//! is upstream's, and [`CpuId`] a thin newtype of upstream's `CpuId`
//! (convertible into it) that adds what 7.3 still lacks, `is_online` and
//! `is_possible`. 7.3 has no safe `cpus_read_lock` guard or
//! `smp_call_function_single` either ([`CpusReadLocked`], [`run_on`]), nor
//! cpuhp states (`hotplug/` registers its own).
//!
//! C headers: [`include/linux/cpumask.h`](srctree/include/linux/cpumask.h),
//! [`include/linux/irqflags.h`](srctree/include/linux/irqflags.h).

use crate::bindings;
use core::{ffi::c_void, marker::PhantomData};
use kernel::error::{to_result, Result};

/// A CPU number.
///
/// # Invariants
///
/// The id lies within `[0, nr_cpu_ids())`.
#[cfg(relay_rs_kernel = "6.12")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpuId(u32);

/// A CPU number: upstream's, with the queries relay_rs needs.
///
/// # Invariants
///
/// The id lies within `[0, nr_cpu_ids())` (upstream `CpuId`'s own).
#[cfg(relay_rs_kernel = "7.3")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct CpuId(kernel::cpu::CpuId);

/// Number of CPU ids the system can have (`nr_cpu_ids`).
#[cfg(relay_rs_kernel = "6.12")]
pub(crate) fn nr_cpu_ids() -> u32 {
    // SAFETY: reads a variable fixed at boot.
    unsafe { bindings::relay_rs_glue_nr_cpu_ids() }
}

/// Number of CPU ids the system can have (`nr_cpu_ids`).
#[cfg(relay_rs_kernel = "7.3")]
pub(crate) use kernel::cpu::nr_cpu_ids;

#[cfg(relay_rs_kernel = "7.3")]
impl CpuId {
    /// Checks `id` against `nr_cpu_ids`.
    pub(crate) fn from_u32(id: u32) -> Option<Self> {
        // INVARIANT: upstream's `from_u32` checks the same bound.
        kernel::cpu::CpuId::from_u32(id).map(Self)
    }

    /// The id as a number.
    pub(crate) fn as_u32(self) -> u32 {
        self.0.as_u32()
    }

    /// Is this CPU online now?
    pub(crate) fn is_online(self) -> bool {
        // SAFETY: `self.as_u32() < nr_cpu_ids` by the type invariant.
        unsafe { bindings::relay_rs_glue_cpu_online(self.as_u32()) }
    }

    /// Can this CPU ever be brought online?
    pub(crate) fn is_possible(self) -> bool {
        // SAFETY: `self.as_u32() < nr_cpu_ids` by the type invariant.
        unsafe { bindings::relay_rs_glue_cpu_possible(self.as_u32()) }
    }
}

/// For upstream APIs that take a CPU (`Cpumask`, `cpu::from_cpu`).
#[cfg(relay_rs_kernel = "7.3")]
impl From<CpuId> for kernel::cpu::CpuId {
    fn from(cpu: CpuId) -> Self {
        cpu.0
    }
}

#[cfg(relay_rs_kernel = "6.12")]
impl CpuId {
    /// Checks `id` against `nr_cpu_ids`.
    pub(crate) fn from_u32(id: u32) -> Option<Self> {
        if id < nr_cpu_ids() {
            // INVARIANT: `id` was just checked.
            Some(Self(id))
        } else {
            None
        }
    }

    /// The id as a number.
    pub(crate) fn as_u32(self) -> u32 {
        self.0
    }

    /// Is this CPU online now?
    pub(crate) fn is_online(self) -> bool {
        // SAFETY: `self.0 < nr_cpu_ids` by the type invariant.
        unsafe { bindings::relay_rs_glue_cpu_online(self.0) }
    }

    /// Can this CPU ever be brought online?
    pub(crate) fn is_possible(self) -> bool {
        // SAFETY: `self.0 < nr_cpu_ids` by the type invariant.
        unsafe { bindings::relay_rs_glue_cpu_possible(self.0) }
    }
}

/// All possible CPUs.
pub(crate) fn possible_cpus() -> impl Iterator<Item = CpuId> {
    (0..nr_cpu_ids())
        .filter_map(CpuId::from_u32)
        .filter(|c| c.is_possible())
}

/// All CPUs online at the time each is visited.
pub(crate) fn online_cpus() -> impl Iterator<Item = CpuId> {
    (0..nr_cpu_ids())
        .filter_map(CpuId::from_u32)
        .filter(|c| c.is_online())
}

/// CPU hotplug held off (`cpus_read_lock`) until drop.
///
/// Neither `Send` nor `Sync`: the lock is released by the task that took it.
#[must_use = "hotplug is allowed again as soon as the guard is dropped"]
pub(crate) struct CpusReadLocked(PhantomData<*mut ()>);

impl CpusReadLocked {
    /// Takes the hotplug read lock; may sleep.
    pub(crate) fn new() -> Self {
        // SAFETY: `cpus_read_lock` has no precondition but a context that
        // may sleep (like `Mutex::lock`); it is released in `drop`.
        unsafe { bindings::cpus_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for CpusReadLocked {
    fn drop(&mut self) {
        // SAFETY: balances `cpus_read_lock` in `new`, on the same task (the
        // guard is not `Send`).
        unsafe { bindings::cpus_read_unlock() };
    }
}

/// Runs `f` on `cpu` in interrupt context (an IPI) and waits for it; runs
/// it here with interrupts off if `cpu` is this CPU. Fails with `ENXIO`,
/// without running `f`, if `cpu` is offline.
///
/// `f` runs on another task's stack and CPU while this one waits, so it
/// must be `Send`; it runs with interrupts off, so it must not sleep.
pub(crate) fn run_on<F: FnMut() + Send>(cpu: CpuId, f: &mut F) -> Result {
    /// # Safety
    ///
    /// `info` is a `&mut F` that stays borrowed until this returns.
    unsafe extern "C" fn trampoline<F: FnMut() + Send>(info: *mut c_void) {
        // SAFETY: `info` is the `&mut F` borrowed by `run_on` for the whole
        // call (function contract); `F: Send` lets it be used on this CPU.
        let f = unsafe { &mut *info.cast::<F>() };
        f();
    }
    // `smp_call_function_single`'s `wait`: an `int` on 6.12, a `bool` on 7.3.
    #[cfg(relay_rs_kernel = "6.12")]
    let wait = true.into();
    #[cfg(relay_rs_kernel = "7.3")]
    let wait = true;
    // SAFETY: `cpu` is a valid id (type invariant); `f` stays borrowed until
    // `smp_call_function_single` returns, which with `wait = 1` is after
    // `trampoline` has returned, and no one else uses it meanwhile.
    let ret = unsafe {
        bindings::smp_call_function_single(
            cpu.as_u32() as i32,
            Some(trampoline::<F>),
            core::ptr::from_mut(f).cast(),
            wait,
        )
    };
    to_result(ret)
}

/// The CPU this runs on, which may change right after unless the caller
/// keeps it (`raw_smp_processor_id()`): a hint for per-CPU data that is
/// correct either way.
pub(crate) fn this_cpu() -> u32 {
    // SAFETY: no preconditions.
    unsafe { bindings::relay_rs_glue_this_cpu() }
}

/// The interrupt context level of the caller (`interrupt_context_level()`):
/// 0 task, 1 softirq, 2 hardirq, 3 NMI. Writers of one level on one CPU do
/// not interrupt each other.
pub(crate) fn context_level() -> usize {
    // SAFETY: no preconditions; reads the caller's preempt count.
    unsafe { bindings::relay_rs_glue_context_level() as usize }
}
