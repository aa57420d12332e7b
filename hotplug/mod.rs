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

use crate::{
    bindings,
    channel::{Channel, ChannelsLocked},
    compat::{cpu::CpuId, sync::AssertSync},
};
use core::{
    cell::UnsafeCell,
    sync::atomic::{AtomicI32, Ordering},
};
use kernel::{alloc::KVec, prelude::*, sync::Arc};

/// The channels open now, for the hotplug callback. Only [`open_channels`]
/// and [`open_channels_mut`] access it, with the channels lock held.
static OPEN: AssertSync<UnsafeCell<KVec<Arc<Channel>>>> =
    // SAFETY: every access holds the channels lock (only the two functions
    // above reach it, given proof of it); the vector is `Send`.
    unsafe { AssertSync::new(UnsafeCell::new(KVec::new())) };

/// The dynamic hotplug state, once registered.
static STATE: AtomicI32 = AtomicI32::new(-1);

/// The list of open channels, to read; `_lock` proves the channels lock
/// is held, and borrowing it keeps [`open_channels_mut`] away meanwhile.
fn open_channels(_lock: &ChannelsLocked) -> &KVec<Arc<Channel>> {
    // SAFETY: the channels lock is held for the lifetime of the result, and
    // the guard, the only one (it is the lock's), is borrowed: no mutable
    // reference to the list exists or can be made meanwhile.
    unsafe { &*OPEN.get().get() }
}

/// The list of open channels, to change; `_lock` proves the channels lock
/// is held, and borrowing it mutably keeps two borrows of the list apart.
fn open_channels_mut(_lock: &mut ChannelsLocked) -> &mut KVec<Arc<Channel>> {
    // SAFETY: the channels lock is held and its only guard mutably borrowed
    // for the lifetime of the result, so this is the only reference.
    unsafe { &mut *OPEN.get().get() }
}

/// Adds a newly opened channel (with the channels lock held).
pub(crate) fn register(lock: &mut ChannelsLocked, chan: &Arc<Channel>) -> Result {
    open_channels_mut(lock).push(chan.clone(), GFP_KERNEL)?;
    Ok(())
}

/// Removes a closing channel (with the channels lock held).
pub(crate) fn unregister(lock: &mut ChannelsLocked, chan: &Channel) {
    let list = open_channels_mut(lock);
    if let Some(i) = list.iter().position(|c| core::ptr::eq(&**c, chan)) {
        drop(swap_remove(list, i));
    }
    if list.is_empty() {
        // Give the capacity back: a static is never dropped, so whatever
        // it holds at unload would leak.
        *list = KVec::new();
    }
}

/// Removes element `i` by moving the last one into its place (the 6.12
/// `KVec` has neither `swap_remove` nor `pop`).
fn swap_remove<T>(v: &mut KVec<T>, i: usize) -> Option<T> {
    let last = v.len().checked_sub(1)?;
    if i > last {
        return None;
    }
    v.as_mut_slice().swap(i, last);
    // SAFETY: element `last` is initialised; the length shrinks right
    // after, so it is moved out exactly once and never dropped in place.
    let item = unsafe { core::ptr::read(v.as_ptr().add(last)) };
    // SAFETY: `last` is below the capacity and the elements before it are
    // initialised.
    unsafe { v.set_len(last) };
    Some(item)
}

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
    for chan in open_channels(&lock).iter() {
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
            c"relay_rs:prepare".as_ptr().cast(),
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

/// Removes the hotplug state (module unload: no channel is open any more).
pub(crate) fn exit() {
    let mut lock = ChannelsLocked::new();
    let list = open_channels_mut(&mut lock);
    if !list.is_empty() {
        pr_warn!("unloaded with {} channels open\n", list.len());
    }
    *list = KVec::new();
    drop(lock);
    let state = STATE.swap(-1, Ordering::AcqRel);
    if state >= 0 {
        // SAFETY: the state registered by `init`, removed once.
        unsafe { bindings::__cpuhp_remove_state(state as _, false) };
    }
}
