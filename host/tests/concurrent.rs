// SPDX-License-Identifier: GPL-2.0

//! The ring under real concurrency: a producer thread and a consumer
//! thread, as a CPU's writers and a reader of its file are. The memory is
//! atomic bytes, so a protocol bug shows up as corrupted records rather than
//! as undefined behaviour. Records carry a sequence number and a checksum.
#![cfg(not(loom))] // Under loom only tests/loom.rs builds.

use relay_rs_host::{
    ring::{Geometry, Ring, SwitchHooks},
    Cells,
};
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU8, Ordering::*},
        Arc,
    },
    thread,
};

struct Shared {
    geo: Geometry,
    cells: Cells,
    mem: Vec<AtomicU8>,
    done: AtomicBool,
}

impl Shared {
    fn new(ss: usize, n: usize) -> Self {
        let geo = Geometry::new(ss, n).unwrap();
        Shared {
            geo,
            cells: Cells::new(n),
            mem: (0..geo.ring_size()).map(|_| AtomicU8::new(0)).collect(),
            done: AtomicBool::new(false),
        }
    }

    /// Copies `len` bytes at `pos`; `slow`, pausing in the middle, so that
    /// an overwriting producer laps the copy now and then.
    fn copy(&self, pos: usize, len: usize, slow: bool) -> Vec<u8> {
        (pos..pos + len)
            .map(|i| {
                if slow && i == pos + len / 2 {
                    thread::yield_now();
                }
                self.mem[i].load(Relaxed)
            })
            .collect()
    }

    fn ring(&self) -> Ring<'_> {
        self.cells.ring(self.geo)
    }
}

/// Hooks of a no-overwrite or an overwrite ("flight recorder") client,
/// counting losses.
struct Hooks<'a, 'r> {
    ring: &'a Ring<'r>,
    lost: &'a mut usize,
    overwrite: bool,
}

impl SwitchHooks for Hooks<'_, '_> {
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        self.overwrite || !self.ring.is_full()
    }
    fn produced(&mut self, _: usize) {}
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _: usize) {
        *self.lost += 1;
    }
    fn lost_too_big(&mut self, _: usize) {
        *self.lost += 1;
    }
}

fn record(seq: u32, len: usize) -> Vec<u8> {
    let mut r = vec![0u8; len];
    r[0..4].copy_from_slice(&seq.to_le_bytes());
    r[4..6].copy_from_slice(&(len as u16).to_le_bytes());
    for (i, b) in r[8..].iter_mut().enumerate() {
        *b = (seq as usize * 13 + i * 7) as u8;
    }
    let sum = r[8..]
        .iter()
        .fold(0u16, |s, &b| s.wrapping_mul(31).wrapping_add(b as u16));
    r[6..8].copy_from_slice(&sum.to_le_bytes());
    r
}

/// Hands the whole records at the front of `stream` to `check`.
fn parse_whole(stream: &mut Vec<u8>, check: &mut impl FnMut(&[u8])) {
    let mut at = 0;
    while stream.len() - at >= 8 {
        let len = u16::from_le_bytes([stream[at + 4], stream[at + 5]]) as usize;
        if len < 8 || stream.len() - at < len {
            break;
        }
        at += len;
    }
    let whole: Vec<u8> = stream.drain(..at).collect();
    check(&whole);
}

/// How the consumer thread reads.
#[derive(Clone, Copy, PartialEq)]
enum Consumer {
    /// `read()`: runs of at most 4096 bytes, each checked after its copy.
    Read,
    /// `read()` of whole runs (records never cut by the read size).
    ReadRuns,
    /// An mmap consumer: copies the completed sub-buffers, hands them
    /// back, drops the copies of those the hand-back says were overwritten.
    Mmap,
}

fn run(ss: usize, n: usize, count: u32) {
    race(ss, n, count, false, Consumer::Read);
}

