//! `kale bench`: reproducible measurements whose numbers the README quotes. Each kind is one
//! call into the crate it measures (`kg_store::bench`, `kale_queries::bench`,
//! `kale_trainer::bench`); this prints its report as text or JSON.

use crate::cli::{BenchCommand, BenchGenerateArgs, BenchTrainArgs};
use crate::commands::store::open_existing;
use crate::progress::TerminalProgress;
use anyhow::Result;
use kale_queries::bench::{bench_sparql, query_files};
use kale_queries::SparqlEngine;
use kale_trainer::bench::{GenerateBench, TrainBench};
use kale_trainer::lora::LoraConfig;
use kg_store::bench::{LoadBench, PathBench};
use kg_store::Adjacency;
use serde::Serialize;
use std::fmt::Display;

/// The report as pretty JSON on standard output, or as text.
fn print(report: &(impl Serialize + Display), json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!("{}", report.to_string().trim_end());
    }
    Ok(())
}

pub fn run(command: BenchCommand, progress: &TerminalProgress) -> Result<()> {
    match command {
        BenchCommand::Load {
            file,
            store,
            threads,
            memory_limit,
            json,
        } => {
            let report = LoadBench {
                file,
                store,
                threads,
                memory_limit,
            }
            .run(progress)?;
            if !json {
                eprintln!("{}", report.summary);
            }
            print(&report, json)
        }
        BenchCommand::Sparql {
            store,
            queries,
            runs,
            path_from,
            path_to,
            json,
        } => {
            let engine = SparqlEngine::new(open_existing(&store)?);
            let files = query_files(&queries)?;
            let pair = path_from.as_deref().zip(path_to.as_deref());
            print(&bench_sparql(&engine, &files, runs, pair)?, json)
        }
        BenchCommand::Paths {
            store,
            pairs,
            max_hops,
            seed,
            forward_only,
            max_degree,
            sample,
            save_pairs,
            json,
        } => {
            let store = open_existing(&store)?;
            let adjacency = Adjacency::open(&store)?;
            let bench = PathBench {
                pairs,
                max_hops,
                seed,
                forward_only,
                max_degree,
                sample,
            };
            let queries = bench.queries(&adjacency)?;
            if let Some(file) = &save_pairs {
                PathBench::write_pairs(&store.reader(), &queries, file)?;
            }
            print(&bench.run(&adjacency, &queries), json)
        }
        BenchCommand::Train(args) => train(args, progress),
        BenchCommand::Generate(args) => generate(args, progress),
    }
}

fn generate(args: BenchGenerateArgs, progress: &TerminalProgress) -> Result<()> {
    kale_trainer::runtime::set_threads(args.threads);
    let report = GenerateBench {
        model: args.model,
        prompt: args.prompt,
        new_tokens: args.new_tokens,
        batches: args.batches,
        kv_cache: args.cache,
        runs: args.runs,
        uncached_runs: args.uncached_runs,
        device: args.device,
        save_prompts: args.save_prompts,
    }
    .run(progress)?;
    print(&report, args.json)
}

fn train(args: BenchTrainArgs, progress: &TerminalProgress) -> Result<()> {
    kale_trainer::runtime::set_threads(args.threads);
    let report = TrainBench {
        model: args.model,
        layers: args.layers,
        hidden: args.hidden,
        heads: args.heads,
        vocab: args.vocab,
        batch: args.batch,
        prompt: args.prompt,
        answer: args.answer,
        rationale: args.rationale,
        steps: args.steps,
        warmup: args.warmup,
        objectives: args.objectives,
        lora: args
            .lora_r
            .map(|r| LoraConfig::new(r, args.lora_alpha, 0.0, args.lora_targets)),
        teacher_top_k: args.teacher_top_k,
        device: args.device,
    }
    .run(progress)?;
    print(&report, args.json)
}
