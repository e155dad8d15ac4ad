//! `kale synth --writer openai:URL` against a real OpenAI-compatible server on loopback:
//! llama.cpp's C++ server (the `xllamacpp` wheel) serving SmolLM2-135M-Instruct's GGUF, behind
//! `tests/python/llama_server.py`'s proxy, which adds the faults a hosted API shows (a 429 burst,
//! stalled requests, a server that dies mid-run) and logs every request it is sent.

mod common;

use common::{kale, world_with_questions};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The server process; killed when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
    /// One server at a time: the timeouts below assume it has the machine's cores.
    _turn: MutexGuard<'static, ()>,
}

static TURN: Mutex<()> = Mutex::new(());

impl Server {
    fn start(dir: &Path, name: &str, faults: &[&str]) -> Self {
        let turn = TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let gguf = root().join(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
        let python = root().join(".venv/bin/python");
        assert!(
            gguf.exists() && python.exists(),
            "run scripts/setup.sh --test first (the venv with xllamacpp, and SmolLM2's GGUF)"
        );
        let log = dir.join(format!("{name}.log"));
        let mut child = Command::new(python)
            .arg(root().join("tests/python/llama_server.py"))
            .arg(&gguf)
            .arg(&log)
            .args(faults)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the venv's Python runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.starts_with("http://"),
            "the server did not start (is xllamacpp installed? run scripts/setup.sh --test): {line:?}"
        );
        Self {
            child,
            url: line.trim().to_owned(),
            log,
            _turn: turn,
        }
    }

    /// The status of each request the server was sent, in order.
    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store and `n` questions with paths; returns the dataset's path.
fn questions(dir: &Path, n: usize) -> PathBuf {
    world_with_questions(dir, 600, 5, n);
    dir.join("qa.jsonl")
}

fn synth(dir: &Path, server: &Server, extra: &[&str]) -> std::process::Output {
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let writer = format!("openai:{}", server.url);
    let (store, dataset, out, cache) = (
        path("store"),
        path("qa.jsonl"),
        path("synth.jsonl"),
        path("cache"),
    );
    let args = [
        &[
            "synth",
            &store,
            "--dataset",
            &dataset,
            "--out",
            &out,
            "--json-summary",
            "--writer",
            &writer,
            "--writer-max-tokens",
            "40",
            "--writer-concurrency",
            "1",
            "--writer-cache",
            &cache,
        ][..],
        extra,
    ]
    .concat();
    kale(&args)
}

fn summary(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "kale synth failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["writer"].clone()
}

fn ok_requests(server: &Server) -> usize {
    server.requests().iter().filter(|s| *s == "200").count()
}

#[test]
fn a_real_server_writes_rationales_once_and_the_cache_answers_the_rerun() {
    let dir = tempfile::tempdir().unwrap();
    questions(dir.path(), 6);
    let server = Server::start(dir.path(), "server", &[]);
    let first = summary(&synth(dir.path(), &server, &[]));
    let n = first["items"].as_u64().unwrap() as usize;
    assert!(n > 0, "no question had paths: {first}");
    assert_eq!(first["generated"], n as u64, "{first}");
    assert_eq!(first["cached"], 0);
    assert_eq!(ok_requests(&server), n, "one request per item");
    let judged = ["accepted", "ungrounded", "too_long", "empty"]
        .iter()
        .map(|k| first[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(
        judged, n as u64,
        "every text is accepted or refused: {first}"
    );
    let written = std::fs::read_to_string(dir.path().join("synth.jsonl")).unwrap();
    for line in written.lines() {
        let item: Value = serde_json::from_str(line).unwrap();
        match item["rationale_by"].as_str().unwrap() {
            "writer" => assert_ne!(item["rationale"], item["template_rationale"]),
            "fallback" => assert!(item["refused_rationale"].is_string(), "{item}"),
            other => panic!("an item with paths written by {other}: {item}"),
        }
    }

    // The rerun asks nothing and writes the same file.
    let second = summary(&synth(dir.path(), &server, &[]));
    assert_eq!(second["cached"], n as u64, "{second}");
    assert_eq!(second["generated"], 0);
    assert_eq!(ok_requests(&server), n, "the rerun sent requests");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("synth.jsonl")).unwrap(),
        written
    );
}

#[test]
fn a_429_burst_and_stalled_requests_are_retried_until_the_server_answers() {
    let dir = tempfile::tempdir().unwrap();
    questions(dir.path(), 3);
    let server = Server::start(
        dir.path(),
        "server",
        &["--throttle", "3", "--stall", "1", "--stall-secs", "120"],
    );
    // A real answer takes a second or two here; the stalled one would take two minutes.
    let out = synth(dir.path(), &server, &["--writer-timeout", "10"]);
    let written = summary(&out);
    let n = written["items"].as_u64().unwrap() as usize;
    assert_eq!(written["generated"], n as u64, "{written}");
    let log = server.requests();
    assert_eq!(&log[..4], ["429", "429", "429", "stalled"], "{log:?}");
    assert_eq!(ok_requests(&server), n, "{log:?}");
}

#[test]
fn a_server_that_dies_mid_run_stops_it_with_the_reason_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    questions(dir.path(), 6);
    let dying = Server::start(dir.path(), "dying", &["--die-after", "2"]);
    let out = synth(dir.path(), &dying, &[]);
    assert!(!out.status.success(), "a dead server went unnoticed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&dying.url) && err.contains("cannot reach the server"),
        "{err}"
    );
    assert!(err.contains("gave up after 5 attempts"), "{err}");
    assert_eq!(dying.requests(), ["200", "200", "died"]);

    // What was written before the death is kept; the rerun, against the server restarted at
    // the same address (the URL is part of the writer's identity in the cache key), asks only
    // for the rest.
    let port = dying
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/v1")
        .to_owned();
    drop(dying);
    let server = Server::start(dir.path(), "server", &["--port", &port]);
    let written = summary(&synth(dir.path(), &server, &[]));
    let n = written["items"].as_u64().unwrap();
    assert_eq!(written["cached"], 2, "{written}");
    assert_eq!(written["generated"], n - 2, "{written}");
    assert_eq!(ok_requests(&server) as u64, n - 2);
}
