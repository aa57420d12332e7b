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
    compat::cpu::CpuId,
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
        file: c"relay_rs/tests/kunit_rs.rs".as_ptr().cast(),
        line,
    };
    let assert = bindings::kunit_unary_assert {
        assert: bindings::kunit_assert {},
        condition: what.as_ptr().cast(),
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

/// Writes `data` to this CPU's buffer through the out-of-line path (the
/// inline ones are covered by the C suite and the Rust API tests).
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

/// `subbuf_start` of an overwrite ("flight recorder") channel.
extern "C" fn always_switch(
    _: *mut bindings::rchan_buf,
    _: *mut c_void,
    _: *mut c_void,
    _: usize,
) -> c_int {
    1
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
        // SAFETY: no file name; `cb` is static.
        let chan = unsafe {
            relay_rs_open(
                null(),
                null_mut(),
                subbuf_size,
                n_subbufs,
                &cb.0,
                null_mut(),
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
    expect!(!raw(&buf).chan.is_null());
    // SAFETY: `chan` of a live buffer.
    expect!(unsafe { (*raw(&buf).chan).last_toobig } == 65);
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
        let name = name.map_or(null(), |n| n.as_ptr().cast());
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
    use crate::buffer::fault;
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

/// `subbuf_start` that reserves an 8-byte header holding the previous padding.
///
/// # Safety
///
/// Called by relay_rs with a live buffer and a writable sub-buffer.
unsafe extern "C" fn header_start(
    buf: *mut bindings::rchan_buf,
    subbuf: *mut c_void,
    _prev: *mut c_void,
    prev_padding: usize,
) -> c_int {
    // SAFETY: a live buffer passed to its callback.
    if unsafe { relay_rs_buf_full(buf) } != 0 {
        return 0;
    }
    // SAFETY: `subbuf` is the start of a sub-buffer of at least 8 bytes.
    unsafe { core::ptr::write_unaligned(subbuf.cast::<u64>(), 0xabcd_0000 + prev_padding as u64) };
    // SAFETY: called from `subbuf_start`, as required.
    c_int::from(unsafe { relay_rs_subbuf_start_reserve(buf, 8) } == 0)
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

// ---- the safe Rust API (include/relay_rs.rs) ----

mod safe_api {
    use super::*;
    use crate::relay_rs_api::{self as api, Callbacks, SubbufStart};
    use core::sync::atomic::{AtomicUsize, Ordering};
    use kernel::{new_spinlock, sync::SpinLock};

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

    /// The inline paths' readable extent in the current sub-buffer: a
    /// write is readable once copied; a reservation only from the next
    /// reservation (or switch) on, when the relay API says it is filled;
    /// a write after a reservation waits for the same.
    pub(super) extern "C" fn inline_paths_readable_extent(_t: *mut bindings::kunit) {
        let Ok(lock) = KBox::pin_init(new_spinlock!(()), GFP_KERNEL) else {
            expect!(false);
            return;
        };
        let lock: Pin<KBox<SpinLock<()>>> = lock;
        let Ok(c) = api::Channel::<Plain>::open(None, 256, 4, ()) else {
            expect!(false);
            return;
        };
        let Some(buf) = buffer_of(&c) else {
            expect!(false);
            return;
        };
        // Made up front: nothing may allocate under the spinlock.
        let (r2, r4) = (record(2, 16), record(4, 16));
        c.write(&record(1, 16));
        expect!(read_all(&buf)[..] == record(1, 16)[..]);
        {
            let mut guard = lock.lock();
            let Some(slot) = c.reserve(&mut guard, 16) else {
                expect!(false);
                return;
            };
            // Not filled yet: nothing new is readable (asked of the ring
            // directly: the readers' mutex cannot be taken under a spinlock).
            expect!(buf.ring().next_read(usize::MAX).is_none());
            fill(slot, &r2);
        }
        // Filled, but only the next reservation says so.
        expect!(read_all(&buf).is_empty());
        c.write(&record(3, 16));
        expect!(read_all(&buf).is_empty());
        {
            let mut guard = lock.lock();
            let Some(slot) = c.reserve(&mut guard, 16) else {
                expect!(false);
                return;
            };
            fill(slot, &r4);
        }
        let got = read_all(&buf);
        expect!(
            got.len() == 32 && got[..16] == record(2, 16)[..] && got[16..] == record(3, 16)[..]
        );
        c.flush();
        expect!(read_all(&buf)[..] == record(4, 16)[..]);
        // Four records, one sub-buffer completed: the counters agree.
        // SAFETY: a live buffer; no producer runs.
        expect!(unsafe { (*buf.as_raw()).records } == 4);
        expect!(c.lost(api::STATS_BUF_FULL | api::STATS_WRT_BIG | api::STATS_OVERWRITTEN) == 0);
    }

    pub(super) extern "C" fn reserve_under_spinlock(_t: *mut bindings::kunit) {
        let Ok(lock) = KBox::pin_init(new_spinlock!(()), GFP_KERNEL) else {
            expect!(false);
            return;
        };
        let lock: Pin<KBox<SpinLock<()>>> = lock;
        let Ok(c) = api::Channel::<Counting>::open(None, 64, 2, Counts::default()) else {
            expect!(false);
            return;
        };
        let mut accepted = 0;
        for i in 0..6u8 {
            let rec = record(i, 60);
            let mut guard = lock.lock();
            if let Some(slot) = c.reserve(&mut guard, 60) {
                slot.copy_from_slice(&rec);
                accepted += 1;
            }
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
}

// ---- suite ----

const fn case(
    name: &'static CoreCStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    bindings::kunit_case {
        run_case: Some(run),
        name: name.as_ptr().cast(),
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

static mut CASES: [bindings::kunit_case; 21] = [
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
        c"safe_api_reserve_under_spinlock",
        safe_api::reserve_under_spinlock,
    ),
    case(
        c"inline_paths_readable_extent",
        safe_api::inline_paths_readable_extent,
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
