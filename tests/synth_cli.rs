//! KI synthesis through the `kale` binary: gen qa, link, synth, gen wordnet.

mod common;

use common::{kale_ok, world_with_questions};
use serde_json::Value;

#[test]
fn gen_qa_link_and_synth_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    world_with_questions(dir.path(), 1500, 8, 80);
    let questions: Vec<Value> = std::fs::read_to_string(path("qa.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(questions.len(), 80);
    let facts = std::fs::read_to_string(path("qa.facts.jsonl")).unwrap();
    assert!(facts.lines().count() >= 80);

    let question = questions[0]["question"].as_str().unwrap();
    let linked: Vec<Value> =
        serde_json::from_str(&kale_ok(&["link", &path("store"), question, "--json"])).unwrap();
    assert!(!linked.is_empty(), "nothing linked in {question:?}");
    for m in &linked {
        let (start, end) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(&question[start..end], m["text"].as_str().unwrap());
    }

    let summary: Value = serde_json::from_str(&kale_ok(&[
        "synth",
        &path("store"),
        "--dataset",
        &path("qa.jsonl"),
        "--out",
        &path("synth.jsonl"),
        "--paths",
        "3",
        "--json-summary",
    ]))
    .unwrap();
    assert_eq!(summary["items"], 80);
    assert_eq!(summary["coverage"], 1.0);
    let out: Vec<Value> = std::fs::read_to_string(path("synth.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 80);
    for (q, s) in questions.iter().zip(&out) {
        assert_eq!(q["id"], s["id"], "input order");
        assert!(s["paths"].as_array().unwrap().len() <= 3);
        assert!(!s["rationale"].as_str().unwrap().is_empty());
        let hop = &s["paths"][0]["hops"][0];
        for key in ["s", "p", "o", "forward", "s_label", "p_label", "o_label"] {
            assert!(!hop[key].is_null(), "{key} missing in {hop}");
        }
    }
}

#[test]
fn gen_wordnet_writes_the_graph_and_questions() {
    let dir = tempfile::tempdir().unwrap();
    let nt = dir.path().join("wn.nt");
    let qa = dir.path().join("wn-qa.jsonl");
    kale_ok(&[
        "gen",
        "wordnet",
        "--out",
        nt.to_str().unwrap(),
        "--qa",
        qa.to_str().unwrap(),
        "--questions",
        "20",
    ]);
    let text = std::fs::read_to_string(&nt).unwrap();
    assert!(text.contains("<http://kale.example/wordnet/prop/hypernym>"));
    assert!(text.lines().count() > 500_000);
    assert_eq!(std::fs::read_to_string(&qa).unwrap().lines().count(), 20);
}

#[test]
fn shards_of_a_dataset_merge_back_into_the_unsharded_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    world_with_questions(dir.path(), 1500, 8, 40);
    let synth = |out: &str, shard: Option<&str>| {
        let mut args = vec![
            "synth".to_owned(),
            path("store"),
            "--dataset".into(),
            path("qa.jsonl"),
            "--out".into(),
            path(out),
            "--fact-checks".into(),
            path(&format!("{out}.facts")),
        ];
        if let Some(s) = shard {
            args.extend(["--shard".into(), s.into()]);
        }
        kale_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let read = |p: String| -> Vec<String> {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        (read(path(out)), read(path(&format!("{out}.facts"))))
    };
    let (whole, whole_facts) = synth("whole.jsonl", None);
    assert_eq!(whole.len(), 40);
    let shards: Vec<(Vec<String>, Vec<String>)> = (0..3)
        .map(|i| synth(&format!("shard{i}.jsonl"), Some(&format!("{i}/3"))))
        .collect();
    assert_eq!(
        shards.iter().map(|s| s.0.len()).collect::<Vec<_>>(),
        [14, 13, 13]
    );
    // Round-robin: item p is the (p / 3)-th line of shard p mod 3.
    let merged: Vec<String> = (0..whole.len())
        .map(|p| shards[p % 3].0[p / 3].clone())
        .collect();
    assert_eq!(merged, whole);
    let mut facts: Vec<String> = shards.iter().flat_map(|s| s.1.clone()).collect();
    let mut expected = whole_facts.clone();
    facts.sort();
    expected.sort();
    assert_eq!(
        facts, expected,
        "the shards' fact checks are the whole run's"
    );

    let out = common::kale(&[
        "synth",
        &path("store"),
        "--dataset",
        &path("qa.jsonl"),
        "--out",
        &path("x.jsonl"),
        "--shard",
        "3/3",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 <= I < N"));
}
