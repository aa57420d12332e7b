// SPDX-License-Identifier: GPL-2.0

//! KUnit cases of lockless channels (`RELAY_RS_LOCKLESS`), written through
//! the C header's inline paths, as clients write them (their out-of-line
//! part is every record's path on a lockless channel). Nesting of writers
//! in every context is the guest's NMI stress (`tests/stress/relay_rs_nmi.c`)
//! and the host's models (`host/tests/lockless.rs`, `loom_lockless.rs`).

use super::{expect, raw, read_all, record, SyncCb, TestChan, GLOBAL_CB, GLOBAL_OVERWRITE_CB};
use crate::{
    bindings,
    buffer::Buffer,
    channel::{api::*, Channel},
    compat::{cpu::CpuId, relay},
};
use core::{
    ffi::CStr as CoreCStr,
    ptr::{null, null_mut},
};
use kernel::{ffi::c_void, prelude::*, sync::Arc};

/// A buffer-only global lockless channel and its buffer (a [`TestChan`]
/// opened with `RELAY_RS_LOCKLESS`), written through the header's inline
/// paths.
struct Lockless {
    chan: *mut bindings::rchan,
    buf: Arc<Buffer>,
    t: TestChan,
}

impl Lockless {
    fn open(subbuf_size: usize, n_subbufs: usize) -> Option<Self> {
        let Some(t) = TestChan::open_flags(
            subbuf_size,
            n_subbufs,
            &GLOBAL_CB,
            bindings::RELAY_RS_LOCKLESS,
        ) else {
            expect!(false);
            return None;
        };
        Some(Self {
            chan: t.chan,
            buf: t.buffer(),
            t,
        })
    }

    /// `relay_rs_write()`, the header's inline path.
    fn write(&self, data: &[u8]) {
        // SAFETY: an open channel; `data` is readable.
        unsafe { bindings::relay_rs_glue_kunit_write(self.chan, data.as_ptr().cast(), data.len()) };
    }

    /// `relay_rs_reserve()`, the header's inline path.
    fn reserve(&self, len: usize) -> *mut u8 {
        // SAFETY: an open channel.
        unsafe { bindings::relay_rs_glue_kunit_reserve(self.chan, len) }.cast()
    }

    fn stats(&self, flags: u32) -> usize {
        self.t.stats(flags)
    }
}

fn open_flags(ss: usize, n: usize, cb: &'static SyncCb, flags: u32) -> *mut bindings::rchan {
    // SAFETY: no file name; `cb` is static.
    unsafe {
        relay_rs_open_flags(
            null(),
            null_mut(),
            ss,
            n,
            &cb.0,
            null_mut::<c_void>(),
            flags,
        )
    }
}

pub(super) extern "C" fn lockless_round_trip(_t: *mut bindings::kunit) {
    let Some(c) = Lockless::open(64, 4) else {
        return;
    };
    let mut want = KVec::new();
    for i in 0..10u8 {
        let r = record(i, 10);
        c.write(&r);
        expect!(want.extend_from_slice(&r, GFP_KERNEL).is_ok());
    }
    // The inline paths never fit at a lockless buffer's offset.
    expect!(raw(&c.buf).offset == 64 + 3);
    // Six records and 4 bytes of padding, then the current sub-buffer,
    // readable as far as committed.
    expect!(raw(&c.buf).subbufs_produced == 1);
    expect!(raw(&c.buf).records == 10);
    expect!(read_all(&c.buf)[..] == want[..]);
    expect!(read_all(&c.buf).is_empty());
}

