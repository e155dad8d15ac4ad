//! The questions of an experiment as synthesised items: synthesis with progress, the fact
//! checks of real data (derived from the rationales where a benchmark has none), the split
//! written as JSONL, and the items as training examples.

use crate::config::ExperimentConfig;
use crate::data;
use crate::error::{ExperimentError, Result};
use crate::report::Say;
use kale_datasets::qa::QaItem;
use kale_datasets::synth::{
    derive_fact_checks, SynthConfig, SynthSummary, Synthesized, Synthesizer,
};
use kale_trainer::data::Example;
use kale_trainer::writer::WriterChoice;
use kg_store::progress::Progress;
use std::fs;
use std::path::Path;
use std::time::Instant;

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

/// Real data, synthesised once: the store under `dir`, rationales from every relation, fact
/// checks derived from the rationales for benchmarks that have none.
pub fn synthesise_real(
    config: &ExperimentConfig,
    dir: &Path,
    writer: Option<&WriterChoice>,
    progress: &dyn Progress,
    say: Say<'_>,
) -> Result<Synthesised> {
    // Real data does not depend on the seed; the seed splits it.
    let dataset = data::prepare(config, 0, dir, progress)?;
    let synth_config = SynthConfig {
        max_hops: config.max_hops,
        paths: config.paths,
        ..SynthConfig::default()
    };
    let template = synth_config.template.clone();
    let synthesizer = Synthesizer::new(&dataset.store, synth_config)?;
    let started = Instant::now();
    let (mut questions, summary) = synthesize(&synthesizer, &dataset.questions, progress)?;
    let rewriter = match writer {
        Some(choice) => kale_trainer::writer::rewriter(
            &choice.options,
            template,
            &dir.join("rationale-cache"),
            choice.device,
        )?,
        None => None,
    };
    if let Some(rewriter) = rewriter {
        let written = rewriter.rewrite(&mut questions, progress)?;
        say(&format!("   {written}"));
    }
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
