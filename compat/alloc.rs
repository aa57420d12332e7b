// SPDX-License-Identifier: GPL-2.0

//! What the `kernel::alloc::KVec` of both kernels lacks: `swap_remove` (7.3's
//! has `pop`, which it is built on there; 7.3's `remove` shifts the tail,
//! which the channels list does not need).

use kernel::alloc::KVec;

/// Removes element `i` by moving the last one into its place; `None` if
/// `i` is out of bounds.
pub(crate) fn swap_remove<T>(v: &mut KVec<T>, i: usize) -> Option<T> {
    let last = v.len().checked_sub(1)?;
    if i > last {
        return None;
    }
    v.as_mut_slice().swap(i, last);
    #[cfg(relay_rs_kernel = "6.12")]
    {
        // SAFETY: element `last` is initialised; the length shrinks right
        // after, so it is moved out exactly once and never dropped in place.
        let item = unsafe { core::ptr::read(v.as_ptr().add(last)) };
        // SAFETY: `last` is below the capacity and the elements before it
        // are initialised.
        unsafe { v.set_len(last) };
        Some(item)
    }
    #[cfg(relay_rs_kernel = "7.3")]
    v.pop()
}
