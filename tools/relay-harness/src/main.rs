// SPDX-License-Identifier: GPL-2.0

//! relay-harness: the guest suite's checks of the relay file interface
//! that a consumer does not do, each a subcommand whose output and exit
//! status `tests/guest/test.sh` asserts on:
//!
//! ```text
//! relay-harness poll-wait FILE MS         # prints "polling", then the ms until POLLIN, or "timeout"
//! relay-harness mmap-abuse FILE           # seeks, pread, bad reads, writes and mmaps refused
//! relay-harness splice-hold FILE OUT GO   # pipe pages outliving FILE, drained once GO exists
//! ```
//!
//! It calls libc directly where it abuses the interface on purpose (bad
//! pointers, bad mappings, a full pipe), and relay-consumer for the rest.

use std::{
    ffi::CString,
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    os::{
        fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, RawFd},
        unix::fs::OpenOptionsExt,
    },
    path::Path,
    process::ExitCode,
    thread,
    time::{Duration, Instant},
};

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_encoded_bytes()).unwrap()
}

/// Opens `p` read-only and non-blocking, as a consumer does.
fn open_ro(p: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(p)
}

/// Waits for POLLIN or POLLHUP; returns the revents (0 on timeout).
fn wait(f: &File, ms: i32) -> i16 {
    relay_consumer::poll(f.as_fd(), libc::POLLIN, ms).unwrap_or(0)
}

/// `poll-wait FILE MS`: how long until the file polls readable.
fn poll_wait(file: &str, ms: i32) -> ExitCode {
    let Ok(f) = open_ro(Path::new(file)) else {
        println!("poll-wait: cannot open {file}");
        return ExitCode::FAILURE;
    };
    // For scripts that must write only once it polls (a slow guest may
    // take longer to start the program than they would wait).
    println!("polling");
    let _ = io::stdout().flush();
    let t = Instant::now();
    let rev = wait(&f, ms);
    if rev & libc::POLLIN != 0 {
        println!("pollin after {} ms", t.elapsed().as_millis());
        // CLOCK_MONOTONIC, as the kernel's ktime_get_ns().
        println!("pollin at {} ns", relay_consumer::monotonic_ns());
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

/// `splice-hold FILE OUT GO`: splices what FILE has into a pipe, closes
/// FILE, prints `held N`, waits (at most 10 s) for GO to exist, then drains
/// the pipe into OUT. The pipe's pages outlive the file, and the channel if
/// it is closed meanwhile.
fn splice_hold(file: &str, out: &str, go: &str) -> ExitCode {
    let Ok(f) = open_ro(Path::new(file)) else {
        println!("splice-hold: cannot open {file}");
        return ExitCode::FAILURE;
    };
    let fd = f.into_raw_fd();
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

/// `mmap-abuse FILE`: each bad mapping must fail, a good one must work.
fn mmap_abuse(file: &str) -> ExitCode {
    let f = match open_ro(Path::new(file)) {
        Ok(f) => f,
        Err(e) => {
            println!("mmap-abuse: {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let len = relay_consumer::buf_info(f.as_fd())
        .map(|i| i.alloc_size as usize)
        .unwrap_or(0);
    // Raw, for the calls below that no safe wrapper would make; `f` keeps
    // it open until the end.
    let fd = f.as_raw_fd();
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
            // Touching every page of the read-only mapping.
            let sum: u64 = (0..len)
                .step_by(page)
                .map(|o| {
                    // SAFETY: `o < len`: a byte of the live, readable mapping.
                    u64::from(unsafe { *(p as *const u8).add(o) })
                })
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

const USAGE: &str =
    "usage: relay-harness poll-wait FILE MS | mmap-abuse FILE | splice-hold FILE OUT GO";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["poll-wait", file, ms] => poll_wait(file, ms.parse().unwrap_or(1000)),
        ["mmap-abuse", file] => mmap_abuse(file),
        ["splice-hold", file, out, go] => splice_hold(file, out, go),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
