//! `kale paths`, `kale index`, `kale compact`: the adjacency and path queries.

use crate::cli::{PathArgs, PathFilterArgs};
use crate::commands::store::open_existing;
use crate::progress::TerminalProgress;
use anyhow::{bail, Result};
use kg_store::label_index::{LabelIndex, DEFAULT_BUILD_MEMORY};
use kg_store::labels::Labels;
use kg_store::paths::{
    find_paths, find_paths_batch, result_json, write_result_text, PathFilter, PathQuery,
};
use kg_store::{Adjacency, Store};
use serde_json::json;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

pub fn index(path: &Path, progress: &TerminalProgress) -> Result<()> {
    let store = Store::open(path)?;
    let summary = Adjacency::build(&store, progress)?;
    eprintln!(
        "adjacency: {} entities, {} edges, {:.1} MB ({:.1} bytes per edge), as of commit {}",
        summary.rows,
        summary.edges,
        summary.bytes as f64 / 1e6,
        summary.bytes as f64 / summary.edges.max(1) as f64,
        summary.write_seq
    );
    let labels = LabelIndex::build(&store, DEFAULT_BUILD_MEMORY, progress)?;
    eprintln!("label index: {labels} labels");
    Ok(())
}

/// `kale index`, then the tables merged into one sorted run for reads (`Store::optimize`).
pub fn compact(path: &Path, progress: &TerminalProgress) -> Result<()> {
    index(path, progress)?;
    let store = Store::open(path)?;
    let started = std::time::Instant::now();
    eprintln!("compacting tables...");
    store.optimize()?;
    eprintln!(
        "tables compacted in {:.1} s: {:.1} MB on disk",
        started.elapsed().as_secs_f64(),
        store.stats()?.disk_bytes as f64 / 1e6
    );
    Ok(())
}

impl From<&PathFilterArgs> for PathFilter {
    fn from(f: &PathFilterArgs) -> Self {
        Self {
            max_hops: f.max_hops,
            limit: f.limit,
            max_degree: f.max_degree,
            allow: f.allow.clone(),
            deny: f.deny.clone(),
            forward_only: f.forward_only,
            timeout: f.timeout_ms.map(Duration::from_millis),
        }
    }
}

pub fn paths(args: PathArgs) -> Result<()> {
    let store = open_existing(&args.store)?;
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let labels = Labels::new(reader.clone(), &args.lang)?;
    let filter = PathFilter::from(&args.filter);
    let queries: Vec<(String, PathQuery)> = match (&args.pairs, &args.from, &args.to) {
        (Some(pairs), _, _) => filter.read_pairs(&reader, pairs)?,
        (None, Some(from), Some(to)) => {
            vec![(String::new(), filter.query_iris(&reader, from, to)?)]
        }
        _ => bail!("give --from and --to, or --pairs FILE"),
    };
    let results = match queries.as_slice() {
        [(_, one)] if args.pairs.is_none() => vec![find_paths(&adjacency, one)],
        _ => {
            let just: Vec<PathQuery> = queries.iter().map(|(_, q)| q.clone()).collect();
            find_paths_batch(&adjacency, &just)
        }
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for (i, ((line, _), result)) in queries.iter().zip(&results).enumerate() {
        let numbered = args.pairs.is_some();
        if args.json {
            let mut value = result_json(&reader, result)?;
            if numbered {
                value["pair"] = json!(i);
            }
            writeln!(out, "{value}")?;
        } else {
            if numbered {
                writeln!(out, "# pair {}: {}", i + 1, line.replace('\t', "  ->  "))?;
            }
            write_result_text(&mut out, &labels, result)?;
        }
    }
    out.flush()?;
    Ok(())
}
