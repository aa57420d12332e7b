// SPDX-License-Identifier: GPL-2.0

//! relay-read: consumes every per-CPU file of a relay_rs channel
//! concurrently, a thread each, poll-driven, with read(2), mmap(2),
//! splice(2) or sendfile(2) (the relay-consumer library), until the channel
//! is closed and drained, goes idle or Ctrl-C; then prints what each CPU's
//! buffer gave and, on request, the channel's losses. `relay-read --help`
//! explains every option.

use clap::{Parser, ValueEnum};
use relay_consumer::{
    cpu_files, follow, sigint_flag, stats_path, Consumer, Mode, Options, Pass, Sink, Source, Stats,
};
use std::{
    fs::{self, File, OpenOptions},
    io::{self, IsTerminal, Write},
    os::fd::BorrowedFd,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

const ABOUT: &str = "\
Consumes every per-CPU buffer file of a relay_rs channel, DIR/BASE<cpu>, \
concurrently (a thread per file), until the channel is closed and drained, \
the --idle-exit time passes without data, or Ctrl-C. Each thread waits in \
poll(2) for data, takes what is there with the chosen mode, and writes it \
to the output (by default it is discarded). At the end relay-read prints, \
per CPU, the bytes consumed and the throughput, then the total.

On a terminal, a progress line on standard error shows the bytes consumed \
so far per CPU and the total rate; it is not printed when standard error \
is not a terminal, so logs hold only the final report.";

const EXAMPLES: &str = "\
Examples:
  # Drain the sample's channel into /tmp/out/cpu0, cpu1, ... with splice
  # (no copy), then print the channel's loss counters:
  relay-read /sys/kernel/debug/relay_rs_sample cpu --mode splice --out /tmp/out --stats

  # Every CPU's data into one file, with mmap, stopping after 1 s without data:
  relay-read /sys/kernel/debug/relay_rs_sample cpu --mode mmap --merged /tmp/all --idle-exit 1000";

/// How each buffer file is consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    /// read(2) into a buffer of --bufsize bytes: the data in order, without
    /// the padding, copied once. Works on the kernel's own relay files too.
    Read,
    /// mmap(2) of the whole ring and the ioctl protocol of
    /// include/uapi/relay_rs.h: each completed (or flushed) sub-buffer is
    /// copied out of the mapping and handed back; in overwrite mode, the
    /// copies the kernel reports as overwritten are dropped, so the losses
    /// are whole sub-buffers, counted in the stats file.
    Mmap,
    /// splice(2) into a pipe, then into the output file without a copy (or
    /// through a buffer into --merged): pipe buffers reference the ring's
    /// pages, on channels that never overwrite.
    Splice,
    /// sendfile(2) straight into the output file (--out, or the discarding
    /// default), without a copy; --merged cannot take it.
    Sendfile,
    /// not a way to consume but a check: each file is read through two
    /// descriptors in turn (100 and 37 bytes per read), so that the output
    /// shows whether consumption is shared by the descriptors and exact.
    Alternate,
}

#[derive(Parser, Debug)]
#[command(
    name = "relay-read",
    version,
    about = "Consumes every per-CPU file of a relay_rs channel with read, mmap, splice or sendfile",
    long_about = ABOUT,
    after_long_help = EXAMPLES
)]
struct Args {
    /// The directory holding the channel's files, for example
    /// /sys/kernel/debug/relay_rs_sample.
    dir: PathBuf,

    /// The channel's base name: its buffer files are DIR/BASE0, DIR/BASE1,
    /// ... (one per CPU, or only BASE0 for a global channel), and its stats
    /// file DIR/BASE.stats.
    base: String,

    /// How each buffer file is consumed.
    #[arg(long, value_enum, default_value_t = ModeArg::Read)]
    mode: ModeArg,

    /// Write each CPU's data to a file of DIR named like its buffer file
    /// (BASE0, BASE1, ...), created or truncated (DIR is created if needed). Without --out or --merged the data are discarded
    /// (written to /dev/null, still without a copy in splice and sendfile
    /// modes).
    #[arg(long, value_name = "DIR", conflicts_with = "merged")]
    out: Option<PathBuf>,

    /// Write every CPU's data to FILE, created or truncated, each chunk
    /// whole (a read's worth, a sub-buffer, a pipe-full), so chunks of
    /// different CPUs interleave but never mix.
    #[arg(long, value_name = "FILE")]
    merged: Option<PathBuf>,

