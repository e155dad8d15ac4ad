//! Our models against Hugging Face transformers (the project venv's): the same logits for the
//! same weights and ids, the same token ids, and checkpoints that round-trip both ways.

mod common;

use common::{assert_encodes_as, assert_generates_as_transformers, python, tensor_from_nested};
use kale_datasets::synth::writer::Generation;
use kale_trainer::checkpoint::{load_model, save_model};
use kale_trainer::generate::{generate, GenerateRequest};
use serde_json::Value;
use std::path::Path;
use tch::{Device, Kind, Tensor};

fn reference(dir: &Path) -> Value {
    python(&["make", dir.to_str().unwrap()]);
    serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json")).unwrap()).unwrap()
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn logits_and_token_ids_match_transformers_for_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference(dir.path());
    for name in ["gpt2", "llama", "qwen2"] {
        let r = &reference[name];
        let loaded = load_model(&dir.path().join(name), Device::Cpu, None).unwrap();
        assert!(
            loaded.unused.is_empty(),
            "{name}: unused tensors {:?}",
            loaded.unused
        );
        let ids = tensor_from_nested(&r["ids"], Kind::Int64);
        let ours = tch::no_grad(|| loaded.model.forward(&ids, false));
        let theirs = tensor_from_nested(&r["logits"], Kind::Float);
        let diff = max_diff(&ours, &theirs);
        assert!(diff < 1e-4, "{name}: logits differ by {diff}");
        assert_encodes_as(&loaded.tokenizer, &r["strings"], &r["encoded"], name);
    }
}

#[test]
fn batched_generation_with_the_kv_cache_gives_transformers_greedy_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let _ = reference(dir.path());
    let prompts = vec![
        vec![3, 1, 4, 1, 5, 9, 2, 6],
        vec![27, 18],
        vec![8, 8, 100, 200, 7],
    ];
    for name in ["gpt2", "llama", "qwen2"] {
        // 40 new tokens after 8 runs into none of the tiny models' 64 positions.
        assert_generates_as_transformers(&dir.path().join(name), name, &prompts, 40);
    }
}

#[test]
fn sampling_is_reproducible_by_seed_and_differs_across_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let _ = reference(dir.path());
    let loaded = load_model(&dir.path().join("llama"), Device::Cpu, None).unwrap();
    let prompts = vec![vec![3, 1, 4], vec![3, 1, 4]];
    let generation = Generation {
        max_tokens: 30,
        temperature: 1.5,
        top_p: 0.95,
        seed: 0,
    };
    let sample = |seeds: &[u64]| {
        generate(
            &loaded.model,
            &loaded.tokenizer,
            &GenerateRequest {
                prompts: &prompts,
                seeds,
                generation: &generation,
                kv_cache: true,
                min_tokens: 0,
            },
        )
        .unwrap()
    };
    let a = sample(&[1, 2]);
    assert_eq!(a, sample(&[1, 2]), "the same seeds draw the same tokens");
    assert_ne!(a[0], a[1], "different seeds draw different tokens");
    assert_eq!(
        sample(&[2, 2])[0],
        a[1],
        "a sequence's draw depends on its seed only"
    );
}

#[test]
fn a_checkpoint_we_save_loads_in_transformers_with_the_same_logits() {
    let dir = tempfile::tempdir().unwrap();
    let _ = reference(dir.path());
    for name in ["gpt2", "llama", "qwen2"] {
        let loaded = load_model(&dir.path().join(name), Device::Cpu, None).unwrap();
        // Change every weight so the saved checkpoint is ours, not a copy of the input.
        tch::no_grad(|| {
            for (_, mut var) in loaded.model.base_variables() {
                let noise = var.randn_like() * 0.01;
                let _ = var.g_add_(&noise);
            }
        });
        let out = dir.path().join(format!("{name}-ours"));
        save_model(&loaded.model, &loaded.tokenizer, &out).unwrap();
        let ids: Vec<Vec<i64>> = vec![vec![3, 1, 4, 1, 5, 9, 2, 6]];
        let reply: Value = serde_json::from_str(&python(&[
            "logits",
            out.to_str().unwrap(),
            &serde_json::to_string(&ids).unwrap(),
        ]))
        .unwrap();
        let theirs = tensor_from_nested(&reply["logits"], Kind::Float);
        let ours = tch::no_grad(|| {
            loaded
                .model
                .forward(&Tensor::from_slice(&ids[0]).view([1, 8]), false)
        });
        let diff = max_diff(&ours, &theirs);
        assert!(
            diff < 1e-4,
            "{name}: transformers' logits of our checkpoint differ by {diff}"
        );
        // And it reads back here identically.
        let again = load_model(&out, Device::Cpu, None).unwrap();
        let back = tch::no_grad(|| {
            again
                .model
                .forward(&Tensor::from_slice(&ids[0]).view([1, 8]), false)
        });
        assert_eq!(max_diff(&ours, &back), 0.0);
    }
}

#[test]
fn bad_checkpoints_name_the_file_or_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let _ = reference(dir.path());
    let llama = dir.path().join("llama");
    let load_error = |dir: &Path| {
        load_model(dir, Device::Cpu, None)
            .err()
            .expect("the load fails")
            .to_string()
    };
    // A config that disagrees with the weights.
    let bad = dir.path().join("bad-shape");
    std::fs::create_dir_all(&bad).unwrap();
    for f in ["model.safetensors", "tokenizer.json"] {
        std::fs::copy(llama.join(f), bad.join(f)).unwrap();
    }
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(llama.join("config.json")).unwrap()).unwrap();
    config["intermediate_size"] = 48.into();
    std::fs::write(bad.join("config.json"), config.to_string()).unwrap();
    let err = load_error(&bad);
    assert!(err.contains("mlp.") && err.contains("shape"), "{err}");
    // A tokenizer whose ids run past the embedding table.
    config["intermediate_size"] = 64.into();
    config["vocab_size"] = 200.into();
    std::fs::write(bad.join("config.json"), config.to_string()).unwrap();
    let err = load_error(&bad);
    assert!(
        err.contains("tokenizer.json") && err.contains("vocab_size"),
        "{err}"
    );
    // An unknown architecture.
    config["model_type"] = "mamba".into();
    std::fs::write(bad.join("config.json"), config.to_string()).unwrap();
    let err = load_error(&bad);
    assert!(
        err.contains("config.json") && err.contains("mamba"),
        "{err}"
    );
    // A corrupted weights file.
    let corrupt = dir.path().join("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(llama.join(f), corrupt.join(f)).unwrap();
    }
    let bytes = std::fs::read(llama.join("model.safetensors")).unwrap();
    std::fs::write(corrupt.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let err = load_error(&corrupt);
    assert!(err.contains("model.safetensors"), "{err}");
    // A missing file.
    std::fs::remove_file(corrupt.join("model.safetensors")).unwrap();
    let err = load_error(&corrupt);
    assert!(err.contains("model.safetensors"), "{err}");
}
