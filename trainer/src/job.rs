//! The trainer's runs as the command line starts them, from directories and files: a fresh
//! model with a tokenizer trained on a corpus, a fine-tuning run (from a file, or streamed from
//! a live store), an evaluation, merging adapters, a greedy continuation. Each takes an options
//! struct and returns what it did; notes for the user go through `note`.

use crate::checkpoint::{load_model, load_with_adapters, save_model, Loaded};
use crate::config::{Arch, ModelConfig, ModelShape};
use crate::data::{load_examples, PromptEncoder};
use crate::error::{Result, TrainerError};
use crate::eval::{evaluate, EvalOptions, EvalReport, Score};
use crate::generate::{chat_prompt, generate as generate_tokens, GenerateRequest};
use crate::lora::LoraConfig;
use crate::model::CausalLm;
use crate::prompt::PromptFormat;
use crate::runtime::{self, Device};
use crate::stream::{StreamLimits, StreamingExamples};
use crate::tokenizer::{read_corpus, TextTokenizer, TokenizerKind, END_OF_TEXT};
use crate::train::{TokenizedExamples, TrainConfig, TrainSummary, Trainer};
use crate::writer;
use kale_datasets::qa::read_items;
use kale_datasets::synth::SynthConfig;
use kg_store::progress::Progress;
use kg_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Where the user is told what a run noticed (the command line prints it).
pub type Note<'a> = &'a dyn Fn(&str);

/// A fresh model: random weights of a shape, and a tokenizer trained on a corpus.
#[derive(Clone, Debug)]
pub struct InitModel {
    pub arch: Arch,
    pub layers: i64,
    pub hidden: i64,
    pub heads: i64,
    /// Key-value heads (Llama); `None`: as many as `heads`.
    pub kv_heads: Option<i64>,
    pub max_positions: i64,
    /// A .txt file (its lines), or JSONL (every string field).
    pub tokenizer_from: PathBuf,
    pub vocab: usize,
    pub tokenizer: TokenizerKind,
    pub seed: i64,
    pub out: PathBuf,
}

/// What [`init_model`] made.
#[derive(Clone, Debug)]
pub struct InitReport {
    pub parameters: i64,
    pub vocab: usize,
}

/// Trains the tokenizer, builds the model and saves both under `out`.
pub fn init_model(spec: &InitModel) -> Result<InitReport> {
    if spec.heads <= 0 || spec.hidden % spec.heads != 0 {
        return Err(TrainerError::InvalidInput(format!(
            "--hidden {} is not a multiple of --heads {}",
            spec.hidden, spec.heads
        )));
    }
    std::fs::create_dir_all(&spec.out).map_err(TrainerError::io(&spec.out))?;
    let corpus = read_corpus(&spec.tokenizer_from)?;
    let tokenizer = TextTokenizer::train(
        &corpus,
        spec.tokenizer,
        spec.vocab,
        &spec.out.join("tokenizer.json"),
    )?;
    let eos = tokenizer.eos.ok_or_else(|| {
        TrainerError::InvalidInput(format!("the trained tokenizer has no {END_OF_TEXT}"))
    })?;
    let config = ModelConfig::new(&ModelShape {
        arch: spec.arch,
        vocab_size: tokenizer.vocab_size() as i64,
        layers: spec.layers,
        hidden_size: spec.hidden,
        heads: spec.heads,
        kv_heads: spec.kv_heads.unwrap_or(spec.heads),
        max_positions: spec.max_positions,
        bos_token_id: eos,
        eos_token_id: eos,
    })?;
    runtime::seed(spec.seed);
    let model = CausalLm::new(config, Device::Cpu, None);
    save_model(&model, &tokenizer, &spec.out)?;
    Ok(InitReport {
        parameters: model.parameter_counts().0,
        vocab: tokenizer.vocab_size(),
    })
}

/// Where a fine-tuning run's examples come from.
#[derive(Clone, Debug)]
pub enum TrainData {
    /// `kale synth` output, plain QA JSONL, or `{"text": ...}` lines.
    File(PathBuf),
    /// Rationales synthesised for `dataset` from a live store while training; every epoch sees
    /// what other processes committed meanwhile.
    Store {
        store: PathBuf,
        dataset: PathBuf,
        /// Also write the synthesised items here (JSONL).
        write_synth: Option<PathBuf>,
        /// A language model that writes the rationales (`None`: the template); its cache is
        /// `OUT/rationale-cache` unless the options name one.
        writer: Option<Box<writer::WriterChoice>>,
    },
}

