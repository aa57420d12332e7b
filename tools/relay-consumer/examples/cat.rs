// SPDX-License-Identifier: GPL-2.0

//! Drains one relay_rs channel to standard output, a thread per buffer
//! file, until the channel is closed and drained or Ctrl-C:
//!
//! ```text
//! cargo run --example cat -- DIR BASE [read|mmap|splice|sendfile]
//! ```
//!
//! Each chunk (a `read()`'s worth, a sub-buffer, a pipe-full) is written
//! whole, so chunks of different CPUs interleave but do not mix; splice
//! and sendfile write to the descriptor directly, without a copy.

use relay_consumer::{cpu_files, sigint_flag, Consumer, Mode, Options, Sink};
use std::{fs::File, io, os::fd::AsFd, path::PathBuf, process::ExitCode, thread};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.get(2).map_or("read", String::as_str) {
        "read" => Mode::Read,
        "mmap" => Mode::Mmap,
        "splice" => Mode::Splice,
        "sendfile" => Mode::Sendfile,
        m => {
            eprintln!("cat: unknown mode {m}");
            return ExitCode::from(2);
        }
    };
    let (Some(dir), Some(base)) = (args.first(), args.get(1)) else {
        eprintln!("usage: cat DIR BASE [read|mmap|splice|sendfile]");
        return ExitCode::from(2);
    };
    let files = match cpu_files(&PathBuf::from(dir), base) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("cat: no {dir}/{base}<cpu> files");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("cat: {dir}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = Options {
        stop: Some(sigint_flag()),
        ..Options::default()
    };
    let threads: Vec<_> = files
        .into_iter()
        .map(|(cpu, path)| {
            let opts = opts.clone();
            thread::spawn(move || -> io::Result<()> {
                let mut c = Consumer::open(&path, mode, opts)?;
                // Standard output as a file, for splice and sendfile.
                let out = File::from(io::stdout().as_fd().try_clone_to_owned()?);
                c.copy_to(&mut Sink::file(out), |_| {})
                    .map(|_| ())
                    .map_err(|e| io::Error::new(e.kind(), format!("cpu {cpu}: {e}")))
            })
        })
        .collect();
    let mut ok = true;
    for t in threads {
        if let Err(e) = t.join().expect("consumer thread") {
            eprintln!("cat: {e}");
            ok = false;
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
