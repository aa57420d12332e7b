// SPDX-License-Identifier: GPL-2.0

//! [`Consumer`]: one relay_rs buffer file consumed with `read()`, `mmap()`
//! and the ioctls, `splice()` or `sendfile()`, behind one API; the
//! [`Sink`] it writes to; and the poll-driven loop ([`follow`]) that runs
//! a [`Source`] until the channel closes, goes idle or the caller stops it.

#![forbid(unsafe_code)]

use crate::{round::Round, sys};
use std::{
    collections::VecDeque,
    fmt,
    fs::{File, OpenOptions},
    io::{self, Read, Write},
    os::{
        fd::{AsFd, BorrowedFd},
        unix::fs::OpenOptionsExt,
    },
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
    thread,
    time::{Duration, Instant},
};

/// How a [`Consumer`] takes data out of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `read(2)` into a buffer of [`Options::bufsize`] bytes: the data in
    /// order, without padding, one copy.
    Read,
    /// `mmap(2)` of the whole ring and the ioctl protocol of
    /// `include/uapi/relay_rs.h`: completed sub-buffers are copied out of
    /// the mapping and handed back. Only completed (or flushed) sub-buffers
    /// are seen; in overwrite mode the copies the kernel says were
    /// overwritten are dropped, so losses are whole sub-buffers, counted.
    Mmap,
    /// `splice(2)` into a pipe, then from the pipe into the sink: without a
    /// copy into a [`Sink::file`] (the pipe references the ring's pages,
    /// on channels that never overwrite), through a buffer otherwise.
    Splice,
    /// `sendfile(2)` straight into a [`Sink::file`], without a copy. Needs
    /// a file sink.
    Sendfile,
}

/// The knobs of a [`Consumer`] and of [`follow`]; [`Options::default`]
/// suits most uses.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bytes per `read()`, `splice()` or `sendfile()` call, and the pipe
    /// size asked for in [`Mode::Splice`]. Default 1 MiB.
    pub bufsize: usize,
    /// How long one `poll()` waits before the loop looks again (for the
    /// idle timeout and the stop flag). Default 100 ms.
    pub poll_interval: Duration,
    /// Stop once no data came for this long. Default: never (only the
    /// channel's close, or `stop`, ends the loop).
    pub idle_timeout: Option<Duration>,
    /// A deliberately slow consumer, for testing overwrite mode: sleep this
    /// long after every `read()` that returned data, and in [`Mode::Mmap`]
    /// between copying a round out and handing it back (the window in which
    /// a producer laps the copies). Default 0.
    pub pause: Duration,
    /// Stop at the next pass once this flag is set (after one more pass,
    /// which takes what is there), for example [`crate::sigint_flag`].
    pub stop: Option<&'static AtomicBool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            bufsize: 1 << 20,
            poll_interval: Duration::from_millis(100),
            idle_timeout: None,
            pause: Duration::ZERO,
            stop: None,
        }
    }
}

/// Where consumed bytes go.
pub struct Sink(SinkKind);

enum SinkKind {
    File(File),
    Writer(Box<dyn Write + Send>),
    Chunks(VecDeque<Vec<u8>>),
}

impl Sink {
    /// A file (or pipe, or socket): [`Mode::Splice`] and [`Mode::Sendfile`]
    /// move the data into it without a copy. `/dev/null` discards.
    pub fn file(f: File) -> Self {
        Sink(SinkKind::File(f))
    }

    /// Any writer: the data are copied into it with `write_all`, one call
    /// per chunk (a whole sub-buffer in [`Mode::Mmap`]), so that a writer
    /// shared by several consumers behind a lock never interleaves inside
    /// a chunk. [`Mode::Sendfile`] cannot write to it.
    pub fn writer(w: impl Write + Send + 'static) -> Self {
        Sink(SinkKind::Writer(Box::new(w)))
    }

    fn chunks() -> Self {
        Sink(SinkKind::Chunks(VecDeque::new()))
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.0 {
            SinkKind::File(f) => Some(f.as_fd()),
            _ => None,
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.0 {
            SinkKind::File(f) => f.write_all(data),
            SinkKind::Writer(w) => w.write_all(data),
            SinkKind::Chunks(q) => {
                q.push_back(data.to_vec());
                Ok(())
            }
        }
    }

    fn write_owned(&mut self, data: Vec<u8>) -> io::Result<()> {
        match &mut self.0 {
            SinkKind::Chunks(q) => {
                q.push_back(data);
                Ok(())
            }
            _ => self.write(&data),
        }
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SinkKind::File(file) => f.debug_tuple("Sink::file").field(file).finish(),
            SinkKind::Writer(_) => f.write_str("Sink::writer(..)"),
            SinkKind::Chunks(q) => write!(f, "Sink::chunks({} queued)", q.len()),
        }
    }
}

