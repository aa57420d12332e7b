// SPDX-License-Identifier: GPL-2.0

//! The ring under real concurrency: a producer thread and a consumer
//! thread, as a CPU's writers and a reader of its file are. The memory is
//! atomic bytes, so a protocol bug shows up as corrupted records rather than
//! as undefined behaviour. Records carry a sequence number and a checksum.

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

    fn ring(&self) -> Ring<'_> {
        self.cells.ring(self.geo)
    }
}

/// No-overwrite hooks, counting losses.
struct Hooks<'a, 'r> {
    ring: &'a Ring<'r>,
    lost: &'a mut usize,
}

impl SwitchHooks for Hooks<'_, '_> {
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        !self.ring.is_full()
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

fn run(ss: usize, n: usize, count: u32) {
    let shared = Arc::new(Shared::new(ss, n));
    let producer = {
        let s = shared.clone();
        thread::spawn(move || {
            let mut lost = 0;
            for seq in 0..count {
                let len = 8 + (seq as usize * 7919) % (ss - 8 + 1);
                let rec = record(seq, len);
                let ring = s.ring();
                let pos = ring.room(
                    len,
                    &mut Hooks {
                        ring: &ring,
                        lost: &mut lost,
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
                },
            );
            s.done.store(true, SeqCst);
            lost
        })
    };
    let mut stream = Vec::new();
    let (mut got, mut next_min) = (0u32, 0u32);
    loop {
        let finished = shared.done.load(SeqCst);
        let ring = shared.ring();
        let mut read_any = false;
        while let Some((pos, len)) = ring.next_read(4096) {
            assert!(pos + len <= shared.mem.len(), "read past the ring");
            stream.extend((pos..pos + len).map(|i| shared.mem[i].load(Relaxed)));
            ring.consume(len);
            read_any = true;
        }
        // Parse whole records.
        let mut at = 0;
        while stream.len() - at >= 8 {
            let len = u16::from_le_bytes([stream[at + 4], stream[at + 5]]) as usize;
            assert!(len >= 8 && len <= ss, "bad length {len} at {at}");
            if stream.len() - at < len {
                break;
            }
            let seq = u32::from_le_bytes(stream[at..at + 4].try_into().unwrap());
            assert_eq!(
                &stream[at..at + len],
                &record(seq, len)[..],
                "corrupt record {seq}"
            );
            assert!(seq >= next_min, "record {seq} out of order or twice");
            next_min = seq + 1;
            got += 1;
            at += len;
        }
        stream.drain(..at);
        if finished && !read_any {
            break;
        }
        thread::yield_now();
    }
    let lost = producer.join().unwrap();
    assert!(stream.is_empty(), "partial record left");
    assert_eq!(
        got as usize + lost,
        count as usize,
        "written != read + lost"
    );
}

#[test]
fn producer_and_consumer_race_small_ring() {
    run(64, 2, 200_000);
}

#[test]
fn producer_and_consumer_race_larger_ring() {
    run(512, 8, 200_000);
}
