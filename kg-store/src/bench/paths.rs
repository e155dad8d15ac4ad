//! `kale bench paths`: path queries between seeded pairs of entities, one at a time for the
//! latency percentiles, then as one parallel batch for the throughput.

use crate::adjacency::Adjacency;
use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::paths::{find_paths, find_paths_batch, PathQuery};
use crate::reader::StoreReader;
use crate::resolve::plain;
use rand::{Rng, SeedableRng};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// How the pairs are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PairSample {
    /// Any two entities with edges: mostly unconnected within a few hops.
    Random,
    /// The target ends a random walk of 1 to max-hops edges from the source: connected pairs.
    Walk,
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct PathBench {
    pub pairs: usize,
    pub max_hops: u32,
    pub seed: u64,
    pub forward_only: bool,
    /// Hub cap; 0: none.
    pub max_degree: u64,
    pub sample: PairSample,
}

/// What it measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PathReport {
    pub pairs: usize,
    pub max_hops: u32,
    pub both_directions: bool,
    pub max_degree: u64,
    pub sample: PairSample,
    pub pairs_per_sec: f64,
    pub threads: usize,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub paths_found: usize,
    pub mean_paths: f64,
    pub mean_expansions: f64,
    pub share_truncated: f64,
    pub entities: u64,
    pub edges: u64,
    /// The CSR file's size, and how much of it was mapped with huge pages after the queries.
    pub csr_bytes: u64,
    pub csr_huge_mapped_bytes: Option<u64>,
}

impl PathBench {
    /// The queries, drawn from `self.seed`: the same store and settings give the same pairs.
    pub fn queries(&self, adjacency: &Adjacency) -> Result<Vec<PathQuery>> {
        let connected: Vec<u32> = (0..adjacency.rows() as u32)
            .filter(|&v| adjacency.degree(v) > 0)
            .collect();
        if connected.len() < 2 {
            return Err(StoreError::InvalidInput(
                "the store has fewer than two connected entities".into(),
            ));
        }
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(self.seed);
        let queries = (0..self.pairs)
            .map(|_| {
                let a = connected[rng.random_range(0..connected.len())];
                let b = match self.sample {
                    PairSample::Walk => {
                        let steps = rng.random_range(1..=self.max_hops.max(1));
                        let mut at = a;
                        for _ in 0..steps {
                            let mut next: Vec<u32> =
                                adjacency.out_edges(at).map(|[n, _]| n).collect();
                            if !self.forward_only {
                                next.extend(adjacency.in_edges(at).map(|[n, _]| n));
                            }
                            if next.is_empty() {
                                break;
                            }
                            at = next[rng.random_range(0..next.len())];
                        }
                        at
                    }
                    PairSample::Random => connected[rng.random_range(0..connected.len())],
                };
                let mut q = PathQuery::new(
                    vec![TermId::entity(a.into())],
                    vec![TermId::entity(b.into())],
                )
                .max_hops(self.max_hops);
                q.both_directions = !self.forward_only;
                q.max_degree = (self.max_degree > 0).then_some(self.max_degree);
                q
            })
            .collect();
        Ok(queries)
    }

    /// Writes the pairs of `queries` as TSV (`FROM<TAB>TO` IRIs), for the side-by-side scripts.
    pub fn write_pairs(reader: &StoreReader, queries: &[PathQuery], file: &Path) -> Result<()> {
        let io = StoreError::io(file);
        let mut out = std::io::BufWriter::new(std::fs::File::create(file).map_err(io)?);
        for q in queries {
            let iri = |id: TermId| reader.term(id).map(|t| plain(&t));
            writeln!(out, "{}\t{}", iri(q.sources[0])?, iri(q.targets[0])?)
                .map_err(StoreError::io(file))?;
        }
        out.flush().map_err(StoreError::io(file))
    }

    /// Runs `queries`: one at a time on one thread (latency), then as a batch (throughput).
    pub fn run(&self, adjacency: &Adjacency, queries: &[PathQuery]) -> PathReport {
        let mut latencies = Vec::with_capacity(queries.len());
        let (mut found, mut truncated, mut expansions) = (0usize, 0usize, 0u64);
        for q in queries {
            let started = Instant::now();
            let result = find_paths(adjacency, q);
            latencies.push(started.elapsed().as_secs_f64() * 1e6);
            found += result.paths.len();
            expansions += result.expansions;
            truncated += usize::from(result.is_truncated());
        }
        latencies.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            latencies
                .get(((latencies.len().max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        let started = Instant::now();
        let results = find_paths_batch(adjacency, queries);
        let batch_seconds = started.elapsed().as_secs_f64();
        debug_assert_eq!(results.len(), queries.len());
        let n = queries.len().max(1) as f64;
        PathReport {
            pairs: queries.len(),
            max_hops: self.max_hops,
            both_directions: !self.forward_only,
            max_degree: self.max_degree,
            sample: self.sample,
            pairs_per_sec: queries.len() as f64 / batch_seconds,
            threads: rayon::current_num_threads(),
            p50_us: pct(0.50),
            p90_us: pct(0.90),
            p99_us: pct(0.99),
            max_us: pct(1.0),
            paths_found: found,
            mean_paths: found as f64 / n,
            mean_expansions: expansions as f64 / n,
            share_truncated: truncated as f64 / n,
            entities: adjacency.rows(),
            edges: adjacency.csr_edges(),
            csr_bytes: adjacency.file_bytes(),
            csr_huge_mapped_bytes: adjacency.huge_mapped_bytes(),
        }
    }
}

impl std::fmt::Display for PathReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let direction = if self.both_directions {
            "both directions"
        } else {
            "forward only"
        };
        writeln!(
            f,
            "pairs            {} ({} hops, {direction})",
            self.pairs, self.max_hops
        )?;
        writeln!(
            f,
            "throughput       {:.0} pairs/s on {} threads",
            self.pairs_per_sec, self.threads
        )?;
        writeln!(
            f,
            "latency          p50 {:.1} us, p90 {:.1} us, p99 {:.1} us, max {:.1} us",
            self.p50_us, self.p90_us, self.p99_us, self.max_us
        )?;
        writeln!(
            f,
            "paths found      {} ({:.2} per pair)",
            self.paths_found, self.mean_paths
        )?;
        writeln!(
            f,
            "truncated        {:.2}% of pairs",
            100.0 * self.share_truncated
        )?;
        let mb = |b: u64| b as f64 / 1e6;
        write!(f, "adjacency        {:.1} MB mapped", mb(self.csr_bytes))?;
        match self.csr_huge_mapped_bytes {
            Some(huge) => write!(f, ", {:.1} MB of it in huge pages", mb(huge)),
            None => Ok(()),
        }
    }
}
