//! `kale bench load`: one file bulk-loaded into a fresh store, timed to the commit and to the
//! indexes, with peak memory and bytes on disk.

use crate::error::{Result, StoreError};
use crate::load::{BulkLoader, LoadInput};
use crate::memory::peak_resident_bytes;
use crate::progress::Progress;
use crate::store::Store;
use std::path::PathBuf;

/// What to load, and how.
#[derive(Clone, Debug)]
pub struct LoadBench {
    pub file: PathBuf,
    /// Where to build the store: a missing or empty directory (default: a temporary one,
    /// removed afterwards).
    pub store: Option<PathBuf>,
    pub threads: Option<usize>,
    pub memory_limit: Option<usize>,
}

/// What a load measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadReport {
    pub file: PathBuf,
    pub triples: u64,
    /// To the commit.
    pub seconds: f64,
    pub triples_per_sec: f64,
    pub peak_rss_bytes: u64,
    /// Term-map entries that went to the load's spill table (0: the map held every term).
    pub spilled_terms: u64,
    pub disk_bytes: u64,
    pub bytes_per_triple: f64,
    pub threads: usize,
    /// Building the adjacency and the label index after the commit.
    pub index_seconds: Option<f64>,
    /// Until queries can run: the commit, then the indexes.
    pub total_seconds: f64,
    pub total_triples_per_sec: f64,
    pub adjacency_bytes: Option<u64>,
    pub adjacency_bytes_per_edge: Option<f64>,
    /// The loader's own summary, as `kale load` prints it.
    #[serde(skip)]
    pub summary: String,
}

impl LoadBench {
    pub fn run(&self, progress: &dyn Progress) -> Result<LoadReport> {
        let temp;
        let path = match &self.store {
            Some(path) => {
                if path.exists()
                    && path
                        .read_dir()
                        .map_err(StoreError::io(path))?
                        .next()
                        .is_some()
                {
                    return Err(StoreError::InvalidInput(format!(
                        "{} is not empty: the benchmark loads into a fresh store",
                        path.display()
                    )));
                }
                path.clone()
            }
            None => {
                temp = tempfile::tempdir().map_err(StoreError::io(std::env::temp_dir()))?;
                temp.path().join("store")
            }
        };
        let store = Store::open(&path)?;
        let mut loader = BulkLoader::new(&store).progress(progress);
        if let Some(threads) = self.threads {
            loader = loader.threads(threads);
        }
        if let Some(limit) = self.memory_limit {
            loader = loader.memory_limit(limit);
        }
        let summary = loader.load(&[LoadInput::new(&self.file)])?;
        let stats = store.stats()?;
        let index_seconds = summary.adjacency.as_ref().map(|(_, t)| t.as_secs_f64());
        let total = summary.elapsed.as_secs_f64() + index_seconds.unwrap_or(0.0);
        Ok(LoadReport {
            file: self.file.clone(),
            triples: summary.triples_read,
            seconds: summary.elapsed.as_secs_f64(),
            triples_per_sec: summary.triples_per_second(),
            peak_rss_bytes: peak_resident_bytes(),
            spilled_terms: summary.spilled_terms,
            disk_bytes: stats.disk_bytes,
            bytes_per_triple: stats.disk_bytes as f64 / stats.triples.max(1) as f64,
            threads: self
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            index_seconds,
            total_seconds: total,
            total_triples_per_sec: summary.triples_read as f64 / total,
            adjacency_bytes: summary.adjacency.as_ref().map(|(a, _)| a.bytes),
            adjacency_bytes_per_edge: summary
                .adjacency
                .as_ref()
                .map(|(a, _)| a.bytes as f64 / a.edges.max(1) as f64),
            summary: summary.to_string(),
        })
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "triples/s        {:.0} to the commit, {:.0} with the indexes ({:.1}s)",
            self.triples_per_sec, self.total_triples_per_sec, self.total_seconds
        )?;
        writeln!(
            f,
            "peak memory      {:.0} MB, {} term-map entries spilled to disk",
            self.peak_rss_bytes as f64 / 1e6,
            self.spilled_terms
        )?;
        writeln!(
            f,
            "bytes on disk    {:.1} MB, {:.1} bytes per triple",
            self.disk_bytes as f64 / 1e6,
            self.bytes_per_triple
        )?;
        write!(f, "threads          {}", self.threads)
    }
}
