// SPDX-License-Identifier: GPL-2.0

//! One relay buffer: a ring of sub-buffers in vmap'd order-0 pages and the
//! C `struct rchan_buf` that describes it.
//!
//! This file defines [`Buffer`], its invariants and its lifetime (reset,
//! close); the code that works on a buffer is split by role under it:
//!
//! - [`ring`]: the producer/consumer protocol, pure and also built on the
//!   host, that every other part follows;
//! - [`lockless`]: the producer of lockless channels, pure and host-built
//!   too, which delivers to `ring`'s consumers;
//! - `memory`: allocation and freeing of the ring and its arrays;
//! - `producer`: sub-buffer switches and the out-of-line write paths;
//! - `consumer`: the consumers' lock and accounting, `read()`, and under
//!   it `mmap`, `splice` and the ioctls;
//! - `wakeup`: `poll()` and the deferred reader wake-up;
//! - `kunit`: test-only paths (`CONFIG_KUNIT`).

mod consumer;
#[cfg(CONFIG_KUNIT)]
mod kunit;
// Shared with the host crate, where its items must be `pub`.
#[allow(unreachable_pub)]
pub(crate) mod lockless;
mod memory;
mod producer;
// Shared with the host crate, where its items must be `pub`.
#[allow(unreachable_pub)]
pub(crate) mod ring;
mod wakeup;

use crate::{
    bindings,
    channel::Channel,
    compat::{fs, relay, vmap::VmappedPages},
};
use core::{
    ptr::addr_of_mut,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering},
};
use kernel::{
    alloc::KVVec,
    prelude::*,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
};
use lockless::{Lockless, Rings, Words};
use producer::Hooks;
use ring::{Counters, Geometry, Ring};

/// Counters of records a buffer's producer dropped.
#[derive(Default)]
pub(crate) struct LossStats {
    /// Records refused because the buffer was full.
    pub(crate) full: AtomicUsize,
    /// Records larger than a sub-buffer (or than what a header left free).
    pub(crate) too_big: AtomicUsize,
}

/// Words only the producer writes, on a cache line of their own: a producer
/// refused for a full buffer updates them for every record it drops, which
/// must not slow the consumers' lock and accounting down (the line would
/// bounce between the producer's CPU and the reader's).
#[derive(Default)]
#[repr(C, align(64))]
struct ProducerWords {
    /// The producer's sub-buffer index (see [`Counters::index`]).
    index: AtomicUsize,
    /// A header reserved by `subbuf_start` (see [`Counters::header`]).
    header: AtomicUsize,
    /// See [`Counters::prev_padding`], where the kernel's `rchan_buf` has
    /// no word for it ([`relay::prev_padding`]).
    prev_padding: AtomicUsize,
    lost: LossStats,
}

/// A lockless buffer's producer words (see [`lockless`]), on cache lines
/// of their own, as [`ProducerWords`].
#[repr(C, align(64))]
pub(crate) struct LocklessWords {
    head: AtomicUsize,
    token: AtomicUsize,
    commit: KVVec<AtomicUsize>,
    tail: KVVec<AtomicUsize>,
    /// Reservations of `relay_rs_reserve()` not committed yet, as packed
    /// [`lockless::Slot`]s (0: none): one per CPU (a global buffer's
    /// writers run on all of them) and context level (task, softirq,
    /// hardirq, NMI), each written only by its CPU's writers of that level,
    /// which do not nest, and taken by swaps.
    pending: KVVec<AtomicUsize>,
    /// Has a `relay_rs_reserve()` slot ever been pending? Set, for good,
    /// before the first is stored, by the writer that stores it: a writer
    /// that finds it clear has nothing pending of its own to commit, and
    /// skips finding its CPU and context level (most writers never reserve).
    any_pending: AtomicBool,
}

/// Context levels of `interrupt_context_level()`.
pub(crate) const LEVELS: usize = 4;

impl LocklessWords {
    fn new(n_subbufs: usize, cpus: usize) -> Result<Self> {
        Ok(Self {
            head: AtomicUsize::new(0),
            token: AtomicUsize::new(0),
            commit: zeroed(n_subbufs)?,
            tail: zeroed(n_subbufs)?,
            pending: zeroed(cpus * LEVELS)?,
            any_pending: AtomicBool::new(false),
        })
    }
}

