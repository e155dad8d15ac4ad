#![doc = include_str!("../README.md")]

pub mod config;
pub mod data;
pub mod demo;
mod error;
pub mod plot;
pub mod pretrained;
pub mod report;
pub mod small;

pub use config::{DataSource, ExperimentConfig, ObjectiveSpec, PretrainedConfig};
pub use error::{ExperimentError, Result};

use kale_datasets::qa::QaItem;
use kale_datasets::synth::{
    derive_fact_checks, SynthConfig, SynthSummary, Synthesized, Synthesizer,
};
use kale_trainer::data::Example;
use kg_store::progress::Progress;
use report::{markdown, plot_seed, seed_report, summarize, ObjectiveResult, SeedResult};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the pipeline says what it is doing (the command line prints it).
pub type Say<'a> = &'a dyn Fn(&str);

/// How many runs, and where.
#[derive(Clone, Debug)]
pub struct ExperimentRun {
    /// Independent runs (their own split and initialisation; for generated data, their own
    /// graph and questions).
    pub seeds: usize,
    pub first_seed: u64,
    pub out: PathBuf,
    /// Keep each run's store (they are rebuilt from the data otherwise).
    pub keep_stores: bool,
}

/// What an experiment wrote.
pub struct Outcome {
    pub markdown: String,
    pub summary: Value,
    pub report_md: PathBuf,
    pub report_json: PathBuf,
}

/// Questions synthesised once for every seed (real data: the graph does not depend on the seed).
pub struct Synthesised {
    pub questions: Vec<Synthesized>,
    /// The fact checks behind them (given, or derived from the rationales).
    pub facts: Vec<QaItem>,
    pub summary: SynthSummary,
}

/// Synthesises items, with progress.
pub fn synthesize(
    synthesizer: &Synthesizer,
    items: &[QaItem],
    progress: &dyn Progress,
) -> Result<(Vec<Synthesized>, SynthSummary)> {
    Ok(synthesizer.synthesize_all(items, progress)?)
}

/// A synthesised item as a training example, its rationale when it has one.
pub fn with_rationale(s: &Synthesized) -> Example {
    Example::Qa {
        item: s.item.clone(),
        rationale: (!s.rationale.is_empty()).then(|| s.rationale.clone()),
    }
}

pub fn examples_of(items: &[&Synthesized]) -> Vec<Example> {
    items.iter().map(|s| with_rationale(s)).collect()
}

/// The split as synthesised JSONL, so that any model of the run can be re-examined with
/// `kale eval --data DIR/test.jsonl`.
pub fn write_split(dir: &Path, train: &[&Synthesized], test: &[&Synthesized]) -> Result<()> {
    for (name, part) in [("train.jsonl", train), ("test.jsonl", test)] {
        let mut text = String::new();
        for s in part {
            text.push_str(&serde_json::to_string(s).expect("items serialise"));
            text.push('\n');
        }
        let path = dir.join(name);
        fs::write(&path, text).map_err(ExperimentError::io(&path))?;
    }
    Ok(())
}

pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1}%", 100.0 * v))
}

/// One objective's result as a line.
pub fn objective_line(name: &str, r: &ObjectiveResult) -> String {
    let m = &r.measured;
    format!(
        "   {name:<14} acc {:>5.1}% acc_norm {:>5.1}% [{:.0}-{:.0}]  known&incorrect {}  facts {}  on the choices {:.0}%  ({:.0}s)",
        100.0 * m.acc,
        100.0 * m.acc_norm,
        100.0 * m.acc_norm_ci95[0],
        100.0 * m.acc_norm_ci95[1],
        percent(m.known_incorrect),
        percent(m.facts),
        100.0 * m.choice_mass,
        r.seconds
    )
}

