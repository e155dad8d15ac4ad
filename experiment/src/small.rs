//! The KALE pipeline end to end, shared by `kale demo` and `kale experiment`: a knowledge graph
//! and its questions, rationales synthesised from the store, a small model first taught the
//! graph's single-hop facts and the skill of using a rationale in its prompt (on questions of
//! *other* relations, so the target questions stay unseen), then fine-tuned once per objective
//! on the target questions and evaluated on held-out ones.
//!
//! Why the set-up looks like this (see issue 7): a model that cannot use a rationale makes a
//! useless KA teacher, so the teacher's with-rationale accuracy is measured and reported next to
//! every result; the teacher is the frozen taught model by default. Fact retention (the fact
//! checks still answered after fine-tuning) and several seeds with intervals come with it, since
//! single small runs swing widely.

use crate::cli::ExperimentArgs;
use crate::plot::{self, Bar, Run};
use crate::progress::TerminalProgress;
use anyhow::{anyhow, bail, Context, Result};
use kale_datasets::qa::QaItem;
use kale_datasets::synth::{SynthConfig, SynthSummary, Synthesized, Synthesizer};
use kale_datasets::wordnet::{WordNet, DEFAULT_DICT, WORDNET_NS};
use kale_datasets::world::{generate_qa, QaConfig, World, WorldConfig, PROP_NS};
use kale_trainer::checkpoint::{load_model, save_model};
use kale_trainer::config::{Arch, ModelConfig};
use kale_trainer::data::{tokenize, Example, Tokenized};
use kale_trainer::eval::{evaluate, EvalOptions, EvalReport};
use kale_trainer::loss::{Divergence, Objective};
use kale_trainer::model::CausalLm;
use kale_trainer::optim::AdamWConfig;
use kale_trainer::prompt::PromptTemplate;
use kale_trainer::runtime::{self, Device};
use kale_trainer::tokenizer::{TextTokenizer, TokenizerKind};
use kale_trainer::train::{TeacherKind, TokenizedExamples, TrainConfig, Trainer};
use kg_store::{BulkLoader, LoadInput, Store};
use oxrdf::NamedNodeRef;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Everything a run is made of; `kale experiment --config FILE` reads it as JSON (any field may
/// be left out).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// `world` (the generated world) or `wordnet` (Debian's WordNet).
    pub data: String,
    /// Size of the generated world.
    pub entities: usize,
    /// Questions asked of WordNet.
    pub questions: usize,
    /// The question kind fine-tuned and evaluated on (held-out half).
    pub target: String,
    /// Question kinds that teach the rationale skill (with the rationale in the prompt).
    pub skills: Vec<String>,
    /// Target questions used at most (train and test halves together).
    pub max_target: usize,
    pub layers: i64,
    pub hidden: i64,
    pub heads: i64,
    /// Epochs teaching the facts and the rationale skill.
    pub base_epochs: usize,
    pub base_lr: f64,
    /// Epochs of fine-tuning per objective.
    pub epochs: usize,
    pub lr: f64,
    pub batch: usize,
    /// Objectives compared: sft, ka, ka+sft, and rationale-sft (trained and evaluated with the
    /// rationale in the prompt: the upper bound). `ka@q||p` or `ka@jsd` picks KA's divergence
    /// (KL(p||q), the paper's, by default).
    pub objectives: Vec<String>,
    /// The KA teacher: frozen (the taught model) or live (the current weights).
    pub teacher: String,
    /// Evaluations per fine-tuning run (for the curves).
    pub evals: usize,
    /// Paths kept per rationale.
    pub paths: usize,
    pub max_hops: u32,
}

impl Default for ExperimentConfig {
    fn default() -> Self {
        Self {
            data: "world".into(),
            entities: 450,
            questions: 600,
            target: "birth-country".into(),
            skills: vec![
                "study-city".into(),
                "headquarters-country".into(),
                "capital-of-country".into(),
                "author-birthplace".into(),
            ],
            max_target: 400,
            layers: 3,
            hidden: 128,
            heads: 4,
            base_epochs: 30,
            base_lr: 3e-3,
            epochs: 6,
            lr: 1e-3,
            batch: 16,
            objectives: ["sft", "ka", "ka+sft", "ka@q||p", "rationale-sft"]
                .map(String::from)
                .to_vec(),
            teacher: "frozen".into(),
            evals: 6,
            paths: 3,
            max_hops: 3,
        }
    }
}

