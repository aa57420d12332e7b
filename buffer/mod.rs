// SPDX-License-Identifier: GPL-2.0

//! One relay buffer: a ring of sub-buffers in vmap'd order-0 pages, the C
//! `struct rchan_buf` that describes it, and its producer and consumer paths.

// Shared with the host crate, where its items must be `pub`.
#[allow(unreachable_pub)]
pub(crate) mod ring;

use crate::{
    bindings,
    channel::Channel,
    compat::{
        fs,
        irq_work::IrqWork,
        mm,
        poll::{events, WaitQueue},
        vmap::VmappedPages,
    },
};
use core::{
    ptr::addr_of_mut,
    sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering},
};
use kernel::{
    alloc::KVVec,
    page::PAGE_SIZE,
    prelude::*,
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
};
use ring::{Counters, Geometry, Ring, SwitchHooks};

/// The consumers' lock, held; its data is the bytes in flight in pipes.
pub(crate) type ReadersGuard<'a> =
    kernel::sync::lock::Guard<'a, usize, kernel::sync::lock::mutex::MutexBackend>;

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
    lost: LossStats,
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
/// of `include/relay_rs.h` and `include/relay_rs.rs`, which follow it
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
    /// Allocates a buffer for `chan`, not yet reset and without a file.
    pub(crate) fn new(chan: &Arc<Channel>, cpu: u32) -> Result<Arc<Self>> {
        #[cfg(CONFIG_KUNIT)]
        fault::should_fail()?;
        let geo = chan.geometry();
        let mem = VmappedPages::new(geo.alloc_size(PAGE_SIZE) / PAGE_SIZE)?;
        let counters = |n| -> Result<KVVec<AtomicUsize>> {
            let mut v = KVVec::with_capacity(n, GFP_KERNEL)?;
            for _ in 0..n {
                v.push(AtomicUsize::new(0), GFP_KERNEL)?;
            }
            Ok(v)
        };
        let padding = counters(geo.n_subbufs())?;
        let starts = counters(geo.n_subbufs())?;
        let buf = Arc::pin_init(
            pin_init!(Self {
                raw: Opaque::new(bindings::rchan_buf::default()),
                chan: chan.clone(),
                geo,
                mem,
                padding,
                starts,
                producer: ProducerWords::default(),
                read_lock <- kernel::new_mutex!(0),
                accounting: Accounting::default(),
            }),
            GFP_KERNEL,
        )?;
        let r = buf.raw.get();
        // SAFETY: `buf` is not shared yet, so we have exclusive access to
        // `raw`; it lives in the `Arc` allocation and never moves.
        unsafe {
            (*r).start = buf.mem.addr().cast();
            (*r).data = buf.mem.addr().cast();
            (*r).chan = chan.as_raw();
            (*r).page_array = buf.mem.page_array();
            (*r).page_count = buf.mem.page_count() as u32;
            (*r).padding = buf.padding.as_ptr().cast::<usize>().cast_mut();
            (*r).cpu = cpu;
            WaitQueue::init(addr_of_mut!((*r).read_wait));
            IrqWork::init(addr_of_mut!((*r).wakeup_work), wakeup_readers);
        }
        // Splice finds a pipe buffer's relay buffer through its page.
        for i in 0..buf.mem.page_count() {
            if let Some(page) = buf.mem.page(i) {
                // SAFETY: a page we own, not shared yet; `private` is unused by
                // the allocator.
                unsafe { mm::set_page_private(page, buf.as_raw() as usize) };
            }
        }
        #[cfg(CONFIG_KUNIT)]
        fault::LIVE_BUFFERS.fetch_add(1, Ordering::Relaxed);
        // INVARIANT: every field named by the invariant was just set.
        Ok(buf)
    }

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
                prev_padding: atomic(addr_of_mut!((*r).prev_padding)),
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

    fn finalized(&self) -> &AtomicU32 {
        // SAFETY: `finalized` is a `u32` field of `raw`, aligned and live as
        // long as `self`; relay_rs accesses it only atomically.
        unsafe { AtomicU32::from_ptr(addr_of_mut!((*self.raw.get()).finalized)) }
    }

    fn read_wait(&self) -> &WaitQueue {
        // SAFETY: initialised in `new` (type invariant), lives as long as `self`.
        unsafe { WaitQueue::from_raw(addr_of_mut!((*self.raw.get()).read_wait)) }
    }

    fn wakeup_work(&self) -> &IrqWork {
        // SAFETY: initialised in `new` (type invariant), lives as long as `self`.
        unsafe { IrqWork::from_raw(addr_of_mut!((*self.raw.get()).wakeup_work)) }
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

    /// Unread records the producer overwrote (overwrite mode): counted by
    /// consumers as they catch up, and up to the present here (any context).
    pub(crate) fn overwritten(&self) -> usize {
        self.ring().overwritten()
    }

    /// Restores the empty state (`__relay_reset`): the caller guarantees that
    /// no producer or consumer runs concurrently.
    pub(crate) fn reset(&self) {
        self.wakeup_work().sync();
        self.finalized().store(0, Ordering::Relaxed);
        self.producer.lost.full.store(0, Ordering::Relaxed);
        self.producer.lost.too_big.store(0, Ordering::Relaxed);
        self.ring().reset(&mut Hooks(self));
    }

    /// Marks the buffer closed, waits for pending wake-ups and removes its
    /// file; readers that hold the file keep their reference.
    pub(crate) fn close(&self) {
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

    // ---- producer side: the caller is this buffer's only producer ----

    /// Completes the current sub-buffer (`relay_switch_subbuf`).
    pub(crate) fn switch_subbuf(&self, length: usize) -> usize {
        self.ring().switch_subbuf(length, &mut Hooks(self))
    }

    /// Makes room for a record of `length` bytes that does not fit at the
    /// write offset: completes the current sub-buffer and starts the next.
    /// False if the record was dropped (counted). The out-of-line part of
    /// the inline write paths, which then copy the record (or hand out the
    /// slot) and move the offset themselves.
    #[inline(always)]
    pub(crate) fn make_room(&self, length: usize, checked: bool) -> bool {
        let finished = if checked {
            self.ring().finish_checked(length, &mut Hooks(self))
        } else {
            self.ring().finish(length, &mut Hooks(self))
        };
        if !finished {
            return false;
        }
        // Fresh views after each call: nothing is kept across one.
        let next = self.ring().offer();
        let accepted = self.subbuf_start(next.subbuf, next.prev_subbuf, next.prev_padding);
        self.ring().begin(accepted, length, &mut Hooks(self))
    }

    /// Asks the client's `subbuf_start` for the sub-buffer at `subbuf`.
    fn subbuf_start(&self, subbuf: usize, prev_subbuf: usize, prev_padding: usize) -> bool {
        self.chan.callbacks().subbuf_start(
            self,
            subbuf as *mut _,
            prev_subbuf as *mut _,
            prev_padding,
        )
    }

    /// Copies one record into the buffer, or drops and counts it (what the
    /// inline `relay_rs_write()` does, for relay_rs' own tests).
    #[cfg(CONFIG_KUNIT)]
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
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn reserve(&self, length: usize) -> Option<*mut u8> {
        self.reserve_with(length, |r, l| r.reserved(l))
    }

    /// Reserves `length` bytes to commit ([`Ring::reserved_to_commit`]),
    /// as the Rust API's `Producer::reserve` does, for relay_rs' own tests.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn reserve_to_commit(&self, length: usize) -> Option<*mut u8> {
        self.reserve_with(length, |r, l| r.reserved_to_commit(l))
    }

    #[cfg(CONFIG_KUNIT)]
    fn reserve_with(&self, length: usize, claim: fn(&Ring<'_>, usize)) -> Option<*mut u8> {
        let ring = self.ring();
        let pos = ring.room(length, &mut Hooks(self))?;
        claim(&ring, length);
        // `pos + length` is within the ring by `Ring::room`'s contract.
        Some(self.mem.addr().wrapping_add(pos))
    }

    /// The sub-buffers' start counts (see [`Counters::starts`]), which the
    /// C `struct rchan_buf` does not show, for relay_rs' own tests.
    #[cfg(CONFIG_KUNIT)]
    pub(crate) fn start_counts(&self) -> &[AtomicUsize] {
        &self.starts
    }

    /// Sets the write offset from a `subbuf_start` callback (`subbuf_start_reserve`).
    pub(crate) fn start_reserve(&self, length: usize) -> bool {
        self.ring().start_reserve(length)
    }

    // ---- consumer side ----

    /// Takes the consumers' lock; its data is the number of bytes spliced
    /// into pipes and not yet released ("in flight").
    pub(crate) fn lock_readers(&self) -> ReadersGuard<'_> {
        self.read_lock.lock()
    }

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

    /// The `pgoff`-th page of the ring, for the mmap fault handler.
    pub(crate) fn page(&self, pgoff: usize) -> Option<*mut bindings::page> {
        self.mem.page(pgoff)
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

    /// Poll state: readable when a complete sub-buffer is unconsumed;
    /// hang-up once the channel is closed (readable too while data remains,
    /// so that a reader drains it, then stops).
    ///
    /// # Safety
    ///
    /// `file` holds a reference on this buffer until it is released.
    pub(crate) unsafe fn poll(
        &self,
        file: &fs::File,
        table: &mut crate::compat::poll::PollTable,
    ) -> u32 {
        let mut mask = 0;
        if file.is_readable() {
            // SAFETY: the wait queue lives as long as the buffer, which
            // `file` keeps until it is released (caller contract).
            unsafe { table.register_wait(file, self.read_wait()) };
            if self.ring().has_complete_data() {
                mask |= events::EPOLLIN | events::EPOLLRDNORM;
            }
        }
        if self.is_finalized() {
            mask |= events::EPOLLHUP;
        }
        mask
    }
}

/// Connects [`Ring`] to the buffer's channel, file and counters.
struct Hooks<'a>(&'a Buffer);

