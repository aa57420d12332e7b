// SPDX-License-Identifier: GPL-2.0

//! The inline parts of `local_irq_save()`, `local_irq_restore()` and
//! `this_cpu_read()` that the write fast paths need. Rust cannot inline the
//! kernel's C inline functions, so on x86-64 (native, not Xen PV, whose
//! paravirt operations are not the native instructions) they are written
//! out here; elsewhere relay_rs' exported copies are called.

use super::{RawBuf, RawChan};

#[cfg(all(target_arch = "x86_64", not(CONFIG_XEN_PV)))]
mod imp {
    use super::{RawBuf, RawChan};
    use core::arch::asm;

    /// `X86_EFLAGS_IF`.
    const IF: usize = 1 << 9;

    #[cfg(CONFIG_TRACE_IRQFLAGS)]
    extern "C" {
        fn trace_hardirqs_off();
        fn trace_hardirqs_on();
    }

    /// Were interrupts enabled when `flags` were saved?
    #[inline(always)]
    pub(crate) fn irqs_enabled(flags: usize) -> bool {
        flags & IF != 0
    }

    /// `local_irq_save()`.
    #[inline(always)]
    pub(crate) fn irq_save() -> usize {
        let flags: usize;
        // SAFETY: reads EFLAGS and clears IF, exactly as the kernel's
        // `native_save_fl()` plus `native_irq_disable()`; the compiler
        // must not move memory accesses across it (no `nomem`).
        unsafe { asm!("pushfq", "pop {}", "cli", out(reg) flags) };
        #[cfg(CONFIG_TRACE_IRQFLAGS)]
        if irqs_enabled(flags) {
            // SAFETY: interrupts were just disabled, as the tracer
            // expects (`local_irq_save()` calls it here too).
            unsafe { trace_hardirqs_off() };
        }
        flags
    }

    /// `local_irq_restore()`.
    ///
    /// # Safety
    ///
    /// `flags` came from the matching [`irq_save`] on this CPU, and
    /// every section that disabled interrupts since has ended.
    #[inline(always)]
    pub(crate) unsafe fn irq_restore(flags: usize) {
        if irqs_enabled(flags) {
            // SAFETY: interrupts are about to be enabled, as the tracer
            // expects (`local_irq_restore()` calls it here too).
            #[cfg(CONFIG_TRACE_IRQFLAGS)]
            unsafe {
                trace_hardirqs_on()
            };
            // SAFETY: re-enables interrupts that the matching
            // `irq_save` found enabled (caller contract), as
            // `arch_local_irq_restore()` does.
            unsafe { asm!("sti", options(nostack)) };
        }
    }

    /// This CPU's buffer of `chan`: `this_cpu_read(*chan->buf)`, one
    /// `%gs`-relative load where `*this_cpu_ptr(chan->buf)` takes two
    /// (x86-64 per-CPU data is `%gs`-relative with a zero-based section
    /// in 6.12).
    ///
    /// # Safety
    ///
    /// `chan` is an open channel; the caller is pinned to its CPU.
    #[inline(always)]
    pub(crate) unsafe fn this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf {
        // SAFETY: `chan` is an open channel (caller contract).
        let slot = unsafe { (*chan).buf };
        let buf: *mut RawBuf;
        // SAFETY: `slot` is an open channel's per-CPU pointer, whose copy
        // for this CPU holds this CPU's buffer while the channel is open.
        unsafe {
            asm!(
                "mov {}, qword ptr gs:[{}]",
                out(reg) buf,
                in(reg) slot,
                options(nostack, readonly, preserves_flags)
            )
        };
        buf
    }
}

#[cfg(not(all(target_arch = "x86_64", not(CONFIG_XEN_PV))))]
mod imp {
    use super::{RawBuf, RawChan};

    extern "C" {
        fn relay_rs_local_irq_save() -> usize;
        fn relay_rs_local_irq_restore(flags: usize);
        fn relay_rs_irqs_disabled_flags(flags: usize) -> bool;
        fn relay_rs_this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf;
    }

    pub(crate) fn irqs_enabled(flags: usize) -> bool {
        // SAFETY: no preconditions.
        !unsafe { relay_rs_irqs_disabled_flags(flags) }
    }

    /// `local_irq_save()` (traced there, if the kernel traces).
    pub(crate) fn irq_save() -> usize {
        // SAFETY: no preconditions.
        unsafe { relay_rs_local_irq_save() }
    }

    /// # Safety
    ///
    /// `flags` came from the matching [`irq_save`] on this CPU, and
    /// every section that disabled interrupts since has ended.
    pub(crate) unsafe fn irq_restore(flags: usize) {
        // SAFETY: forwarded caller contract.
        unsafe { relay_rs_local_irq_restore(flags) }
    }

    /// # Safety
    ///
    /// `chan` is an open channel; the caller is pinned to its CPU.
    pub(crate) unsafe fn this_cpu_buf(chan: *mut RawChan) -> *mut RawBuf {
        // SAFETY: forwarded caller contract.
        unsafe { relay_rs_this_cpu_buf(chan) }
    }
}

pub(crate) use imp::*;
