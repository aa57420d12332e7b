// SPDX-License-Identifier: GPL-2.0

//! relay_rs: the Linux relay channel API as a loadable Rust module.
//!
//! A relay channel is a set of per-CPU rings of sub-buffers: kernel code
//! writes records with `relay_rs_write()` and friends, user space reads them
//! from one file per CPU. See `include/relay_rs.h` for the C API and
//! `README.md` for an overview.

use kernel::prelude::*;

mod bindings;
mod buffer;
mod channel;
mod compat;
mod fileops;
mod hotplug;
#[cfg(CONFIG_KUNIT)]
#[path = "tests/kunit_support.rs"]
mod kunit_support;
#[cfg(CONFIG_KUNIT)]
#[path = "tests/kunit_rs.rs"]
mod kunit_tests;
// The safe API for Rust client modules; relay_rs' own tests use it too, and
// its inline write paths' view of the C structures is checked here.
#[path = "include/relay_rs/mod.rs"]
pub mod relay_rs_api;

const _: () = {
    use core::mem::offset_of;
    let api = relay_rs_api::OFFSETS;
    assert!(api.subbuf_size == offset_of!(bindings::rchan, subbuf_size));
    assert!(api.buf == offset_of!(bindings::rchan, buf));
    assert!(api.data == offset_of!(bindings::rchan_buf, data));
    assert!(api.offset == offset_of!(bindings::rchan_buf, offset));
    assert!(api.committed == offset_of!(bindings::rchan_buf, committed));
    assert!(api.records == offset_of!(bindings::rchan_buf, records));
    // The Rust API's copies of the protocol's constants and fit rule.
    assert!(relay_rs_api::NO_RESERVATION == buffer::ring::NO_RESERVATION);
    assert!(relay_rs_api::UNCOMMITTED == buffer::ring::UNCOMMITTED);
    let cases: [(usize, usize, usize); 7] = [
        (0, 64, 64),
        (1, 64, 64),
        (64, 0, 64),
        (65, 0, 64),
        (8, usize::MAX - 2, 64),
        (usize::MAX, 1, 64),
        (0, 0, u32::MAX as usize),
    ];
    let mut i = 0;
    while i < cases.len() {
        let (o, l, ss) = cases[i];
        assert!(relay_rs_api::fits(o, l, ss) == buffer::ring::fits(o, l, ss));
        if l <= isize::MAX as usize && o <= u32::MAX as usize + 1 {
            assert!(relay_rs_api::fits_slice(o, l, ss) == buffer::ring::fits(o, l, ss));
        }
        i += 1;
    }
    // The largest offset (refused, of the largest sub-buffer) and slice.
    let (o, ss) = (u32::MAX as usize + 1, u32::MAX as usize);
    assert!(!relay_rs_api::fits_slice(o, isize::MAX as usize, ss));
    assert!(!relay_rs_api::fits_slice(o, 0, ss));
};

// The constants that include/relay_rs.h shares with the ring and the Rust
// API (relay_rs' own code uses the header's through `bindings`).
const _: () = {
    use kernel::ffi::c_int;
    assert!(bindings::RELAY_RS_C_NO_RESERVATION == buffer::ring::NO_RESERVATION);
    assert!(bindings::RELAY_RS_C_MAX_DELIVERY_MS == channel::delivery::MAX_MSECS);
    assert!(relay_rs_api::MAX_DELIVERY_MS == channel::delivery::MAX_MSECS);
    assert!(bindings::RELAY_RS_STATS_BUF_FULL as c_int == relay_rs_api::STATS_BUF_FULL);
    assert!(bindings::RELAY_RS_STATS_WRT_BIG as c_int == relay_rs_api::STATS_WRT_BIG);
    assert!(bindings::RELAY_RS_STATS_OVERWRITTEN as c_int == relay_rs_api::STATS_OVERWRITTEN);
};

compat::module::module_for_kernel! {
    type: RelayRs,
    name: "relay_rs",
    author: "relay_rs developers",
    description: "Relay channels (kernel/relay.c) in Rust",
    license: "GPL",
}

struct RelayRs;

impl kernel::Module for RelayRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: first in module init: nothing can take the channels lock yet.
        unsafe { channel::registry::init() };
        hotplug::init()?;
        Ok(RelayRs)
    }
}

impl Drop for RelayRs {
    fn drop(&mut self) {
        hotplug::exit();
        channel::registry::exit();
    }
}
