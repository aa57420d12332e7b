// SPDX-License-Identifier: GPL-2.0

//! The crate's only `unsafe` code: thin wrappers over the system calls a
//! relay_rs consumer needs that std does not offer (`poll`, the three
//! relay_rs ioctls, `mmap`/`munmap`, `pipe2`, `splice`, `sendfile`, the
//! process CPU clock and a `SIGINT` handler), each returning
//! [`io::Result`] and taking descriptors as [`BorrowedFd`], so that a
//! descriptor is open for the whole call. [`Mapping`] owns a read-only shared
//! mapping and unmaps it on drop; it never lends out a reference to the
//! mapped bytes, which the kernel may be writing, only copies of them.

use crate::uapi;
use std::{
    fs::File,
    io,
    os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd},
    ptr,
    sync::{
        atomic::{AtomicBool, Ordering},
        Once,
    },
    time::Duration,
};

/// `Ok(r)` for a non-negative result, else the `errno` error.
fn check<T: Into<i64> + Copy>(r: T) -> io::Result<T> {
    if r.into() < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// `poll(2)` on one descriptor: waits at most `ms` milliseconds (-1: no
/// limit) for `events`, returns the `revents` (0 on timeout).
pub fn poll(fd: BorrowedFd<'_>, events: i16, ms: i32) -> io::Result<i16> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: `p` is one valid, writable pollfd, and the count says one.
    let n = check(unsafe { libc::poll(&mut p, 1, ms) })?;
    Ok(if n > 0 { p.revents } else { 0 })
}

/// `RELAY_RS_IOC_INFO`: the buffer's geometry and counters.
pub fn info(fd: BorrowedFd<'_>) -> io::Result<uapi::BufInfo> {
    let mut i = uapi::BufInfo::default();
    // SAFETY: RELAY_RS_IOC_INFO writes one `struct relay_rs_buf_info`, whose
    // layout `uapi::BufInfo` has (checked at build time), into `i`, which
    // is valid and writable; on other files the ioctl fails without writing.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), uapi::INFO as _, &mut i) })?;
    Ok(i)
}

/// `RELAY_RS_IOC_PADDING`: fills `pad[k]` with the padding of sub-buffer
/// `first + k`, for every `k` of `pad` (at most `n_subbufs` of them).
pub fn padding(fd: BorrowedFd<'_>, first: u64, pad: &mut [u64]) -> io::Result<()> {
    let arg = uapi::Padding {
        first,
        count: pad.len() as u64,
        padding: pad.as_mut_ptr() as u64,
    };
    // SAFETY: RELAY_RS_IOC_PADDING reads one `struct relay_rs_padding`
    // (`arg`, valid for the call) and writes at most `count` u64 to the
    // pointer in it, which is `pad`, writable for exactly `count` u64.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), uapi::PADDING as _, &arg) })?;
    Ok(())
}

/// `RELAY_RS_IOC_CONSUMED`: hands `count` sub-buffers back; returns how
/// many of them the producer overwrote before the hand-back.
pub fn hand_back(fd: BorrowedFd<'_>, count: u64) -> io::Result<u64> {
    // SAFETY: RELAY_RS_IOC_CONSUMED reads one u64 through the pointer,
    // which is `count`, valid for the call.
    let r = check(unsafe { libc::ioctl(fd.as_raw_fd(), uapi::CONSUMED as _, &count) })?;
    Ok(r as u64)
}

/// `RELAY_RS_IOC_DELIVERY`: sets the channel's delivery interval to `ms`
/// milliseconds (0: none).
pub fn set_delivery_interval(fd: BorrowedFd<'_>, ms: u64) -> io::Result<()> {
    // SAFETY: RELAY_RS_IOC_DELIVERY reads one u64 through the pointer,
    // which is `ms`, valid for the call.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), uapi::DELIVERY as _, &ms) })?;
    Ok(())
}

/// `CLOCK_MONOTONIC` in nanoseconds: the kernel's `ktime_get_ns()`, which
/// timestamps the samples' RRT1 records.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A read-only shared mapping of a whole file, unmapped on drop.
///
/// The kernel may write the mapped bytes at any time (the producer of an
/// overwrite-mode channel laps the consumer), so no `&[u8]` of them is ever
/// made: [`Mapping::copy_out`] copies bytes out, and the mmap protocol says
/// afterwards which copies to trust.
#[derive(Debug)]
pub struct Mapping {
    addr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is a range of this process's address space that only
// `Drop` unmaps, from whichever thread owns the `Mapping`; nothing about it
// is tied to the thread that made it.
unsafe impl Send for Mapping {}

impl Mapping {
    /// Maps `len` bytes of `fd` from offset 0, `PROT_READ`, `MAP_SHARED`.
    pub fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<Self> {
        // SAFETY: a new mapping at an address the kernel chooses, so no
        // existing memory is replaced; it stays until `Drop` unmaps it.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping { addr, len })
    }

    /// Appends bytes `start..end` of the mapping to `dst`; appends nothing
    /// if the range is not within the mapping.
    pub fn copy_out(&self, start: usize, end: usize, dst: &mut Vec<u8>) {
        if start > end || end > self.len {
            return;
        }
        let n = end - start;
        dst.reserve(n);
        // No reference to the mapped bytes is formed: they are copied as
        // they are, possibly while the kernel writes them (overwrite mode),
        // and any byte pattern is a valid `u8`.
        // SAFETY: `start..end` is within the live, readable mapping (checked
        // above; unmapped only on drop); `dst` has room for `n` more bytes
        // (reserved) and is not mapped memory, so the two do not overlap.
        unsafe {
            ptr::copy_nonoverlapping(
                self.addr.cast::<u8>().add(start),
                dst.as_mut_ptr().add(dst.len()),
                n,
            )
        };
        // SAFETY: the `n` bytes past the old length were just initialised.
        unsafe { dst.set_len(dst.len() + n) };
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `addr..addr + len` is the mapping `new` made, unmapped only
        // here, and no reference into it exists (`copy_out` makes none).
        unsafe { libc::munmap(self.addr, self.len) };
    }
}

/// A pipe: `(read end, write end)`, with `pipe2(2)` `flags`.
pub fn pipe(flags: libc::c_int) -> io::Result<(File, File)> {
    let mut p = [-1; 2];
    // SAFETY: `pipe2` writes two descriptors into the two-element array.
    check(unsafe { libc::pipe2(p.as_mut_ptr(), flags) })?;
    // SAFETY: `pipe2` succeeded: both are new descriptors that nothing else
    // owns.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(p[0]), OwnedFd::from_raw_fd(p[1])) };
    Ok((File::from(r), File::from(w)))
}

/// Asks for a pipe of `bytes` capacity (`F_SETPIPE_SZ`); the kernel may
/// round it up, or refuse it beyond `/proc/sys/fs/pipe-max-size`.
pub fn set_pipe_size(pipe: BorrowedFd<'_>, bytes: usize) -> io::Result<()> {
    let bytes = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: F_SETPIPE_SZ takes an int and touches no memory of ours.
    check(unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, bytes) })?;
    Ok(())
}

