//! The training loop: `--resume` continues exactly (the same losses as an uninterrupted run),
//! LoRA trains only adapters and saves, loads and merges them, and transformers reads the result.

mod common;

use common::{python, tensor_from_nested};
use kale_trainer::checkpoint::{load_model, load_with_adapters, save_model};
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::data::Tokenized;
use kale_trainer::lora::LoraConfig;
use kale_trainer::loss::Objective;
use kale_trainer::model::CausalLm;
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind};
use kale_trainer::train::{TokenizedExamples, TrainConfig, Trainer};
use serde_json::Value;
use std::path::Path;
use tch::{Device, Tensor};

/// A fresh tiny Llama with a word-level tokenizer, saved to `dir`.
fn fresh_model(dir: &Path) {
    let corpus: Vec<String> = (0..200)
        .map(|i| format!("word{} thing{} item{}", i % 50, i % 7, i % 13))
        .collect();
    let tokenizer = TextTokenizer::train(
        &corpus,
        TokenizerKind::WordLevel,
        120,
        &dir.join("tokenizer.json"),
    )
    .unwrap();
    let eos = tokenizer.eos.unwrap();
    let config = ModelConfig::new(
        &ModelShape::tiny(Arch::Llama, tokenizer.vocab_size() as i64).with_special_tokens(eos, eos),
    )
    .unwrap();
    tch::manual_seed(7);
    save_model(&CausalLm::new(config, Device::Cpu, None), &tokenizer, dir).unwrap();
}

/// libtorch's random numbers are one per process, and the tests of a file run on parallel
/// threads: those that train (dropout, fresh adapters) take turns.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Examples of random token ids (from a generator of their own), half with a rationale.
fn examples(vocab: i64) -> Vec<Tokenized> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
    (0..40)
        .map(|i| {
            let mut ids = |n: i64| {
                (0..n)
                    .map(|_| rng.random_range(0..vocab))
                    .collect::<Vec<i64>>()
            };
            let prompt = ids(5 + i % 4);
            let with_rationale = (i % 2 == 0).then(|| [prompt.clone(), ids(3)].concat());
            Tokenized {
                prompt,
                with_rationale,
                answer: ids(2 + i % 3),
            }
        })
        .collect()
}

fn run(
    model_dir: &Path,
    start: &Path,
    resume: Option<&Path>,
    config: TrainConfig,
    out: &Path,
    lora: Option<LoraConfig>,
) -> Vec<f64> {
    let loaded = match resume {
        Some(checkpoint) if checkpoint.join("adapters").exists() => {
            load_with_adapters(checkpoint, &checkpoint.join("adapters"), Device::Cpu).unwrap()
        }
        Some(checkpoint) => load_model(checkpoint, Device::Cpu, None).unwrap(),
        None => load_model(start, Device::Cpu, lora).unwrap(),
    };
    let vocab = loaded.model.config.vocab_size;
    let mut trainer = Trainer::new(loaded.model, &loaded.tokenizer, config, model_dir);
    if let Some(checkpoint) = resume {
        trainer.resume(checkpoint).unwrap();
    }
    let summary = trainer
        .run(
            &mut TokenizedExamples(examples(vocab)),
            out,
            &kg_store::progress::NoProgress,
            None,
        )
        .unwrap();
    summary.losses
}

#[test]
fn a_resumed_run_repeats_the_uninterrupted_one() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    fresh_model(&model);
    let cases = [
        ("sft, all weights", Objective::Sft, None),
        (
            "ka, lora with dropout",
            Objective::Ka,
            Some(LoraConfig::new(
                4,
                8.0,
                0.1,
                vec!["q_proj".into(), "v_proj".into()],
            )),
        ),
    ];
    for (name, objective, lora) in cases {
        let config = TrainConfig {
            objective,
            batch: 8,
            micro_batch: 4,
            max_steps: Some(8),
            save_every: Some(4),
            warmup: 2,
            seed: 3,
            ..TrainConfig::default()
        };
        let straight = run(
            &model,
            &model,
            None,
            config.clone(),
            &dir.path().join("straight"),
            lora.clone(),
        );
        assert_eq!(straight.len(), 8, "{name}");
        let checkpoint = dir.path().join("straight/checkpoint-4");
        assert!(checkpoint.join("optimizer.safetensors").exists());
        let resumed = run(
            &model,
            &model,
            Some(&checkpoint),
            config,
            &dir.path().join("resumed"),
            None,
        );
        assert_eq!(
            resumed,
            straight[4..].to_vec(),
            "{name}: a resumed run must repeat the same losses"
        );
        if objective == Objective::Sft {
            assert!(straight[7] < straight[0], "{name}: the loss goes down");
        }
    }
}

