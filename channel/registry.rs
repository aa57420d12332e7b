// SPDX-License-Identifier: GPL-2.0

//! The registry of open channels and the channels lock that guards it.
//!
//! The lock (6.12's `relay_channels_mutex`) serialises channel open,
//! close, flush, reset, late file setup and CPU hotplug; the list it
//! protects is what the hotplug callback walks to give a CPU that comes
//! online a buffer in every open channel. Its place in the lock order is
//! in the README's list of locks ("Locks, in the order they may be taken").

use crate::{
    channel::Channel,
    compat::{alloc::swap_remove, sync::GlobalLock},
};
use kernel::{
    alloc::KVec,
    prelude::*,
    sync::{lock::mutex::MutexBackend, Arc},
};

type Channels = KVec<Arc<Channel>>;

/// The open channels, behind the channels lock.
static CHANNELS: GlobalLock<Channels, MutexBackend> =
    // SAFETY: `init` runs first in module init, before anything that can
    // take the lock is reachable: no client can call an export before the
    // module's init returns, and the hotplug callback is registered after.
    unsafe { GlobalLock::new(KVec::new()) };

/// The channels lock, held.
///
/// A `&ChannelsLocked` proves that this task holds the lock: the guard is
/// neither `Send` nor `Sync`, and only one exists at a time. Its list is
/// the open channels.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub(crate) struct ChannelsLocked(crate::compat::sync::GlobalGuard<Channels, MutexBackend>);

impl ChannelsLocked {
    /// Takes the lock; may sleep.
    pub(crate) fn new() -> Self {
        Self(CHANNELS.lock())
    }

    /// The channels open now.
    pub(crate) fn channels(&self) -> &[Arc<Channel>] {
        self.0.as_slice()
    }

    /// Adds a newly opened channel.
    pub(crate) fn register(&mut self, chan: &Arc<Channel>) -> Result {
        self.0.push(chan.clone(), GFP_KERNEL)?;
        Ok(())
    }

    /// Removes a closing channel.
    pub(crate) fn unregister(&mut self, chan: &Channel) {
        let list = &mut *self.0;
        if let Some(i) = list.iter().position(|c| core::ptr::eq(&**c, chan)) {
            drop(swap_remove(list, i));
        }
        if list.is_empty() {
            // Give the capacity back: a static is never dropped, so whatever
            // it holds at unload would leak.
            *list = KVec::new();
        }
    }
}

/// Initialises the channels lock (module init).
///
/// # Safety
///
/// Called once, first in module init, before anything can take the lock.
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (caller contract).
    unsafe { CHANNELS.init(kernel::c_str!("relay_rs_channels")) };
}

/// Empties the registry (module unload: no channel should be open).
pub(crate) fn exit() {
    let mut lock = ChannelsLocked::new();
    if !lock.0.is_empty() {
        pr_warn!("unloaded with {} channels open\n", lock.0.len());
    }
    *lock.0 = KVec::new();
}
