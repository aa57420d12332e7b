// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `relay_rs`: channel and buffer behaviour, run inside the
//! module when it is loaded on a kernel with `CONFIG_KUNIT`.
//!
//! The cases drive the exported C API and read buffers through the same
//! consumer path as the files, with a kernel-memory sink. Buffer-only
//! channels keep them independent of debugfs; global ones make every write
//! land in one buffer whatever CPU the test runs on.

use crate::{
    bindings,
    buffer::Buffer,
    channel::{api::*, Channel, MAX_SUBBUFS},
    compat::{cpu::CpuId, relay},
    relay_rs_api::{arch, IrqsDisabled},
};
use core::{
    ffi::CStr as CoreCStr,
    mem::MaybeUninit,
    ptr::{addr_of_mut, null, null_mut},
};
use kernel::{
    alloc::KVec,
    ffi::{c_char, c_int, c_void},
    prelude::*,
    sync::Arc,
};

/// Records a failed expectation with KUnit and lets the case go on, so that
/// it still releases what it holds (unlike `kunit_assert!`, which aborts).
#[track_caller]
fn expect(cond: bool, what: &CoreCStr) -> bool {
    if cond {
        return true;
    }
    let line = core::panic::Location::caller().line() as i32;
    // SAFETY: FFI call without preconditions.
    let test = unsafe { bindings::kunit_get_current_test() };
    if test.is_null() {
        pr_err!("expectation failed outside KUnit: {:?}\n", what);
        return false;
    }
    let loc = bindings::kunit_loc {
        file: c"relay_rs/tests/kunit_rs.rs".to_bytes_with_nul().as_ptr(),
        line,
    };
    let assert = bindings::kunit_unary_assert {
        assert: bindings::kunit_assert {},
        condition: what.to_bytes_with_nul().as_ptr(),
        expected_true: true,
    };
    // SAFETY: `test` is the running test; `loc` and `assert` outlive the
    // call, which formats the failure synchronously and does not abort.
    unsafe {
        bindings::__kunit_do_failed_assertion(
            test,
            &loc,
            bindings::kunit_assert_type_KUNIT_EXPECTATION,
            &assert.assert,
            Some(bindings::kunit_unary_assert_format),
            null(),
        )
    };
    false
}

macro_rules! expect {
    ($cond:expr) => {
        expect($cond, {
            const S: &CoreCStr =
                match CoreCStr::from_bytes_with_nul(concat!(stringify!($cond), "\0").as_bytes()) {
                    Ok(s) => s,
                    Err(_) => c"?",
                };
            S
        })
    };
}

#[path = "kunit_lockless.rs"]
mod lockless;

// ---- helpers ----

/// `create_buf_file` of a buffer-only global channel: no file, one buffer.
///
/// # Safety
///
/// `is_global` must be writable, as relay_rs passes it.
unsafe extern "C" fn create_global(
    _name: *const c_char,
    _parent: *mut bindings::dentry,
    _mode: u16,
    _buf: *mut bindings::rchan_buf,
    is_global: *mut c_int,
) -> *mut bindings::dentry {
    // SAFETY: relay_rs passes a writable `is_global`.
    unsafe { *is_global = 1 };
    null_mut()
}

/// Writes `data` to this CPU's buffer through relay_rs' own path on ring.rs
/// (the C header's inline ones are compared with it in `lockstep`).
///
/// # Safety
///
/// `chan` is an open channel.
unsafe fn write_raw(chan: *mut bindings::rchan, data: &[u8]) {
    let _irqs = IrqsDisabled::new();
    // SAFETY: an open channel (caller contract), and interrupts are off.
    let raw = unsafe { arch::this_cpu_buf(chan.cast()) };
    // SAFETY: this CPU's buffer of the open channel, which holds it.
    let buf = unsafe { Buffer::from_raw(raw.cast()) };
    // We are its producer, with interrupts off.
    buf.write(data);
}

/// A reservation in `buf` with interrupts off (the test is its producer).
fn reserve_raw(buf: &Buffer, length: usize) -> *mut c_void {
    let _irqs = IrqsDisabled::new();
    buf.reserve(length).map_or(null_mut(), |p| p.cast())
}

relay::subbuf_start_callback! {
    /// `subbuf_start` of an overwrite ("flight recorder") channel.
    ///
    /// # Safety
    ///
    /// None: it looks at nothing.
    unsafe fn always_switch(_buf, _, _, _) {
        1
    }
}

static GLOBAL_CB: SyncCb = SyncCb(bindings::rchan_callbacks {
    subbuf_start: None,
    create_buf_file: Some(create_global),
    remove_buf_file: None,
    buf_mapped: None,
    buf_unmapped: None,
});

static GLOBAL_OVERWRITE_CB: SyncCb = SyncCb(bindings::rchan_callbacks {
    subbuf_start: Some(always_switch),
    create_buf_file: Some(create_global),
    remove_buf_file: None,
    buf_mapped: None,
    buf_unmapped: None,
});

struct SyncCb(bindings::rchan_callbacks);
// SAFETY: immutable tables of function pointers.
unsafe impl Sync for SyncCb {}

/// A buffer-only global channel and its buffer; the channel is closed on drop.
struct TestChan {
    chan: *mut bindings::rchan,
    buf: Arc<Buffer>,
}

impl TestChan {
    fn open(subbuf_size: usize, n_subbufs: usize, cb: &'static SyncCb) -> Option<Self> {
        Self::open_flags(subbuf_size, n_subbufs, cb, 0)
    }

    /// [`TestChan::open`] with `relay_rs_open_flags()`'s `flags`.
    fn open_flags(
        subbuf_size: usize,
        n_subbufs: usize,
        cb: &'static SyncCb,
        flags: u32,
    ) -> Option<Self> {
        // SAFETY: no file name; `cb` is static.
        let chan = unsafe {
            relay_rs_open_flags(
                null(),
                null_mut(),
                subbuf_size,
                n_subbufs,
                &cb.0,
                null_mut(),
                flags,
            )
        };
        if chan.is_null() {
            return None;
        }
        // SAFETY: `chan` was just opened.
        let borrowed = unsafe { Channel::borrow(chan) };
        // A global channel's buffer sits in the slot of every online CPU.
        let buf = CpuId::from_u32(0)
            .and_then(|cpu| borrowed.buffer(cpu))
            .map(Arc::from);
        match buf {
            Some(buf) => Some(Self { chan, buf }),
            None => {
                expect!(false);
                // SAFETY: the channel opened above, closed once.
                unsafe { relay_rs_close(chan) };
                None
            }
        }
    }

    fn write(&self, data: &[u8]) {
        // SAFETY: an open channel.
        unsafe { write_raw(self.chan, data) };
    }

    fn buffer(&self) -> Arc<Buffer> {
        self.buf.clone()
    }

    fn stats(&self, flags: u32) -> usize {
        // SAFETY: an open channel.
        unsafe { relay_rs_stats(self.chan, flags as c_int) }
    }
}

impl Drop for TestChan {
    fn drop(&mut self) {
        // SAFETY: the channel from `open`, closed once.
        unsafe { relay_rs_close(self.chan) };
    }
}

/// Reads everything readable from `buf`, and expects (at the caller's line)
/// that the read succeeded and that what it says it delivered is what the
/// sink got: an empty result is then "nothing to read", never a failed read.
#[track_caller]
fn read_all(buf: &Buffer) -> KVec<u8> {
    let mut out = KVec::new();
    let mut sink_ok = true;
    let res = buf.read(usize::MAX, |src, len, at| {
        // SAFETY: `src` is readable for `len` bytes and no producer runs.
        let s = unsafe { core::slice::from_raw_parts(src, len) };
        // No producer runs, so no copy is dropped: `at` is what we have.
        let r = if at != out.len() {
            Err(EINVAL)
        } else {
            out.extend_from_slice(s, GFP_KERNEL).map_err(|_| ENOMEM)
        };
        sink_ok &= r.is_ok();
        r
    });
    // A sink error after some bytes ends the read with `Ok`: caught here.
    expect!(sink_ok);
    expect!(res.is_ok_and(|n| n == out.len()));
    out
}

/// `len` bytes counting up from `tag`; expects (at the caller's line) that
/// they could be allocated.
#[track_caller]
fn record(tag: u8, len: usize) -> KVec<u8> {
    let mut v = KVec::new();
    let mut ok = true;
    for i in 0..len {
        ok &= v.push(tag.wrapping_add(i as u8), GFP_KERNEL).is_ok();
    }
    expect!(ok);
    v
}

fn raw(buf: &Buffer) -> &bindings::rchan_buf {
    // SAFETY: the test is the only producer and consumer; plain reads.
    unsafe { &*buf.as_raw() }
}

// ---- cases ----

extern "C" fn open_rejects_bad_geometry(_t: *mut bindings::kunit) {
    expect!(TestChan::open(0, 4, &GLOBAL_CB).is_none());
    expect!(TestChan::open(64, 0, &GLOBAL_CB).is_none());
    expect!(TestChan::open(1 << 31, 2, &GLOBAL_CB).is_none());
    expect!(TestChan::open(usize::MAX, 2, &GLOBAL_CB).is_none());
    expect!(TestChan::open(1, MAX_SUBBUFS + 1, &GLOBAL_CB).is_none());
    let ok = TestChan::open(4096, 4, &GLOBAL_CB);
    expect!(ok.is_some());
    if let Some(c) = ok {
        // SAFETY: an open channel; fields of the C view are plain data.
        let r = unsafe { &*c.chan };
        expect!(r.version == bindings::RELAYFS_CHANNEL_VERSION);
        expect!(r.alloc_size == 4 * 4096);
        expect!(r.is_global == 1);
    }
}

extern "C" fn round_trip_byte_exact(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(512, 8, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    let mut expected = KVec::new();
    for i in 0..40u8 {
        let r = record(i, 1 + (i as usize * 13) % 97);
        c.write(&r);
        expect!(expected.extend_from_slice(&r, GFP_KERNEL).is_ok());
    }
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    let got = read_all(&c.buffer());
    expect!(got.len() == expected.len());
    expect!(got[..] == expected[..]);
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL | bindings::RELAY_RS_STATS_WRT_BIG) == 0);
}

