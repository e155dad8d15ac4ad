#![doc = include_str!("../README.md")]

pub mod config;
pub mod data;
pub mod demo;
mod error;
mod objective;
pub mod plot;
pub mod pretrained;
pub mod report;
pub mod small;
pub mod synthesis;

pub use config::{DataSource, ExperimentConfig, ObjectiveSpec, Overrides, PretrainedConfig};
pub use error::{ExperimentError, Result};
pub use report::Say;
pub use synthesis::Synthesised;

use kg_store::progress::Progress;
use report::{markdown, plot_seed, seed_report, summarize, SeedResult};
use serde_json::Value;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

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
    /// A language model that writes the rationales (pretrained-model experiments; `None`: the
    /// template). Its cache is `OUT/data/rationale-cache` unless the options name one, so the
    /// seeds and objectives of a run, and its reruns, share what it wrote.
    pub writer: Option<kale_trainer::writer::WriterChoice>,
}

/// What an experiment wrote.
pub struct Outcome {
    pub markdown: String,
    pub summary: Value,
    pub report_md: PathBuf,
    pub report_json: PathBuf,
}

/// `kale experiment`: the pipeline over several seeds, a Markdown and a JSON report.
pub fn run(
    config: &ExperimentConfig,
    run: &ExperimentRun,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<Outcome> {
    config.check()?;
    let writes = run
        .writer
        .as_ref()
        .is_some_and(|w| w.options.spec != kale_datasets::synth::writer::WriterSpec::Template);
    if writes && config.pretrained.is_none() {
        return Err(ExperimentError::Config(
            "--writer applies to experiments that fine-tune a pretrained model (--model DIR); a small model trained from scratch learns the template's sentences".into(),
        ));
    }
    let out = &run.out;
    fs::create_dir_all(out).map_err(ExperimentError::io(out))?;
    let started = Instant::now();
    let real = match &config.pretrained {
        Some(_) => {
            say(&format!("== data: {}", config.data.name()));
            let dir = out.join("data");
            fs::create_dir_all(&dir).map_err(ExperimentError::io(&dir))?;
            Some(synthesis::synthesise_real(
                config,
                &dir,
                run.writer.as_ref(),
                progress,
                say,
            )?)
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
