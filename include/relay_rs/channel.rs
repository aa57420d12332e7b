// SPDX-License-Identifier: GPL-2.0

//! The channel wrapper: [`Channel`] (open, write, flush, reset, close on
//! drop), the [`Producer`] that owns a buffer while it lives, and the
//! [`Reservation`] it fills in place; the inline write path they share;
//! and a lockless channel's [`LocklessReservation`].

use super::{
    arch,
    callbacks::{Callbacks, VTable},
    guard::{GlobalLocked, IrqsDisabled, RawSpinLock, Shared},
    raw::*,
};
use core::{
    marker::PhantomData,
    ptr::addr_of_mut,
    sync::atomic::{AtomicU32, AtomicUsize, Ordering},
};
use kernel::{ffi::c_int, prelude::*, str::CStr};

/// An open relay channel with callbacks `T` and data `T::Data`; files are
/// created in the debugfs root (none when `base` is `None`).
///
/// # Invariants
///
/// `raw` is an open channel, closed exactly once, on drop;
/// its private data is `shared.data`, which is freed only after the close.
/// If `T::GLOBAL`, every producer of its one buffer holds `shared.global`
/// (or runs inside the holder of its own CPU, which waits for it).
pub struct Channel<T: Callbacks> {
    raw: *mut RawChan,
    shared: Pin<KBox<Shared<T>>>,
}

// SAFETY: relay_rs channels may be used and closed from any thread, and
// `T::Data` is `Send + Sync`.
unsafe impl<T: Callbacks> Send for Channel<T> {}
// SAFETY: every `&self` method that produces does so as the only producer
// of the buffer it writes: with interrupts off on this CPU for a per-CPU
// buffer, which only this CPU's producers write (relay_rs switches a
// buffer for a flush on its own CPU with interrupts off too), and under
// `shared.global` as well for a global one (type invariant); `reset`
// takes `&mut self`.
unsafe impl<T: Callbacks> Sync for Channel<T> {}

impl<T: Callbacks> Channel<T> {
    /// Opens a channel; `None` as `base` makes a buffer-only channel.
    pub fn open(
        base: Option<&CStr>,
        subbuf_size: usize,
        n_subbufs: usize,
        data: T::Data,
    ) -> Result<Self> {
        let shared = KBox::pin_init(
            pin_init!(Shared::<T> {
                global <- RawSpinLock::new(),
                owner: AtomicU32::new(0),
                data,
            }),
            GFP_KERNEL,
        )?;
        let name = base.map_or(core::ptr::null(), |b| b.as_char_ptr());
        let private: *const T::Data = &shared.data;
        // SAFETY: `name` is NULL or a C string; the table is static; the
        // private data outlives the channel (closed before `shared` drops).
        let raw = unsafe {
            relay_rs_open_flags(
                name,
                core::ptr::null_mut(),
                subbuf_size,
                n_subbufs,
                VTable::<T>::table(),
                private.cast_mut().cast(),
                if T::LOCKLESS { LOCKLESS } else { 0 },
            )
        };
        if raw.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `raw` was just opened with `shared.data` as its
        // private data; producers are made only by
        // `write` and `producer`, which take `shared.global` if `T::GLOBAL`.
        Ok(Self { raw, shared })
    }

    /// The channel's data.
    pub fn data(&self) -> &T::Data {
        &self.shared.data
    }

