//! `kale init-model`, `train`, `eval`, `merge-lora`: the trainer's commands.

use crate::cli::{EvalArgs, InitModelArgs, TrainArgs};
use crate::progress::TerminalProgress;
use anyhow::{anyhow, bail, Context, Result};
use kale_trainer::checkpoint::{load_model, load_with_adapters, save_model, Loaded};
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::data::{load_examples, PromptEncoder};
use kale_trainer::eval::{evaluate, EvalOptions, Score};
use kale_trainer::lora::LoraConfig;
use kale_trainer::loss::{Divergence, Objective};
use kale_trainer::model::CausalLm;
use kale_trainer::optim::AdamWConfig;
use kale_trainer::prompt::PromptFormat;
use kale_trainer::runtime::{self, parse_device, Device};
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind, END_OF_TEXT};
use kale_trainer::train::{TeacherKind, TokenizedExamples, TrainConfig, Trainer};
use serde_json::{json, Value};
use std::path::Path;

pub fn device(name: &str) -> Result<Device> {
    Ok(parse_device(name)?)
}

fn set_threads(threads: Option<i32>) {
    if let Some(n) = threads {
        runtime::set_threads(n);
    }
}

/// Text to train a tokenizer on: lines of a .txt file, or every string field of JSONL records.
fn tokenizer_corpus(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "jsonl") {
        fn strings(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::String(s) => out.push(s.clone()),
                Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                Value::Object(o) => o.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let value: Value = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
            strings(&value, &mut out);
        }
        Ok(out)
    } else {
        Ok(text.lines().map(str::to_owned).collect())
    }
}

