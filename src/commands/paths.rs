//! `kale paths`, `kale index`, `kale compact`: the adjacency and path queries.

use crate::cli::{PathArgs, PathFilterArgs};
use crate::commands::store::open_existing;
use crate::progress::TerminalProgress;
use anyhow::{anyhow, bail, Context, Result};
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, find_paths_batch, Path as KgPath, PathQuery, PathResult};
use kg_store::{Adjacency, Store, StoreReader, TermId};
use oxrdf::{NamedNodeRef, Term};
use serde_json::{json, Value};
use std::io::{self, BufRead, BufWriter, Write};
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
    let labels = kg_store::label_index::LabelIndex::build(&store, progress)?;
    eprintln!("label index: {labels} labels");
    Ok(())
}

/// Resolves comma-separated IRIs to entity ids; unknown IRIs are an error naming them.
fn entities(reader: &StoreReader, list: &str, what: &str) -> Result<Vec<TermId>> {
    let mut ids = Vec::new();
    for iri in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let iri = iri.trim_start_matches('<').trim_end_matches('>');
        let node =
            NamedNodeRef::new(iri).map_err(|e| anyhow!("{what} {iri:?} is not an IRI: {e}"))?;
        match reader.term_id(node.into())? {
            Some(id) => ids.push(id),
            None => bail!("{what} <{iri}> is not in the store"),
        }
    }
    if ids.is_empty() {
        bail!("no {what} given");
    }
    Ok(ids)
}

/// Predicates by IRI; ones the store never saw are dropped (they match no edge anyway).
fn predicates(reader: &StoreReader, list: &[String]) -> Result<Vec<TermId>> {
    let mut ids = Vec::new();
    for iri in list
        .iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let iri = iri.trim_start_matches('<').trim_end_matches('>');
        let node =
            NamedNodeRef::new(iri).map_err(|e| anyhow!("predicate {iri:?} is not an IRI: {e}"))?;
        if let Some(id) = reader.term_id(node.into())? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A query with the command line's limits and filters applied.
pub fn query_from(
    reader: &StoreReader,
    sources: Vec<TermId>,
    targets: Vec<TermId>,
    f: &PathFilterArgs,
) -> Result<PathQuery> {
    let mut query = PathQuery::new(sources, targets)
        .max_hops(f.max_hops)
        .max_paths(f.limit);
    query.max_degree = if f.max_degree == 0 {
        None
    } else {
        Some(f.max_degree)
    };
    if !f.allow.is_empty() {
        query.allow = Some(predicates(reader, &f.allow)?);
    }
    query.deny = predicates(reader, &f.deny)?;
    query.both_directions = !f.forward_only;
    query.timeout = f.timeout_ms.map(Duration::from_millis);
    Ok(query)
}

/// A term as a plain string: an IRI without brackets, `_:id` for a blank node.
pub fn plain(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => n.as_str().to_owned(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.to_string(),
    }
}

pub fn result_json(reader: &StoreReader, result: &PathResult) -> Result<Value> {
    let mut paths = Vec::new();
    for path in &result.paths {
        let mut hops = Vec::new();
        for hop in &path.hops {
            hops.push(json!({
                "s": plain(&reader.term(hop.subject)?),
                "p": plain(&reader.term(hop.predicate)?),
                "o": plain(&reader.term(hop.object)?),
                "forward": hop.forward,
            }));
        }
        paths.push(json!({ "hops": hops }));
    }
    Ok(json!({
        "paths": paths,
        "truncated": result.is_truncated(),
        "truncated_by": result.truncated,
        "expansions": result.expansions,
    }))
}

fn describe(labels: &Labels, id: TermId) -> Result<String> {
    let term = plain(&labels.reader().term(id)?);
    Ok(match labels.label(id)? {
        Some(label) => format!("{label} <{term}>"),
        None => format!("<{term}>"),
    })
}

fn print_path(out: &mut impl Write, labels: &Labels, n: usize, path: &KgPath) -> Result<()> {
    writeln!(
        out,
        "path {} ({} hop{}):",
        n + 1,
        path.hops.len(),
        if path.hops.len() == 1 { "" } else { "s" }
    )?;
    for hop in &path.hops {
        let p = labels.label(hop.predicate)?.unwrap_or_else(|| "?".into());
        let arrow = if hop.forward {
            format!("-[{p}]->")
        } else {
            format!("<-[{p}]-")
        };
        writeln!(
            out,
            "  {}  {arrow}  {}",
            describe(labels, hop.from())?,
            describe(labels, hop.to())?
        )?;
    }
    Ok(())
}

fn print_result(out: &mut impl Write, labels: &Labels, result: &PathResult) -> Result<()> {
    if result.paths.is_empty() {
        writeln!(out, "no path")?;
    }
    for (n, path) in result.paths.iter().enumerate() {
        print_path(out, labels, n, path)?;
    }
    if let Some(t) = result.truncated {
        writeln!(
            out,
            "(truncated: the {t:?} limit was reached; more paths may exist)"
        )?;
    }
    Ok(())
}

pub fn paths(args: PathArgs) -> Result<()> {
    let store = open_existing(&args.store)?;
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let labels = Labels::new(reader.clone(), &args.lang)?;
    let mut out = BufWriter::new(io::stdout().lock());
    if let Some(pairs) = &args.pairs {
        let file =
            std::fs::File::open(pairs).with_context(|| format!("opening {}", pairs.display()))?;
        let mut queries = Vec::new();
        for (n, line) in io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (from, to) = line
                .split_once('\t')
                .ok_or_else(|| anyhow!("{}:{}: expected FROM<TAB>TO", pairs.display(), n + 1))?;
            let sources = entities(&reader, from, "source")
                .with_context(|| format!("{}:{}", pairs.display(), n + 1))?;
            let targets = entities(&reader, to, "target")
                .with_context(|| format!("{}:{}", pairs.display(), n + 1))?;
            queries.push((
                line.clone(),
                query_from(&reader, sources, targets, &args.filter)?,
            ));
        }
        let just: Vec<PathQuery> = queries.iter().map(|(_, q)| q.clone()).collect();
        let results = find_paths_batch(&adjacency, &just);
        for (i, ((line, _), result)) in queries.iter().zip(&results).enumerate() {
            if args.json {
                let mut value = result_json(&reader, result)?;
                value["pair"] = json!(i);
                writeln!(out, "{value}")?;
            } else {
                writeln!(out, "# pair {}: {}", i + 1, line.replace('\t', "  ->  "))?;
                print_result(&mut out, &labels, result)?;
            }
        }
    } else {
        let (Some(from), Some(to)) = (&args.from, &args.to) else {
            bail!("give --from and --to, or --pairs FILE");
        };
        let query = query_from(
            &reader,
            entities(&reader, from, "source")?,
            entities(&reader, to, "target")?,
            &args.filter,
        )?;
        let result = find_paths(&adjacency, &query);
        if args.json {
            writeln!(out, "{}", result_json(&reader, &result)?)?;
        } else {
            print_result(&mut out, &labels, &result)?;
        }
    }
    out.flush()?;
    Ok(())
}
