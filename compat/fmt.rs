// SPDX-License-Identifier: GPL-2.0

//! `fmt!`, and the trait it (and so `pr_*!`) formats `{}` with:
//! `core::fmt::Display` on 6.12, the kernel's own `kernel::fmt::Display` on
//! 7.3. Stands in for
//! nothing: it names upstream's trait of each kernel.

#[cfg(relay_rs_kernel = "6.12")]
pub(crate) use core::fmt::Display;
#[cfg(relay_rs_kernel = "7.3")]
pub(crate) use kernel::fmt::Display;

/// `fmt!`: `kernel::fmt!` on 6.12, the prelude's on 7.3.
#[cfg(relay_rs_kernel = "6.12")]
pub(crate) use kernel::fmt;
/// `fmt!`: `kernel::fmt!` on 6.12, the prelude's on 7.3.
#[cfg(relay_rs_kernel = "7.3")]
pub(crate) use kernel::prelude::fmt;
