// SPDX-License-Identifier: GPL-2.0

//! Reservations to commit (the Rust API's) and re-entered switches:
//! `Ring::finish` refuses to switch while a reservation is marked
//! uncommitted or from inside `subbuf_start`, and counts the record that
//! needed the switch; readers never see an uncommitted slot.

use relay_rs_host::ring::{fits, Geometry, Ring, SwitchHooks, NO_RESERVATION, UNCOMMITTED};
use relay_rs_host::Cells;

#[derive(Default)]
struct Hooks {
    starts: usize,
    full: usize,
    big: usize,
}

impl SwitchHooks for Hooks {
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        self.starts += 1;
        true
    }
    fn produced(&mut self, _: usize) {}
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _: usize) {
        self.full += 1;
    }
    fn lost_too_big(&mut self, _: usize) {
        self.big += 1;
    }
}

/// The readable extent of the current sub-buffer, as a reader finds it.
fn readable(ring: &Ring<'_>) -> usize {
    ring.next_read(usize::MAX).map_or(0, |r| r.len)
}

#[test]
fn uncommitted_reservation_blocks_switches() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks::default();
    cells.ring(geo).reset(&mut h);
    let ring = cells.ring(geo);
    ring.room(8, &mut h).unwrap();
    ring.wrote(8);
    let pos = ring.room(32, &mut h).unwrap();
    assert_eq!(pos, 8);
    ring.reserved_to_commit(32);
    assert!(ring.uncommitted());
    // The bytes before the slot only.
    assert_eq!(readable(&ring), 8);
    // A write that needs a switch: dropped, counted as full.
    assert_eq!(ring.room(40, &mut h), None);
    assert_eq!((h.full, h.big), (1, 0));
    // Too big: counted as too big, as without the reservation.
    assert_eq!(ring.room(65, &mut h), None);
    assert_eq!((h.full, h.big), (1, 1));
    // A flush completes nothing.
    assert_eq!(ring.switch_subbuf(0, &mut h), 0);
    assert_eq!(cells.produced(), 0);
    // A write that fits goes after the slot, unreadable until the commit.
    assert_eq!(ring.room(8, &mut h), Some(40));
    ring.wrote(8);
    assert_eq!(readable(&ring), 8);
    ring.commit();
    assert!(!ring.uncommitted());
    assert_eq!(readable(&ring), 48);
    // Switches go on.
    assert!(ring.room(40, &mut h).is_some());
    assert_eq!(cells.produced(), 1);
    assert_eq!(h.full, 1);
}

#[test]
fn a_relay_reservation_does_not_block() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks::default();
    cells.ring(geo).reset(&mut h);
    let ring = cells.ring(geo);
    ring.room(40, &mut h).unwrap();
    ring.reserved(40);
    assert!(!ring.uncommitted());
    assert!(ring.room(40, &mut h).is_some());
    assert_eq!(cells.produced(), 1);
    assert_eq!(h.full, 0);
}

/// Hooks whose `subbuf_start` switches the same ring again (a callback
/// that writes to its own buffer).
struct Reentrant<'a> {
    cells: &'a Cells,
    geo: Geometry,
    inner: Hooks,
    nested: Option<usize>,
}

impl SwitchHooks for Reentrant<'_> {
    fn subbuf_start(&mut self, _: usize, _: usize, _: usize) -> bool {
        self.inner.starts += 1;
        if self.nested.is_none() {
            let ring = self.cells.ring(self.geo);
            self.nested = Some(ring.switch_subbuf(10, &mut self.inner));
        }
        true
    }
    fn produced(&mut self, _: usize) {}
    fn wake_readers(&mut self) {}
    fn lost_full(&mut self, _: usize) {
        self.inner.full += 1;
    }
    fn lost_too_big(&mut self, _: usize) {
        self.inner.big += 1;
    }
}

#[test]
fn switch_from_subbuf_start_is_refused() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks::default();
    cells.ring(geo).reset(&mut h);
    let mut r = Reentrant {
        cells: &cells,
        geo,
        inner: Hooks::default(),
        nested: None,
    };
    assert_eq!(cells.ring(geo).switch_subbuf(10, &mut r), 10);
    // The nested switch was refused and its record counted; the outer one
    // went on: one call of the callback each, one sub-buffer produced.
    assert_eq!(r.nested, Some(0));
    assert_eq!((r.inner.starts, r.inner.full, cells.produced()), (1, 1, 1));
    // A refused switch (not inside the callback) is asked again later.
    let ring = cells.ring(geo);
    assert_eq!(ring.switch_subbuf(10, &mut h), 10);
    assert_eq!(cells.produced(), 2);
}

#[test]
fn fits_is_overflow_checked() {
    assert!(fits(0, 64, 64));
    assert!(!fits(1, 64, 64));
    assert!(fits(64, 0, 64));
    // The refused offset fits nothing, not even an empty record.
    assert!(!fits(65, 0, 64));
    assert!(!fits(8, usize::MAX - 2, 64));
    assert!(!fits(usize::MAX, 2, 64));
    assert_eq!(NO_RESERVATION, usize::MAX);
    assert_eq!(UNCOMMITTED, 0xc000_0000_0000_0000);
}