extern "C" fn padding_is_never_read(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    let (a, b) = (record(1, 40), record(100, 40));
    c.write(&a);
    c.write(&b);
    let buf = c.buffer();
    // The second record did not fit: it starts sub-buffer 1 and the last 24
    // bytes of sub-buffer 0 are padding.
    // SAFETY: `padding` has `n_subbufs` entries; no producer runs.
    let pad0 = unsafe { *raw(&buf).padding };
    expect!(pad0 == 24);
    expect!(raw(&buf).subbufs_produced == 1);
    let got = read_all(&buf);
    expect!(got.len() == 80);
    expect!(got[..40] == a[..] && got[40..] == b[..]);
}

extern "C" fn no_overwrite_refuses_and_counts(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 2, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    for i in 0..5u8 {
        c.write(&record(i, 64));
    }
    let buf = c.buffer();
    expect!(buf.ring().is_full());
    // SAFETY: a buffer of an open channel.
    expect!(unsafe { relay_rs_buf_full(buf.as_raw()) } == 1);
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 3);
    // reserve(0) is how i915 probes for room: NULL while full.
    expect!(reserve_raw(&buf, 0).is_null());
    let got = read_all(&buf);
    expect!(got.len() == 128);
    expect!(got[..64] == record(0, 64)[..] && got[64..] == record(1, 64)[..]);
    // Conservation: 2 read + 3 counted = 5 written.
    expect!(got.len() / 64 + c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 5);
    // Room again: the refused switch is retried and succeeds.
    c.write(&record(9, 64));
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    let again = read_all(&buf);
    expect!(again[..] == record(9, 64)[..]);
}

extern "C" fn overwrite_mode_keeps_newest(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_OVERWRITE_CB) else {
        expect!(false);
        return;
    };
    for i in 0..10u8 {
        c.write(&record(i, 64));
    }
    let got = read_all(&c.buffer());
    // The producer lapped the reader: as in 6.12, reading resumes at
    // `produced - n_subbufs + 1`, i.e. the three newest complete
    // sub-buffers (records 6, 7, 8) and the current one (record 9).
    expect!(got.len() == 4 * 64);
    for (i, chunk) in got.chunks(64).enumerate() {
        expect!(chunk == &record(6 + i as u8, 64)[..]);
    }
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 0);
}

extern "C" fn flush_completes_partial_subbuf(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    let buf = c.buffer();
    c.write(&record(3, 10));
    expect!(buf.ring().is_empty());
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    expect!(!buf.ring().is_empty());
    expect!(raw(&buf).subbufs_produced == 1);
    // Flushing an empty sub-buffer produces one that is all padding.
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    expect!(raw(&buf).subbufs_produced == 2);
    let got = read_all(&buf);
    expect!(got[..] == record(3, 10)[..]);
    expect!(buf.ring().is_empty());
}

extern "C" fn reset_empties_and_clears_stats(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 2, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    for i in 0..4u8 {
        c.write(&record(i, 64));
    }
    c.write(&record(0, 65));
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 2);
    expect!(c.stats(bindings::RELAY_RS_STATS_WRT_BIG) == 1);
    // SAFETY: an open channel, no concurrent producer.
    unsafe { relay_rs_reset(c.chan) };
    let buf = c.buffer();
    expect!(read_all(&buf).is_empty());
    expect!(raw(&buf).subbufs_produced == 0 && raw(&buf).offset == 0);
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL | bindings::RELAY_RS_STATS_WRT_BIG) == 0);
    c.write(&record(5, 30));
    expect!(read_all(&buf)[..] == record(5, 30)[..]);
}

extern "C" fn too_big_is_dropped_and_counted(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    c.write(&record(1, 20));
    c.write(&record(2, 65));
    let buf = c.buffer();
    // Dropped without switching sub-buffers.
    expect!(raw(&buf).subbufs_produced == 0 && raw(&buf).offset == 20);
    expect!(c.stats(bindings::RELAY_RS_STATS_WRT_BIG) == 1);
    let k = buf.kernel_stats().counts();
    // What the kernel's relay keeps: 7.3 counts it, 6.12 its size.
    if relay::KEEPS_BUFFER_STATS {
        expect!(k.big_count == 1 && k.full_count == 0 && k.last_toobig == 0);
    } else {
        expect!(k.last_toobig == 65 && k.big_count == 0);
    }
    expect!(read_all(&buf)[..] == record(1, 20)[..]);
}

extern "C" fn reader_outlives_close(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    c.write(&record(7, 50));
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    // What an open file holds: its own buffer reference.
    let held = c.buffer();
    drop(c);
    expect!(held.is_finalized());
    expect!(read_all(&held)[..] == record(7, 50)[..]);
    // The last reference frees the buffer and, with it, the channel.
}

extern "C" fn subbufs_consumed_clamps(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_CB) else {
        expect!(false);
        return;
    };
    for i in 0..3u8 {
        c.write(&record(i, 64));
    }
    let buf = c.buffer();
    // Clamped to the two produced (6.12 ignores counts above `n_subbufs`).
    // SAFETY: an open channel.
    unsafe { relay_rs_subbufs_consumed(c.chan, 0, 5) };
    expect!(raw(&buf).subbufs_consumed == 2);
    // SAFETY: an open channel.
    unsafe { relay_rs_subbufs_consumed(c.chan, 0, 4) };
    expect!(raw(&buf).subbufs_consumed == 2);
    // SAFETY: an open channel; out-of-range CPU ids are ignored.
    unsafe { relay_rs_subbufs_consumed(c.chan, u32::MAX, 1) };
    expect!(raw(&buf).subbufs_consumed == 2);
}

extern "C" fn late_setup_files_sizes_and_refuses_twice(_t: *mut bindings::kunit) {
    // SAFETY: buffer-only per-CPU channel with default callbacks.
    let chan = unsafe { relay_rs_open(null(), null_mut(), 256, 4, null(), null_mut()) };
    if !expect!(!chan.is_null()) {
        return;
    }
    let rec = record(1, 100);
    {
        // SAFETY: an open channel.
        unsafe { write_raw(chan, &rec) };
    }
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(chan) };
    let late = |chan: *mut bindings::rchan, name: Option<&CoreCStr>| {
        let name = name.map_or(null(), |n| n.to_bytes_with_nul().as_ptr());
        // SAFETY: `chan` is NULL or the open channel; `name` is NULL or a C string.
        unsafe { relay_rs_late_setup_files(chan, name, null_mut()) }
    };
    expect!(late(chan, None) == EINVAL.to_errno());
    expect!(late(null_mut(), Some(c"x")) == EINVAL.to_errno());
    expect!(late(chan, Some(c"rrs_late")) == 0);
    expect!(late(chan, Some(c"rrs_late")) == EEXIST.to_errno());
    // SAFETY: an open channel.
    let borrowed = unsafe { Channel::borrow(chan) };
    let mut files = 0;
    let mut bytes = 0;
    for cpu in crate::compat::cpu::online_cpus() {
        if let Some(b) = borrowed.buffer(cpu) {
            let d = b.dentry();
            if expect!(!d.is_null()) {
                files += 1;
                // SAFETY: a live file dentry of this channel.
                bytes += unsafe { (*crate::compat::fs::d_inode(d)).i_size };
            }
        }
    }
    expect!(files == crate::compat::cpu::online_cpus().count());
    // Every file is sized with what was produced before it existed: one
    // sub-buffer with the record (the others are all padding).
    expect!(bytes == 100);
    // SAFETY: the channel opened above, closed once.
    unsafe { relay_rs_close(chan) };
}

extern "C" fn open_fails_cleanly_on_allocation_failure(_t: *mut bindings::kunit) {
    use crate::kunit_support as fault;
    use core::sync::atomic::Ordering;
    let buffers = fault::LIVE_BUFFERS.load(Ordering::SeqCst);
    let channels = fault::LIVE_CHANNELS.load(Ordering::SeqCst);
    // Failure 0 is the per-CPU pointer array (CVE-2019-19462: relay_open
    // dereferenced it and died holding relay_channels_mutex), then each
    // CPU's buffer in turn.
    for nth in 0..=crate::compat::cpu::online_cpus().count() as i32 {
        fault::fail_after(nth);
        // SAFETY: buffer-only per-CPU channel.
        let chan = unsafe { relay_rs_open(null(), null_mut(), 4096, 4, null(), null_mut()) };
        fault::fail_after(-1);
        expect!(chan.is_null());
        // Everything made before the failure is gone.
        expect!(fault::LIVE_BUFFERS.load(Ordering::SeqCst) == buffers);
        expect!(fault::LIVE_CHANNELS.load(Ordering::SeqCst) == channels);
    }
    // No lock is left held: opening again works (it would hang otherwise).
    let c = TestChan::open(4096, 4, &GLOBAL_CB);
    expect!(c.is_some());
    drop(c);
    expect!(fault::LIVE_BUFFERS.load(Ordering::SeqCst) == buffers);
    expect!(fault::LIVE_CHANNELS.load(Ordering::SeqCst) == channels);
}

relay::subbuf_start_callback! {
/// `subbuf_start` that reserves an 8-byte header holding the previous padding.
///
/// # Safety
///
/// Called by relay_rs with a live buffer and a writable sub-buffer.
unsafe fn header_start(buf, subbuf, _prev, prev_padding) {
    // SAFETY: a live buffer passed to its callback.
    if unsafe { relay_rs_buf_full(buf) } != 0 {
        return 0;
    }
    // SAFETY: `subbuf` is the start of a sub-buffer of at least 8 bytes.
    unsafe { core::ptr::write_unaligned(subbuf.cast::<u64>(), 0xabcd_0000 + prev_padding as u64) };
    // SAFETY: called from `subbuf_start`, as required.
    c_int::from(unsafe { relay_rs_subbuf_start_reserve(buf, 8) } == 0)
}
}

static HEADER_CB: SyncCb = SyncCb(bindings::rchan_callbacks {
    subbuf_start: Some(header_start),
    create_buf_file: Some(create_global),
    remove_buf_file: None,
    buf_mapped: None,
    buf_unmapped: None,
});

extern "C" fn subbuf_start_reserve_header(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &HEADER_CB) else {
        expect!(false);
        return;
    };
    let (a, b, d) = (record(1, 20), record(2, 20), record(3, 20));
    c.write(&a);
    c.write(&b);
    c.write(&d);
    // Header plus record exceeds the sub-buffer: switched, then dropped.
    c.write(&record(4, 60));
    expect!(c.stats(bindings::RELAY_RS_STATS_WRT_BIG) == 1);
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    let got = read_all(&c.buffer());
    let h0 = 0xabcd_0000u64.to_ne_bytes();
    let h1 = (0xabcd_0000u64 + 16).to_ne_bytes();
    let mut want = KVec::new();
    for part in [&h0[..], &a, &b, &h1[..], &d] {
        expect!(want.extend_from_slice(part, GFP_KERNEL).is_ok());
    }
    expect!(got.len() >= want.len() && got[..want.len()] == want[..]);
}