impl ExperimentConfig {
    /// The reduced configuration of `--quick` (CI).
    pub fn quick() -> Self {
        Self {
            entities: 260,
            max_target: 120,
            base_epochs: 14,
            epochs: 3,
            hidden: 96,
            evals: 3,
            ..Self::default()
        }
    }

    /// The WordNet configuration: "which of these is a kind of X" as the target, part-of
    /// questions as the skill.
    pub fn wordnet() -> Self {
        Self {
            data: "wordnet".into(),
            questions: 300,
            target: "kind-of".into(),
            skills: vec!["part-of".into()],
            base_epochs: 20,
            ..Self::default()
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: Self = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid experiment configuration", path.display()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        if !["world", "wordnet"].contains(&self.data.as_str()) {
            bail!("data {:?}: use world or wordnet", self.data);
        }
        for o in &self.objectives {
            parse_objective(o)?;
        }
        if !["frozen", "live"].contains(&self.teacher.as_str()) {
            bail!("teacher {:?}: use frozen or live", self.teacher);
        }
        if self.hidden % self.heads != 0 {
            bail!(
                "hidden {} is not a multiple of heads {}",
                self.hidden,
                self.heads
            );
        }
        Ok(())
    }
}

/// `name[@divergence]`: an objective and KA's divergence.
fn parse_objective(text: &str) -> Result<(Objective, Divergence)> {
    let (name, kl) = text.split_once('@').unwrap_or((text, "p||q"));
    let objective = Objective::parse(name, 1.0).ok_or_else(|| {
        anyhow!("objective {text:?}: use sft, ka, ka+sft or rationale-sft (ka@q||p, ka@jsd for another divergence)")
    })?;
    let divergence = Divergence::parse(kl, 0.5)
        .ok_or_else(|| anyhow!("objective {text:?}: the divergence is p||q, q||p or jsd"))?;
    Ok((objective, divergence))
}

/// A knowledge graph in a store and its questions.
pub struct Dataset {
    pub store: Store,
    /// Target and skill questions.
    pub questions: Vec<QaItem>,
    /// The single-hop fact checks behind them.
    pub facts: Vec<QaItem>,
    /// IRIs of the relations the questions are about (rationales are built from these).
    pub predicates: Vec<String>,
}

/// Writes N-Triples with `write`, then bulk-loads them into a fresh store at `dir/store`.
pub fn load_fresh(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<u64>,
    progress: &TerminalProgress,
) -> Result<(Store, kg_store::LoadSummary)> {
    let file = dir.join(name);
    let mut writer = BufWriter::new(
        fs::File::create(&file).with_context(|| format!("creating {}", file.display()))?,
    );
    write(&mut writer)?;
    writer.flush()?;
    let store_dir = dir.join("store");
    if store_dir.exists() {
        fs::remove_dir_all(&store_dir)
            .with_context(|| format!("removing the old {}", store_dir.display()))?;
    }
    let store = Store::open(&store_dir)?;
    let summary = BulkLoader::new(&store)
        .progress(progress)
        .load(&[LoadInput::new(&file)])?;
    Ok((store, summary))
}

/// The generated world's questions of the configured kinds, over an already loaded store.
pub fn world_questions(
    world: &World,
    store: Store,
    config: &ExperimentConfig,
    seed: u64,
) -> Result<Dataset> {
    let mut templates = vec![config.target.clone()];
    templates.extend(config.skills.iter().cloned());
    let qa = generate_qa(
        world,
        &QaConfig {
            questions: usize::MAX / 2,
            seed,
            choices: 4,
            templates,
        },
    )
    .map_err(|e| anyhow!(e))?;
    let predicates = fact_relations(&qa.facts, |r| format!("{PROP_NS}{r}"));
    Ok(Dataset {
        store,
        questions: qa.questions,
        facts: qa.facts,
        predicates,
    })
}

