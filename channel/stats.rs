// SPDX-License-Identifier: GPL-2.0

//! The per-channel `<base>.stats` debugfs file: what the channel produced,
//! what readers consumed and what was lost, per buffer and in total, so that
//! user space can check that nothing was lost without being counted.

use super::Channel;
use crate::{
    bindings,
    compat::{debugfs, fmt::fmt, fs, sync::AssertSync},
};
use core::{fmt::Write, sync::atomic::Ordering};
use kernel::{ffi::c_char, prelude::*};

/// Text built in a kernel vector.
struct Text(KVec<u8>);

impl Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

impl Channel {
    /// The stats file's contents.
    fn stats_text(&self) -> core::result::Result<KVec<u8>, core::fmt::Error> {
        let mut t = Text(KVec::new());
        writeln!(t, "cpu produced consumed lost_full lost_big overwritten")?;
        let (mut full, mut big, mut over, mut partial) = (0, 0, 0, 0);
        let mut res = Ok(());
        self.for_each_buffer(|b| {
            let raw = b.as_raw();
            // SAFETY: reads of the live buffer's counters, for display only.
            let (produced, consumed) =
                unsafe { ((*raw).subbufs_produced, (*raw).subbufs_consumed) };
            let s = b.stats();
            let (f, g, o) = (
                s.full.load(Ordering::Relaxed),
                s.too_big.load(Ordering::Relaxed),
                b.overwritten(),
            );
            (full, big, over) = (full + f, big + g, over + o);
            partial += b.overwritten_partial();
            if res.is_ok() {
                res = writeln!(t, "{} {} {} {} {} {}", b.cpu(), produced, consumed, f, g, o);
            }
        });
        res?;
        writeln!(t, "lost_full {full}\nlost_big {big}\noverwritten {over}")?;
        // Of those overwritten, how many a reader may have read part of: the
        // most by which `overwritten` over-counts (see `Ring::consume_run`).
        writeln!(t, "overwritten_partial {partial}")?;
        // The delivery interval (0: none), the runs of its timer, and the
        // readers the timer woke (each had unread bytes to read).
        let (ms, runs, wakeups) = self.delivery_stats();
        writeln!(
            t,
            "delivery_interval_ms {ms}\ndelivery_runs {runs}\ndelivery_wakeups {wakeups}"
        )?;
        Ok(t.0)
    }
}

/// File operations of the stats file (behind debugfs' proxy).
static STATS_FOPS: AssertSync<bindings::file_operations> = {
    let fops = bindings::file_operations {
        owner: fs::this_module(),
        read: Some(stats_read),
        // SAFETY: all-zero is a valid `file_operations` (every hook absent).
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };
    // SAFETY: an immutable table of function pointers and of the module's
    // address, which races nothing.
    unsafe { AssertSync::new(fops) }
};

/// `read` of the stats file.
///
/// # Safety
///
/// `file` is an open stats file whose inode's `i_private` is its channel,
/// called through debugfs' proxy: the channel is alive (it removes the
/// file before it goes, and the proxy runs no `read` once removal began).
/// `ppos` is the file position.
unsafe extern "C" fn stats_read(
    file: *mut bindings::file,
    ubuf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: per the function's contract.
    let chan = unsafe { Channel::borrow((*(*file).f_inode).i_private.cast()) };
    let Ok(text) = chan.stats_text() else {
        return ENOMEM.to_errno() as isize;
    };
    // SAFETY: `text` is readable for its length; the rest is checked by the callee.
    unsafe {
        bindings::simple_read_from_buffer(
            ubuf.cast(),
            count,
            ppos,
            text.as_ptr().cast(),
            text.len(),
        )
    }
}

/// Creates `<base>.stats` next to the buffer files when they live in debugfs.
///
/// # Safety
///
/// `parent` is NULL or a live dentry, and [`remove`] is called for `chan`
/// before it is freed.
pub(super) unsafe fn create(
    chan: &Channel,
    base: &kernel::str::CStr,
    parent: *mut bindings::dentry,
) {
    // SAFETY: `parent` is NULL or a live dentry (caller contract).
    if !unsafe { debugfs::is_debugfs_dir(parent) } {
        return;
    }
    let Ok(name) = kernel::str::CString::try_from_fmt(fmt!("{}.stats", base)) else {
        return;
    };
    // `remove` removes the file before `chan` is freed (caller contract);
    // there is no `release`.
    // SAFETY: `parent` is NULL or a live debugfs directory (checked above);
    // `stats_read` is sound while `i_private` (`chan`) lives, as it does.
    let made = unsafe {
        debugfs::create_file(
            &name,
            bindings::S_IRUSR as u16,
            parent,
            chan.as_raw().cast(),
            STATS_FOPS.get(),
        )
    };
    match made {
        Ok(d) => chan.stats_dentry.store(d, Ordering::Release),
        Err(e) => pr_warn!("could not create {}: {}\n", &*name, e.to_errno()),
    }
}

/// Removes the stats file, waiting for readers still inside `read`.
pub(super) fn remove(chan: &Channel) {
    let d = chan
        .stats_dentry
        .swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !d.is_null() {
        // SAFETY: the stats file made by `create`, taken out of the channel
        // above, so removed once.
        unsafe { debugfs::remove(d) };
    }
}
