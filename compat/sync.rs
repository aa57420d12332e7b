// SPDX-License-Identifier: GPL-2.0

//! Sharing values whose thread safety the compiler cannot see, and locks
//! in `static`s.
//!
//! [`AssertSync`] has no upstream counterpart. [`GlobalLock`] stands in on
//! 6.12 for upstream's `kernel::sync::lock::global` and stays relay_rs' own
//! on 7.3 too: 7.3's `GlobalLock<B>` is typed by a marker that
//! `global_lock!` declares for each lock, with the name fixed there, so it
//! cannot take the place of `GlobalLock<T, B>` without changing its users
//! (`channel/registry.rs`).

use core::{
    cell::UnsafeCell,
    marker::PhantomData,
    ops::{Deref, DerefMut},
};
use kernel::{bindings, str::CStr, sync::lock::Backend, types::Opaque};

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

/// A lock in a `static`, with the data it protects: stands in for
/// upstream's `kernel::sync::lock::global` (`global_lock!`, Linux 6.15),
/// whose shape it follows: an unsafe `const` constructor whose promise is
/// that [`GlobalLock::init`] runs before any other use.
///
/// # Invariants
///
/// Once [`GlobalLock::init`] returned, `state` is an initialised lock of
/// backend `B`, and `data` is only accessed by the holder of that lock.
pub(crate) struct GlobalLock<T, B: Backend> {
    state: Opaque<B::State>,
    /// The lockdep class of this one lock (a static object, as lockdep
    /// requires of keys).
    key: Opaque<bindings::lock_class_key>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one holder at a time (type invariant),
// on any thread: that is sound for a `T` that may be sent between threads.
unsafe impl<T: Send, B: Backend> Sync for GlobalLock<T, B> {}

impl<T, B: Backend> GlobalLock<T, B> {
    /// A lock, not yet initialised, holding `data`.
    ///
    /// # Safety
    ///
    /// [`GlobalLock::init`] must be called, once, before any other method
    /// of the lock is.
    pub(crate) const unsafe fn new(data: T) -> Self {
        Self {
            state: Opaque::uninit(),
            key: Opaque::uninit(),
            data: UnsafeCell::new(data),
        }
    }

    /// Initialises the lock, named `name` for lockdep.
    ///
    /// # Safety
    ///
    /// Called once, before any other use of the lock and while nothing else
    /// can reach it.
    pub(crate) unsafe fn init(&'static self, name: &'static CStr) {
        // INVARIANT: the lock is initialised before anyone can take it
        // (caller contract); `data` is used only through guards from now on.
        // SAFETY: `state` is valid for writes and used by no one yet (caller
        // contract); `name` and the static `key` live forever.
        unsafe {
            B::init(
                self.state.get(),
                super::str::as_char_ptr(name),
                self.key.get(),
            )
        };
    }

    /// Takes the lock.
    pub(crate) fn lock(&'static self) -> GlobalGuard<T, B> {
        // SAFETY: initialised before any use (`new`'s contract).
        let state = unsafe { B::lock(self.state.get()) };
        GlobalGuard {
            lock: self,
            state,
            _not_send: PhantomData,
        }
    }
}

/// The guard of a held [`GlobalLock`]: access to its data, and the proof
/// that its holder holds the lock.
///
/// # Invariants
///
/// The task that made the guard holds `lock` until the guard is dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub(crate) struct GlobalGuard<T: 'static, B: Backend + 'static> {
    lock: &'static GlobalLock<T, B>,
    state: B::GuardState,
    /// The lock must be released by the task that took it.
    _not_send: PhantomData<*mut ()>,
}

impl<T, B: Backend> Deref for GlobalGuard<T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the lock is held (type invariant), so no other reference
        // to the data exists but through this guard.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T, B: Backend> DerefMut for GlobalGuard<T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed mutably.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T, B: Backend> Drop for GlobalGuard<T, B> {
    fn drop(&mut self) {
        // SAFETY: this task holds the lock (type invariant).
        unsafe { B::unlock(self.lock.state.get(), &self.state) };
    }
}