/// The relations behind fact checks (`kind` = `fact-REL`) as IRIs.
fn fact_relations(facts: &[QaItem], iri: impl Fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = facts
        .iter()
        .filter_map(|f| f.kind.as_deref()?.strip_prefix("fact-").map(&iri))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn prepare(
    config: &ExperimentConfig,
    seed: u64,
    dir: &Path,
    progress: &TerminalProgress,
) -> Result<Dataset> {
    match config.data.as_str() {
        "world" => {
            let world = World::generate(WorldConfig {
                entities: config.entities,
                seed,
            });
            let (store, _) = load_fresh(dir, "world.nt", |w| world.write_ntriples(w), progress)?;
            world_questions(&world, store, config, seed)
        }
        _ => {
            let wordnet = WordNet::read(Path::new(DEFAULT_DICT))
                .context("reading WordNet (Debian's wordnet-base; scripts/setup.sh installs it)")?;
            let (store, _) =
                load_fresh(dir, "wordnet.nt", |w| wordnet.write_ntriples(w), progress)?;
            let (questions, facts) = wordnet.generate_qa(config.questions, seed);
            let predicates = fact_relations(&facts, |r| format!("{WORDNET_NS}prop/{r}"));
            Ok(Dataset {
                store,
                questions,
                facts,
                predicates,
            })
        }
    }
}

/// One objective's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveResult {
    pub accuracy: f64,
    pub ci95: [f64; 2],
    pub items: usize,
    /// Share of known questions (every fact check right) answered wrongly.
    pub known_incorrect: Option<f64>,
    pub known: Option<usize>,
    /// Fact checks of the held-out questions still answered right after fine-tuning.
    pub fact_retention: Option<f64>,
    /// Probability the model puts on the choices at all (see `EvalReport::choice_mass`).
    pub choice_mass: f64,
    /// Whether the model saw the rationale at test time (only the rationale-sft upper bound).
    pub with_rationale: bool,
    pub teacher: Option<String>,
    pub seconds: f64,
    #[serde(skip)]
    pub metrics: PathBuf,
}

/// The taught model before fine-tuning.
#[derive(Clone, Debug, Serialize)]
pub struct BaseResult {
    /// Held-out target questions without the rationale.
    pub accuracy: f64,
    /// With the rationale in the prompt: what a KA teacher made of this model knows.
    pub with_rationale_accuracy: f64,
    /// Fact checks of the held-out questions.
    pub facts_accuracy: Option<f64>,
    pub known_incorrect: Option<f64>,
    /// The skill questions (other relations) with their rationale, as trained.
    pub skill_with_rationale_accuracy: f64,
    /// Probability put on the choices at all, without and with the rationale (the teacher's:
    /// what KA hands the student besides the ranking).
    pub choice_mass: f64,
    pub teacher_choice_mass: f64,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeedResult {
    pub seed: u64,
    pub train: usize,
    pub test: usize,
    pub skill_items: usize,
    pub facts: usize,
    pub coverage: f64,
    pub base: BaseResult,
    pub objectives: BTreeMap<String, ObjectiveResult>,
}

fn synthesize(
    synthesizer: &Synthesizer,
    items: &[QaItem],
    progress: &TerminalProgress,
) -> Result<(Vec<Synthesized>, SynthSummary)> {
    Ok(synthesizer.synthesize_all(items, progress)?)
}

fn with_rationale(s: &Synthesized) -> Example {
    Example::Qa {
        item: s.item.clone(),
        rationale: (!s.rationale.is_empty()).then(|| s.rationale.clone()),
    }
}

fn plain(item: &QaItem) -> Example {
    Example::Qa {
        item: item.clone(),
        rationale: None,
    }
}

fn tokenize_all(
    examples: &[Example],
    tokenizer: &TextTokenizer,
    config: &ModelConfig,
) -> Result<Vec<Tokenized>> {
    let template = PromptTemplate::default();
    let mut out = Vec::with_capacity(examples.len());
    for e in examples {
        if let Some(t) = tokenize(
            e,
            tokenizer,
            &template,
            config.bos_token_id,
            config.max_positions as usize,
        )? {
            out.push(t);
        }
    }
    Ok(out)
}

/// Says what is happening, unless quiet.
pub struct Narrator {
    pub quiet: bool,
}

impl Narrator {
    pub fn say(&self, text: &str) {
        if !self.quiet {
            println!("{text}");
        }
    }
}

/// The whole pipeline for one seed, under `dir`.
pub fn run_seed(
    config: &ExperimentConfig,
    dataset: &Dataset,
    seed: u64,
    dir: &Path,
    progress: &TerminalProgress,
    narrator: &Narrator,
) -> Result<SeedResult> {
    runtime::seed(seed as i64);
    // Rationales from the relations the questions are about: the facts the model is taught.
    let reader = dataset.store.reader();
    let mut allow = Vec::new();
    for iri in &dataset.predicates {
        if let Some(id) = reader.term_id(NamedNodeRef::new(iri)?.into())? {
            allow.push(id);
        }
    }
    let synthesizer = Synthesizer::new(
        &dataset.store,
        SynthConfig {
            max_hops: config.max_hops,
            paths: config.paths,
            allow: Some(allow),
            ..SynthConfig::default()
        },
    )?;
    let (questions, summary) = synthesize(&synthesizer, &dataset.questions, progress)?;
    let (facts, _) = synthesize(&synthesizer, &dataset.facts, progress)?;
    narrator.say(&format!(
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
        bail!(
            "only {} questions of kind {:?}: use a bigger graph or another target",
            target.len(),
            config.target
        );
    }
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    target.shuffle(&mut rng);
    target.truncate(config.max_target);
    let (train_part, test_part) = target.split_at(target.len() / 2);
    // The split as synthesised JSONL, so that any model of the run can be re-examined with
    // `kale eval --data DIR/test.jsonl`.
    for (name, part) in [("train.jsonl", train_part), ("test.jsonl", test_part)] {
        let mut text = String::new();
        for s in part {
            text.push_str(&serde_json::to_string(s)?);
            text.push('\n');
        }
        fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))?;
    }
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
    let train: Vec<Example> = train_part.iter().map(|s| with_rationale(s)).collect();
    let test: Vec<Example> = test_part.iter().map(|s| with_rationale(s)).collect();
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
    narrator.say(&format!(
        "   {} target questions to fine-tune on, {} held out; {} skill questions and {} facts to teach first",
        train.len(),
        test.len(),
        skills.len(),
        facts.len()
    ));