pub(super) extern "C" fn lockless_reserve_commits_on_next(_t: *mut bindings::kunit) {
    let Some(c) = Lockless::open(64, 4) else {
        return;
    };
    let slot = c.reserve(8);
    expect!(!slot.is_null());
    if slot.is_null() {
        return;
    }
    // Not committed: nothing readable yet.
    expect!(read_all(&c.buf).is_empty());
    let r = record(7, 8);
    // SAFETY: the slot is 8 bytes of the ring reserved for us.
    unsafe { core::ptr::copy_nonoverlapping(r.as_ptr(), slot, 8) };
    // The next write of this context commits the slot (filled by now).
    c.write(&record(9, 4));
    let got = read_all(&c.buf);
    expect!(got.len() == 12 && got[..8] == r[..] && got[8..] == record(9, 4)[..]);
    // A flush commits a pending reservation too.
    let slot = c.reserve(5);
    expect!(!slot.is_null());
    // SAFETY: as above, 5 bytes.
    unsafe { core::ptr::write_bytes(slot, 0xab, 5) };
    // SAFETY: an open channel.
    unsafe { relay_rs_flush(c.chan) };
    expect!(read_all(&c.buf)[..] == [0xab; 5][..]);
    expect!(raw(&c.buf).subbufs_produced == 1);
}

pub(super) extern "C" fn lockless_full_and_too_big_counted(_t: *mut bindings::kunit) {
    let Some(c) = Lockless::open(32, 2) else {
        return;
    };
    for i in 0..20u8 {
        c.write(&record(i, 10));
    }
    c.write(&record(0, 33));
    // Three records per sub-buffer, two sub-buffers: 14 refused.
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 14);
    expect!(c.stats(bindings::RELAY_RS_STATS_WRT_BIG) == 1);
    expect!(c.stats(bindings::RELAY_RS_STATS_OVERWRITTEN) == 0);
    let k = c.buf.kernel_stats().counts();
    if relay::KEEPS_BUFFER_STATS {
        // 7.3's: a record refused for a full buffer, one too big.
        expect!(k.full_count == 14 && k.big_count == 1);
    } else {
        expect!(k.last_toobig == 33);
    }
    expect!(read_all(&c.buf).len() == 60);
    // Consumed: room again.
    c.write(&record(1, 10));
    // SAFETY: an open channel, no concurrent producer.
    unsafe { relay_rs_reset(c.chan) };
    expect!(read_all(&c.buf).is_empty());
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL | bindings::RELAY_RS_STATS_WRT_BIG) == 0);
    expect!(raw(&c.buf).subbufs_produced == 0 && raw(&c.buf).offset == 32 + 3);
    c.write(&record(3, 30));
    expect!(read_all(&c.buf)[..] == record(3, 30)[..]);
}

pub(super) extern "C" fn lockless_refuses_what_it_cannot_do(_t: *mut bindings::kunit) {
    // An overwrite client's `subbuf_start`, and an unknown flag.
    let chan = open_flags(64, 4, &GLOBAL_OVERWRITE_CB, bindings::RELAY_RS_LOCKLESS);
    expect!(chan.is_null());
    let chan = open_flags(64, 4, &GLOBAL_CB, 0x2);
    expect!(chan.is_null());
    let Some(c) = Lockless::open(64, 4) else {
        return;
    };
    // The paths that would write at `offset` drop and count.
    // SAFETY: the channel's buffer; the test is its only writer.
    expect!(unsafe { relay_rs_make_room(c.buf.as_raw(), 8) } == 0);
    // SAFETY: as above.
    expect!(unsafe { relay_rs_switch_subbuf(c.buf.as_raw(), 8) } == 0);
    expect!(c.stats(bindings::RELAY_RS_STATS_BUF_FULL) == 2);
    // A header cannot be reserved outside `subbuf_start`.
    // SAFETY: as above.
    expect!(unsafe { relay_rs_subbuf_start_reserve(c.buf.as_raw(), 8) } != 0);
    expect!(read_all(&c.buf).is_empty());
}

/// The Rust API's lockless channel: global, so that every write lands in
/// one buffer.
struct RustLockless;

impl crate::relay_rs_api::Callbacks for RustLockless {
    type Data = ();
    const GLOBAL: bool = true;
    const LOCKLESS: bool = true;
}

