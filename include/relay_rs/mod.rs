// SPDX-License-Identifier: GPL-2.0

//! Safe Rust API of relay_rs, for Rust modules that log through it.
//!
//! A Rust module cannot link another module's crate, so mount this folder
//! as a public module of yours (`#[path = ".../include/relay_rs/mod.rs"]
//! pub mod relay_rs;`: public, so that what a client does not use is not
//! dead code in it); it declares the functions `relay_rs.ko` exports and wraps
//! them in safe types. relay_rs' own KUnit suite uses the same files.
//! The C structures' layout follows the kernel (7.3 or 6.12), which the
//! client's Kbuild file tells these files by including `kernel.mk` from
//! this folder (`include $(RELAY_RS_DIR)/include/relay_rs/kernel.mk`): it
//! sets `cfg(relay_rs_kernel)`, and the build fails without it.
//!
//! # Files
//!
//! - `raw.rs`: the C structures' layout as the inline paths see it, the
//!   protocol's constants and fit rule, and the exported functions;
//! - `arch.rs`: the arch fast-path helpers (interrupts off and on, this
//!   CPU's buffer);
//! - `guard.rs`: what makes a producer: [`IrqsDisabled`] and the global
//!   channel's writers' lock;
//! - `callbacks.rs`: the [`Callbacks`] trait, [`SubbufStart`] and the C
//!   trampolines;
//! - `channel.rs`: [`Channel`], [`Producer`], [`Reservation`] and
//!   [`LocklessReservation`].
//!
//! # The rules, as the types enforce them
//!
//! - [`Channel::write`] copies one record into the current CPU's buffer
//!   from any context but NMI (interrupts off around it), inside a
//!   [`Producer`] too. On a global channel (`Callbacks::GLOBAL`) every CPU
//!   shares one buffer, so the wrapper serialises its writers with a
//!   spinlock of its own, taken with interrupts off: relay leaves that to
//!   the clients of global channels (a rule safe code could break); here
//!   no safe code can write a global buffer from two CPUs at once. A write
//!   from inside this CPU's own holder of the lock (its `Producer`, or a
//!   `subbuf_start` its write reached) goes on under that holding.
//! - Reserving a slot to fill in place takes a [`Producer`]: interrupts
//!   off on this CPU (and the global lock), for as long as it lives. There
//!   is at most one per buffer: [`Channel::producer`] returns `None` when
//!   interrupts were already off (a hard interrupt handler, under
//!   `spin_lock_irqsave`, or inside another `Producer`); use `write` there.
//!   A [`Reservation`] borrows its producer mutably, so one producer has
//!   at most one live reservation.
//! - A [`Reservation`] is marked uncommitted in the buffer until it drops,
//!   which commits it: readers see its bytes from then on, and relay_rs
//!   makes no sub-buffer switch while it lives (a `write` of the same CPU
//!   that needs one meanwhile is dropped and counted as full), so nothing
//!   exposes or overwrites a slot being filled.
//! - A lockless channel (`Callbacks::LOCKLESS`) takes writers from any
//!   context, NMI included, nested ones too, and needs no [`Producer`]
//!   (`producer()` is `None`): [`Channel::write`], and
//!   [`Channel::reserve`], whose [`LocklessReservation`] commits when it
//!   drops; any number may be live. `Channel::reserve` for a channel that
//!   is not lockless does not build.
//! - A `subbuf_start` callback that writes to its own channel gets its
//!   records dropped and counted instead of a nested switch.
//! - Every record counts: a zero-length one too (it is stored, with no
//!   bytes); a record bigger than a sub-buffer (or than what a header left
//!   free) is lost as [`STATS_WRT_BIG`], one refused because the buffer is
//!   full (or by the commit rule) as [`STATS_BUF_FULL`]; `subbuf_start` is
//!   asked again for each record while it refuses. [`Channel::lost`] sums
//!   the reasons its flags name.
//! - A global channel has one file, `<base>0`; a per-CPU one `<base><cpu>`
//!   for each CPU; both a `<base>.stats`. Files go in the debugfs root.
//! - PREEMPT_RT kernels are refused at build time: there spinlocks sleep
//!   and interrupts-off sections are not what pins the CPU here.
//!
//! # Examples
//!
//! A per-CPU channel with relay's defaults (no-overwrite, debugfs files
//! `mylog0`, `mylog1`, ...):
//!
//! ```ignore
//! let chan = relay_rs::Channel::<relay_rs::Defaults>::open(Some(c_str!("mylog")), 16384, 8, ())?;
//! chan.write(b"hello");
//! chan.flush();
//! // Closed when `chan` is dropped.
//! ```
//!
//! A global flight recorder whose callbacks count sub-buffer switches in
//! typed private data, filled in place with `reserve`:
//!
//! ```ignore
//! struct Recorder;
//! impl relay_rs::Callbacks for Recorder {
//!     type Data = AtomicUsize;
//!     const GLOBAL: bool = true;
//!     fn subbuf_start(switch: &mut relay_rs::SubbufStart<'_, Self>) -> bool {
//!         switch.data().fetch_add(1, Ordering::Relaxed);
//!         true // overwrite the oldest data when full
//!     }
//! }
//! let data = AtomicUsize::new(0);
//! let chan = relay_rs::Channel::<Recorder>::open(Some(c_str!("rec")), 4096, 4, data)?;
//! if let Some(mut producer) = chan.producer() {
//!     if let Some(mut slot) = producer.reserve(16) {
//!         slot.copy_from_slice(&[0u8; 16]);
//!     }; // committed here (the `;` ends the borrow, edition 2021)
//! } // interrupts back on, global lock released
//! ```
//!
//! What the borrow checker refuses (relay_rs' `make test` builds these and
//! expects them to fail, `tests/compile-fail/`): two live reservations of
//! one producer, a reservation that outlives its producer, a producer sent
//! to another CPU.

#![warn(missing_docs)]

#[cfg(CONFIG_PREEMPT_RT)]
compile_error!("relay_rs' Rust API does not support PREEMPT_RT (its spinlocks sleep)");

pub(crate) mod arch;
mod callbacks;
mod channel;
mod guard;
mod raw;

pub use callbacks::{Callbacks, Defaults, SubbufStart};
pub use channel::{Channel, LocklessReservation, Producer, Reservation};
pub use guard::IrqsDisabled;
pub use raw::{
    fits, fits_slice, Offsets, RawBuf, RawChan, MAX_DELIVERY_MS, NO_RESERVATION, OFFSETS,
    STATS_BUF_FULL, STATS_OVERWRITTEN, STATS_WRT_BIG, UNCOMMITTED,
};
