// SPDX-License-Identifier: GPL-2.0

//! The benchmark's Rust writer: relay_rs through its safe Rust API
//! (`include/relay_rs/`), linked into `relay_rs_bench.ko` next to the C
//! writers and called from `bench_main.c` with the same loop contract
//! (`bench.h`).

use core::{
    ffi::{c_int, c_uint, c_void},
    ptr::null_mut,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{c_str, prelude::*};

#[path = "../include/relay_rs/mod.rs"]
pub mod relay_rs;

use relay_rs::{Callbacks, Channel, SubbufStart};

/// Overwrite mode: nobody reads, every switch succeeds.
struct Overwrite;

impl Callbacks for Overwrite {
    type Data = ();

    fn subbuf_start(_switch: &mut SubbufStart<'_, Self>) -> bool {
        true
    }
}

/// The open channel, between `bench_rust_open` and `bench_rust_close`.
static CHAN: AtomicPtr<Channel<Overwrite>> = AtomicPtr::new(null_mut());

/// `enum bench_path` of `bench.h`.
const PATH_WRITE: c_uint = 0;
const PATH_UNLOCKED: c_uint = 1;

/// Opens the Rust writer's channel (files `brust<cpu>` in the debugfs root).
#[no_mangle]
pub extern "C" fn bench_rust_open(
    _dir: *mut c_void,
    subbuf_size: usize,
    n_subbufs: usize,
) -> c_int {
    let Ok(chan) = Channel::<Overwrite>::open(Some(c_str!("brust")), subbuf_size, n_subbufs, ())
    else {
        return ENOMEM.to_errno();
    };
    match KBox::new(chan, GFP_KERNEL) {
        Ok(b) => {
            let old = CHAN.swap(KBox::into_raw(b), Ordering::AcqRel);
            if !old.is_null() {
                // SAFETY: `old` came from `KBox::into_raw` below and was
                // taken out of `CHAN`, so it is ours alone.
                drop(unsafe { KBox::from_raw(old) });
            }
            0
        }
        Err(_) => ENOMEM.to_errno(),
    }
}

/// Writes `count` records of `len` bytes from `rec` through `path`.
///
/// # Safety
///
/// `rec` is readable for `len` bytes; the channel is open and not closed
/// concurrently (the C side serialises open, loops and close).
#[no_mangle]
pub unsafe extern "C" fn bench_rust_loop(
    path: c_uint,
    rec: *const c_void,
    len: usize,
    count: c_uint,
) {
    let chan = CHAN.load(Ordering::Acquire);
    if chan.is_null() {
        return;
    }
    // SAFETY: open until `bench_rust_close`, which does not run concurrently
    // (caller contract).
    let chan = unsafe { &*chan };
    // SAFETY: `rec` is readable for `len` bytes (caller contract).
    let rec = unsafe { core::slice::from_raw_parts(rec.cast::<u8>(), len) };
    match path {
        PATH_WRITE => {
            for _ in 0..count {
                chan.write(rec);
            }
        }
        PATH_UNLOCKED => {
            // As the C loop holds preemption off around __relay_write().
            if let Some(mut producer) = chan.producer() {
                for _ in 0..count {
                    producer.write(rec);
                }
            }
        }
        _ => {
            // As the C loop holds interrupts off around each relay_reserve().
            for _ in 0..count {
                if let Some(mut producer) = chan.producer() {
                    if let Some(mut slot) = producer.reserve(len) {
                        slot.copy_from_slice(rec);
                    };
                }
            }
        }
    }
}

/// Closes the Rust writer's channel.
#[no_mangle]
pub extern "C" fn bench_rust_close() {
    let chan = CHAN.swap(null_mut(), Ordering::AcqRel);
    if !chan.is_null() {
        // SAFETY: `chan` came from `KBox::into_raw` and was taken out of `CHAN`.
        drop(unsafe { KBox::from_raw(chan) });
    }
}
