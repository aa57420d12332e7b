// SPDX-License-Identifier: GPL-2.0

//! A channel's files: a channel whose client named it `base` in directory
//! `dir` has one buffer file `dir/<base><cpu>` per CPU (or one,
//! `<base>0`, if it is global), which [`cpu_files`] lists.

#![forbid(unsafe_code)]

use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// The buffer files of channel `base` in `dir`, as `(cpu, path)` sorted by
/// CPU: every `<base><n>` with `n` a number (so `<base>.stats` is not one).
pub fn cpu_files(dir: &Path, base: &str) -> io::Result<Vec<(u32, PathBuf)>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if let Some(cpu) = cpu_of(&name, base) {
            v.push((cpu, e.path()));
        }
    }
    v.sort();
    Ok(v)
}

/// The CPU of buffer file `name` of channel `base`, if it is one.
fn cpu_of(name: &str, base: &str) -> Option<u32> {
    let n = name.strip_prefix(base)?;
    // `parse` takes a leading '+', which the kernel never writes.
    if n.starts_with('+') {
        return None;
    }
    n.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::cpu_of;

    #[test]
    fn names() {
        assert_eq!(cpu_of("cpu0", "cpu"), Some(0));
        assert_eq!(cpu_of("cpu17", "cpu"), Some(17));
        assert_eq!(cpu_of("cpu.stats", "cpu"), None);
        assert_eq!(cpu_of("cpu", "cpu"), None);
        assert_eq!(cpu_of("cpu+1", "cpu"), None);
        assert_eq!(cpu_of("other0", "cpu"), None);
        // Another channel whose base extends this one's.
        assert_eq!(cpu_of("cpu_g0", "cpu"), None);
    }
}
