//! `kale train --store STORE --dataset QA`: training on rationales synthesised from a live store.

use crate::cli::TrainArgs;
use crate::progress::TerminalProgress;
use anyhow::{Context, Result};
use kale_datasets::qa::read_items;
use kale_datasets::synth::SynthConfig;
use kale_trainer::data::PromptEncoder;
use kale_trainer::stream::{StreamLimits, StreamingExamples};
use kale_trainer::tokenizer::TextTokenizer;
use kale_trainer::train::{EvalSet, TrainSummary, Trainer};
use kg_store::Store;
use std::path::Path;
use std::sync::Arc;

pub fn train_streaming(
    trainer: &mut Trainer<'_>,
    tokenizer: &TextTokenizer,
    encoder: &PromptEncoder,
    args: &TrainArgs,
    store_path: &Path,
    progress: &TerminalProgress,
    eval: Option<EvalSet<'_>>,
) -> Result<TrainSummary> {
    let dataset = args
        .dataset
        .as_ref()
        .expect("clap requires --dataset with --store");
    let items = read_items(dataset, None)?;
    // A follower: another process (kale serve --allow-update, kale update) may write the store
    // meanwhile, and every epoch sees what it committed.
    let scratch = tempfile::tempdir()?;
    let store = Store::open_secondary(store_path, scratch.path())
        .with_context(|| format!("opening {} to follow it", store_path.display()))?;
    let tokenizer = Arc::new(TextTokenizer::load(&tokenizer.path, tokenizer.eos)?);
    let mut examples = StreamingExamples::new(
        store,
        items,
        SynthConfig::default(),
        tokenizer,
        encoder.clone(),
        StreamLimits::default(),
    )?;
    if let Some(path) = &args.write_synth {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        examples.write_synthesized(Box::new(std::io::BufWriter::new(file)));
    }
    let summary = trainer.run(&mut examples, &args.out, progress, eval)?;
    eprintln!(
        "synthesised {} examples while training",
        examples.synthesized()
    );
    Ok(summary)
}
