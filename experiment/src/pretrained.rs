//! A pretrained, instruction-tuned model fine-tuned with LoRA on real questions: the setting the
//! method is for. Per seed: a seeded split of the synthesised questions; the base model, and the
//! base model with the rationale in its prompt (the *oracle*: rationales are built from the gold
//! answer, so it bounds what a rationale can give), both with the fact checks behind the test
//! questions (known&incorrect before fine-tuning); then each objective fine-tunes fresh adapters
//! on the training split, its frozen KA teacher the base model under the adapters (no copy), and
//! is evaluated the same way (known&incorrect after).

use crate::config::{ExperimentConfig, PretrainedConfig};
use crate::error::{ExperimentError, Result};
use crate::objective::ObjectiveRun;
use crate::report::{percent, Say};
use crate::report::{BaseResult, Measured, SeedResult};
use crate::synthesis::{examples_of, write_split, Synthesised};
use kale_datasets::synth::Synthesized;
use kale_trainer::checkpoint::load_model;
use kale_trainer::data::{Example, PromptEncoder};
use kale_trainer::eval::{evaluate, EvalOptions};
use kale_trainer::lora::LoraConfig;
use kale_trainer::loss::Objective;
use kale_trainer::optim::AdamWConfig;
use kale_trainer::prompt::PromptFormat;
use kale_trainer::runtime::{self, parse_device};
use kale_trainer::train::{TrainConfig, Trainer};
use kg_store::progress::Progress;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

/// The prompt format of a run: the configured one, or the data's harness default.
pub fn prompt_format(config: &ExperimentConfig, p: &PretrainedConfig) -> Result<PromptFormat> {
    let name = if p.prompt.is_empty() {
        config.data.default_prompt()
    } else {
        &p.prompt
    };
    let format = PromptFormat::named(name)?;
    Ok(if p.chat { format.in_chat() } else { format })
}

/// One seed of the pretrained pipeline, under `dir`.
pub fn run_seed(
    config: &ExperimentConfig,
    data: &Synthesised,
    seed: u64,
    dir: &Path,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<SeedResult> {
    let p = config
        .pretrained
        .as_ref()
        .expect("the pretrained pipeline has a pretrained model");
    let seed_started = Instant::now();
    runtime::seed(seed as i64);
    let device = parse_device(&p.device)?;
    let mut order: Vec<&Synthesized> = data.questions.iter().collect();
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    order.shuffle(&mut rng);
    if order.len() < 2 {
        return Err(ExperimentError::Config(format!(
            "{} questions: too few to split",
            order.len()
        )));
    }
    let test_len = p.test.min(order.len() / 2);
    let (test_part, rest) = order.split_at(test_len);
    let train_part = &rest[..p.train.min(rest.len())];
    write_split(dir, train_part, test_part)?;
    let train = examples_of(train_part);
    let test = examples_of(test_part);
    let wanted: HashSet<&str> = test_part
        .iter()
        .flat_map(|s| s.item.facts.iter().map(String::as_str))
        .collect();
    let test_facts: Vec<Example> = data
        .facts
        .iter()
        .filter(|f| wanted.contains(f.id.as_str()))
        .take(p.max_facts)
        .map(|f| Example::Qa {
            item: f.clone(),
            rationale: None,
        })
        .collect();
    say(&format!(
        "   {} questions to fine-tune on ({} with a rationale), {} held out with {} fact checks",
        train.len(),
        train_part
            .iter()
            .filter(|s| !s.rationale.is_empty())
            .count(),
        test.len(),
        test_facts.len()
    ));

    let format = prompt_format(config, p)?;
    let plain_eval = EvalOptions {
        format: format.clone(),
        ..EvalOptions::default()
    };
    let oracle_eval = EvalOptions {
        with_rationale: true,
        ..plain_eval.clone()
    };
    let started = Instant::now();
    let base = load_model(&p.model, device, None)?;
    let before = evaluate(
        &base.model,
        &base.tokenizer,
        &test,
        Some(&test_facts),
        &plain_eval,
    )?;
    let oracle = evaluate(&base.model, &base.tokenizer, &test, None, &oracle_eval)?;
    let base_result = BaseResult {
        plain: Measured::from(&before),
        oracle: Measured::from(&oracle),
        skill_with_rationale: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    say(&format!(
        "   base model: acc {:.1}%, acc_norm {:.1}%, facts known {:.1}%, known&incorrect {}; oracle (rationale in the prompt): acc {:.1}%, acc_norm {:.1}%, {:.0}% of its probability on the choices ({:.0}s)",
        100.0 * before.acc.accuracy,
        100.0 * before.acc_norm.accuracy,
        100.0 * before.facts.as_ref().map_or(0.0, |f| f.accuracy),
        percent(before.known_incorrect),
        100.0 * oracle.acc.accuracy,
        100.0 * oracle.acc_norm.accuracy,
        100.0 * oracle.choice_mass,
        base_result.seconds
    ));
    let encoder = PromptEncoder::new(format, base.model.config.max_positions as usize);
    let (train_tokens, skipped) = encoder.tokenize_all(&base.tokenizer, &train)?;
    if skipped > 0 {
        say(&format!(
            "   {skipped} training questions are longer than the model's positions and are left out"
        ));
    }
    drop(base);
    let steps = train_tokens.len().div_ceil(config.batch).max(1) * config.epochs;
    let eval_every = (steps / config.evals.max(1)).max(1);
    let mut objectives = BTreeMap::new();
    for spec in &config.objectives {
        let started = Instant::now();
        let lora = LoraConfig::new(p.lora_r, p.lora_alpha, 0.0, p.lora_targets.clone());
        let loaded = load_model(&p.model, device, Some(lora))?;
        let out = dir.join(spec.dir_name());
        let options = if spec.objective == Objective::RationaleSft {
            oracle_eval.clone()
        } else {
            plain_eval.clone()
        };
        let mut trainer = Trainer::new(
            loaded.model,
            &loaded.tokenizer,
            TrainConfig {
                objective: spec.objective,
                divergence: spec.divergence,
                teacher: config.teacher,
                epochs: config.epochs,
                batch: config.batch,
                micro_batch: config.batch,
                optimizer: AdamWConfig {
                    lr: config.lr,
                    weight_decay: 0.0,
                    ..AdamWConfig::default()
                },
                warmup: (steps / 10).min(20),
                seed,
                eval_every: Some(eval_every),
                ..TrainConfig::default()
            },
            &p.model,
        );
        let run = ObjectiveRun {
            spec,
            teacher: config.teacher,
            started,
            out,
            test: &test,
            facts: &test_facts,
            options: &options,
        };
        let result = run.measure(&mut trainer, &train_tokens, progress, say)?;
        objectives.insert(spec.name(), result);
    }
    Ok(SeedResult {
        seed,
        train: train.len(),
        test: test.len(),
        skill_items: 0,
        facts: test_facts.len(),
        coverage: data.summary.coverage(),
        partial: data.summary.partial as f64 / data.summary.items.max(1) as f64,
        base: base_result,
        objectives,
        seconds: seed_started.elapsed().as_secs_f64(),
    })
}