    /// At the end, print the channel's loss counters (lost_full, lost_big,
    /// overwritten, overwritten_partial) from its stats file, as last read
    /// while the channel was open, each on a line beginning "channel ".
    #[arg(long)]
    stats: bool,

    /// Stop a CPU's consumer once no data came to it for MS milliseconds,
    /// without waiting for the channel to close.
    #[arg(long, value_name = "MS")]
    idle_exit: Option<u64>,

    /// Bytes per read(2), splice(2) or sendfile(2) call, and the pipe size
    /// asked for in splice mode.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    bufsize: u64,

    /// For benchmarks: also print "BENCH bytes=N secs=S cpu=C", S being the
    /// time from the first pass that found data to the last data (waiting
    /// for writers and the idle tail are not reading) and C the CPU time
    /// the process used.
    #[arg(long)]
    bench: bool,

    /// A deliberately slow consumer, for testing overwrite mode: sleep MS
    /// milliseconds after every read that returned data, and in mmap mode
    /// between copying the sub-buffers out and handing them back.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pause: u64,
}

/// When the first pass that found data began, in ns after the start
/// (`--bench`): a live benchmark's writers may start after the readers.
static FIRST_DATA_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// When the last data arrived, in ns after the start (`--bench`).
static LAST_DATA_NS: AtomicU64 = AtomicU64::new(0);

/// A file shared by every CPU's consumer (`--merged`).
struct Merged(Arc<Mutex<File>>);

impl Write for Merged {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().write(data)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.lock().unwrap().write_all(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().unwrap().flush()
    }
}

/// `--mode alternate`: one file read through two descriptors in turn.
struct Alternate(Consumer, Consumer);

impl Source for Alternate {
    fn poll_fd(&self) -> BorrowedFd<'_> {
        self.0.poll_fd()
    }

    fn drain_now(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let mut total = 0;
        loop {
            let a = self.0.read_once(sink)?;
            let b = self.1.read_once(sink)?;
            total += a + b;
            if a + b == 0 {
                return Ok(total);
            }
        }
    }
}

/// Consumes `source` into `sink` until the channel closes, idles or Ctrl-C,
/// adding the bytes to `bytes`.
fn consume(
    source: Opened,
    mut sink: Sink,
    opts: Options,
    bytes: &AtomicU64,
    start: Instant,
) -> io::Result<()> {
    let ns = |t: Instant| t.duration_since(start).as_nanos() as u64;
    let on_pass = |p: Pass| {
        bytes.fetch_add(p.bytes, Ordering::Relaxed);
        FIRST_DATA_NS.fetch_min(ns(p.began), Ordering::Relaxed);
        LAST_DATA_NS.fetch_max(ns(p.ended), Ordering::Relaxed);
    };
    match source {
        Opened::One(mut c) => c.copy_to(&mut sink, on_pass).map(|_| ()),
        Opened::Alternate(mut alt) => follow(&mut alt, &mut sink, &opts, on_pass).map(|_| ()),
    }
}

/// A CPU file opened for consumption.
enum Opened {
    One(Consumer),
    Alternate(Alternate),
}

/// Opens the file at `path` for `mode`, before any consumer thread starts:
/// a file held open stays readable after the channel closes, so a thread
/// that starts late (its CPU busy with the writers) still gets the data.
fn open(path: &Path, mode: ModeArg, opts: &Options) -> io::Result<Opened> {
    let lib_mode = match mode {
        ModeArg::Read => Mode::Read,
        ModeArg::Mmap => Mode::Mmap,
        ModeArg::Splice => Mode::Splice,
        ModeArg::Sendfile => Mode::Sendfile,
        ModeArg::Alternate => {
            let small = |n| Options {
                bufsize: n,
                ..opts.clone()
            };
            return Ok(Opened::Alternate(Alternate(
                Consumer::open(path, Mode::Read, small(100))?,
                Consumer::open(path, Mode::Read, small(37))?,
            )));
        }
    };
    Consumer::open(path, lib_mode, opts.clone()).map(Opened::One)
}

/// Where CPU `cpu`'s data go.
fn sink_for(args: &Args, cpu: u32, merged: &Option<Arc<Mutex<File>>>) -> io::Result<Sink> {
    Ok(match (&args.out, merged) {
        (Some(o), _) => Sink::file(
            OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(o.join(format!("{}{cpu}", args.base)))?,
        ),
        (None, Some(m)) => Sink::writer(Merged(m.clone())),
        // Discarded, without a copy where the mode allows (splice and
        // sendfile into /dev/null).
        (None, None) => Sink::file(File::create("/dev/null")?),
    })
}