extern "C" fn overwrite_conservation(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_OVERWRITE_CB) else {
        expect!(false);
        return;
    };
    for i in 0..25u8 {
        c.write(&record(i, 32));
    }
    let got = read_all(&c.buffer());
    expect!(got.len() % 32 == 0);
    // Written = read + counted as overwritten, exactly.
    expect!(got.len() / 32 + c.stats(bindings::RELAY_RS_STATS_OVERWRITTEN) == 25);
    expect!(got.len() >= 32 && got[got.len() - 32..] == record(24, 32)[..]);
}

/// A 256-byte record numbered `seq` in its first 8 bytes.
fn numbered(seq: u64) -> KVec<u8> {
    let mut v = record(seq as u8, 256);
    v[..8].copy_from_slice(&seq.to_ne_bytes());
    v
}

/// The numbers of the 256-byte records in sub-buffer `k` (4 KiB) of `buf`.
fn numbers_in(buf: &Buffer, k: usize) -> [u64; 16] {
    let ring = raw(buf).start.cast::<u8>();
    core::array::from_fn(|i| {
        // SAFETY: inside the ring of 4 x 4 KiB; no producer runs.
        let p = unsafe { ring.add((k % 4) * 4096 + i * 256) };
        // SAFETY: as above, 8 readable bytes.
        u64::from_ne_bytes(unsafe { p.cast::<[u8; 8]>().read_unaligned() })
    })
}

/// An mmap consumer of an overwrite channel that the producer lapped
/// hands back what it copied (issue 15): the overwritten records stay
/// counted, the hand-back tells which copies to drop, and written =
/// delivered + counted, exactly. Through the ioctl's function and through
/// `relay_rs_subbufs_consumed`.
extern "C" fn mmap_hand_back_keeps_losses(_t: *mut bindings::kunit) {
    for via_export in [false, true] {
        let Some(c) = TestChan::open(4096, 4, &GLOBAL_OVERWRITE_CB) else {
            expect!(false);
            return;
        };
        for seq in 0..80 {
            c.write(&numbered(seq));
        }
        let buf = c.buffer();
        let over = bindings::RELAY_RS_STATS_OVERWRITTEN;
        expect!(raw(&buf).subbufs_produced == 4 && raw(&buf).subbufs_consumed == 0);
        expect!(c.stats(over) == 16);
        // The consumer copies what INFO and PADDING show: sub-buffers 0-3,
        // of which 0 now holds records 64-79 (the current sub-buffer).
        let mut delivered = 0;
        let copies: [[u64; 16]; 4] = core::array::from_fn(|k| numbers_in(&buf, k));
        let dropped = if via_export {
            // SAFETY: an open channel.
            unsafe { relay_rs_subbufs_consumed(c.chan, 0, 4) };
            1
        } else {
            let dropped = buf.consume_subbufs(4);
            expect!(dropped == 1);
            dropped
        };
        for (k, copy) in copies.iter().enumerate().skip(dropped) {
            expect!(copy
                .iter()
                .enumerate()
                .all(|(i, &s)| s == (16 * k + i) as u64));
            delivered += copy.len();
        }
        expect!(raw(&buf).subbufs_consumed == 4);
        // The reported loss is still there.
        expect!(c.stats(over) == 16);
        // SAFETY: an open channel.
        unsafe { relay_rs_flush(c.chan) };
        let rest = read_all(&buf);
        expect!(rest.len() == 16 * 256 && rest.get(..8) == Some(&64u64.to_ne_bytes()[..]));
        delivered += rest.len() / 256;
        expect!(delivered + c.stats(over) == 80);

        // Lapped by more than a ring: handing back [consumed, produced)
        // consumes it all (it would be ignored in 6.12), the overwritten
        // ones counted; nothing was copied of them.
        for seq in 80..240 {
            c.write(&numbered(seq));
        }
        let r = raw(&buf);
        let (from, to) = (r.subbufs_consumed, r.subbufs_produced);
        expect!(to - from > 4);
        let before = c.stats(over);
        let dropped = buf.consume_subbufs(to - from);
        let after = c.stats(over);
        expect!(raw(&buf).subbufs_consumed == to);
        expect!(after >= before);
        // All but the newest three complete sub-buffers were overwritten.
        expect!(dropped == to - from - 3);
        // SAFETY: an open channel.
        unsafe { relay_rs_flush(c.chan) };
        delivered += 3 * 16 + read_all(&buf).len() / 256;
        expect!(delivered + c.stats(over) == 240);
    }
}

/// Overwrite losses are counted lazily (by consumers, and by the stats up
/// to the present): without any reader the stats show them all, a reader
/// then finds the rest, and a one-sub-buffer ring counts the same way.
extern "C" fn overwrite_counted_without_reader(_t: *mut bindings::kunit) {
    for (n, intact) in [(4usize, 7usize), (1, 1)] {
        let Some(c) = TestChan::open(64, n, &GLOBAL_OVERWRITE_CB) else {
            expect!(false);
            return;
        };
        // Two records per sub-buffer: 13 sub-buffers, the last one current.
        for i in 0..25u8 {
            c.write(&record(i, 32));
        }
        expect!(c.stats(bindings::RELAY_RS_STATS_OVERWRITTEN) == 25 - intact);
        // Asking again changes nothing.
        expect!(c.stats(bindings::RELAY_RS_STATS_OVERWRITTEN) == 25 - intact);
        // Completed sub-buffers only (a record read from the current one
        // and then overwritten would count twice, as in 6.12's catch-up).
        let mut read = 0;
        for round in 1..=2u8 {
            // SAFETY: an open channel.
            unsafe { relay_rs_flush(c.chan) };
            let got = read_all(&c.buffer());
            read += got.len() / 32;
            let last = round * 25 - 1;
            if n == 1 {
                // The flush began the next sub-buffer in the only slot:
                // the last record is overwritten too, nothing is readable.
                expect!(got.is_empty());
            } else {
                // The newest record is the last one read.
                expect!(got.len() >= 32 && got[got.len() - 32..] == record(last, 32)[..]);
            }
            expect!(read + c.stats(bindings::RELAY_RS_STATS_OVERWRITTEN) == usize::from(last) + 1);
            // More laps after the reader caught up: counted from there.
            for i in 25..50u8 {
                c.write(&record(i, 32));
            }
        }
    }
}

/// The 2023 out-of-bounds trigger ("relayfs: fix out-of-bounds access in
/// relay_file_read"): the last produced and the last consumed byte both at
/// the end of the last sub-buffer, then a switch before the next read. With
/// KASAN's vmalloc checks any access past the ring is reported.
extern "C" fn read_at_ring_end_after_switch(_t: *mut bindings::kunit) {
    let Some(c) = TestChan::open(64, 4, &GLOBAL_OVERWRITE_CB) else {
        expect!(false);
        return;
    };
    let buf = c.buffer();
    for round in 0..3u8 {
        // Fill every sub-buffer exactly and read it all: the reader ends at
        // the very end of the ring.
        for i in 0..4u8 {
            c.write(&record(round * 4 + i, 64));
        }
        let got = read_all(&buf);
        expect!(got.len() == 4 * 64);
        expect!(got[192..] == record(round * 4 + 3, 64)[..]);
        // A switch now (as a writer in softirq would between two steps of a
        // read), then read again: nothing, and nothing past the ring.
        // SAFETY: an open channel.
        unsafe { relay_rs_flush(c.chan) };
        expect!(read_all(&buf).is_empty());
        c.write(&record(99, 10));
        expect!(read_all(&buf)[..] == record(99, 10)[..]);
        // SAFETY: an open channel, no concurrent producer.
        unsafe { relay_rs_reset(c.chan) };
    }
}

// ---- the safe Rust API (include/relay_rs/) ----

mod safe_api {
    use super::*;
    use crate::relay_rs_api::{self as api, Callbacks, SubbufStart};
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// Counts `subbuf_start` calls in typed private data; writes a 4-byte
    /// header with the CPU into every sub-buffer; no-overwrite.
    struct Counting;

    #[derive(Default)]
    struct Counts {
        starts: AtomicUsize,
        firsts: AtomicUsize,
    }

    impl Callbacks for Counting {
        type Data = Counts;
        const GLOBAL: bool = true;

        fn subbuf_start(s: &mut SubbufStart<'_, Self>) -> bool {
            s.data().starts.fetch_add(1, Ordering::Relaxed);
            if s.is_first() {
                s.data().firsts.fetch_add(1, Ordering::Relaxed);
            }
            if s.is_full() {
                return false;
            }
            let tag = (0x1000 + s.cpu()).to_le_bytes();
            if let Some(h) = s.reserve_header(4) {
                h.copy_from_slice(&tag);
            }
            true
        }
    }

    fn buffer_of<T: Callbacks>(c: &api::Channel<T>) -> Option<Arc<Buffer>> {
        // SAFETY: the wrapper's channel is an open relay_rs channel.
        let chan = unsafe { Channel::borrow(c.as_raw().cast()) };
        CpuId::from_u32(0)
            .and_then(|cpu| chan.buffer(cpu))
            .map(Arc::from)
    }

    pub(super) extern "C" fn callbacks_and_private_data(_t: *mut bindings::kunit) {
        let Ok(mut c) = api::Channel::<Counting>::open(None, 64, 4, Counts::default()) else {
            expect!(false);
            return;
        };
        // Called once at open with no previous sub-buffer.
        expect!(c.data().starts.load(Ordering::Relaxed) == 1);
        expect!(c.data().firsts.load(Ordering::Relaxed) == 1);
        for i in 0..6u8 {
            c.write(&record(i, 30));
        }
        // 4-byte header + 30 + 30 = 64: two records per sub-buffer.
        expect!(c.data().starts.load(Ordering::Relaxed) == 3);
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        let got = read_all(&buf);
        // Three sub-buffers of header + two records (the last still current).
        expect!(got.len() == 3 * 64);
        expect!(got[..4] == 0x1000u32.to_le_bytes());
        expect!(got[4..34] == record(0, 30)[..]);
        c.reset();
        expect!(c.data().firsts.load(Ordering::Relaxed) == 2);
        expect!(c.lost(api::STATS_BUF_FULL) == 0);
    }

