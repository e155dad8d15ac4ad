//! The training loop: micro-batches (length-bucketed, seeded) accumulated into optimizer steps,
//! the objective (SFT, KA, KA+SFT), AdamW with warmup and cosine decay, gradient clipping,
//! checkpoints every N steps that `--resume` continues exactly, a JSONL metrics log.
//!
//! Examples come through [`Examples`]: a file read up front, or (issue 7) a live store whose
//! synthesis runs ahead of the loop. Batches are planned from the student's sequence lengths
//! (question and answer, known before any rationale), so both sources train on the same batches
//! in the same order.

use crate::checkpoint::{load_model, save_model};
use crate::data::{epoch_batches, Tokenized};
use crate::error::{Result, TrainerError};
use crate::eval::{evaluate, EvalOptions, EvalReport};
use crate::loss::{
    cross_entropy_terms_logp, divergence_terms_logp, divergence_terms_topk_logp, log_probs,
    Divergence, Objective, TopK,
};
use crate::metrics::{EvalMetrics, MetricsRecord, StepMetrics};
use crate::model::CausalLm;
use crate::optim::{learning_rate, AdamW, AdamWConfig};
use crate::tokenizer::TextTokenizer;
use kg_store::progress::{human_count, Progress, Unit};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Kind, Tensor};

/// Where training examples come from.
pub trait Examples {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tokens of example `i` without its rationale (what batches are bucketed by).
    fn student_len(&self, i: usize) -> usize;

    /// The epoch's micro-batches, in order, before the first `take` of the epoch; `start` is the
    /// first one that will be taken (after a resume).
    fn plan(&mut self, _epoch: u64, _batches: &[Vec<usize>], _start: usize) -> Result<()> {
        Ok(())
    }

    /// Example `i`, tokenised.
    fn take(&mut self, i: usize) -> Result<Tokenized>;

    /// A short status for the progress line (a streaming source's queue).
    fn status(&self) -> Option<String> {
        None
    }
}

/// Examples tokenised up front.
pub struct TokenizedExamples(pub Vec<Tokenized>);

impl Examples for TokenizedExamples {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn student_len(&self, i: usize) -> usize {
        self.0[i].len()
    }

    fn take(&mut self, i: usize) -> Result<Tokenized> {
        Ok(self.0[i].clone())
    }
}

/// What to evaluate during training: the questions, their fact checks (for known&incorrect),
/// and how.
pub type EvalSet<'a> = (
    &'a [crate::data::Example],
    Option<&'a [crate::data::Example]>,
    &'a EvalOptions,
);

/// Who the KA target is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TeacherKind {
    /// The weights as fine-tuning started, kept fixed (the default).
    Frozen,
    /// The current weights, under no-grad.
    Live,
}

#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub objective: Objective,
    pub divergence: Divergence,
    pub temperature: f64,
    pub teacher: TeacherKind,
    pub epochs: usize,
    pub max_steps: Option<usize>,
    /// Examples per optimizer step.
    pub batch: usize,
    /// Examples per forward pass (gradients accumulate over batch / micro_batch of them).
    pub micro_batch: usize,
    pub optimizer: AdamWConfig,
    pub warmup: usize,
    pub min_lr_ratio: f64,
    pub clip: f64,
    pub seed: u64,
    pub save_every: Option<usize>,
    pub eval_every: Option<usize>,
    /// With a frozen teacher: keep each example's teacher distributions as their top k tokens
    /// and the rest's mass, computed once and reused every epoch (`None`: the teacher runs every
    /// step). Exact when k covers the vocabulary (see `loss::divergence_terms_topk`).
    pub teacher_top_k: Option<usize>,
}

/// The default k of the kept teacher.
pub const DEFAULT_TEACHER_TOP_K: usize = 128;

