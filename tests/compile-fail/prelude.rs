// SPDX-License-Identifier: GPL-2.0

//! Shared by every case (run.sh appends one case to it): a Rust client module
//! of the safe API, as a client writes one.

use kernel::prelude::*;

#[path = "../include/relay_rs/mod.rs"]
pub mod relay_rs;

module! {
    type: Case,
    name: "relay_rs_compile_case",
    description: "relay_rs compile-fail case",
    license: "GPL",
}

struct Case;

/// A global channel: every CPU shares one buffer.
struct Global;

impl relay_rs::Callbacks for Global {
    type Data = ();
    const GLOBAL: bool = true;
}

fn need_send<S: Send>(_: S) {}

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let chan = relay_rs::Channel::<Global>::open(None, 4096, 4, ())?;
        case(&chan);
        Ok(Case)
    }
}
