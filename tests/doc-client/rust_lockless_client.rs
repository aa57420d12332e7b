// SPDX-License-Identifier: GPL-2.0

//! A Rust client of relay_rs' lockless channels written from the
//! documentation alone (README.md, docs/api.md, include/relay_rs.h and the
//! doc comments of include/relay_rs/).
//!
//! On load it opens a lockless global channel (`docll0`) and a lockless
//! per-CPU one (`docllp<cpu>`) and writes both with `Channel::reserve`
//! (filled in place, committed on drop) and `Channel::write`:
//!
//! - from the insmod task (process context, preemption on), with two
//!   reservations live at once and a write between them, committed in
//!   either order, one of them held across a `flush`;
//! - from an hrtimer pinned to the task's CPU (hard interrupt context,
//!   interrupts off), which nests in the task's writes and reservations;
//! - from IPI handlers on every CPU at once (`on_each_cpu_cond_mask`), with
//!   two live reservations and a write between them;
//! - plus a few records bigger than a sub-buffer, which must be counted as
//!   `STATS_WRT_BIG`.
//!
//! Every attempt is counted per channel; then both channels are flushed and
//! one summary line per channel goes to the kernel log, then `done`. The
//! channels stay open (readable) until the module unloads.
//!
//! Record layout (little-endian):
//!   0 u32 magic "DLL1"   4 u16 stream (kind << 8 | writer index)
//!   6 u16 path (0 write, 1 reserve)   8 u64 seq (per channel and stream)
//!  16 u32 length   20 u32 FNV-1a of bytes 0..20, 24..len
//!  24.. payload: byte i = seq + 31 * i + stream

use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use kernel::prelude::*;
use kernel::{bindings, c_str};

#[path = "../../include/relay_rs/mod.rs"]
pub mod relay_rs;

module! {
    type: RustLocklessClient,
    name: "rust_lockless_client",
    description: "relay_rs lockless Rust API client written from the documentation",
    license: "GPL",
}

const MAGIC: u32 = 0x314c_4c44; // "DLL1"
const HDR: usize = 24;
const MAX_REC: usize = HDR + 200;
const SUBBUF: usize = 4096;
const GLOBAL_SUBBUFS: usize = 64;
const PCPU_SUBBUFS: usize = 32;
/// Task loop iterations.
const ITERATIONS: u32 = 600;
/// IPI rounds (every CPU writes in each).
const IPI_ROUNDS: u32 = 150;
/// Timer period, ns.
const TIMER_NS: i64 = 100_000;

const KIND_TASK: usize = 1;
const KIND_TIMER: usize = 2;
const KIND_IPI: usize = 3;
const MAX_WRITERS: usize = 64;
/// Sequence counters: one per kind and writer index.
const NSTREAMS: usize = 4 * MAX_WRITERS;

const PATH_WRITE: u16 = 0;
const PATH_RESERVE: u16 = 1;

/// Zeros for records bigger than a sub-buffer (never stored).
static BIG: [u8; SUBBUF + 1] = [0; SUBBUF + 1];

struct LlGlobal;
impl relay_rs::Callbacks for LlGlobal {
    type Data = ();
    const GLOBAL: bool = true;
    const LOCKLESS: bool = true;
}

struct LlPerCpu;
impl relay_rs::Callbacks for LlPerCpu {
    type Data = ();
    const LOCKLESS: bool = true;
}

/// What one channel's writers count.
struct Counts {
    attempted: AtomicUsize,
    big_attempts: AtomicUsize,
    reserve_none: AtomicUsize,
    seq: [AtomicU64; NSTREAMS],
}

impl Counts {
    fn new() -> Self {
        Self {
            attempted: AtomicUsize::new(0),
            big_attempts: AtomicUsize::new(0),
            reserve_none: AtomicUsize::new(0),
            seq: [const { AtomicU64::new(0) }; NSTREAMS],
        }
    }
    fn next_seq(&self, stream: usize) -> u64 {
        self.attempted.fetch_add(1, Ordering::Relaxed);
        self.seq[(stream >> 8) * MAX_WRITERS + (stream & 0xff)].fetch_add(1, Ordering::Relaxed)
    }
}

struct State {
    global: relay_rs::Channel<LlGlobal>,
    pcpu: relay_rs::Channel<LlPerCpu>,
    counts: [Counts; 2],
    /// The task holds reservations (informational: nesting seen by the timer).
    task_in_res: AtomicBool,
    timer_nested: AtomicUsize,
    timer_runs: AtomicUsize,
    stop_timer: AtomicBool,
    /// Writer index within the current IPI round.
    ipi_ticket: AtomicUsize,
    ipi_runs: AtomicUsize,
}