impl TrainConfig {
    /// Settings no run can train well with are refused before anything is written: a learning
    /// rate that is not a positive number (`NaN`, `0`, `1e30`), empty batches, a temperature or
    /// clip that is not a number.
    pub fn check(&self) -> Result<()> {
        let bad = |what: &str, value: f64| {
            Err(TrainerError::InvalidInput(format!(
                "{what} is {value}: {}",
                match what {
                    "the learning rate" => "it must be a positive number no larger than 10",
                    "the temperature" => "it must be a positive number",
                    _ => "it must be a finite number, 0 or more",
                }
            )))
        };
        let lr = self.optimizer.lr;
        if !(lr.is_finite() && lr > 0.0 && lr <= 10.0) {
            return bad("the learning rate", lr);
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return bad("the temperature", self.temperature);
        }
        for (what, value) in [
            ("the gradient clip", self.clip),
            ("the weight decay", self.optimizer.weight_decay),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(what, value);
            }
        }
        if self.batch == 0 || self.micro_batch == 0 || self.epochs == 0 {
            return Err(TrainerError::InvalidInput(
                "the batch, the micro-batch and the epochs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            objective: Objective::Sft,
            divergence: Divergence::Forward,
            temperature: 1.0,
            teacher: TeacherKind::Frozen,
            epochs: 1,
            max_steps: None,
            batch: 8,
            micro_batch: 8,
            optimizer: AdamWConfig::default(),
            warmup: 0,
            min_lr_ratio: 0.1,
            clip: 1.0,
            seed: 0,
            save_every: None,
            eval_every: None,
            teacher_top_k: Some(DEFAULT_TEACHER_TOP_K),
        }
    }
}

/// What `--resume` needs besides the weights and the optimizer state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainerState {
    pub step: usize,
    pub seed: u64,
    /// The model fine-tuning started from (the frozen teacher).
    pub initial_model: PathBuf,
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrainSummary {
    pub steps: usize,
    pub final_loss: f64,
    pub tokens: u64,
    pub seconds: f64,
    pub tokens_per_sec: f64,
    /// Examples trained with SFT because they had no rationale (KA objectives).
    pub sft_fallbacks: u64,
    /// Per-step losses, in order (for tests and plots).
    #[serde(skip)]
    pub losses: Vec<f64>,
    /// The evaluation at the end of the run, when `run` was given an evaluation set.
    #[serde(skip)]
    pub final_eval: Option<EvalReport>,
}

enum Teacher {
    None,
    Live,
    /// A copy of the starting weights.
    Copy(Box<CausalLm>),
    /// LoRA with fresh adapters: the base model alone is the starting model.
    Base,
}

pub struct Trainer<'a> {
    pub model: CausalLm,
    tokenizer: &'a TextTokenizer,
    config: TrainConfig,
    teacher: Teacher,
    optimizer: AdamW,
    step: usize,
    initial_model: PathBuf,
    /// Kept teacher distributions, by the example's teacher sequence (its tokens identify it:
    /// a streamed example whose rationale changed is a new one).
    kept: FxHashMap<Vec<i64>, TopK>,
}

/// The tensors of one micro-batch.
struct MicroBatch {
    student: Tensor,
    /// Flat indexes into the student's `[batch * time]` logits that predict answer tokens...
    answer_rows: Tensor,
    /// ...and those tokens.
    answer_targets: Tensor,
    /// Which answer rows belong to examples with a rationale (KA applies to them).
    ka_mask: Vec<bool>,
    /// The examples KA applies to, in row order.
    ka_items: Vec<usize>,
    tokens: usize,
}

fn write_record(out: &mut impl Write, record: &MetricsRecord, path: &Path) -> Result<()> {
    serde_json::to_writer(&mut *out, record).map_err(|e| TrainerError::io(path)(e.into()))?;
    out.write_all(b"\n").map_err(TrainerError::io(path))
}

fn pad_rows(rows: &[&[i64]], pad: i64) -> (Tensor, usize) {
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
    let mut flat = Vec::with_capacity(rows.len() * width);
    for r in rows {
        flat.extend_from_slice(r);
        flat.extend(std::iter::repeat_n(pad, width - r.len()));
    }
    (
        Tensor::from_slice(&flat).view([rows.len() as i64, width as i64]),
        width,
    )
}

