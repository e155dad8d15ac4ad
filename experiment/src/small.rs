//! A small model trained from scratch, for graphs whose facts no pretrained model knows (the
//! generated world, WordNet's hierarchy): first taught the graph's single-hop facts and the skill
//! of using a rationale in its prompt (on questions of *other* relations, so the target
//! questions stay unseen), then fine-tuned once per objective on the target questions and
//! evaluated on held-out ones.
//!
//! Why the set-up looks like this: a model that cannot use a rationale makes a useless KA
//! teacher, so the teacher's with-rationale accuracy is measured and reported next to every
//! result; the teacher is the frozen taught model by default. Fact retention (the fact checks
//! still answered after fine-tuning) and several seeds with intervals come with it, since single
//! small runs swing widely.

use crate::config::ExperimentConfig;
use crate::data::Dataset;
use crate::error::{ExperimentError, Result};
use crate::objective::ObjectiveRun;
use crate::report::Say;
use crate::report::{BaseResult, Measured, SeedResult};
use crate::synthesis::{examples_of, synthesize, with_rationale, write_split};
use kale_datasets::synth::{SynthConfig, Synthesized, Synthesizer};
use kale_trainer::checkpoint::{load_model, save_model};
use kale_trainer::config::{Arch, ModelConfig, ModelShape};
use kale_trainer::data::{Example, PromptEncoder};
use kale_trainer::eval::{evaluate, EvalOptions};
use kale_trainer::loss::Objective;
use kale_trainer::model::CausalLm;
use kale_trainer::optim::AdamWConfig;
use kale_trainer::prompt::PromptFormat;
use kale_trainer::runtime::{self, Device};
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind};
use kale_trainer::train::{TokenizedExamples, TrainConfig, Trainer};
use kg_store::progress::Progress;
use oxrdf::NamedNodeRef;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Instant;

fn plain(item: &kale_datasets::qa::QaItem) -> Example {
    Example::Qa {
        item: item.clone(),
        rationale: None,
    }
}