    /// Copies `src` into the start of `slot` (without `copy_from_slice`,
    /// whose length-mismatch panic 6.12's objtool does not know as noreturn).
    fn fill(slot: &mut [u8], src: &[u8]) {
        for (d, s) in slot.iter_mut().zip(src) {
            *d = *s;
        }
    }

    /// A global channel with relay's defaults (no header, no-overwrite).
    struct Plain;

    impl Callbacks for Plain {
        type Data = ();
        const GLOBAL: bool = true;
    }

    /// The Rust API's readable extent in the current sub-buffer: a write is
    /// readable once copied, a reservation once committed (its
    /// `Reservation` dropped), never while it is being filled.
    pub(super) extern "C" fn inline_paths_readable_extent(_t: *mut bindings::kunit) {
        let Ok(c) = api::Channel::<Plain>::open(None, 256, 4, ()) else {
            expect!(false);
            return;
        };
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        // Made up front: nothing may allocate with interrupts off.
        let (r2, r4) = (record(2, 16), record(4, 16));
        c.write(&record(1, 16));
        expect!(read_all(&buf)[..] == record(1, 16)[..]);
        {
            let Some(mut producer) = c.producer() else {
                expect!(false);
                return;
            };
            let Some(mut slot) = producer.reserve(16) else {
                expect!(false);
                return;
            };
            // Not filled yet: nothing new is readable (asked of the ring
            // directly: the readers' mutex cannot be taken with interrupts off).
            expect!(buf.ring().next_read(usize::MAX).is_none());
            fill(&mut slot, &r2);
            expect!(buf.ring().next_read(usize::MAX).is_none());
        }
        // Committed when the reservation dropped.
        expect!(read_all(&buf)[..] == record(2, 16)[..]);
        c.write(&record(3, 16));
        expect!(read_all(&buf)[..] == record(3, 16)[..]);
        if let Some(mut producer) = c.producer() {
            if let Some(mut slot) = producer.reserve(16) {
                fill(&mut slot, &r4);
            };
        }
        expect!(read_all(&buf)[..] == record(4, 16)[..]);
        c.flush();
        expect!(read_all(&buf).is_empty());
        // Four records, one sub-buffer completed: the counters agree.
        // SAFETY: a live buffer; no producer runs.
        expect!(unsafe { (*buf.as_raw()).records } == 4);
        // SAFETY: as above.
        expect!(unsafe { (*buf.as_raw()).subbufs_produced } == 1);
        expect!(c.lost(api::STATS_BUF_FULL | api::STATS_WRT_BIG | api::STATS_OVERWRITTEN) == 0);
    }

    pub(super) extern "C" fn producer_reserve_global(_t: *mut bindings::kunit) {
        let Ok(c) = api::Channel::<Counting>::open(None, 64, 2, Counts::default()) else {
            expect!(false);
            return;
        };
        let mut accepted = 0;
        for i in 0..6u8 {
            let rec = record(i, 60);
            let Some(mut producer) = c.producer() else {
                expect!(false);
                return;
            };
            if let Some(mut slot) = producer.reserve(60) {
                fill(&mut slot, &rec);
                accepted += 1;
            };
        }
        // One 60-byte record per sub-buffer after the header; 2 sub-buffers.
        expect!(accepted == 2);
        expect!(c.lost(api::STATS_BUF_FULL) == 4);
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        let got = read_all(&buf);
        expect!(got.len() == 128);
        expect!(got[4..64] == record(0, 60)[..] && got[68..] == record(1, 60)[..]);
    }

    /// A write from inside this CPU's own producer of a global channel goes
    /// on under its holding of the lock (no deadlock), after the live slot
    /// and unreadable until the slot is committed; with no live slot it may
    /// switch.
    pub(super) extern "C" fn global_write_inside_producer(_t: *mut bindings::kunit) {
        let Ok(c) = api::Channel::<Plain>::open(None, 64, 4, ()) else {
            expect!(false);
            return;
        };
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        let (r1, r2, r3) = (record(1, 16), record(2, 16), record(3, 64));
        if let Some(mut p) = c.producer() {
            if let Some(mut slot) = p.reserve(16) {
                c.write(&r2);
                expect!(buf.ring().next_read(usize::MAX).is_none());
                fill(&mut slot, &r1);
            } else {
                expect!(false);
            }
            // No live slot: a nested write may switch.
            c.write(&r3);
            c.flush();
        } else {
            expect!(false);
        }
        let got = read_all(&buf);
        expect!(got.len() == 32 + 64);
        expect!(got.len() == 96 && got[..16] == r1[..] && got[16..32] == r2[..]);
        expect!(got.len() == 96 && got[32..] == r3[..]);
        expect!(c.lost(api::STATS_BUF_FULL | api::STATS_WRT_BIG) == 0);
    }

    /// Per-CPU, relay's defaults.
    struct PerCpu;

    impl Callbacks for PerCpu {
        type Data = ();
    }

    /// One producer per CPU: none while interrupts are off already (inside
    /// another producer, of any channel, or any interrupts-off section).
    pub(super) extern "C" fn one_producer_per_cpu(_t: *mut bindings::kunit) {
        let (Ok(a), Ok(b)) = (
            api::Channel::<PerCpu>::open(None, 64, 2, ()),
            api::Channel::<Plain>::open(None, 64, 2, ()),
        ) else {
            expect!(false);
            return;
        };
        {
            let p = a.producer();
            expect!(p.is_some());
            expect!(a.producer().is_none());
            expect!(b.producer().is_none());
        }
        {
            let _irqs = IrqsDisabled::new();
            expect!(a.producer().is_none());
        }
        expect!(a.producer().is_some());
        expect!(b.producer().is_some());
    }

    /// A live reservation blocks the switch a write of the same CPU needs
    /// (dropped, counted), and a flush's: nothing exposes the slot.
    pub(super) extern "C" fn reservation_blocks_switches(_t: *mut bindings::kunit) {
        let Ok(c) = api::Channel::<PerCpu>::open(None, 64, 4, ()) else {
            expect!(false);
            return;
        };
        let (r1, r2) = (record(1, 40), record(2, 40));
        let raw = {
            let Some(mut producer) = c.producer() else {
                expect!(false);
                return;
            };
            // SAFETY: an open channel; interrupts are off (the producer).
            let raw = unsafe { arch::this_cpu_buf(c.as_raw()) };
            let Some(mut slot) = producer.reserve(40) else {
                expect!(false);
                return;
            };
            // Needs a switch: refused while the slot is live.
            c.write(&r2);
            fill(&mut slot, &r1);
            // SAFETY: this CPU's live buffer, we are its producer.
            expect!(unsafe { (*raw.cast::<bindings::rchan_buf>()).subbufs_produced } == 0);
            raw
        };
        expect!(c.lost(api::STATS_BUF_FULL) == 1);
        // SAFETY: the channel's buffer, alive while it is open.
        let buf = unsafe { Buffer::from_raw(raw.cast()) };
        // Committed: readable, and switches go on.
        expect!(read_all(&buf)[..] == r1[..]);
        c.flush();
        // SAFETY: a live buffer; no producer runs.
        expect!(unsafe { (*raw.cast::<bindings::rchan_buf>()).subbufs_produced } == 1);
        expect!(c.lost(api::STATS_BUF_FULL | api::STATS_WRT_BIG) == 1);
    }

    /// Records each CPU writes in `global_writers_serialised`.
    const PER_CPU_RECORDS: u32 = 200;

