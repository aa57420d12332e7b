// SPDX-License-Identifier: GPL-2.0

//! Relay channels: a set of per-CPU (or one global) buffers sharing a
//! geometry, callbacks and private data.

pub(crate) mod api;
pub(crate) mod callbacks;
mod stats;

use crate::{
    bindings,
    buffer::{ring::Geometry, Buffer},
    compat::{
        cpu::{self, CpuId, CpusReadLocked},
        percpu::PerCpuBufPtrs,
    },
};
use callbacks::Callbacks;
use core::{
    ffi::{c_int, c_void},
    marker::PhantomData,
    ptr::addr_of_mut,
    sync::atomic::{AtomicI32, AtomicPtr, AtomicUsize, Ordering},
};
use kernel::{
    fmt,
    page::PAGE_SIZE,
    prelude::*,
    str::{CStr, CString},
    sync::{Arc, ArcBorrow, Mutex},
    types::Opaque,
};

/// Largest sub-buffer count: 16384. 6.12 allows what a `kmalloc`'d padding
/// array holds (512K on x86-64); relay_rs' tagged start counts must tell
/// three laps of one sub-buffer apart.
pub(crate) use crate::buffer::ring::MAX_SUBBUFS;

/// The lock that serialises channel open, close, flush, reset and CPU
/// hotplug (6.12's `relay_channels_mutex`). Taken after `cpus_read_lock`.
pub(crate) struct ChannelsLocked(PhantomData<*mut ()>);

impl ChannelsLocked {
    /// Takes the lock; may sleep.
    pub(crate) fn new() -> Self {
        // SAFETY: process context; released in `drop`.
        unsafe { bindings::relay_rs_glue_channels_lock() };
        Self(PhantomData)
    }
}

