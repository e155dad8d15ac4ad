//! `kale bench`: reproducible measurements whose numbers the README quotes.

use crate::cli::BenchCommand;
use crate::progress::TerminalProgress;
use anyhow::{bail, Result};
use kg_store::{BulkLoader, LoadInput, Store};
use serde_json::json;

pub fn run(command: BenchCommand, progress: &TerminalProgress) -> Result<()> {
    match command {
        BenchCommand::Load {
            file,
            store,
            threads,
            memory_limit,
            json,
        } => {
            let temp;
            let path = match store {
                Some(path) => {
                    if path.exists() && path.read_dir()?.next().is_some() {
                        bail!(
                            "{} is not empty: the benchmark loads into a fresh store",
                            path.display()
                        );
                    }
                    path
                }
                None => {
                    temp = tempfile::tempdir()?;
                    temp.path().join("store")
                }
            };
            let store = Store::open(&path)?;
            let mut loader = BulkLoader::new(&store).progress(progress);
            if let Some(threads) = threads {
                loader = loader.threads(threads);
            }
            if let Some(limit) = memory_limit {
                loader = loader.memory_limit(limit);
            }
            let summary = loader.load(&[LoadInput::new(&file)])?;
            let stats = store.stats()?;
            let peak = peak_rss_bytes();
            // Until queries can run: the commit, then the adjacency and the label index.
            let total = summary.elapsed.as_secs_f64()
                + summary
                    .adjacency
                    .as_ref()
                    .map_or(0.0, |(_, t)| t.as_secs_f64());
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "file": file,
                        "triples": summary.triples_read,
                        "seconds": summary.elapsed.as_secs_f64(),
                        "triples_per_sec": summary.triples_per_second(),
                        "peak_rss_bytes": peak,
                        "disk_bytes": stats.disk_bytes,
                        "bytes_per_triple": stats.disk_bytes as f64 / stats.triples.max(1) as f64,
                        "threads": threads,
                        "index_seconds": summary.adjacency.as_ref().map(|(_, t)| t.as_secs_f64()),
                        "total_seconds": total,
                        "total_triples_per_sec": summary.triples_read as f64 / total,
                        "adjacency_bytes": summary.adjacency.as_ref().map(|(a, _)| a.bytes),
                        "adjacency_bytes_per_edge": summary.adjacency.as_ref().map(|(a, _)| a.bytes as f64 / a.edges.max(1) as f64),
                    }))?
                );
            } else {
                eprintln!("{summary}");
                println!(
                    "triples/s        {:.0} to the commit, {:.0} with the indexes ({:.1}s)",
                    summary.triples_per_second(),
                    summary.triples_read as f64 / total,
                    total
                );
                println!("peak memory      {:.0} MB", peak as f64 / 1e6);
                println!(
                    "bytes on disk    {:.1} MB, {:.1} bytes per triple",
                    stats.disk_bytes as f64 / 1e6,
                    stats.disk_bytes as f64 / stats.triples.max(1) as f64
                );
                println!("threads          {threads}");
            }
            Ok(())
        }
        BenchCommand::Sparql {
            store,
            queries,
            runs,
            path_from,
            path_to,
            json,
        } => bench_sparql(&store, &queries, runs, path_from.zip(path_to), json),
        BenchCommand::Train(args) => crate::commands::bench_train::run(&args, progress),
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
        } => bench_paths(
            &store,
            pairs,
            max_hops,
            seed,
            forward_only,
            max_degree,
            &sample,
            save_pairs.as_deref(),
            json,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn bench_paths(
    path: &std::path::Path,
    pairs: usize,
    max_hops: u32,
    seed: u64,
    forward_only: bool,
    max_degree: u64,
    sample: &str,
    save_pairs: Option<&std::path::Path>,
    json: bool,
) -> Result<()> {
    use kg_store::paths::{find_paths, find_paths_batch, PathQuery};
    use kg_store::{Adjacency, TermId};
    use rand::{Rng, SeedableRng};
    use std::time::Instant;

    let store = crate::commands::store::open_existing(path)?;
    let adjacency = Adjacency::open(&store)?;
    // Pairs of entities that have at least one edge, uniformly at random.
    let connected: Vec<u32> = (0..adjacency.rows() as u32)
        .filter(|&v| adjacency.degree(v) > 0)
        .collect();
    if connected.len() < 2 {
        bail!("the store has fewer than two connected entities");
    }
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    // `walk`: the target is where a random walk of 1 to max_hops edges from the source ends, so
    // the pair is connected; `random`: any two entities with edges.
    let walk = match sample {
        "random" => false,
        "walk" => true,
        other => bail!("unknown --sample {other:?}: use random or walk"),
    };
    let queries: Vec<PathQuery> = (0..pairs)
        .map(|_| {
            let a = connected[rng.random_range(0..connected.len())];
            let b = if walk {
                let steps = rng.random_range(1..=max_hops.max(1));
                let mut at = a;
                for _ in 0..steps {
                    let mut next: Vec<u32> = adjacency.out_edges(at).map(|[n, _]| n).collect();
                    if !forward_only {
                        next.extend(adjacency.in_edges(at).map(|[n, _]| n));
                    }
                    if next.is_empty() {
                        break;
                    }
                    at = next[rng.random_range(0..next.len())];
                }
                at
            } else {
                connected[rng.random_range(0..connected.len())]
            };
            let mut q = PathQuery::new(
                vec![TermId::entity(a.into())],
                vec![TermId::entity(b.into())],
            )
            .max_hops(max_hops);
            q.both_directions = !forward_only;
            q.max_degree = (max_degree > 0).then_some(max_degree);
            q
        })
        .collect();
    if let Some(file) = save_pairs {
        use std::io::Write;
        let reader = store.reader();
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        for q in &queries {
            let iri = |id: TermId| reader.term(id).map(|t| crate::commands::paths::plain(&t));
            writeln!(out, "{}\t{}", iri(q.sources[0])?, iri(q.targets[0])?)?;
        }
        out.flush()?;
    }
    // Latency: one query at a time on one thread. Throughput: the batch in parallel.
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0usize;
    let mut truncated = 0usize;
    let mut expansions = 0u64;
    for q in &queries {
        let started = Instant::now();
        let result = find_paths(&adjacency, q);
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        found += result.paths.len();
        expansions += result.expansions;
        truncated += usize::from(result.is_truncated());
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let started = Instant::now();
    let results = find_paths_batch(&adjacency, &queries);
    let batch_seconds = started.elapsed().as_secs_f64();
    assert_eq!(results.len(), queries.len());
    let threads = rayon::current_num_threads();
    let report = json!({
        "pairs": pairs,
        "max_hops": max_hops,
        "both_directions": !forward_only,
        "max_degree": max_degree,
        "sample": sample,
        "pairs_per_sec": pairs as f64 / batch_seconds,
        "threads": threads,
        "p50_us": pct(0.50),
        "p90_us": pct(0.90),
        "p99_us": pct(0.99),
        "max_us": latencies[latencies.len() - 1],
        "paths_found": found,
        "mean_paths": found as f64 / pairs as f64,
        "mean_expansions": expansions as f64 / pairs as f64,
        "share_truncated": truncated as f64 / pairs as f64,
        "entities": adjacency.rows(),
        "edges": adjacency.csr_edges(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "pairs            {pairs} ({max_hops} hops, {})",
            if forward_only {
                "forward only"
            } else {
                "both directions"
            }
        );
        println!(
            "throughput       {:.0} pairs/s on {threads} threads",
            pairs as f64 / batch_seconds
        );
        println!(
            "latency          p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, max {:.1} us",
            pct(0.5),
            pct(0.9),
            pct(0.99),
            latencies[latencies.len() - 1]
        );
        println!(
            "paths found      {found} ({:.2} per pair)",
            found as f64 / pairs as f64
        );
        println!(
            "truncated        {:.2}% of pairs",
            100.0 * truncated as f64 / pairs as f64
        );
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), 0 where /proc is not there.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The median of `runs` timings of `f` (in milliseconds), after one warm-up run.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, T)> {
    let mut last = f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        last = f()?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], last))
}

