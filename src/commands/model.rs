//! `kale init-model`, `train`, `eval`, `merge-lora`, `import-gguf`, `generate`, `plot`: the
//! trainer's commands, each one call into `kale_trainer::job` (or the GGUF importer, or the
//! experiment's charts) and what it reports.

use crate::cli::{EvalArgs, InitModelArgs, TrainArgs};
use crate::progress::TerminalProgress;
use anyhow::Result;
use kale_datasets::synth::writer::Generation;
use kale_trainer::eval::{Accuracy, EvalReport};
use kale_trainer::job::{self, EvalJob, InitModel, TrainData, TrainJob};
use kale_trainer::lora::LoraConfig;
use kale_trainer::optim::AdamWConfig;
use kale_trainer::runtime::{self, Device};
use kale_trainer::train::TrainConfig;
use kale_trainer::writer::WriterChoice;
use serde_json::json;
use std::path::{Path, PathBuf};

fn set_threads(threads: Option<i32>) {
    if let Some(n) = threads {
        runtime::set_threads(n);
    }
}

fn note(text: &str) {
    eprintln!("{text}");
}

pub fn init_model(args: InitModelArgs) -> Result<()> {
    let report = job::init_model(&InitModel {
        arch: args.arch,
        layers: args.layers,
        hidden: args.hidden,
        heads: args.heads,
        kv_heads: args.kv_heads,
        max_positions: args.max_positions,
        tokenizer_from: args.tokenizer_from,
        vocab: args.vocab,
        tokenizer: args.tokenizer,
        seed: args.seed,
        out: args.out.clone(),
    })?;
    eprintln!(
        "a {} model with {:.2}M parameters and a {}-token vocabulary -> {}",
        format!("{:?}", args.arch).to_lowercase(),
        report.parameters as f64 / 1e6,
        report.vocab,
        args.out.display()
    );
    Ok(())
}

impl TrainArgs {
    /// The training settings these arguments give.
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            objective: self.objective.with_lambda(self.lambda),
            divergence: self.kl.with_beta(self.beta),
            temperature: self.temperature,
            teacher: self.teacher,
            epochs: self.epochs,
            max_steps: self.max_steps,
            batch: self.batch,
            micro_batch: self.micro_batch.unwrap_or(self.batch),
            optimizer: AdamWConfig {
                lr: self.lr,
                weight_decay: self.weight_decay,
                ..AdamWConfig::default()
            },
            warmup: self.warmup,
            min_lr_ratio: 0.1,
            clip: self.clip,
            seed: self.seed,
            save_every: self.save_every,
            eval_every: self.eval_every,
            teacher_top_k: (self.teacher_top_k > 0).then_some(self.teacher_top_k),
        }
    }
}

