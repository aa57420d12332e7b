// SPDX-License-Identifier: GPL-2.0

//! Host build of relay_rs' ring logic (`buffer/ring.rs`, compiled as is)
//! and a test harness that owns the counters a kernel `rchan_buf` holds.

#[path = "../../buffer/ring.rs"]
pub mod ring;

use ring::{Counters, Geometry, Ring, SwitchHooks};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A relay buffer in user memory: counters, padding and the ring bytes.
pub struct HostBuffer {
    pub geo: Geometry,
    pub mem: Vec<u8>,
    data: AtomicUsize,
    offset: AtomicUsize,
    produced: AtomicUsize,
    consumed: AtomicUsize,
    bytes_consumed: AtomicUsize,
    prev_padding: AtomicUsize,
    padding: Vec<AtomicUsize>,
    records: Vec<AtomicUsize>,
    committed: AtomicUsize,
    /// Switch decisions: `None` is the default no-overwrite callback.
    pub overwrite: bool,
    pub lost_full: usize,
    pub lost_big: usize,
    pub overwritten: usize,
    pub produced_bytes: usize,
    pub refused_while_not_full: usize,
}

/// Counters the hooks update, copied out of and back into the buffer.
#[derive(Default, Clone, Copy)]
struct Tally {
    lost_full: usize,
    lost_big: usize,
    overwritten: usize,
    produced_bytes: usize,
    refused_while_not_full: usize,
}

/// Hooks of a kernel buffer: the default `subbuf_start` asks the ring
/// whether it is full when it is called, as `relay_buf_full` does.
struct Hooks<'a, 'r> {
    ring: &'a Ring<'r>,
    overwrite: bool,
    t: &'a mut Tally,
}

impl SwitchHooks for Hooks<'_, '_> {
    fn subbuf_start(&mut self, _subbuf: usize, _prev: usize, _pad: usize) -> bool {
        self.overwrite || !self.ring.is_full()
    }
    fn produced(&mut self, bytes: usize) {
        self.t.produced_bytes += bytes;
    }
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _length: usize) {
        self.t.lost_full += 1;
        if !self.ring.is_full() {
            self.t.refused_while_not_full += 1;
        }
    }
    fn lost_too_big(&mut self, _length: usize) {
        self.t.lost_big += 1;
    }
    fn lost_overwritten(&mut self, records: usize) {
        self.t.overwritten += records;
    }
}

impl HostBuffer {
    pub fn new(subbuf_size: usize, n_subbufs: usize, overwrite: bool) -> Self {
        let geo = Geometry::new(subbuf_size, n_subbufs, 1 << 19).expect("valid geometry");
        let mut b = Self {
            geo,
            mem: vec![0; geo.ring_size()],
            data: AtomicUsize::new(0),
            offset: AtomicUsize::new(0),
            produced: AtomicUsize::new(0),
            consumed: AtomicUsize::new(0),
            bytes_consumed: AtomicUsize::new(0),
            prev_padding: AtomicUsize::new(0),
            padding: (0..n_subbufs).map(|_| AtomicUsize::new(0)).collect(),
            records: (0..n_subbufs).map(|_| AtomicUsize::new(0)).collect(),
            committed: AtomicUsize::new(0),
            overwrite,
            lost_full: 0,
            lost_big: 0,
            overwritten: 0,
            produced_bytes: 0,
            refused_while_not_full: 0,
        };
        b.reset();
        b
    }

    /// The ring over this buffer's counters (the ring starts at address 0).
    pub fn ring(&self) -> Ring<'_> {
        Ring::new(
            self.geo,
            Counters {
                start: 0,
                data: &self.data,
                offset: &self.offset,
                committed: &self.committed,
                produced: &self.produced,
                consumed: &self.consumed,
                bytes_consumed: &self.bytes_consumed,
                prev_padding: &self.prev_padding,
                padding: &self.padding,
                records: &self.records,
            },
        )
    }

    fn run<R>(&mut self, f: impl FnOnce(&Ring<'_>, &mut Hooks<'_, '_>) -> R) -> R {
        let mut t = Tally {
            lost_full: self.lost_full,
            lost_big: self.lost_big,
            overwritten: self.overwritten,
            produced_bytes: self.produced_bytes,
            refused_while_not_full: self.refused_while_not_full,
        };
        let r = {
            let ring = self.ring();
            let mut hooks = Hooks {
                ring: &ring,
                overwrite: self.overwrite,
                t: &mut t,
            };
            f(&ring, &mut hooks)
        };
        self.lost_full = t.lost_full;
        self.lost_big = t.lost_big;
        self.overwritten = t.overwritten;
        self.produced_bytes = t.produced_bytes;
        self.refused_while_not_full = t.refused_while_not_full;
        r
    }

    pub fn reset(&mut self) {
        self.run(|r, h| r.reset(h));
    }

    /// Writes `rec`; true if it was accepted.
    pub fn write(&mut self, rec: &[u8]) -> bool {
        match self.run(|r, h| r.reserve(rec.len(), h)) {
            Some(p) => {
                assert!(p + rec.len() <= self.mem.len(), "reservation past the ring");
                self.mem[p..p + rec.len()].copy_from_slice(rec);
                self.ring().commit();
                true
            }
            None => false,
        }
    }

    /// Completes the current sub-buffer (`relay_flush`).
    pub fn flush(&mut self) {
        self.run(|r, h| r.switch_subbuf(0, h));
    }

    /// Reads up to `max` bytes, as `read()` on the file does.
    pub fn read(&self, max: usize) -> Vec<u8> {
        let ring = self.ring();
        let mut out = Vec::new();
        while out.len() < max {
            let Some((pos, len)) = ring.next_read(max - out.len()) else {
                break;
            };
            assert!(pos + len <= self.mem.len(), "read past the ring");
            assert!(len > 0);
            out.extend_from_slice(&self.mem[pos..pos + len]);
            ring.consume(len);
        }
        out
    }

    pub fn produced(&self) -> usize {
        self.produced.load(Ordering::Relaxed)
    }

    pub fn padding(&self, i: usize) -> usize {
        self.padding[i].load(Ordering::Relaxed)
    }
}
