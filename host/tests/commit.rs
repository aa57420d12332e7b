// SPDX-License-Identifier: GPL-2.0

//! Commit mode (`RELAY_RS_OPEN_COMMIT`, the Rust API's channels) and the
//! refusal of re-entered switches: `Ring::finish` refuses to switch while a
//! reservation is uncommitted or from inside `subbuf_start`, and counts the
//! record that needed the switch.

use relay_rs_host::ring::{fits, Geometry, Ring, SwitchHooks, NO_RESERVATION};
use relay_rs_host::Cells;

#[derive(Default)]
struct Hooks {
    commits: bool,
    inside: bool,
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
    fn in_subbuf_start(&self) -> bool {
        self.inside
    }
    fn commits(&self) -> bool {
        self.commits
    }
}

fn setup(cells: &Cells, geo: Geometry, hooks: &mut Hooks) {
    cells.ring(geo).reset(hooks);
}

/// The readable extent of the current sub-buffer, as a reader finds it.
fn readable(ring: &Ring<'_>) -> usize {
    ring.next_read(usize::MAX).map_or(0, |r| r.len)
}

#[test]
fn uncommitted_reservation_blocks_switches() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks {
        commits: true,
        ..Default::default()
    };
    setup(&cells, geo, &mut h);
    let ring = cells.ring(geo);
    let pos = ring.room(40, &mut h).unwrap();
    ring.reserved(40);
    assert!(ring.uncommitted());
    assert_eq!(readable(&ring), pos);
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
    let at = ring.room(8, &mut h).unwrap();
    assert_eq!(at, 40);
    ring.wrote(8);
    assert_eq!(readable(&ring), 0);
    ring.commit();
    assert!(!ring.uncommitted());
    assert_eq!(readable(&ring), 48);
    // Switches go on.
    assert!(ring.room(40, &mut h).is_some());
    assert_eq!(cells.produced(), 1);
    assert_eq!(h.full, 1);
}

#[test]
fn without_commit_mode_a_reservation_does_not_block() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks::default();
    setup(&cells, geo, &mut h);
    let ring = cells.ring(geo);
    ring.room(40, &mut h).unwrap();
    ring.reserved(40);
    assert!(ring.room(40, &mut h).is_some());
    assert_eq!(cells.produced(), 1);
    assert_eq!(h.full, 0);
}

#[test]
fn switch_from_subbuf_start_is_refused() {
    let geo = Geometry::new(64, 4).unwrap();
    let cells = Cells::new(4);
    let mut h = Hooks::default();
    setup(&cells, geo, &mut h);
    let ring = cells.ring(geo);
    let starts = h.starts;
    h.inside = true;
    assert_eq!(ring.switch_subbuf(10, &mut h), 0);
    assert_eq!(ring.switch_subbuf(0, &mut h), 0);
    assert_eq!((h.starts, h.full, cells.produced()), (starts, 1, 0));
    h.inside = false;
    assert_eq!(ring.switch_subbuf(10, &mut h), 10);
    assert_eq!((h.starts, cells.produced()), (starts + 1, 1));
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
}
