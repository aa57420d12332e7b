// SPDX-License-Identifier: GPL-2.0

//! relay-read: consumes every per-CPU file of a relay_rs channel
//! concurrently, poll-driven, with read(2), mmap(2), splice(2) or
//! sendfile(2), until the channel is closed and drained (or interrupted).
//!
//! ```text
//! relay-read DIR BASE [--mode read|mmap|splice|sendfile|alternate]
//!            [--out DIR | --merged FILE] [--stats] [--idle-exit MS]
//!            [--bufsize BYTES] [--bench] [--pause MS]
//! relay-read --poll-wait FILE MS     # prints the ms until POLLIN, or "timeout"
//! relay-read --abuse FILE            # seeks, pread and bad mmaps must be refused
//! relay-read --splice-hold FILE OUT GO  # pipe pages outliving FILE, drained once GO exists
//! ```
//!
//! `alternate` reads each file through two descriptors in turn, to check
//! that consumption is shared and exact.

use std::{
    ffi::CString,
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    os::fd::{AsRawFd, FromRawFd, RawFd},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    thread,
    time::{Duration, Instant},
};

static STOP: AtomicBool = AtomicBool::new(false);
/// Bytes per read(2), splice(2) or sendfile(2) call (`--bufsize`).
static BUFSIZE: AtomicUsize = AtomicUsize::new(1 << 20);
/// When the first pass that found data began, in ns after the start
/// (`--bench`): a live benchmark's writers may start after the readers.
static FIRST_DATA_NS: AtomicU64 = AtomicU64::new(u64::MAX);
/// When the last data arrived, in ns after the start (`--bench`).
static LAST_DATA_NS: AtomicU64 = AtomicU64::new(0);

/// CPU time this process (every consumer thread, live or ended) has used.
fn cpu_secs() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } < 0 {
        return 0.0;
    }
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn bufsize() -> usize {
    BUFSIZE.load(Ordering::Relaxed)
}

/// Milliseconds to sleep after each read or mmap copy (`--pause`): a slow
/// consumer, which an overwriting producer laps.
static PAUSE_MS: AtomicU64 = AtomicU64::new(0);

fn pause() {
    let ms = PAUSE_MS.load(Ordering::Relaxed);
    if ms > 0 {
        thread::sleep(Duration::from_millis(ms));
    }
}

extern "C" fn on_sigint(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// `include/uapi/relay_rs.h`, checked against the header at build time
/// (`build.rs`).
mod uapi {
    use std::mem::{align_of, offset_of, size_of};

    /// `struct relay_rs_buf_info` (`RELAY_RS_IOC_INFO`).
    #[repr(C)]
    #[derive(Clone, Copy, Default, Debug)]
    pub struct BufInfo {
        pub subbuf_size: u64,
        pub n_subbufs: u64,
        pub alloc_size: u64,
        pub produced: u64,
        pub consumed: u64,
        pub bytes_consumed: u64,
        pub offset: u64,
        pub finalized: u64,
    }

    /// `struct relay_rs_padding` (`RELAY_RS_IOC_PADDING`).
    #[repr(C)]
    #[derive(Clone, Copy, Debug)]
    pub struct Padding {
        pub first: u64,
        pub count: u64,
        /// User pointer to `count` u64.
        pub padding: u64,
    }

    // `_IOC()` of <asm-generic/ioctl.h> (x86's).
    const NRSHIFT: u64 = 0;
    const TYPESHIFT: u64 = 8;
    const SIZESHIFT: u64 = 16;
    const DIRSHIFT: u64 = 30;
    const SIZEBITS: u64 = 14;
    const WRITE: u64 = 1;
    const READ: u64 = 2;

    const fn ioc(dir: u64, nr: u64, size: usize) -> u64 {
        assert!((size as u64) < 1 << SIZEBITS);
        (dir << DIRSHIFT) | (MAGIC << TYPESHIFT) | (nr << NRSHIFT) | ((size as u64) << SIZESHIFT)
    }

    pub const MAGIC: u64 = 0xb7;
    pub const INFO: u64 = ioc(READ, 1, size_of::<BufInfo>());
    pub const PADDING: u64 = ioc(WRITE, 2, size_of::<Padding>());
    pub const CONSUMED: u64 = ioc(WRITE, 3, size_of::<u64>());

    /// The size of the field that `f` borrows.
    const fn field_size<T, F>(_f: fn(&T) -> &F) -> usize {
        size_of::<F>()
    }

    include!(concat!(env!("OUT_DIR"), "/uapi_check.rs"));
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Read,
    Mmap,
    Splice,
    Sendfile,
    Alternate,
}

enum Sink {
    File(File),
    Merged(Arc<Mutex<File>>),
}

impl Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::File(f) => f.write_all(data),
            Sink::Merged(m) => m.lock().unwrap().write_all(data),
        }
    }
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
}