    /// What every CPU's writer in `global_writers_serialised` gets.
    struct Writers<'a> {
        chan: &'a api::Channel<Plain>,
        next_id: AtomicUsize,
    }

    /// Every CPU at once (an IPI to all), writing numbered records to one
    /// global channel through the safe `write`.
    ///
    /// # Safety
    ///
    /// `info` points to a live [`Writers`].
    unsafe extern "C" fn write_from_every_cpu(info: *mut c_void) {
        // SAFETY: `info` is the test's `Writers`, alive for the synchronous call.
        let w = unsafe { &*info.cast::<Writers<'_>>() };
        let id = w.next_id.fetch_add(1, Ordering::Relaxed) as u32;
        for seq in 0..PER_CPU_RECORDS {
            let mut rec = [0u8; 64];
            fill(&mut rec[..4], &id.to_le_bytes());
            fill(&mut rec[4..8], &seq.to_le_bytes());
            let sum = id.wrapping_mul(0x9e37_79b9) ^ seq.wrapping_mul(0x85eb_ca6b);
            for (i, b) in rec[8..].iter_mut().enumerate() {
                *b = (sum as u8).wrapping_add(i as u8);
            }
            w.chan.write(&rec);
        }
    }

    /// Writers of a global channel on every CPU at once: the wrapper's lock
    /// serialises them, so every record arrives whole and each writer's in
    /// order (without it they would race on one write offset).
    pub(super) extern "C" fn global_writers_serialised(_t: *mut bindings::kunit) {
        let Ok(c) = api::Channel::<Plain>::open(None, 4096, 64, ()) else {
            expect!(false);
            return;
        };
        let w = Writers {
            chan: &c,
            next_id: AtomicUsize::new(0),
        };
        let info: *const Writers<'_> = &w;
        // SAFETY: `write_from_every_cpu` only reads `info`, which outlives
        // the call (it waits for every CPU).
        unsafe {
            bindings::on_each_cpu_cond_mask(
                None,
                Some(write_from_every_cpu),
                info.cast_mut().cast(),
                true,
                core::ptr::addr_of!(bindings::__cpu_online_mask),
            )
        };
        c.flush();
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        let got = read_all(&buf);
        let writers = w.next_id.load(Ordering::Relaxed);
        expect!(writers >= 1);
        let mut next = KVec::new();
        for _ in 0..writers {
            if next.push(0u32, GFP_KERNEL).is_err() {
                expect!(false);
                return;
            }
        }
        let (mut whole, mut in_order) = (0usize, true);
        for rec in got.chunks_exact(64) {
            let id = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
            let seq = u32::from_le_bytes([rec[4], rec[5], rec[6], rec[7]]);
            let sum = id.wrapping_mul(0x9e37_79b9) ^ seq.wrapping_mul(0x85eb_ca6b);
            let intact = rec[8..]
                .iter()
                .enumerate()
                .all(|(i, b)| *b == (sum as u8).wrapping_add(i as u8));
            let Some(n) = next.get_mut(id as usize) else {
                expect!(false);
                return;
            };
            in_order &= *n == seq;
            *n = seq.wrapping_add(1);
            whole += usize::from(intact);
        }
        expect!(got.len() % 64 == 0);
        expect!(whole == got.len() / 64);
        expect!(in_order);
        // Every writer's records all arrived (nothing was lost).
        expect!(whole == writers * PER_CPU_RECORDS as usize);
        expect!(next.iter().all(|n| *n == PER_CPU_RECORDS));
        expect!(c.lost(api::STATS_BUF_FULL | api::STATS_WRT_BIG) == 0);
    }

    /// Writes to its own channel from `subbuf_start` once armed; overwrite
    /// mode (every switch accepted).
    struct Reentrant;

    #[derive(Default)]
    struct ReentrantData {
        chan: core::sync::atomic::AtomicPtr<api::Channel<Reentrant>>,
        armed: AtomicUsize,
        lockdep_off: AtomicUsize,
    }

    impl Callbacks for Reentrant {
        type Data = ReentrantData;

        fn subbuf_start(s: &mut SubbufStart<'_, Self>) -> bool {
            let d = s.data();
            let c = d.chan.load(Ordering::Acquire);
            if !c.is_null() {
                // Armed: called from the Rust API's write paths.
                d.armed.fetch_add(1, Ordering::Relaxed);
                // SAFETY: FFI call without preconditions.
                if !unsafe { bindings::relay_rs_glue_kunit_lockdep_irqs_on() } {
                    d.lockdep_off.fetch_add(1, Ordering::Relaxed);
                }
                // SAFETY: armed with the channel, which outlives its callbacks.
                unsafe { &*c }.write(b"nested");
            }
            true
        }
    }

    /// A `subbuf_start` that writes to its own channel: no nested switch
    /// (its record is dropped and counted), no recursion. And lockdep sees
    /// interrupts off inside the Rust API's write paths (in the callbacks
    /// they reach, and in a producer), and on again after them.
    pub(super) extern "C" fn callback_reentry_and_lockdep(_t: *mut bindings::kunit) {
        let Ok(chan) = api::Channel::<Reentrant>::open(None, 64, 4, ReentrantData::default())
        else {
            expect!(false);
            return;
        };
        // Boxed: the callback reaches it by address.
        let Ok(c) = KBox::new(chan, GFP_KERNEL) else {
            expect!(false);
            return;
        };
        // Made up front: nothing may allocate with interrupts off.
        let (r40, r64) = (record(1, 40), record(2, 64));
        let ptr: *const api::Channel<Reentrant> = &*c;
        c.data().chan.store(ptr.cast_mut(), Ordering::Release);
        // SAFETY: FFI call without preconditions.
        expect!(unsafe { bindings::relay_rs_glue_kunit_lockdep_irqs_on() });
        if let Some(mut producer) = c.producer() {
            // SAFETY: FFI call without preconditions.
            expect!(!unsafe { bindings::relay_rs_glue_kunit_lockdep_irqs_on() });
            // One CPU's buffer: three switches.
            for _ in 0..4 {
                producer.write(&r40);
            }
        }
        // SAFETY: FFI call without preconditions.
        expect!(unsafe { bindings::relay_rs_glue_kunit_lockdep_irqs_on() });
        expect!(c.data().armed.load(Ordering::Relaxed) == 3);
        // `Channel::write`, whatever CPUs the test runs on: eight full
        // sub-buffers over at most four buffers switch at least four times.
        for _ in 0..8 {
            c.write(&r64);
        }
        // SAFETY: FFI call without preconditions.
        expect!(unsafe { bindings::relay_rs_glue_kunit_lockdep_irqs_on() });
        let armed = c.data().armed.load(Ordering::Relaxed);
        expect!(armed >= 3 + 4);
        // Lockdep saw interrupts off in each armed call.
        expect!(c.data().lockdep_off.load(Ordering::Relaxed) == armed);
        // One nested record per armed switch, each dropped and counted.
        expect!(c.lost(api::STATS_BUF_FULL) == armed);
        c.data().chan.store(null_mut(), Ordering::Release);
    }
}

// ---- lockstep: the C header's inline write paths against ring.rs ----

/// The write paths that ship, driven in lockstep over scripts: the C
/// header's inline `relay_rs_write()`, `__relay_rs_write()` and
/// `relay_rs_reserve()` (compiled in the glue, as any C client compiles
/// them) against relay_rs' own producer paths on `buffer/ring.rs`
/// ([`Buffer::write`], [`Buffer::reserve`]). Each lane is a channel of its
/// own, of the same geometry and callbacks. After every step, every lane's
/// counters and ring bytes must equal the first lane's (the reference), and
/// every record must have the outcome the script names, so that a script
/// provably covers what it says it covers.
///
/// The safe Rust API (`include/relay_rs/`) is a lane too, compared with
/// ring.rs reserving to commit as it does, where a reservation is
/// reserved, filled and committed in one step ([`Driver::reserve_fill`]).
mod lockstep {
    use super::*;
    use crate::relay_rs_api as api;
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Sub-buffer size of every lockstep channel.
    pub(super) const SUBBUF_SIZE: usize = 64;
    /// Sub-buffers of every lockstep channel.
    pub(super) const N_SUBBUFS: usize = 4;
    const RING: usize = SUBBUF_SIZE * N_SUBBUFS;
    /// `offset` while the last switch stays refused.
    const REFUSED: usize = SUBBUF_SIZE + 1;

    // What the lockstep channels' `subbuf_start` does (one case at a time:
    // KUnit runs a suite's cases one after the other).
    static OVERWRITE: AtomicBool = AtomicBool::new(false);
    static HEADER: AtomicUsize = AtomicUsize::new(0);

    /// From now on, lockstep channels overwrite (or refuse when full), and
    /// start each sub-buffer with a `header`-byte header (at most 8; 0: none).
    pub(super) fn set_mode(overwrite: bool, header: usize) {
        OVERWRITE.store(overwrite, Ordering::Relaxed);
        HEADER.store(header.min(8), Ordering::Relaxed);
    }

    /// Does a lockstep channel's `subbuf_start` accept the next sub-buffer?
    pub(super) fn accepts(full: bool) -> bool {
        OVERWRITE.load(Ordering::Relaxed) || !full
    }

    /// The header that a lockstep channel's `subbuf_start` then reserves
    /// (`subbuf_start_reserve`) and writes: its length (0: none) and bytes,
    /// which tell the previous sub-buffer's padding.
    pub(super) fn header(prev_padding: usize) -> (usize, [u8; 8]) {
        let tag = 0x4844_5200_0000_0000u64 | prev_padding as u64;
        (HEADER.load(Ordering::Relaxed), tag.to_ne_bytes())
    }

    relay::subbuf_start_callback! {
    /// `subbuf_start` of the lockstep channels (see [`accepts`], [`header`]).
    ///
    /// # Safety
    ///
    /// Called by relay_rs with a live buffer and the sub-buffer it starts.
    unsafe fn lockstep_start(buf, subbuf, _prev, prev_padding) {
        // SAFETY: a live buffer passed to its callback.
        if !accepts(unsafe { relay_rs_buf_full(buf) } != 0) {
            return 0;
        }
        let (len, bytes) = header(prev_padding);
        // SAFETY: called from `subbuf_start`, as required.
        if len > 0 && unsafe { relay_rs_subbuf_start_reserve(buf, len) } == 0 {
            // SAFETY: relay_rs accepted the header, so the sub-buffer at
            // `subbuf` holds more than `len <= 8` bytes, ours to write.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), subbuf.cast(), len) };
        }
        1
    }
    }

    static LOCKSTEP_CB: SyncCb = SyncCb(bindings::rchan_callbacks {
        subbuf_start: Some(lockstep_start),
        create_buf_file: Some(create_global),
        remove_buf_file: None,
        buf_mapped: None,
        buf_unmapped: None,
    });

    /// One way of writing records to a channel: a lane of the lockstep.
    pub(super) trait Driver {
        /// For the log.
        fn name(&self) -> &'static str;
        /// The channel it writes to: open, global, [`SUBBUF_SIZE`] x
        /// [`N_SUBBUFS`], with the lockstep `subbuf_start` (see the module).
        fn chan(&self) -> *mut bindings::rchan;
        /// `relay_write()`.
        fn write(&self, data: &[u8]);
        /// `__relay_write()`.
        fn write_pinned(&self, data: &[u8]);
        /// `relay_reserve()`: the slot for `len` bytes, NULL if the record
        /// was dropped. The script fills it through the address before the
        /// next reservation or switch, as the relay API requires.
        fn reserve(&self, len: usize) -> *mut u8;
        /// A committing lane (the safe Rust API's reservations, marked
        /// uncommitted until they drop): a reservation is made, filled and
        /// committed in one step, [`Driver::reserve_fill`], and `reserve`
        /// is not used.
        fn commits(&self) -> bool {
            false
        }
        /// Reserves `len` bytes, fills them with `data` (the script's next
        /// `Fill`, if any) and commits them: true if the slot was reserved.
        fn reserve_fill(&self, _len: usize, _data: Option<&[u8]>) -> bool {
            false
        }
    }

    /// The C header's inline paths, through the glue's copies of them.
    pub(super) struct CHeader(TestChan);

    impl CHeader {
        pub(super) fn open() -> Option<Self> {
            TestChan::open(SUBBUF_SIZE, N_SUBBUFS, &LOCKSTEP_CB).map(Self)
        }
    }

    impl Driver for CHeader {
        fn name(&self) -> &'static str {
            "C header"
        }

        fn chan(&self) -> *mut bindings::rchan {
            self.0.chan
        }

        fn write(&self, data: &[u8]) {
            // SAFETY: an open channel; `data` is readable for its length.
            unsafe {
                bindings::relay_rs_glue_kunit_write(self.0.chan, data.as_ptr().cast(), data.len())
            };
        }

        fn write_pinned(&self, data: &[u8]) {
            // SAFETY: as for `write`; nothing writes to the channel from
            // interrupts.
            unsafe {
                bindings::relay_rs_glue_kunit___write(self.0.chan, data.as_ptr().cast(), data.len())
            };
        }

