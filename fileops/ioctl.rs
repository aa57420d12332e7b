// SPDX-License-Identifier: GPL-2.0

//! ioctls of relay files (`include/uapi/relay_rs.h`): what an mmap consumer
//! needs to find the data (counters and padding) and to hand sub-buffers
//! back (`relay_subbufs_consumed`).

use crate::buffer::Buffer;
use kernel::{ioctl, prelude::*, uaccess::UserSlice};

const MAGIC: u32 = 0xb7;
/// `RELAY_RS_IOC_INFO`: 8 counters.
pub(crate) const IOC_INFO: u32 = ioctl::_IOR::<[u64; 8]>(MAGIC, 1);
/// `RELAY_RS_IOC_PADDING`: `{ first, count, user pointer }`.
pub(crate) const IOC_PADDING: u32 = ioctl::_IOW::<[u64; 3]>(MAGIC, 2);
/// `RELAY_RS_IOC_CONSUMED`: a sub-buffer count.
pub(crate) const IOC_CONSUMED: u32 = ioctl::_IOW::<u64>(MAGIC, 3);

fn read_u64s<const N: usize>(arg: usize) -> Result<[u64; N]> {
    let mut bytes = [[0u8; 8]; N];
    let mut r = UserSlice::new(arg as _, N * 8).reader();
    for b in bytes.iter_mut() {
        r.read_slice(b)?;
    }
    Ok(bytes.map(u64::from_ne_bytes))
}

fn write_u64s(arg: usize, values: &[u64]) -> Result {
    let mut w = UserSlice::new(arg as _, values.len() * 8).writer();
    for v in values {
        w.write_slice(&v.to_ne_bytes())?;
    }
    Ok(())
}

impl Buffer {
    /// Handles an ioctl on a file of this buffer.
    pub(crate) fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_INFO => {
                let info = self.consumer_info();
                write_u64s(arg, &info)?;
                Ok(0)
            }
            IOC_PADDING => {
                let [first, count, ptr] = read_u64s::<3>(arg)?;
                let n = self.channel().geometry().n_subbufs();
                if count as usize > n {
                    return Err(EINVAL);
                }
                let mut w = UserSlice::new(ptr as _, count as usize * 8).writer();
                for i in 0..count {
                    let pad = self.padding_of(first.wrapping_add(i) as usize) as u64;
                    w.write_slice(&pad.to_ne_bytes())?;
                }
                Ok(0)
            }
            IOC_CONSUMED => {
                let [n] = read_u64s::<1>(arg)?;
                // A count past what a `usize` holds is past what is produced.
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                // How many of them the consumer must drop (overwritten): a
                // count of sub-buffers, far below `isize::MAX`.
                Ok(self.consume_subbufs(n) as isize)
            }
            _ => Err(ENOTTY),
        }
    }
}