    /// The global channel's writers' lock, taken unless this CPU holds it
    /// already (see [`GlobalLocked`]); nothing for a per-CPU channel. The
    /// caller has interrupts off (`_irqs`).
    #[inline(always)]
    fn lock_global(&self, irqs: &IrqsDisabled) -> GlobalLocked<'_> {
        let owner = &self.shared.owner;
        if !T::GLOBAL {
            return GlobalLocked { guard: None, owner };
        }
        // SAFETY: no preconditions.
        let me = unsafe { relay_rs_this_cpu() }.wrapping_add(1);
        if owner.load(Ordering::Relaxed) == me {
            // Our own holder called us (interrupts are off on this CPU, so
            // nothing else of it runs); it waits for us, and the lock stays
            // its.
            return GlobalLocked { guard: None, owner };
        }
        let guard = self.shared.global.lock(irqs);
        owner.store(me, Ordering::Relaxed);
        GlobalLocked {
            guard: Some(guard),
            owner,
        }
    }

    /// Writes one record to the current CPU's buffer (the global one for a
    /// global channel, under the channel's lock unless it is lockless),
    /// from any context but NMI (any context, NMI included, if
    /// [`Callbacks::LOCKLESS`]); a record that does not fit is dropped and
    /// counted.
    #[inline]
    pub fn write(&self, data: &[u8]) {
        let irqs = IrqsDisabled::new();
        if T::LOCKLESS {
            // Interrupts off only to stay on this CPU: relay_rs' lockless
            // path takes any writer, nested or on another CPU.
            // SAFETY: an open lockless channel (invariant), its buffer of
            // this CPU; `data` is readable.
            unsafe {
                relay_rs_write_slow(
                    arch::this_cpu_buf(self.raw),
                    data.as_ptr().cast(),
                    data.len(),
                )
            };
            return;
        }
        let _global = self.lock_global(&irqs);
        // Inside this CPU's own `Producer` (interrupts were off already),
        // whose reservation may be live: the checked switch. With
        // interrupts on before, no `Producer` of this CPU is alive, nor,
        // for a global buffer, one of another CPU (we hold the lock).
        // SAFETY: an open channel (invariant); interrupts are off, so no
        // other producer writes this CPU's buffer (a global one: we hold its
        // lock, or our paused holder does); the switch is checked as above.
        unsafe {
            let buf = arch::this_cpu_buf(self.raw);
            write_buf(self.raw, buf, data, !irqs.outermost());
        }
    }

    /// The right to produce into the current CPU's buffer (the global one
    /// for a global channel) until it drops: interrupts off, and the
    /// global channel's lock held. `None` if interrupts were off already
    /// (hard interrupt context, a spinlock taken with `_irqsave`, or inside
    /// another producer, of any channel): use [`Channel::write`] there.
    /// Always `None` on a lockless channel, which needs no producer: use
    /// [`Channel::write`] and [`Channel::reserve`].
    #[inline(always)]
    pub fn producer(&self) -> Option<Producer<'_, T>> {
        if T::LOCKLESS {
            // Its reservations commit on their own (`Channel::reserve`).
            return None;
        }
        let irqs = IrqsDisabled::new();
        if !irqs.outermost() {
            return None;
        }
        let global = self.lock_global(&irqs);
        // SAFETY: an open channel (invariant); interrupts are off.
        let buf = unsafe { arch::this_cpu_buf(self.raw) };
        // INVARIANT: interrupts were on before `irqs`, so no other
        // `Producer` of this CPU is alive (each keeps them off for its
        // life, and later guards that find them off never turn them on),
        // and nothing else produces into `buf` meanwhile: this CPU's
        // interrupt handlers and relay_rs' flush IPIs wait, and a global
        // buffer's other producers wait for `global`.
        Some(Producer {
            chan: self,
            buf,
            _global: global,
            _irqs: irqs,
        })
    }

    /// Reserves `len` bytes of the current CPU's buffer (the global one for
    /// a global channel) of a lockless channel, to fill in place from any
    /// context, NMI included; `None` if the record was dropped (and
    /// counted), or for `len == 0`. Committed when the
    /// [`LocklessReservation`] drops: readers see it, and its sub-buffer is
    /// delivered, once every slot reserved before it in the buffer is
    /// committed too, so later sub-buffers wait for it (their writers do
    /// not). Any number may be live at once, with writes among them.
    ///
    /// For lockless channels ([`Callbacks::LOCKLESS`]) only: a call for
    /// another channel does not build (those reserve through
    /// [`Channel::producer`]). The check is a constant evaluated when the
    /// call is compiled for its `T` (error E0080), so `cargo check` and
    /// rustdoc, which compile no code, do not report it; a module build
    /// does.
    ///
    /// ```ignore
    /// struct Nmi;
    /// impl relay_rs::Callbacks for Nmi {
    ///     type Data = ();
    ///     const LOCKLESS: bool = true;
    /// }
    /// // In an NMI handler, say:
    /// if let Some(mut slot) = chan.reserve(16) {
    ///     slot.copy_from_slice(&record); // committed when `slot` drops
    /// }
    /// ```
    #[inline]
    pub fn reserve(&self, len: usize) -> Option<LocklessReservation<'_>> {
        const {
            assert!(
                T::LOCKLESS,
                "Channel::reserve is for lockless channels: use producer()"
            );
        }
        let mut handle = 0usize;
        let (buf, slot) = {
            // Off only to find this CPU's buffer and reserve in it.
            let _irqs = IrqsDisabled::new();
            // SAFETY: an open lockless channel (invariant, and the assertion
            // above); this CPU's buffer, read with interrupts off; `handle`
            // is writable.
            unsafe {
                let buf = arch::this_cpu_buf(self.raw);
                (buf, relay_rs_lockless_reserve(buf, len, &mut handle))
            }
        };
        if slot.is_null() {
            return None;
        }
        // INVARIANT: `len` bytes of `buf` just reserved with `handle`; the
        // borrow of `self` keeps the channel open and not reset.
        Some(LocklessReservation {
            slot: slot.cast(),
            len,
            buf,
            handle,
            _chan: PhantomData,
        })
    }

    /// Makes partially filled sub-buffers visible to readers (each
    /// buffer's switch runs on its CPU with interrupts off, or under the
    /// lock for a global channel that is not lockless). On a lockless
    /// channel a [`LocklessReservation`] still live is not committed: it,
    /// and what was reserved after it, become readable once it drops.
    /// Process context; may sleep.
    pub fn flush(&self) {
        if T::GLOBAL {
            // relay_rs takes no lock for a global buffer: its writers' is ours.
            let irqs = IrqsDisabled::new();
            let _global = self.lock_global(&irqs);
            // SAFETY: an open channel (invariant); we are its buffer's only
            // producer now.
            unsafe { relay_rs_flush(self.raw) };
        } else {
            // SAFETY: an open channel (invariant).
            unsafe { relay_rs_flush(self.raw) };
        }
    }

    /// Empties all buffers; nothing may write to the channel meanwhile.
    pub fn reset(&mut self) {
        // SAFETY: an open channel; `&mut self` keeps every writer out (all
        // of them borrow the channel).
        unsafe { relay_rs_reset(self.raw) };
    }

    /// Records lost for the reasons in `flags` ([`STATS_BUF_FULL`],
    /// [`STATS_WRT_BIG`], [`STATS_OVERWRITTEN`]).
    pub fn lost(&self, flags: c_int) -> usize {
        // SAFETY: an open channel (invariant).
        unsafe { relay_rs_stats(self.raw, flags) }
    }

    /// Sets the delivery interval: a reader blocked in `poll()` on a
    /// buffer with unread bytes wakes within `msecs` milliseconds (plus one
    /// timer tick) even if no sub-buffer completes, and `poll()` counts the
    /// unread bytes of the sub-buffer being written as readable; 0 turns it
    /// off (the default). The write paths do not change: one timer per
    /// channel looks at the buffers while a reader waits (see
    /// `relay_rs_set_delivery_interval()` in `include/relay_rs.h`). Any
    /// context but NMI.
    ///
    /// # Errors
    ///
    /// `EINVAL` for more than [`MAX_DELIVERY_MS`](super::MAX_DELIVERY_MS).
    pub fn set_delivery_interval(&self, msecs: u32) -> Result {
        // SAFETY: an open channel (invariant); any context but NMI.
        let ret = unsafe { relay_rs_set_delivery_interval(self.raw, msecs) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(())
    }

    /// The C channel, for APIs this wrapper does not cover (using it to
    /// produce is `unsafe` and must follow the rules above).
    pub fn as_raw(&self) -> *mut RawChan {
        self.raw
    }
}

