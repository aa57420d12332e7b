// SPDX-License-Identifier: GPL-2.0

//! A Rust client of relay_rs written from its documentation alone (docs/api.md,
//! the module documentation and doc comments of include/relay_rs/).
//!
//! On load it opens a per-CPU channel (`docrs<cpu>`) and a global one
//! (`docrs_g0`), runs one writer per online CPU (a `kernel::workqueue` item
//! queued on that CPU) which writes both channels with `write`, with
//! `producer()` + `reserve()` and with `Producer::write`, and sends IPIs to
//! the next CPU whose handlers write both channels from hard interrupt
//! context (where `producer()` must be `None`). Every record carries its
//! stream, CPU, sequence number, length and a checksum; every attempt is
//! counted per stream, so a reader can check written = read + lost. When
//! the writers are done the channels are flushed and a summary goes to the
//! kernel log; the channels stay open (readable) until the module unloads.
//!
//! Record layout (little-endian):
//!   0 u32 magic "DRS1"   4 u16 stream (kind << 8 | writer cpu)  6 u16 cpu
//!   8 u64 seq           16 u32 length   20 u32 FNV-1a of bytes 0..20, 24..len
//!  24.. payload: byte i = seq + 31 * i + stream

use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::workqueue::{new_work, RawWorkItem, Work, WorkItem};
use kernel::{bindings, c_str};

#[path = "../../include/relay_rs/mod.rs"]
pub mod relay_rs;

module! {
    type: RustApiClient,
    name: "rust_api_client",
    description: "relay_rs Rust API client written from the documentation",
    license: "GPL",
}

/// Loop iterations per writer (6.12's `module!` has no parameters).
const ITERATIONS: u32 = 3000;

const MAGIC: u32 = 0x3153_5244; // "DRS1"
const HDR: usize = 24;
const MAX_REC: usize = HDR + 200;
const MAX_CPUS: usize = 64;
/// Stream kinds: a CPU's worker (process context) and its IPI handler.
const KIND_TASK: usize = 1;
const KIND_IRQ: usize = 2;
const NSTREAMS: usize = 3 * MAX_CPUS;

const SUBBUF: usize = 4096;
const PCPU_SUBBUFS: usize = 8;
const GLOBAL_SUBBUFS: usize = 16;

/// Per-CPU channel callbacks: relay's defaults.
struct PerCpu;
impl relay_rs::Callbacks for PerCpu {
    type Data = ();
}

/// Global channel: default no-overwrite policy, counting switches.
struct Global;
impl relay_rs::Callbacks for Global {
    type Data = AtomicUsize;
    const GLOBAL: bool = true;
    fn subbuf_start(switch: &mut relay_rs::SubbufStart<'_, Self>) -> bool {
        switch.data().fetch_add(1, Ordering::Relaxed);
        !switch.is_full()
    }
}

/// What the client counts for one channel.
struct Counts {
    /// Attempts per stream; the value before the increment is the seq.
    attempted: [AtomicUsize; NSTREAMS],
    /// `reserve` returned `None` (the record was dropped, per the docs).
    reserve_none: AtomicUsize,
    /// `producer()` returned `None` in process context, interrupts on.
    producer_none: AtomicUsize,
}

impl Counts {
    fn new() -> Self {
        Self {
            attempted: [const { AtomicUsize::new(0) }; NSTREAMS],
            reserve_none: AtomicUsize::new(0),
            producer_none: AtomicUsize::new(0),
        }
    }

    fn next_seq(&self, stream: usize) -> u64 {
        self.attempted[stream].fetch_add(1, Ordering::Relaxed) as u64
    }

    fn total(&self) -> usize {
        self.attempted
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .sum()
    }
}

struct State {
    pcpu: relay_rs::Channel<PerCpu>,
    global: relay_rs::Channel<Global>,
    counts: [Counts; 2],
    /// Rule violations seen: `producer()` was `Some` in hard interrupt
    /// context or inside another producer.
    violations: AtomicUsize,
    /// Records written from a live reservation's scope with `write`.
    nested_writes: AtomicUsize,
    /// Reservations of more than a sub-buffer (expected `None`).
    big_attempts: AtomicUsize,
    ipis: AtomicUsize,
}