impl<'a> Rings<'a> for &'a Buffer {
    #[inline(always)]
    fn ring(&self) -> Ring<'a> {
        Buffer::ring(self)
    }
}

/// `n` atomics, all 0.
fn zeroed(n: usize) -> Result<KVVec<AtomicUsize>> {
    let mut v = KVVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        v.push(AtomicUsize::new(0), GFP_KERNEL)?;
    }
    Ok(v)
}

/// The consumers' overwrite accounting, written under the readers' lock.
#[derive(Default)]
struct Accounting {
    /// Unread records overwritten by a producer that lapped the reader, as
    /// far as consumers counted them (see [`Buffer::overwritten`]).
    overwritten: AtomicUsize,
    /// How many of those a reader may have read part of (see [`Counters::partial`]).
    partial: AtomicUsize,
    /// See [`Counters::read_end`].
    read_end: AtomicUsize,
    /// The start count of sub-buffer `subbufs_consumed` (see [`Counters::base`]).
    base: AtomicUsize,
    /// Consumers' sequence count (see [`Counters::seq`]).
    seq: AtomicUsize,
}

/// A relay buffer.
///
/// `raw` comes first so that a `*mut rchan_buf` handed to C is also a
/// pointer to the `Buffer`. The buffer is reference counted with [`Arc`]:
/// its channel holds one reference until `close`, and every open file holds
/// one, so the memory outlives `close` while a reader still has the file.
///
/// # Invariants
///
/// `raw.start` is `mem.addr()`, `raw.padding` points at `padding`, which
/// holds `geo.n_subbufs()` entries, `raw.chan` is `chan`'s `struct rchan`,
/// and `raw.read_wait` and `raw.wakeup_work` are initialised. The ring's
/// counters in `raw` are written by its producer and consumers as the
/// protocol in [`ring`] says: through [`Ring`], or by the inline fast paths
/// of `include/relay_rs.h` and `include/relay_rs/`, which follow it
/// store for store.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Buffer {
    raw: Opaque<bindings::rchan_buf>,
    chan: Arc<Channel>,
    geo: Geometry,
    mem: VmappedPages,
    padding: KVVec<AtomicUsize>,
    /// Per sub-buffer, for overwrite loss accounting (see [`Counters::starts`]).
    starts: KVVec<AtomicUsize>,
    producer: ProducerWords,
    /// The producer words of a lockless channel's buffer, `None` for others.
    lockless: Option<LocklessWords>,
    /// Serialises consumers: consumption is per buffer, shared by every
    /// reader. Holds the bytes spliced into pipes and not yet released.
    #[pin]
    read_lock: Mutex<usize>,
    accounting: Accounting,
}

// SAFETY: the C fields are accessed atomically or under the documented
// producer/consumer/lifetime rules; everything else is `Send`.
unsafe impl Send for Buffer {}
// SAFETY: as above; shared access never hands out `&mut` to C fields.
unsafe impl Sync for Buffer {}

/// Types of C fields that [`atomic`] may view as an [`AtomicUsize`].
///
/// # Safety
///
/// Implementors have the size and alignment of `usize`, and every `usize`
/// value is a valid value of theirs.
unsafe trait Word {}

// SAFETY: `usize` itself (C `size_t`).
unsafe impl Word for usize {}

// SAFETY: a thin raw pointer has the size of `usize` (and its alignment,
// checked below), and any address is a valid raw pointer.
unsafe impl<T> Word for *mut T {}

const _: () = assert!(core::mem::align_of::<*mut u8>() == core::mem::align_of::<usize>());

/// Views a C `size_t` or pointer field as an atomic.
///
/// # Safety
///
/// `p` must be valid for reads and writes and aligned for the lifetime
/// `'a`, and every access to it that may race a write must be atomic (in
/// C, a marked access such as `READ_ONCE()` or `smp_store_release()`).
unsafe fn atomic<'a, T: Word>(p: *mut T) -> &'a AtomicUsize {
    // SAFETY: `T` has the size and alignment of `usize` and takes any of
    // its values (`Word`); validity and access discipline per the caller
    // contract.
    unsafe { AtomicUsize::from_ptr(p.cast()) }
}

impl Buffer {
    /// The C view of this buffer.
    pub(crate) fn as_raw(&self) -> *mut bindings::rchan_buf {
        self.raw.get()
    }