impl SwitchHooks for Hooks<'_> {
    fn subbuf_start(&mut self, subbuf: usize, prev_subbuf: usize, prev_padding: usize) -> bool {
        self.0.subbuf_start(subbuf, prev_subbuf, prev_padding)
    }

    fn produced(&mut self, bytes: usize) {
        let dentry = self.0.dentry();
        if dentry.is_null() {
            let e = self.0.early_bytes();
            e.store(
                e.load(Ordering::Relaxed).wrapping_add(bytes),
                Ordering::Relaxed,
            );
        } else {
            // SAFETY: the dentry lives until `close`, which producers may not
            // race with; the producer is the only writer of the size.
            unsafe { fs::inode_add_size(dentry, bytes) };
        }
    }

    fn wake_readers(&mut self) {
        // Waking directly could deadlock when logging from the scheduler, so
        // the wake-up runs from irq_work.
        if self.0.read_wait().is_active() {
            self.0.wakeup_work().queue();
        }
    }

    fn lost_full(&mut self, _length: usize) {
        count_loss(&self.0.producer.lost.full);
    }

    fn lost_too_big(&mut self, length: usize) {
        count_loss(&self.0.producer.lost.too_big);
        self.0.chan.note_too_big(length);
    }
}

/// One more dropped record: only the buffer's producer counts them, so no
/// read-modify-write is needed.
fn count_loss(c: &AtomicUsize) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// `irq_work` handler: wakes the buffer's readers outside the producer's context.
///
/// # Safety
///
/// `work` is the `wakeup_work` of a live `rchan_buf`, as `irq_work` passes it.
unsafe extern "C" fn wakeup_readers(work: *mut bindings::irq_work) {
    // SAFETY: `work` is the `wakeup_work` field of a live `rchan_buf`
    // (buffers sync their irq_work before they can be freed).
    let raw = unsafe { kernel::container_of!(work, bindings::rchan_buf, wakeup_work) };
    // SAFETY: as above, `read_wait` was initialised when the buffer was made.
    let wq = unsafe { WaitQueue::from_raw(addr_of_mut!((*raw.cast_mut()).read_wait)) };
    wq.wake_up_interruptible();
}