/// Something [`follow`] can run: a descriptor to poll and a pass that
/// takes, without blocking, what is there now. [`Consumer`] is one; a
/// caller can combine consumers into another.
pub trait Source {
    /// The descriptor whose `POLLIN` says there is data and `POLLHUP` that
    /// the channel is closed.
    fn poll_fd(&self) -> BorrowedFd<'_>;

    /// Consumes what is there now into `sink`, without blocking; returns
    /// the bytes consumed (0: nothing now).
    fn drain_now(&mut self, sink: &mut Sink) -> io::Result<u64>;
}

/// One pass that found data, as [`follow`] reports it.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// The bytes the pass consumed.
    pub bytes: u64,
    /// When the pass began.
    pub began: Instant,
    /// When it ended.
    pub ended: Instant,
}

/// Why [`follow`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The channel was closed (`POLLHUP`) and everything is consumed.
    HangUp,
    /// No data came for [`Options::idle_timeout`].
    Idle,
    /// [`Options::stop`] was set.
    Stopped,
}

/// The state of [`follow`] between two of its steps.
#[derive(Debug)]
struct Follower {
    last_data: Instant,
}

impl Follower {
    fn new() -> Self {
        Follower {
            last_data: Instant::now(),
        }
    }

    /// One wait-and-pass; `Some` once the loop is over.
    fn step<S: Source + ?Sized>(
        &mut self,
        src: &mut S,
        sink: &mut Sink,
        opts: &Options,
        on_pass: &mut dyn FnMut(Pass),
    ) -> io::Result<Option<End>> {
        let stopped = || opts.stop.is_some_and(|f| f.load(Ordering::Relaxed));
        let ms = opts.poll_interval.as_millis().min(i32::MAX as u128) as i32;
        // An interrupted or failed poll is a timeout: the pass below finds
        // out whether there is data, and a closed file ends in a hang-up.
        let rev = sys::poll(src.poll_fd(), libc::POLLIN, ms).unwrap_or(0);
        let mut pass = |src: &mut S, sink: &mut Sink| -> io::Result<u64> {
            let began = Instant::now();
            let bytes = src.drain_now(sink)?;
            if bytes > 0 {
                on_pass(Pass {
                    bytes,
                    began,
                    ended: Instant::now(),
                });
            }
            Ok(bytes)
        };
        let n = pass(src, sink)?;
        if n > 0 {
            self.last_data = Instant::now();
        }
        let hup = rev & (libc::POLLHUP | libc::POLLERR) != 0;
        if (hup && n == 0) || stopped() {
            // One more pass after the hang-up: whatever the last flush made.
            let n = pass(src, sink)?;
            if stopped() {
                return Ok(Some(End::Stopped));
            }
            if n == 0 {
                return Ok(Some(End::HangUp));
            }
        }
        if opts
            .idle_timeout
            .is_some_and(|d| self.last_data.elapsed() > d)
        {
            return Ok(Some(End::Idle));
        }
        Ok(None)
    }
}

/// Runs `src` into `sink` until the channel is closed and drained, no data
/// came for [`Options::idle_timeout`], or [`Options::stop`] is set: waits
/// for `POLLIN` (at most [`Options::poll_interval`] at a time), takes what
/// is there, and calls `on_pass` after every pass that found data.
pub fn follow<S: Source + ?Sized>(
    src: &mut S,
    sink: &mut Sink,
    opts: &Options,
    mut on_pass: impl FnMut(Pass),
) -> io::Result<End> {
    let mut f = Follower::new();
    loop {
        if let Some(end) = f.step(src, sink, opts, &mut on_pass)? {
            return Ok(end);
        }
    }
}

/// The mode-specific state of a [`Consumer`].
enum How {
    Read,
    Mmap(sys::Mapping),
    Splice { from: File, to: File },
    Sendfile,
}