    // A word-level tokenizer over everything the model will read, and a fresh model.
    let model_dir = dir.join("init");
    fs::create_dir_all(&model_dir)?;
    let template = PromptTemplate::default();
    let mut corpus: Vec<String> = Vec::new();
    for s in questions.iter().chain(&facts) {
        corpus.push(template.render(&s.item, Some(&s.rationale)));
        corpus.extend(s.item.choices.iter().cloned());
    }
    let tokenizer = TextTokenizer::train(
        &corpus,
        TokenizerKind::WordLevel,
        50_000,
        &model_dir.join("tokenizer.json"),
    )?;
    let eos = tokenizer
        .eos
        .ok_or_else(|| anyhow!("the tokenizer has no end-of-text token"))?;
    let model_config = ModelConfig::new(
        Arch::Llama,
        tokenizer.vocab_size() as i64,
        config.layers,
        config.hidden,
        config.heads,
        config.heads,
        512,
        eos,
        eos,
    )
    .map_err(|e| anyhow!(e))?;
    let model = CausalLm::new(model_config.clone(), Device::Cpu, None);
    save_model(&model, &tokenizer, &model_dir)?;

    // 1. Teach the facts and the rationale skill.
    let started = Instant::now();
    let base_dir = dir.join("base");
    let base_examples = tokenize_all(&base, &tokenizer, &model_config)?;
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
    narrator.say(&format!(
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
    let plain_eval = EvalOptions::default();
    let rationale_eval = EvalOptions {
        with_rationale: true,
        ..EvalOptions::default()
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
        accuracy: before.accuracy.accuracy,
        with_rationale_accuracy: teacher.accuracy.accuracy,
        facts_accuracy: before.facts.as_ref().map(|f| f.accuracy),
        known_incorrect: before.known_incorrect,
        skill_with_rationale_accuracy: skill.accuracy.accuracy,
        choice_mass: before.choice_mass,
        teacher_choice_mass: teacher.choice_mass,
        seconds: started.elapsed().as_secs_f64(),
    };
    narrator.say(&format!(
        "   taught in {:.0}s: facts {:.0}% known; skill questions with rationale {:.0}%; held-out target questions {:.0}% without and {:.0}% with the rationale (the teacher, {:.0}% of its probability on the choices)",
        base_result.seconds,
        100.0 * base_result.facts_accuracy.unwrap_or(0.0),
        100.0 * base_result.skill_with_rationale_accuracy,
        100.0 * base_result.accuracy,
        100.0 * base_result.with_rationale_accuracy,
        100.0 * base_result.teacher_choice_mass
    ));
    drop(base_model);

    // 2. Fine-tune a copy per objective on the target questions.
    let train_tokens = tokenize_all(&train, &tokenizer, &model_config)?;
    let steps_per_epoch = train_tokens.len().div_ceil(config.batch).max(1);
    let total_steps = steps_per_epoch * config.epochs;
    let eval_every = (total_steps / config.evals.max(1)).max(1);
    let mut objectives = BTreeMap::new();
    for name in &config.objectives {
        let (objective, divergence) = parse_objective(name)?;
        let started = Instant::now();
        let loaded = load_model(&base_dir, Device::Cpu, None)?;
        let out = dir.join(name.replace('+', "-").replace("||", "-").replace('@', "-"));
        let options = if objective == Objective::RationaleSft {
            rationale_eval.clone()
        } else {
            plain_eval.clone()
        };
        let mut trainer = Trainer::new(
            loaded.model,
            &loaded.tokenizer,
            TrainConfig {
                objective,
                divergence,
                teacher: if config.teacher == "live" {
                    TeacherKind::Live
                } else {
                    TeacherKind::Frozen
                },
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
        let report: EvalReport = trainer
            .run(
                &mut TokenizedExamples(train_tokens.clone()),
                &out,
                progress,
                Some((&test, Some(&test_facts), &options)),
            )?
            .final_eval
            .expect("a run given an evaluation set evaluates at its end");
        let result = ObjectiveResult {
            accuracy: report.accuracy.accuracy,
            ci95: report.accuracy.ci95,
            items: report.accuracy.items,
            known_incorrect: report.known_incorrect,
            known: report.known,
            fact_retention: report.facts.as_ref().map(|f| f.accuracy),
            choice_mass: report.choice_mass,
            with_rationale: options.with_rationale,
            teacher: objective.uses_teacher().then(|| config.teacher.clone()),
            seconds: started.elapsed().as_secs_f64(),
            metrics: out.join("metrics.jsonl"),
        };
        narrator.say(&format!(
            "   {name:<14} accuracy {:>5.1}% [{:.0}-{:.0}]  known&incorrect {}  facts retained {}  on the choices {:.0}%  ({:.0}s)",
            100.0 * result.accuracy,
            100.0 * result.ci95[0],
            100.0 * result.ci95[1],
            percent(result.known_incorrect),
            percent(result.fact_retention),
            100.0 * result.choice_mass,
            result.seconds
        ));
        objectives.insert(name.clone(), result);
    }
    Ok(SeedResult {
        seed,
        train: train.len(),
        test: test.len(),
        skill_items: skills.len(),
        facts: facts.len(),
        coverage: summary.coverage(),
        base: base_result,
        objectives,
    })
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1}%", 100.0 * v))
}

/// The charts of one seed: curves of every objective and bars of the final results.
pub fn plot_seed(result: &SeedResult, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let runs = result
        .objectives
        .iter()
        .map(|(name, r)| Run::read(&r.metrics, name))
        .collect::<Result<Vec<_>>>()?;
    let curves = dir.join("curves.png");
    plot::curves(&runs, &curves)?;
    let mut bars = Vec::new();
    for (name, r) in &result.objectives {
        bars.push(Bar {
            group: "accuracy".into(),
            series: name.clone(),
            value: r.accuracy,
            ci: Some(r.ci95),
        });
        if let Some(k) = r.known_incorrect {
            bars.push(Bar {
                group: "known&incorrect".into(),
                series: name.clone(),
                value: k,
                ci: None,
            });
        }
        if let Some(f) = r.fact_retention {
            bars.push(Bar {
                group: "facts retained".into(),
                series: name.clone(),
                value: f,
                ci: None,
            });
        }
    }
    bars.push(Bar {
        group: "accuracy".into(),
        series: "teacher (with rationale)".into(),
        value: result.base.with_rationale_accuracy,
        ci: None,
    });
    let chart = dir.join("results.png");
    plot::bars("held-out questions", &bars, &chart)?;
    Ok((curves, chart))
}

/// The JSON report of one seed: `{objective: {accuracy, known_incorrect, ...}, base: ..., ...}`.
pub fn seed_report(config: &ExperimentConfig, result: &SeedResult) -> Value {
    let mut report = json!({
        "config": config,
        "seed": result.seed,
        "train": result.train,
        "test": result.test,
        "skill_items": result.skill_items,
        "facts": result.facts,
        "coverage": result.coverage,
        "base": result.base,
    });
    for (name, r) in &result.objectives {
        report[name] = serde_json::to_value(r).expect("serialisable");
    }
    report
}

/// Mean and 95% interval (Student's t) of shares from independent seeds.
fn mean_ci(values: &[f64]) -> (f64, [f64; 2]) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return (mean, [mean, mean]);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Two-sided 97.5% quantiles of t for 1..=10 degrees of freedom, then the normal's.
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    let t = T.get(n - 2).copied().unwrap_or(1.96);
    let half = t * (var / n as f64).sqrt();
    // Every value here is a share: the interval stays within [0, 1].
    (mean, [(mean - half).max(0.0), (mean + half).min(1.0)])
}

/// `kale experiment`: the pipeline over several seeds, a Markdown and a JSON report.
pub fn run(args: ExperimentArgs, progress: &TerminalProgress) -> Result<()> {
    let mut config = match (&args.config, args.data.as_deref()) {
        (Some(path), _) => ExperimentConfig::read(path)?,
        (None, Some("wordnet")) => ExperimentConfig::wordnet(),
        (None, Some("world") | None) => ExperimentConfig::default(),
        (None, Some(other)) => bail!("--data {other:?}: use world or wordnet"),
    };
    if let Some(objectives) = &args.objectives {
        config.objectives = objectives.split(',').map(|s| s.trim().to_owned()).collect();
    }
    config.check()?;
    let out = &args.out;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let narrator = Narrator { quiet: false };
    let mut results = Vec::new();
    let started = Instant::now();
    for s in 0..args.seeds {
        let seed = args.seed + s as u64;
        println!("== seed {seed} ({} of {})", s + 1, args.seeds);
        let dir = out.join(format!("seed-{seed}"));
        fs::create_dir_all(&dir)?;
        let dataset = prepare(&config, seed, &dir, progress)?;
        let result = run_seed(&config, &dataset, seed, &dir, progress, &narrator)?;
        let report = seed_report(&config, &result);
        fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        plot_seed(&result, &dir)?;
        drop(dataset);
        if !args.keep_stores {
            let _ = fs::remove_dir_all(dir.join("store"));
        }
        results.push(result);
    }
    let summary = summarize(&config, &results, started.elapsed().as_secs_f64());
    fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    let markdown = markdown(&config, &results, &summary);
    fs::write(out.join("report.md"), &markdown)?;
    println!("\n{markdown}");
    println!(
        "reports: {} and {}",
        out.join("report.md").display(),
        out.join("report.json").display()
    );
    Ok(())
}

fn summarize(config: &ExperimentConfig, results: &[SeedResult], seconds: f64) -> Value {
    let mut objectives = serde_json::Map::new();
    for name in &config.objectives {
        let of = |f: &dyn Fn(&ObjectiveResult) -> Option<f64>| -> Vec<f64> {
            results
                .iter()
                .filter_map(|r| r.objectives.get(name).and_then(f))
                .collect()
        };
        let stat = |values: Vec<f64>| {
            let (mean, ci) = mean_ci(&values);
            json!({ "mean": mean, "ci95": ci, "values": values })
        };
        objectives.insert(
            name.clone(),
            json!({
                "accuracy": stat(of(&|r| Some(r.accuracy))),
                "known_incorrect": stat(of(&|r| r.known_incorrect)),
                "fact_retention": stat(of(&|r| r.fact_retention)),
                "choice_mass": stat(of(&|r| Some(r.choice_mass))),
                "with_rationale": results.iter().any(|r| r.objectives.get(name).is_some_and(|o| o.with_rationale)),
            }),
        );
    }
    let base = |f: &dyn Fn(&BaseResult) -> Option<f64>| {
        let values: Vec<f64> = results.iter().filter_map(|r| f(&r.base)).collect();
        let (mean, ci) = mean_ci(&values);
        json!({ "mean": mean, "ci95": ci, "values": values })
    };
    json!({
        "config": config,
        "seeds": results.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "seconds": seconds,
        "test_items": results.iter().map(|r| r.test).collect::<Vec<_>>(),
        "base": {
            "accuracy": base(&|b| Some(b.accuracy)),
            "teacher_with_rationale_accuracy": base(&|b| Some(b.with_rationale_accuracy)),
            "facts_accuracy": base(&|b| b.facts_accuracy),
            "skill_with_rationale_accuracy": base(&|b| Some(b.skill_with_rationale_accuracy)),
            "choice_mass": base(&|b| Some(b.choice_mass)),
            "teacher_choice_mass": base(&|b| Some(b.teacher_choice_mass)),
        },
        "objectives": objectives,
        "per_seed": results.iter().map(|r| seed_report(config, r)).collect::<Vec<_>>(),
    })
}

fn markdown(config: &ExperimentConfig, results: &[SeedResult], summary: &Value) -> String {
    let cell = |v: &Value| -> String {
        let seeds = v["values"].as_array().map_or(0, Vec::len);
        match v["mean"].as_f64() {
            // One seed has no spread to show.
            Some(mean) if seeds == 1 => format!("{:.1}%", 100.0 * mean),
            Some(mean) if seeds > 1 => {
                let ci = &v["ci95"];
                format!(
                    "{:.1}% [{:.1}, {:.1}]",
                    100.0 * mean,
                    100.0 * ci[0].as_f64().unwrap_or(mean),
                    100.0 * ci[1].as_f64().unwrap_or(mean)
                )
            }
            _ => "-".into(),
        }
    };
    let mut md = String::new();
    let n = results.len();
    md.push_str(&format!(
        "## KALE experiment: {} data, target `{}`, {n} seed{}\n\n",
        config.data,
        config.target,
        if n == 1 { "" } else { "s" }
    ));
    md.push_str(&format!(
        "Model: Llama, {} layers, hidden {}, {} heads, word-level tokenizer. Taught for {} epochs (facts, fact checks, and questions of {} with their rationale), then fine-tuned {} epochs per objective on half of the `{}` questions ({} per seed on average), evaluated on the other half ({} on average). KA teacher: {}. Means over seeds with 95% t-intervals.\n\n",
        config.layers,
        config.hidden,
        config.heads,
        config.base_epochs,
        config.skills.join(", "),
        config.epochs,
        config.target,
        results.iter().map(|r| r.train).sum::<usize>() / n.max(1),
        results.iter().map(|r| r.test).sum::<usize>() / n.max(1),
        config.teacher
    ));
    md.push_str("| model | accuracy | known&incorrect | facts retained | probability on the choices |\n|---|---|---|---|---|\n");
    let base = &summary["base"];
    md.push_str(&format!(
        "| taught model, no fine-tuning | {} | | {} | {} |\n",
        cell(&base["accuracy"]),
        cell(&base["facts_accuracy"]),
        cell(&base["choice_mass"])
    ));
    md.push_str(&format!(
        "| taught model with the rationale in the prompt (the KA teacher) | {} | | | {} |\n",
        cell(&base["teacher_with_rationale_accuracy"]),
        cell(&base["teacher_choice_mass"])
    ));
    for name in &config.objectives {
        let o = &summary["objectives"][name];
        // A `|` inside a table cell must be escaped, even in a code span (`ka@q||p`).
        let name = name.replace('|', "\\|");
        let label = if o["with_rationale"].as_bool() == Some(true) {
            format!("`{name}` (rationale in the prompt at test time: upper bound)")
        } else {
            format!("`{name}`")
        };
        md.push_str(&format!(
            "| {label} | {} | {} | {} | {} |\n",
            cell(&o["accuracy"]),
            cell(&o["known_incorrect"]),
            cell(&o["fact_retention"]),
            cell(&o["choice_mass"])
        ));
    }
    md.push_str(&format!(
        "\nChance is 25% (4 choices). \"Probability on the choices\": the model's probability that its answer starts like one of the four choices at all (accuracy only ranks them; KA hands the student the teacher's whole distribution). Skill questions answered with their rationale after teaching: {}. Took {:.0}s.\n",
        cell(&base["skill_with_rationale_accuracy"]),
        summary["seconds"].as_f64().unwrap_or(0.0)
    ));
    md
}