/// A fine-tuning run.
#[derive(Clone, Debug)]
pub struct TrainJob {
    /// The starting model (a Hugging Face directory).
    pub model: PathBuf,
    pub data: TrainData,
    pub out: PathBuf,
    pub config: TrainConfig,
    /// Continue from this checkpoint (checkpoint-N) of an interrupted run.
    pub resume: Option<PathBuf>,
    /// Train LoRA adapters instead of all weights...
    pub lora: Option<LoraConfig>,
    /// ...and fold them into the saved model at the end.
    pub merge_lora: bool,
    /// Evaluate on this QA file every `config.eval_every` steps and at the end...
    pub eval: Option<PathBuf>,
    /// ...with these fact checks (for known&incorrect).
    pub facts: Option<PathBuf>,
    /// A prompt format by name or JSON file (default: [`PromptFormat::for_model`]).
    pub prompt: Option<String>,
    pub device: Device,
}

/// What a fine-tuning run did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    pub summary: TrainSummary,
    /// Examples skipped for being longer than the model's positions (file data).
    pub skipped: usize,
    /// Examples synthesised while training (store data).
    pub synthesized: Option<usize>,
    /// What the rationale writer did (store data with a language-model writer).
    pub writer: Option<kale_datasets::synth::writer::WriterSummary>,
}

/// The model a run starts from: `from` with fresh adapters, or a checkpoint's base and
/// adapters when it has them.
fn starting_model(
    from: &Path,
    resuming: bool,
    lora: Option<LoraConfig>,
    device: Device,
    note: Note<'_>,
) -> Result<Loaded> {
    let adapters = from.join("adapters");
    let loaded = if resuming && adapters.exists() {
        load_with_adapters(from, &adapters, device)?
    } else {
        load_model(from, device, lora)?
    };
    if !loaded.unused.is_empty() {
        note(&format!(
            "note: {} tensors of {} are not used by the model: {}",
            loaded.unused.len(),
            from.display(),
            loaded.unused.join(", ")
        ));
    }
    Ok(loaded)
}

/// Runs a fine-tuning job to its end, saving the model (and checkpoints) under `job.out`.
pub fn train(job: &TrainJob, progress: &dyn Progress, note: Note<'_>) -> Result<TrainReport> {
    let from = job.resume.as_deref().unwrap_or(&job.model);
    let loaded = starting_model(
        from,
        job.resume.is_some(),
        job.lora.clone(),
        job.device,
        note,
    )?;
    let format = PromptFormat::for_model(job.prompt.as_deref(), &loaded.tokenizer)?;
    let encoder = PromptEncoder::new(format.clone(), loaded.model.config.max_positions as usize);
    let eval_data = job.eval.as_deref().map(load_examples).transpose()?;
    let facts = job.facts.as_deref().map(load_examples).transpose()?;
    let eval_options = EvalOptions {
        format,
        ..EvalOptions::default()
    };
    let eval = eval_data
        .as_deref()
        .map(|d| (d, facts.as_deref(), &eval_options));
    let (all, trainable) = loaded.model.parameter_counts();
    note(&format!(
        "training {:.2}M of {:.2}M parameters on {:?}",
        trainable as f64 / 1e6,
        all as f64 / 1e6,
        job.device
    ));
    let mut trainer = Trainer::new(
        loaded.model,
        &loaded.tokenizer,
        job.config.clone(),
        &job.model,
    );
    if let Some(checkpoint) = &job.resume {
        trainer.resume(checkpoint)?;
    }
    let mut report = TrainReport {
        summary: TrainSummary::default(),
        skipped: 0,
        synthesized: None,
        writer: None,
    };
    report.summary = match &job.data {
        TrainData::File(data) => {
            let examples = load_examples(data)?;
            let (tokenized, skipped) = encoder.tokenize_all(&loaded.tokenizer, &examples)?;
            report.skipped = skipped;
            trainer.run(&mut TokenizedExamples(tokenized), &job.out, progress, eval)?
        }
        TrainData::Store {
            store,
            dataset,
            write_synth,
            writer,
        } => {
            let items = read_items(dataset, None)?;
            // A follower: another process (kale serve --allow-update, kale update) may write
            // the store meanwhile, and every epoch sees what it committed.
            let scratch = tempfile::tempdir().map_err(TrainerError::io(std::env::temp_dir()))?;
            let store = Store::open_secondary(store, scratch.path())?;
            let tokenizer = Arc::new(TextTokenizer::load(
                &loaded.tokenizer.path,
                loaded.tokenizer.eos,
            )?);
            let synth = SynthConfig::default();
            let template = synth.template.clone();
            let mut examples = StreamingExamples::new(
                store,
                items,
                synth,
                tokenizer,
                encoder,
                StreamLimits::default(),
            )?;
            if let Some(choice) = writer {
                let cache = job.out.join("rationale-cache");
                if let Some(rewriter) =
                    writer::rewriter(&choice.options, template, &cache, choice.device)?
                {
                    examples = examples.with_rewriter(rewriter);
                }
            }
            if let Some(path) = write_synth {
                let file = std::fs::File::create(path).map_err(TrainerError::io(path))?;
                examples.write_synthesized(Box::new(std::io::BufWriter::new(file)));
            }
            let summary = trainer.run(&mut examples, &job.out, progress, eval)?;
            report.synthesized = Some(examples.synthesized());
            report.writer = examples.writer_summary();
            summary
        }
    };
    if job.merge_lora && trainer.model.lora().is_some() {
        trainer.model.merge_lora();
        save_model(&trainer.model, &loaded.tokenizer, &job.out)?;
        let _ = std::fs::remove_dir_all(job.out.join("adapters"));
    }
    Ok(report)
}