/// One relay_rs buffer file (`<base><cpu>`) opened for consumption.
///
/// The position in the buffer belongs to the buffer, not to the
/// descriptor: run one consumer per buffer.
pub struct Consumer {
    file: File,
    how: How,
    opts: Options,
    /// The copy buffer of `read()` and of splicing into a non-file sink,
    /// allocated on first use (mmap and sendfile consumers never need it).
    buf: Vec<u8>,
    chunks: Sink,
    follower: Option<Follower>,
    ended: Option<End>,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("file", &self.file)
            .field("mode", &self.mode())
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// Opens the buffer file at `path` (read-only, non-blocking) for
    /// `mode`: maps it for [`Mode::Mmap`] (which fails on files without the
    /// relay_rs ioctls, such as the kernel's own relay files), makes the
    /// pipe for [`Mode::Splice`].
    pub fn open(path: impl AsRef<Path>, mode: Mode, opts: Options) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        let how = match mode {
            Mode::Read => How::Read,
            Mode::Mmap => {
                let len = sys::info(file.as_fd())?.alloc_size as usize;
                How::Mmap(sys::Mapping::new(file.as_fd(), len)?)
            }
            Mode::Splice => {
                let (from, to) = sys::pipe(0)?;
                // A bigger pipe moves more per call; the default works too.
                let _ = sys::set_pipe_size(from.as_fd(), opts.bufsize.max(4096));
                How::Splice { from, to }
            }
            Mode::Sendfile => How::Sendfile,
        };
        Ok(Consumer {
            buf: Vec::new(),
            file,
            how,
            opts,
            chunks: Sink::chunks(),
            follower: None,
            ended: None,
        })
    }

    /// The mode it was opened with.
    pub fn mode(&self) -> Mode {
        match self.how {
            How::Read => Mode::Read,
            How::Mmap(_) => Mode::Mmap,
            How::Splice { .. } => Mode::Splice,
            How::Sendfile => Mode::Sendfile,
        }
    }

    /// The buffer's geometry and counters (`RELAY_RS_IOC_INFO`; relay_rs
    /// files only).
    pub fn info(&self) -> io::Result<crate::BufInfo> {
        sys::info(self.file.as_fd())
    }

    /// Sets the delivery interval of the buffer's channel, for every
    /// buffer and reader of it (`RELAY_RS_IOC_DELIVERY`; relay_rs files
    /// only): a reader blocked in `poll()` on a buffer with unread bytes
    /// then wakes within `ms` milliseconds (plus a timer tick) even if no
    /// sub-buffer completes; 0 turns it off. Not for [`Mode::Mmap`], which
    /// hands back whole sub-buffers only (its `poll()` would keep reporting
    /// bytes it cannot consume).
    pub fn set_delivery_interval(&self, ms: u64) -> io::Result<()> {
        sys::set_delivery_interval(self.file.as_fd(), ms)
    }

    /// Runs the consumer into `sink` until the channel is closed and
    /// drained, it is idle or it is stopped (see [`follow`]).
    pub fn copy_to(&mut self, sink: &mut Sink, on_pass: impl FnMut(Pass)) -> io::Result<End> {
        let opts = self.opts.clone();
        follow(self, sink, &opts, on_pass)
    }

    /// The next chunk of data, waiting (poll) for it: one `read()`'s worth,
    /// one sub-buffer's data in [`Mode::Mmap`], one pipe-full in
    /// [`Mode::Splice`]. `None` once the loop of [`follow`] ended (the
    /// channel closed and was drained, or idle, or stopped; see
    /// [`Consumer::end`]). Not for [`Mode::Sendfile`], which only writes to
    /// files.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let SinkKind::Chunks(q) = &mut self.chunks.0 {
                if let Some(c) = q.pop_front() {
                    return Ok(Some(c));
                }
            }
            if self.ended.is_some() {
                return Ok(None);
            }
            let mut f = self.follower.take().unwrap_or_else(Follower::new);
            let mut chunks = std::mem::replace(&mut self.chunks, Sink::chunks());
            let opts = self.opts.clone();
            let r = f.step(self, &mut chunks, &opts, &mut |_| {});
            self.chunks = chunks;
            self.follower = Some(f);
            self.ended = r?;
        }
    }

    /// Why [`Consumer::next_chunk`] returned `None`, once it did.
    pub fn end(&self) -> Option<End> {
        self.ended
    }

    /// The records of the buffer, cut by `framing` out of the chunks of
    /// [`Consumer::next_chunk`] (see [`crate::records`] for when that is
    /// exact).
    pub fn records<F: crate::Framing>(self, framing: F) -> RecordStream<F> {
        RecordStream {
            consumer: self,
            records: crate::Records::new(framing),
        }
    }

    /// One `read()` of at most [`Options::bufsize`] bytes into `sink`;
    /// returns the bytes read (0: nothing now). Usable in every mode, the
    /// position being the buffer's.
    pub fn read_once(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let n = match (&self.file).read(scratch(&mut self.buf, self.opts.bufsize)) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
            Err(e) => return Err(e),
        };
        if n > 0 {
            self.pause();
            sink.write(&self.buf[..n])?;
        }
        Ok(n as u64)
    }

    fn pause(&self) {
        if !self.opts.pause.is_zero() {
            thread::sleep(self.opts.pause);
        }
    }

    fn drain_read(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let mut total = 0;
        loop {
            let n = self.read_once(sink)?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// One round of the mmap protocol of `include/uapi/relay_rs.h`: copy
    /// the completed sub-buffers out, hand them back, keep the copies the
    /// hand-back does not say were overwritten.
    fn drain_mmap(&self, map: &sys::Mapping, sink: &mut Sink) -> io::Result<u64> {
        let fd = self.file.as_fd();
        let Some(round) = Round::new(&sys::info(fd)?) else {
            return Ok(0);
        };
        let mut pad = vec![0u64; round.count()];
        sys::padding(fd, round.first(), &mut pad)?;
        let copies: Vec<Vec<u8>> = pad
            .iter()
            .enumerate()
            .map(|(k, &p)| {
                let mut data = Vec::new();
                if let Some((start, end)) = round.data(k, p) {
                    // Out of the mapping (never, with a sane kernel): nothing.
                    map.copy_out(start, end, &mut data);
                }
                data
            })
            .collect();
        self.pause();
        let dropped = sys::hand_back(fd, round.hand_back())?;
        let mut total = 0;
        for (k, data) in copies.into_iter().enumerate() {
            if round.keep(k, dropped) && !data.is_empty() {
                total += data.len() as u64;
                sink.write_owned(data)?;
            }
        }
        Ok(total)
    }

    fn drain_splice(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let How::Splice { from, to } = &self.how else {
            unreachable!("drain_splice in another mode");
        };
        let mut total = 0;
        loop {
            let r = sys::splice(
                self.file.as_fd(),
                to.as_fd(),
                self.opts.bufsize,
                libc::SPLICE_F_NONBLOCK,
            );
            let n = match r {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) => return Err(e),
            };
            let mut left = n;
            while left > 0 {
                let moved = match sink.fd() {
                    // Zero copy all the way into the output file.
                    Some(out) => sys::splice(from.as_fd(), out, left, 0)?,
                    None => {
                        let buf = scratch(&mut self.buf, self.opts.bufsize);
                        let len = left.min(buf.len());
                        let r = (&*from).read(&mut buf[..len])?;
                        sink.write(&self.buf[..r])?;
                        r
                    }
                };
                if moved == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the pipe gave back less than was spliced into it",
                    ));
                }
                left -= moved;
            }
            total += n as u64;
        }
    }

    fn drain_sendfile(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let Some(out) = sink.fd() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "sendfile needs a file sink",
            ));
        };
        let mut total = 0;
        loop {
            match sys::sendfile(out, self.file.as_fd(), self.opts.bufsize) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) => return Err(e),
            }
        }
    }
}

