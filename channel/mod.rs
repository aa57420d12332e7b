// SPDX-License-Identifier: GPL-2.0

//! Relay channels: a set of per-CPU (or one global) buffers sharing a
//! geometry, callbacks and private data.

pub(crate) mod api;
pub(crate) mod callbacks;
pub(crate) mod delivery;
pub(crate) mod registry;
mod stats;

use crate::{
    bindings,
    buffer::{ring::Geometry, Buffer},
    compat::{
        self,
        cpu::{self, CpuId, CpusReadLocked},
        fmt::fmt,
        percpu::PerCpuBufPtrs,
        sync::AssertSync,
    },
};
use callbacks::Callbacks;
use core::{
    ffi::{c_int, c_void},
    ptr::addr_of_mut,
    sync::atomic::{AtomicI32, AtomicPtr, Ordering},
};
use delivery::Delivery;
use kernel::{
    page::PAGE_SIZE,
    prelude::*,
    str::{CStr, CString},
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
};
use registry::ChannelsLocked;

/// Largest sub-buffer count: 16384. 6.12 allows what a `kmalloc`'d padding
/// array holds (512K on x86-64); relay_rs' tagged start counts must tell
/// three laps of one sub-buffer apart.
pub(crate) use crate::buffer::ring::MAX_SUBBUFS;

/// A relay channel.
///
/// `raw` comes first so that the `struct rchan *` handed to clients is also
/// a pointer to the `Channel`. Clients hold one [`Arc`] reference from open
/// to close; each buffer holds one, so the channel outlives its last reader.
///
/// # Invariants
///
/// `raw` mirrors `geo`, `cb` and `bufs`. Each non-NULL slot of `bufs` is a
/// buffer of this channel; each distinct buffer in the slots owns one
/// reference (from [`Arc::into_raw`]) until the channel is closed. In global
/// mode every non-NULL slot holds the same buffer. The delivery timer, which
/// reads the slots, is shut down before any of those references is released.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Channel {
    raw: Opaque<bindings::rchan>,
    /// The delivery interval and its timer. Before `bufs`, which the timer
    /// reads: fields drop in order, and the timer's drop shuts it down.
    #[pin]
    delivery: Delivery,
    geo: Geometry,
    cb: Callbacks,
    bufs: PerCpuBufPtrs,
    /// Opened with `RELAY_RS_LOCKLESS`: its buffers' producer is
    /// `buffer/lockless.rs`.
    lockless: bool,
    /// The `<base>.stats` debugfs file, or NULL.
    stats_dentry: AtomicPtr<bindings::dentry>,
    /// Whether the client's callbacks may still be called: the client (its
    /// callback table and code) may be gone once `close` returned, while
    /// mappings of its files live on. Cleared by `close`.
    #[pin]
    client: Mutex<bool>,
}

// SAFETY: the C fields are written before publication, under the channels
// lock, or through atomics; the other fields are immutable or thread-safe.
unsafe impl Send for Channel {}
// SAFETY: as above.
unsafe impl Sync for Channel {}

