//! `kale bench train`: training throughput per objective, a fresh small Llama or a pretrained
//! model (optionally with LoRA), measured the way `benches/pytorch_train.py` measures PyTorch
//! (+ PEFT) on the same shapes: the median of per-step student tokens/s after untimed warm-up
//! steps. The data is `--warmup` batches of random ids cycled, so the timed steps of `ka` read
//! the teacher distributions the warm-up kept, as every epoch after the first does.

use crate::cli::BenchTrainArgs;
use crate::progress::TerminalProgress;
use anyhow::{anyhow, Result};
use kale_trainer::checkpoint::load_model;
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::data::Tokenized;
use kale_trainer::lora::LoraConfig;
use kale_trainer::loss::Objective;
use kale_trainer::metrics::{read_metrics, MetricsRecord};
use kale_trainer::model::CausalLm;
use kale_trainer::runtime::{self, parse_device, Device};
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind};
use kale_trainer::train::{TokenizedExamples, TrainConfig, Trainer};
use rand::{Rng, SeedableRng};
use serde_json::json;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The model of a run: a fresh one, or the pretrained one with fresh adapters.
fn model(
    args: &BenchTrainArgs,
    device: Device,
    fresh: &ModelConfig,
) -> Result<(CausalLm, Option<TextTokenizer>)> {
    let lora = args
        .lora_r
        .map(|r| LoraConfig::new(r, args.lora_alpha, 0.0, args.lora_targets.clone()));
    runtime::seed(0);
    Ok(match &args.model {
        Some(dir) => {
            let loaded = load_model(dir, device, lora)?;
            (loaded.model, Some(loaded.tokenizer))
        }
        None => (CausalLm::new(fresh.clone(), device, lora), None),
    })
}

pub fn run(args: &BenchTrainArgs, progress: &TerminalProgress) -> Result<()> {
    runtime::set_threads(args.threads);
    let device = parse_device(&args.device)?;
    let dir = tempfile::tempdir()?;
    // The tokenizer only supplies the pad id: batches are random ids of the given lengths.
    let tokenizer = TextTokenizer::train(
        &["a b c".to_owned()],
        TokenizerKind::WordLevel,
        16,
        &dir.path().join("tokenizer.json"),
    )?;
    let fresh = ModelConfig::new(&ModelShape {
        layers: args.layers,
        hidden_size: args.hidden,
        heads: args.heads,
        kv_heads: args.heads,
        ..ModelShape::small(Arch::Llama, args.vocab)
    })?;
    let vocab = match &args.model {
        Some(dir) => ModelConfig::from_file(&dir.join("config.json"))?.vocab_size,
        None => args.vocab,
    };
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
    let mut ids = |n: usize| -> Vec<i64> { (0..n).map(|_| rng.random_range(2..vocab)).collect() };
    let examples: Vec<Tokenized> = (0..args.warmup.max(1) * args.batch)
        .map(|_| {
            let prompt = ids(args.prompt);
            let mut with_rationale = prompt.clone();
            with_rationale.extend(ids(args.rationale));
            Tokenized {
                prompt,
                with_rationale: Some(with_rationale),
                answer: ids(args.answer),
            }
        })
        .collect();
    let total = args.steps + args.warmup;
    let mut results = Vec::new();
    let mut summary = None;
    for name in args.objectives.split(',').map(str::trim) {
        let (objective_name, kept) = match name.strip_suffix("-uncached") {
            Some(base) => (base, false),
            None => (name, true),
        };
        let objective = Objective::parse(objective_name, 1.0)
            .ok_or_else(|| anyhow!("unknown objective {name:?}"))?;
        let (model, own_tokenizer) = model(args, device, &fresh)?;
        let (params, trainable) = model.parameter_counts();
        let tok = own_tokenizer.as_ref().unwrap_or(&tokenizer);
        let mut trainer = Trainer::new(
            model,
            tok,
            TrainConfig {
                objective,
                batch: args.batch,
                micro_batch: args.batch,
                max_steps: Some(total),
                epochs: total,
                teacher_top_k: (kept && args.teacher_top_k > 0).then_some(args.teacher_top_k),
                ..TrainConfig::default()
            },
            args.model.as_deref().unwrap_or(dir.path()),
        );
        let out = dir.path().join(name.replace('+', "-"));
        trainer.run(
            &mut TokenizedExamples(examples.clone()),
            &out,
            progress,
            None,
        )?;
        let rates: Vec<f64> = read_metrics(&out.join("metrics.jsonl"))?
            .into_iter()
            .filter_map(|r| match r {
                MetricsRecord::Step(s) if s.step > args.warmup => Some(s.tokens_per_sec),
                _ => None,
            })
            .collect();
        let rate = median(rates);
        let step_ms = 1e3 * (args.batch * (args.prompt + args.answer)) as f64 / rate;
        results.push(json!({
            "objective": name, "tokens_per_sec": rate, "step_ms": step_ms,
            "parameters": params, "trainable": trainable,
        }));
        summary.get_or_insert(trainer.model.config.clone());
    }
    let config = summary.expect("at least one objective");
    let sft_ms = results
        .iter()
        .find(|r| r["objective"] == "sft")
        .and_then(|r| r["step_ms"].as_f64());
    let report = json!({
        "model": {
            "dir": args.model, "layers": config.layers, "hidden": config.hidden_size,
            "heads": config.heads, "vocab": config.vocab_size, "lora_r": args.lora_r,
        },
        "batch": args.batch, "prompt": args.prompt, "answer": args.answer, "rationale": args.rationale,
        "threads": args.threads, "steps": args.steps, "device": args.device,
        "teacher_top_k": args.teacher_top_k,
        "objectives": results,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for r in report["objectives"].as_array().into_iter().flatten() {
            let ms = r["step_ms"].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<12} {:>8.0} tokens/s  {:>8.1} ms/step{}",
                r["objective"].as_str().unwrap_or(""),
                r["tokens_per_sec"].as_f64().unwrap_or(0.0),
                ms,
                sft_ms.map_or(String::new(), |s| format!("  ({:.2}x sft)", ms / s))
            );
        }
    }
    Ok(())
}