#[test]
fn lora_trains_adapters_only_and_merges_into_a_model_transformers_reads() {
    let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    fresh_model(&model);
    let lora = LoraConfig::new(
        4,
        8.0,
        0.0,
        vec!["q_proj".into(), "v_proj".into(), "down_proj".into()],
    );
    let config = TrainConfig {
        objective: Objective::Sft,
        max_steps: Some(5),
        optimizer: kale_trainer::optim::AdamWConfig {
            lr: 1e-2,
            ..Default::default()
        },
        ..TrainConfig::default()
    };
    let out = dir.path().join("lora");
    run(&model, &model, None, config, &out, Some(lora));
    for file in ["adapter_config.json", "adapter_model.safetensors"] {
        assert!(out.join("adapters").join(file).exists(), "{file}");
    }
    let peft: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("adapters/adapter_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(peft["peft_type"], "LORA");
    assert_eq!(peft["r"], 4);
    let names: Vec<String> =
        Tensor::read_safetensors(out.join("adapters/adapter_model.safetensors"))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("base_model.model.model.layers.")
                && (n.ends_with(".lora_A.weight") || n.ends_with(".lora_B.weight"))),
        "{names:?}"
    );
    // The base weights did not move.
    let base = load_model(&model, Device::Cpu, None).unwrap();
    let saved = load_model(&out, Device::Cpu, None).unwrap();
    for (name, var) in base.model.base_variables() {
        assert!(
            var.equal(&saved.model.vs.variables()[&name]),
            "{name} changed"
        );
    }
    // With the adapters the model answers differently; merged, it answers the same as with them.
    let mut adapted = load_with_adapters(&out, &out.join("adapters"), Device::Cpu).unwrap();
    let ids = Tensor::from_slice(&[3i64, 1, 4, 1, 5, 9]).view([1, 6]);
    let with_adapters = tch::no_grad(|| adapted.model.forward(&ids, false));
    let without = tch::no_grad(|| base.model.forward(&ids, false));
    assert!(
        (&with_adapters - &without).abs().max().double_value(&[]) > 1e-4,
        "the adapters learned nothing"
    );
    adapted.model.merge_lora();
    let merged = tch::no_grad(|| adapted.model.forward(&ids, false));
    assert!(merged.allclose(&with_adapters, 1e-4, 1e-5, false));
    let merged_dir = dir.path().join("merged");
    save_model(&adapted.model, &adapted.tokenizer, &merged_dir).unwrap();
    let reply: Value = serde_json::from_str(&python(&[
        "logits",
        merged_dir.to_str().unwrap(),
        "[[3, 1, 4, 1, 5, 9]]",
    ]))
    .unwrap();
    let theirs = tensor_from_nested(&reply["logits"], tch::Kind::Float);
    assert!(
        (theirs - merged).abs().max().double_value(&[]) < 1e-4,
        "transformers reads the merged model differently"
    );
}

/// A rationale too long for the model's positions is cut from its own end: the passage and the
/// question stay whole, the teacher's prompt still ends like the student's, and the answer
/// tokens are the student's.
#[test]
fn a_long_rationale_is_cut_from_its_end_and_nothing_else_is() {
    use kale_datasets::qa::QaItem;
    use kale_trainer::data::{Example, PromptEncoder};
    use kale_trainer::prompt::PromptFormat;
    let dir = tempfile::tempdir().unwrap();
    let passage: Vec<String> = (0..30).map(|i| format!("passage{i}")).collect();
    let rationale: Vec<String> = (0..60).map(|i| format!("fact{i}")).collect();
    let corpus = vec![
        passage.join(" "),
        rationale.join(" "),
        "context : question : which river flows here ? choices : the nile , the rhine facts : answer :".into(),
    ];
    let tokenizer = TextTokenizer::train(
        &corpus,
        TokenizerKind::WordLevel,
        500,
        &dir.path().join("tokenizer.json"),
    )
    .unwrap();
    let item = QaItem {
        id: "long".into(),
        question: "Which river flows here?".into(),
        context: Some(passage.join(" ")),
        choices: vec!["the Nile".into(), "the Rhine".into()],
        answer: 1,
        facts: Vec::new(),
        kind: None,
        concept: None,
        relations: Vec::new(),
    };
    let encoder = PromptEncoder::new(PromptFormat::plain(), 90);
    let example = Example::Qa {
        item: item.clone(),
        rationale: Some(rationale.join(" ")),
    };
    let t = encoder.tokenize(&tokenizer, &example).unwrap().unwrap();
    let teacher = t
        .with_rationale
        .as_ref()
        .expect("a cut rationale still fits");
    assert!(teacher.len() + t.answer.len() <= 90);
    let text = tokenizer.decode(teacher).unwrap();
    // The whole passage and the question are there, in the teacher's prompt as in the student's.
    for word in &passage {
        assert!(text.contains(word.as_str()), "{word} was cut: {text}");
    }
    assert!(text.contains("which river flows here"), "{text}");
    // The rationale lost its end, not its start.
    assert!(text.contains("fact0 fact1"), "{text}");
    assert!(!text.contains("fact59"), "{text}");
    // Both prompts end alike and the answer is the student's.
    let student = tokenizer.decode(&t.prompt).unwrap();
    assert!(
        text.ends_with("answer :") && student.ends_with("answer :"),
        "{text} / {student}"
    );
    let (_, answer) = encoder.choice(&tokenizer, &item, None, 1).unwrap();
    assert_eq!(t.answer, answer);
    // A rationale that fits is kept whole.
    let short = Example::Qa {
        item,
        rationale: Some("fact0 fact1".into()),
    };
    let t = encoder.tokenize(&tokenizer, &short).unwrap().unwrap();
    assert!(tokenizer
        .decode(t.with_rationale.as_ref().unwrap())
        .unwrap()
        .contains("facts : fact0 fact1 answer"));
}
