// SPDX-License-Identifier: GPL-2.0

//! The bookkeeping of one round of the mmap protocol of
//! `include/uapi/relay_rs.h`, as pure arithmetic on the counters
//! `RELAY_RS_IOC_INFO` returned: which sub-buffers to ask the padding of,
//! which bytes of the mapping each one's data are, how many to hand back,
//! and which copies to keep once the hand-back said how many were
//! overwritten. [`crate::Consumer`] does the system calls around it.

#![forbid(unsafe_code)]

use crate::uapi::BufInfo;

/// One round: the completed sub-buffers not yet handed back when
/// `RELAY_RS_IOC_INFO` was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Round {
    info: BufInfo,
    first: u64,
}

impl Round {
    /// The round for counters `info`, or `None` if every completed
    /// sub-buffer was already handed back.
    pub fn new(info: &BufInfo) -> Option<Self> {
        if info.produced <= info.consumed || info.n_subbufs == 0 {
            return None;
        }
        // Lapped by more than a ring (overwrite mode): only the newest
        // n_subbufs can still be there.
        let first = info
            .consumed
            .max(info.produced.saturating_sub(info.n_subbufs));
        Some(Round { info: *info, first })
    }

    /// The first sub-buffer to ask the padding of (`relay_rs_padding.first`).
    pub fn first(&self) -> u64 {
        self.first
    }

    /// How many sub-buffers to ask the padding of, and to copy, from
    /// [`Round::first`] on (at most `n_subbufs`).
    pub fn count(&self) -> usize {
        (self.info.produced - self.first) as usize
    }

    /// The argument of `RELAY_RS_IOC_CONSUMED`: every sub-buffer of the
    /// round, including those skipped because the producer lapped them.
    pub fn hand_back(&self) -> u64 {
        self.info.produced - self.info.consumed
    }

    /// The byte range of the mapping holding the data of sub-buffer
    /// `first + k` whose padding is `padding`: from its start (past what
    /// `read()` already took, for the sub-buffer being consumed) to its end
    /// minus the padding. `None` if it holds nothing to copy.
    pub fn data(&self, k: usize, padding: u64) -> Option<(usize, usize)> {
        let (ss, s) = (self.info.subbuf_size, self.first + k as u64);
        let start = (s % self.info.n_subbufs) * ss;
        let skip = if s == self.info.consumed {
            self.info.bytes_consumed
        } else {
            0
        };
        let end = start + (ss - padding.min(ss));
        (start + skip < end).then_some(((start + skip) as usize, end as usize))
    }

    /// Whether the copy of sub-buffer `first + k` is intact, given what
    /// `RELAY_RS_IOC_CONSUMED` returned: sub-buffers `[consumed, consumed +
    /// dropped)` were overwritten before they were handed back, and their
    /// copies may mix two laps.
    pub fn keep(&self, k: usize, dropped: u64) -> bool {
        self.first + k as u64 >= self.info.consumed.saturating_add(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(produced: u64, consumed: u64, bytes_consumed: u64) -> BufInfo {
        BufInfo {
            subbuf_size: 4096,
            n_subbufs: 4,
            alloc_size: 16384,
            produced,
            consumed,
            bytes_consumed,
            ..BufInfo::default()
        }
    }

    #[test]
    fn nothing_completed() {
        assert_eq!(Round::new(&info(3, 3, 0)), None);
        assert_eq!(Round::new(&info(0, 0, 0)), None);
    }

    #[test]
    fn plain_round() {
        let r = Round::new(&info(6, 4, 0)).unwrap();
        assert_eq!((r.first(), r.count(), r.hand_back()), (4, 2, 2));
        // Sub-buffer 4 is slot 0, 5 is slot 1; padding trims the tail.
        assert_eq!(r.data(0, 96), Some((0, 4000)));
        assert_eq!(r.data(1, 0), Some((4096, 8192)));
        // Wholly padding: nothing to copy.
        assert_eq!(r.data(1, 4096), None);
        assert_eq!(r.data(1, 9999), None);
        assert!(r.keep(0, 0) && r.keep(1, 0));
    }

    #[test]
    fn skips_what_read_took() {
        let r = Round::new(&info(2, 1, 100)).unwrap();
        assert_eq!(r.data(0, 0), Some((4096 + 100, 8192)));
        // read() took everything but the padding.
        assert_eq!(r.data(0, 3996), None);
    }

    #[test]
    fn lapped_by_more_than_a_ring() {
        // 10 produced, 3 consumed, 4 slots: only 6..10 can still be there,
        // but all 7 are handed back.
        let r = Round::new(&info(10, 3, 50)).unwrap();
        assert_eq!((r.first(), r.count(), r.hand_back()), (6, 4, 7));
        // bytes_consumed belongs to sub-buffer 3, not copied.
        assert_eq!(r.data(0, 0), Some((2 * 4096, 3 * 4096)));
        // The kernel says 4 were overwritten: 3, 4, 5 (skipped) and 6.
        assert!(!r.keep(0, 4));
        assert!(r.keep(1, 4) && r.keep(3, 4));
    }

    #[test]
    fn dropped_copies() {
        let r = Round::new(&info(8, 4, 0)).unwrap();
        assert_eq!(r.count(), 4);
        assert!(!r.keep(0, 1) && r.keep(1, 1));
        assert!((0..4).all(|k| !r.keep(k, 4)));
    }
}
