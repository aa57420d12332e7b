// SPDX-License-Identifier: GPL-2.0

//! relay-check: verifies the checksummed records of the relay_rs samples
//! (format in `samples/relay_rs_sample_record.h`) read back from relay files.
//!
//! Usage: relay-check [--summary FILE] [--no-loss] [--any-order] DATA...
//!
//! `--any-order`: a CPU's records may be spread over several files (its
//! writer migrated when its CPU went offline): check per CPU that no
//! sequence number repeats, in any order.
//!
//! Every DATA file must be a sequence of intact records; within a file, the
//! sequence numbers of each CPU must increase. With a summary (as written by
//! the sample module: `cpu N written W`, `lost_full L`, `lost_big B`), the
//! records read plus those counted as lost must equal those written, exactly;
//! and when nothing was lost, every CPU's sequence must be complete.

use std::{collections::BTreeMap, env, fs, process::ExitCode};

const MAGIC: u32 = 0x3153_5252;
const HDR: usize = 24;

fn payload_byte(cpu: u32, seq: u64, i: u32) -> u8 {
    (seq.wrapping_mul(31)
        .wrapping_add(u64::from(i) * 7)
        .wrapping_add(u64::from(cpu))) as u8
}

fn fnv1a(p: &[u8]) -> u32 {
    p.iter().fold(2_166_136_261u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

#[derive(Default)]
struct CpuStats {
    records: u64,
    bytes: u64,
    seqs: Vec<u64>,
}

/// Parses one data file; returns an error message at the first bad byte.
fn parse(data: &[u8], stats: &mut BTreeMap<u32, CpuStats>, any_order: bool) -> Result<(), String> {
    let mut off = 0;
    while off < data.len() {
        let rest = &data[off..];
        if rest.len() < HDR {
            return Err(format!("truncated header at offset {off}"));
        }
        let (magic, len, cpu, csum) = (
            le32(rest),
            le32(&rest[4..]) as usize,
            le32(&rest[8..]),
            le32(&rest[12..]),
        );
        let seq = u64::from_le_bytes(rest[16..24].try_into().unwrap());
        if magic != MAGIC {
            return Err(format!("bad magic {magic:#x} at offset {off}"));
        }
        if len < HDR || len > rest.len() {
            return Err(format!("bad length {len} at offset {off}"));
        }
        let payload = &rest[HDR..len];
        if fnv1a(payload) != csum {
            return Err(format!(
                "checksum mismatch at offset {off} (cpu {cpu} seq {seq})"
            ));
        }
        if let Some(i) =
            (0..payload.len()).find(|&i| payload[i] != payload_byte(cpu, seq, i as u32))
        {
            return Err(format!(
                "payload byte {i} wrong at offset {off} (cpu {cpu} seq {seq})"
            ));
        }
        let s = stats.entry(cpu).or_default();
        if let Some(&last) = s.seqs.last().filter(|_| !any_order) {
            if seq <= last {
                return Err(format!("cpu {cpu}: seq {seq} after {last} at offset {off}"));
            }
        }
        s.records += 1;
        s.bytes += len as u64;
        s.seqs.push(seq);
        off += len;
    }
    Ok(())
}

struct Summary {
    written: BTreeMap<u32, u64>,
    lost: u64,
}

fn parse_summary(text: &str) -> Summary {
    let mut s = Summary {
        written: BTreeMap::new(),
        lost: 0,
    };
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["cpu", cpu, "written", n] => {
                s.written
                    .insert(cpu.parse().unwrap_or(u32::MAX), n.parse().unwrap_or(0));
            }
            ["lost_full", n] | ["lost_big", n] => s.lost += n.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    s
}

fn main() -> ExitCode {
    let mut args = env::args().skip(1);
    let mut summary = None;
    let mut no_loss = false;
    let mut any_order = false;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--summary" => summary = args.next(),
            "--no-loss" => no_loss = true,
            "--any-order" => any_order = true,
            _ => files.push(a),
        }
    }
    let mut stats = BTreeMap::new();
    let mut ok = true;
    for f in &files {
        match fs::read(f) {
            Ok(data) => {
                if let Err(e) = parse(&data, &mut stats, any_order) {
                    println!("relay-check: {f}: {e}");
                    ok = false;
                }
            }
            Err(e) => {
                println!("relay-check: {f}: {e}");
                ok = false;
            }
        }
    }
    println!(
        "{:>4} {:>10} {:>12} {:>10}",
        "cpu", "records", "bytes", "written"
    );
    let sum = summary.map(|p| parse_summary(&fs::read_to_string(p).unwrap_or_default()));
    let mut total_read = 0;
    for (cpu, s) in &stats {
        let w = sum.as_ref().and_then(|x| x.written.get(cpu)).copied();
        println!(
            "{cpu:>4} {:>10} {:>12} {:>10}",
            s.records,
            s.bytes,
            w.map_or("-".into(), |w| w.to_string())
        );
        total_read += s.records;
    }
    if let Some(sum) = &sum {
        let written: u64 = sum.written.values().sum();
        println!(
            "written {written} read {total_read} lost {} (counted by relay_rs)",
            sum.lost
        );
        if no_loss && sum.lost != 0 {
            println!("relay-check: {} records lost (--no-loss)", sum.lost);
            ok = false;
        }
        if total_read + sum.lost != written {
            println!("relay-check: conservation violated: {total_read} read + {} lost != {written} written", sum.lost);
            ok = false;
        }
        for (cpu, &w) in &sum.written {
            let s = stats.get(cpu);
            let got = s.map_or(0, |s| s.records);
            if got > w {
                println!("relay-check: cpu {cpu}: read {got} > written {w}");
                ok = false;
            }
            if sum.lost == 0 && s.map_or(w != 0, |s| s.seqs.iter().copied().ne(0..w)) {
                println!("relay-check: cpu {cpu}: sequence incomplete with nothing lost");
                ok = false;
            }
        }
    }
    println!(
        "relay-check: {}",
        if ok { "all records intact" } else { "FAILED" }
    );
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
