// SPDX-License-Identifier: GPL-2.0

//! ioctls of relay files (`include/uapi/relay_rs.h`): what an mmap consumer
//! needs to find the data (counters and padding) and to hand sub-buffers
//! back (`relay_subbufs_consumed`), and the channel's delivery interval.
//!
//! The structures are the uapi header's own (through bindgen); the ioctl
//! numbers are computed here and checked against the header's at build time.
//! They cross to and from user space as arrays of their `__u64` fields,
//! which every kernel's user-copy traits cover.

use crate::{
    bindings::{self, relay_rs_buf_info as BufInfo, relay_rs_padding as Padding},
    buffer::Buffer,
    compat::uaccess::user_slice,
};
use core::mem::size_of;
use kernel::{ioctl, prelude::*};

const MAGIC: u32 = 0xb7;
/// `RELAY_RS_IOC_INFO`: the buffer's counters.
pub(crate) const IOC_INFO: u32 = ioctl::_IOR::<BufInfo>(MAGIC, 1);
/// `RELAY_RS_IOC_PADDING`: `{ first, count, user pointer }`.
pub(crate) const IOC_PADDING: u32 = ioctl::_IOW::<Padding>(MAGIC, 2);
/// `RELAY_RS_IOC_CONSUMED`: a sub-buffer count.
pub(crate) const IOC_CONSUMED: u32 = ioctl::_IOW::<u64>(MAGIC, 3);
/// `RELAY_RS_IOC_DELIVERY`: the channel's delivery interval in ms.
pub(crate) const IOC_DELIVERY: u32 = ioctl::_IOW::<u64>(MAGIC, 4);

const _: () = {
    assert!(IOC_INFO == bindings::RELAY_RS_C_IOC_INFO);
    assert!(IOC_PADDING == bindings::RELAY_RS_C_IOC_PADDING);
    assert!(IOC_CONSUMED == bindings::RELAY_RS_C_IOC_CONSUMED);
    assert!(IOC_DELIVERY == bindings::RELAY_RS_C_IOC_DELIVERY);
    // Only `__u64`s, without padding: every byte is a field's.
    assert!(size_of::<BufInfo>() == size_of::<[u64; 8]>());
    assert!(size_of::<Padding>() == size_of::<[u64; 3]>());
};

/// Reads `N` `__u64`s from the user pointer `arg`.
fn read_user<const N: usize>(arg: usize) -> Result<[u64; N]> {
    user_slice(arg, size_of::<[u64; N]>()).reader().read()
}

/// `info` as the uapi header lays it out.
fn info_words(info: &BufInfo) -> [u64; 8] {
    [
        info.subbuf_size,
        info.n_subbufs,
        info.alloc_size,
        info.produced,
        info.consumed,
        info.bytes_consumed,
        info.offset,
        info.finalized,
    ]
}

impl Buffer {
    /// Handles an ioctl on a file of this buffer.
    pub(crate) fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_INFO => {
                let info = info_words(&self.consumer_info());
                user_slice(arg, size_of::<BufInfo>())
                    .writer()
                    .write(&info)?;
                Ok(0)
            }
            IOC_PADDING => {
                let [first, count, padding] = read_user::<3>(arg)?;
                let n = self.channel().geometry().n_subbufs();
                if count as usize > n {
                    return Err(EINVAL);
                }
                let mut w = user_slice(padding as usize, count as usize * 8).writer();
                for i in 0..count {
                    let pad = self.padding_of(first.wrapping_add(i) as usize) as u64;
                    w.write(&pad)?;
                }
                Ok(0)
            }
            IOC_CONSUMED => {
                let [n] = read_user::<1>(arg)?;
                // A count past what a `usize` holds is past what is produced.
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                // How many of them the consumer must drop (overwritten): a
                // count of sub-buffers, far below `isize::MAX`.
                Ok(self.consume_subbufs(n) as isize)
            }
            IOC_DELIVERY => {
                let [ms] = read_user::<1>(arg)?;
                let ms = u32::try_from(ms).map_err(|_| EINVAL)?;
                self.channel().set_delivery_interval(ms)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}