/// A producer and a consumer thread on one buffer; records checked for
/// corruption, order and repeats; conservation checked at the end.
fn race(ss: usize, n: usize, count: u32, overwrite: bool, consumer: Consumer) {
    let shared = Arc::new(Shared::new(ss, n));
    let producer = {
        let s = shared.clone();
        thread::spawn(move || {
            let mut lost = 0;
            for seq in 0..count {
                // Paced so that the consumer keeps up now and then
                // (else one side of the race runs alone).
                if (overwrite || consumer == Consumer::Mmap) && seq % 4 == 0 {
                    thread::yield_now();
                }
                let len = 8 + (seq as usize * 7919) % (ss - 8 + 1);
                let rec = record(seq, len);
                let ring = s.ring();
                let pos = ring.room(
                    len,
                    &mut Hooks {
                        ring: &ring,
                        lost: &mut lost,
                        overwrite,
                    },
                );
                if let Some(pos) = pos {
                    // Alternate the two ways to claim room: a reservation
                    // filled after the claim, and a write filled before.
                    let reserve = seq % 2 == 0;
                    if reserve {
                        ring.reserved(len);
                    }
                    for (i, b) in rec.iter().enumerate() {
                        s.mem[pos + i].store(*b, Relaxed);
                    }
                    if !reserve {
                        ring.wrote(len);
                    }
                }
                if seq % 97 == 0 {
                    ring.switch_subbuf(
                        0,
                        &mut Hooks {
                            ring: &ring,
                            lost: &mut 0,
                            overwrite,
                        },
                    );
                }
            }
            let ring = s.ring();
            ring.switch_subbuf(
                0,
                &mut Hooks {
                    ring: &ring,
                    lost: &mut 0,
                    overwrite,
                },
            );
            s.done.store(true, SeqCst);
            lost
        })
    };
    let (mut got, mut next_min) = (0usize, 0u32);
    // Checks the whole records of one delivered chunk: intact, in order,
    // none twice.
    let mut check = |chunk: &[u8]| {
        let mut at = 0;
        while at < chunk.len() {
            assert!(chunk.len() - at >= 8, "partial record in a chunk");
            let len = u16::from_le_bytes([chunk[at + 4], chunk[at + 5]]) as usize;
            assert!(
                len >= 8 && len <= ss && at + len <= chunk.len(),
                "bad length {len}"
            );
            let seq = u32::from_le_bytes(chunk[at..at + 4].try_into().unwrap());
            assert_eq!(
                &chunk[at..at + len],
                &record(seq, len)[..],
                "corrupt record {seq}"
            );
            assert!(seq >= next_min, "record {seq} out of order or twice");
            next_min = seq + 1;
            got += 1;
            at += len;
        }
    };
    let mut stream = Vec::new();
    let mut last_over = 0;
    loop {
        let finished = shared.done.load(SeqCst);
        let ring = shared.ring();
        let mut read_any = false;
        match consumer {
            Consumer::Read | Consumer::ReadRuns => {
                let max = if consumer == Consumer::Read {
                    4096
                } else {
                    usize::MAX
                };
                loop {
                    // A catch-up (counted in the folded total) ends the
                    // records that the reader was in the middle of.
                    let folded = shared.cells.folded();
                    let Some(r) = ring.next_read(max) else {
                        break;
                    };
                    if shared.cells.folded() != folded {
                        stream.clear();
                    }
                    let (pos, len) = (r.pos, r.len);
                    assert!(pos + len <= shared.mem.len(), "read past the ring");
                    let copy = shared.copy(pos, len, overwrite);
                    let folded = shared.cells.folded();
                    if ring.consume_run(r) {
                        if consumer == Consumer::Read {
                            stream.extend(copy);
                            parse_whole(&mut stream, &mut check);
                            if shared.cells.folded() != folded {
                                stream.clear();
                            }
                        } else {
                            check(&copy);
                        }
                    } else {
                        assert!(overwrite, "a no-overwrite copy dropped");
                        stream.clear();
                    }
                    read_any = true;
                }
            }
            Consumer::Mmap => {
                let produced = shared.cells.produced();
                let consumed = shared.cells.consumed();
                let copies: Vec<Vec<u8>> = (consumed..produced)
                    .map(|k| {
                        let start = shared.geo.index(k) * ss;
                        let pad = shared.cells.padding(shared.geo.index(k)).min(ss);
                        shared.copy(start, ss - pad, overwrite)
                    })
                    .collect();
                let lost = ring.subbufs_consumed(copies.len());
                assert!(
                    overwrite || lost == 0,
                    "no-overwrite sub-buffers overwritten"
                );
                for c in &copies[lost..] {
                    check(c);
                }
                read_any = !copies.is_empty();
            }
        }
        // A counter that reported a loss never goes down.
        let over = ring.overwritten();
        assert!(
            over >= last_over,
            "overwritten went from {last_over} to {over}"
        );
        last_over = over;
        if finished && !read_any {
            break;
        }
        thread::yield_now();
    }
    let lost = producer.join().unwrap();
    let over = shared.ring().overwritten();
    let partial = shared.cells.partial();
    let counted = got + lost + over;
    if consumer == Consumer::Read && overwrite {
        // Records cut by the read size and then lapped are neither
        // delivered nor... counted: within the partial bound.
        assert!(
            counted <= count as usize + partial,
            "{counted} counted of {count}"
        );
    } else {
        assert!(stream.is_empty(), "partial record left");
        assert!(
            (count as usize..=count as usize + partial).contains(&counted),
            "written {count} != read {got} + lost {lost} + overwritten {over} (partial {partial})"
        );
        if consumer == Consumer::Mmap {
            assert_eq!(counted, count as usize, "mmap conservation is exact");
        }
    }
    if !overwrite {
        assert_eq!(over, 0);
    }
}

#[test]
fn producer_and_consumer_race_small_ring() {
    run(64, 2, 200_000);
}

#[test]
fn producer_and_consumer_race_larger_ring() {
    run(512, 8, 200_000);
}

#[test]
fn overwrite_reader_never_gets_torn_or_repeated_records() {
    race(256, 4, 200_000, true, Consumer::ReadRuns);
    race(64, 2, 200_000, true, Consumer::ReadRuns);
}

#[test]
fn overwrite_small_reads_stay_intact() {
    race(512, 4, 200_000, true, Consumer::Read);
}

#[test]
fn overwrite_mmap_consumer_is_exact() {
    race(256, 4, 200_000, true, Consumer::Mmap);
    race(64, 2, 200_000, true, Consumer::Mmap);
}

#[test]
fn no_overwrite_mmap_consumer_is_exact() {
    race(256, 4, 100_000, false, Consumer::Mmap);
}
