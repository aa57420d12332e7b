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
// The safe API for Rust client modules; relay_rs' own tests use it too.
#[cfg(CONFIG_KUNIT)]
#[path = "tests/kunit_rs.rs"]
mod kunit_tests;
#[cfg(CONFIG_KUNIT)]
#[path = "include/relay_rs.rs"]
mod relay_rs_api;

module! {
    type: RelayRs,
    name: "relay_rs",
    author: "relay_rs developers",
    description: "Relay channels (kernel/relay.c) in Rust",
    license: "GPL",
}

struct RelayRs;

impl kernel::Module for RelayRs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        hotplug::init()?;
        Ok(RelayRs)
    }
}

impl Drop for RelayRs {
    fn drop(&mut self) {
        hotplug::exit();
    }
}
