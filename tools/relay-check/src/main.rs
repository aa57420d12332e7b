// SPDX-License-Identifier: GPL-2.0

//! relay-check: verifies the checksummed records of the relay_rs samples
//! (format in `samples/relay_rs_sample_record.h`) read back from relay files.
//!
//! Usage: relay-check [--summary FILE] [--no-loss] [--any-order] [--max-torn N]
//!                    [--overcount N] DATA...
//!        relay-check --diff DIR SEEDS OPS
//!
//! `--diff`: the differential test against the kernel's relay. For each
//! seed, opens a channel of random geometry and mode through DIR/ctl
//! (module relay_rs_diff), applies OPS random writes, flushes, resets and
//! reads, and compares what DIR/c0 (kernel relay) and DIR/rs0 (relay_rs)
//! return, byte for byte, and their sizes, after every step.
//!
//! `--max-torn N`: up to N records may be cut short (a reset discarded the
//! rest while it was being read); they are skipped, every other record must
//! be intact and none may repeat.
//!
//! `--overcount N`: the lost records may be over-counted by up to N (a
//! reader lapped inside a sub-buffer it read part of: the stats file's
//! `overwritten_partial`); never under-counted.
//!
//! `--any-order`: a CPU's records may be spread over several files (its
//! writer migrated when its CPU went offline): check per CPU that no
//! sequence number repeats, in any order.
//!
//! Every DATA file must be a sequence of intact records; within a file, the
//! sequence numbers of each CPU must increase. With a summary (as written by
//! the sample module: `cpu N written W`, `lost_full L`, `lost_big B`), the
//! records read plus those counted as lost (`lost_full`, `lost_big`,
//! `overwritten`) must equal those written, exactly (or within `--overcount`);
//! and when nothing was lost, every CPU's sequence must be complete.

use std::{
    collections::BTreeMap,
    env, fs,
    io::{Read, Write},
    os::unix::fs::{MetadataExt, OpenOptionsExt},
    process::ExitCode,
};

const MAGIC: u32 = 0x3153_5252;
/// "RRT1": a timestamped record (`RRS_MAGIC_TS`).
const MAGIC_TS: u32 = 0x3154_5252;
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

/// Parses one data file; with `torn`, a bad record is counted there and
/// skipped up to the next record header instead of failing (a reset cut it
/// short).
fn parse_from(
    data: &[u8],
    stats: &mut BTreeMap<u32, CpuStats>,
    any_order: bool,
    mut torn: Option<&mut usize>,
) -> Result<(), String> {
    let mut off = 0;
    while off < data.len() {
        match parse_one(&data[off..], off, stats, any_order) {
            Ok(len) => off += len,
            Err(e) => {
                let Some(t) = torn.as_deref_mut() else {
                    return Err(e);
                };
                *t += 1;
                off += 1;
                while off + 4 <= data.len() && ![MAGIC, MAGIC_TS].contains(&le32(&data[off..])) {
                    off += 1;
                }
                if off + 4 > data.len() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Checks the record at the start of `rest` (at `off` in its file).
fn parse_one(
    rest: &[u8],
    off: usize,
    stats: &mut BTreeMap<u32, CpuStats>,
    any_order: bool,
) -> Result<usize, String> {
    {
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
        // RRT1 records carry a timestamp before the payload.
        let hdr = match magic {
            MAGIC => HDR,
            MAGIC_TS => HDR + 8,
            _ => return Err(format!("bad magic {magic:#x} at offset {off}")),
        };
        if len < hdr || len > rest.len() {
            return Err(format!("bad length {len} at offset {off}"));
        }
        if fnv1a(&rest[HDR..len]) != csum {
            return Err(format!(
                "checksum mismatch at offset {off} (cpu {cpu} seq {seq})"
            ));
        }
        let payload = &rest[hdr..len];
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
        Ok(len)
    }
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
            ["lost_full", n] | ["lost_big", n] | ["overwritten", n] => {
                s.lost += n.parse::<u64>().unwrap_or(0)
            }
            _ => {}
        }
    }
    s
}

/// xorshift64*: deterministic per seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn ctl(dir: &str, cmd: &str) -> std::io::Result<()> {
    fs::OpenOptions::new()
        .write(true)
        .open(format!("{dir}/ctl"))?
        .write_all(cmd.as_bytes())
}

fn open_nb(path: &str) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(0o4000)
        .open(path)
}

/// Reads up to `n` bytes (0 at the end; relay reads never block).
fn read_n(f: &mut fs::File, n: usize) -> Vec<u8> {
    let mut v = vec![0; n];
    let got = f.read(&mut v).unwrap_or(0);
    v.truncate(got);
    v
}

