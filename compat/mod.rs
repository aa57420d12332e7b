// SPDX-License-Identifier: GPL-2.0

//! Small safe abstractions over C APIs that the 6.12 `kernel` crate lacks.
//!
//! Each mirrors the name and shape of the upstream abstraction that later
//! appeared (`cpu::CpuId`, `fs::File`, `sync::poll::PollTable`, `debugfs`),
//! so that it can be swapped for the upstream one when relay_rs moves on;
//! `sync::AssertSync` has no upstream counterpart.

pub(crate) mod alloc;
pub(crate) mod cpu;
pub(crate) mod debugfs;
pub(crate) mod fmt;
pub(crate) mod fs;
pub(crate) mod irq_work;
pub(crate) mod mm;
pub(crate) mod module;
pub(crate) mod percpu;
pub(crate) mod poll;
pub(crate) mod relay;
pub(crate) mod str;
pub(crate) mod sync;
pub(crate) mod uaccess;
pub(crate) mod vmap;
