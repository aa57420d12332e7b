// SPDX-License-Identifier: GPL-2.0

//! Sharing values whose thread safety the compiler cannot see.

/// A value that may be shared between threads on its creator's word.
///
/// For `static`s: C operation tables (`file_operations` and the like),
/// whose bindgen types hold raw pointers and so are neither `Send` nor
/// `Sync`, although an immutable table of function pointers is harmless to
/// share; and data behind an [`UnsafeCell`] whose every access holds a lock.
/// The argument for the `Sync` implementation is made once, here; each
/// [`AssertSync::new`] states why it holds for its value.
///
/// [`UnsafeCell`]: core::cell::UnsafeCell
///
/// # Invariants
///
/// Every use of a shared reference to the wrapped value, from any thread
/// and concurrently with any other, is free of data races (see
/// [`AssertSync::new`]).
#[repr(transparent)]
pub(crate) struct AssertSync<T>(T);

// SAFETY: a `&AssertSync<T>` on another thread only gives access to `&T`
// (through `get`), whose every use is free of data races on any thread by
// the type invariant. `Send` is not asserted: it follows `T`'s.
unsafe impl<T> Sync for AssertSync<T> {}

impl<T> AssertSync<T> {
    /// Wraps `value` for sharing between threads.
    ///
    /// # Safety
    ///
    /// Every use that can be made of a shared reference to `value`, from
    /// any thread and concurrently with any other, must be free of data
    /// races. It is when `T` has no interior mutability and all it points
    /// to is immutable or thread-safe (a table of function pointers), or
    /// when every access to `value`'s contents holds one lock (the caller
    /// names it; `T` must then be `Send`, as for a `Mutex<T>`).
    pub(crate) const unsafe fn new(value: T) -> Self {
        // INVARIANT: the caller guarantees it.
        Self(value)
    }

    /// The wrapped value.
    pub(crate) const fn get(&self) -> &T {
        &self.0
    }
}
