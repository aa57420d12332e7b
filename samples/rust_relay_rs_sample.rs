// SPDX-License-Identifier: GPL-2.0

//! Rust sample client of relay_rs: the same checksummed records as the C
//! sample (`relay_rs_sample_record.h`), written from every online CPU in
//! interrupt context (an IPI), through the safe wrapper in
//! `include/relay_rs/`. The files are `rust_sample<cpu>` in the debugfs
//! root; the summary goes to the kernel log as `rust_relay_rs_sample: ...`.

use kernel::{bindings, c_str, prelude::*};

#[path = "../include/relay_rs/mod.rs"]
pub mod relay_rs;

module! {
    type: RustRelaySample,
    name: "rust_relay_rs_sample",
    description: "relay_rs sample in Rust",
    license: "GPL",
}

const RECORDS: u64 = 500;
const REC_LEN: usize = 64;
const HDR: usize = 24;
const MAGIC: u32 = 0x3153_5252;

fn fnv1a(p: &[u8]) -> u32 {
    p.iter().fold(2_166_136_261u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

/// Builds record `seq` of `cpu` (format of `relay_rs_sample_record.h`).
fn record(cpu: u32, seq: u64) -> [u8; REC_LEN] {
    let mut r = [0u8; REC_LEN];
    for (i, b) in r[HDR..].iter_mut().enumerate() {
        *b = (seq
            .wrapping_mul(31)
            .wrapping_add(i as u64 * 7)
            .wrapping_add(u64::from(cpu))) as u8;
    }
    let csum = fnv1a(&r[HDR..]);
    r[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    r[4..8].copy_from_slice(&(REC_LEN as u32).to_le_bytes());
    r[8..12].copy_from_slice(&cpu.to_le_bytes());
    r[12..16].copy_from_slice(&csum.to_le_bytes());
    r[16..24].copy_from_slice(&seq.to_le_bytes());
    r
}

/// What the IPI handler needs: the channel and the CPU it runs on.
struct Job<'a> {
    chan: &'a relay_rs::Channel<relay_rs::Defaults>,
    cpu: u32,
}

/// Runs on CPU `job.cpu`, in interrupt context.
///
/// # Safety
///
/// `info` points to a `Job` that is alive for the call.
unsafe extern "C" fn write_on_cpu(info: *mut kernel::ffi::c_void) {
    // SAFETY: `info` is the caller's `Job`, borrowed for the synchronous IPI.
    let job = unsafe { &*info.cast::<Job<'_>>() };
    for seq in 0..RECORDS {
        job.chan.write(&record(job.cpu, seq));
    }
}

struct RustRelaySample {
    _chan: relay_rs::Channel<relay_rs::Defaults>,
}

impl kernel::Module for RustRelaySample {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let chan = relay_rs::Channel::<relay_rs::Defaults>::open(
            Some(c_str!("rust_sample")),
            8192,
            8,
            (),
        )?;
        let mut cpus = 0;
        // SAFETY: reads the CPU count fixed at boot.
        let nr = unsafe { bindings::nr_cpu_ids };
        for cpu in 0..nr {
            let job = Job { chan: &chan, cpu };
            // `wait` is an `int` on 6.12, a `bool` on 7.3: `into` fits both.
            #[allow(clippy::useless_conversion)]
            let wait = true.into();
            // SAFETY: `write_on_cpu` only borrows `job`, which outlives the
            // synchronous (`wait = 1`) call; offline CPUs return an error.
            let ret = unsafe {
                bindings::smp_call_function_single(
                    cpu as i32,
                    Some(write_on_cpu),
                    core::ptr::from_ref(&job).cast_mut().cast(),
                    wait,
                )
            };
            if ret == 0 {
                pr_info!("cpu {} written {}\n", cpu, RECORDS);
                cpus += 1;
            }
        }
        chan.flush();
        // relay_rs' delivery interval: readers polling the files wake
        // within 250 ms of a record; more than the maximum is refused.
        chan.set_delivery_interval(250)?;
        if chan
            .set_delivery_interval(relay_rs::MAX_DELIVERY_MS + 1)
            .is_ok()
        {
            return Err(EINVAL);
        }
        pr_info!("lost_full {}\n", chan.lost(relay_rs::STATS_BUF_FULL));
        pr_info!("lost_big {}\n", chan.lost(relay_rs::STATS_WRT_BIG));
        pr_info!("wrote from {} CPUs\n", cpus);
        Ok(Self { _chan: chan })
    }
}
