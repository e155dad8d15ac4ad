//! Running the `kale` binary from tests.
#![allow(dead_code)] // each test file uses its own part

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `kale` with arguments (no progress bars).
pub fn kale(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kale"))
        .args(args)
        .arg("--quiet")
        .output()
        .expect("the kale binary runs")
}

/// Runs `kale`, fails the test with its stderr if it fails, and returns its stdout.
pub fn kale_ok(args: &[&str]) -> String {
    let out = kale(args);
    assert!(
        out.status.success(),
        "kale {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `kale stats --json`.
pub fn stats(store: &Path) -> Value {
    serde_json::from_str(&kale_ok(&["stats", store.to_str().unwrap(), "--json"]))
        .expect("JSON stats")
}
