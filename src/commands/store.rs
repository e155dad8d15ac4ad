//! `kale load`, `stats`, `dump`, `triples`: the store's own commands.

use crate::cli::{LoadArgs, TriplesArgs};
use crate::progress::TerminalProgress;
use anyhow::{bail, Context, Result};
use kg_store::resolve::pattern_ids;
use kg_store::{BulkLoader, GraphFilter, LoadInput, Store};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub fn load(args: LoadArgs, progress: &TerminalProgress) -> Result<()> {
    let inputs: Vec<LoadInput> = args
        .files
        .iter()
        .map(|path| LoadInput {
            path: path.clone(),
            format: args.format,
            base_iri: args.base.clone(),
        })
        .collect();
    let store = Store::open(&args.store)?;
    let mut loader = BulkLoader::new(&store)
        .lenient(args.lenient)
        .languages(args.languages)
        .progress(progress);
    if let Some(threads) = args.threads {
        loader = loader.threads(threads);
    }
    if let Some(limit) = args.memory_limit {
        loader = loader.memory_limit(limit);
    }
    let summary = loader.load(&inputs)?;
    eprintln!("{summary}");
    Ok(())
}

pub fn snapshot(path: &Path, out: &Path, progress: &TerminalProgress) -> Result<()> {
    let store = open_existing_writable(path)?;
    let summary = kg_store::snapshot::snapshot(&store, out, progress)?;
    eprintln!("{summary} -> {}", out.display());
    Ok(())
}

pub fn stats(path: &Path, json: bool) -> Result<()> {
    let store = Store::open_read_only(path)?;
    let stats = store.stats()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        println!("{stats}");
    }
    Ok(())
}

pub fn dump(path: &Path, out: Option<&Path>) -> Result<()> {
    let store = Store::open_read_only(path)?;
    let reader = store.reader();
    let count = match out {
        Some(out) => {
            let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
            kg_store::export::dump(&reader, BufWriter::with_capacity(1 << 20, file))?
        }
        None => kg_store::export::dump(&reader, BufWriter::new(io::stdout().lock()))?,
    };
    if let Some(out) = out {
        eprintln!("wrote {count} statements to {}", out.display());
    }
    Ok(())
}

pub fn triples(args: TriplesArgs) -> Result<()> {
    let store = Store::open_read_only(&args.store)?;
    let reader = store.reader();
    // A term the store never saw matches nothing.
    let Some([s, p, o]) = pattern_ids(
        &reader,
        args.subject.as_deref(),
        args.predicate.as_deref(),
        args.object.as_deref(),
    )?
    else {
        return Ok(());
    };
    let mut terms = kg_store::export::TermCache::new(&reader);
    let mut out = BufWriter::new(io::stdout().lock());
    let limit = args.limit.unwrap_or(usize::MAX);
    for quad in reader.quads(s, p, o, GraphFilter::All).take(limit) {
        let quad = terms.quad(&quad?)?;
        if quad.graph_name.is_default_graph() {
            writeln!(out, "{} .", oxrdf::Triple::from(quad))?;
        } else {
            writeln!(out, "{quad} .")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Opens a store for reading, with a message that says what to do when there is none.
pub fn open_existing(path: &Path) -> Result<Store> {
    if !path.exists() {
        bail!(
            "no store at {} (create one with `kale load {} FILE`)",
            path.display(),
            path.display()
        );
    }
    Ok(Store::open_read_only(path)?)
}

/// An existing store, opened for writing (never created).
pub fn open_existing_writable(path: &Path) -> Result<Store> {
    open_existing(path)?;
    Ok(Store::open(path)?)
}