/// The progress line: MB per CPU, the total and its rate.
fn progress(counters: &[(u32, Arc<AtomicU64>)], start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    let mut total = 0;
    let mut per_cpu = String::new();
    for (cpu, b) in counters {
        let b = b.load(Ordering::Relaxed);
        total += b;
        per_cpu += &format!(" cpu{cpu} {:.1}", b as f64 / 1e6);
    }
    eprint!(
        "\rrelay-read: {:.1} MB in {secs:.1} s, {:.1} MB/s;{per_cpu} MB  ",
        total as f64 / 1e6,
        total as f64 / 1e6 / secs.max(1e-9)
    );
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mode = args.mode;
    if mode == ModeArg::Sendfile && args.merged.is_some() {
        eprintln!("relay-read: sendfile writes to files only: use --out, not --merged");
        return ExitCode::from(2);
    }
    let opts = Options {
        bufsize: args.bufsize as usize,
        idle_timeout: args.idle_exit.map(Duration::from_millis),
        pause: Duration::from_millis(args.pause),
        stop: Some(sigint_flag()),
        ..Options::default()
    };
    let files = cpu_files(&args.dir, &args.base).unwrap_or_default();
    if files.is_empty() {
        eprintln!(
            "relay-read: no {}/{}<cpu> files",
            args.dir.display(),
            args.base
        );
        return ExitCode::FAILURE;
    }
    // The stats file goes with the channel: keep the last snapshot taken
    // while it was open.
    let stats_file = stats_path(&args.dir, &args.base);
    let read_stats = || args.stats.then(|| Stats::read(&stats_file).ok()).flatten();
    let mut last_stats = read_stats();
    let merged = args
        .merged
        .as_ref()
        .map(|m| Arc::new(Mutex::new(File::create(m).expect("merged output"))));
    if let Some(o) = &args.out {
        let _ = fs::create_dir_all(o);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    let mut counters = Vec::new();
    let mut opened = Vec::new();
    for (cpu, path) in files {
        match open(&path, mode, &opts) {
            Ok(o) => opened.push((cpu, o)),
            Err(e) => {
                eprintln!("relay-read: cpu {cpu}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    for (cpu, source) in opened {
        let bytes = Arc::new(AtomicU64::new(0));
        counters.push((cpu, bytes.clone()));
        let sink = sink_for(&args, cpu, &merged).expect("output file");
        let opts = opts.clone();
        handles.push(thread::spawn(move || {
            if let Err(e) = consume(source, sink, opts, &bytes, start) {
                eprintln!("relay-read: cpu {cpu}: {e}");
                return false;
            }
            true
        }));
    }
    let tty = io::stderr().is_terminal();
    while handles.iter().any(|h| !h.is_finished()) {
        thread::sleep(Duration::from_millis(200));
        if let Some(s) = read_stats() {
            last_stats = Some(s);
        }
        if tty {
            progress(&counters, start);
        }
    }
    let ok = handles.into_iter().all(|h| h.join().unwrap_or(false));
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    if tty {
        eprintln!();
    }
    println!(
        "{:>4} {:>12} {:>10}  (mode {:?})",
        "cpu", "bytes", "MB/s", mode
    );
    let mut total = 0;
    for (cpu, b) in &counters {
        let b = b.load(Ordering::Relaxed);
        total += b;
        println!("{cpu:>4} {b:>12} {:>10.2}", b as f64 / 1e6 / secs);
    }
    println!(
        "total {total} bytes in {secs:.2} s ({:.2} MB/s)",
        total as f64 / 1e6 / secs
    );
    if args.bench {
        // From the first data to the last: waiting for writers to start
        // and the idle tail are not reading. The CPU time is what reading
        // cost, however long the readers waited for the writers.
        let last = LAST_DATA_NS.load(Ordering::Relaxed);
        let first = FIRST_DATA_NS.load(Ordering::Relaxed).min(last);
        let busy = (last - first) as f64 / 1e9;
        println!(
            "BENCH bytes={total} secs={:.6} cpu={:.6}",
            busy.max(1e-9),
            relay_consumer::process_cpu_time().as_secs_f64()
        );
    }
    if args.stats {
        if let Some(s) = &last_stats {
            println!("channel lost_full {}", s.lost_full);
            println!("channel lost_big {}", s.lost_big);
            println!("channel overwritten {}", s.overwritten);
            println!("channel overwritten_partial {}", s.overwritten_partial);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
