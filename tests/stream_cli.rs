//! Training straight from a live store through the `kale` binary: the same losses as the
//! file-based path on the same synthesised data, and an edge committed by another process
//! during a run shows up in a later epoch's rationale.

mod common;

use common::{kale_ok, tiny_llama, world_with_questions};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn losses(metrics: &Path) -> Vec<f64> {
    std::fs::read_to_string(metrics)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|v| v["loss"].as_f64())
        .collect()
}

/// The complete lines of a JSONL file another process is still writing (a last line without
/// its newline is not written whole yet).
fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn streaming_trains_on_the_same_batches_as_the_file_it_would_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    world_with_questions(d, 400, 5, 40);
    kale_ok(&[
        "synth",
        &path("store"),
        "--dataset",
        &path("qa.jsonl"),
        "--out",
        &path("synth.jsonl"),
    ]);
    tiny_llama(&d.join("model"), &d.join("synth.jsonl"), 32);
    let train = |source: &[String], out: &str| {
        let mut args: Vec<String> = ["train", "--model", &path("model"), "--objective", "ka"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for a in [
            "--epochs",
            "2",
            "--batch",
            "4",
            "--seed",
            "3",
            "--threads",
            "1",
        ] {
            args.push(a.into());
        }
        args.extend(source.iter().cloned());
        args.extend(["--out".to_owned(), path(out)]);
        kale_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        losses(&d.join(out).join("metrics.jsonl"))
    };
    let store = [
        "--store".to_owned(),
        path("store"),
        "--dataset".to_owned(),
        path("qa.jsonl"),
    ];
    let mut streamed_args = store.to_vec();
    streamed_args.extend(["--write-synth".to_owned(), path("streamed.jsonl")]);
    let a = train(&streamed_args, "a");
    let b = train(&["--data".to_owned(), path("synth.jsonl")], "b");
    assert_eq!(a.len(), 20, "2 epochs of 10 steps");
    assert_eq!(a, b, "streamed and file-based losses differ");
    // What was streamed is what `kale synth` wrote, each item once per epoch.
    let file: Vec<Value> = jsonl(&d.join("synth.jsonl"));
    let streamed = jsonl(&d.join("streamed.jsonl"));
    assert_eq!(streamed.len(), 2 * file.len());
    for s in &streamed {
        let f = file.iter().find(|f| f["id"] == s["id"]).unwrap();
        assert_eq!(f["rationale"], s["rationale"], "{}", s["id"]);
    }
    // The same seed and store stream the same again.
    assert_eq!(train(&store, "c"), a);
}

#[test]
fn an_edge_committed_during_a_run_reaches_a_later_epochs_rationale() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    world_with_questions(d, 400, 5, 12);
    // Two entities nothing connects yet, and a question about them.
    std::fs::write(
        d.join("island.nt"),
        "<http://kale.example/entity/Zorblat> <http://www.w3.org/2000/01/rdf-schema#label> \"Zorblat\"@en .\n\
         <http://kale.example/entity/Quixora> <http://www.w3.org/2000/01/rdf-schema#label> \"Quixora\"@en .\n",
    )
    .unwrap();
    kale_ok(&["load", &path("store"), &path("island.nt")]);
    let mut qa = std::fs::read_to_string(d.join("qa.jsonl")).unwrap();
    qa.push_str(
        &serde_json::json!({"id": "island", "question": "Where does Zorblat keep its treasure?",
            "choices": ["Quixora", "Zizaeia", "Tarvona", "Mikaiport"], "answer": 0})
        .to_string(),
    );
    qa.push('\n');
    std::fs::write(d.join("qa.jsonl"), qa).unwrap();
    tiny_llama(&d.join("model"), &d.join("qa.jsonl"), 32);

    let mut run = Command::new(env!("CARGO_BIN_EXE_kale"))
        .args([
            "train",
            "--store",
            &path("store"),
            "--dataset",
            &path("qa.jsonl"),
            "--write-synth",
            &path("streamed.jsonl"),
            "--model",
            &path("model"),
            "--objective",
            "ka",
            "--epochs",
            "150",
            "--batch",
            "1",
            "--threads",
            "1",
            "--out",
            &path("out"),
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first epoch has streamed (no path: no rationale), another process commits the
    // edge.
    let items = 13;
    let deadline = Instant::now() + Duration::from_secs(120);
    while jsonl(&d.join("streamed.jsonl")).len() < items {
        assert!(Instant::now() < deadline, "the first epoch never streamed");
        assert!(run.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    let first: Vec<Value> = jsonl(&d.join("streamed.jsonl"));
    let before = first.iter().find(|v| v["id"] == "island").unwrap();
    assert_eq!(before["rationale"], "", "a path before the edge exists");
    kale_ok(&[
        "update",
        &path("store"),
        "INSERT DATA { <http://kale.example/entity/Zorblat> <http://kale.example/prop/hides> <http://kale.example/entity/Quixora> . \
         <http://kale.example/prop/hides> <http://www.w3.org/2000/01/rdf-schema#label> \"hides treasure in\"@en . }",
    ]);
    let committed_at = jsonl(&d.join("streamed.jsonl")).len();
    let out = run.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let streamed = jsonl(&d.join("streamed.jsonl"));
    assert_eq!(streamed.len(), 150 * items);
    let island: Vec<(usize, &Value)> = streamed
        .iter()
        .enumerate()
        .filter(|(_, v)| v["id"] == "island")
        .collect();
    let last = island.last().unwrap().1;
    assert_eq!(
        last["rationale"], "Zorblat hides treasure in Quixora.",
        "the final epoch does not see the committed edge"
    );
    assert_eq!(
        last["paths"][0]["hops"][0]["p"],
        "http://kale.example/prop/hides"
    );
    // Every epoch that began after the commit saw it.
    let next_epoch = committed_at.div_ceil(items) * items;
    for (k, v) in &island {
        if *k >= next_epoch + items {
            assert_ne!(
                v["rationale"], "",
                "line {k}: an epoch after the commit missed the edge"
            );
        }
    }
}