/// `splice(2)` of up to `len` bytes from `from` to `to`, without offsets
/// (one of them must be a pipe); returns the bytes moved.
pub fn splice(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    len: usize,
    flags: libc::c_uint,
) -> io::Result<usize> {
    // SAFETY: no offset pointers (NULL: the files' own positions); the
    // kernel touches no memory of ours.
    let n = unsafe {
        libc::splice(
            from.as_raw_fd(),
            ptr::null_mut(),
            to.as_raw_fd(),
            ptr::null_mut(),
            len,
            flags,
        )
    };
    Ok(check(n as i64)? as usize)
}

/// `sendfile(2)` of up to `len` bytes from `from` to `to`, at `from`'s own
/// position; returns the bytes moved.
pub fn sendfile(to: BorrowedFd<'_>, from: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    // SAFETY: no offset pointer (NULL: `from`'s own position); the kernel
    // touches no memory of ours.
    let n = unsafe { libc::sendfile(to.as_raw_fd(), from.as_raw_fd(), ptr::null_mut(), len) };
    Ok(check(n as i64)? as usize)
}

/// The CPU time this process has used, in every thread, live or ended
/// (`CLOCK_PROCESS_CPUTIME_ID`); zero if the clock cannot be read.
pub fn process_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } < 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs (once) a `SIGINT` handler that only sets the returned flag, so
/// that Ctrl-C stops consumers at their next pass instead of killing the
/// process with data unwritten.
pub fn sigint_flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe; `signal` touches no memory of ours.
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    });
    &INTERRUPTED
}