static STATE: AtomicPtr<State> = AtomicPtr::new(core::ptr::null_mut());

fn fnv(h: u32, bytes: &[u8]) -> u32 {
    let mut h = h;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

fn rec_len(stream: usize, seq: u64) -> usize {
    HDR + ((seq as usize).wrapping_mul(7).wrapping_add(stream) % (MAX_REC - HDR + 1))
}

/// Fills `rec` (its whole length) as record `seq` of `stream`.
fn fill(rec: &mut [u8], stream: usize, path: u16, seq: u64) {
    let len = rec.len();
    rec[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    rec[4..6].copy_from_slice(&(stream as u16).to_le_bytes());
    rec[6..8].copy_from_slice(&path.to_le_bytes());
    rec[8..16].copy_from_slice(&seq.to_le_bytes());
    rec[16..20].copy_from_slice(&(len as u32).to_le_bytes());
    for (i, b) in rec[HDR..].iter_mut().enumerate() {
        *b = (seq as usize + 31 * i + stream) as u8;
    }
    let h = fnv(fnv(0x811c_9dc5, &rec[0..20]), &rec[HDR..]);
    rec[20..24].copy_from_slice(&h.to_le_bytes());
}

/// One channel, whatever its callbacks: what a writer needs.
trait Chan {
    fn write(&self, data: &[u8]);
    fn reserve(&self, len: usize) -> Option<relay_rs::LocklessReservation<'_>>;
}
impl Chan for relay_rs::Channel<LlGlobal> {
    fn write(&self, data: &[u8]) {
        relay_rs::Channel::write(self, data)
    }
    fn reserve(&self, len: usize) -> Option<relay_rs::LocklessReservation<'_>> {
        relay_rs::Channel::reserve(self, len)
    }
}
impl Chan for relay_rs::Channel<LlPerCpu> {
    fn write(&self, data: &[u8]) {
        relay_rs::Channel::write(self, data)
    }
    fn reserve(&self, len: usize) -> Option<relay_rs::LocklessReservation<'_>> {
        relay_rs::Channel::reserve(self, len)
    }
}

fn do_write(c: &dyn Chan, cnt: &Counts, stream: usize) {
    let seq = cnt.next_seq(stream);
    let mut rec = [0u8; MAX_REC];
    let len = rec_len(stream, seq);
    fill(&mut rec[..len], stream, PATH_WRITE, seq);
    c.write(&rec[..len]);
}

