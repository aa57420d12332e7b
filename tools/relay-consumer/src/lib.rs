// SPDX-License-Identifier: GPL-2.0

//! Consumes relay_rs channels from user space.
//!
//! A relay_rs channel has one buffer file per CPU, `<dir>/<base><cpu>`
//! (see [`cpu_files`]), and, in debugfs, a `<base>.stats` file with what
//! was produced, consumed and lost (see [`Stats`]). A [`Consumer`] takes the
//! data out of one buffer file in one of four [`Mode`]s behind one API:
//!
//! - [`Mode::Read`]: `read(2)`, the data in order without padding;
//! - [`Mode::Mmap`]: the whole ring mapped read-only, completed sub-buffers
//!   copied out and handed back with the ioctls of
//!   `include/uapi/relay_rs.h` (mirrored in [`uapi`] and checked against
//!   the header when the crate is built); in overwrite mode the copies the
//!   kernel reports as overwritten are dropped;
//! - [`Mode::Splice`]: `splice(2)` through a pipe, without a copy when the
//!   [`Sink`] is a file;
//! - [`Mode::Sendfile`]: `sendfile(2)` into a file.
//!
//! Either hand it a [`Sink`] and let [`Consumer::copy_to`] run the
//! poll-driven loop until the channel is closed and drained (`POLLHUP`),
//! no data came for [`Options::idle_timeout`], or [`Options::stop`] is set;
//! or pull data yourself with [`Consumer::next_chunk`], or records with
//! [`Consumer::records`] and a [`Framing`] (a record never straddles
//! sub-buffers, so a fixed size or a length header is enough to cut the
//! stream back into records).
//!
//! What a consumer sees, and when: `poll()` reports a buffer readable only
//! when a sub-buffer is complete (or the channel was flushed or closed),
//! so in every mode the loop wakes for completed sub-buffers; the partly
//! filled one of a producer that went quiet is seen after a flush
//! (`relay_rs_flush()` by the kernel client) or the close. A consumer that
//! stops on [`Options::idle_timeout`] should therefore follow a flush.
//!
//! Exact losses: the stats file goes with the channel's other files when
//! the kernel client closes it, so read [`Stats`] while the channel is
//! open, after the producers stopped and the consumers drained what was
//! there (for example: producers done, flush, consumers idle, then
//! [`Stats::read`], then the close). A snapshot taken while records flow is
//! a lower bound. A consumer that runs until the hang-up can only report
//! the losses it read before it.
//!
//! The position in a buffer belongs to the buffer, not to the descriptor:
//! run one consumer per buffer, a thread each for a per-CPU channel (as
//! `examples/cat.rs` and `relay-read` do), since a producer that outruns
//! its consumer loses records.
//!
//! # Example
//!
//! Drain every buffer of the channel `cpu` in
//! `/sys/kernel/debug/relay_rs_sample` into files under `/tmp/out` with
//! `splice`, then check the losses:
//!
//! ```no_run
//! use relay_consumer::{cpu_files, stats_path, Consumer, Mode, Options, Sink, Stats};
//! use std::{fs::File, path::Path, thread};
//!
//! let dir = Path::new("/sys/kernel/debug/relay_rs_sample");
//! let mut threads = Vec::new();
//! for (cpu, path) in cpu_files(dir, "cpu")? {
//!     threads.push(thread::spawn(move || -> std::io::Result<u64> {
//!         let opts = Options { stop: Some(relay_consumer::sigint_flag()), ..Options::default() };
//!         let mut c = Consumer::open(&path, Mode::Splice, opts)?;
//!         let mut sink = Sink::file(File::create(format!("/tmp/out/cpu{cpu}"))?);
//!         let mut bytes = 0;
//!         c.copy_to(&mut sink, |pass| bytes += pass.bytes)?;
//!         Ok(bytes)
//!     }));
//! }
//! for t in threads {
//!     println!("{} bytes", t.join().unwrap()?);
//! }
//! // After the consumers drained (here: Ctrl-C once the producers are
//! // done), before the channel closes: its files, this one too, go then.
//! let stats = Stats::read(&stats_path(dir, "cpu"))?;
//! println!("{} records lost ({} overwritten)", stats.lost(), stats.overwritten);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Records of a fixed size, one buffer, `read`:
//!
//! ```no_run
//! use relay_consumer::{Consumer, FixedSize, Mode, Options};
//!
//! let c = Consumer::open("/sys/kernel/debug/relay_rs_sample/cpu0", Mode::Read, Options::default())?;
//! for record in c.records(FixedSize(100)) {
//!     let record = record?;
//!     assert_eq!(record.len(), 100);
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Records with a length header (here a native-endian `u32` of the whole
//! record's length at its start), framed by a closure; the closure's
//! argument type must be written out:
//!
//! ```no_run
//! use relay_consumer::{Consumer, Mode, Options};
//!
//! let c = Consumer::open("/sys/kernel/debug/relay_rs_sample/cpu0", Mode::Read, Options::default())?;
//! let framing = |head: &[u8]| -> Option<usize> {
//!     let len = u32::from_ne_bytes(head.get(..4)?.try_into().ok()?) as usize;
//!     Some(len.max(4))
//! };
//! for record in c.records(framing) {
//!     println!("{} bytes", record?.len());
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! All `unsafe` code is in one private module of system-call wrappers;
//! every other module forbids it.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod channel;
mod consumer;
pub mod records;
mod round;
mod stats;
#[allow(unsafe_code)]
mod sys;
pub mod uapi;

pub use channel::cpu_files;
pub use consumer::{follow, Consumer, End, Mode, Options, Pass, RecordStream, Sink, Source};
pub use records::{FixedSize, Framing, Records};
pub use round::Round;
pub use stats::{stats_path, BufferStats, Stats, StatsError};
pub use sys::{info as buf_info, monotonic_ns, poll, process_cpu_time, sigint_flag};
pub use uapi::BufInfo;