fn open_ro(p: &Path) -> io::Result<RawFd> {
    // SAFETY: a valid C string.
    let fd = unsafe { libc::open(cstr(p).as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

/// Waits for POLLIN or POLLHUP; returns the revents (0 on timeout).
fn wait(fd: RawFd, ms: i32) -> i16 {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r > 0 {
        p.revents
    } else {
        0
    }
}

/// One pass of the consumer: returns the bytes consumed.
struct Consumer {
    fd: RawFd,
    fd2: RawFd,
    mode: Mode,
    buf: Vec<u8>,
    map: *const u8,
    map_len: usize,
    pipe: [RawFd; 2],
    out_fd: Option<RawFd>,
}

// SAFETY: the mapping is read-only and owned by the consumer's thread.
unsafe impl Send for Consumer {}

/// A syscall's byte count: `None` when it would block (nothing now), the
/// error for any other failure.
fn ready(n: isize) -> io::Result<Option<isize>> {
    if n >= 0 {
        return Ok(Some(n));
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
}

fn info(fd: RawFd) -> io::Result<uapi::BufInfo> {
    let mut i = uapi::BufInfo::default();
    // SAFETY: RELAY_RS_IOC_INFO writes a `struct relay_rs_buf_info`.
    if unsafe { libc::ioctl(fd, uapi::INFO as _, &mut i) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(i)
}

impl Consumer {
    fn new(path: &Path, mode: Mode, out_fd: Option<RawFd>) -> io::Result<Self> {
        let fd = open_ro(path)?;
        let mut c = Consumer {
            fd,
            fd2: -1,
            mode,
            buf: vec![0; bufsize()],
            map: std::ptr::null(),
            map_len: 0,
            pipe: [-1, -1],
            out_fd,
        };
        match mode {
            Mode::Mmap => {
                let len = info(fd)?.alloc_size as usize;
                // SAFETY: mapping a relay file read-only, whole, offset 0.
                let p = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len,
                        libc::PROT_READ,
                        libc::MAP_SHARED,
                        fd,
                        0,
                    )
                };
                if p == libc::MAP_FAILED {
                    return Err(io::Error::last_os_error());
                }
                c.map = p as *const u8;
                c.map_len = len;
            }
            Mode::Splice => {
                c.pipe = new_pipe(0)?;
                // SAFETY: growing our own pipe; failure is harmless.
                unsafe {
                    libc::fcntl(
                        c.pipe[0],
                        libc::F_SETPIPE_SZ,
                        bufsize().max(4096) as libc::c_int,
                    )
                };
            }
            Mode::Alternate => c.fd2 = open_ro(path)?,
            _ => {}
        }
        Ok(c)
    }

    fn pass(&mut self, sink: &mut Sink) -> io::Result<u64> {
        match self.mode {
            Mode::Read => self.pass_read(self.fd, self.buf.len(), sink),
            Mode::Alternate => {
                let mut total = 0;
                loop {
                    let a = self.pass_read_once(self.fd, 100, sink)?;
                    let b = self.pass_read_once(self.fd2, 37, sink)?;
                    total += a + b;
                    if a + b == 0 {
                        return Ok(total);
                    }
                }
            }
            Mode::Mmap => self.pass_mmap(sink),
            Mode::Splice => self.pass_splice(sink),
            Mode::Sendfile => self.pass_sendfile(sink),
        }
    }

    fn pass_read_once(&mut self, fd: RawFd, len: usize, sink: &mut Sink) -> io::Result<u64> {
        // SAFETY: reading into our own buffer of at least `len` bytes.
        let n = unsafe { libc::read(fd, self.buf.as_mut_ptr().cast(), len) };
        let Some(n) = ready(n)? else {
            return Ok(0);
        };
        if n > 0 {
            pause();
        }
        sink.write(&self.buf[..n as usize])?;
        Ok(n as u64)
    }

    fn pass_read(&mut self, fd: RawFd, len: usize, sink: &mut Sink) -> io::Result<u64> {
        let mut total = 0;
        loop {
            let n = self.pass_read_once(fd, len, sink)?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// One round of the mmap protocol of `include/uapi/relay_rs.h`: copy
    /// the completed sub-buffers out, hand them back, keep the copies the
    /// hand-back does not say were overwritten.
    fn pass_mmap(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let i = info(self.fd)?;
        let (ss, n, produced, consumed, bc) = (
            i.subbuf_size,
            i.n_subbufs,
            i.produced,
            i.consumed,
            i.bytes_consumed,
        );
        if produced == consumed {
            return Ok(0);
        }
        // Lapped by more than a ring (overwrite mode): only the newest
        // n_subbufs can still be there.
        let first = consumed.max(produced.saturating_sub(n));
        let count = produced - first;
        let mut pad = vec![0u64; count as usize];
        let arg = uapi::Padding {
            first,
            count,
            padding: pad.as_mut_ptr() as u64,
        };
        // SAFETY: RELAY_RS_IOC_PADDING reads a `struct relay_rs_padding` and
        // writes `count` u64 to `pad`.
        if unsafe { libc::ioctl(self.fd, uapi::PADDING as _, &arg) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut copies = Vec::with_capacity(count as usize);
        for (k, p) in pad.iter().enumerate() {
            let s = first + k as u64;
            let start = ((s % n) * ss) as usize;
            let skip = if s == consumed { bc as usize } else { 0 };
            let end = start + (ss - p.min(&ss)) as usize;
            let data = if start + skip < end && end <= self.map_len {
                // SAFETY: within the read-only mapping of `map_len` bytes.
                unsafe {
                    std::slice::from_raw_parts(self.map.add(start + skip), end - start - skip)
                }
                .to_vec()
            } else {
                Vec::new()
            };
            copies.push((s, data));
        }
        pause();
        let back = produced - consumed;
        // SAFETY: RELAY_RS_IOC_CONSUMED reads one u64.
        let dropped = unsafe { libc::ioctl(self.fd, uapi::CONSUMED as _, &back) };
        if dropped < 0 {
            return Err(io::Error::last_os_error());
        }
        // Sub-buffers [consumed, consumed + dropped) were overwritten: the
        // copies of those may mix two laps.
        let mut total = 0;
        for (s, data) in copies {
            if s >= consumed + dropped as u64 && !data.is_empty() {
                sink.write(&data)?;
                total += data.len() as u64;
            }
        }
        Ok(total)
    }

    fn pass_splice(&mut self, sink: &mut Sink) -> io::Result<u64> {
        let mut total = 0;
        loop {
            // SAFETY: splicing from the relay file into our pipe.
            let n = unsafe {
                libc::splice(
                    self.fd,
                    std::ptr::null_mut(),
                    self.pipe[1],
                    std::ptr::null_mut(),
                    bufsize(),
                    libc::SPLICE_F_NONBLOCK,
                )
            };
            let Some(n) = ready(n)? else {
                return Ok(total);
            };
            if n == 0 {
                return Ok(total);
            }
            let mut left = n as usize;
            while left > 0 {
                let moved = match (self.out_fd, &mut *sink) {
                    // Zero copy all the way into the output file.
                    // SAFETY: splicing from our pipe into the output file.
                    (Some(out), _) => unsafe {
                        libc::splice(
                            self.pipe[0],
                            std::ptr::null_mut(),
                            out,
                            std::ptr::null_mut(),
                            left,
                            0,
                        )
                    },
                    (None, sink) => {
                        // SAFETY: reading our own pipe into our buffer.
                        let r = unsafe {
                            libc::read(
                                self.pipe[0],
                                self.buf.as_mut_ptr().cast(),
                                left.min(self.buf.len()),
                            )
                        };
                        if r > 0 {
                            sink.write(&self.buf[..r as usize])?;
                        }
                        r
                    }
                };
                if moved <= 0 {
                    return Err(io::Error::last_os_error());
                }
                left -= moved as usize;
            }
            total += n as u64;
        }
    }

    fn pass_sendfile(&mut self, _sink: &mut Sink) -> io::Result<u64> {
        let Some(out) = self.out_fd else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "sendfile needs --out",
            ));
        };
        let mut total = 0;
        loop {
            // SAFETY: sendfile from the relay file into the output file.
            let n = unsafe { libc::sendfile(out, self.fd, std::ptr::null_mut(), bufsize()) };
            let Some(n) = ready(n)? else {
                return Ok(total);
            };
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
        }
    }
}

fn consume(
    path: PathBuf,
    mode: Mode,
    mut sink: Sink,
    out_fd: Option<RawFd>,
    bytes: Arc<AtomicU64>,
    idle: Option<u64>,
    start: Instant,
) -> io::Result<()> {
    let mut c = Consumer::new(&path, mode, out_fd)?;
    let mut last_data = Instant::now();
    loop {
        let rev = wait(c.fd, 100);
        let began = start.elapsed().as_nanos() as u64;
        let n = c.pass(&mut sink)?;
        bytes.fetch_add(n, Ordering::Relaxed);
        if n > 0 {
            FIRST_DATA_NS.fetch_min(began, Ordering::Relaxed);
            last_data = Instant::now();
            LAST_DATA_NS.fetch_max(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        let hup = rev & (libc::POLLHUP | libc::POLLERR) != 0;
        if (hup && n == 0) || STOP.load(Ordering::Relaxed) {
            // One more pass after the hang-up: whatever the last flush made.
            let n = c.pass(&mut sink)?;
            bytes.fetch_add(n, Ordering::Relaxed);
            if n == 0 || STOP.load(Ordering::Relaxed) {
                return Ok(());
            }
        }
        if idle.is_some_and(|ms| last_data.elapsed() > Duration::from_millis(ms)) {
            return Ok(());
        }
    }
}

fn cpu_files(dir: &Path, base: &str) -> Vec<(u32, PathBuf)> {
    let mut v: Vec<(u32, PathBuf)> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let cpu = name.strip_prefix(base)?.parse().ok()?;
                    Some((cpu, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `--poll-wait FILE MS`: how long until the file polls readable.
fn poll_wait(file: &str, ms: i32) -> ExitCode {
    let Ok(fd) = open_ro(Path::new(file)) else {
        println!("poll-wait: cannot open {file}");
        return ExitCode::FAILURE;
    };
    let t = Instant::now();
    let rev = wait(fd, ms);
    if rev & libc::POLLIN != 0 {
        println!("pollin after {} ms", t.elapsed().as_millis());
        ExitCode::SUCCESS
    } else if rev & libc::POLLHUP != 0 {
        println!("hang-up after {} ms", t.elapsed().as_millis());
        ExitCode::from(2)
    } else {
        println!("timeout (revents {rev:#x})");
        ExitCode::FAILURE
    }
}

/// A new pipe, `[read end, write end]`, with `pipe2` flags.
fn new_pipe(flags: libc::c_int) -> io::Result<[RawFd; 2]> {
    let mut p = [-1; 2];
    // SAFETY: `pipe2` fills the two-element array.
    if unsafe { libc::pipe2(p.as_mut_ptr(), flags) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(p)
}

/// A non-blocking splice of up to one page from `fd` into pipe end `to`.
fn splice_page_nonblock(fd: RawFd, to: RawFd) -> isize {
    // SAFETY: splicing between two descriptors we own; no offsets.
    unsafe {
        libc::splice(
            fd,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            4096,
            libc::SPLICE_F_NONBLOCK,
        )
    }
}

/// `--splice-hold FILE OUT GO`: splices what FILE has into a pipe, closes
/// FILE, prints `held N`, waits (at most 10 s) for GO to exist, then drains
/// the pipe into OUT. The pipe's pages outlive the file, and the channel if
/// it is closed meanwhile.
fn splice_hold(file: &str, out: &str, go: &str) -> ExitCode {
    let Ok(fd) = open_ro(Path::new(file)) else {
        println!("splice-hold: cannot open {file}");
        return ExitCode::FAILURE;
    };
    let p = match new_pipe(0) {
        Ok(p) => p,
        Err(e) => {
            println!("splice-hold: pipe: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut held = 0;
    loop {
        let n = splice_page_nonblock(fd, p[1]);
        if n <= 0 {
            break;
        }
        held += n;
    }
    // SAFETY: descriptors we own, not used after.
    unsafe {
        libc::close(fd);
        libc::close(p[1]);
    }
    println!("held {held}");
    let _ = io::stdout().flush();
    for _ in 0..1000 {
        if Path::new(go).exists() {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: the read end, ours; `File` closes it.
    let mut r = unsafe { File::from_raw_fd(p[0]) };
    let mut data = Vec::new();
    if let Err(e) = r.read_to_end(&mut data) {
        println!("splice-hold: reading the pipe: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = fs::write(out, &data) {
        println!("splice-hold: {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!("drained {}", data.len());
    ExitCode::SUCCESS
}

/// `--abuse FILE`: each bad mapping must fail, a good one must work.
fn mmap_abuse(file: &str) -> ExitCode {
    let fd = match open_ro(Path::new(file)) {
        Ok(fd) => fd,
        Err(e) => {
            println!("mmap-abuse: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let len = info(fd).map(|i| i.alloc_size as usize).unwrap_or(0);
    let page = 4096;
    let mut ok = true;
    // Not seekable: lseek and pread fail with ESPIPE.
    // SAFETY: lseek on our own descriptor.
    let r = unsafe { libc::lseek(fd, 0, libc::SEEK_SET) };
    let e = io::Error::last_os_error().raw_os_error();
    println!("abuse: lseek: {r} ({e:?})");
    ok &= r < 0 && e == Some(libc::ESPIPE);
    let mut b = [0u8; 8];
    // SAFETY: pread into our own buffer.
    let r = unsafe { libc::pread(fd, b.as_mut_ptr().cast(), 8, 0) };
    let e = io::Error::last_os_error().raw_os_error();
    println!("abuse: pread: {r} ({e:?})");
    ok &= r < 0 && e == Some(libc::ESPIPE);
    // SAFETY: a zero-length read into our own buffer.
    let r = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 0) };
    println!("abuse: zero-length read: {r}");
    ok &= r == 0;
    let errno = || io::Error::last_os_error().raw_os_error();
    // Bad destinations: EFAULT, and nothing consumed.
    // SAFETY: read into NULL: the kernel must refuse it.
    let r = unsafe { libc::read(fd, std::ptr::null_mut(), 100) };
    println!("abuse: read into NULL: {r} ({:?})", errno());
    ok &= r < 0 && errno() == Some(libc::EFAULT);
    // SAFETY: a fresh read-only anonymous mapping, unmapped below.
    let ro = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    // SAFETY: read into read-only memory: the kernel must refuse it.
    let r = unsafe { libc::read(fd, ro.cast(), 100) };
    println!("abuse: read into read-only memory: {r} ({:?})", errno());
    ok &= r < 0 && errno() == Some(libc::EFAULT);
    // SAFETY: unmapping our mapping.
    unsafe { libc::munmap(ro, page) };
    // Writes are refused, on this descriptor and on a writable one.
    // SAFETY: writing from our own buffer.
    let r = unsafe { libc::write(fd, b.as_ptr().cast(), 8) };
    println!(
        "abuse: write on the read-only descriptor: {r} ({:?})",
        errno()
    );
    ok &= r < 0;
    // SAFETY: a valid C string.
    let wfd = unsafe { libc::open(cstr(Path::new(file)).as_ptr(), libc::O_WRONLY) };
    if wfd >= 0 {
        // SAFETY: writing from our own buffer.
        let r = unsafe { libc::write(wfd, b.as_ptr().cast(), 8) };
        println!(
            "abuse: write on a write-only descriptor: {r} ({:?})",
            errno()
        );
        ok &= r < 0;
        // SAFETY: closing our descriptor.
        unsafe { libc::close(wfd) };
    }
    // A non-root user cannot open the file (mode 0400).
    // SAFETY: fork; the child only calls async-signal-safe functions.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: dropping privileges and trying to open, in the child.
        unsafe {
            libc::setgid(65534);
            libc::setuid(65534);
            let f = libc::open(cstr(Path::new(file)).as_ptr(), libc::O_RDONLY);
            let e = *libc::__errno_location();
            libc::_exit(if f < 0 && e == libc::EACCES { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our child.
    unsafe { libc::waitpid(child, &mut status, 0) };
    println!(
        "abuse: open as uid 65534: {}",
        if status == 0 {
            "refused (EACCES)"
        } else {
            "NOT refused"
        }
    );
    ok &= status == 0;
    // Splice into a full pipe: EAGAIN, nothing consumed.
    let Ok(p) = new_pipe(libc::O_NONBLOCK) else {
        println!("abuse: pipe: {:?}", errno());
        return ExitCode::FAILURE;
    };
    let junk = [0u8; 4096];
    // SAFETY: filling our own pipe until it is full.
    while unsafe { libc::write(p[1], junk.as_ptr().cast(), junk.len()) } > 0 {}
    let r = splice_page_nonblock(fd, p[1]);
    println!("abuse: splice into a full pipe: {r} ({:?})", errno());
    ok &= r < 0 && errno() == Some(libc::EAGAIN);
    // SAFETY: closing our pipe.
    unsafe {
        libc::close(p[0]);
        libc::close(p[1]);
    }
    // A huge count delivers what there is: exactly the produced bytes, so
    // nothing was consumed by the refused attempts above.
    // SAFETY: `stat` is plain data, valid when zeroed.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat into our own struct.
    unsafe { libc::fstat(fd, &mut st) };
    let mut big = vec![0u8; 1 << 20];
    // SAFETY: a count far beyond the data; the data fits our 1 MiB buffer.
    let r = unsafe { libc::read(fd, big.as_mut_ptr().cast(), 1 << 30) };
    println!(
        "abuse: read with a 1 GiB count: {r} (i_size {})",
        st.st_size
    );
    ok &= r == st.st_size as isize && r > 0;
    // Drained, a non-blocking splice has nothing to give: EAGAIN.
    // SAFETY: reading into our own buffer until the file is empty.
    while unsafe { libc::read(fd, big.as_mut_ptr().cast(), big.len()) } > 0 {}
    let Ok(p) = new_pipe(0) else {
        println!("abuse: pipe: {:?}", errno());
        return ExitCode::FAILURE;
    };
    let r = splice_page_nonblock(fd, p[1]);
    let e = io::Error::last_os_error().raw_os_error();
    println!("abuse: non-blocking splice when empty: {r} ({e:?})");
    ok &= r < 0 && e == Some(libc::EAGAIN);
    let try_map = |l: usize, prot: i32, flags: i32, off: i64| {
        // SAFETY: mapping attempts on our own descriptor; unmapped if made.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), l, prot, flags, fd, off) };
        if p == libc::MAP_FAILED {
            Err(io::Error::last_os_error())
        } else {
            Ok(p)
        }
    };
    let mut expect_fail = |what: &str, r: io::Result<*mut libc::c_void>| match r {
        Ok(p) => {
            println!("mmap-abuse: {what}: mapped, must be refused");
            // SAFETY: unmapping what was just mapped.
            unsafe { libc::munmap(p, len) };
            ok = false;
        }
        Err(e) => println!("mmap-abuse: {what}: refused ({e})"),
    };
    expect_fail(
        "short length",
        try_map(len - page, libc::PROT_READ, libc::MAP_SHARED, 0),
    );
    expect_fail(
        "long length",
        try_map(len + page, libc::PROT_READ, libc::MAP_SHARED, 0),
    );
    expect_fail(
        "non-zero offset",
        try_map(len, libc::PROT_READ, libc::MAP_SHARED, page as i64),
    );
    expect_fail(
        "PROT_WRITE shared",
        try_map(len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, 0),
    );
    expect_fail(
        "PROT_WRITE private",
        try_map(
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE,
            0,
        ),
    );
    match try_map(len, libc::PROT_READ, libc::MAP_SHARED, 0) {
        Ok(p) => {
            // SAFETY: changing the protection of our own mapping.
            let r = unsafe { libc::mprotect(p, len, libc::PROT_READ | libc::PROT_WRITE) };
            if r == 0 {
                println!("mmap-abuse: mprotect to writable: allowed, must be refused");
                ok = false;
            } else {
                println!(
                    "mmap-abuse: mprotect to writable: refused ({})",
                    io::Error::last_os_error()
                );
            }
            // SAFETY: touching every page of the read-only mapping.
            let sum: u64 = (0..len)
                .step_by(page)
                .map(|o| unsafe { *(p as *const u8).add(o) } as u64)
                .sum();
            println!(
                "mmap-abuse: whole read-only map works ({} pages, sum {sum})",
                len / page
            );
            // SAFETY: unmapping our mapping.
            unsafe { libc::munmap(p, len) };
        }
        Err(e) => {
            println!("mmap-abuse: whole read-only map failed: {e}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--poll-wait") && args.len() == 3 {
        return poll_wait(&args[1], args[2].parse().unwrap_or(1000));
    }
    if args.first().map(String::as_str) == Some("--abuse") && args.len() == 2 {
        return mmap_abuse(&args[1]);
    }
    if args.first().map(String::as_str) == Some("--splice-hold") && args.len() == 4 {
        return splice_hold(&args[1], &args[2], &args[3]);
    }
    if args.len() < 2 {
        eprintln!("usage: relay-read DIR BASE [--mode read|mmap|splice|sendfile|alternate] [--out DIR | --merged FILE] [--stats] [--idle-exit MS] [--bufsize BYTES] [--bench] [--pause MS]");
        return ExitCode::from(2);
    }
    let (dir, base) = (PathBuf::from(&args[0]), args[1].clone());
    let (mut mode, mut out, mut merged, mut stats, mut idle, mut bench) =
        (Mode::Read, None, None, false, None, false);
    let mut it = args[2..].iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mode" => {
                mode = match it.next().map(String::as_str) {
                    Some("read") => Mode::Read,
                    Some("mmap") => Mode::Mmap,
                    Some("splice") => Mode::Splice,
                    Some("sendfile") => Mode::Sendfile,
                    Some("alternate") => Mode::Alternate,
                    m => {
                        eprintln!("relay-read: unknown mode {m:?}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--out" => out = it.next().map(PathBuf::from),
            "--merged" => merged = it.next().map(PathBuf::from),
            "--stats" => stats = true,
            "--idle-exit" => idle = it.next().and_then(|s| s.parse().ok()),
            "--bufsize" => match it.next().and_then(|s| s.parse::<usize>().ok()) {
                Some(n) if n > 0 => BUFSIZE.store(n, Ordering::Relaxed),
                _ => {
                    eprintln!("relay-read: --bufsize needs a positive number");
                    return ExitCode::from(2);
                }
            },
            "--bench" => bench = true,
            "--pause" => match it.next().and_then(|s| s.parse::<u64>().ok()) {
                Some(ms) => PAUSE_MS.store(ms, Ordering::Relaxed),
                None => {
                    eprintln!("relay-read: --pause needs a number of milliseconds");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("relay-read: unknown argument {a}");
                return ExitCode::from(2);
            }
        }
    }
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        )
    };
    let files = cpu_files(&dir, &base);
    if files.is_empty() {
        eprintln!("relay-read: no {}/{}<cpu> files", dir.display(), base);
        return ExitCode::FAILURE;
    }
    let stats_path = dir.join(format!("{base}.stats"));
    let last_stats = Arc::new(Mutex::new(
        fs::read_to_string(&stats_path).unwrap_or_default(),
    ));
    let merged_file = merged
        .as_ref()
        .map(|m| Arc::new(Mutex::new(File::create(m).expect("merged output"))));
    if let Some(o) = &out {
        let _ = fs::create_dir_all(o);
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    let mut counters = Vec::new();
    for (cpu, path) in &files {
        let bytes = Arc::new(AtomicU64::new(0));
        counters.push((*cpu, bytes.clone()));
        let (sink, out_fd) = match (&out, &merged_file) {
            (Some(o), _) => {
                let f = OpenOptions::new()
                    .create(true)
                    .write(true)
                    .truncate(true)
                    .open(o.join(format!("{base}{cpu}")))
                    .expect("output file");
                let fd = f.as_raw_fd();
                (Sink::File(f), Some(fd))
            }
            (None, Some(m)) => (Sink::Merged(m.clone()), None),
            (None, None) => {
                // Discarded, without a copy where the mode allows (splice
                // and sendfile into /dev/null).
                let f = File::create("/dev/null").expect("/dev/null");
                let fd = f.as_raw_fd();
                (Sink::File(f), Some(fd))
            }
        };
        let (path, cpu) = (path.clone(), *cpu);
        handles.push(thread::spawn(move || {
            if let Err(e) = consume(path, mode, sink, out_fd, bytes, idle, start) {
                eprintln!("relay-read: cpu {cpu}: {e}");
                return false;
            }
            true
        }));
    }
    let tty = std::io::IsTerminal::is_terminal(&io::stderr());
    while handles.iter().any(|h| !h.is_finished()) {
        thread::sleep(Duration::from_millis(200));
        if let Ok(s) = fs::read_to_string(&stats_path) {
            *last_stats.lock().unwrap() = s;
        }
        if tty {
            let total: u64 = counters
                .iter()
                .map(|(_, b)| b.load(Ordering::Relaxed))
                .sum();
            eprint!(
                "\rrelay-read: {:.1} MB in {:.1} s  ",
                total as f64 / 1e6,
                start.elapsed().as_secs_f64()
            );
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
    if bench {
        // From the first data to the last: waiting for writers to start
        // and the idle tail are not reading. The CPU time is what reading
        // cost, however long the readers waited for the writers.
        let last = LAST_DATA_NS.load(Ordering::Relaxed);
        let first = FIRST_DATA_NS.load(Ordering::Relaxed).min(last);
        let busy = (last - first) as f64 / 1e9;
        println!(
            "BENCH bytes={total} secs={:.6} cpu={:.6}",
            busy.max(1e-9),
            cpu_secs()
        );
    }
    if stats {
        let s = last_stats.lock().unwrap();
        for line in s
            .lines()
            .filter(|l| l.starts_with("lost_") || l.starts_with("overwritten"))
        {
            println!("channel {line}");
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