        fn reserve(&self, len: usize) -> *mut u8 {
            // SAFETY: an open global channel whose only producer is this
            // test (no lock needed to keep other producers off).
            unsafe { bindings::relay_rs_glue_kunit_reserve(self.0.chan, len) }.cast()
        }
    }

    /// relay_rs' own paths on `buffer/ring.rs` (one write path, with
    /// interrupts off, for both kinds of write).
    pub(super) struct RingRs(TestChan);

    impl RingRs {
        pub(super) fn open() -> Option<Self> {
            TestChan::open(SUBBUF_SIZE, N_SUBBUFS, &LOCKSTEP_CB).map(Self)
        }
    }

    impl Driver for RingRs {
        fn name(&self) -> &'static str {
            "ring.rs"
        }

        fn chan(&self) -> *mut bindings::rchan {
            self.0.chan
        }

        fn write(&self, data: &[u8]) {
            self.0.write(data);
        }

        fn write_pinned(&self, data: &[u8]) {
            self.0.write(data);
        }

        fn reserve(&self, len: usize) -> *mut u8 {
            reserve_raw(&self.0.buf, len).cast()
        }
    }

    /// relay_rs' own paths on `buffer/ring.rs`, reserving to commit
    /// ([`Buffer::reserve_to_commit`], [`Ring::commit`]): the reference
    /// for the safe Rust API's lane.
    pub(super) struct RingCommit(TestChan);

    impl RingCommit {
        pub(super) fn open() -> Option<Self> {
            TestChan::open(SUBBUF_SIZE, N_SUBBUFS, &LOCKSTEP_CB).map(Self)
        }
    }

    impl Driver for RingCommit {
        fn name(&self) -> &'static str {
            "ring.rs, committing"
        }

        fn chan(&self) -> *mut bindings::rchan {
            self.0.chan
        }

        fn write(&self, data: &[u8]) {
            self.0.write(data);
        }

        fn write_pinned(&self, data: &[u8]) {
            self.0.write(data);
        }

        fn reserve(&self, _len: usize) -> *mut u8 {
            null_mut()
        }

        fn commits(&self) -> bool {
            true
        }

        fn reserve_fill(&self, len: usize, data: Option<&[u8]>) -> bool {
            let _irqs = IrqsDisabled::new();
            let Some(slot) = self.0.buf.reserve_to_commit(len) else {
                return false;
            };
            if let Some(d) = data {
                // SAFETY: `len` bytes reserved at `slot` for this producer,
                // not readable before the commit below; `d` is at most `len`.
                unsafe { core::ptr::copy_nonoverlapping(d.as_ptr(), slot, d.len().min(len)) };
            }
            self.0.buf.ring().commit();
            true
        }
    }

    /// The safe Rust API's callbacks for the lockstep: as `lockstep_start`.
    pub(super) struct LockstepRs;

    impl api::Callbacks for LockstepRs {
        type Data = ();
        const GLOBAL: bool = true;

        fn subbuf_start(s: &mut api::SubbufStart<'_, Self>) -> bool {
            if !accepts(s.is_full()) {
                return false;
            }
            let (len, bytes) = header(s.prev_padding());
            if len > 0 {
                if let Some(h) = s.reserve_header(len) {
                    for (d, b) in h.iter_mut().zip(bytes) {
                        *d = b;
                    }
                }
            }
            true
        }
    }

    /// The safe Rust API (`include/relay_rs/`): `write`, `producer()` then
    /// `Producer::write`, and `Producer::reserve` filled and dropped (the
    /// commit), all inline, as a client module gets them.
    pub(super) struct RustApi(api::Channel<LockstepRs>);

    impl RustApi {
        pub(super) fn open() -> Option<Self> {
            api::Channel::open(None, SUBBUF_SIZE, N_SUBBUFS, ())
                .ok()
                .map(Self)
        }
    }

    impl Driver for RustApi {
        fn name(&self) -> &'static str {
            "Rust API"
        }

        fn chan(&self) -> *mut bindings::rchan {
            self.0.as_raw().cast()
        }

        fn write(&self, data: &[u8]) {
            self.0.write(data);
        }

        fn write_pinned(&self, data: &[u8]) {
            if let Some(mut p) = self.0.producer() {
                p.write(data);
            }
        }

        fn reserve(&self, _len: usize) -> *mut u8 {
            null_mut()
        }

        fn commits(&self) -> bool {
            true
        }

        fn reserve_fill(&self, len: usize, data: Option<&[u8]>) -> bool {
            let Some(mut p) = self.0.producer() else {
                return false;
            };
            let Some(mut slot) = p.reserve(len) else {
                return false;
            };
            if let Some(d) = data {
                for (s, b) in slot.iter_mut().zip(d) {
                    *s = *b;
                }
            }
            true
        }
    }

    /// One step of a script.
    #[derive(Clone, Copy, Debug)]
    pub(super) enum Op {
        /// `relay_write()` of `record(tag, len)`.
        Write(u8, usize),
        /// `__relay_write()` of `record(tag, len)`.
        WritePinned(u8, usize),
        /// `relay_reserve()` of `len` bytes; a non-empty slot stays to fill.
        Reserve(usize),
        /// Fills the reserved slot with `record(tag, its length)`.
        Fill(u8),
        /// `relay_flush()`.
        Flush,
        /// `relay_reset()`.
        Reset,
        /// Reads everything readable, which must be this many bytes.
        Read(usize),
        /// `relay_subbufs_consumed()` of this many sub-buffers.
        HandBack(usize),
        /// [`set_mode`]: overwrite?, header length.
        Mode(bool, usize),
    }

    /// What a record step did (from the counters' changes).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(super) enum Outcome {
        /// Not a record step.
        Other,
        /// Stored in the current sub-buffer, with room left after it.
        Fit,
        /// Stored in the current sub-buffer, which it fills exactly.
        Exact,
        /// Stored after a switch that overwrote nothing unread.
        Switch,
        /// Stored after a switch that overwrote unread records.
        Lap,
        /// Stored after a refused switch, retried and accepted now.
        Resume,
        /// Dropped and counted: the client refused the switch.
        Full,
        /// Dropped and counted: too big for a sub-buffer (or its header).
        TooBig,
        /// Dropped, not counted (a zero-length record while refused).
        Silent,
    }

    // The counters compared, by index.
    const OFFSET: usize = 1;
    const RECORDS: usize = 3;
    const PRODUCED: usize = 4;
    const LOST_FULL: usize = 10;
    const LOST_BIG: usize = 11;
    const LOST_OVER: usize = 12;
    const HEAD: usize = 17;
    const WORDS: usize = HEAD + 2 * N_SUBBUFS;
    const NAMES: [&str; WORDS] = [
        "data - start",
        "offset",
        "committed",
        "records",
        "subbufs_produced",
        "subbufs_consumed",
        "bytes_consumed",
        "prev_padding",
        "early_bytes",
        "kernel's big_count or last_toobig",
        "stats BUF_FULL",
        "stats WRT_BIG",
        "stats OVERWRITTEN",
        "overwritten_partial",
        "relay_buf_full",
        "has_complete_data",
        "kernel's full_count",
        "padding[0]",
        "padding[1]",
        "padding[2]",
        "padding[3]",
        "start count[0]",
        "start count[1]",
        "start count[2]",
        "start count[3]",
    ];

    type Words = [usize; WORDS];

    /// Every counter of a lane's buffer and channel.
    fn words(buf: &Buffer, chan: *mut bindings::rchan) -> Words {
        let r = raw(buf);
        let stats = |f: u32| {
            // SAFETY: an open channel.
            unsafe { relay_rs_stats(chan, f as c_int) }
        };
        let k = buf.kernel_stats().counts();
        // SAFETY: a buffer of an open channel.
        let full = unsafe { relay_rs_buf_full(buf.as_raw()) } as usize;
        let head: [usize; HEAD] = [
            (r.data as usize).wrapping_sub(r.start as usize),
            r.offset,
            r.committed,
            r.records,
            r.subbufs_produced,
            r.subbufs_consumed,
            r.bytes_consumed,
            buf.prev_padding(),
            r.early_bytes,
            k.big_count + k.last_toobig,
            stats(bindings::RELAY_RS_STATS_BUF_FULL),
            stats(bindings::RELAY_RS_STATS_WRT_BIG),
            stats(bindings::RELAY_RS_STATS_OVERWRITTEN),
            buf.overwritten_partial(),
            full,
            usize::from(buf.ring().has_complete_data()),
            k.full_count,
        ];
        let mut w = [0; WORDS];
        for (d, s) in w.iter_mut().zip(head) {
            *d = s;
        }
        let starts = buf.start_counts();
        for i in 0..N_SUBBUFS {
            w[HEAD + i] = buf.padding_of(i);
            w[HEAD + N_SUBBUFS + i] = starts.get(i).map_or(0, |s| s.load(Ordering::Relaxed));
        }
        w
    }

    fn ring_bytes(buf: &Buffer) -> &[u8] {
        // SAFETY: the ring of a live buffer, at least `RING` bytes; no
        // producer runs while the slice is read.
        unsafe { core::slice::from_raw_parts(raw(buf).start.cast::<u8>(), RING) }
    }

    fn classify(before: &Words, after: &Words, stored: bool) -> Outcome {
        let changed = |i: usize| before[i] != after[i];
        if !stored {
            if changed(LOST_FULL) {
                Outcome::Full
            } else if changed(LOST_BIG) {
                Outcome::TooBig
            } else {
                Outcome::Silent
            }
        } else if before[OFFSET] == REFUSED {
            Outcome::Resume
        } else if changed(PRODUCED) {
            if changed(LOST_OVER) {
                Outcome::Lap
            } else {
                Outcome::Switch
            }
        } else if after[OFFSET] == SUBBUF_SIZE {
            Outcome::Exact
        } else {
            Outcome::Fit
        }
    }

    /// Where in a script, for the log.
    struct At(usize, Option<Op>);

    impl crate::compat::fmt::Display for At {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self.1 {
                Some(op) => write!(f, "step {} {:?}", self.0, op),
                None => write!(f, "at open"),
            }
        }
    }

    struct Lane<'a> {
        drv: &'a dyn Driver,
        buf: Arc<Buffer>,
        /// The reserved slot not filled yet: ring position and length.
        slot: Option<(usize, usize)>,
    }

    /// What one lane did in one step, for the comparison with the others.
    struct Did {
        /// The record's outcome (`Other` if the step is not a record).
        outcome: Outcome,
        /// The ring position of the slot a reservation returned.
        slot: Option<usize>,
        /// The bytes a read got.
        read: KVec<u8>,
        /// What was wrong, beyond the outcome.
        error: Option<&'static str>,
    }

    /// Applies `op` to `lane`; `next_fill` is the tag of the script's
    /// `Fill` of this reservation, if `op` is one (for commit-mode lanes),
    /// and `strict` checks reads against the script.
    fn apply(lane: &mut Lane<'_>, op: Op, next_fill: Option<u8>, strict: bool) -> Did {
        let chan = lane.drv.chan();
        let before = words(&lane.buf, chan);
        let mut did = Did {
            outcome: Outcome::Other,
            slot: None,
            read: KVec::new(),
            error: None,
        };
        let stored = match op {
            Op::Write(tag, len) | Op::WritePinned(tag, len) => {
                let data = record(tag, len);
                if matches!(op, Op::Write(..)) {
                    lane.drv.write(&data);
                } else {
                    lane.drv.write_pinned(&data);
                }
                words(&lane.buf, chan)[RECORDS] != before[RECORDS]
            }
            Op::Reserve(len) if lane.drv.commits() => {
                // Made before the producer runs with interrupts off.
                let data = next_fill.filter(|_| len <= RING).map(|t| record(t, len));
                let stored = lane.drv.reserve_fill(len, data.as_deref());
                let counted = words(&lane.buf, chan)[RECORDS] == before[RECORDS].wrapping_add(1);
                if counted != stored {
                    did.error = Some("the reservation and the record count disagree");
                }
                stored
            }
            Op::Fill(_) if lane.drv.commits() => return did,
            Op::Reserve(len) => {
                if lane.slot.is_some() {
                    did.error = Some("a reservation before the last slot was filled (script)");
                }
                let slot = lane.drv.reserve(len);
                let counted = words(&lane.buf, chan)[RECORDS] == before[RECORDS].wrapping_add(1);
                if counted == slot.is_null() {
                    did.error = Some("the slot returned and the record count disagree");
                }
                if !slot.is_null() {
                    let pos = (slot as usize).wrapping_sub(raw(&lane.buf).start as usize);
                    did.slot = Some(pos);
                    if pos > RING || len > RING - pos {
                        // Not to be filled.
                        did.error = Some("a slot that is not inside the ring");
                    } else if len > 0 {
                        lane.slot = Some((pos, len));
                    }
                }
                !slot.is_null()
            }
            Op::Fill(tag) => {
                if let Some((pos, len)) = lane.slot.take() {
                    let data = record(tag, len);
                    // SAFETY: a slot of `len` bytes at `pos` inside the
                    // ring, reserved by this producer, not readable yet.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            data.as_ptr(),
                            raw(&lane.buf).start.cast::<u8>().add(pos),
                            data.len(),
                        )
                    };
                } else {
                    did.error = Some("nothing reserved to fill (script)");
                }
                return did;
            }
            Op::Flush => {
                // SAFETY: an open channel.
                unsafe { relay_rs_flush(chan) };
                return did;
            }
            Op::Reset => {
                // SAFETY: an open channel; no producer runs.
                unsafe { relay_rs_reset(chan) };
                return did;
            }
            Op::HandBack(n) => {
                // SAFETY: an open channel.
                unsafe { relay_rs_subbufs_consumed(chan, 0, n) };
                return did;
            }
            Op::Read(want) => {
                did.read = read_all(&lane.buf);
                if strict && did.read.len() != want {
                    did.error = Some("a read of another length than the script's");
                }
                return did;
            }
            Op::Mode(..) => return did,
        };
        did.outcome = classify(&before, &words(&lane.buf, chan), stored);
        did
    }

    /// Runs `script` on every driver's channel in lockstep: after every
    /// step, each lane must match the first one, counter for counter and
    /// byte for byte (slots and reads included), and each record step must
    /// have had the script's outcome in every lane. Stops at the first step
    /// that fails (logged, and a KUnit failure): false.
    pub(super) fn run(name: &str, script: &[(Op, Outcome)], drivers: &[&dyn Driver]) -> bool {
        run_with(name, script, drivers, true)
    }

    /// [`run`] for lanes that may differ from what a script written for
    /// relay's reservations says (a committed slot is readable at once,
    /// and no switch waits for the fused reservation's commit):
    /// the lanes are compared with each other only, step by step.
    pub(super) fn run_alike(name: &str, script: &[(Op, Outcome)], drivers: &[&dyn Driver]) -> bool {
        run_with(name, script, drivers, false)
    }

    fn run_with(
        name: &str,
        script: &[(Op, Outcome)],
        drivers: &[&dyn Driver],
        strict: bool,
    ) -> bool {
        let mut lanes = KVec::new();
        for &drv in drivers {
            // SAFETY: a driver's channel is open.
            let chan = unsafe { Channel::borrow(drv.chan()) };
            let buf = CpuId::from_u32(0)
                .and_then(|cpu| chan.buffer(cpu))
                .map(Arc::from);
            let Some(buf) = buf else {
                expect!(false);
                return false;
            };
            let lane = Lane {
                drv,
                buf,
                slot: None,
            };
            if !expect!(lanes.push(lane, GFP_KERNEL).is_ok()) {
                return false;
            }
        }
        let Some((first, _)) = lanes.split_first() else {
            return true;
        };
        // The lanes start alike (the ring bytes too: zeroed pages).
        let mut ok = true;
        let start = words(&first.buf, first.drv.chan());
        for lane in &lanes[1..] {
            ok &= agree(name, 0, None, first, &start, lane);
        }
        if !expect(ok, c"lockstep: the lanes start alike (see the log)") {
            return false;
        }
        for (i, &(op, want)) in script.iter().enumerate() {
            let step = i + 1;
            if let Op::Mode(overwrite, header) = op {
                set_mode(overwrite, header);
            }
            // The tag of this reservation's fill: the next `Fill` before
            // another reservation.
            let next_fill = script[i + 1..]
                .iter()
                .map(|&(op, _)| op)
                .take_while(|op| !matches!(op, Op::Reserve(_)))
                .find_map(|op| match op {
                    Op::Fill(tag) => Some(tag),
                    _ => None,
                });
            let mut ok = true;
            let mut done = KVec::new();
            for lane in lanes.iter_mut() {
                let did = apply(lane, op, next_fill, strict);
                if strict && did.outcome != want {
                    pr_err!(
                        "lockstep {}: step {} {:?}: {}: {:?}, the script says {:?}\n",
                        name,
                        step,
                        op,
                        lane.drv.name(),
                        did.outcome,
                        want
                    );
                    ok = false;
                }
                if let Some(what) = did.error {
                    pr_err!(
                        "lockstep {}: step {} {:?}: {}: {}\n",
                        name,
                        step,
                        op,
                        lane.drv.name(),
                        what
                    );
                    ok = false;
                }
                ok &= done.push(did, GFP_KERNEL).is_ok();
            }
            // Compared even after a wrong outcome: the log then shows how
            // the lanes differ too.
            if let (Some((first, rest)), Some((did0, dids)), true) = (
                lanes.split_first(),
                done.split_first(),
                done.len() == lanes.len(),
            ) {
                let w0 = words(&first.buf, first.drv.chan());
                for (lane, did) in rest.iter().zip(dids) {
                    ok &= agree(name, step, Some(op), first, &w0, lane);
                    if did.slot != did0.slot || did.read[..] != did0.read[..] {
                        pr_err!(
                            "lockstep {}: step {} {:?}: {} returned another slot or read other bytes than {}\n",
                            name,
                            step,
                            op,
                            lane.drv.name(),
                            first.drv.name()
                        );
                        ok = false;
                    }
                }
            }
            if !expect(
                ok,
                c"lockstep: every lane as the script says, and alike (see the log)",
            ) {
                return false;
            }
        }
        true
    }

    /// Does `lane` match the reference lane `first` (whose counters are
    /// `w0`)? Logs every difference.
    fn agree(
        name: &str,
        step: usize,
        op: Option<Op>,
        first: &Lane<'_>,
        w0: &Words,
        lane: &Lane<'_>,
    ) -> bool {
        let w = words(&lane.buf, lane.drv.chan());
        let mut ok = true;
        for k in 0..WORDS {
            if w[k] != w0[k] {
                pr_err!(
                    "lockstep {}: {}: {} is {:#x} in {}, {:#x} in {}\n",
                    name,
                    At(step, op),
                    NAMES[k],
                    w[k],
                    lane.drv.name(),
                    w0[k],
                    first.drv.name()
                );
                ok = false;
            }
        }
        let (a, b) = (ring_bytes(&lane.buf), ring_bytes(&first.buf));
        if let Some(at) = (0..RING).find(|&i| a[i] != b[i]) {
            pr_err!(
                "lockstep {}: {}: ring byte {} is {:#x} in {}, {:#x} in {}\n",
                name,
                At(step, op),
                at,
                a[at],
                lane.drv.name(),
                b[at],
                first.drv.name()
            );
            ok = false;
        }
        ok
    }

    /// The script of [`c_header_matches_ring`], in 64-byte sub-buffers, 4 of
    /// them. Each comment gives the producer's position after the step:
    /// `s<count>` (the `subbufs_produced`-th sub-buffer) `+offset`.
    const MAIN: &[(Op, Outcome)] = {
        use Op::*;
        use Outcome::*;
        &[
            // ---- no-overwrite, no header ----
            (Write(1, 20), Fit),              // s0+20
            (Write(2, 0), Fit),               // zero-length record, s0+20
            (WritePinned(3, 30), Fit),        // s0+50
            (Write(4, 14), Exact),            // s0+64
            (Write(5, 0), Exact),             // zero-length in a full sub-buffer fits
            (WritePinned(6, 10), Switch),     // s1+10, s0 without padding
            (Reserve(40), Fit),               // s1+50, readable up to 10
            (Write(7, 4), Fit),               // s1+54, still readable up to 10
            (Fill(8), Other),                 // the slot at s1+10
            (Reserve(10), Exact),             // s1+64, readable up to 54
            (Fill(9), Other),                 // the slot at s1+54
            (Reserve(0), Exact),              // s1+64, readable up to 64
            (Write(10, 30), Switch),          // s2+30
            (Reserve(40), Switch),            // s3+40 (via reserve), s2 padded 34
            (Fill(11), Other),                // the slot at s3+0
            (Write(12, 65), TooBig),          // bigger than a sub-buffer
            (Reserve(100), TooBig),           // (dropped without a switch)
            (Write(13, 24), Exact),           // s3+64
            (Write(14, 1), Full),             // s4 refused: 4 sub-buffers unread
            (Write(15, 0), Silent),           // a zero-length record is not a loss
            (Reserve(0), Silent),             // (i915's probe for room)
            (Reserve(8), Full),               // refused again
            (WritePinned(16, 8), Full),       // and again
            (Read(64 + 64 + 30 + 64), Other), // s0 to s3, all four
            (Write(17, 30), Resume),          // s4+30, the refused switch retried
            (Write(18, 30), Fit),             // s4+60
            (Flush, Other),                   // s5+0, s4 padded 4
            (Flush, Other),                   // s6+0, s5 all padding
            (HandBack(1), Other),             // s4 handed back unread
            (Read(0), Other),                 // s5 has no data
            // ---- overwrite, no header ----
            (Mode(true, 0), Other),           // overwrite from now on
            (Write(19, 64), Exact),           // s6+64
            (Write(20, 64), Switch),          // s7+64
            (WritePinned(21, 64), Switch),    // s8+64
            (Write(22, 64), Switch),          // s9+64, the ring full
            (Write(23, 10), Lap),             // s10+10 over s6 (record 19)
            (Reserve(50), Fit),               // s10+60
            (Fill(24), Other),                // the slot at s10+10
            (Reserve(30), Lap),               // s11+30 over s7 (via reserve)
            (Fill(25), Other),                // the slot at s11+0
            (WritePinned(26, 40), Lap),       // s12+40 over s8
            (Read(64 + 60 + 30 + 40), Other), // s9 to s12's 40
            (Write(27, 24), Exact),           // s12+64
            (Flush, Other),                   // s13+0
            (Read(24), Other),                // the rest of s12
            // ---- overwrite, 8-byte headers ----
            (Mode(true, 8), Other),  // and an 8-byte header per sub-buffer
            (Write(28, 60), Fit),    // s13+60 (begun without a header)
            (Write(29, 60), TooBig), // s14+8: header + 60 do not fit
            (Write(30, 56), Exact),  // s14+64
            (Reserve(20), Switch),   // s15+28
            (Fill(31), Other),       // the slot at s15+8
            (Write(32, 36), Exact),  // s15+64
            (Write(33, 30), Switch), // s16+38
            (Write(34, 30), Lap),    // s17+38 over s13
            (Reserve(60), TooBig),   // s18+8 over s14, then too big
            (Reserve(56), Exact),    // s18+64
            (Fill(35), Other),       // the slot at s18+8
            (Flush, Other),          // s19+8 over s15
            (Read(38 + 38 + 64 + 8), Other), // s16 to s19's header
            // ---- reset (its first sub-buffer with a header) ----
            (Reset, Other),          // s0+8
            (Mode(false, 0), Other), // no-overwrite, no header
            (Write(36, 64), Switch), // s1+64
            (Read(8 + 64), Other),   // s0's header, s1
        ]
    };

    /// The script of [`huge_reserve_is_too_big`]: the largest lengths a
    /// path takes, `SSIZE_MAX` for the C header (object sizes, as in 6.12)
    /// and any `usize` for the Rust API, whose end would wrap a `size_t`.
    const fn huge(max: usize) -> [(Op, Outcome); 12] {
        use Op::*;
        use Outcome::*;
        [
            (Write(1, 10), Fit),        // s0+10
            (Reserve(max - 2), TooBig), // 10 + length (wraps to 7 for usize::MAX)
            (Reserve(max), TooBig),     // (wraps to 9)
            (Write(2, 10), Fit),        // s0+20
            (Write(3, 44), Exact),      // s0+64
            (Write(4, 64), Switch),     // s1+64
            (Write(5, 64), Switch),     // s2+64
            (Write(6, 64), Switch),     // s3+64
            (Write(7, 1), Full),        // refused: offset 65
            (Reserve(max - 2), TooBig), // 65 + length (wraps to 62)
            (Read(4 * 64), Other),      // s0 to s3
            (Write(8, 10), Resume),     // s4+10
        ]
    }
    const HUGE_C: [(Op, Outcome); 12] = huge(isize::MAX as usize);
    const HUGE_ANY: [(Op, Outcome); 12] = huge(usize::MAX);

    /// The C header's inline paths do what relay_rs' ring.rs paths do, step
    /// for step: records that fit, exactly, after a switch with and without
    /// padding, after laps, refused, too big, zero-length, reservations and
    /// their fills, headers, flushes, hand-backs, reads and a reset.
    pub(super) extern "C" fn c_header_matches_ring(_t: *mut bindings::kunit) {
        set_mode(false, 0);
        if let (Some(ring), Some(c)) = (RingRs::open(), CHeader::open()) {
            run("main", MAIN, &[&ring, &c]);
        } else {
            expect!(false);
        }
        set_mode(false, 0);
    }

    /// The largest reservations are dropped and counted as too big by
    /// every path: the C header's up to `SSIZE_MAX`, ring.rs' and the Rust
    /// API's up to `usize::MAX`, where the sum would wrap.
    pub(super) extern "C" fn huge_reserve_is_too_big(_t: *mut bindings::kunit) {
        set_mode(false, 0);
        if let (Some(ring), Some(c)) = (RingRs::open(), CHeader::open()) {
            run("huge C", &HUGE_C, &[&ring, &c]);
        } else {
            expect!(false);
        }
        if let (Some(ring), Some(rs)) = (RingCommit::open(), RustApi::open()) {
            run("huge Rust", &HUGE_ANY, &[&ring, &rs]);
        } else {
            expect!(false);
        }
    }

    /// The safe Rust API's inline paths (`write`, `Producer::write`,
    /// `Producer::reserve` filled and committed) do what ring.rs does,
    /// step for step, over the main script.
    pub(super) extern "C" fn rust_api_matches_ring(_t: *mut bindings::kunit) {
        set_mode(false, 0);
        if let (Some(ring), Some(rs)) = (RingCommit::open(), RustApi::open()) {
            run_alike("Rust main", MAIN, &[&ring, &rs]);
        } else {
            expect!(false);
        }
        set_mode(false, 0);
    }
}