impl<'a> Trainer<'a> {
    /// A trainer starting from `model` (loaded from `initial_model`).
    pub fn new(
        model: CausalLm,
        tokenizer: &'a TextTokenizer,
        config: TrainConfig,
        initial_model: &Path,
    ) -> Self {
        let teacher = match (config.objective.uses_teacher(), config.teacher) {
            (false, _) => Teacher::None,
            (true, TeacherKind::Live) => Teacher::Live,
            (true, TeacherKind::Frozen) if model.lora().is_some() => Teacher::Base,
            (true, TeacherKind::Frozen) => Teacher::Copy(Box::new(model.frozen_copy())),
        };
        let optimizer = AdamW::new(model.trainable(), config.optimizer.clone());
        Self {
            model,
            tokenizer,
            config,
            teacher,
            optimizer,
            step: 0,
            initial_model: initial_model.to_owned(),
            kept: FxHashMap::default(),
        }
    }

    /// Examples whose teacher distributions are kept.
    pub fn kept_teacher_examples(&self) -> usize {
        self.kept.len()
    }

    /// Whether teacher distributions are kept rather than recomputed: only a frozen teacher's
    /// never change.
    fn keeps_teacher(&self) -> bool {
        self.config.teacher_top_k.is_some()
            && matches!(self.teacher, Teacher::Copy(_) | Teacher::Base)
    }

    /// Continues from a checkpoint written by [`Trainer::run`] (the model must have been loaded
    /// from it): optimizer moments, step, and the frozen teacher from the run's starting model.
    pub fn resume(&mut self, checkpoint: &Path) -> Result<()> {
        self.optimizer
            .load(&checkpoint.join("optimizer.safetensors"))?;
        let path = checkpoint.join("trainer_state.json");
        let text = std::fs::read_to_string(&path).map_err(TrainerError::io(&path))?;
        let state: TrainerState =
            serde_json::from_str(&text).map_err(|e| TrainerError::Config {
                path: path.clone(),
                message: e.to_string(),
            })?;
        self.step = state.step;
        self.initial_model = state.initial_model.clone();
        if let Teacher::Copy(_) = self.teacher {
            let start = load_model(&state.initial_model, self.model.device(), None)?;
            self.teacher = Teacher::Copy(Box::new(start.model.frozen_copy()));
        }
        Ok(())
    }

    /// What the student reads: under `rationale-sft` the prompt with the rationale.
    fn student_view(&self, mut t: Tokenized) -> Tokenized {
        if self.config.objective == Objective::RationaleSft {
            if let Some(with) = t.with_rationale.take() {
                t.prompt = with;
            }
        }
        t
    }

    fn build(&self, items: &[Tokenized]) -> MicroBatch {
        let device = self.model.device();
        let pad = self.tokenizer.pad;
        let students: Vec<Vec<i64>> = items
            .iter()
            .map(|t| [t.prompt.as_slice(), t.answer.as_slice()].concat())
            .collect();
        let (student, width) =
            pad_rows(&students.iter().map(Vec::as_slice).collect::<Vec<_>>(), pad);
        let use_teacher = self.config.objective.uses_teacher();
        let ka_items: Vec<usize> = (0..items.len())
            .filter(|&i| use_teacher && items[i].with_rationale.is_some())
            .collect();
        let (mut rows, mut targets, mut ka_mask) = (Vec::new(), Vec::new(), Vec::new());
        for (b, item) in items.iter().enumerate() {
            let ka = ka_items.contains(&b);
            for (j, &token) in item.answer.iter().enumerate() {
                // The logits at position p predict token p + 1.
                rows.push((b * width + item.prompt.len() + j - 1) as i64);
                targets.push(token);
                ka_mask.push(ka);
            }
        }
        MicroBatch {
            student: student.to_device(device),
            answer_rows: Tensor::from_slice(&rows).to_device(device),
            answer_targets: Tensor::from_slice(&targets).to_device(device),
            ka_mask,
            ka_items,
            tokens: students.iter().map(Vec::len).sum(),
        }
    }