impl<T: Callbacks> Drop for Channel<T> {
    fn drop(&mut self) {
        // SAFETY: the channel is open and closed only here (invariant); its
        // buffers' callbacks stop before `shared` is freed after this.
        unsafe { relay_rs_close(self.raw) };
    }
}

/// Writes one record into `buf`: the inline `relay_rs_write_buf()` of
/// `include/relay_rs.h`, store for store (the protocol of relay_rs'
/// `buffer/ring.rs`).
///
/// A switch goes through `relay_rs_make_room_checked` if `checked` (the
/// caller may run while a [`Reservation`] of this buffer is live), else
/// through `relay_rs_make_room` (one comparison less per switch); only the
/// switch looks at `checked`.
///
/// # Safety
///
/// `chan` is an open channel, `buf` one of its buffers, and the caller its
/// only producer until this returns; unless `checked`, no [`Reservation`]
/// of `buf` is live.
#[inline(always)]
unsafe fn write_buf(chan: *mut RawChan, buf: *mut RawBuf, data: &[u8], checked: bool) {
    // SAFETY: an open channel's buffer, of which we are the producer
    // (caller contract); `subbuf_size` never changes.
    unsafe {
        let mut offset = (*buf).offset;
        if !fits_slice(offset, data.len(), (*chan).subbuf_size) {
            // A switch, or the record is dropped (and counted).
            let made = if checked {
                relay_rs_make_room_checked(buf, data.len())
            } else {
                relay_rs_make_room(buf, data.len())
            };
            if made == 0 {
                return;
            }
            offset = (*buf).offset;
        }
        // The record fits the current sub-buffer: no overflow.
        let end = offset.wrapping_add(data.len());
        core::ptr::copy_nonoverlapping(data.as_ptr(), (*buf).data.as_ptr().add(offset), data.len());
        // The bytes first, then the offset that makes them readable.
        AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
        count_record(buf);
    }
}

