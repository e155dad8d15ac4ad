//! `kale bench train`: training throughput per objective, a fresh small Llama or a pretrained
//! model (optionally with LoRA), measured the way `benches/pytorch_train.py` measures PyTorch
//! (+ PEFT) on the same shapes: the median of per-step student tokens/s after untimed warm-up
//! steps. The data is `warmup` batches of random ids cycled, so the timed steps of `ka` read
//! the teacher distributions the warm-up kept, as every epoch after the first does.

use super::median;
use crate::checkpoint::load_model;
use crate::config::{Arch, ModelConfig, ModelShape};
use crate::data::Tokenized;
use crate::error::{Result, TrainerError};
use crate::lora::LoraConfig;
use crate::loss::Objective;
use crate::metrics::{read_metrics, MetricsRecord};
use crate::model::CausalLm;
use crate::runtime::{self, Device};
use crate::tokenizer::{TextTokenizer, TokenizerKind};
use crate::train::{TokenizedExamples, TrainConfig, Trainer};
use clap::ValueEnum;
use kg_store::progress::Progress;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

/// What to measure.
#[derive(Clone, Debug)]
pub struct TrainBench {
    /// A pretrained model directory instead of a fresh small Llama of the shape below.
    pub model: Option<PathBuf>,
    pub layers: i64,
    pub hidden: i64,
    pub heads: i64,
    pub vocab: i64,
    /// Examples per step.
    pub batch: usize,
    /// Tokens of x (question and choices), y (the answer), r (the rationale the teacher reads).
    pub prompt: usize,
    pub answer: usize,
    pub rationale: usize,
    /// Timed steps per objective, after `warmup` untimed ones.
    pub steps: usize,
    pub warmup: usize,
    /// Objectives by name; a `-uncached` suffix runs the frozen teacher every step instead of
    /// keeping its top-k distributions.
    pub objectives: Vec<String>,
    pub lora: Option<LoraConfig>,
    pub teacher_top_k: usize,
    pub device: Device,
}

/// One objective's throughput.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ObjectiveThroughput {
    pub objective: String,
    pub tokens_per_sec: f64,
    pub step_ms: f64,
    pub parameters: i64,
    pub trainable: i64,
}

/// The model measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BenchModel {
    pub dir: Option<PathBuf>,
    pub layers: i64,
    pub hidden: i64,
    pub heads: i64,
    pub vocab: i64,
    pub lora_r: Option<i64>,
}

/// What `kale bench train` measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainBenchReport {
    pub model: BenchModel,
    pub batch: usize,
    pub prompt: usize,
    pub answer: usize,
    pub rationale: usize,
    pub threads: i32,
    pub steps: usize,
    pub device: String,
    pub teacher_top_k: usize,
    pub objectives: Vec<ObjectiveThroughput>,
}

impl TrainBench {
    /// The model of a run: a fresh one, or the pretrained one with fresh adapters.
    fn model(&self, fresh: &ModelConfig) -> Result<(CausalLm, Option<TextTokenizer>)> {
        runtime::seed(0);
        Ok(match &self.model {
            Some(dir) => {
                let loaded = load_model(dir, self.device, self.lora.clone())?;
                (loaded.model, Some(loaded.tokenizer))
            }
            None => (
                CausalLm::new(fresh.clone(), self.device, self.lora.clone()),
                None,
            ),
        })
    }

    pub fn run(&self, progress: &dyn Progress) -> Result<TrainBenchReport> {
        let dir = tempfile::tempdir().map_err(TrainerError::io(std::env::temp_dir()))?;
        // The tokenizer only supplies the pad id: batches are random ids of the given lengths.
        let tokenizer = TextTokenizer::train(
            &["a b c".to_owned()],
            TokenizerKind::WordLevel,
            16,
            &dir.path().join("tokenizer.json"),
        )?;
        let fresh = ModelConfig::new(&ModelShape {
            layers: self.layers,
            hidden_size: self.hidden,
            heads: self.heads,
            kv_heads: self.heads,
            ..ModelShape::small(Arch::Llama, self.vocab)
        })?;
        let vocab = match &self.model {
            Some(dir) => ModelConfig::from_file(&dir.join("config.json"))?.vocab_size,
            None => self.vocab,
        };
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let mut ids =
            |n: usize| -> Vec<i64> { (0..n).map(|_| rng.random_range(2..vocab)).collect() };
        let examples: Vec<Tokenized> = (0..self.warmup.max(1) * self.batch)
            .map(|_| {
                let prompt = ids(self.prompt);
                let mut with_rationale = prompt.clone();
                with_rationale.extend(ids(self.rationale));
                Tokenized {
                    prompt,
                    with_rationale: Some(with_rationale),
                    answer: ids(self.answer),
                }
            })
            .collect();
        let total = self.steps + self.warmup;
        let mut results = Vec::new();
        let mut measured = None;
        for name in &self.objectives {
            let (objective_name, kept) = match name.strip_suffix("-uncached") {
                Some(base) => (base, false),
                None => (name.as_str(), true),
            };
            let objective = Objective::from_str(objective_name, false).map_err(|_| {
                TrainerError::InvalidInput(format!(
                    "unknown objective {name:?}: use sft, ka, ka+sft or rationale-sft, optionally with -uncached"
                ))
            })?;
            let (model, own_tokenizer) = self.model(&fresh)?;
            let (parameters, trainable) = model.parameter_counts();
            let tok = own_tokenizer.as_ref().unwrap_or(&tokenizer);
            let mut trainer = Trainer::new(
                model,
                tok,
                TrainConfig {
                    objective,
                    batch: self.batch,
                    micro_batch: self.batch,
                    max_steps: Some(total),
                    epochs: total,
                    teacher_top_k: (kept && self.teacher_top_k > 0).then_some(self.teacher_top_k),
                    ..TrainConfig::default()
                },
                self.model.as_deref().unwrap_or(dir.path()),
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
                    MetricsRecord::Step(s) if s.step > self.warmup => Some(s.tokens_per_sec),
                    _ => None,
                })
                .collect();
            let rate = median(rates);
            results.push(ObjectiveThroughput {
                objective: name.clone(),
                tokens_per_sec: rate,
                step_ms: 1e3 * (self.batch * (self.prompt + self.answer)) as f64 / rate,
                parameters,
                trainable,
            });
            measured.get_or_insert(trainer.model.config.clone());
        }
        let config =
            measured.ok_or_else(|| TrainerError::InvalidInput("no objective given".into()))?;
        Ok(TrainBenchReport {
            model: BenchModel {
                dir: self.model.clone(),
                layers: config.layers,
                hidden: config.hidden_size,
                heads: config.heads,
                vocab: config.vocab_size,
                lora_r: self.lora.as_ref().map(|l| l.r),
            },
            batch: self.batch,
            prompt: self.prompt,
            answer: self.answer,
            rationale: self.rationale,
            threads: tch::get_num_threads(),
            steps: self.steps,
            device: format!("{:?}", self.device).to_lowercase(),
            teacher_top_k: self.teacher_top_k,
            objectives: results,
        })
    }
}

impl std::fmt::Display for TrainBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sft_ms = self
            .objectives
            .iter()
            .find(|r| r.objective == "sft")
            .map(|r| r.step_ms);
        for r in &self.objectives {
            writeln!(
                f,
                "{:<12} {:>8.0} tokens/s  {:>8.1} ms/step{}",
                r.objective,
                r.tokens_per_sec,
                r.step_ms,
                sft_ms.map_or(String::new(), |s| format!("  ({:.2}x sft)", r.step_ms / s))
            )?;
        }
        Ok(())
    }
}
