// SPDX-License-Identifier: GPL-2.0

//! CPU hotplug: buffers and files for CPUs that come online after a
//! channel was opened.
//!
//! 6.12's relay hooks a static hotplug slot reserved for built-in code; a
//! module registers a dynamic one (`CPUHP_BP_PREPARE_DYN`) instead. Its
//! prepare callback runs on a control CPU before the new CPU runs anything,
//! under the hotplug lock, and gives every open channel a buffer (and file)
//! for it. Buffers are never removed when a CPU goes offline: their data
//! stays readable, `flush` and `close` handle them, and they are reused when
//! the CPU comes back.

use crate::{bindings, channel::registry::ChannelsLocked, compat::cpu::CpuId};
use core::sync::atomic::{AtomicI32, Ordering};
use kernel::prelude::*;

/// The dynamic hotplug state, once registered.
static STATE: AtomicI32 = AtomicI32::new(-1);

/// Hotplug prepare callback: a buffer for `cpu` in every open channel.
///
/// # Safety
///
/// Called by the hotplug core, in process context, with the hotplug lock held.
unsafe extern "C" fn prepare_cpu(cpu: u32) -> i32 {
    let Some(cpu) = CpuId::from_u32(cpu) else {
        return EINVAL.to_errno();
    };
    let lock = ChannelsLocked::new();
    for chan in lock.channels() {
        if chan.buffer(cpu).is_some() {
            continue;
        }
        if let Err(e) = chan.open_buf(&lock, cpu) {
            pr_warn!(
                "cpu {} buffer creation failed: {}\n",
                cpu.as_u32(),
                e.to_errno()
            );
            return ENOMEM.to_errno();
        }
    }
    0
}

/// Registers the hotplug state (module load).
pub(crate) fn init() -> Result {
    // SAFETY: a static name and callback; no instance state.
    let ret = unsafe {
        bindings::__cpuhp_setup_state(
            bindings::cpuhp_state_CPUHP_BP_PREPARE_DYN,
            c"relay_rs:prepare".to_bytes_with_nul().as_ptr(),
            false,
            Some(prepare_cpu),
            None,
            false,
        )
    };
    if ret < 0 {
        return Err(Error::from_errno(ret));
    }
    STATE.store(ret, Ordering::Release);
    Ok(())
}

/// Removes the hotplug state (module unload).
pub(crate) fn exit() {
    let state = STATE.swap(-1, Ordering::AcqRel);
    if state >= 0 {
        // SAFETY: the state registered by `init`, removed once.
        unsafe { bindings::__cpuhp_remove_state(state, false) };
    }
}
