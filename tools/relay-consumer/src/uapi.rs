// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of `include/uapi/relay_rs.h`: the two structures and the
//! three ioctl numbers of the mmap protocol, and the delivery interval's. `build.rs` compiles a C program
//! against the header and includes its const assertions here, so the crate
//! does not build if a layout or a number differs from the header's.

#![forbid(unsafe_code)]

use std::mem::{align_of, offset_of, size_of};

/// `struct relay_rs_buf_info`, what `RELAY_RS_IOC_INFO` returns: the
/// buffer's geometry and its producer and consumer counters.
///
/// Sub-buffers are counted from 0 since the channel was opened (or last
/// reset); count `s` lives at byte `(s % n_subbufs) * subbuf_size` of the
/// mapping.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct BufInfo {
    /// Bytes per sub-buffer.
    pub subbuf_size: u64,
    /// Sub-buffers in the ring.
    pub n_subbufs: u64,
    /// The length to `mmap()`: the ring rounded up to whole pages.
    pub alloc_size: u64,
    /// Sub-buffers completed so far.
    pub produced: u64,
    /// Sub-buffers consumed (handed back or read) so far.
    pub consumed: u64,
    /// Bytes `read()` already took from sub-buffer `consumed`.
    pub bytes_consumed: u64,
    /// The write offset in the sub-buffer being written (informational).
    pub offset: u64,
    /// 1 once the channel is closed (informational: `POLLHUP` says it too).
    pub finalized: u64,
}

/// `struct relay_rs_padding`, the argument of `RELAY_RS_IOC_PADDING`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Padding {
    /// The first sub-buffer asked for (a count, as [`BufInfo::produced`]).
    pub first: u64,
    /// How many sub-buffers, at most [`BufInfo::n_subbufs`].
    pub count: u64,
    /// User pointer to `count` `u64`, which the kernel fills.
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

/// `RELAY_RS_IOC_MAGIC`, the ioctl type of relay_rs files.
pub const MAGIC: u64 = 0xb7;
/// `RELAY_RS_IOC_INFO`: reads a [`BufInfo`].
pub const INFO: u64 = ioc(READ, 1, size_of::<BufInfo>());
/// `RELAY_RS_IOC_PADDING`: fills the padding of a run of sub-buffers.
pub const PADDING: u64 = ioc(WRITE, 2, size_of::<Padding>());
/// `RELAY_RS_IOC_CONSUMED`: hands sub-buffers back; returns how many of them
/// were overwritten before the hand-back.
pub const CONSUMED: u64 = ioc(WRITE, 3, size_of::<u64>());
/// `RELAY_RS_IOC_DELIVERY`: sets the channel's delivery interval, in
/// milliseconds (0: none).
pub const DELIVERY: u64 = ioc(WRITE, 4, size_of::<u64>());

/// The size of the field that `f` borrows.
const fn field_size<T, F>(_f: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

include!(concat!(env!("OUT_DIR"), "/uapi_check.rs"));