#[pinned_drop]
impl PinnedDrop for Buffer {
    fn drop(self: Pin<&mut Self>) {
        // A queued wake-up must not run on freed memory.
        self.wakeup_work().sync();
        for i in 0..self.mem.page_count() {
            if let Some(page) = self.mem.page(i) {
                // SAFETY: a page we own, about to be freed, that no pipe or
                // mapping reads any more (a mapping's file, or bytes in flight
                // in a pipe, keep the buffer alive): clear what `new` set.
                unsafe { mm::set_page_private(page, 0) };
            }
        }
        #[cfg(CONFIG_KUNIT)]
        fault::LIVE_BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Fault injection and leak accounting for the KUnit suite: a test can make
/// the n-th next buffer allocation fail, and count live buffers.
#[cfg(CONFIG_KUNIT)]
pub(crate) mod fault {
    use core::sync::atomic::{AtomicI32, AtomicIsize, Ordering};
    use kernel::prelude::*;

    /// Buffers currently allocated.
    pub(crate) static LIVE_BUFFERS: AtomicIsize = AtomicIsize::new(0);
    /// Channels currently allocated.
    pub(crate) static LIVE_CHANNELS: AtomicIsize = AtomicIsize::new(0);

    /// Allocations to let through before one fails; negative: never fail.
    /// Also the module parameter `fault_fail_after` (C glue), so that guest
    /// tests can make a CPU-up fail.
    #[no_mangle]
    #[allow(non_upper_case_globals)]
    static relay_rs_fault_fail_after: AtomicI32 = AtomicI32::new(-1);

    /// Makes the allocation after `n` successful ones fail (once).
    pub(crate) fn fail_after(n: i32) {
        relay_rs_fault_fail_after.store(n, Ordering::SeqCst);
    }

    pub(crate) fn should_fail() -> Result {
        let left = relay_rs_fault_fail_after.load(Ordering::SeqCst);
        if left < 0 {
            return Ok(());
        }
        relay_rs_fault_fail_after.store(left - 1, Ordering::SeqCst);
        if left == 0 {
            return Err(ENOMEM);
        }
        Ok(())
    }
}
