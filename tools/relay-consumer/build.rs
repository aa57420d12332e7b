// SPDX-License-Identifier: GPL-2.0

//! Checks relay-consumer's copy of `include/uapi/relay_rs.h` against the
//! header itself: compiles `uapi_check.c` with the header, runs it, and
//! writes its output (const assertions on the ioctl numbers and on the
//! layout of the structures) to `$OUT_DIR/uapi_check.rs`, which
//! `src/uapi.rs` includes. A mismatch fails the build.

use std::{env, fs, path::PathBuf, process::Command};

fn main() {
    let dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let uapi = dir.join("../../include/uapi");
    let src = dir.join("uapi_check.c");
    for p in [uapi.join("relay_rs.h"), src.clone()] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-env-changed=CC");

    // The program runs here, so its answers are the target's only when the
    // target is the build host (relay-consumer is built for x86_64 Linux, on it).
    let (host, target) = (env::var("HOST").unwrap(), env::var("TARGET").unwrap());
    assert_eq!(
        host, target,
        "relay-consumer checks its uapi types by running a C program: build it on its target"
    );

    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let exe = out.join("uapi_check");
    let status = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&uapi)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(status.success(), "{cc} failed on {}", src.display());
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{} failed", exe.display());
    fs::write(out.join("uapi_check.rs"), run.stdout).unwrap();
}