/// The whole pipeline for one seed, under `dir`.
pub fn run_seed(
    config: &ExperimentConfig,
    dataset: &Dataset,
    seed: u64,
    dir: &Path,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<SeedResult> {
    let seed_started = Instant::now();
    runtime::seed(seed as i64);
    // Rationales from the relations the questions are about: the facts the model is taught.
    let reader = dataset.store.reader();
    let mut allow = Vec::new();
    for iri in dataset.predicates.iter().flatten() {
        let node = NamedNodeRef::new(iri).map_err(|e| ExperimentError::Config(e.to_string()))?;
        if let Some(id) = reader.term_id(node.into())? {
            allow.push(id);
        }
    }
    let synthesizer = Synthesizer::new(
        &dataset.store,
        SynthConfig {
            max_hops: config.max_hops,
            paths: config.paths,
            allow: dataset.predicates.as_ref().map(|_| allow),
            ..SynthConfig::default()
        },
    )?;
    let (questions, summary) = synthesize(&synthesizer, &dataset.questions, progress)?;
    let (facts, _) = synthesize(&synthesizer, &dataset.facts, progress)?;
    say(&format!(
        "   synthesised {} questions and {} fact checks: coverage {:.1}%, {:.2} paths per question",
        questions.len(),
        facts.len(),
        100.0 * summary.coverage(),
        summary.mean_paths()
    ));

    // Target questions: a seeded half to fine-tune on, the other half held out.
    let mut target: Vec<&Synthesized> = questions
        .iter()
        .filter(|s| s.item.kind.as_deref() == Some(config.target.as_str()))
        .collect();
    if target.len() < 8 {
        return Err(ExperimentError::Config(format!(
            "only {} questions of kind {:?}: use a bigger graph or another target",
            target.len(),
            config.target
        )));
    }
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    target.shuffle(&mut rng);
    target.truncate(config.max_target);
    let (train_part, test_part) = target.split_at(target.len() / 2);
    write_split(dir, train_part, test_part)?;
    let skills: Vec<&Synthesized> = questions
        .iter()
        .filter(|s| {
            config
                .skills
                .iter()
                .any(|k| s.item.kind.as_deref() == Some(k))
        })
        .collect();

    // Teaching data: every fact as a sentence (its one-hop rationale, worded as rationales are)
    // and as a fact-check question (without and with that rationale), and the skill questions
    // with their rationale.
    let mut base: Vec<Example> = Vec::new();
    for f in &facts {
        if !f.rationale.is_empty() {
            base.push(Example::Text {
                id: format!("{}-text", f.item.id),
                text: f.rationale.clone(),
            });
        }
        base.push(plain(&f.item));
        // The same fact check with its rationale in the prompt: more, and more varied, practice
        // at reading a rationale than the skill questions alone give.
        if !f.rationale.is_empty() {
            base.push(with_rationale(f));
        }
    }
    base.extend(skills.iter().map(|s| with_rationale(s)));
    let train = examples_of(train_part);
    let test = examples_of(test_part);
    let skill_eval: Vec<Example> = skills.iter().take(200).map(|s| with_rationale(s)).collect();
    let test_fact_ids: std::collections::HashSet<&str> = test_part
        .iter()
        .flat_map(|s| s.item.facts.iter().map(String::as_str))
        .collect();
    let test_facts: Vec<Example> = facts
        .iter()
        .filter(|f| test_fact_ids.contains(f.item.id.as_str()))
        .map(|f| plain(&f.item))
        .collect();
    say(&format!(
        "   {} target questions to fine-tune on, {} held out; {} skill questions and {} facts to teach first",
        train.len(),
        test.len(),
        skills.len(),
        facts.len()
    ));

    // A word-level tokenizer over everything the model will read, and a fresh model.
    let model_dir = dir.join("init");
    fs::create_dir_all(&model_dir).map_err(ExperimentError::io(&model_dir))?;
    let format = PromptFormat::named(config.data.default_prompt())?;
    let mut corpus: Vec<String> = Vec::new();
    for s in questions.iter().chain(&facts) {
        corpus.push(format.render(&s.item, Some(&s.rationale)));
        corpus.extend(s.item.choices.iter().cloned());
    }
    let tokenizer = TextTokenizer::train(
        &corpus,
        TokenizerKind::WordLevel,
        50_000,
        &model_dir.join("tokenizer.json"),
    )?;
    let eos = tokenizer.eos.ok_or_else(|| {
        ExperimentError::Config("the trained tokenizer has no end-of-text token".into())
    })?;
    let model_config = ModelConfig::new(&ModelShape {
        layers: config.layers,
        hidden_size: config.hidden,
        heads: config.heads,
        kv_heads: config.heads,
        ..ModelShape::small(Arch::Llama, tokenizer.vocab_size() as i64)
            .with_special_tokens(eos, eos)
    })?;
    let model = CausalLm::new(model_config.clone(), Device::Cpu, None);
    save_model(&model, &tokenizer, &model_dir)?;
    let encoder = PromptEncoder::new(format.clone(), model_config.max_positions as usize);

    // 1. Teach the facts and the rationale skill.
    let started = Instant::now();
    let base_dir = dir.join("base");
    let (base_examples, _) = encoder.tokenize_all(&tokenizer, &base)?;
    let mut trainer = Trainer::new(
        model,
        &tokenizer,
        TrainConfig {
            objective: Objective::RationaleSft,
            epochs: config.base_epochs,
            batch: config.batch,
            micro_batch: config.batch,
            optimizer: AdamWConfig {
                lr: config.base_lr,
                ..AdamWConfig::default()
            },
            warmup: 20,
            seed,
            ..TrainConfig::default()
        },
        &model_dir,
    );
    say(&format!(
        "   teaching the facts and the rationale skill: {} examples x {} epochs",
        base_examples.len(),
        config.base_epochs
    ));
    trainer.run(
        &mut TokenizedExamples(base_examples),
        &base_dir,
        progress,
        None,
    )?;
    let base_model = trainer.model;
    let plain_eval = EvalOptions {
        format: format.clone(),
        ..EvalOptions::default()
    };
    let rationale_eval = EvalOptions {
        with_rationale: true,
        ..plain_eval.clone()
    };
    let before = evaluate(
        &base_model,
        &tokenizer,
        &test,
        Some(&test_facts),
        &plain_eval,
    )?;
    let teacher = evaluate(&base_model, &tokenizer, &test, None, &rationale_eval)?;
    let skill = evaluate(&base_model, &tokenizer, &skill_eval, None, &rationale_eval)?;
    let base_result = BaseResult {
        plain: Measured::from(&before),
        oracle: Measured::from(&teacher),
        skill_with_rationale: Some(skill.accuracy.accuracy),
        seconds: started.elapsed().as_secs_f64(),
    };
    say(&format!(
        "   taught in {:.0}s: facts {:.0}% known; skill questions with rationale {:.0}%; held-out target questions {:.0}% without and {:.0}% with the rationale (the teacher, {:.0}% of its probability on the choices)",
        base_result.seconds,
        100.0 * base_result.plain.facts.unwrap_or(0.0),
        100.0 * skill.accuracy.accuracy,
        100.0 * base_result.plain.accuracy,
        100.0 * base_result.oracle.accuracy,
        100.0 * base_result.oracle.choice_mass
    ));
    drop(base_model);

    // 2. Fine-tune a copy per objective on the target questions.
    let (train_tokens, _) = encoder.tokenize_all(&tokenizer, &train)?;
    let steps_per_epoch = train_tokens.len().div_ceil(config.batch).max(1);
    let total_steps = steps_per_epoch * config.epochs;
    let eval_every = (total_steps / config.evals.max(1)).max(1);
    let mut objectives = BTreeMap::new();
    for spec in &config.objectives {
        let started = Instant::now();
        let loaded = load_model(&base_dir, Device::Cpu, None)?;
        let out = dir.join(spec.dir_name());
        let options = if spec.objective == Objective::RationaleSft {
            rationale_eval.clone()
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
                    ..AdamWConfig::default()
                },
                warmup: 0,
                seed,
                eval_every: Some(eval_every),
                ..TrainConfig::default()
            },
            &base_dir,
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
        skill_items: skills.len(),
        facts: facts.len(),
        coverage: summary.coverage(),
        partial: summary.partial as f64 / summary.items.max(1) as f64,
        base: base_result,
        objectives,
        seconds: seed_started.elapsed().as_secs_f64(),
    })
}