/// The only producer of one buffer of a [`Channel`] while it lives: local
/// interrupts off (and the channel's lock held, for a global channel).
/// Made by [`Channel::producer`]; not `Send` (it is about this CPU).
///
/// # Invariants
///
/// `buf` is `chan`'s buffer of this CPU (its global buffer), and nothing
/// else produces into it while `self` lives.
#[must_use = "the producer holds interrupts off until it drops"]
pub struct Producer<'a, T: Callbacks> {
    chan: &'a Channel<T>,
    buf: *mut RawBuf,
    // Dropped in this order: the lock, then interrupts back on.
    _global: GlobalLocked<'a>,
    _irqs: IrqsDisabled,
}

impl<T: Callbacks> Producer<'_, T> {
    /// The CPU this producer runs on.
    pub fn cpu(&self) -> u32 {
        // SAFETY: no preconditions.
        unsafe { relay_rs_this_cpu() }
    }

    /// Writes one record (`__relay_write()`: interrupts are off already); a
    /// record that does not fit is dropped and counted.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        // SAFETY: `buf` is the channel's buffer, whose only producer we
        // are (invariant); no reservation of it is live: ours are not
        // (`&mut self`), and no other producer of this CPU exists.
        unsafe { write_buf(self.chan.raw, self.buf, data, false) };
    }

    /// Reserves `len` bytes to fill in place; `None` if the record was
    /// dropped (and counted). Committed when the [`Reservation`] drops;
    /// until then it borrows the producer, so no other reservation or
    /// write goes through it, and relay_rs makes no switch in the buffer.
    #[inline]
    pub fn reserve(&mut self, len: usize) -> Option<Reservation<'_>> {
        let (chan, buf) = (self.chan.raw, self.buf);
        // SAFETY: an open channel's buffer, of which we are the only
        // producer (invariant), with no live reservation (`&mut self`, and
        // no other producer of this CPU): the unchecked switch.
        unsafe {
            let mut offset = (*buf).offset;
            if !fits(offset, len, (*chan).subbuf_size) {
                // A switch, or the record is dropped (and counted).
                if relay_rs_make_room(buf, len) == 0 {
                    return None;
                }
                offset = (*buf).offset;
            }
            // The record fits the current sub-buffer: no overflow.
            let end = offset.wrapping_add(len);
            // Everything before the slot is filled: readable, and the slot
            // marked uncommitted (no switch until it is). Then the offset
            // (release: who sees it sees `committed`), then the count.
            AtomicUsize::from_ptr(addr_of_mut!((*buf).committed))
                .store(offset.wrapping_add(UNCOMMITTED), Ordering::Release);
            AtomicUsize::from_ptr(addr_of_mut!((*buf).offset)).store(end, Ordering::Release);
            count_record(buf);
            // INVARIANT: `len` bytes at `offset` of the current sub-buffer,
            // just reserved for us and marked uncommitted.
            Some(Reservation {
                slot: (*buf).data.as_ptr().add(offset),
                len,
                buf,
                _producer: PhantomData,
            })
        }
    }
}