// ---- suite ----

const fn case(
    name: &'static CoreCStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    bindings::kunit_case {
        run_case: Some(run),
        name: name.to_bytes_with_nul().as_ptr(),
        // SAFETY: all-zero is valid for the remaining plain-data fields.
        ..unsafe { MaybeUninit::zeroed().assume_init() }
    }
}

const fn suite_name(name: &[u8]) -> [c_char; 256] {
    let mut out = [0; 256];
    let mut i = 0;
    while i < name.len() && i < 255 {
        out[i] = name[i];
        i += 1;
    }
    out
}

static mut CASES: [bindings::kunit_case; 35] = [
    case(c"open_rejects_bad_geometry", open_rejects_bad_geometry),
    case(c"round_trip_byte_exact", round_trip_byte_exact),
    case(c"padding_is_never_read", padding_is_never_read),
    case(
        c"no_overwrite_refuses_and_counts",
        no_overwrite_refuses_and_counts,
    ),
    case(c"overwrite_mode_keeps_newest", overwrite_mode_keeps_newest),
    case(
        c"flush_completes_partial_subbuf",
        flush_completes_partial_subbuf,
    ),
    case(
        c"reset_empties_and_clears_stats",
        reset_empties_and_clears_stats,
    ),
    case(
        c"too_big_is_dropped_and_counted",
        too_big_is_dropped_and_counted,
    ),
    case(c"reader_outlives_close", reader_outlives_close),
    case(c"subbufs_consumed_clamps", subbufs_consumed_clamps),
    case(
        c"late_setup_files_sizes_and_refuses_twice",
        late_setup_files_sizes_and_refuses_twice,
    ),
    case(
        c"open_fails_cleanly_on_allocation_failure",
        open_fails_cleanly_on_allocation_failure,
    ),
    case(c"subbuf_start_reserve_header", subbuf_start_reserve_header),
    case(c"overwrite_conservation", overwrite_conservation),
    case(c"mmap_hand_back_keeps_losses", mmap_hand_back_keeps_losses),
    case(
        c"overwrite_counted_without_reader",
        overwrite_counted_without_reader,
    ),
    case(
        c"read_at_ring_end_after_switch",
        read_at_ring_end_after_switch,
    ),
    case(
        c"safe_api_callbacks_and_private_data",
        safe_api::callbacks_and_private_data,
    ),
    case(
        c"safe_api_producer_reserve_global",
        safe_api::producer_reserve_global,
    ),
    case(
        c"safe_api_one_producer_per_cpu",
        safe_api::one_producer_per_cpu,
    ),
    case(
        c"safe_api_global_write_inside_producer",
        safe_api::global_write_inside_producer,
    ),
    case(
        c"safe_api_reservation_blocks_switches",
        safe_api::reservation_blocks_switches,
    ),
    case(
        c"safe_api_callback_reentry_and_lockdep",
        safe_api::callback_reentry_and_lockdep,
    ),
    case(
        c"safe_api_global_writers_serialised",
        safe_api::global_writers_serialised,
    ),
    case(
        c"inline_paths_readable_extent",
        safe_api::inline_paths_readable_extent,
    ),
    case(c"c_header_matches_ring", lockstep::c_header_matches_ring),
    case(
        c"huge_reserve_is_too_big",
        lockstep::huge_reserve_is_too_big,
    ),
    case(c"rust_api_matches_ring", lockstep::rust_api_matches_ring),
    case(c"lockless_round_trip", lockless::lockless_round_trip),
    case(
        c"lockless_reserve_commits_on_next",
        lockless::lockless_reserve_commits_on_next,
    ),
    case(
        c"lockless_full_and_too_big_counted",
        lockless::lockless_full_and_too_big_counted,
    ),
    case(
        c"lockless_refuses_what_it_cannot_do",
        lockless::lockless_refuses_what_it_cannot_do,
    ),
    case(c"lockless_rust_api", lockless::lockless_rust_api),
    case(
        c"lockless_rust_reservations",
        lockless::lockless_rust_reservations,
    ),
    // SAFETY: the all-zero case terminates the array.
    unsafe { MaybeUninit::zeroed().assume_init() },
];

static mut SUITE: bindings::kunit_suite = bindings::kunit_suite {
    name: suite_name(b"relay_rs"),
    test_cases: addr_of_mut!(CASES).cast(),
    // SAFETY: all-zero is valid for the remaining fields.
    ..unsafe { MaybeUninit::zeroed().assume_init() }
};

/// The module loader runs the suites listed in this section on insmod.
#[used]
#[link_section = ".kunit_test_suites"]
static mut SUITE_ENTRY: *const bindings::kunit_suite = addr_of_mut!(SUITE);
