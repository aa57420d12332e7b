// SPDX-License-Identifier: GPL-2.0

//! Test-only paths of a buffer, for relay_rs' KUnit suite: the Rust
//! equivalents of the header's inline write and reserve paths, and the
//! start counts that `struct rchan_buf` does not show.

use super::{producer::Hooks, ring::Ring, Buffer};
use core::sync::atomic::AtomicUsize;

impl Buffer {
    /// Copies one record into the buffer, or drops and counts it (what the
    /// inline `relay_rs_write()` does, for relay_rs' own tests).
    pub(crate) fn write(&self, data: &[u8]) {
        let ring = self.ring();
        if let Some(pos) = ring.room(data.len(), &mut Hooks(self)) {
            // SAFETY: `room` found `data.len()` writable bytes at `pos` inside
            // the mapping, which no consumer reads before `wrote`.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    self.mem.addr().wrapping_add(pos),
                    data.len(),
                )
            };
            ring.wrote(data.len());
        }
    }

    /// Reserves `length` bytes, `None` if the record was dropped and counted
    /// (what the inline `relay_rs_reserve()` does, for relay_rs' own tests).
    pub(crate) fn reserve(&self, length: usize) -> Option<*mut u8> {
        self.reserve_with(length, |r, l| r.reserved(l))
    }

    /// Reserves `length` bytes to commit ([`Ring::reserved_to_commit`]),
    /// as the Rust API's `Producer::reserve` does, for relay_rs' own tests.
    pub(crate) fn reserve_to_commit(&self, length: usize) -> Option<*mut u8> {
        self.reserve_with(length, |r, l| r.reserved_to_commit(l))
    }

    fn reserve_with(&self, length: usize, claim: fn(&Ring<'_>, usize)) -> Option<*mut u8> {
        let ring = self.ring();
        let pos = ring.room(length, &mut Hooks(self))?;
        claim(&ring, length);
        // `pos + length` is within the ring by `Ring::room`'s contract.
        Some(self.mem.addr().wrapping_add(pos))
    }

    /// The sub-buffers' start counts (see [`Counters::starts`]), which the
    /// C `struct rchan_buf` does not show, for relay_rs' own tests.
    pub(crate) fn start_counts(&self) -> &[AtomicUsize] {
        &self.starts
    }
}