pub fn train(args: TrainArgs, progress: &TerminalProgress) -> Result<()> {
    set_threads(args.threads);
    let data = match (&args.store, &args.data) {
        (Some(store), _) => TrainData::Store {
            store: store.clone(),
            dataset: args
                .dataset
                .clone()
                .expect("clap requires --dataset with --store"),
            write_synth: args.write_synth.clone(),
            writer: Some(Box::new(WriterChoice {
                options: args.writer.options(),
                device: args.writer.writer_device,
            })),
        },
        (None, Some(data)) => TrainData::File(data.clone()),
        (None, None) => unreachable!("clap requires --data without --store"),
    };
    let train_job = TrainJob {
        model: args.model.clone(),
        data,
        out: args.out.clone(),
        config: args.config(),
        resume: args.resume.clone(),
        lora: args.lora_r.map(|r| {
            LoraConfig::new(
                r,
                args.lora_alpha,
                args.lora_dropout,
                args.lora_targets.clone(),
            )
        }),
        merge_lora: args.merge_lora,
        eval: args.eval.clone(),
        facts: args.facts.clone(),
        prompt: args.prompt.clone(),
        device: args.device,
    };
    let report = job::train(&train_job, progress, &note)?;
    if report.skipped > 0 {
        eprintln!(
            "skipped {} examples longer than the model's positions",
            report.skipped
        );
    }
    if let Some(n) = report.synthesized {
        eprintln!("synthesised {n} examples while training");
    }
    if let Some(w) = &report.writer {
        eprintln!("{w}");
    }
    let summary = &report.summary;
    eprintln!(
        "{} steps, final loss {:.4}, {:.0} tokens/s{}; model saved to {}",
        summary.steps,
        summary.final_loss,
        summary.tokens_per_sec,
        if summary.sft_fallbacks > 0 {
            format!(
                ", {} examples without rationale trained with sft",
                summary.sft_fallbacks
            )
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(())
}

pub fn eval(args: EvalArgs) -> Result<()> {
    set_threads(args.threads);
    let outcome = job::eval(&EvalJob {
        model: args.model,
        adapters: args.adapters,
        data: args.data.clone(),
        facts: args.facts,
        with_rationale: args.with_rationale,
        score: args.score,
        prompt: args.prompt,
        batch: args.batch,
        device: args.device,
    })?;
    let report = &outcome.report;
    if args.json {
        let mut value = serde_json::to_value(report)?;
        value["dataset"] = json!(args.data);
        value["items"] = serde_json::to_value(&report.results)?;
        value["count"] = json!(report.accuracy.items);
        value["seconds"] = json!(outcome.seconds);
        value["prompt"] = json!(outcome.format);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_report(&args.data, report);
        eprintln!(
            "scored {} items in {:.1}s ({} format)",
            report.accuracy.items, outcome.seconds, outcome.format
        );
    }
    Ok(())
}

fn print_report(data: &Path, report: &EvalReport) {
    let line = |name: &str, a: &Accuracy| {
        format!(
            "{name} {:.1}% ({} of {}, 95% CI {:.1}-{:.1}%)",
            100.0 * a.accuracy,
            a.correct,
            a.items,
            100.0 * a.ci95[0],
            100.0 * a.ci95[1]
        )
    };
    println!(
        "{}: {}; {}",
        data.display(),
        line("acc", &report.acc),
        line("acc_norm", &report.acc_norm)
    );
    println!(
        "probability on the choices {:.1}%",
        100.0 * report.choice_mass
    );
    for (kind, k) in &report.by_kind {
        println!("  {kind:<28} {:.1}% of {}", 100.0 * k.accuracy, k.items);
    }
    if let (Some(facts), Some(known), Some(rate)) =
        (&report.facts, report.known, report.known_incorrect)
    {
        println!(
            "fact checks: {:.1}% of {}; known questions: {known}; known&incorrect: {:.1}%",
            100.0 * facts.accuracy,
            facts.items,
            100.0 * rate
        );
    }
}

pub fn merge_lora(model: &Path, adapters: &Path, out: &Path) -> Result<()> {
    job::merge_lora(model, adapters, out)?;
    eprintln!(
        "merged {} into {} -> {}",
        adapters.display(),
        model.display(),
        out.display()
    );
    Ok(())
}

pub fn import_gguf(file: &Path, out: &Path) -> Result<()> {
    let imported = kale_trainer::gguf::import_gguf(file, out)?;
    let config = &imported.config;
    eprintln!(
        "imported {} ({} tensors, {} parameters; {} layers, hidden {}, {} heads, {} KV heads, vocabulary {}) -> {}",
        file.display(),
        imported.tensors,
        kg_store::progress::human_count(imported.parameters as f64),
        config["num_hidden_layers"],
        config["hidden_size"],
        config["num_attention_heads"],
        config["num_key_value_heads"],
        config["vocab_size"],
        out.display()
    );
    Ok(())
}

pub fn generate(
    dir: &Path,
    prompt: &str,
    generation: &Generation,
    raw: bool,
    device: Device,
) -> Result<()> {
    println!("{}", job::generate(dir, prompt, generation, raw, device)?);
    Ok(())
}

pub fn plot(metrics: &[PathBuf], out: &Path) -> Result<()> {
    let runs = metrics
        .iter()
        .map(|m| kale_experiment::plot::Run::read_labelled(m))
        .collect::<Result<Vec<_>, _>>()?;
    kale_experiment::plot::curves(&runs, out)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
