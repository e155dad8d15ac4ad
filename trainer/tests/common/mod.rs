//! Helpers of the trainer's tests: the Python reference, tensors from JSON.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use tch::{Kind, Tensor};

/// Runs the reference script with the project venv's Python; returns its stdout.
pub fn python(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let interpreter = root.join(".venv/bin/python");
    assert!(
        interpreter.exists(),
        "no project venv: run scripts/setup.sh --test"
    );
    let out = Command::new(interpreter)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/hf_reference.py"))
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the reference failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A tensor from nested JSON arrays of numbers.
pub fn tensor_from_nested(value: &Value, kind: Kind) -> Tensor {
    fn shape(v: &Value, out: &mut Vec<i64>) {
        if let Some(a) = v.as_array() {
            out.push(a.len() as i64);
            if let Some(first) = a.first() {
                shape(first, out);
            }
        }
    }
    fn flat(v: &Value, out: &mut Vec<f64>) {
        match v.as_array() {
            Some(a) => a.iter().for_each(|x| flat(x, out)),
            None => out.push(v.as_f64().unwrap()),
        }
    }
    let mut dims = Vec::new();
    shape(value, &mut dims);
    let mut data = Vec::new();
    flat(value, &mut data);
    Tensor::from_slice(&data)
        .view(dims.as_slice())
        .to_kind(kind)
}

/// Our tokenizer gives the reference's ids for each string (`strings` and `encoded`: parallel
/// JSON arrays).
pub fn assert_encodes_as(
    tokenizer: &kale_trainer::tokenizer::TextTokenizer,
    strings: &Value,
    encoded: &Value,
    what: &str,
) {
    let strings = strings.as_array().expect("an array of strings");
    let encoded = encoded.as_array().expect("an array of id lists");
    assert_eq!(strings.len(), encoded.len());
    for (text, ids) in strings.iter().zip(encoded) {
        let expected: Vec<i64> = ids
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_i64().unwrap())
            .collect();
        assert_eq!(
            tokenizer.encode(text.as_str().unwrap()).unwrap(),
            expected,
            "{what}: {text}"
        );
    }
}

/// Our batched greedy generation, with and without the KV cache, and transformers' `generate`
/// of each prompt alone: the same tokens, for prompts of different lengths (left padding).
pub fn assert_generates_as_transformers(
    dir: &Path,
    name: &str,
    prompts: &[Vec<i64>],
    max_tokens: usize,
) {
    let loaded = kale_trainer::checkpoint::load_model(dir, tch::Device::Cpu, None).unwrap();
    let stops = kale_trainer::generate::stop_tokens(&loaded.tokenizer);
    let generation = kale_datasets::synth::writer::Generation {
        max_tokens,
        ..kale_datasets::synth::writer::Generation::default()
    };
    let seeds = vec![0; prompts.len()];
    let ours = |prompts: &[Vec<i64>], kv_cache, min_tokens| {
        kale_trainer::generate::generate(
            &loaded.model,
            &loaded.tokenizer,
            &kale_trainer::generate::GenerateRequest {
                prompts,
                seeds: &seeds[..prompts.len()],
                generation: &generation,
                kv_cache,
                min_tokens,
            },
        )
        .unwrap()
    };
    let theirs = |min_tokens: usize| -> Vec<Vec<i64>> {
        serde_json::from_str(&python(&[
            "generate",
            dir.to_str().unwrap(),
            &serde_json::to_string(prompts).unwrap(),
            &serde_json::to_string(&stops).unwrap(),
            &max_tokens.to_string(),
            &min_tokens.to_string(),
        ]))
        .unwrap()
    };
    let cached = ours(prompts, true, 0);
    assert_eq!(
        cached,
        ours(prompts, false, 0),
        "{name}: the cache changes the tokens"
    );
    assert_eq!(
        cached,
        theirs(0),
        "{name}: tokens differ from transformers'"
    );
    assert!(
        cached.iter().any(|t| !t.is_empty()),
        "{name}: nothing generated"
    );
    // One prompt alone gives what it gave in the batch.
    let alone = ours(&prompts[1..2], true, 0);
    assert_eq!(alone[0], cached[1], "{name}: batching changes the tokens");
    // With the stop tokens ruled out, every sequence runs to the limit, as transformers'
    // `min_new_tokens` makes it (the benchmark's fixed-length setting).
    let full = ours(prompts, true, max_tokens);
    assert!(
        full.iter().all(|t| t.len() == max_tokens),
        "{name}: {full:?}"
    );
    assert_eq!(
        full,
        theirs(max_tokens),
        "{name}: min_tokens differs from transformers' min_new_tokens"
    );
}
