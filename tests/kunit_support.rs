// SPDX-License-Identifier: GPL-2.0

//! What relay_rs' KUnit suite needs inside the module: fault injection
//! (a test can make the n-th next buffer or channel allocation fail) and
//! leak accounting (live buffers and channels). Built only with
//! `CONFIG_KUNIT`; production code reaches it at its allocation sites only.

use core::sync::atomic::{AtomicI32, AtomicIsize, Ordering};
use kernel::prelude::*;

/// Buffers currently allocated.
pub(crate) static LIVE_BUFFERS: AtomicIsize = AtomicIsize::new(0);
/// Channels currently allocated.
pub(crate) static LIVE_CHANNELS: AtomicIsize = AtomicIsize::new(0);

/// Allocations to let through before one fails; negative: never fail.
/// Also the module parameter `fault_fail_after` (C glue), so that guest
/// tests can make a CPU-up fail.
#[no_mangle]
#[allow(non_upper_case_globals)]
static relay_rs_fault_fail_after: AtomicI32 = AtomicI32::new(-1);

/// Makes the allocation after `n` successful ones fail (once).
pub(crate) fn fail_after(n: i32) {
    relay_rs_fault_fail_after.store(n, Ordering::SeqCst);
}

/// An allocation site: fails it if a test asked for it (see [`fail_after`]).
pub(crate) fn should_fail() -> Result {
    let left = relay_rs_fault_fail_after.load(Ordering::SeqCst);
    if left < 0 {
        return Ok(());
    }
    relay_rs_fault_fail_after.store(left - 1, Ordering::SeqCst);
    if left == 0 {
        return Err(ENOMEM);
    }
    Ok(())
}
