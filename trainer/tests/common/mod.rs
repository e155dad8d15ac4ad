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
