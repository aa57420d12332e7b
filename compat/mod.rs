// SPDX-License-Identifier: GPL-2.0

//! Small safe abstractions over C APIs, and the one place that knows which
//! kernel relay_rs is built against (`cfg(relay_rs_kernel)`).
//!
//! Where an upstream `kernel` crate abstraction exists on 7.3 but not on
//! 6.12, the item here stands in for it on 6.12 and, with the same name
//! and signature, is built on it on 7.3, adding what 7.3 still lacks:
//! `cpu::CpuId` (upstream `kernel::cpu::CpuId`, plus `is_online` and
//! `is_possible`), `fs::File` (upstream `LocalFile`, plus `private_data`
//! and `is_readable`), `mm::Vma` and `mm::VmaNew` (upstream `VmaRef` and
//! `VmaNew`, plus the offset, file, private data and `set_ops`).
//!
//! Relay_rs' own on both kernels, as 7.3 still lacks them or they do not
//! fit: `debugfs` (files with custom `file_operations`), `irq_work`,
//! `percpu` (per-CPU pointers), `poll` (7.3's `PollTable` registers only a
//! Rust-owned `PollCondVar`, not the wait queue inside `struct
//! rchan_buf`), `sync::GlobalLock` (7.3's `global_lock!` is typed per
//! lock), `timer` (7.3 wraps `hrtimer`s only), `vmap`,
//! `alloc::swap_remove`, and the CPU hotplug guard and IPIs of `cpu`
//! (cpuhp states are registered by `hotplug/` over bindings).
//! `sync::AssertSync` has no upstream counterpart; `relay`, `str`,
//! `uaccess`, `fmt` and `module` only pick each kernel's spelling. Each
//! file's header says which it is.

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
pub(crate) mod timer;
pub(crate) mod uaccess;
pub(crate) mod vmap;