pub fn init_model(args: InitModelArgs) -> Result<()> {
    let arch = match args.arch.as_str() {
        "gpt2" => Arch::Gpt2,
        "llama" => Arch::Llama,
        other => bail!("unknown architecture {other:?}: use gpt2 or llama"),
    };
    if args.hidden % args.heads != 0 {
        bail!(
            "--hidden {} is not a multiple of --heads {}",
            args.hidden,
            args.heads
        );
    }
    let kind = match args.tokenizer.as_str() {
        "bpe" => TokenizerKind::Bpe,
        "word" => TokenizerKind::WordLevel,
        other => bail!("unknown tokenizer {other:?}: use bpe or word"),
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let corpus = tokenizer_corpus(&args.tokenizer_from)?;
    let tokenizer =
        TextTokenizer::train(&corpus, kind, args.vocab, &args.out.join("tokenizer.json"))?;
    let eos = tokenizer
        .eos
        .ok_or_else(|| anyhow!("the trained tokenizer has no {END_OF_TEXT}"))?;
    let config = ModelConfig::new(&ModelShape {
        arch,
        vocab_size: tokenizer.vocab_size() as i64,
        layers: args.layers,
        hidden_size: args.hidden,
        heads: args.heads,
        kv_heads: args.kv_heads.unwrap_or(args.heads),
        max_positions: args.max_positions,
        bos_token_id: eos,
        eos_token_id: eos,
    })?;
    runtime::seed(args.seed);
    let model = CausalLm::new(config, Device::Cpu, None);
    save_model(&model, &tokenizer, &args.out)?;
    let (params, _) = model.parameter_counts();
    eprintln!(
        "a {} model with {:.2}M parameters and a {}-token vocabulary -> {}",
        args.arch,
        params as f64 / 1e6,
        tokenizer.vocab_size(),
        args.out.display()
    );
    Ok(())
}

fn lora_of(args: &TrainArgs) -> Option<LoraConfig> {
    args.lora_r.map(|r| {
        LoraConfig::new(
            r,
            args.lora_alpha,
            args.lora_dropout,
            args.lora_targets.clone(),
        )
    })
}

pub fn train_config(args: &TrainArgs) -> Result<TrainConfig> {
    Ok(TrainConfig {
        objective: Objective::parse(&args.objective, args.lambda).ok_or_else(|| {
            anyhow!(
                "unknown objective {:?}: use sft, ka, ka+sft or rationale-sft",
                args.objective
            )
        })?,
        divergence: Divergence::parse(&args.kl, args.beta)
            .ok_or_else(|| anyhow!("unknown --kl {:?}: use p||q, q||p or jsd", args.kl))?,
        temperature: args.temperature,
        teacher: match args.teacher.as_str() {
            "frozen" => TeacherKind::Frozen,
            "live" => TeacherKind::Live,
            other => bail!("unknown teacher {other:?}: use frozen or live"),
        },
        epochs: args.epochs,
        max_steps: args.max_steps,
        batch: args.batch,
        micro_batch: args.micro_batch.unwrap_or(args.batch),
        optimizer: AdamWConfig {
            lr: args.lr,
            weight_decay: args.weight_decay,
            ..AdamWConfig::default()
        },
        warmup: args.warmup,
        min_lr_ratio: 0.1,
        clip: args.clip,
        seed: args.seed,
        save_every: args.save_every,
        eval_every: args.eval_every,
        teacher_top_k: (args.teacher_top_k > 0).then_some(args.teacher_top_k),
    })
}

/// The prompt format asked for, or the model's default: its chat template when it has one.
pub fn prompt_format(name: Option<&str>, tokenizer: &TextTokenizer) -> Result<PromptFormat> {
    Ok(match name {
        Some(name) => PromptFormat::named(name)?,
        None if tokenizer.chat_template.is_some() => PromptFormat::chat(),
        None => PromptFormat::plain(),
    })
}

/// The model to train: a fresh start from --model, or a checkpoint to resume.
pub fn starting_model(args: &TrainArgs, device: Device) -> Result<Loaded> {
    let from = args.resume.as_deref().unwrap_or(&args.model);
    let adapters = from.join("adapters");
    let loaded = if args.resume.is_some() && adapters.exists() {
        load_with_adapters(from, &adapters, device)?
    } else {
        load_model(from, device, lora_of(args))?
    };
    if !loaded.unused.is_empty() {
        eprintln!(
            "note: {} tensors of {} are not used by the model: {}",
            loaded.unused.len(),
            from.display(),
            loaded.unused.join(", ")
        );
    }
    Ok(loaded)
}

pub fn train(args: TrainArgs, progress: &TerminalProgress) -> Result<()> {
    set_threads(args.threads);
    let device = device(&args.device)?;
    let config = train_config(&args)?;
    let loaded = starting_model(&args, device)?;
    let format = prompt_format(args.prompt.as_deref(), &loaded.tokenizer)?;
    let encoder = PromptEncoder::new(format.clone(), loaded.model.config.max_positions as usize);
    let eval_data = args.eval.as_deref().map(load_examples).transpose()?;
    let facts = args.facts.as_deref().map(load_examples).transpose()?;
    let eval_options = EvalOptions {
        format,
        ..EvalOptions::default()
    };
    let eval = eval_data
        .as_deref()
        .map(|d| (d, facts.as_deref(), &eval_options));
    let (all, trainable) = loaded.model.parameter_counts();
    eprintln!(
        "training {:.2}M of {:.2}M parameters on {device:?}",
        trainable as f64 / 1e6,
        all as f64 / 1e6
    );
    let mut trainer = Trainer::new(loaded.model, &loaded.tokenizer, config, &args.model);
    if let Some(checkpoint) = &args.resume {
        trainer.resume(checkpoint)?;
    }
    let summary = if let Some(store) = &args.store {
        crate::commands::stream::train_streaming(
            &mut trainer,
            &loaded.tokenizer,
            &encoder,
            &args,
            store,
            progress,
            eval,
        )?
    } else {
        let data = args
            .data
            .as_ref()
            .expect("clap requires --data without --store");
        let examples = load_examples(data)?;
        let (tokenized, skipped) = encoder.tokenize_all(&loaded.tokenizer, &examples)?;
        if skipped > 0 {
            eprintln!(
                "skipped {skipped} examples longer than the model's {} positions",
                encoder.max_len
            );
        }
        trainer.run(&mut TokenizedExamples(tokenized), &args.out, progress, eval)?
    };
    if args.merge_lora && trainer.model.lora().is_some() {
        trainer.model.merge_lora();
        save_model(&trainer.model, &loaded.tokenizer, &args.out)?;
        let _ = std::fs::remove_dir_all(args.out.join("adapters"));
    }
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
    let device = device(&args.device)?;
    let loaded = match &args.adapters {
        Some(adapters) => load_with_adapters(&args.model, adapters, device)?,
        None => load_model(&args.model, device, None)?,
    };
    let data = load_examples(&args.data)?;
    let facts = args.facts.as_deref().map(load_examples).transpose()?;
    let options = EvalOptions {
        with_rationale: args.with_rationale,
        score: Score::parse(&args.score)
            .ok_or_else(|| anyhow!("unknown --score {:?}: use norm, sum or mean", args.score))?,
        batch: args.batch,
        format: prompt_format(args.prompt.as_deref(), &loaded.tokenizer)?,
    };
    let started = std::time::Instant::now();
    let report = evaluate(
        &loaded.model,
        &loaded.tokenizer,
        &data,
        facts.as_deref(),
        &options,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        value["dataset"] = json!(args.data);
        value["items"] = serde_json::to_value(&report.results)?;
        value["count"] = json!(report.accuracy.items);
        value["seconds"] = json!(seconds);
        value["prompt"] = json!(options.format.name);
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_report(&args.data, &report);
        eprintln!(
            "scored {} items in {seconds:.1}s ({} format)",
            report.accuracy.items, options.format.name
        );
    }
    Ok(())
}

pub fn print_report(data: &Path, report: &kale_trainer::eval::EvalReport) {
    let line = |name: &str, a: &kale_trainer::eval::Accuracy| {
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
    let mut loaded = load_with_adapters(model, adapters, Device::Cpu)?;
    loaded.model.merge_lora();
    save_model(&loaded.model, &loaded.tokenizer, out)?;
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
    max_tokens: usize,
    raw: bool,
    device_name: &str,
) -> Result<()> {
    let loaded = load_model(dir, device(device_name)?, None)?;
    let text = if raw {
        prompt.to_owned()
    } else {
        kale_trainer::generate::chat_prompt(&loaded.tokenizer, prompt)?
    };
    let ids = loaded.tokenizer.encode_prompt(&text)?;
    let new = kale_trainer::generate::greedy(&loaded.model, &loaded.tokenizer, &ids, max_tokens)?;
    println!("{}", loaded.tokenizer.decode(&new)?);
    Ok(())
}

/// A run's label: the name of the directory its metrics log is in.
pub fn run_label(metrics: &Path) -> String {
    metrics
        .parent()
        .and_then(Path::file_name)
        .or_else(|| metrics.file_stem())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into())
}

pub fn plot(metrics: &[std::path::PathBuf], out: &Path) -> Result<()> {
    let runs = metrics
        .iter()
        .map(|m| kale_experiment::plot::Run::read(m, &run_label(m)))
        .collect::<Result<Vec<_>, _>>()?;
    kale_experiment::plot::curves(&runs, out)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
