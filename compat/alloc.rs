// SPDX-License-Identifier: GPL-2.0

//! What the 6.12 `kernel::alloc::KVec` lacks: `swap_remove`, which later
//! kernels' `Vec` has (with `pop` and `remove`).

use kernel::alloc::KVec;

/// Removes element `i` by moving the last one into its place; `None` if
/// `i` is out of bounds.
pub(crate) fn swap_remove<T>(v: &mut KVec<T>, i: usize) -> Option<T> {
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
