// SPDX-License-Identifier: GPL-2.0

//! The crate root that `make rustdoc` documents relay_rs' Rust client API
//! through: a client mounts the API the same way (see `mod.rs`).

#[path = "mod.rs"]
pub mod relay_rs;
