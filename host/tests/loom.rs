// SPDX-License-Identifier: GPL-2.0

//! A loom model of one relay buffer's producer and its readers, over the
//! ring protocol as shipped: `buffer/ring.rs` compiled here with loom's
//! atomics (`--cfg loom`), so that loom explores every interleaving of the
//! producer's and the readers' steps (up to a preemption bound) and every
//! value a load may return under the C++ memory model.
//!
//! The ring memory is loom atomic cells too, stored and loaded `Relaxed`
//! as the kernel's plain copies are: only the counters' orderings make a
//! reader see the bytes the producer wrote. Each cell holds a word that
//! names the lap (sub-buffer count) and the record it was written for, and
//! its index in the record, so a reader's copy that is stale (the bytes of
//! the previous lap, or never written: an unfilled reservation), torn (the
//! next lap began over it) or cut wrongly shows.
//!
//! Checked in every execution: every run that `consume_run` accepts holds
//! only cells of its own sub-buffer and lap, each of a record the producer
//! had completely written, continuing the previous run exactly; records
//! are delivered whole, in order and at most once; a no-overwrite copy is
//! never dropped; the overwrite count never goes down; and at the end,
//! written = delivered + lost (full, too big) + overwritten, exactly but
//! for the over-count bound a lapped partial read reports.
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom` (with
//! its own `CARGO_TARGET_DIR`); `LOOM_MAX_PREEMPTIONS` overrides the bound.
#![cfg(loom)]

// The model calls only part of the ring's API.
#[allow(dead_code)]
#[path = "../../buffer/ring.rs"]
mod ring;

use loom::{
    model::Builder,
    sync::{
        atomic::{AtomicUsize, Ordering::Relaxed},
        Arc, Mutex,
    },
    thread,
};
use ring::{Counters, Geometry, Ring, Run, SwitchHooks, NO_RESERVATION};

/// The counters of one `rchan_buf`, as loom atomics.
struct Cells {
    data: AtomicUsize,
    offset: AtomicUsize,
    committed: AtomicUsize,
    written: AtomicUsize,
    index: AtomicUsize,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    bytes_consumed: AtomicUsize,
    prev_padding: AtomicUsize,
    padding: Vec<AtomicUsize>,
    starts: Vec<AtomicUsize>,
    header: AtomicUsize,
    base: AtomicUsize,
    overwritten: AtomicUsize,
    partial: AtomicUsize,
    read_end: AtomicUsize,
    seq: AtomicUsize,
}

impl Cells {
    fn new(n: usize) -> Self {
        let z = || (0..n).map(|_| AtomicUsize::new(0)).collect();
        let a = || AtomicUsize::new(0);
        Cells {
            data: a(),
            offset: a(),
            committed: AtomicUsize::new(NO_RESERVATION),
            written: a(),
            index: a(),
            produced: a(),
            consumed: a(),
            bytes_consumed: a(),
            prev_padding: a(),
            padding: z(),
            starts: z(),
            header: a(),
            base: a(),
            overwritten: a(),
            partial: a(),
            read_end: a(),
            seq: a(),
        }
    }

    fn ring(&self, geo: Geometry) -> Ring<'_> {
        Ring::new(
            geo,
            Counters {
                start: 0,
                data: &self.data,
                offset: &self.offset,
                committed: &self.committed,
                produced: &self.produced,
                consumed: &self.consumed,
                bytes_consumed: &self.bytes_consumed,
                prev_padding: &self.prev_padding,
                padding: &self.padding,
                index: &self.index,
                written: &self.written,
                starts: &self.starts,
                header: &self.header,
                base: &self.base,
                overwritten: &self.overwritten,
                partial: &self.partial,
                read_end: &self.read_end,
                seq: &self.seq,
            },
        )
    }
}

/// What a ring cell holds: the lap (sub-buffer count) and the record it
/// was written for, the record's length and the cell's index in it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    lap: usize,
    seq: usize,
    len: usize,
    i: usize,
}

const WRITTEN: usize = 1 << 63;

impl Cell {
    fn word(self) -> usize {
        WRITTEN | self.lap << 24 | self.seq << 16 | self.len << 8 | self.i
    }

    /// `None` for a cell never written.
    fn of(w: usize) -> Option<Self> {
        (w & WRITTEN != 0).then_some(Cell {
            lap: (w >> 24) & 0xff_ffff,
            seq: (w >> 16) & 0xff,
            len: (w >> 8) & 0xff,
            i: w & 0xff,
        })
    }
}

/// One step of the producer's script.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// `room`, copy the record, then `wrote` (`relay_write`).
    Write(usize),
    /// `room`, `reserved`, then fill the slot (`relay_reserve`).
    Reserve(usize),
    /// `switch_subbuf(0)` (`relay_flush`): a switch with padding.
    Flush,
}

/// What the producer's hooks count.
#[derive(Default, Debug)]
struct Tally {
    /// Sub-buffers completed: the count of the current one.
    lap: usize,
    lost_full: usize,
    lost_big: usize,
}

struct Hooks<'a, 'r> {
    ring: &'a Ring<'r>,
    overwrite: bool,
    t: &'a mut Tally,
}

impl SwitchHooks for Hooks<'_, '_> {
    /// The default callback (no-overwrite) or a flight recorder's.
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        self.overwrite || !self.ring.is_full()
    }
    fn produced(&mut self, _: usize) {
        self.t.lap += 1;
    }
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _: usize) {
        self.t.lost_full += 1;
    }
    fn lost_too_big(&mut self, _: usize) {
        self.t.lost_big += 1;
    }
}

/// What the readers delivered so far (under the readers' lock).
#[derive(Default)]
struct Stream {
    /// The sub-buffer count and the offset the last accepted run ended at.
    at: Option<(usize, usize)>,
    /// The record being assembled: its first cell and the cells so far.
    rec: Option<(Cell, usize)>,
    /// The lowest record number that may come next.
    next_seq: usize,
    /// Records delivered whole.
    delivered: usize,
}

impl Stream {
    /// Takes the copy `cells` of an accepted run at ring offset `pos` of
    /// sub-buffer `lap`.
    fn take(&mut self, geo: Geometry, overwrite: bool, lap: usize, pos: usize, cells: &[usize]) {
        let ss = geo.subbuf_size();
        let off = pos % ss;
        assert_eq!(geo.index(lap), pos / ss, "run of sub-buffer {lap} at {pos}");
        match self.at {
            Some((k, end)) if k == lap => {
                assert_eq!(
                    off, end,
                    "run at {off} of sub-buffer {lap}, read up to {end}"
                )
            }
            at => {
                if let Some((k, _)) = at {
                    assert!(lap > k, "sub-buffer {lap} read after {k}");
                }
                assert_eq!(off, 0, "first run of sub-buffer {lap} at {off}");
                // A record never spans sub-buffers: one left unfinished
                // was cut by a lap.
                assert!(
                    overwrite || self.rec.is_none(),
                    "record {:?} cut without a lap",
                    self.rec
                );
                self.rec = None;
            }
        }
        self.at = Some((lap, off + cells.len()));
        for (j, &w) in cells.iter().enumerate() {
            let at = pos + j;
            let Some(c) = Cell::of(w) else {
                panic!("accepted run of sub-buffer {lap}: cell {at} never written");
            };
            assert_eq!(
                c.lap, lap,
                "accepted run of sub-buffer {lap}: cell {at} holds {c:?} (stale or torn copy)"
            );
            self.rec = match self.rec {
                Some((first, got)) => {
                    assert!(
                        c.seq == first.seq && c.i == got,
                        "cell {at}: {c:?} inside record {first:?} at {got}"
                    );
                    Some((first, got + 1))
                }
                None => {
                    assert_eq!(c.i, 0, "cell {at}: {c:?} starts no record");
                    assert!(
                        c.seq >= self.next_seq,
                        "record {} out of order or twice (next {})",
                        c.seq,
                        self.next_seq
                    );
                    self.next_seq = c.seq + 1;
                    Some((c, 1))
                }
            };
            if let Some((first, got)) = self.rec {
                if got == first.len {
                    self.delivered += 1;
                    self.rec = None;
                }
            }
        }
    }
}

/// The sub-buffer count a run is in (private to the ring: from its Debug).
fn lap_of(run: &Run) -> usize {
    let d = format!("{run:?}");
    d.split("subbuf: ")
        .nth(1)
        .and_then(|t| {
            t.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("`{d}`: Run's Debug no longer shows `subbuf`"))
}

/// With `LOOM_TRACE` set, each execution prints its steps.
fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LOOM_TRACE").is_some())
}

macro_rules! trace {
    ($($t:tt)*) => {
        if tracing() {
            println!("  {}", format_args!($($t)*));
        }
    };
}

struct Shared {
    geo: Geometry,
    overwrite: bool,
    cells: Cells,
    mem: Vec<AtomicUsize>,
    /// The readers' lock, and what they delivered.
    readers: Mutex<Stream>,
}

impl Shared {
    /// The consumers' counters, for a trace (under the readers' lock).
    fn consumer_state(&self) -> String {
        let c = &self.cells;
        // SAFETY: only consumers store these, under the readers' lock.
        let v = |a: &AtomicUsize| unsafe { a.unsync_load() };
        format!(
            "consumed {} +{}, base {}, overwritten {}, partial {}, read_end {}",
            v(&c.consumed),
            v(&c.bytes_consumed),
            v(&c.base),
            v(&c.overwritten),
            v(&c.partial),
            v(&c.read_end)
        )
    }

    fn ring(&self) -> Ring<'_> {
        self.cells.ring(self.geo)
    }

    /// The producer's step `op`, the `seq`-th of its script.
    fn produce(&self, seq: usize, op: Op, t: &mut Tally) {
        let ring = self.ring();
        let (len, reserve) = match op {
            Op::Write(len) => (len, false),
            Op::Reserve(len) => (len, true),
            Op::Flush => {
                ring.switch_subbuf(0, &mut self.hooks(&ring, t));
                trace!("producer: flush, {t:?}");
                return;
            }
        };
        let Some(pos) = ring.room(len, &mut self.hooks(&ring, t)) else {
            trace!("producer: {op:?} #{seq} dropped, {t:?}");
            return;
        };
        trace!("producer: {op:?} #{seq} at {pos}, {t:?}");
        assert!(pos + len <= self.mem.len(), "room past the ring");
        if reserve {
            ring.reserved(len);
        }
        for i in 0..len {
            let c = Cell {
                lap: t.lap,
                seq,
                len,
                i,
            };
            self.mem[pos + i].store(c.word(), Relaxed);
        }
        if !reserve {
            ring.wrote(len);
        }
    }

    fn hooks<'a, 'r>(&self, ring: &'a Ring<'r>, t: &'a mut Tally) -> Hooks<'a, 'r> {
        Hooks {
            ring,
            overwrite: self.overwrite,
            t,
        }
    }

    /// One `read()` step of at most `max` cells under the readers' lock:
    /// the next run, its copy, its check. False if nothing was readable.
    fn read(&self, max: usize) -> bool {
        let mut st = self.readers.lock().unwrap();
        let ring = self.ring();
        let Some(run) = ring.next_read(max) else {
            return false;
        };
        let (pos, len, lap) = (run.pos, run.len, lap_of(&run));
        assert!(len > 0 && len <= max && pos + len <= self.mem.len());
        let copy: Vec<usize> = self.mem[pos..pos + len]
            .iter()
            .map(|c| c.load(Relaxed))
            .collect();
        let intact = ring.consume_run(run);
        trace!(
            "reader: {len} at {pos} of sub-buffer {lap}: {:?} {}; {}",
            copy.iter().map(|&w| Cell::of(w)).collect::<Vec<_>>(),
            if intact { "accepted" } else { "dropped" },
            self.consumer_state()
        );
        if intact {
            st.take(self.geo, self.overwrite, lap, pos, &copy);
        } else {
            assert!(self.overwrite, "a no-overwrite copy was dropped");
        }
        true
    }
}

/// A model: a producer running `script` on a `ss` x `n` buffer, one
/// reader thread per entry of `readers` (its read size, in cells) making
/// `reads` reads each; `stats` readers also check the overwrite count.
struct Model {
    ss: usize,
    n: usize,
    overwrite: bool,
    script: &'static [Op],
    readers: &'static [usize],
    reads: usize,
    stats: bool,
    /// The preemption bound (`LOOM_MAX_PREEMPTIONS` overrides it).
    bound: usize,
}

std::thread_local! {
    /// Executions explored by this test thread (loom runs them all on it).
    static EXECUTIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Model {
    fn check(self, name: &str) {
        let mut b = Builder::new();
        b.preemption_bound = Some(b.preemption_bound.unwrap_or(self.bound));
        b.max_branches = 100_000;
        let m = std::sync::Arc::new(self);
        let before = EXECUTIONS.get();
        let t = std::time::Instant::now();
        b.check(move || m.run());
        let runs = EXECUTIONS.get() - before;
        println!(
            "loom {name}: {runs} executions in {:.1}s (preemption bound {})",
            t.elapsed().as_secs_f64(),
            b.preemption_bound.unwrap()
        );
    }

    /// One execution.
    fn run(&self) {
        EXECUTIONS.set(EXECUTIONS.get() + 1);
        trace!("execution");
        let geo = Geometry::new(self.ss, self.n).unwrap();
        let s = Arc::new(Shared {
            geo,
            overwrite: self.overwrite,
            cells: Cells::new(self.n),
            mem: (0..geo.ring_size()).map(|_| AtomicUsize::new(0)).collect(),
            readers: Mutex::new(Stream::default()),
        });
        let mut t = Tally::default();
        s.ring().reset(&mut s.hooks(&s.ring(), &mut t));
        let script = self.script;
        let producer = {
            let s = s.clone();
            thread::spawn(move || {
                for (seq, &op) in script.iter().enumerate() {
                    s.produce(seq, op, &mut t);
                }
                t
            })
        };
        let readers: Vec<_> = self
            .readers
            .iter()
            .map(|&max| {
                let (s, reads, stats) = (s.clone(), self.reads, self.stats);
                thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..reads {
                        s.read(max);
                        if stats {
                            let now = s.ring().overwritten();
                            assert!(now >= last, "overwritten went from {last} to {now}");
                            last = now;
                        }
                    }
                })
            })
            .collect();
        let mut t = producer.join().unwrap();
        for r in readers {
            r.join().unwrap();
        }
        // Alone now: complete the last sub-buffer, read everything left.
        s.produce(script.len(), Op::Flush, &mut t);
        let mut left = 0;
        while s.read(usize::MAX) {
            left += 1;
            assert!(left <= 2 * self.n + 2, "the final read does not end");
        }
        let st = s.readers.lock().unwrap();
        trace!(
            "end: delivered {}, overwritten {}, partial {}, {t:?}",
            st.delivered,
            s.ring().overwritten(),
            s.cells.partial.load(Relaxed)
        );
        let written = script.iter().filter(|op| !matches!(op, Op::Flush)).count();
        let over = s.ring().overwritten();
        // A record read in part and then lapped stays unfinished.
        assert!(
            st.rec.is_none() || over > 0,
            "record {:?} left unfinished",
            st.rec
        );
        let partial = s.cells.partial.load(Relaxed);
        let counted = st.delivered + t.lost_full + t.lost_big + over;
        assert!(
            (written..=written + partial).contains(&counted),
            "written {written} != delivered {} + lost {} full + {} too big + overwritten {over} \
             (partial {partial})",
            st.delivered,
            t.lost_full,
            t.lost_big
        );
        if !self.overwrite {
            assert_eq!(over, 0, "overwritten without overwrite");
        }
    }
}

use Op::*;

/// Writes that fill sub-buffers exactly, switches without padding, and the
/// no-overwrite default callback refusing the switch onto the full ring
/// unless the reader freed a sub-buffer first (the final flush retries it).
#[test]
fn write_and_refused_switch() {
    Model {
        ss: 2,
        n: 2,
        overwrite: false,
        script: &[Write(2), Write(2), Write(2)],
        readers: &[usize::MAX],
        reads: 1,
        stats: false,
        bound: 2,
    }
    .check("write_and_refused_switch");
}

/// Reservations filled after their claim: each is readable from the next
/// reservation (or switch) on, never before it is filled.
#[test]
fn reserve_then_fill() {
    Model {
        ss: 4,
        n: 2,
        overwrite: false,
        script: &[Reserve(2), Reserve(2), Reserve(2)],
        readers: &[usize::MAX],
        reads: 1,
        stats: false,
        bound: 2,
    }
    .check("reserve_then_fill");
}

/// Switches with padding, by a record that does not fit and by a flush, on
/// a ring whose sub-buffer count is not a power of two; a record too big
/// for any sub-buffer; a reader reading one cell at a time.
#[test]
fn switch_with_padding() {
    Model {
        ss: 3,
        n: 3,
        overwrite: false,
        script: &[Write(2), Write(2), Write(4), Flush],
        readers: &[1],
        reads: 1,
        stats: false,
        bound: 2,
    }
    .check("switch_with_padding");
}

/// Overwrite mode: the producer laps the reader, whose copy of a
/// sub-buffer being overwritten must be dropped and whose skipped records
/// are counted; a reservation in the middle.
#[test]
fn overwrite_lap() {
    Model {
        ss: 2,
        n: 2,
        overwrite: true,
        script: &[Write(2), Reserve(2), Write(2)],
        readers: &[usize::MAX],
        reads: 1,
        stats: false,
        bound: 2,
    }
    .check("overwrite_lap");
}

/// Overwrite mode, one sub-buffer: every switch laps it, under a reader
/// that reads a record in parts (a lap between its parts) and checks that
/// the overwrite count never goes down; the first record is a reservation.
#[test]
fn overwrite_lap_partial_reads() {
    Model {
        ss: 2,
        n: 1,
        overwrite: true,
        script: &[Reserve(2), Write(2)],
        readers: &[1],
        reads: 2,
        stats: true,
        bound: 2,
    }
    .check("overwrite_lap_partial_reads");
}

/// Overwrite mode with two concurrent readers under the readers' lock, one
/// cutting records into single cells. Preemption bound 1: at bound 2 this
/// one alone explores ~14 times as many executions.
#[test]
fn overwrite_two_readers() {
    Model {
        ss: 2,
        n: 1,
        overwrite: true,
        script: &[Reserve(2), Write(2)],
        readers: &[1, usize::MAX],
        reads: 1,
        stats: false,
        bound: 1,
    }
    .check("overwrite_two_readers");
}

/// Overwrite mode, two switches while a reader moves past the sub-buffer
/// it read: the overwrite count must still cover every record not
/// delivered.
///
/// Failed with the ring as first shipped (`written 3 != delivered 1 + ...
/// + overwritten 1`): `Ring::start_of`, for a sub-buffer `k` that looked
/// not begun, loaded `written`, then `produced` (`now`), then the slot
/// again. If the producer began `k` and then `k + n` between the load of
/// `now` (still `k`) and that slot load, the slot held `k + n`'s tag,
/// `k == now` read it as "not begun", and the count of records written so
/// far was taken for `k`'s start count: the consumer's `base` was too high
/// and the records of `k` went uncounted (possible under sequential
/// consistency too). Now the slot is loaded before `now` and that one
/// value judged against it.
#[test]
fn overwrite_count_across_two_switches() {
    Model {
        ss: 1,
        n: 1,
        overwrite: true,
        script: &[Write(1), Write(1), Write(1)],
        readers: &[usize::MAX],
        reads: 1,
        stats: false,
        bound: 1,
    }
    .check("overwrite_count_across_two_switches");
}
