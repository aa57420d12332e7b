// SPDX-License-Identifier: GPL-2.0

//! C strings across the two kernels: 6.12's `kernel::str::CStr` is the
//! kernel's own type, with these as inherent methods; 7.3's is
//! `core::ffi::CStr`, extended by `kernel::str::CStrExt`. Stands in for
//! nothing: upstream moved from one to the other.

#[cfg(relay_rs_kernel = "7.3")]
use kernel::str::CStrExt;
use kernel::{ffi::c_char, str::CStr};

/// Borrows the NUL-terminated string at `ptr`.
///
/// # Safety
///
/// `ptr` points to a NUL-terminated string that lives, unchanged, for `'a`.
pub(crate) unsafe fn from_char_ptr<'a>(ptr: *const c_char) -> &'a CStr {
    // SAFETY: per the function's contract.
    unsafe { CStr::from_char_ptr(ptr) }
}

/// The string as a C pointer.
pub(crate) fn as_char_ptr(s: &CStr) -> *const c_char {
    s.as_char_ptr()
}

/// The string's bytes, without the NUL.
pub(crate) fn bytes(s: &CStr) -> &[u8] {
    #[cfg(relay_rs_kernel = "6.12")]
    let b = s.as_bytes();
    #[cfg(relay_rs_kernel = "7.3")]
    let b = s.to_bytes();
    b
}