/// One differential run; returns a description of the first difference.
fn diff_seed(dir: &str, seed: u64, ops: usize) -> Result<(u64, usize), String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let ss = 16 + rng.below(497) as usize;
    let n = 1 + rng.below(8) as usize;
    let overwrite = rng.below(4) == 0;
    let geo = format!(
        "seed {seed}: {ss} x {n}, {}",
        if overwrite {
            "overwrite"
        } else {
            "no-overwrite"
        }
    );
    ctl(dir, &format!("open {ss} {n} {}", u8::from(overwrite)))
        .map_err(|e| format!("{geo}: open: {e}"))?;
    let res = (|| {
        let mut c = open_nb(&format!("{dir}/c0")).map_err(|e| format!("c0: {e}"))?;
        let mut r = open_nb(&format!("{dir}/rs0")).map_err(|e| format!("rs0: {e}"))?;
        let mut log = Vec::new();
        let mut bytes = 0u64;
        let mut last_write = false;
        for step in 0..=ops {
            let op = if step == ops { 200 } else { rng.below(100) };
            let cmd = if op < 60 {
                let len = match rng.below(20) {
                    0 => ss + 1 + rng.below(16) as usize,
                    1..=3 => ss / 2 + rng.below(ss as u64 / 2 + 1) as usize,
                    _ => rng.below(ss as u64 / 2 + 1) as usize,
                };
                last_write = true;
                Some(format!("write {len} {}", rng.next() as u32))
            } else if op < 90 || (op < 97 && !last_write) {
                None
            } else if op < 97 || op == 200 {
                // Only right after a write: two empty flushes in a row hit
                // 6.12's duplicate-read bug (documented, fixed in relay_rs).
                last_write = false;
                Some("flush".to_string())
            } else {
                last_write = false;
                Some("reset".to_string())
            };
            if let Some(cmd) = &cmd {
                log.push(cmd.clone());
                ctl(dir, cmd).map_err(|e| format!("{cmd}: {e}"))?;
            }
            let k = if op == 200 {
                1 << 20
            } else {
                1 + rng.below(2 * ss as u64) as usize
            };
            if cmd.is_none() || op == 200 {
                let (a, b) = (read_n(&mut c, k), read_n(&mut r, k));
                log.push(format!("read {k} -> {} / {}", a.len(), b.len()));
                if a != b {
                    let at = a
                        .iter()
                        .zip(&b)
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len()));
                    let tail: Vec<_> = log.iter().rev().take(8).rev().cloned().collect();
                    return Err(format!(
                        "read {k}: kernel relay gave {} bytes, relay_rs {} (first difference at {at}); last ops: {tail:?}",
                        a.len(),
                        b.len()
                    ));
                }
                bytes += a.len() as u64;
            }
            let (sc, sr) = (
                c.metadata().map(|m| m.size()),
                r.metadata().map(|m| m.size()),
            );
            if sc.as_ref().ok() != sr.as_ref().ok() {
                return Err(format!("after {:?}: i_size {sc:?} vs {sr:?}", log.last()));
            }
        }
        Ok((bytes, log.len()))
    })();
    let _ = ctl(dir, "close");
    res.map_err(|e| format!("{geo}: {e}"))
}

fn diff(dir: &str, seeds: u64, ops: usize) -> ExitCode {
    let mut failed = 0;
    let mut total = 0;
    for seed in 0..seeds {
        match diff_seed(dir, seed, ops) {
            Ok((b, _)) => total += b,
            Err(e) => {
                println!("relay-check --diff: {e}");
                failed += 1;
            }
        }
    }
    println!("relay-check --diff: {seeds} sequences of {ops} operations, {total} bytes compared, {failed} differing");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let all: Vec<String> = env::args().skip(1).collect();
    if all.first().map(String::as_str) == Some("--diff") && all.len() == 4 {
        return diff(
            &all[1],
            all[2].parse().unwrap_or(1),
            all[3].parse().unwrap_or(100),
        );
    }
    let mut args = env::args().skip(1);
    let mut summary = None;
    let mut no_loss = false;
    let mut any_order = false;
    let mut max_torn = None;
    let mut overcount = 0;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--summary" => summary = args.next(),
            "--no-loss" => no_loss = true,
            "--any-order" => any_order = true,
            "--resync" => max_torn = Some(usize::MAX),
            "--max-torn" => max_torn = args.next().and_then(|n| n.parse().ok()),
            "--overcount" => overcount = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            _ => files.push(a),
        }
    }
    let mut stats = BTreeMap::new();
    let mut ok = true;
    let mut torn = 0;
    for f in &files {
        match fs::read(f) {
            Ok(data) => {
                let t = max_torn.map(|_| &mut torn);
                if let Err(e) = parse_from(&data, &mut stats, any_order, t) {
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
        if !(written..=written + overcount).contains(&(total_read + sum.lost)) {
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
