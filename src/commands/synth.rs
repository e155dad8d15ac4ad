//! `kale link` and `kale synth`: entity linking and KI synthesis.

use crate::cli::SynthArgs;
use crate::commands::store::open_existing;
use crate::progress::TerminalProgress;
use anyhow::Result;
use kale_datasets::link::Linker;
use kale_datasets::synth::{SynthRun, SynthSettings, Template};
use kg_store::labels::Labels;
use kg_store::resolve::plain;
use kg_store::Adjacency;
use serde_json::json;
use std::path::Path;

pub fn link(path: &Path, text: &str, as_json: bool, lang: &str) -> Result<()> {
    let store = open_existing(path)?;
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let linker = Linker::build(&reader, Some(&adjacency), lang)?;
    let labels = Labels::new(reader.clone(), lang)?;
    let mentions = linker.link(text);
    let mut rows = Vec::new();
    for m in &mentions {
        rows.push(json!({
            "text": m.text, "start": m.start, "end": m.end,
            "iri": plain(&reader.term(m.entity)?), "label": labels.label(m.entity)?, "candidates": m.candidates,
        }));
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("no entity found");
    } else {
        for r in rows {
            println!(
                "{:>4}..{:<4} {:<30} {} ({} candidate{})",
                r["start"],
                r["end"],
                r["text"].as_str().unwrap_or(""),
                r["iri"].as_str().unwrap_or(""),
                r["candidates"],
                if r["candidates"] == 1 { "" } else { "s" }
            );
        }
    }
    Ok(())
}

pub fn synth(args: SynthArgs, progress: &TerminalProgress) -> Result<()> {
    let store = open_existing(&args.store)?;
    let run = SynthRun {
        dataset: args.dataset,
        format: args.format,
        out: args.out,
        fact_checks: args.fact_checks,
        shard: args.shard,
        settings: SynthSettings {
            max_hops: args.max_hops,
            paths: args.paths,
            max_degree: args.max_degree,
            allow: args.allow,
            deny: args.deny,
            forward_only: args.forward_only,
            lang: args.lang,
            template: args.template.clone(),
        },
    };
    let rewriter = kale_trainer::writer::rewriter(
        &args.writer.options(),
        Template::parse(&args.template),
        &run.default_cache(),
        args.writer.writer_device,
    )?;
    let report = run.run(&store, rewriter.as_ref(), progress)?;
    if let Some(path) = &run.fact_checks {
        eprintln!("fact checks -> {}", path.display());
    }
    eprintln!("{report} -> {}", run.out.display());
    if args.json_summary {
        println!("{}", report.to_json());
    }
    Ok(())
}
