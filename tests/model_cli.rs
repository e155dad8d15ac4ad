//! The trainer's commands through the `kale` binary: init-model, train, eval --json (rescored
//! independently by transformers), plot, generate, and their errors.

mod common;

use common::{kale, kale_ok, python, python_at, tiny_llama};
use serde_json::Value;
use std::path::Path;

fn write_qa(path: &Path) {
    let mut text = String::new();
    let cities = ["Paris", "Rome", "Berlin", "Madrid", "Vienna", "Lisbon"];
    for (i, city) in cities.iter().enumerate() {
        let choices: Vec<&str> = (0..4).map(|k| cities[(i + k) % cities.len()]).collect();
        text.push_str(
            &serde_json::json!({
                "id": format!("q{i}"), "question": format!("Which city is number {i}?"),
                "choices": choices, "answer": 0,
                "rationale": format!("city number {i} is {city}"),
            })
            .to_string(),
        );
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn init_train_eval_plot_and_generate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    write_qa(&d.join("qa.jsonl"));
    let made = kale(&[
        "init-model",
        "--arch",
        "gpt2",
        "--layers",
        "2",
        "--hidden",
        "32",
        "--heads",
        "4",
        "--out",
        &path("model"),
        "--tokenizer-from",
        &path("qa.jsonl"),
        "--vocab",
        "300",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["model_type"], "gpt2");
    assert_eq!(config["n_layer"], 2);
    assert!(d.join("model/tokenizer.json").exists() && d.join("model/model.safetensors").exists());

    kale_ok(&[
        "train",
        "--model",
        &path("model"),
        "--data",
        &path("qa.jsonl"),
        "--objective",
        "ka",
        "--epochs",
        "3",
        "--batch",
        "2",
        "--out",
        &path("tuned"),
        "--eval",
        &path("qa.jsonl"),
        "--eval-every",
        "3",
    ]);
    let metrics = std::fs::read_to_string(d.join("tuned/metrics.jsonl")).unwrap();
    assert_eq!(
        metrics.lines().filter(|l| l.contains("\"loss\"")).count(),
        9
    );
    assert!(metrics.lines().any(|l| l.contains("\"eval\"")));

    let report: Value = serde_json::from_str(&kale_ok(&[
        "eval",
        "--model",
        &path("tuned"),
        "--data",
        &path("qa.jsonl"),
        "--json",
    ]))
    .unwrap();
    assert_eq!(report["count"], 6);
    let items = report["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for item in items {
        assert!(!item["prompt_ids"].as_array().unwrap().is_empty());
        let choices = item["choices"].as_array().unwrap();
        assert_eq!(choices.len(), 4);
        for c in choices {
            assert!(c["logprob_sum"].as_f64().unwrap() < 0.0);
            assert!(!c["ids"].as_array().unwrap().is_empty());
        }
    }
    std::fs::write(d.join("eval.json"), report.to_string()).unwrap();
    let rescored: Value =
        serde_json::from_str(&python("rescore.py", &[&path("tuned"), &path("eval.json")])).unwrap();
    assert_eq!(rescored["items"], 6);
    assert!(rescored["max_diff"].as_f64().unwrap() < 1e-3, "{rescored}");
    assert!(
        rescored["choice_mass_diff"].as_f64().unwrap() < 1e-4,
        "{rescored}"
    );
    assert_eq!(rescored["chosen_agree"], true, "{rescored}");

    kale_ok(&[
        "plot",
        &path("tuned/metrics.jsonl"),
        "--out",
        &path("curves.png"),
    ]);
    assert!(std::fs::read(d.join("curves.png"))
        .unwrap()
        .starts_with(b"\x89PNG"));

    let generated = kale_ok(&[
        "generate",
        "--model",
        &path("tuned"),
        "Which city is",
        "--max-tokens",
        "4",
    ]);
    assert!(!generated.trim().is_empty());
}

#[test]
fn trainer_commands_refuse_bad_input_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    write_qa(&d.join("qa.jsonl"));
    let err = |args: &[&str]| {
        let out = kale(args);
        assert!(!out.status.success(), "kale {} succeeded", args.join(" "));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = err(&[
        "init-model",
        "--arch",
        "mamba",
        "--layers",
        "1",
        "--hidden",
        "8",
        "--heads",
        "2",
        "--out",
        &path("m"),
        "--tokenizer-from",
        &path("qa.jsonl"),
    ]);
    assert!(e.contains("mamba"), "{e}");
    let e = err(&[
        "train",
        "--model",
        &path("nowhere"),
        "--data",
        &path("qa.jsonl"),
        "--out",
        &path("o"),
    ]);
    assert!(e.contains("nowhere"), "{e}");
    std::fs::write(d.join("broken.gguf"), b"GGUF\x03\x00\x00\x00").unwrap();
    let e = err(&["import-gguf", &path("broken.gguf"), "--out", &path("hf")]);
    assert!(e.contains("broken.gguf") && e.contains("truncated"), "{e}");
    std::fs::write(
        d.join("bad.jsonl"),
        "{\"question\": \"q\", \"choices\": [\"a\"], \"answer\": 3}\n",
    )
    .unwrap();
    tiny_llama(&d.join("m2"), &d.join("qa.jsonl"), 16);
    let e = err(&["eval", "--model", &path("m2"), "--data", &path("bad.jsonl")]);
    assert!(e.contains("bad.jsonl") && e.contains(":1"), "{e}");
    let e = err(&["plot", &path("qa.jsonl"), "--out", &path("x.png")]);
    assert!(e.contains("qa.jsonl"), "{e}");
    // Settings no run trains well with fail before anything is written, saying which.
    for (flag, value, says) in [
        ("--lr", "NaN", "learning rate is NaN"),
        (
            "--lr",
            "1e30",
            "learning rate is 1000000000000000000000000000000",
        ),
        ("--lr", "0", "learning rate is 0"),
        ("--lora-r", "0", "LoRA rank is 0"),
        ("--temperature", "-1", "temperature is -1"),
    ] {
        let out = d.join(format!("refused-{}", flag.trim_start_matches('-')));
        let e = err(&[
            "train",
            "--model",
            &path("m2"),
            "--data",
            &path("qa.jsonl"),
            "--out",
            out.to_str().unwrap(),
            &format!("{flag}={value}"),
        ]);
        assert!(e.contains(says), "{flag} {value}: {e}");
        assert!(
            !out.join("model.safetensors").exists(),
            "{flag} {value} saved a model"
        );
    }
}

/// `kale eval` gives lm-evaluation-harness's numbers: the same log-likelihoods per choice as the
/// harness's convention computed with transformers (`benches/harness_scorer.py`), and the same
/// acc and acc_norm, for the cloze format of ARC and the letter format of MMLU.
#[test]
fn eval_scores_as_lm_evaluation_harness_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    // ARC in the form Hugging Face datasets writes it, choices of unequal length.
    let mut arc = String::new();
    let pool = [
        "light",
        "a long beam of sunlight",
        "sound",
        "heat from the ground",
        "wind",
    ];
    for i in 0..8 {
        let texts: Vec<&str> = (0..4).map(|k| pool[(i + k) % pool.len()]).collect();
        arc.push_str(
            &serde_json::json!({
                "id": format!("arc{i}"), "question": format!("Which form of energy is number {i} here?"),
                "choices": {"text": texts, "label": ["A", "B", "C", "D"]}, "answerKey": "B",
            })
            .to_string(),
        );
        arc.push('\n');
    }
    std::fs::write(d.join("arc.jsonl"), &arc).unwrap();
    write_qa(&d.join("qa.jsonl"));
    std::fs::write(
        d.join("corpus.txt"),
        format!("{arc}\nQuestion: Answer: A. B. C. D."),
    )
    .unwrap();
    kale_ok(&[
        "init-model",
        "--arch",
        "llama",
        "--layers",
        "2",
        "--hidden",
        "32",
        "--heads",
        "4",
        "--kv-heads",
        "2",
        "--out",
        &path("model"),
        "--tokenizer-from",
        &path("corpus.txt"),
        "--vocab",
        "400",
    ]);
    for (format, data) in [("cloze", "arc.jsonl"), ("mmlu", "qa.jsonl")] {
        let ours: Value = serde_json::from_str(&kale_ok(&[
            "eval",
            "--model",
            &path("model"),
            "--data",
            &path(data),
            "--prompt",
            format,
            "--json",
        ]))
        .unwrap();
        let theirs: Value = serde_json::from_str(&python_at(
            Path::new("benches/harness_scorer.py"),
            &[&path("model"), &path(data), "--format", format],
        ))
        .unwrap();
        let (ours_items, their_items) = (
            ours["items"].as_array().unwrap(),
            theirs["items"].as_array().unwrap(),
        );
        assert_eq!(ours_items.len(), their_items.len());
        for (o, t) in ours_items.iter().zip(their_items) {
            for (c, ll) in o["choices"]
                .as_array()
                .unwrap()
                .iter()
                .zip(t["lls"].as_array().unwrap())
            {
                let (a, b) = (c["logprob_sum"].as_f64().unwrap(), ll.as_f64().unwrap());
                assert!((a - b).abs() < 1e-3, "{format}: {a} vs {b}");
            }
            assert_eq!(o["chosen_acc"], t["chosen_acc"], "{format}");
            assert_eq!(o["chosen_acc_norm"], t["chosen_acc_norm"], "{format}");
        }
        assert_eq!(ours["acc"]["accuracy"], theirs["acc"], "{format}");
        assert_eq!(ours["acc_norm"]["accuracy"], theirs["acc_norm"], "{format}");
    }
}

#[test]
fn bench_generate_reports_every_setting_with_the_same_greedy_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_qa(&d.join("qa.jsonl"));
    tiny_llama(&d.join("m"), &d.join("qa.jsonl"), 16);
    let prompts = d.join("prompts.json");
    let report: Value = serde_json::from_str(&kale_ok(&[
        "bench",
        "generate",
        "--model",
        d.join("m").to_str().unwrap(),
        "--prompt",
        "12",
        "--new-tokens",
        "5",
        "--batches",
        "1,3",
        "--runs",
        "2",
        "--save-prompts",
        prompts.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    let runs = report["runs"].as_array().unwrap();
    let settings: Vec<(u64, bool)> = runs
        .iter()
        .map(|r| {
            (
                r["batch"].as_u64().unwrap(),
                r["kv_cache"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(settings, [(1, true), (1, false), (3, true), (3, false)]);
    for r in runs {
        // The stop tokens are ruled out: every call makes exactly the tokens asked for.
        assert_eq!(r["first_tokens"].as_array().unwrap().len(), 5, "{r}");
        assert!(r["tokens_per_sec"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(r["first_tokens"], runs[0]["first_tokens"], "{r}");
    }
    assert_eq!(runs[0]["runs_ms"].as_array().unwrap().len(), 2);
    assert_eq!(runs[1]["runs_ms"].as_array().unwrap().len(), 1);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&prompts).unwrap()).unwrap();
    let rows = saved["prompts"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.as_array().unwrap().len() == 12));

    let out = kale(&[
        "bench",
        "generate",
        "--model",
        d.join("m").to_str().unwrap(),
        "--prompt",
        "600",
        "--new-tokens",
        "10",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("positions"));
}