impl Drop for ChannelsLocked {
    fn drop(&mut self) {
        // SAFETY: taken in `new` by this task.
        unsafe { bindings::relay_rs_glue_channels_unlock() };
    }
}

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
/// mode every non-NULL slot holds the same buffer.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub(crate) struct Channel {
    raw: Opaque<bindings::rchan>,
    geo: Geometry,
    cb: Callbacks,
    bufs: PerCpuBufPtrs,
    /// The `<base>.stats` debugfs file, or NULL.
    stats_dentry: AtomicPtr<bindings::dentry>,
    /// Commit mode (`RELAY_RS_OPEN_COMMIT`): reservations are committed
    /// when filled, and no switch happens while one is not.
    commits: bool,
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
        crate::buffer::fault::LIVE_CHANNELS.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Channel {
    /// Opens a channel with a buffer for every online CPU (`relay_open`).
    pub(crate) fn open(
        base_filename: Option<&CStr>,
        parent: *mut bindings::dentry,
        subbuf_size: usize,
        n_subbufs: usize,
        cb: Callbacks,
        private_data: *mut c_void,
        commits: bool,
    ) -> Result<Arc<Self>> {
        let geo = Geometry::new(subbuf_size, n_subbufs).map_err(|e| {
            pr_warn!("open: invalid geometry {subbuf_size} x {n_subbufs}: {e:?}\n");
            EINVAL
        })?;
        // The allocation that CVE-2019-19462 was about: it may fail too.
        #[cfg(CONFIG_KUNIT)]
        crate::buffer::fault::should_fail()?;
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
                geo,
                cb,
                bufs,
                commits,
                stats_dentry: AtomicPtr::new(core::ptr::null_mut()),
                client <- kernel::new_mutex!(true),
            }),
            GFP_KERNEL,
        )?;

        #[cfg(CONFIG_KUNIT)]
        crate::buffer::fault::LIVE_CHANNELS.fetch_add(1, Ordering::Relaxed);

        let _cpus = CpusReadLocked::new();
        let mut lock = ChannelsLocked::new();
        // SAFETY: under the channels lock, before any file exists.
        unsafe { chan.set_base_filename(base_filename, parent) };
        let made = cpu::online_cpus()
            .try_for_each(|cpu| chan.open_buf(cpu))
            .and_then(|()| crate::hotplug::register(&mut lock, &chan));
        if let Err(e) = made {
            chan.close_bufs();
            return Err(e);
        }
        if let Some(base) = base_filename {
            stats::create(&chan, base, parent);
        }
        Ok(chan)
    }

    /// Creates the files of a buffer-only channel (`relay_late_setup_files`).
    ///
    /// Each file is sized with the bytes produced so far. On failure every
    /// file made so far is removed and the channel stays buffer-only (6.12
    /// leaves a half-set-up channel that can never be set up again).
    pub(crate) fn late_setup_files(&self, base: &CStr, parent: *mut bindings::dentry) -> Result {
        let _cpus = CpusReadLocked::new();
        let _lock = ChannelsLocked::new();
        if self.has_base_filename() {
            return Err(EEXIST);
        }
        let mut made = KVec::new();
        let res = self.create_late_files(base, parent, &mut made);
        if res.is_err() {
            for &(cpu, d) in made.iter() {
                if let Some(buf) = self.buffer(cpu) {
                    // SAFETY: detaching (NULL) on the buffer's CPU, like attaching.
                    let _ = self.on_buffer_cpu(cpu, &mut || unsafe {
                        buf.set_dentry(core::ptr::null_mut())
                    });
                }
                self.cb.remove_buf_file(d);
            }
            // SAFETY: under the channels lock; no file of this channel exists.
            unsafe { self.set_base_filename(None, core::ptr::null_mut()) };
        } else {
            stats::create(self, base, parent);
        }
        res
    }

    fn create_late_files(
        &self,
        base: &CStr,
        parent: *mut bindings::dentry,
        made: &mut KVec<(CpuId, *mut bindings::dentry)>,
    ) -> Result {
        // SAFETY: under the channels lock; no file of this channel exists.
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
            let d = self
                .cb
                .create_buf_file(Some(&name), parent, &buf, &mut is_global)?;
            if d.is_null() {
                return Err(EINVAL);
            }
            if let Err(e) = made.push((cpu, d), GFP_KERNEL) {
                self.cb.remove_buf_file(d);
                return Err(e.into());
            }
            // SAFETY: a fresh file for this buffer, attached on the buffer's CPU.
            self.on_buffer_cpu(cpu, &mut || unsafe { buf.set_dentry(d) })?;
        }
        Ok(())
    }

    /// Runs `f` where it cannot race the buffer's producer: on the buffer's
    /// CPU with interrupts off, or directly for a global buffer (whose
    /// producers the client serialises) or an offline CPU's (hotplug is
    /// held off by the caller).
    fn on_buffer_cpu(&self, cpu: CpuId, f: &mut impl FnMut()) -> Result {
        if self.is_global() || !cpu.is_online() {
            f();
            Ok(())
        } else {
            cpu::run_on(cpu, f)
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
                let bytes = base.as_bytes();
                let n = bytes.len().min((*raw).base_filename.len() - 1);
                for (dst, src) in (*raw).base_filename.iter_mut().zip(&bytes[..n]) {
                    *dst = *src as _;
                }
            }
        }
    }

    /// Creates (or, in global mode, shares) the buffer of `cpu`
    /// (`relay_open_buf`). Called with the channels lock held.
    pub(crate) fn open_buf(self: &Arc<Self>, cpu: CpuId) -> Result {
        if self.is_global() {
            let cpu0 = CpuId::from_u32(0).ok_or(EINVAL)?;
            self.bufs.set(cpu, self.bufs.get(cpu0));
            return Ok(());
        }
        let buf = Buffer::new(self, cpu.as_u32())?;
        let mut is_global: c_int = 0;
        let dentry = if self.has_base_filename() {
            let name = CString::try_from_fmt(fmt!("{}{}", self.base_filename(), cpu.as_u32()))?;
            let d = self
                .cb
                .create_buf_file(Some(&name), self.parent(), &buf, &mut is_global)?;
            if d.is_null() {
                return Err(ENOENT);
            }
            d
        } else {
            // Buffer-only channel: the callback only says whether the buffer
            // is global. Unlike 6.12, a NULL dentry is accepted (it is what
            // the callback is documented to return here).
            let d = self
                .cb
                .create_buf_file(None, core::ptr::null_mut(), &buf, &mut is_global)?;
            if !d.is_null() {
                self.cb.remove_buf_file(d);
                return Err(EINVAL);
            }
            d
        };
        if is_global != 0 {
            self.is_global_field().store(1, Ordering::Relaxed);
        }
        if !dentry.is_null() {
            // SAFETY: the file was just created for this buffer and lives until
            // `close`; the buffer is not published, so no producer runs.
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

    /// Closes every buffer and drops the channel's references to them.
    fn close_bufs(&self) {
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
            crate::hotplug::unregister(&mut lock, &this);
            // From now on no client callback runs (and none is running).
            *this.client.lock() = false;
            stats::remove(&this);
            this.close_bufs();
            let toobig = this.last_toobig().load(Ordering::Relaxed);
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
            // The IPI cannot fail for an online CPU, and an offline CPU's
            // buffer is switched directly: nothing to report.
            let _ = self.on_buffer_cpu(cpu, &mut || {
                buf.switch_subbuf(0);
            });
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

    /// Is the channel in commit mode (see [`crate::buffer::ring`])?
    pub(crate) fn commits(&self) -> bool {
        self.commits
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

    /// Does one buffer serve all CPUs?
    pub(crate) fn is_global(&self) -> bool {
        self.is_global_field().load(Ordering::Relaxed) != 0
    }

    fn last_toobig(&self) -> &AtomicUsize {
        // SAFETY: an aligned `size_t` field of `raw`, live as long as `self`,
        // accessed by relay_rs only atomically.
        unsafe { AtomicUsize::from_ptr(addr_of_mut!((*self.raw.get()).last_toobig)) }
    }

    /// Remembers the size of a record too big for a sub-buffer.
    pub(crate) fn note_too_big(&self, length: usize) {
        self.last_toobig().store(length, Ordering::Relaxed);
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
