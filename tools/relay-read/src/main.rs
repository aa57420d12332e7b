// SPDX-License-Identifier: GPL-2.0

//! relay-read: consumes every per-CPU file of a relay_rs channel
//! concurrently, a thread each, poll-driven, with read(2), mmap(2),
//! splice(2) or sendfile(2) (the relay-consumer library), until the channel
//! is closed and drained, goes idle or Ctrl-C; then prints what each CPU's
//! buffer gave and, on request, the channel's losses. `relay-read --help`
//! explains every option.

use clap::{Parser, ValueEnum};
use relay_consumer::{
    cpu_files, follow, monotonic_ns, poll, sigint_flag, stats_path, Consumer, Mode, Options, Pass,
    Records, Sink, Source, Stats,
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

    /// Set the channel's delivery interval to MS milliseconds (the ioctl
    /// RELAY_RS_IOC_DELIVERY; 0 turns it off; it stays set when relay-read
    /// exits) and rely on poll(2): a thread reads only when poll reports
    /// data or the hang-up, which the kernel now does within MS (plus a
    /// timer tick) of a record being written, even if no sub-buffer
    /// completes. At the end it prints, per CPU, the delivery delay of the
    /// records that carry a timestamp (the samples' timestamps=1) in read
    /// mode, and how often poll woke it with data, woke it without
    /// (spurious: nothing to read) or timed out. Modes read, splice and
    /// sendfile.
    #[arg(long, value_name = "MS")]
    latency: Option<u64>,
}

/// What a thread saw with `--latency`.
#[derive(Default)]
struct Delivery {
    /// Timestamped records read.
    records: u64,
    /// Their delivery delays, summed and the largest, in ns.
    sum_ns: u64,
    max_ns: u64,
    /// poll(2) returns that found data, that found none (no hang-up), and
    /// poll timeouts.
    woken: u64,
    empty: u64,
    timeouts: u64,
}

impl Delivery {
    fn add(&mut self, other: &Delivery) {
        self.records += other.records;
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
        self.woken += other.woken;
        self.empty += other.empty;
        self.timeouts += other.timeouts;
    }

    fn print(&self, who: &str) {
        let ms = |ns: u64| ns as f64 / 1e6;
        println!(
            "latency {who}records {} max_ms {:.3} mean_ms {:.3} woken {} empty {} timeouts {}",
            self.records,
            ms(self.max_ns),
            ms(self.sum_ns / self.records.max(1)),
            self.woken,
            self.empty,
            self.timeouts
        );
    }
}

/// The length of the sample record at the head of a stream (its header's
/// `len`), for [`Records`].
fn record_len(head: &[u8]) -> Option<usize> {
    let len = head.get(4..8)?;
    Some((u32::from_le_bytes(len.try_into().ok()?) as usize).max(1))
}

/// `RRS_MAGIC_TS` of `samples/relay_rs_sample_record.h`: a timestamped record.
const MAGIC_TS: u32 = 0x3154_5252;

/// `--latency` in read mode: passes the data on to `inner` and measures the
/// delivery delay of each timestamped record (RRT1: its `__le64` after the
/// 24-byte header is the `CLOCK_MONOTONIC` time it was written).
struct Timed {
    inner: Box<dyn Write + Send>,
    records: Records<fn(&[u8]) -> Option<usize>>,
    delivery: Arc<Mutex<Delivery>>,
}

