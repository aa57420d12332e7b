// SPDX-License-Identifier: GPL-2.0

//! User pointers across the two kernels: 6.12's `UserSlice::new` takes the
//! address, 7.3's a `UserPtr`. Stands in for nothing: both kernels'
//! `kernel::uaccess` is used, this only picks the argument.

use kernel::uaccess::UserSlice;

/// The `len` bytes of user memory at address `addr`.
pub(crate) fn user_slice(addr: usize, len: usize) -> UserSlice {
    #[cfg(relay_rs_kernel = "6.12")]
    let ptr = addr;
    #[cfg(relay_rs_kernel = "7.3")]
    let ptr = kernel::uaccess::UserPtr::from_addr(addr);
    UserSlice::new(ptr, len)
}
