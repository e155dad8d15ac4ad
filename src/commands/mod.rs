//! One module per group of subcommands; each turns parsed arguments into crate calls and output.

mod bench;
mod experiment;
mod gen;
mod model;
mod paths;
mod sparql;
mod store;
mod synth;

use crate::cli::{Cli, Command};
use crate::progress::TerminalProgress;
use anyhow::Result;
use kale_datasets::synth::writer::Generation;

pub fn run(cli: Cli) -> Result<()> {
    let progress = TerminalProgress::new(cli.quiet);
    match cli.command {
        Command::Demo(args) => experiment::demo(args, &progress),
        Command::Experiment(args) => experiment::run(args, &progress),
        Command::Gen(command) => gen::run(command),
        Command::Load(args) => store::load(args, &progress),
        Command::Stats { store, json } => store::stats(&store, json),
        Command::Dump { store, out } => store::dump(&store, out.as_deref()),
        Command::Triples(args) => store::triples(args),
        Command::Sparql(args) => sparql::query(args),
        Command::Update(args) => sparql::update(args),
        Command::Serve(args) => sparql::serve(args),
        Command::Link {
            store,
            text,
            json,
            lang,
        } => synth::link(&store, &text, json, &lang),
        Command::Synth(args) => synth::synth(args, &progress),
        Command::InitModel(args) => model::init_model(args),
        Command::Train(args) => model::train(*args, &progress),
        Command::Eval(args) => model::eval(args),
        Command::MergeLora {
            model: dir,
            adapters,
            out,
        } => model::merge_lora(&dir, &adapters, &out),
        Command::ImportGguf { file, out } => model::import_gguf(&file, &out),
        Command::Generate {
            model: dir,
            prompt,
            max_tokens,
            raw,
            temperature,
            top_p,
            seed,
            device,
        } => model::generate(
            &dir,
            &prompt,
            &Generation {
                max_tokens,
                temperature,
                top_p,
                seed,
            },
            raw,
            device,
        ),
        Command::Plot { metrics, out } => model::plot(&metrics, &out),
        Command::Index { store } => paths::index(&store, &progress),
        Command::Compact { store } => paths::compact(&store, &progress),
        Command::Snapshot { store, out } => store::snapshot(&store, &out, &progress),
        Command::Paths(args) => paths::paths(args),
        Command::Bench(command) => bench::run(command, &progress),
    }
}