#[pinned_drop]
impl PinnedDrop for Channel {
    fn drop(self: Pin<&mut Self>) {
        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::LIVE_CHANNELS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Channel {
    /// Opens a channel with a buffer for every online CPU (`relay_open`).
    ///
    /// # Safety
    ///
    /// `parent` is NULL or a live directory dentry of the filesystem `cb`
    /// makes files in (a debugfs directory for the default
    /// `create_buf_file`), and stays valid until the channel is closed:
    /// files of CPUs that come online later are made in it.
    pub(crate) unsafe fn open(
        base_filename: Option<&CStr>,
        parent: *mut bindings::dentry,
        subbuf_size: usize,
        n_subbufs: usize,
        cb: Callbacks,
        private_data: *mut c_void,
        flags: u32,
    ) -> Result<Arc<Self>> {
        let geo = Geometry::new(subbuf_size, n_subbufs).map_err(|e| {
            pr_warn!("open: invalid geometry {subbuf_size} x {n_subbufs}: {e:?}\n");
            EINVAL
        })?;
        if flags & !bindings::RELAY_RS_LOCKLESS != 0 {
            pr_warn!("open: unknown flags {flags:#x}\n");
            return Err(EINVAL);
        }
        let lockless = flags & bindings::RELAY_RS_LOCKLESS != 0;
        if lockless && cb.may_overwrite() {
            // Writers in any context cannot wait for a client's decision,
            // and lockless buffers do not overwrite.
            pr_warn!("open: a lockless channel takes no subbuf_start callback\n");
            return Err(EINVAL);
        }
        // The allocation that CVE-2019-19462 was about: it may fail too.
        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::should_fail()?;
        let bufs = PerCpuBufPtrs::new()?;
        let raw = bindings::rchan {
            version: bindings::RELAYFS_CHANNEL_VERSION,
            subbuf_size,
            n_subbufs,
            alloc_size: geo.alloc_size(PAGE_SIZE),
            cb: cb.as_raw(),
            private_data,
            buf: bufs.as_raw(),
            ..Default::default()
        };
        // INVARIANT: `raw` mirrors the other fields; no buffer exists yet.
        let chan = Arc::pin_init(
            pin_init!(Self {
                raw: Opaque::new(raw),
                delivery <- Delivery::new(),
                geo,
                cb,
                bufs,
                lockless,
                stats_dentry: AtomicPtr::new(core::ptr::null_mut()),
                client <- kernel::new_mutex!(true),
            }),
            GFP_KERNEL,
        )?;

        #[cfg(CONFIG_KUNIT)]
        crate::kunit_support::LIVE_CHANNELS.fetch_add(1, Ordering::Relaxed);

        let _cpus = CpusReadLocked::new();
        let mut lock = ChannelsLocked::new();
        // SAFETY: under the channels lock, before any file exists.
        unsafe { chan.set_base_filename(base_filename, parent) };
        let made = cpu::online_cpus()
            .try_for_each(|cpu| chan.open_buf(&lock, cpu))
            .and_then(|()| lock.register(&chan));
        if let Err(e) = made {
            chan.close_bufs(&lock);
            return Err(e);
        }
        if let Some(base) = base_filename {
            // SAFETY: `parent` is NULL or a live dentry (caller contract);
            // the channel lives until `close` (its buffers hold it), which
            // removes the stats file first.
            unsafe { stats::create(&chan, base, parent) };
        }
        Ok(chan)
    }

    /// Creates the files of a buffer-only channel (`relay_late_setup_files`).
    ///
    /// Each file is sized with the bytes produced so far. On failure every
    /// file made so far is removed and the channel stays buffer-only (6.12
    /// leaves a half-set-up channel that can never be set up again).
    ///
    /// # Safety
    ///
    /// `parent` is as [`Channel::open`] requires.
    pub(crate) unsafe fn late_setup_files(
        &self,
        base: &CStr,
        parent: *mut bindings::dentry,
    ) -> Result {
        let cpus = CpusReadLocked::new();
        let lock = ChannelsLocked::new();
        if self.has_base_filename() {
            return Err(EEXIST);
        }
        let mut made = KVec::new();
        // SAFETY: `parent` per the caller contract; the channel has no base
        // name, so no file, and cannot get one while `lock` is held.
        let res = unsafe { self.create_late_files(&cpus, &lock, base, parent, &mut made) };
        if res.is_err() {
            for &(cpu, d) in made.iter() {
                if let Some(buf) = self.buffer(cpu) {
                    // SAFETY: detaching (NULL) needs no dentry.
                    let _ =
                        unsafe { self.set_buffer_dentry(&cpus, cpu, &buf, core::ptr::null_mut()) };
                }
                // SAFETY: `d` was made by `create_buf_file` and is removed
                // once, here (it is detached from its buffer).
                unsafe { self.cb.remove_buf_file(d) };
            }
            // SAFETY: under the channels lock; no file of this channel exists.
            unsafe { self.set_base_filename(None, core::ptr::null_mut()) };
        } else {
            // SAFETY: `parent` is NULL or a live dentry (caller contract); the
            // channel lives until `close` (the caller's reference, and its
            // buffers, hold it), which removes the stats file first.
            unsafe { stats::create(self, base, parent) };
        }
        res
    }

    /// Makes the files of `late_setup_files`, listing them in `made`.
    ///
    /// # Safety
    ///
    /// `parent` is as [`Channel::open`] requires, and no file of the
    /// channel exists.
    unsafe fn create_late_files(
        &self,
        cpus_locked: &CpusReadLocked,
        _lock: &ChannelsLocked,
        base: &CStr,
        parent: *mut bindings::dentry,
        made: &mut KVec<(CpuId, *mut bindings::dentry)>,
    ) -> Result {
        // SAFETY: under the channels lock (`_lock`); no file of this
        // channel exists (caller contract).
        unsafe { self.set_base_filename(Some(base), parent) };
        // Every buffer gets its file, also those of CPUs that went offline
        // since they were made (6.12 only covers online CPUs).
        let cpus: &mut dyn Iterator<Item = CpuId> = if self.is_global() {
            &mut CpuId::from_u32(0).into_iter()
        } else {
            &mut cpu::possible_cpus().filter(|c| c.is_online() || self.buffer(*c).is_some())
        };
        for cpu in cpus {
            let buf = self.buffer(cpu).ok_or(EINVAL)?;
            let name = CString::try_from_fmt(fmt!("{}{}", base, cpu.as_u32()))?;
            let mut is_global: c_int = c_int::from(self.is_global());
            // SAFETY: `parent` per the caller contract; the file is removed
            // before the buffer goes: by `Buffer::close` once attached, by
            // `late_setup_files` (from `made`) if this fails.
            let d = unsafe {
                self.cb
                    .create_buf_file(Some(&name), parent, &buf, &mut is_global)?
            };
            if d.is_null() {
                return Err(EINVAL);
            }
            if let Err(e) = made.push((cpu, d), GFP_KERNEL) {
                // SAFETY: `d` was just made by `create_buf_file`, and is
                // neither attached nor listed: removed once, here.
                unsafe { self.cb.remove_buf_file(d) };
                return Err(e.into());
            }
            // SAFETY: `d` is the live, positive dentry of a file just made for
            // this buffer by `create_buf_file`; only `Buffer::close` removes
            // it while attached (`late_setup_files` detaches it first).
            unsafe { self.set_buffer_dentry(cpus_locked, cpu, &buf, d)? };
        }
        Ok(())
    }

    /// Attaches `dentry` to `buf`, the buffer of `cpu` (detaches it for
    /// NULL) where that cannot race the buffer's producer: on the buffer's
    /// CPU with interrupts off, or directly for a global buffer (whose
    /// producers the client serialises with this call, as in 6.12) or for
    /// an offline CPU's (which `_cpus` keeps offline).
    ///
    /// # Safety
    ///
    /// A non-NULL `dentry` is as [`Buffer::set_dentry`] requires.
    unsafe fn set_buffer_dentry(
        &self,
        _cpus: &CpusReadLocked,
        cpu: CpuId,
        buf: &Buffer,
        dentry: *mut bindings::dentry,
    ) -> Result {
        // SAFETY: sharing a raw pointer races nothing (it has no interior
        // mutability); what it points to is only used by `set_dentry`
        // below, under that function's contract.
        let dentry = unsafe { AssertSync::new(dentry) };
        let mut attach = || {
            // No producer of the buffer runs meanwhile: on its CPU with
            // interrupts off (`run_on`), or a global or offline CPU's buffer.
            // SAFETY: `dentry` per the caller contract; no producer runs.
            unsafe { buf.set_dentry(*dentry.get()) }
        };
        if self.is_global() || !cpu.is_online() {
            attach();
            Ok(())
        } else {
            cpu::run_on(cpu, &mut attach)
        }
    }

    /// Sets or clears the base name and parent.
    ///
    /// # Safety
    ///
    /// The caller holds the channels lock and no file of the channel exists.
    unsafe fn set_base_filename(&self, base: Option<&CStr>, parent: *mut bindings::dentry) {
        let raw = self.raw.get();
        // SAFETY: the channels lock serialises every writer and the readers
        // that create files (caller contract).
        unsafe {
            (*raw).base_filename = [0; bindings::NAME_MAX as usize];
            (*raw).has_base_filename = c_int::from(base.is_some());
            (*raw).parent = parent;
            if let Some(base) = base {
                let bytes = compat::str::bytes(base);
                let n = bytes.len().min((*raw).base_filename.len() - 1);
                for (dst, src) in (*raw).base_filename.iter_mut().zip(&bytes[..n]) {
                    *dst = *src;
                }
            }
        }
    }

    /// Creates (or, in global mode, shares) the buffer of `cpu`
    /// (`relay_open_buf`); `_lock` serialises it with the writers of the
    /// base name and parent it reads, and of the slots.
    pub(crate) fn open_buf(self: &Arc<Self>, _lock: &ChannelsLocked, cpu: CpuId) -> Result {
        if self.is_global() {
            let cpu0 = CpuId::from_u32(0).ok_or(EINVAL)?;
            self.bufs.set(cpu, self.bufs.get(cpu0));
            return Ok(());
        }
        let buf = Buffer::new(self, cpu.as_u32())?;
        let mut is_global: c_int = 0;
        let dentry = if self.has_base_filename() {
            let name = CString::try_from_fmt(fmt!("{}{}", self.base_filename(), cpu.as_u32()))?;
            // The file is attached to the buffer below, and `Buffer::close`
            // removes it before the buffer goes.
            // SAFETY: `parent()` is the parent given to `open` or
            // `late_setup_files`, valid until close (their contract).
            let d = unsafe {
                self.cb
                    .create_buf_file(Some(&name), self.parent(), &buf, &mut is_global)?
            };
            if d.is_null() {
                return Err(ENOENT);
            }
            d
        } else {
            // Buffer-only channel: the callback only says whether the buffer
            // is global. Unlike 6.12, a NULL dentry is accepted (it is what
            // the callback is documented to return here).
            // SAFETY: no name, so no file to make; one made anyway is removed
            // below, before the buffer goes.
            let d = unsafe {
                self.cb
                    .create_buf_file(None, core::ptr::null_mut(), &buf, &mut is_global)?
            };
            if !d.is_null() {
                // SAFETY: `d` was just made by `create_buf_file`, removed once.
                unsafe { self.cb.remove_buf_file(d) };
                return Err(EINVAL);
            }
            d
        };
        if is_global != 0 {
            self.is_global_field().store(1, Ordering::Relaxed);
        }
        if !dentry.is_null() {
            // SAFETY: the file was just made for this buffer by
            // `create_buf_file`, and only `Buffer::close` removes it; the
            // buffer is not published, so no producer runs.
            unsafe { buf.set_dentry(dentry) };
        }
        buf.reset();
        let raw = Arc::into_raw(buf).cast_mut().cast::<bindings::rchan_buf>();
        if self.is_global() {
            // SAFETY: `raw` is the buffer just made, not yet published.
            unsafe { (*raw).cpu = 0 };
            let cpu0 = CpuId::from_u32(0).ok_or(EINVAL)?;
            self.bufs.set(cpu0, raw);
        }
        // INVARIANT: the channel's reference to the new buffer is stored in its slot.
        self.bufs.set(cpu, raw);
        Ok(())
    }

    /// Closes every buffer and drops the channel's references to them;
    /// `_lock` keeps two callers from taking back one slot's reference.
    fn close_bufs(&self, _lock: &ChannelsLocked) {
        // First: the delivery timer reads the slots without a reference.
        self.stop_delivery();
        let mut last: *mut bindings::rchan_buf = core::ptr::null_mut();
        for cpu in cpu::possible_cpus() {
            let raw = self.bufs.get(cpu);
            self.bufs.set(cpu, core::ptr::null_mut());
            // Global slots all alias one buffer: release it once.
            if raw.is_null() || raw == last {
                continue;
            }
            last = raw;
            // SAFETY: the slot owned a reference from `Arc::into_raw` (type
            // invariant), which we now take back; the slot was just cleared.
            let buf = unsafe { Arc::from_raw(raw.cast::<Buffer>()) };
            buf.close();
        }
    }

    /// Closes the channel (`relay_close`): files disappear, open readers
    /// keep the remaining data, memory goes with the last reference.
    pub(crate) fn close(this: Arc<Self>) {
        {
            let mut lock = ChannelsLocked::new();
            lock.unregister(&this);
            // From now on no client callback runs (and none is running).
            *this.client.lock() = false;
            stats::remove(&this);
            this.close_bufs(&lock);
            // SAFETY: the channel lives as long as `this`.
            let toobig = unsafe { compat::relay::last_toobig(this.as_raw()) };
            if toobig != 0 {
                pr_warn!(
                    "one or more items not logged [item size ({}) > sub-buffer size ({})]\n",
                    toobig,
                    this.geo.subbuf_size()
                );
            }
        }
        drop(this);
    }

    /// Calls `f` once for each distinct buffer.
    fn for_each_buffer(&self, mut f: impl FnMut(&Buffer)) {
        let mut last: *mut bindings::rchan_buf = core::ptr::null_mut();
        for cpu in cpu::possible_cpus() {
            let raw = self.bufs.get(cpu);
            if raw.is_null() || raw == last {
                continue;
            }
            last = raw;
            // SAFETY: a non-NULL slot holds a reference owned by the channel
            // (type invariant), kept while the caller's channel reference lives.
            let buf = unsafe { Buffer::from_raw(raw) };
            f(&buf);
            if self.is_global() {
                break;
            }
        }
    }

    /// Completes the current sub-buffer of every buffer (`relay_flush`).
    pub(crate) fn flush(&self) {
        if self.is_global() {
            // As in 6.12 a global flush takes no lock: clients call it under
            // their own spinlock, which also serialises their producers.
            self.for_each_buffer(|b| {
                b.switch_subbuf(0);
            });
            return;
        }
        // Each buffer on its own CPU with interrupts off, where it cannot
        // race a producer that keeps interrupts off (6.12 switches every
        // CPU's buffer from the caller's CPU, under its writers' feet).
        let _cpus = CpusReadLocked::new();
        let _lock = ChannelsLocked::new();
        for cpu in cpu::possible_cpus() {
            let raw = self.bufs.get(cpu);
            if raw.is_null() {
                continue;
            }
            // SAFETY: a non-NULL slot holds a reference owned by the channel
            // (type invariant), kept while the caller's channel reference lives.
            let buf = unsafe { Buffer::from_raw(raw) };
            let b: &Buffer = &buf;
            let mut switch = || {
                b.switch_subbuf(0);
            };
            // An offline CPU (kept offline by `_cpus`) runs no producer:
            // switched from here. The IPI cannot fail for an online one.
            if !cpu.is_online() || cpu::run_on(cpu, &mut switch).is_err() {
                switch();
            }
        }
    }

    /// Empties every buffer (`relay_reset`); producers must be quiet.
    pub(crate) fn reset(&self) {
        if self.is_global() {
            self.for_each_buffer(|b| b.reset());
            return;
        }
        let _lock = ChannelsLocked::new();
        self.for_each_buffer(|b| b.reset());
    }

    /// Sums the loss counters selected by `flags` over all buffers.
    pub(crate) fn stats(&self, flags: u32) -> usize {
        let mut total = 0;
        self.for_each_buffer(|b| {
            if flags & bindings::RELAY_RS_STATS_BUF_FULL != 0 {
                total += b.stats().full.load(Ordering::Relaxed);
            }
            if flags & bindings::RELAY_RS_STATS_WRT_BIG != 0 {
                total += b.stats().too_big.load(Ordering::Relaxed);
            }
            if flags & bindings::RELAY_RS_STATS_OVERWRITTEN != 0 {
                total += b.overwritten();
            }
        });
        total
    }

    /// The buffer of `cpu`, if it has one.
    pub(crate) fn buffer(&self, cpu: CpuId) -> Option<ArcBorrow<'_, Buffer>> {
        let raw = self.bufs.get(cpu);
        if raw.is_null() {
            return None;
        }
        // SAFETY: a non-NULL slot holds a buffer reference owned by the channel.
        Some(unsafe { Buffer::from_raw(raw) })
    }

    /// The C view of this channel.
    pub(crate) fn as_raw(&self) -> *mut bindings::rchan {
        self.raw.get()
    }

    /// Borrows the channel behind a `struct rchan *` from [`Channel::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Channel::into_raw`] and not have been closed.
    pub(crate) unsafe fn borrow<'a>(ptr: *mut bindings::rchan) -> ArcBorrow<'a, Channel> {
        // SAFETY: `raw` is the first field of the `#[repr(C)]` `Channel` in
        // an `Arc` whose client reference is still held (caller contract).
        unsafe { ArcBorrow::from_raw(ptr.cast::<Channel>()) }
    }

    /// Hands the client's reference to C as a `struct rchan *`.
    pub(crate) fn into_raw(this: Arc<Self>) -> *mut bindings::rchan {
        Arc::into_raw(this).cast_mut().cast()
    }

    /// Takes the client's reference back.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Channel::into_raw`]; it is consumed.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::rchan) -> Arc<Self> {
        // SAFETY: per the caller contract, this is the reference `into_raw` gave out.
        unsafe { Arc::from_raw(ptr.cast::<Channel>()) }
    }