impl Source for Consumer {
    fn poll_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    fn drain_now(&mut self, sink: &mut Sink) -> io::Result<u64> {
        match &self.how {
            How::Read => self.drain_read(sink),
            How::Mmap(map) => self.drain_mmap(map, sink),
            How::Splice { .. } => self.drain_splice(sink),
            How::Sendfile => self.drain_sendfile(sink),
        }
    }
}

/// A [`Consumer`] yielding records (see [`Consumer::records`]).
#[derive(Debug)]
pub struct RecordStream<F> {
    consumer: Consumer,
    records: crate::Records<F>,
}

impl<F: crate::Framing> RecordStream<F> {
    /// The next record, waiting for it; `None` once the consumer ended.
    /// Bytes left over at the end (a torn record) are in
    /// [`RecordStream::pending`].
    pub fn next_record(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(r) = self.records.next_record() {
                return Ok(Some(r));
            }
            match self.consumer.next_chunk()? {
                Some(c) => self.records.push(&c),
                None => return Ok(None),
            }
        }
    }

    /// Bytes consumed but not (yet) framed as a record.
    pub fn pending(&self) -> &[u8] {
        self.records.pending()
    }

    /// The consumer, for [`Consumer::end`] or [`Consumer::info`].
    pub fn consumer(&self) -> &Consumer {
        &self.consumer
    }
}

impl<F: crate::Framing> Iterator for RecordStream<F> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// `buf`, grown to `bufsize` bytes (at least one) the first time it is used.
fn scratch(buf: &mut Vec<u8>, bufsize: usize) -> &mut [u8] {
    if buf.is_empty() {
        buf.resize(bufsize.max(1), 0);
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumers_move_to_threads() {
        fn send<T: Send>() {}
        send::<Consumer>();
        send::<Sink>();
        send::<RecordStream<crate::FixedSize>>();
    }

    #[test]
    fn chunks_sink_keeps_chunks_whole() {
        let mut s = Sink::chunks();
        s.write(b"ab").unwrap();
        s.write_owned(b"cde".to_vec()).unwrap();
        assert!(s.fd().is_none());
        let SinkKind::Chunks(q) = s.0 else {
            unreachable!()
        };
        assert_eq!(q, [b"ab".to_vec(), b"cde".to_vec()]);
    }
}