fn bench_sparql(
    path: &std::path::Path,
    queries: &std::path::Path,
    runs: usize,
    pair: Option<(String, String)>,
    json: bool,
) -> Result<()> {
    use kale_queries::{write_results, QueryOptions, SolutionsFormat, SparqlEngine};

    let files: Vec<std::path::PathBuf> = if queries.is_dir() {
        let mut f: Vec<_> = std::fs::read_dir(queries)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "rq"))
            .collect();
        f.sort();
        f
    } else {
        vec![queries.to_owned()]
    };
    let engine = SparqlEngine::new(crate::commands::store::open_existing(path)?);
    let mut report = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let query = SparqlEngine::parse_query(&text, None)?;
        let (ms, rows) = median_ms(runs, || {
            let mut sink = Vec::new();
            let (_, rows) = engine.query(&query, &QueryOptions::default(), |r| {
                write_results(
                    r,
                    SolutionsFormat::Standard(sparesults::QueryResultsFormat::Tsv),
                    oxrdfio::RdfFormat::NTriples,
                    &mut sink,
                    None,
                )
            })?;
            Ok(rows)
        })?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        report.push(json!({ "query": name, "median_ms": ms, "rows": rows }));
    }
    let mut paths = serde_json::Value::Null;
    if let Some((from, to)) = pair {
        // What `kale paths --json` does for the same question: search, then terms as strings.
        use kg_store::paths::{find_paths, PathQuery};
        let store = engine.store();
        let adjacency = kg_store::Adjacency::open(store)?;
        let reader = store.reader();
        let id = |iri: &str| -> Result<kg_store::TermId> {
            reader
                .term_id(oxrdf::NamedNodeRef::new(iri)?.into())?
                .ok_or_else(|| anyhow::anyhow!("{iri} is not in the store"))
        };
        let query = PathQuery::new(vec![id(&from)?], vec![id(&to)?])
            .max_hops(3)
            .max_paths(100);
        let (ms, hops) = median_ms(runs, || {
            let result = find_paths(&adjacency, &query);
            Ok(
                crate::commands::paths::result_json(&reader, &result)?["paths"]
                    .as_array()
                    .map_or(0, |p| {
                        p.iter()
                            .map(|p| p["hops"].as_array().map_or(0, Vec::len))
                            .sum::<usize>()
                    }),
            )
        })?;
        paths = json!({ "from": from, "to": to, "median_ms": ms, "hops": hops });
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "queries": report, "kale_paths": paths }))?
        );
    } else {
        for r in &report {
            println!(
                "{:<32} {:>10.3} ms {:>8} rows",
                r["query"].as_str().unwrap_or(""),
                r["median_ms"].as_f64().unwrap_or(0.0),
                r["rows"]
            );
        }
        if !paths.is_null() {
            println!(
                "{:<32} {:>10.3} ms {:>8} hops",
                "kale paths (same question)",
                paths["median_ms"].as_f64().unwrap_or(0.0),
                paths["hops"]
            );
        }
    }
    Ok(())
}