/// A reserved slot, filled through `DerefMut<Target = [u8]>` and committed
/// when dropped: readers see it from then on. A reservation that is leaked
/// (`mem::forget`) is never committed: its buffer then makes no more
/// switches, and every record that needs one is dropped and counted.
///
/// # Invariants
///
/// `slot` is `len` bytes of `buf`'s current sub-buffer reserved by its
/// producer, which the borrow `'p` keeps alive (interrupts off, the only
/// producer), and marked [`UNCOMMITTED`] in `committed`: no switch happens,
/// hence no reader sees or producer rewrites these bytes, until the
/// reservation commits (drops).
#[must_use = "a reservation is committed when it drops"]
pub struct Reservation<'p> {
    slot: *mut u8,
    len: usize,
    buf: *mut RawBuf,
    _producer: PhantomData<&'p mut ()>,
}

impl core::ops::Deref for Reservation<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts(self.slot, self.len) }
    }
}

impl core::ops::DerefMut for Reservation<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts_mut(self.slot, self.len) }
    }
}

impl Drop for Reservation<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: the producer's buffer, alive while `'p` is (invariant).
        let committed = unsafe { AtomicUsize::from_ptr(addr_of_mut!((*self.buf).committed)) };
        // The slot's bytes first (release), then readers and switches go on.
        committed.store(NO_RESERVATION, Ordering::Release);
    }
}

/// A slot of a lockless channel reserved by [`Channel::reserve`], filled
/// through `DerefMut<Target = [u8]>` and committed when dropped. A
/// reservation that is leaked (`mem::forget`) is never committed: its
/// sub-buffer and the ones after it are then never delivered, and once the
/// ring is full every record is dropped and counted.
///
/// # Invariants
///
/// `slot` is `len` bytes of `buf` reserved by `relay_rs_lockless_reserve()`
/// with `handle`, not committed; the borrow `'c` of the channel keeps it
/// open and not reset (`Channel::reset` takes `&mut`), and no other writer
/// or reader touches those bytes until the commit.
#[must_use = "a reservation is committed when it drops"]
pub struct LocklessReservation<'c> {
    slot: *mut u8,
    len: usize,
    buf: *mut RawBuf,
    handle: usize,
    _chan: PhantomData<&'c ()>,
}

impl core::ops::Deref for LocklessReservation<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts(self.slot, self.len) }
    }
}

impl core::ops::DerefMut for LocklessReservation<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes reserved for us alone (invariant).
        unsafe { core::slice::from_raw_parts_mut(self.slot, self.len) }
    }
}

impl Drop for LocklessReservation<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle of an uncommitted reservation of `buf`, whose
        // channel is open and was not reset since (invariant); committed
        // only here, once.
        unsafe { relay_rs_lockless_commit(self.buf, self.handle) };
    }
}