fn fnv1a(h: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

fn rec_len(stream: usize, seq: u64) -> usize {
    HDR + ((seq as usize).wrapping_mul(37).wrapping_add(stream * 11)) % (MAX_REC - HDR + 1)
}

/// Fills a record of `buf.len()` bytes in place.
fn fill(buf: &mut [u8], stream: usize, cpu: u32, seq: u64) {
    let len = buf.len();
    buf[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    buf[4..6].copy_from_slice(&(stream as u16).to_le_bytes());
    buf[6..8].copy_from_slice(&(cpu as u16).to_le_bytes());
    buf[8..16].copy_from_slice(&seq.to_le_bytes());
    buf[16..20].copy_from_slice(&(len as u32).to_le_bytes());
    for (i, b) in buf[HDR..].iter_mut().enumerate() {
        *b = (seq as usize + 31 * i + stream) as u8;
    }
    let h = fnv1a(fnv1a(0x811c_9dc5, &buf[0..20]), &buf[HDR..]);
    buf[20..24].copy_from_slice(&h.to_le_bytes());
}

extern "C" {
    /// relay_rs' export (docs/api.md): the current CPU.
    fn relay_rs_this_cpu() -> u32;
}

fn this_cpu() -> u32 {
    // SAFETY: FFI call without preconditions (callers are pinned to a CPU:
    // a bound kworker, a producer, or an IPI handler).
    unsafe { relay_rs_this_cpu() }
}

const PCPU: usize = 0;
const GLOB: usize = 1;

impl State {
    /// `Channel::write` of one record of `stream` to channel `which`.
    fn write_rec(&self, which: usize, stream: usize, cpu: u32) {
        let seq = self.counts[which].next_seq(stream);
        let mut rec = [0u8; MAX_REC];
        let rec = &mut rec[..rec_len(stream, seq)];
        fill(rec, stream, cpu, seq);
        match which {
            PCPU => self.pcpu.write(rec),
            _ => self.global.write(rec),
        }
    }

    /// One loop iteration of the worker of `cpu` (process context).
    fn task_iteration(&self, cpu: u32, i: u32) {
        let stream = KIND_TASK * MAX_CPUS + cpu as usize;
        match i % 4 {
            0 => {
                self.write_rec(PCPU, stream, cpu);
                self.write_rec(GLOB, stream, cpu);
            }
            1 => {
                // Fill in place through a per-CPU producer; every few
                // iterations write a record from inside the reservation's
                // scope (documented: it lands or is counted as full) and
                // check that no second producer is handed out.
                let Some(mut p) = self.pcpu.producer() else {
                    self.counts[PCPU]
                        .producer_none
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let seq = self.counts[PCPU].next_seq(stream);
                let len = rec_len(stream, seq);
                match p.reserve(len) {
                    Some(mut slot) => {
                        fill(&mut slot, stream, this_cpu(), seq);
                        if i % 16 == 1 {
                            self.write_rec(PCPU, stream, this_cpu());
                            self.nested_writes.fetch_add(1, Ordering::Relaxed);
                        }
                        if self.global.producer().is_some() || self.pcpu.producer().is_some() {
                            self.violations.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    None => {
                        self.counts[PCPU]
                            .reserve_none
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Producer::write (`__relay_write`), after the commit.
                let seq = self.counts[PCPU].next_seq(stream);
                let mut rec = [0u8; MAX_REC];
                let rec = &mut rec[..rec_len(stream, seq)];
                fill(rec, stream, this_cpu(), seq);
                p.write(rec);
            }
            2 => {
                let Some(mut p) = self.global.producer() else {
                    self.counts[GLOB]
                        .producer_none
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let seq = self.counts[GLOB].next_seq(stream);
                match p.reserve(rec_len(stream, seq)) {
                    Some(mut slot) => fill(&mut slot, stream, this_cpu(), seq),
                    None => {
                        self.counts[GLOB]
                            .reserve_none
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }; // ends the reservation's borrow of `p` (edition 2021)
            }
            _ => {
                // Interrupt the next CPU: its handler writes both channels.
                // Never while a producer of ours is alive (interrupts are
                // on here, as smp_call_function_single() requires).
                if i % 32 == 3 {
                    let n = online_cpus();
                    let target = next_online(cpu, n);
                    // `wait` is an `int` on 6.12, a `bool` on 7.3.
                    #[allow(clippy::useless_conversion)]
                    let wait = true.into();
                    // SAFETY: `self` outlives the call (wait = 1) and the
                    // handler only takes a shared reference.
                    let r = unsafe {
                        bindings::smp_call_function_single(
                            target as i32,
                            Some(ipi_handler),
                            core::ptr::from_ref(self).cast_mut().cast::<c_void>(),
                            wait,
                        )
                    };
                    if r == 0 {
                        self.ipis.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // A record bigger than a sub-buffer: refused and counted.
                if i % 512 == 3 {
                    if let Some(mut p) = self.pcpu.producer() {
                        self.big_attempts.fetch_add(1, Ordering::Relaxed);
                        let _ = self.counts[PCPU].next_seq(stream);
                        if p.reserve(SUBBUF + 1).is_some() {
                            self.violations.fetch_add(1, Ordering::Relaxed);
                        } else {
                            self.counts[PCPU]
                                .reserve_none
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                self.write_rec(PCPU, stream, cpu);
            }
        }
    }

    /// Hard interrupt context on this CPU.
    fn irq_writes(&self) {
        let cpu = this_cpu();
        let stream = KIND_IRQ * MAX_CPUS + cpu as usize;
        if self.pcpu.producer().is_some() || self.global.producer().is_some() {
            self.violations.fetch_add(1, Ordering::Relaxed);
        }
        for _ in 0..4 {
            self.write_rec(PCPU, stream, cpu);
            self.write_rec(GLOB, stream, cpu);
        }
    }
}

/// The IPI's writes: both channels with `write`, where `producer()` must
/// be `None` (interrupts are off).
///
/// # Safety
///
/// `info` is a live `State`, kept by the sender for the call (wait = 1).
unsafe extern "C" fn ipi_handler(info: *mut c_void) {
    // SAFETY: `info` is the `&State` the sender keeps alive (wait = 1).
    let state = unsafe { &*(info as *const State) };
    state.irq_writes();
}

fn cpu_online(cpu: u32) -> bool {
    let w = cpu as usize / 64;
    // SAFETY: reading the exported online mask (a racy snapshot, which is
    // what cpu_online() gives too).
    let bits = unsafe {
        core::ptr::read_volatile(core::ptr::addr_of!(bindings::__cpu_online_mask.bits[w]))
    };
    bits & (1 << (cpu % 64)) != 0
}

fn online_cpus() -> u32 {
    // SAFETY: an exported read-only variable.
    let n = unsafe { bindings::nr_cpu_ids };
    n.min(MAX_CPUS as u32)
}

fn next_online(cpu: u32, n: u32) -> u32 {
    let mut c = cpu;
    for _ in 0..n {
        c = (c + 1) % n;
        if cpu_online(c) {
            return c;
        }
    }
    cpu
}

#[pin_data]
struct Writer {
    #[pin]
    work: Work<Writer>,
    state: Arc<State>,
    cpu: u32,
    iterations: u32,
}

kernel::impl_has_work! {
    impl HasWork<Self> for Writer { self.work }
}

impl WorkItem for Writer {
    type Pointer = Arc<Writer>;

    fn run(this: Arc<Writer>) {
        for i in 0..this.iterations {
            this.state.task_iteration(this.cpu, i);
        }
    }
}

struct RustApiClient {
    state: Arc<State>,
}

fn summary(state: &State) {
    use relay_rs::{STATS_BUF_FULL, STATS_OVERWRITTEN, STATS_WRT_BIG};
    for (which, name) in [(PCPU, "docrs"), (GLOB, "docrs_g")] {
        let (full, big, over, all) = match which {
            PCPU => (
                state.pcpu.lost(STATS_BUF_FULL),
                state.pcpu.lost(STATS_WRT_BIG),
                state.pcpu.lost(STATS_OVERWRITTEN),
                state
                    .pcpu
                    .lost(STATS_BUF_FULL | STATS_WRT_BIG | STATS_OVERWRITTEN),
            ),
            _ => (
                state.global.lost(STATS_BUF_FULL),
                state.global.lost(STATS_WRT_BIG),
                state.global.lost(STATS_OVERWRITTEN),
                state
                    .global
                    .lost(STATS_BUF_FULL | STATS_WRT_BIG | STATS_OVERWRITTEN),
            ),
        };
        let c = &state.counts[which];
        pr_info!(
            "chan {} attempted {} lost {} lost_full {} lost_big {} overwritten {} reserve_none {} producer_none {}\n",
            name,
            c.total(),
            all,
            full,
            big,
            over,
            c.reserve_none.load(Ordering::Relaxed),
            c.producer_none.load(Ordering::Relaxed)
        );
        for (s, a) in c.attempted.iter().enumerate() {
            let a = a.load(Ordering::Relaxed);
            if a != 0 {
                pr_info!("stream {} {} attempted {}\n", name, s, a);
            }
        }
    }
    pr_info!(
        "violations {} nested_writes {} big_attempts {} ipis {} global_switches {}\n",
        state.violations.load(Ordering::Relaxed),
        state.nested_writes.load(Ordering::Relaxed),
        state.big_attempts.load(Ordering::Relaxed),
        state.ipis.load(Ordering::Relaxed),
        state.global.data().load(Ordering::Relaxed)
    );
}

impl kernel::Module for RustApiClient {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let pcpu =
            relay_rs::Channel::<PerCpu>::open(Some(c_str!("docrs")), SUBBUF, PCPU_SUBBUFS, ())?;
        let global = relay_rs::Channel::<Global>::open(
            Some(c_str!("docrs_g")),
            SUBBUF,
            GLOBAL_SUBBUFS,
            AtomicUsize::new(0),
        )?;
        let state = Arc::new(
            State {
                pcpu,
                global,
                counts: [Counts::new(), Counts::new()],
                violations: AtomicUsize::new(0),
                nested_writes: AtomicUsize::new(0),
                big_attempts: AtomicUsize::new(0),
                ipis: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        )?;

        let iterations = ITERATIONS;
        let mut writers = KVec::new();
        for cpu in 0..online_cpus() {
            if !cpu_online(cpu) {
                continue;
            }
            let st = state.clone();
            let w = Arc::pin_init(
                pin_init!(Writer {
                    work <- new_work!("rust_api_client::Writer"),
                    state: st,
                    cpu,
                    iterations,
                }),
                GFP_KERNEL,
            )?;
            writers.push(w, GFP_KERNEL)?;
        }
        for w in writers.iter() {
            // SAFETY: the closure calls queue_work_on() on the system
            // workqueue, which runs the item on `w.cpu` (a bound worker);
            // `__enqueue` keeps the item alive until it has run.
            let r = unsafe {
                w.clone().__enqueue(|work| {
                    bindings::queue_work_on(w.cpu as i32, bindings::system_wq, work)
                })
            };
            if r.is_err() {
                pr_err!("could not queue the writer of CPU {}\n", w.cpu);
            }
        }
        for w in writers.iter() {
            // SAFETY: the work item is alive (we hold a reference).
            unsafe { bindings::flush_work(Work::raw_get(core::ptr::addr_of!(w.work))) };
        }
        drop(writers);

        state.pcpu.flush();
        state.global.flush();
        summary(&state);
        pr_info!("done\n");
        Ok(Self { state })
    }
}

impl Drop for RustApiClient {
    fn drop(&mut self) {
        // The channels close when the last reference to the state drops.
        pr_info!(
            "closing (lost {})\n",
            self.state.pcpu.lost(relay_rs::STATS_BUF_FULL)
        );
    }
}
