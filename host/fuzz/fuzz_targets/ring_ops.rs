// SPDX-License-Identifier: GPL-2.0

//! Fuzzes the ring logic against the reference model of a relay buffer
//! (`relay_rs_host::check_ops`): any input is a geometry, a mode and a
//! sequence of writes, flushes, reads and resets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_rs_host::{check_ops, Op};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let ss = 8 + data[0] as usize % 200;
    let n = 1 + data[1] as usize % 6;
    let overwrite = data[2] & 1 == 1;
    let ops: Vec<Op> = data[3..]
        .chunks(2)
        .map(|c| {
            let v = c.get(1).copied().unwrap_or(0) as usize;
            match c[0] % 8 {
                0..=3 => Op::Write(v % (ss + 10)),
                4 => Op::Flush,
                5 | 6 => Op::Read(1 + v),
                _ => Op::Reset,
            }
        })
        .collect();
    if let Err(e) = check_ops(ss, n, overwrite, &ops) {
        panic!("{e}: {ss} x {n}, overwrite {overwrite}, ops {ops:?}");
    }
});