/// An evaluation: multiple-choice accuracy by log-likelihood, known&incorrect with fact checks.
#[derive(Clone, Debug)]
pub struct EvalJob {
    pub model: PathBuf,
    /// LoRA adapters to apply to `model`.
    pub adapters: Option<PathBuf>,
    pub data: PathBuf,
    /// Single-hop fact checks (their ids in the items' `facts`).
    pub facts: Option<PathBuf>,
    /// Put each item's rationale in the prompt (the teacher's view).
    pub with_rationale: bool,
    pub score: Score,
    /// A prompt format by name or JSON file (default: [`PromptFormat::for_model`]).
    pub prompt: Option<String>,
    /// Items scored per forward pass.
    pub batch: usize,
    pub device: Device,
}

/// An evaluation's report, the format it used and how long scoring took.
pub struct EvalOutcome {
    pub report: EvalReport,
    pub format: String,
    pub seconds: f64,
}

pub fn eval(job: &EvalJob) -> Result<EvalOutcome> {
    let loaded = match &job.adapters {
        Some(adapters) => load_with_adapters(&job.model, adapters, job.device)?,
        None => load_model(&job.model, job.device, None)?,
    };
    let data = load_examples(&job.data)?;
    let facts = job.facts.as_deref().map(load_examples).transpose()?;
    let options = EvalOptions {
        with_rationale: job.with_rationale,
        score: job.score,
        batch: job.batch,
        format: PromptFormat::for_model(job.prompt.as_deref(), &loaded.tokenizer)?,
    };
    let started = Instant::now();
    let report = evaluate(
        &loaded.model,
        &loaded.tokenizer,
        &data,
        facts.as_deref(),
        &options,
    )?;
    Ok(EvalOutcome {
        report,
        format: options.format.name,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Folds LoRA adapters into their base model's weights and saves the result under `out`.
pub fn merge_lora(model: &Path, adapters: &Path, out: &Path) -> Result<()> {
    let mut loaded = load_with_adapters(model, adapters, Device::Cpu)?;
    loaded.model.merge_lora();
    save_model(&loaded.model, &loaded.tokenizer, out)
}

/// Continues `prompt` by at most `generation.max_tokens` tokens (greedy at temperature 0, else
/// sampled from `generation.seed`); unless `raw`, the prompt is first wrapped in the model's chat
/// format (when it has one).
pub fn generate(
    dir: &Path,
    prompt: &str,
    generation: &kale_datasets::synth::writer::Generation,
    raw: bool,
    device: Device,
) -> Result<String> {
    generation.check()?;
    let loaded = load_model(dir, device, None)?;
    let text = if raw {
        prompt.to_owned()
    } else {
        chat_prompt(&loaded.tokenizer, prompt)?
    };
    let ids = loaded.tokenizer.encode_prompt(&text)?;
    let new = generate_tokens(
        &loaded.model,
        &loaded.tokenizer,
        &GenerateRequest {
            prompts: &[ids],
            seeds: &[generation.seed],
            generation,
            kv_cache: true,
            min_tokens: 0,
        },
    )?;
    loaded.tokenizer.decode(&new[0])
}
