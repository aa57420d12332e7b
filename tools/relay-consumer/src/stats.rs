// SPDX-License-Identifier: GPL-2.0

//! The channel's `<base>.stats` file as a typed [`Stats`]: per buffer, the
//! sub-buffers produced and consumed and the records lost by reason, and
//! the channel's totals, with which a consumer checks that records written =
//! records read + records counted lost.

#![forbid(unsafe_code)]

use std::{
    fmt, fs, io,
    path::{Path, PathBuf},
    str::FromStr,
};

/// One buffer's line of the stats file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferStats {
    /// The buffer's CPU (0 for a global channel's only buffer).
    pub cpu: u32,
    /// Sub-buffers completed so far.
    pub produced: u64,
    /// Sub-buffers consumed so far.
    pub consumed: u64,
    /// Records refused because the buffer was full (no-overwrite mode).
    pub lost_full: u64,
    /// Records refused because they were larger than a sub-buffer.
    pub lost_big: u64,
    /// Records overwritten before a consumer took them (overwrite mode).
    pub overwritten: u64,
}

impl BufferStats {
    /// Records this buffer lost for any reason: `lost_full + lost_big +
    /// overwritten`.
    pub fn lost(&self) -> u64 {
        self.lost_full + self.lost_big + self.overwritten
    }
}

/// A snapshot of a channel's stats file.
///
/// The file is a header line, one line per buffer (`cpu produced consumed
/// lost_full lost_big overwritten`), then one `name value` line per total:
///
/// ```text
/// cpu produced consumed lost_full lost_big overwritten
/// 0 12 12 0 0 0
/// 1 9 9 0 0 0
/// lost_full 0
/// lost_big 0
/// overwritten 0
/// overwritten_partial 0
/// ```
///
/// The counters are exact once the producers are idle and the consumers
/// caught up; while they run, a snapshot is a consistent lower bound per
/// counter, not across counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every buffer's line, in the file's order (by CPU).
    pub buffers: Vec<BufferStats>,
    /// Records lost because a buffer was full, over every buffer.
    pub lost_full: u64,
    /// Records lost because they did not fit a sub-buffer.
    pub lost_big: u64,
    /// Records overwritten before they were consumed.
    pub overwritten: u64,
    /// Of `overwritten`, how many a `read()` or copying `splice()` reader
    /// may have taken part of before the producer lapped it: the most by
    /// which `overwritten` over-counts such readers' losses (always 0 for
    /// mmap consumers, which lose whole sub-buffers).
    pub overwritten_partial: u64,
}

impl Stats {
    /// Reads and parses the stats file at `path`: an I/O error of kind
    /// [`io::ErrorKind::InvalidData`] (wrapping a [`StatsError`]) if the
    /// file is not a stats file. Read it while the channel is open (see the
    /// crate documentation for when its counts are exact).
    pub fn read(path: &Path) -> io::Result<Stats> {
        fs::read_to_string(path)?
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Records lost for any reason, over every buffer: `lost_full +
    /// lost_big + overwritten`.
    pub fn lost(&self) -> u64 {
        self.lost_full + self.lost_big + self.overwritten
    }
}

/// Where the stats file of the channel whose files are `dir/<base><cpu>`
/// lives: `dir/<base>.stats` (only when the files are in debugfs).
pub fn stats_path(dir: &Path, base: &str) -> PathBuf {
    dir.join(format!("{base}.stats"))
}

/// Why a text is not a stats file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsError {
    line: usize,
    what: &'static str,
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "stats file: {}", self.what)
        } else {
            write!(f, "stats file, line {}: {}", self.line, self.what)
        }
    }
}

impl std::error::Error for StatsError {}

impl FromStr for Stats {
    type Err = StatsError;

    /// Parses the text of a stats file. Totals it does not know are
    /// ignored, so that a newer kernel module may add some; the three loss
    /// totals must be there.
    fn from_str(text: &str) -> Result<Self, StatsError> {
        let mut s = Stats::default();
        let mut seen = [false; 3];
        for (i, line) in text.lines().enumerate() {
            let err = |what| StatsError { line: i + 1, what };
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                [] => {}
                ["cpu", ..] => {}
                [name, value] => {
                    let v = value.parse().map_err(|_| err("a total is not a number"))?;
                    match *name {
                        "lost_full" => (s.lost_full, seen[0]) = (v, true),
                        "lost_big" => (s.lost_big, seen[1]) = (v, true),
                        "overwritten" => (s.overwritten, seen[2]) = (v, true),
                        "overwritten_partial" => s.overwritten_partial = v,
                        _ => {}
                    }
                }
                [cpu, rest @ ..] if rest.len() == 5 => {
                    let n = |k: usize| -> Result<u64, StatsError> {
                        rest[k]
                            .parse()
                            .map_err(|_| err("a buffer counter is not a number"))
                    };
                    s.buffers.push(BufferStats {
                        cpu: cpu.parse().map_err(|_| err("a CPU is not a number"))?,
                        produced: n(0)?,
                        consumed: n(1)?,
                        lost_full: n(2)?,
                        lost_big: n(3)?,
                        overwritten: n(4)?,
                    });
                }
                _ => return Err(err("neither a buffer line nor a total")),
            }
        }
        if seen != [true; 3] {
            return Err(StatsError {
                line: 0,
                what: "lost_full, lost_big or overwritten missing",
            });
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "cpu produced consumed lost_full lost_big overwritten
0 12 10 3 0 0
1 9 9 0 1 7
lost_full 3
lost_big 1
overwritten 7
overwritten_partial 2
";

    #[test]
    fn parses_the_kernel_format() {
        let s: Stats = TEXT.parse().unwrap();
        assert_eq!(s.buffers.len(), 2);
        assert_eq!(
            s.buffers[1],
            BufferStats {
                cpu: 1,
                produced: 9,
                consumed: 9,
                lost_full: 0,
                lost_big: 1,
                overwritten: 7
            }
        );
        assert_eq!(
            (
                s.lost_full,
                s.lost_big,
                s.overwritten,
                s.overwritten_partial
            ),
            (3, 1, 7, 2)
        );
        assert_eq!(s.lost(), 11);
    }

    #[test]
    fn unknown_totals_are_ignored() {
        let s: Stats = format!("{TEXT}something_new 5\n").parse().unwrap();
        assert_eq!(s.lost(), 11);
    }

    #[test]
    fn refuses_what_is_not_a_stats_file() {
        assert!("".parse::<Stats>().is_err());
        assert!("lost_full 1\nlost_big 0\n".parse::<Stats>().is_err());
        let e = "lost_full x\n".parse::<Stats>().unwrap_err();
        assert_eq!(e.to_string(), "stats file, line 1: a total is not a number");
        assert!("0 1 2 3\nlost_full 0\nlost_big 0\noverwritten 0\n"
            .parse::<Stats>()
            .is_err());
    }

    #[test]
    fn path() {
        assert_eq!(
            stats_path(Path::new("/d"), "cpu"),
            PathBuf::from("/d/cpu.stats")
        );
    }
}
