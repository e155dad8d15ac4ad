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

/// Runs `tests/python/SCRIPT` with the project venv's Python; fails the test with its output if
/// it fails, and returns its stdout.
pub fn python(script: &str, args: &[&str]) -> String {
    python_at(&Path::new("tests/python").join(script), args)
}

/// Runs a Python script of the repository (a path from its root), as [`python`] does.
pub fn python_at(script: &Path, args: &[&str]) -> String {
    let script = script.display().to_string();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let interpreter = root.join(".venv/bin/python");
    assert!(
        interpreter.exists(),
        "no project venv: run scripts/setup.sh --test first"
    );
    let out = Command::new(interpreter)
        .arg(root.join(&script))
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .expect("the venv's Python runs");
    assert!(
        out.status.success(),
        "{script} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `kale stats --json`.
pub fn stats(store: &Path) -> Value {
    serde_json::from_str(&kale_ok(&["stats", store.to_str().unwrap(), "--json"]))
        .expect("JSON stats")
}

/// `kale gen world --entities N` and `kale load` into `dir`: `w.nt` and `store/`, whose path is
/// returned.
pub fn world_store(dir: &Path, entities: usize) -> std::path::PathBuf {
    let (nt, store) = (dir.join("w.nt"), dir.join("store"));
    let entities = entities.to_string();
    let nt_arg = nt.to_str().unwrap();
    kale_ok(&["gen", "world", "--out", nt_arg, "--entities", &entities]);
    kale_ok(&["load", store.to_str().unwrap(), nt_arg]);
    store
}

/// `kale gen world`, `kale load` and `kale gen qa` into `dir`: `w.nt`, `store/`, `qa.jsonl` and
/// `qa.facts.jsonl`.
pub fn world_with_questions(dir: &Path, entities: usize, seed: u64, questions: usize) {
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let (entities, seed) = (entities.to_string(), seed.to_string());
    let world = ["--entities", &entities, "--seed", &seed];
    kale_ok(&[&["gen", "world", "--out", &path("w.nt")][..], &world].concat());
    kale_ok(&["load", &path("store"), &path("w.nt")]);
    let questions = questions.to_string();
    kale_ok(
        &[
            &["gen", "qa", "--out", &path("qa.jsonl")][..],
            &world,
            &["--questions", &questions],
        ]
        .concat(),
    );
}

/// `kale init-model`: a one-layer Llama with a word-level tokenizer trained on `corpus`.
pub fn tiny_llama(out: &Path, corpus: &Path, hidden: usize) {
    let hidden = hidden.to_string();
    kale_ok(&[
        "init-model",
        "--arch",
        "llama",
        "--layers",
        "1",
        "--hidden",
        &hidden,
        "--heads",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--tokenizer-from",
        corpus.to_str().unwrap(),
        "--tokenizer",
        "word",
        "--vocab",
        "2000",
    ]);
}