    /// The teacher's logits `[answer tokens, vocab]` of some examples (with rationales), rows in
    /// the examples' order.
    fn teacher_logits(&self, items: &[Tokenized], which: &[usize]) -> Tensor {
        let device = self.model.device();
        let sequences: Vec<Vec<i64>> = which
            .iter()
            .map(|&i| {
                [
                    items[i]
                        .with_rationale
                        .as_deref()
                        .expect("KA examples have one"),
                    items[i].answer.as_slice(),
                ]
                .concat()
            })
            .collect();
        let (ids, width) = pad_rows(
            &sequences.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            self.tokenizer.pad,
        );
        let mut rows = Vec::new();
        for (t, &i) in which.iter().enumerate() {
            let prompt = items[i]
                .with_rationale
                .as_ref()
                .expect("KA examples have one")
                .len();
            for j in 0..items[i].answer.len() {
                rows.push((t * width + prompt + j - 1) as i64);
            }
        }
        let (ids, rows) = (
            ids.to_device(device),
            Tensor::from_slice(&rows).to_device(device),
        );
        tch::no_grad(|| match &self.teacher {
            Teacher::Live => self.model.forward_rows(&ids, &rows, false),
            Teacher::Copy(m) => m.forward_rows(&ids, &rows, false),
            Teacher::Base => self.model.forward_base_rows(&ids, &rows),
            Teacher::None => unreachable!("KA objectives have a teacher"),
        })
    }

    /// The kept teacher distributions of the KA examples, computing (once) those not kept yet.
    fn kept_teacher(&mut self, items: &[Tokenized], which: &[usize]) -> TopK {
        let key = |t: &Tokenized| -> Vec<i64> {
            let mut key = t.with_rationale.clone().expect("KA examples have one");
            key.push(-1);
            key.extend_from_slice(&t.answer);
            key
        };
        let missing: Vec<usize> = which
            .iter()
            .copied()
            .filter(|&i| !self.kept.contains_key(&key(&items[i])))
            .collect();
        if !missing.is_empty() {
            let logits = self.teacher_logits(items, &missing);
            let k = self.config.teacher_top_k.expect("kept only with a k");
            let mut start = 0;
            for &i in &missing {
                let n = items[i].answer.len() as i64;
                let part = TopK::of(&logits.narrow(0, start, n), k, self.config.temperature);
                start += n;
                self.kept.insert(key(&items[i]), part);
            }
        }
        let keys: Vec<Vec<i64>> = which.iter().map(|&i| key(&items[i])).collect();
        let parts: Vec<&TopK> = keys.iter().map(|k| &self.kept[k]).collect();
        TopK::cat(&parts)
    }

    /// Forward and backward of one micro-batch; the loss is its share of the step's mean over
    /// `total_tokens` answer tokens. Returns (loss share, KA tokens, SFT tokens).
    fn micro_step(
        &mut self,
        items: &[Tokenized],
        batch: &MicroBatch,
        total_tokens: f64,
    ) -> (f64, usize, usize) {
        let answer_logits = self
            .model
            .forward_rows(&batch.student, &batch.answer_rows, true);
        // One log-softmax over the vocabulary for cross-entropy and, at temperature 1, for KA.
        let logp = log_probs(&answer_logits, 1.0);
        let ce = cross_entropy_terms_logp(&logp, &batch.answer_targets);
        let ka_count = batch.ka_mask.iter().filter(|&&m| m).count();
        let sft_count = batch.ka_mask.len() - ka_count;
        let total = match self.config.objective {
            Objective::Sft | Objective::RationaleSft => ce.sum(Kind::Float),
            Objective::Ka | Objective::KaSft { .. } => {
                // Examples without a rationale fall back to SFT.
                let mask = Tensor::from_slice(&batch.ka_mask).to_device(self.model.device());
                let sft_part = ce.masked_select(&mask.logical_not()).sum(Kind::Float);
                let ka_part = if batch.ka_items.is_empty() {
                    Tensor::zeros([], (Kind::Float, self.model.device()))
                } else {
                    let (divergence, temperature) =
                        (self.config.divergence, self.config.temperature);
                    let ka_rows = mask.nonzero().squeeze_dim(1);
                    let s = if temperature == 1.0 {
                        logp.index_select(0, &ka_rows)
                    } else {
                        log_probs(&answer_logits.index_select(0, &ka_rows), temperature)
                    };
                    if self.keeps_teacher() {
                        let kept = self.kept_teacher(items, &batch.ka_items);
                        divergence_terms_topk_logp(&s, &kept, divergence, temperature)
                            .sum(Kind::Float)
                    } else {
                        let t = self.teacher_logits(items, &batch.ka_items);
                        divergence_terms_logp(&s, &t, divergence, temperature).sum(Kind::Float)
                    }
                };
                match self.config.objective {
                    Objective::KaSft { lambda } => {
                        ka_part + sft_part + ce.masked_select(&mask).sum(Kind::Float) * lambda
                    }
                    _ => ka_part + sft_part,
                }
            }
        };
        // Out of place: autograd must see a new tensor, not the sum modified.
        let total = total / total_tokens;
        total.backward();
        (total.double_value(&[]), ka_count, sft_count)
    }