/// Real data, synthesised once: the store under `dir`, rationales from every relation, fact
/// checks derived from the rationales for benchmarks that have none.
fn synthesise_real(
    config: &ExperimentConfig,
    dir: &Path,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<Synthesised> {
    // Real data does not depend on the seed; the seed splits it.
    let dataset = data::prepare(config, 0, dir, progress)?;
    let synthesizer = Synthesizer::new(
        &dataset.store,
        SynthConfig {
            max_hops: config.max_hops,
            paths: config.paths,
            ..SynthConfig::default()
        },
    )?;
    let started = Instant::now();
    let (mut questions, summary) = synthesize(&synthesizer, &dataset.questions, progress)?;
    let facts = if dataset.facts.is_empty() {
        let (checks, derived) = derive_fact_checks(&synthesizer, &mut questions, 4, 42)?;
        say(&format!(
            "   derived {} fact checks from the rationales of {} questions",
            derived.checks, derived.items
        ));
        checks
    } else {
        dataset.facts
    };
    say(&format!(
        "   synthesised {} questions in {:.1}s: {:.1}% with a full path, {:.1}% with partial evidence, {} with nothing; {:.2} paths per question{}",
        summary.items,
        started.elapsed().as_secs_f64(),
        100.0 * summary.coverage(),
        100.0 * summary.partial as f64 / summary.items.max(1) as f64,
        summary.without_evidence(),
        summary.mean_paths(),
        summary
            .right_path_first_share()
            .map_or(String::new(), |s| format!("; the asked path first for {:.1}%", 100.0 * s))
    ));
    Ok(Synthesised {
        questions,
        facts,
        summary,
    })
}

/// `kale experiment`: the pipeline over several seeds, a Markdown and a JSON report.
pub fn run(
    config: &ExperimentConfig,
    run: &ExperimentRun,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<Outcome> {
    config.check()?;
    let out = &run.out;
    fs::create_dir_all(out).map_err(ExperimentError::io(out))?;
    let started = Instant::now();
    let real = match &config.pretrained {
        Some(_) => {
            say(&format!("== data: {}", config.data.name()));
            let dir = out.join("data");
            fs::create_dir_all(&dir).map_err(ExperimentError::io(&dir))?;
            Some(synthesise_real(config, &dir, progress, say)?)
        }
        None => None,
    };
    let mut results: Vec<SeedResult> = Vec::new();
    for s in 0..run.seeds {
        let seed = run.first_seed + s as u64;
        say(&format!("== seed {seed} ({} of {})", s + 1, run.seeds));
        let dir = out.join(format!("seed-{seed}"));
        fs::create_dir_all(&dir).map_err(ExperimentError::io(&dir))?;
        let result = match &real {
            Some(data) => pretrained::run_seed(config, data, seed, &dir, progress, say)?,
            None => {
                let dataset = data::prepare(config, seed, &dir, progress)?;
                let result = small::run_seed(config, &dataset, seed, &dir, progress, say)?;
                drop(dataset);
                if !run.keep_stores {
                    let _ = fs::remove_dir_all(dir.join("store"));
                }
                result
            }
        };
        let report = seed_report(config, &result);
        let path = dir.join("report.json");
        fs::write(
            &path,
            serde_json::to_string_pretty(&report).expect("a report serialises"),
        )
        .map_err(ExperimentError::io(&path))?;
        plot_seed(&result, &dir)?;
        results.push(result);
    }
    if real.is_some() && !run.keep_stores {
        let _ = fs::remove_dir_all(out.join("data/store"));
    }
    let summary = summarize(config, &results, started.elapsed().as_secs_f64());
    let report_json = out.join("report.json");
    fs::write(
        &report_json,
        serde_json::to_string_pretty(&summary).expect("a summary serialises"),
    )
    .map_err(ExperimentError::io(&report_json))?;
    let markdown = markdown(config, &results, &summary);
    let report_md = out.join("report.md");
    fs::write(&report_md, &markdown).map_err(ExperimentError::io(&report_md))?;
    Ok(Outcome {
        markdown,
        summary,
        report_md,
        report_json,
    })
}