fn do_reserve<'a>(
    c: &'a dyn Chan,
    cnt: &Counts,
    stream: usize,
) -> Option<relay_rs::LocklessReservation<'a>> {
    let seq = cnt.next_seq(stream);
    let len = rec_len(stream, seq);
    match c.reserve(len) {
        Some(mut r) => {
            fill(&mut r, stream, PATH_RESERVE, seq);
            Some(r)
        }
        None => {
            cnt.reserve_none.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Two live reservations with a write between them, committed in the
/// order `reverse` picks.
fn pair(c: &dyn Chan, cnt: &Counts, stream: usize, reverse: bool) {
    let r1 = do_reserve(c, cnt, stream);
    do_write(c, cnt, stream);
    let r2 = do_reserve(c, cnt, stream);
    if reverse {
        drop(r2);
        drop(r1);
    } else {
        drop(r1);
        drop(r2);
    }
}

/// Records bigger than a sub-buffer: lost as `STATS_WRT_BIG`.
fn too_big(c: &dyn Chan, cnt: &Counts) {
    cnt.attempted.fetch_add(2, Ordering::Relaxed);
    cnt.big_attempts.fetch_add(2, Ordering::Relaxed);
    c.write(&BIG);
    if c.reserve(SUBBUF + 1).is_some() {
        pr_err!("a reservation bigger than a sub-buffer was granted\n");
    }
}

impl State {
    fn chans(&self) -> [(&dyn Chan, &Counts); 2] {
        [
            (&self.global as &dyn Chan, &self.counts[0]),
            (&self.pcpu as &dyn Chan, &self.counts[1]),
        ]
    }
}

/// hrtimer callback: hard interrupt context, interrupts off.
///
/// # Safety
///
/// Called by the hrtimer core for the timer set up in `init`, while
/// `STATE` points to the live `State`.
unsafe extern "C" fn timer_fn(t: *mut bindings::hrtimer) -> bindings::hrtimer_restart {
    // SAFETY: STATE is set before the timer starts and cleared only after
    // hrtimer_cancel() returned.
    let st = unsafe { &*STATE.load(Ordering::Acquire) };
    st.timer_runs.fetch_add(1, Ordering::Relaxed);
    if st.task_in_res.load(Ordering::Relaxed) {
        st.timer_nested.fetch_add(1, Ordering::Relaxed);
    }
    let stream = KIND_TIMER << 8;
    let n = st.timer_runs.load(Ordering::Relaxed);
    for (c, cnt) in st.chans() {
        pair(c, cnt, stream, n % 2 == 0);
        do_write(c, cnt, stream);
    }
    if st.stop_timer.load(Ordering::Relaxed) {
        return timer_ret(false);
    }
    // SAFETY: `t` is the running timer; forwarding it from its callback is
    // how a periodic hrtimer re-arms.
    unsafe { bindings::hrtimer_forward(t, bindings::ktime_get(), TIMER_NS) };
    timer_ret(true)
}

#[cfg(relay_rs_kernel = "7.3")]
fn timer_ret(restart: bool) -> bindings::hrtimer_restart {
    if restart {
        bindings::hrtimer_restart::HRTIMER_RESTART
    } else {
        bindings::hrtimer_restart::HRTIMER_NORESTART
    }
}

#[cfg(relay_rs_kernel = "6.12")]
fn timer_ret(restart: bool) -> bindings::hrtimer_restart {
    if restart {
        bindings::hrtimer_restart_HRTIMER_RESTART
    } else {
        bindings::hrtimer_restart_HRTIMER_NORESTART
    }
}

const TIMER_MODE: bindings::hrtimer_mode = bindings::hrtimer_mode_HRTIMER_MODE_REL_PINNED;

/// Sets up `t` (zeroed) to call `timer_fn`.
///
/// # Safety
///
/// `t` is a zeroed hrtimer that does not move until cancelled.
unsafe fn timer_setup(t: *mut bindings::hrtimer) {
    #[cfg(relay_rs_kernel = "7.3")]
    // SAFETY: as the caller promises.
    unsafe {
        bindings::hrtimer_setup(
            t,
            Some(timer_fn),
            bindings::CLOCK_MONOTONIC as i32,
            TIMER_MODE,
        )
    };
    #[cfg(relay_rs_kernel = "6.12")]
    // SAFETY: as the caller promises.
    unsafe {
        bindings::hrtimer_init(t, bindings::CLOCK_MONOTONIC as i32, TIMER_MODE);
        (*t).function = Some(timer_fn);
    }
}

/// IPI handler: every online CPU at once, interrupts off.
///
/// # Safety
///
/// Called by `on_each_cpu_cond_mask` with `info` pointing to the live
/// `State`.
unsafe extern "C" fn ipi_fn(info: *mut c_void) {
    // SAFETY: `info` is the State, alive until on_each_cpu returned.
    let st = unsafe { &*(info as *const State) };
    st.ipi_runs.fetch_add(1, Ordering::Relaxed);
    let idx = st.ipi_ticket.fetch_add(1, Ordering::Relaxed) % MAX_WRITERS;
    let stream = (KIND_IPI << 8) | idx;
    let n = st.ipi_runs.load(Ordering::Relaxed);
    for (c, cnt) in st.chans() {
        pair(c, cnt, stream, n % 2 == 1);
        do_write(c, cnt, stream);
    }
}

fn task_phase(st: &State) {
    let stream = KIND_TASK << 8;
    for i in 0..ITERATIONS {
        if i == ITERATIONS / 2 {
            // A reservation held across a flush of its channel.
            for (c, cnt) in st.chans() {
                let r = do_reserve(c, cnt, stream);
                st.global.flush();
                st.pcpu.flush();
                drop(r);
            }
        }
        if i % 500 == 250 {
            for (c, cnt) in st.chans() {
                too_big(c, cnt);
            }
        }
        for (c, cnt) in st.chans() {
            st.task_in_res.store(true, Ordering::Relaxed);
            let r1 = do_reserve(c, cnt, stream);
            do_write(c, cnt, stream);
            let r2 = do_reserve(c, cnt, stream);
            if i % 8 == 0 {
                // Hold them a while so the timer lands inside.
                for _ in 0..2000 {
                    core::hint::spin_loop();
                }
            }
            if i % 2 == 0 {
                drop(r2);
                drop(r1);
            } else {
                drop(r1);
                drop(r2);
            }
            st.task_in_res.store(false, Ordering::Relaxed);
            do_write(c, cnt, stream);
        }
    }
}

fn ipi_phase(st: &State) {
    for _ in 0..IPI_ROUNDS {
        st.ipi_ticket.store(0, Ordering::Relaxed);
        // SAFETY: `ipi_fn` only reads the State, which outlives the call
        // (wait = true); the online mask is the kernel's.
        unsafe {
            bindings::on_each_cpu_cond_mask(
                None,
                Some(ipi_fn),
                core::ptr::from_ref(st).cast_mut().cast::<c_void>(),
                true,
                core::ptr::addr_of!(bindings::__cpu_online_mask),
            )
        };
    }
}

fn summary(name: &str, c_lost_full: usize, c_lost_big: usize, c_lost_both: usize, cnt: &Counts) {
    pr_info!(
        "{} attempted {} lost {} full {} big {} expect_big {} reserve_none {}\n",
        name,
        cnt.attempted.load(Ordering::Relaxed),
        c_lost_both,
        c_lost_full,
        c_lost_big,
        cnt.big_attempts.load(Ordering::Relaxed),
        cnt.reserve_none.load(Ordering::Relaxed)
    );
}

struct RustLocklessClient {
    state: KBox<State>,
}

impl kernel::Module for RustLocklessClient {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let global =
            relay_rs::Channel::<LlGlobal>::open(Some(c_str!("docll")), SUBBUF, GLOBAL_SUBBUFS, ())?;
        let pcpu =
            relay_rs::Channel::<LlPerCpu>::open(Some(c_str!("docllp")), SUBBUF, PCPU_SUBBUFS, ())?;
        if global.producer().is_some() || pcpu.producer().is_some() {
            pr_err!("producer() is Some on a lockless channel\n");
        }
        // Zero-length records, outside the counted streams: the docs say
        // `reserve(0)` is `None` and that every record counts, zero-length
        // ones too (stored, with no bytes); report what they cost in lost().
        let both = relay_rs::STATS_BUF_FULL | relay_rs::STATS_WRT_BIG;
        let l0 = pcpu.lost(both);
        let z = pcpu.reserve(0);
        let z_some = z.is_some();
        drop(z);
        let l1 = pcpu.lost(both);
        pcpu.write(&[]);
        let l2 = pcpu.lost(both);
        pr_info!(
            "probe reserve0_some {} reserve0_lost {} write0_lost {}\n",
            u32::from(z_some),
            l1 - l0,
            l2 - l1
        );
        let state = KBox::new(
            State {
                global,
                pcpu,
                counts: [Counts::new(), Counts::new()],
                task_in_res: AtomicBool::new(false),
                timer_nested: AtomicUsize::new(0),
                timer_runs: AtomicUsize::new(0),
                stop_timer: AtomicBool::new(false),
                ipi_ticket: AtomicUsize::new(0),
                ipi_runs: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        )?;
        let st: &State = &state;
        STATE.store(core::ptr::from_ref(st).cast_mut(), Ordering::Release);

        // SAFETY: all-zero is a valid uninitialised hrtimer for setup.
        let mut timer = KBox::new(
            unsafe { core::mem::zeroed::<bindings::hrtimer>() },
            GFP_KERNEL,
        )?;
        let t: *mut bindings::hrtimer = &mut *timer;
        // SAFETY: zeroed, in a box that lives until after the cancel below.
        unsafe {
            timer_setup(t);
            bindings::hrtimer_start_range_ns(t, TIMER_NS, 0, TIMER_MODE);
        }

        task_phase(st);
        ipi_phase(st);

        st.stop_timer.store(true, Ordering::Relaxed);
        // SAFETY: the timer was set up and started above.
        unsafe { bindings::hrtimer_cancel(t) };
        drop(timer);
        STATE.store(core::ptr::null_mut(), Ordering::Release);

        st.global.flush();
        st.pcpu.flush();

        let full = relay_rs::STATS_BUF_FULL;
        let big = relay_rs::STATS_WRT_BIG;
        summary(
            "docll",
            st.global.lost(full),
            st.global.lost(big),
            st.global.lost(full | big),
            &st.counts[0],
        );
        summary(
            "docllp",
            st.pcpu.lost(full),
            st.pcpu.lost(big),
            st.pcpu.lost(full | big),
            &st.counts[1],
        );
        pr_info!(
            "timer_runs {} timer_nested {} ipi_runs {}\n",
            st.timer_runs.load(Ordering::Relaxed),
            st.timer_nested.load(Ordering::Relaxed),
            st.ipi_runs.load(Ordering::Relaxed)
        );
        pr_info!("done\n");
        Ok(Self { state })
    }
}

impl Drop for RustLocklessClient {
    fn drop(&mut self) {
        // The channels close when the state drops.
        pr_info!(
            "closing (lost {})\n",
            self.state.global.lost(relay_rs::STATS_BUF_FULL)
        );
    }
}
