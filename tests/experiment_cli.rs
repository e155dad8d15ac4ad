//! `kale experiment --model DIR --data wikidata`: the pretrained-model pipeline (LoRA, the base
//! model and the oracle, sft, ka, ka+sft, known&incorrect before and after) end to end on a tiny
//! model and a handmade task file in BIG-bench's qa_wikidata layout (no benchmark data).

mod common;

use common::{kale_ok, tiny_llama};
use serde_json::Value;
use std::path::Path;

/// A task file of invented countries, capitals and languages: enough for 2-hop questions.
fn write_task(dir: &Path) {
    let mut examples = Vec::new();
    let countries = [
        ("Freedonia", "Fredville", "Fredonian"),
        ("Sylvania", "Sylvan City", "Sylvanian"),
        ("Latveria", "Doomstadt", "Latverian"),
        ("Genovia", "Pyrus", "Genovian"),
        ("Elbonia", "Mudville", "Elbonian"),
    ];
    for (country, capital, language) in countries {
        examples.push(
            serde_json::json!({"input": format!("The capital of {country} is"), "target": capital}),
        );
        examples.push(serde_json::json!({"input": format!("The official language of {country} is"), "target": language}));
        for n in 0..6 {
            examples.push(serde_json::json!({
                "input": format!("The country of citizenship of Person {n} of {country} is"),
                "target": country,
            }));
        }
    }
    let task = serde_json::json!({ "canary": "made by the test", "examples": examples });
    std::fs::create_dir_all(dir.join("qa_wikidata")).unwrap();
    std::fs::write(dir.join("qa_wikidata/task.json"), task.to_string()).unwrap();
    // Words for the tokenizer: every name and the prompts' words.
    let mut words = String::from(
        "What is the capital of country citizenship official language Question : Answer ? Facts . ;",
    );
    for (c, cap, l) in countries {
        words.push_str(&format!(" {c} {cap} {l} Person 0 1 2 3 4 5"));
    }
    std::fs::write(dir.join("corpus.txt"), words).unwrap();
}

#[test]
fn a_pretrained_model_runs_the_real_data_experiment_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    write_task(&d.join("data"));
    tiny_llama(&d.join("model"), &d.join("data/corpus.txt"), 32);
    let printed = kale_ok(&[
        "experiment",
        "--model",
        &path("model"),
        "--data",
        "wikidata",
        "--data-dir",
        &path("data"),
        "--train",
        "8",
        "--test",
        "8",
        "--epochs",
        "1",
        "--seeds",
        "1",
        "--out",
        &path("out"),
    ]);
    for shown in [
        "base model",
        "oracle",
        "`sft`",
        "`ka`",
        "`ka+sft`",
        "acc_norm",
    ] {
        assert!(printed.contains(shown), "{shown:?} not in:\n{printed}");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/report.json")).unwrap()).unwrap();
    for row in ["base", "oracle"] {
        for key in ["acc", "acc_norm"] {
            let v = report[row][key]["mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{row}.{key} = {v}");
        }
    }
    assert!(
        report["base"]["known_incorrect"]["values"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
    for objective in ["sft", "ka", "ka+sft"] {
        let row = &report["objectives"][objective];
        for key in [
            "acc",
            "acc_norm",
            "known_incorrect",
            "facts",
            "choice_mass",
            "seconds",
        ] {
            assert!(
                row[key]["mean"].as_f64().is_some(),
                "{objective}.{key}: {row}"
            );
        }
    }
    let seed = &report["per_seed"][0];
    assert_eq!(seed["test"], 8);
    assert_eq!(seed["train"], 8);
    assert!(seed["coverage"].as_f64().unwrap() > 0.5, "{seed}");
    // Every model of the run can be re-examined: the split is kept, and LoRA adapters saved.
    assert!(d.join("out/seed-1/test.jsonl").exists());
    assert!(d
        .join("out/seed-1/ka/adapters/adapter_model.safetensors")
        .exists());
}