impl Write for Timed {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let now = monotonic_ns();
        self.inner.write_all(data)?;
        self.records.push(data);
        let mut d = self.delivery.lock().unwrap();
        while let Some(r) = self.records.next_record() {
            let (Some(magic), Some(ts)) = (r.get(0..4), r.get(24..32)) else {
                continue;
            };
            if u32::from_le_bytes(magic.try_into().unwrap()) != MAGIC_TS {
                continue;
            }
            let delay = now.saturating_sub(u64::from_le_bytes(ts.try_into().unwrap()));
            d.records += 1;
            d.sum_ns += delay;
            d.max_ns = d.max_ns.max(delay);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `--latency`: reads only when poll(2) reports data or the hang-up (the
/// timeout is only for `--idle-exit` and Ctrl-C), counting the wake-ups.
fn consume_polled(
    c: &mut Consumer,
    sink: &mut Sink,
    opts: &Options,
    delivery: &Mutex<Delivery>,
    mut on_pass: impl FnMut(Pass),
) -> io::Result<()> {
    let stopped = || opts.stop.is_some_and(|f| f.load(Ordering::Relaxed));
    let mut last_data = Instant::now();
    loop {
        let ms = opts.poll_interval.as_millis().min(i32::MAX as u128) as i32;
        let rev = match poll(c.poll_fd(), POLLIN, ms) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        let hup = rev & (POLLHUP | POLLERR) != 0;
        if rev == 0 {
            delivery.lock().unwrap().timeouts += 1;
        } else {
            let began = Instant::now();
            let n = c.drain_now(sink)?;
            if n > 0 {
                last_data = Instant::now();
                on_pass(Pass {
                    bytes: n,
                    began,
                    ended: last_data,
                });
                delivery.lock().unwrap().woken += 1;
            } else if !hup {
                delivery.lock().unwrap().empty += 1;
            } else {
                return Ok(());
            }
        }
        if stopped() {
            c.drain_now(sink)?;
            return Ok(());
        }
        if opts.idle_timeout.is_some_and(|d| last_data.elapsed() > d) {
            return Ok(());
        }
    }
}

/// `POLLIN`, `POLLERR`, `POLLHUP` (`<poll.h>`).
const POLLIN: i16 = 0x1;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;

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
    delivery: Option<&Mutex<Delivery>>,
) -> io::Result<()> {
    let ns = |t: Instant| t.duration_since(start).as_nanos() as u64;
    let on_pass = |p: Pass| {
        bytes.fetch_add(p.bytes, Ordering::Relaxed);
        FIRST_DATA_NS.fetch_min(ns(p.began), Ordering::Relaxed);
        LAST_DATA_NS.fetch_max(ns(p.ended), Ordering::Relaxed);
    };
    match source {
        Opened::One(mut c) => match delivery {
            Some(d) => consume_polled(&mut c, &mut sink, &opts, d, on_pass),
            None => c.copy_to(&mut sink, on_pass).map(|_| ()),
        },
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

/// Where CPU `cpu`'s data go, as a writer (`--latency` in read mode).
fn writer_for(
    args: &Args,
    cpu: u32,
    merged: &Option<Arc<Mutex<File>>>,
) -> io::Result<Box<dyn Write + Send>> {
    Ok(match (&args.out, merged) {
        (Some(o), _) => Box::new(File::create(o.join(format!("{}{cpu}", args.base)))?),
        (None, Some(m)) => Box::new(Merged(m.clone())),
        (None, None) => Box::new(io::sink()),
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
    if args.latency.is_some() && matches!(mode, ModeArg::Mmap | ModeArg::Alternate) {
        eprintln!("relay-read: --latency is for modes read, splice and sendfile");
        return ExitCode::from(2);
    }
    let opts = Options {
        bufsize: args.bufsize as usize,
        idle_timeout: args.idle_exit.map(Duration::from_millis),
        pause: Duration::from_millis(args.pause),
        stop: Some(sigint_flag()),
        // --latency relies on poll(2): its timeout only serves --idle-exit
        // and Ctrl-C, and reads nothing.
        poll_interval: Duration::from_millis(if args.latency.is_some() { 1000 } else { 100 }),
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
    if let (Some(ms), Some((cpu, Opened::One(c)))) = (args.latency, opened.first()) {
        // One file sets it for the whole channel.
        if let Err(e) = c.set_delivery_interval(ms) {
            eprintln!("relay-read: cpu {cpu}: delivery interval {ms} ms: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut deliveries = Vec::new();
    for (cpu, source) in opened {
        let bytes = Arc::new(AtomicU64::new(0));
        counters.push((cpu, bytes.clone()));
        let mut sink = sink_for(&args, cpu, &merged).expect("output file");
        let delivery = args
            .latency
            .map(|_| Arc::new(Mutex::new(Delivery::default())));
        if let Some(d) = &delivery {
            deliveries.push((cpu, d.clone()));
            if mode == ModeArg::Read {
                sink = Sink::writer(Timed {
                    inner: writer_for(&args, cpu, &merged).expect("output file"),
                    records: Records::new(record_len as fn(&[u8]) -> Option<usize>),
                    delivery: d.clone(),
                });
            }
        }
        let opts = opts.clone();
        handles.push(thread::spawn(move || {
            if let Err(e) = consume(source, sink, opts, &bytes, start, delivery.as_deref()) {
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
    if args.latency.is_some() {
        let mut total = Delivery::default();
        for (cpu, d) in &deliveries {
            let d = d.lock().unwrap();
            d.print(&format!("cpu {cpu} "));
            total.add(&d);
        }
        total.print("");
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