pub(super) extern "C" fn lockless_rust_api(_t: *mut bindings::kunit) {
    let Ok(c) = crate::relay_rs_api::Channel::<RustLockless>::open(None, 64, 2, ()) else {
        expect!(false);
        return;
    };
    // No producer: its reservations commit on their own (Channel::reserve).
    expect!(c.producer().is_none());
    for i in 0..8u8 {
        c.write(&record(i, 30));
    }
    c.write(&record(0, 65));
    // Two per sub-buffer, two sub-buffers: four refused, one too big.
    expect!(c.lost(crate::relay_rs_api::STATS_BUF_FULL) == 4);
    expect!(c.lost(crate::relay_rs_api::STATS_WRT_BIG) == 1);
    // SAFETY: the wrapper's channel is an open relay_rs channel.
    let chan = unsafe { Channel::borrow(c.as_raw().cast()) };
    let Some(buf) = CpuId::from_u32(0).and_then(|cpu| chan.buffer(cpu)) else {
        expect!(false);
        return;
    };
    expect!(chan.is_lockless());
    let got = read_all(&buf);
    expect!(got.len() == 4 * 30 && got[..30] == record(0, 30)[..]);
}

/// The Rust API's lockless reservations: several live at once with a write
/// among them, each committed when it drops; readers see nothing after an
/// uncommitted slot, then everything in reservation order. And the C calls
/// under them refuse a channel that is not lockless.
pub(super) extern "C" fn lockless_rust_reservations(_t: *mut bindings::kunit) {
    let Ok(c) = crate::relay_rs_api::Channel::<RustLockless>::open(None, 64, 2, ()) else {
        expect!(false);
        return;
    };
    // SAFETY: the wrapper's channel is an open relay_rs channel.
    let chan = unsafe { Channel::borrow(c.as_raw().cast()) };
    let Some(buf) = CpuId::from_u32(0).and_then(|cpu| chan.buffer(cpu)) else {
        expect!(false);
        return;
    };
    let (r1, r2, r3) = (record(1, 16), record(2, 16), record(3, 16));
    {
        let Some(mut a) = c.reserve(16) else {
            expect!(false);
            return;
        };
        c.write(&r2);
        let Some(mut b) = c.reserve(16) else {
            expect!(false);
            return;
        };
        b.copy_from_slice(&r3);
        drop(b);
        // `a` is not committed: nothing after it is readable.
        expect!(read_all(&buf).is_empty());
        a.copy_from_slice(&r1);
    }
    let got = read_all(&buf);
    expect!(got.len() == 48);
    expect!(got[..16] == r1[..] && got[16..32] == r2[..] && got[32..] == r3[..]);
    // Too big is counted; an empty reservation reserves nothing.
    expect!(c.reserve(65).is_none());
    expect!(c.reserve(0).is_none());
    expect!(c.lost(crate::relay_rs_api::STATS_WRT_BIG) == 1);
    // A reservation that completes its sub-buffer delivers it on commit:
    // 16 bytes are left in the first, the 16 of the next go to the second.
    {
        let (Some(mut d), Some(mut e)) = (c.reserve(16), c.reserve(16)) else {
            expect!(false);
            return;
        };
        d.fill(4);
        e.fill(5);
    }
    // SAFETY: a live buffer; no writer runs.
    expect!(unsafe { (*buf.as_raw()).subbufs_produced } == 1);
    let got = read_all(&buf);
    expect!(
        got.len() == 32 && got[..16].iter().all(|&x| x == 4) && got[16..].iter().all(|&x| x == 5)
    );
    expect!(c.lost(crate::relay_rs_api::STATS_BUF_FULL) == 0);

    // The C calls refuse a channel that is not lockless.
    let Some(t) = TestChan::open_flags(64, 2, &GLOBAL_CB, 0) else {
        expect!(false);
        return;
    };
    let mut handle = 0usize;
    // SAFETY: a buffer of an open channel; `handle` is writable.
    expect!(unsafe { relay_rs_lockless_reserve(t.buffer().as_raw(), 8, &mut handle) }.is_null());
    expect!(handle == 0);
}