    /// The objective on `items` as one batch, with its gradients left on the parameters and no
    /// optimizer step: what a step computes, for inspection and tests.
    pub fn loss_and_gradients(&mut self, items: &[Tokenized]) -> f64 {
        self.optimizer.zero_grad();
        let total_tokens = items.iter().map(|t| t.answer.len()).sum::<usize>().max(1) as f64;
        let batch = self.build(items);
        self.micro_step(items, &batch, total_tokens).0
    }

    fn save_checkpoint(&self, dir: &Path) -> Result<()> {
        save_model(&self.model, self.tokenizer, dir)?;
        self.optimizer.save(&dir.join("optimizer.safetensors"))?;
        let state = TrainerState {
            step: self.step,
            seed: self.config.seed,
            initial_model: self.initial_model.clone(),
        };
        let path = dir.join("trainer_state.json");
        std::fs::write(&path, serde_json::to_string_pretty(&state).expect("JSON"))
            .map_err(TrainerError::io(&path))?;
        Ok(())
    }

    /// Trains; writes checkpoints under `out` (`checkpoint-N/`), the final model to `out`, and a
    /// metrics line per step to `out/metrics.jsonl`. `eval` is evaluated every `eval_every` steps
    /// and at the end.
    pub fn run(
        &mut self,
        examples: &mut dyn Examples,
        out: &Path,
        progress: &dyn Progress,
        eval: Option<EvalSet<'_>>,
    ) -> Result<TrainSummary> {
        if examples.is_empty() {
            return Err(TrainerError::InvalidInput("no training examples".into()));
        }
        self.config.check()?;
        std::fs::create_dir_all(out).map_err(TrainerError::io(out))?;
        let metrics_path = out.join("metrics.jsonl");
        let metrics_file = if self.step > 0 {
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&metrics_path)
        } else {
            File::create(&metrics_path)
        }
        .map_err(TrainerError::io(&metrics_path))?;
        let mut metrics = BufWriter::new(metrics_file);
        let lengths: Vec<usize> = (0..examples.len())
            .map(|i| examples.student_len(i))
            .collect();
        let micro = self.config.micro_batch.max(1);
        let accum = self.config.batch.max(1).div_ceil(micro);
        let micro_per_epoch = lengths.len().div_ceil(micro);
        let steps_per_epoch = micro_per_epoch.div_ceil(accum);
        let total_steps = self
            .config
            .max_steps
            .unwrap_or(steps_per_epoch * self.config.epochs)
            .max(1);
        let mut summary = TrainSummary::default();
        let started = Instant::now();
        progress.begin("training", Some(total_steps as u64), Unit::Items("steps"));
        progress.set_position(self.step as u64);
        while self.step < total_steps {
            let epoch = (self.step / steps_per_epoch) as u64;
            let plan = epoch_batches(&lengths, micro, self.config.seed, epoch);
            let first = (self.step % steps_per_epoch) * accum;
            examples.plan(epoch, &plan, first)?;
            for group in plan[first..].chunks(accum) {
                if self.step >= total_steps {
                    break;
                }
                // Dropout draws from a seed of its own per step: a resumed run repeats them.
                tch::manual_seed(self.config.seed.wrapping_add(self.step as u64) as i64);
                let step_started = Instant::now();
                let mut items: Vec<Vec<Tokenized>> = Vec::with_capacity(group.len());
                for indexes in group {
                    items.push(
                        indexes
                            .iter()
                            .map(|&i| examples.take(i).map(|t| self.student_view(t)))
                            .collect::<Result<_>>()?,
                    );
                }
                let total_tokens = items
                    .iter()
                    .flatten()
                    .map(|t| t.answer.len())
                    .sum::<usize>()
                    .max(1) as f64;
                let (mut loss, mut tokens, mut ka, mut sft) = (0.0, 0usize, 0usize, 0usize);
                for chunk in &items {
                    let batch = self.build(chunk);
                    let (share, k, s) = self.micro_step(chunk, &batch, total_tokens);
                    loss += share;
                    tokens += batch.tokens;
                    ka += k;
                    sft += s;
                }
                if !loss.is_finite() {
                    // Nothing is saved: the last checkpoint on disk stays the last good one.
                    return Err(TrainerError::InvalidInput(format!(
                        "step {}: the loss is {loss}; training stopped and nothing was saved (is the learning rate too high?)",
                        self.step + 1
                    )));
                }
                let grad_norm = self.optimizer.clip_grad_norm(self.config.clip);
                let lr = learning_rate(
                    self.step as i64,
                    self.config.optimizer.lr,
                    self.config.warmup as i64,
                    total_steps as i64,
                    self.config.min_lr_ratio,
                );
                self.optimizer.step(lr);
                self.step += 1;
                let fallbacks = if self.config.objective.uses_teacher() {
                    items
                        .iter()
                        .flatten()
                        .filter(|t| t.with_rationale.is_none())
                        .count() as u64
                } else {
                    0
                };
                summary.sft_fallbacks += fallbacks;
                summary.tokens += tokens as u64;
                summary.losses.push(loss);
                let rate = tokens as f64 / step_started.elapsed().as_secs_f64().max(1e-9);
                let line = MetricsRecord::Step(StepMetrics {
                    step: self.step,
                    epoch,
                    loss,
                    lr,
                    grad_norm,
                    tokens,
                    tokens_per_sec: rate,
                    ka_tokens: ka,
                    sft_tokens: sft,
                    sft_fallbacks: fallbacks,
                    elapsed: started.elapsed().as_secs_f64(),
                });
                write_record(&mut metrics, &line, &metrics_path)?;
                progress.set_position(self.step as u64);
                let mut note = format!("loss {loss:.4}, {} tok/s", human_count(rate));
                if let Some(status) = examples.status() {
                    note.push_str(", ");
                    note.push_str(&status);
                }
                progress.note(&note);
                if self
                    .config
                    .save_every
                    .is_some_and(|n| self.step.is_multiple_of(n))
                    && self.step < total_steps
                {
                    self.save_checkpoint(&out.join(format!("checkpoint-{}", self.step)))?;
                }
                if let (Some(n), Some((data, facts, options))) = (self.config.eval_every, eval) {
                    if self.step.is_multiple_of(n) && self.step < total_steps {
                        let report = evaluate(&self.model, self.tokenizer, data, facts, options)?;
                        let line = MetricsRecord::Eval {
                            step: self.step,
                            eval: EvalMetrics::from(&report),
                        };
                        write_record(&mut metrics, &line, &metrics_path)?;
                    }
                }
                metrics.flush().map_err(TrainerError::io(&metrics_path))?;
            }
        }
        progress.end();
        if let Some((data, facts, options)) = eval {
            let report = evaluate(&self.model, self.tokenizer, data, facts, options)?;
            let line = MetricsRecord::Eval {
                step: self.step,
                eval: EvalMetrics::from(&report),
            };
            write_record(&mut metrics, &line, &metrics_path)?;
            summary.final_eval = Some(report);
        }
        metrics.flush().map_err(TrainerError::io(&metrics_path))?;
        self.save_checkpoint(out)?;
        summary.steps = self.step;
        summary.final_loss = summary.losses.last().copied().unwrap_or(f64::NAN);
        summary.seconds = started.elapsed().as_secs_f64();
        summary.tokens_per_sec = summary.tokens as f64 / summary.seconds.max(1e-9);
        Ok(summary)
    }
}
