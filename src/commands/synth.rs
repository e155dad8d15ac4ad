//! `kale link` and `kale synth`: entity linking and KI synthesis.

use crate::cli::SynthArgs;
use crate::commands::paths::plain;
use crate::commands::store::open_existing;
use crate::progress::TerminalProgress;
use anyhow::{anyhow, Context, Result};
use kale_datasets::link::Linker;
use kale_datasets::qa::{read_items, write_items, QaFormat};
use kale_datasets::synth::{derive_fact_checks, SynthConfig, Synthesizer, Template};
use kg_store::labels::Labels;
use kg_store::{Adjacency, StoreReader, TermId};
use oxrdf::NamedNodeRef;
use serde_json::json;
use std::fs::File;
use std::io::{BufWriter, Write};
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

fn predicate_ids(reader: &StoreReader, list: &[String]) -> Result<Vec<TermId>> {
    let mut ids = Vec::new();
    for iri in list
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let iri = iri.trim_start_matches('<').trim_end_matches('>');
        if let Some(id) = reader.term_id(
            NamedNodeRef::new(iri)
                .map_err(|e| anyhow!("{iri:?}: {e}"))?
                .into(),
        )? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The synthesis settings of the command line.
pub fn config_from(reader: &StoreReader, args: &SynthArgs) -> Result<SynthConfig> {
    Ok(SynthConfig {
        max_hops: args.max_hops,
        paths: args.paths,
        max_degree: (args.max_degree > 0).then_some(args.max_degree),
        allow: (!args.allow.is_empty())
            .then(|| predicate_ids(reader, &args.allow))
            .transpose()?,
        deny: predicate_ids(reader, &args.deny)?,
        both_directions: !args.forward_only,
        lang: args.lang.clone(),
        template: Template::parse(&args.template),
        ..SynthConfig::default()
    })
}

pub fn synth(args: SynthArgs, progress: &TerminalProgress) -> Result<()> {
    let format = args
        .format
        .as_deref()
        .map(|f| {
            QaFormat::from_name(f).ok_or_else(|| {
                anyhow!("unknown dataset format {f:?}: use csqa, hf, mmlu, race or plain")
            })
        })
        .transpose()?;
    let items = read_items(&args.dataset, format)?;
    let store = open_existing(&args.store)?;
    let config = config_from(&store.reader(), &args)?;
    let synthesizer = Synthesizer::new(&store, config)?;
    let (mut out, summary) = synthesizer.synthesize_all(&items, progress)?;
    let derived = match &args.fact_checks {
        Some(path) => {
            let (checks, derived) = derive_fact_checks(&synthesizer, &mut out, 4, 42)?;
            write_items(path, &checks)?;
            eprintln!(
                "derived {} fact checks for {} items ({} hops without enough distinct objects for choices) -> {}",
                derived.checks,
                derived.items,
                derived.skipped_hops,
                path.display()
            );
            Some(derived)
        }
        None => None,
    };
    let file =
        File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut writer = BufWriter::new(file);
    for item in &out {
        serde_json::to_writer(&mut writer, item)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    let right_first = summary
        .right_path_first_share()
        .map_or(String::new(), |share| {
            format!(
                "; the asked path first for {:.1}% of the {} items that name it",
                100.0 * share,
                summary.with_relations
            )
        });
    eprintln!(
        "synthesised {} items in {:.1}s ({:.0} items/s): coverage {:.1}% ({} with paths, {} with partial evidence only, {} with nothing), {:.2} paths per item{right_first} -> {}",
        summary.items,
        summary.seconds,
        summary.items_per_second(),
        100.0 * summary.coverage(),
        summary.with_paths,
        summary.partial,
        summary.without_evidence(),
        summary.mean_paths(),
        args.out.display()
    );
    if args.json_summary {
        println!(
            "{}",
            json!({
                "items": summary.items, "with_paths": summary.with_paths,
                "partial": summary.partial, "without_evidence": summary.without_evidence(),
                "linked": summary.linked, "coverage": summary.coverage(),
                "mean_paths": summary.mean_paths(),
                "right_path_first": summary.right_path_first_share(),
                "with_relations": summary.with_relations,
                "seconds": summary.seconds, "items_per_sec": summary.items_per_second(),
                "fact_checks": derived,
            })
        );
    }
    Ok(())
}
