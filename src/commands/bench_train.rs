//! `kale bench train`: training throughput of a small Llama on synthetic batches, per objective,
//! measured the way `benches/pytorch_train.py` measures PyTorch eager on the same shapes: the
//! median of per-step student tokens/s after untimed warm-up steps.

use crate::cli::BenchTrainArgs;
use crate::progress::TerminalProgress;
use anyhow::{anyhow, Result};
use kale_trainer::config::{Arch, ModelConfig};
use kale_trainer::data::Tokenized;
use kale_trainer::loss::Objective;
use kale_trainer::model::CausalLm;
use kale_trainer::runtime::{self, parse_device};
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind};
use kale_trainer::train::{TokenizedExamples, TrainConfig, Trainer};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
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
    let config = ModelConfig::new(
        Arch::Llama,
        args.vocab,
        args.layers,
        args.hidden,
        args.heads,
        args.heads,
        512,
        0,
        0,
    )
    .map_err(|e| anyhow!(e))?;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
    let mut ids =
        |n: usize| -> Vec<i64> { (0..n).map(|_| rng.random_range(2..args.vocab)).collect() };
    let total = args.steps + args.warmup;
    let examples: Vec<Tokenized> = (0..total * args.batch)
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
    let mut results = Vec::new();
    for name in args.objectives.split(',').map(str::trim) {
        let objective =
            Objective::parse(name, 1.0).ok_or_else(|| anyhow!("unknown objective {name:?}"))?;
        runtime::seed(0);
        let model = CausalLm::new(config.clone(), device, None);
        let (params, _) = model.parameter_counts();
        let mut trainer = Trainer::new(
            model,
            &tokenizer,
            TrainConfig {
                objective,
                batch: args.batch,
                micro_batch: args.batch,
                max_steps: Some(total),
                epochs: 1,
                ..TrainConfig::default()
            },
            dir.path(),
        );
        let out = dir.path().join(name.replace('+', "-"));
        trainer.run(
            &mut TokenizedExamples(examples.clone()),
            &out,
            progress,
            None,
        )?;
        let rates: Vec<f64> = std::fs::read_to_string(out.join("metrics.jsonl"))?
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["step"].as_u64().is_some_and(|s| s as usize > args.warmup))
            .filter_map(|v| v["tokens_per_sec"].as_f64())
            .collect();
        let rate = median(rates);
        let step_ms = 1e3 * (args.batch * (args.prompt + args.answer)) as f64 / rate;
        results.push(json!({
            "objective": name, "tokens_per_sec": rate, "step_ms": step_ms, "parameters": params,
        }));
    }
    let sft_ms = results
        .iter()
        .find(|r| r["objective"] == "sft")
        .and_then(|r| r["step_ms"].as_f64());
    let report = json!({
        "model": { "arch": "llama", "layers": args.layers, "hidden": args.hidden, "heads": args.heads, "vocab": args.vocab },
        "batch": args.batch, "prompt": args.prompt, "answer": args.answer, "rationale": args.rationale,
        "threads": args.threads, "steps": args.steps, "device": args.device,
        "objectives": results,
    });
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for r in report["objectives"].as_array().into_iter().flatten() {
            let ms = r["step_ms"].as_f64().unwrap_or(f64::NAN);
            println!(
                "{:<8} {:>8.0} tokens/s  {:>7.1} ms/step{}",
                r["objective"].as_str().unwrap_or(""),
                r["tokens_per_sec"].as_f64().unwrap_or(0.0),
                ms,
                sft_ms.map_or(String::new(), |s| format!("  ({:.2}x sft)", ms / s))
            );
        }
    }
    Ok(())
}
