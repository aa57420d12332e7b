// SPDX-License-Identifier: GPL-2.0
//! A consumer of a live relay_rs channel written from the documentation of
//! `tools/relay-consumer` alone (its README and rustdoc, docs/*.md and the
//! sample's record layout in samples/relay_rs_sample_record.h).
//!
//! `relay-consumer-client DIR BASE read|mmap|splice [--idle MS]`: one thread
//! per buffer file `DIR/BASE<cpu>`, each cutting its stream into the
//! sample's records (length from each record's header) and checking them:
//! magic, length, CPU, FNV-1a checksum, payload pattern, and a per-CPU
//! sequence that only goes up. A thread ends once no data came for the idle
//! timeout (the sample's live writers never close the channel: the test
//! flushes it once they are done). Then the channel's stats file, still
//! there since the channel is open, gives the losses. Prints one summary
//! line, `records R lost L bad B`, and exits 1 on any bad record.

use relay_consumer::{cpu_files, stats_path, Consumer, Mode, Options, Stats};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

// samples/relay_rs_sample_record.h
const RRS_MAGIC: u32 = 0x3153_5252;
const RRS_HDR_LEN: usize = 24;

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().unwrap())
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap())
}

fn fnv1a(p: &[u8]) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for &b in p {
        h ^= b as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

fn payload_byte(cpu: u32, seq: u64, i: u32) -> u8 {
    (seq.wrapping_mul(31) as u32)
        .wrapping_add(i.wrapping_mul(7))
        .wrapping_add(cpu) as u8
}

#[derive(Default, Debug)]
struct CpuResult {
    cpu: u32,
    records: u64,
    bad: u64,
    /// Records missing between the sequence numbers read (losses seen).
    gaps: u64,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    bytes: u64,
    end: String,
    errors: Vec<String>,
}

impl CpuResult {
    fn bad(&mut self, why: String) {
        self.bad += 1;
        if self.errors.len() < 5 {
            self.errors.push(why);
        }
    }

    /// Checks one record cut by the framing below.
    fn check(&mut self, rec: &[u8]) {
        self.bytes += rec.len() as u64;
        if rec.len() < RRS_HDR_LEN || le32(&rec[0..]) != RRS_MAGIC {
            self.bad(format!("{} bytes without a record header", rec.len()));
            return;
        }
        let len = le32(&rec[4..]) as usize;
        let cpu = le32(&rec[8..]);
        let csum = le32(&rec[12..]);
        let seq = le64(&rec[16..]);
        let payload = &rec[RRS_HDR_LEN..];
        if len != rec.len() {
            self.bad(format!("seq {seq}: len {len}, framed {}", rec.len()));
            return;
        }
        if cpu != self.cpu {
            self.bad(format!("seq {seq}: cpu {cpu} in buffer {}", self.cpu));
            return;
        }
        if fnv1a(payload) != csum {
            self.bad(format!("seq {seq}: checksum mismatch"));
            return;
        }
        if let Some(i) =
            (0..payload.len()).find(|&i| payload[i] != payload_byte(cpu, seq, i as u32))
        {
            self.bad(format!("seq {seq}: payload byte {i} wrong"));
            return;
        }
        match self.last_seq {
            Some(last) if seq <= last => {
                self.bad(format!("seq {seq} after {last}"));
                return;
            }
            Some(last) => self.gaps += seq - last - 1,
            None => self.first_seq = Some(seq),
        }
        self.last_seq = Some(seq);
        self.records += 1;
    }
}

fn consume(cpu: u32, path: PathBuf, mode: Mode, opts: Options) -> io::Result<CpuResult> {
    let c = Consumer::open(&path, mode, opts)?;
    // A record never straddles two sub-buffers, so none is longer than one
    // (only relay_rs files have the ioctl: allow 1 MiB elsewhere).
    let max = c.info().map_or(1 << 20, |i| i.subbuf_size as usize);
    let framing = move |head: &[u8]| -> Option<usize> {
        if head.len() < 8 {
            return None;
        }
        let len = le32(&head[4..]) as usize;
        if le32(head) != RRS_MAGIC || !(RRS_HDR_LEN..=max).contains(&len) {
            // Lost sync: take what is there as one bad record (never 0).
            return Some(head.len());
        }
        Some(len)
    };
    let mut stream = c.records(framing);
    let mut res = CpuResult {
        cpu,
        ..CpuResult::default()
    };
    while let Some(rec) = stream.next_record()? {
        res.check(&rec);
    }
    if !stream.pending().is_empty() {
        res.bad(format!(
            "{} bytes of a torn record at the end",
            stream.pending().len()
        ));
    }
    res.end = format!("{:?}", stream.consumer().end());
    Ok(res)
}

fn usage() -> ExitCode {
    eprintln!("usage: relay-consumer-client DIR BASE read|mmap|splice [--idle MS]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 3 && args.len() != 5 {
        return usage();
    }
    let dir = PathBuf::from(&args[0]);
    let base = args[1].clone();
    let mode = match args[2].as_str() {
        "read" => Mode::Read,
        "mmap" => Mode::Mmap,
        "splice" => Mode::Splice,
        _ => return usage(),
    };
    let mut idle_ms = 2000;
    if args.len() == 5 {
        match (args[3].as_str(), args[4].parse()) {
            ("--idle", Ok(ms)) => idle_ms = ms,
            _ => return usage(),
        }
    }
    match run(&dir, &base, mode, idle_ms) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("relay-consumer-client: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(dir: &Path, base: &str, mode: Mode, idle_ms: u64) -> io::Result<bool> {
    let files = cpu_files(dir, base)?;
    if files.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no {base}<cpu> in {}", dir.display()),
        ));
    }
    let opts = Options {
        idle_timeout: Some(Duration::from_millis(idle_ms)),
        stop: Some(relay_consumer::sigint_flag()),
        ..Options::default()
    };
    let threads: Vec<_> = files
        .into_iter()
        .map(|(cpu, path)| {
            let opts = opts.clone();
            (cpu, thread::spawn(move || consume(cpu, path, mode, opts)))
        })
        .collect();
    let mut results = Vec::new();
    for (cpu, t) in threads {
        match t.join() {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(e)) => return Err(io::Error::new(e.kind(), format!("cpu {cpu}: {e}"))),
            Err(_) => return Err(io::Error::other(format!("cpu {cpu}: thread panicked"))),
        }
    }
    // Every consumer caught up and the writers are idle: the counters are exact.
    let stats = Stats::read(&stats_path(dir, base))?;
    let (mut records, mut bad) = (0, 0);
    for r in &results {
        let lost = stats.buffers.iter().find(|b| b.cpu == r.cpu);
        let lost = lost.map(|b| b.lost_full + b.lost_big + b.overwritten);
        println!(
            "cpu {} records {} bytes {} seq {:?}..{:?} gaps {} lost {:?} bad {} end {}",
            r.cpu, r.records, r.bytes, r.first_seq, r.last_seq, r.gaps, lost, r.bad, r.end
        );
        for e in &r.errors {
            println!("cpu {} bad: {e}", r.cpu);
        }
        records += r.records;
        bad += r.bad;
    }
    println!(
        "stats lost_full {} lost_big {} overwritten {} overwritten_partial {}",
        stats.lost_full, stats.lost_big, stats.overwritten, stats.overwritten_partial
    );
    println!("records {records} lost {} bad {bad}", stats.lost());
    Ok(bad == 0)
}
