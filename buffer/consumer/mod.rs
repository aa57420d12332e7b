// SPDX-License-Identifier: GPL-2.0

//! A buffer's consumer side: the consumers' lock and overwrite accounting,
//! `read()`, and the counters that mmap consumers see; `mmap`, `splice`
//! and the ioctls in the files under this one.
//!
//! Consumption is per buffer, shared by every reader of it, and serialised
//! by the consumers' lock, whose data is the bytes spliced into pipes and
//! not yet released ("in flight").

mod ioctl;
mod mmap;
mod splice;

use super::Buffer;
use crate::bindings;
use core::sync::atomic::Ordering;
use kernel::{page::PAGE_SIZE, prelude::*};

impl Buffer {
    /// A pipe released `bytes` it got from `splice_read`: consume them.
    /// True when that left no bytes in flight: the caller then gives back
    /// the reference `splice_read` took for them, after this unlocked.
    pub(crate) fn consume_in_flight(&self, bytes: usize) -> bool {
        let mut guard = self.read_lock.lock();
        let before = *guard;
        *guard = before.saturating_sub(bytes);
        self.ring().consume(bytes);
        before != 0 && *guard == 0
    }

    /// Padding of the `count`-th sub-buffer.
    pub(crate) fn padding_of(&self, count: usize) -> usize {
        self.padding
            .get(self.geo.index(count))
            .map_or(0, |p| p.load(Ordering::Acquire))
    }

    /// Counters for mmap consumers (`RELAY_RS_IOC_INFO`), read consistently
    /// with consumers.
    pub(crate) fn consumer_info(&self) -> bindings::relay_rs_buf_info {
        let _guard = self.read_lock.lock();
        let r = self.raw.get();
        // SAFETY: the counters of the live buffer; consumers are held off
        // by the lock, the producer's counters are read as atomics.
        let (consumed, bytes_consumed) = unsafe { ((*r).subbufs_consumed, (*r).bytes_consumed) };
        let ring = self.ring();
        let (produced, offset) = ring.producer_state();
        bindings::relay_rs_buf_info {
            subbuf_size: self.geo.subbuf_size() as u64,
            n_subbufs: self.geo.n_subbufs() as u64,
            alloc_size: self.geo.alloc_size(PAGE_SIZE) as u64,
            produced: produced as u64,
            consumed: consumed as u64,
            bytes_consumed: bytes_consumed as u64,
            offset: offset as u64,
            finalized: u64::from(self.is_finalized()),
        }
    }

    /// Hands `n` sub-buffers back (`relay_subbufs_consumed`), serialised
    /// with other consumers: how many of them were overwritten before they
    /// were handed back (see [`Ring::subbufs_consumed`]).
    pub(crate) fn consume_subbufs(&self, n: usize) -> usize {
        let _guard = self.read_lock.lock();
        self.ring().subbufs_consumed(n)
    }

    /// Records counted as overwritten that a reader may have read part of:
    /// the bound of the over-count (see [`Counters::partial`]).
    pub(crate) fn overwritten_partial(&self) -> usize {
        self.accounting.partial.load(Ordering::Relaxed)
    }

    /// Unread records the producer overwrote (overwrite mode): counted by
    /// consumers as they catch up, and up to the present here (any context).
    pub(crate) fn overwritten(&self) -> usize {
        self.ring().overwritten()
    }

    /// Reads up to `max` bytes in order, skipping padding and consuming as
    /// it goes. `sink(src, len, at)` copies `len` bytes from `src` to offset
    /// `at` of the destination; a sink error stops the read, and bytes it
    /// did not deliver stay unconsumed. A copy that the producer overwrote
    /// while it was made (overwrite mode) is not delivered: the next copy
    /// goes to the same offset, and the records the producer overwrote are
    /// counted.
    ///
    /// Returns the number of bytes delivered; a sink error is returned only
    /// if nothing was delivered.
    pub(crate) fn read(
        &self,
        max: usize,
        mut sink: impl FnMut(*const u8, usize, usize) -> Result,
    ) -> Result<usize> {
        let guard = self.read_lock.lock();
        // Spliced bytes still in a pipe are consumed when the pipe releases
        // them; a read now would have to jump over them. One kind of
        // consumer per buffer at a time.
        if *guard != 0 {
            return Err(EBUSY);
        }
        let ring = self.ring();
        let mut done = 0;
        // A producer that keeps lapping the copies: stop after a few.
        let mut torn = 0;
        while done < max && torn < 4 {
            let Some(run) = ring.next_read(max - done) else {
                break;
            };
            let len = run.len;
            // `pos + len` never passes the end of the ring (`Ring::next_read`).
            if let Err(e) = sink(self.mem.addr().wrapping_add(run.pos), len, done) {
                if done == 0 {
                    return Err(e);
                }
                break;
            }
            if ring.consume_run(run) {
                done += len;
            } else {
                torn += 1;
            }
        }
        Ok(done)
    }
}