    /// The channel's geometry.
    pub(crate) fn geometry(&self) -> Geometry {
        self.geo
    }

    /// The channel's callbacks.
    pub(crate) fn callbacks(&self) -> &Callbacks {
        &self.cb
    }

    /// Runs `f` with the client's callbacks unless the channel was closed:
    /// for callers that can outlive `close`, such as mappings of its files.
    pub(crate) fn with_live_callbacks(&self, f: impl FnOnce(&Callbacks)) {
        let live = self.client.lock();
        if *live {
            f(&self.cb);
        }
    }

    fn is_global_field(&self) -> &AtomicI32 {
        // SAFETY: an aligned `int` field of `raw`, live as long as `self`,
        // accessed by relay_rs only atomically.
        unsafe { AtomicI32::from_ptr(addr_of_mut!((*self.raw.get()).is_global)) }
    }

    /// Was the channel opened lockless (`RELAY_RS_LOCKLESS`)?
    pub(crate) fn is_lockless(&self) -> bool {
        self.lockless
    }

    /// Does one buffer serve all CPUs?
    pub(crate) fn is_global(&self) -> bool {
        self.is_global_field().load(Ordering::Relaxed) != 0
    }

    fn has_base_filename(&self) -> bool {
        // SAFETY: written before publication (or under the channels lock), then read-only.
        unsafe { (*self.raw.get()).has_base_filename != 0 }
    }

    fn parent(&self) -> *mut bindings::dentry {
        // SAFETY: as for `has_base_filename`.
        unsafe { (*self.raw.get()).parent }
    }

    fn base_filename(&self) -> &CStr {
        // SAFETY: `base_filename` is NUL-terminated (zeroed, then at most
        // NAME_MAX - 1 bytes copied) and not changed while files exist.
        let bytes: &[u8] = unsafe {
            let f = &(*self.raw.get()).base_filename;
            core::slice::from_raw_parts(f.as_ptr().cast(), f.len())
        };
        let len = bytes.iter().position(|&b| b == 0).unwrap_or(0);
        CStr::from_bytes_with_nul(&bytes[..=len]).unwrap_or(kernel::c_str!(""))
    }
}