    /// Borrows the buffer behind a C `struct rchan_buf *`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Buffer::as_raw`] of a buffer that stays alive
    /// for `'a` (a reference is held by the caller's channel or file).
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::rchan_buf) -> ArcBorrow<'a, Buffer> {
        // SAFETY: `raw` is the first field of the `#[repr(C)]` `Buffer`, which
        // lives in an `Arc`; a reference is held for 'a (caller contract).
        unsafe { ArcBorrow::from_raw(ptr.cast::<Buffer>()) }
    }

    /// The channel this buffer belongs to.
    pub(crate) fn channel(&self) -> &Arc<Channel> {
        &self.chan
    }

    /// The ring view of this buffer's counters.
    #[inline(always)]
    pub(crate) fn ring(&self) -> Ring<'_> {
        let r = self.raw.get();
        // C code writes these fields only from the producer, with marked
        // stores, and reads them with marked loads, or as the producer with
        // plain loads of the fields only it writes, which race no write.
        // SAFETY: aligned `size_t`/pointer fields of `raw`, which lives as
        // long as `self`, accessed by Rust only through these atomics.
        let counters = unsafe {
            Counters {
                start: self.mem.addr() as usize,
                data: atomic(addr_of_mut!((*r).data)),
                offset: atomic(addr_of_mut!((*r).offset)),
                committed: atomic(addr_of_mut!((*r).committed)),
                produced: atomic(addr_of_mut!((*r).subbufs_produced)),
                consumed: atomic(addr_of_mut!((*r).subbufs_consumed)),
                bytes_consumed: atomic(addr_of_mut!((*r).bytes_consumed)),
                prev_padding: relay::prev_padding(r, &self.producer.prev_padding),
                padding: &self.padding,
                index: &self.producer.index,
                written: atomic(addr_of_mut!((*r).records)),
                starts: &self.starts,
                header: &self.producer.header,
                base: &self.accounting.base,
                overwritten: &self.accounting.overwritten,
                partial: &self.accounting.partial,
                read_end: &self.accounting.read_end,
                seq: &self.accounting.seq,
            }
        };
        Ring::new(self.geo, counters)
    }

    /// The lockless producer of this buffer, if its channel is lockless.
    #[inline(always)]
    pub(crate) fn lockless(&self) -> Option<Lockless<'_, &Buffer>> {
        let w = self.lockless.as_ref()?;
        Some(Lockless::new(
            self,
            Words {
                head: &w.head,
                commit: &w.commit,
                tail: &w.tail,
                token: &w.token,
            },
        ))
    }

    /// The pending `relay_rs_reserve()` slot of context level `level` on
    /// CPU `cpu` (`None` for a buffer that is not lockless).
    pub(crate) fn pending(&self, cpu: u32, level: usize) -> Option<&AtomicUsize> {
        let w = self.lockless.as_ref()?;
        w.pending.get(cpu as usize * LEVELS + level.min(LEVELS - 1))
    }

    /// Could this CPU's writers have a `relay_rs_reserve()` slot pending
    /// ([`LocklessWords::any_pending`])? Relaxed: only the writer that
    /// stored a slot, and the ones it nests in or that follow it on its
    /// CPU, need to see its own store, in program order.
    pub(crate) fn any_pending(&self) -> bool {
        self.lockless
            .as_ref()
            .is_some_and(|w| w.any_pending.load(Ordering::Relaxed))
    }

    /// Notes that a `relay_rs_reserve()` slot is about to be pending.
    pub(crate) fn note_pending(&self) {
        if let Some(w) = self.lockless.as_ref() {
            if !w.any_pending.load(Ordering::Relaxed) {
                w.any_pending.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Every pending `relay_rs_reserve()` slot of the buffer.
    pub(crate) fn all_pending(&self) -> &[AtomicUsize] {
        self.lockless.as_ref().map_or(&[], |w| &w.pending)
    }

    fn finalized(&self) -> &AtomicU32 {
        // SAFETY: `finalized` is a `u32` field of `raw`, aligned and live as
        // long as `self`; relay_rs accesses it only atomically.
        unsafe { AtomicU32::from_ptr(addr_of_mut!((*self.raw.get()).finalized)) }
    }

    fn dentry_field(&self) -> &AtomicPtr<bindings::dentry> {
        // SAFETY: an aligned pointer field of `raw`, live as long as `self`;
        // relay_rs accesses it only atomically.
        unsafe { AtomicPtr::from_ptr(addr_of_mut!((*self.raw.get()).dentry)) }
    }

    fn early_bytes(&self) -> &AtomicUsize {
        // SAFETY: an aligned `size_t` field of `raw`, live as long as
        // `self`; relay_rs accesses it only atomically, C code not at all.
        unsafe { atomic(addr_of_mut!((*self.raw.get()).early_bytes)) }
    }

    /// The dentry of the buffer's file, or NULL.
    pub(crate) fn dentry(&self) -> *mut bindings::dentry {
        self.dentry_field().load(Ordering::Acquire)
    }

    /// Attaches the buffer's file and sizes it with the bytes produced so
    /// far, or detaches it (NULL).
    ///
    /// # Safety
    ///
    /// A non-NULL `dentry` must be the live positive dentry of a file made
    /// for this buffer by its channel's `create_buf_file`, which no one but
    /// [`Buffer::close`] removes while it is attached. No producer of this
    /// buffer may run concurrently (call it on the buffer's CPU with
    /// interrupts off, as 6.12 does; a `__relay_rs_write` producer
    /// interrupted in a switch may then miscount one sub-buffer in
    /// `i_size`, as in 6.12).
    pub(crate) unsafe fn set_dentry(&self, dentry: *mut bindings::dentry) {
        if !dentry.is_null() {
            // SAFETY: live and positive (caller contract); no producer runs.
            unsafe { fs::inode_set_size(dentry, self.early_bytes().load(Ordering::Relaxed)) };
        }
        self.dentry_field().store(dentry, Ordering::Release);
    }

    /// The CPU this buffer belongs to (0 for a global buffer).
    pub(crate) fn cpu(&self) -> u32 {
        // SAFETY: written before the buffer is published, then read-only.
        unsafe { (*self.raw.get()).cpu }
    }

    /// The buffer's loss counters.
    pub(crate) fn stats(&self) -> &LossStats {
        &self.producer.lost
    }

    /// The loss counters the kernel's relay keeps in `rchan_buf` and
    /// `rchan`, which relay_rs keeps as it does for clients that read them.
    pub(crate) fn kernel_stats(&self) -> relay::KernelStats<'_> {
        // SAFETY: the buffer and its channel live as long as `self`.
        unsafe { relay::KernelStats::new(self.raw.get(), self.chan.as_raw()) }
    }

    /// The padding of the last sub-buffer completed (what 6.12 passes
    /// `subbuf_start` as `prev_padding`).
    pub(crate) fn prev_padding(&self) -> usize {
        self.ring().offer().prev_padding
    }

    /// Restores the empty state (`__relay_reset`): the caller guarantees that
    /// no producer or consumer runs concurrently.
    pub(crate) fn reset(&self) {
        self.wakeup_work().sync();
        self.finalized().store(0, Ordering::Relaxed);
        self.producer.lost.full.store(0, Ordering::Relaxed);
        self.producer.lost.too_big.store(0, Ordering::Relaxed);
        self.kernel_stats().reset();
        if let Some(l) = self.lockless() {
            for p in self.all_pending() {
                p.store(0, Ordering::Relaxed);
            }
            l.reset();
            return;
        }
        self.ring().reset(&mut Hooks(self));
    }

    /// Marks the buffer closed, waits for pending wake-ups and removes its
    /// file; readers that hold the file keep their reference.
    pub(crate) fn close(&self) {
        // No writer runs any more (the relay API's rule): what they
        // reserved is filled, and becomes readable.
        if let Some(l) = self.lockless() {
            self.commit_all_pending(&l);
        }
        self.finalized().store(1, Ordering::Release);
        self.wakeup_work().sync();
        self.read_wait().wake_up_interruptible();
        // Taken out, so that only one `close` removes it.
        let dentry = self
            .dentry_field()
            .swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !dentry.is_null() {
            // SAFETY: the buffer's file, made by `create_buf_file` of its
            // channel's callbacks (`set_dentry` contract), not removed yet:
            // it was attached until the swap above.
            unsafe { self.chan.callbacks().remove_buf_file(dentry) };
        }
    }

    /// Has the channel been closed?
    pub(crate) fn is_finalized(&self) -> bool {
        self.finalized().load(Ordering::Acquire) != 0
    }
}
