//! `kale bench sparql`: a set of queries (one per `.rq` file), each timed as the median of some
//! runs after a warm-up, results serialised as TSV into memory so that evaluation is complete;
//! optionally the same question as a direct path query, to compare with the path service.

use crate::engine::{QueryOptions, SparqlEngine};
use crate::error::{QueryError, Result};
use crate::results::{write_results, SolutionsFormat};
use kg_store::paths::{find_paths, PathFilter};
use kg_store::Adjacency;
use oxrdfio::RdfFormat;
use sparesults::QueryResultsFormat;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One query's timing.
#[derive(Clone, Debug, serde::Serialize)]
pub struct QueryTiming {
    /// The file name.
    pub query: String,
    pub median_ms: f64,
    /// The warm-up run: in a fresh process, with the block cache and the term cache cold.
    pub first_ms: f64,
    pub rows: u64,
}

/// The direct path query's timing.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PathTiming {
    pub from: String,
    pub to: String,
    pub median_ms: f64,
    /// Hops over all paths found.
    pub hops: usize,
}

/// What `kale bench sparql` measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SparqlReport {
    pub queries: Vec<QueryTiming>,
    pub kale_paths: Option<PathTiming>,
}

/// The `.rq` files of a directory in name order, or the one file given.
pub fn query_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rq"))
        .collect();
    files.sort();
    Ok(files)
}

/// The median of `runs` timings of `f` (in milliseconds), after one warm-up run.
pub fn median_ms<T>(runs: usize, f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    timed_runs(runs, f).map(|(median, _, last)| (median, last))
}

/// [`median_ms`], and the warm-up run's time.
fn timed_runs<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, f64, T)> {
    let started = Instant::now();
    let mut last = f()?;
    let first = started.elapsed().as_secs_f64() * 1e3;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        last = f()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], first, last))
}

/// Times every query of `files`, and with `pair` (source and target IRIs) the path query
/// `kale paths --json` runs for them: search, then every term as a string.
pub fn bench_sparql(
    engine: &SparqlEngine,
    files: &[PathBuf],
    runs: usize,
    pair: Option<(&str, &str)>,
) -> Result<SparqlReport> {
    let mut queries = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)?;
        let query = SparqlEngine::parse_query(&text, None)
            .map_err(|e| QueryError::Syntax(format!("{}: {e}", file.display())))?;
        let (median_ms, first_ms, rows) = timed_runs(runs, || {
            let mut sink = Vec::new();
            let (_, rows) = engine.query(&query, &QueryOptions::default(), |r| {
                write_results(
                    r,
                    SolutionsFormat::Standard(QueryResultsFormat::Tsv),
                    RdfFormat::NTriples,
                    &mut sink,
                    None,
                )
            })?;
            Ok(rows)
        })?;
        queries.push(QueryTiming {
            query: file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            median_ms,
            first_ms,
            rows,
        });
    }
    let kale_paths = match pair {
        Some((from, to)) => {
            let store = engine.store();
            let adjacency = Adjacency::open(store)?;
            let reader = store.reader();
            let query = PathFilter::default().query_iris(&reader, from, to)?;
            let (median_ms, hops) = median_ms(runs, || {
                let result = find_paths(&adjacency, &query);
                let json = kg_store::paths::result_json(&reader, &result)?;
                Ok(json["paths"].as_array().map_or(0, |p| {
                    p.iter()
                        .map(|p| p["hops"].as_array().map_or(0, Vec::len))
                        .sum::<usize>()
                }))
            })?;
            Some(PathTiming {
                from: from.to_owned(),
                to: to.to_owned(),
                median_ms,
                hops,
            })
        }
        None => None,
    };
    Ok(SparqlReport {
        queries,
        kale_paths,
    })
}

impl std::fmt::Display for SparqlReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for q in &self.queries {
            writeln!(
                f,
                "{:<32} {:>10.3} ms {:>8} rows",
                q.query, q.median_ms, q.rows
            )?;
        }
        if let Some(p) = &self.kale_paths {
            writeln!(
                f,
                "{:<32} {:>10.3} ms {:>8} hops",
                "kale paths (same question)", p.median_ms, p.hops
            )?;
        }
        Ok(())
    }
}
