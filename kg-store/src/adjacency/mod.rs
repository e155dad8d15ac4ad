//! The adjacency of the entity graph: a CSR file mapped from disk plus the delta of live writes.
//!
//! Consistency protocol:
//! - A CSR file reflects the store at one commit (`write_seq` in its header). Live writes after
//!   it record their edge flips in the delta, in the same batch as the triples.
//! - A build (after a bulk load, by `kale index` or `kale compact`) writes a new file, renames
//!   it over the old one, then in one batch records its commit under `CSR_SEQ_KEY` and deletes
//!   the delta records it folded in. Readers holding the old mapping keep working.
//! - Opening reads `CSR_SEQ_KEY` and the delta from one snapshot and checks that the file on disk
//!   is the one that key names (else a build just replaced it: open again).
//! - A bulk load's edges are not in the delta; it sets the counters' `adjacency_base`, and an
//!   adjacency older than that is stale: an error that says to run `kale index`.

mod build;
mod csr;
mod delta;

pub use build::BuildSummary;
pub use delta::DeltaEdge;
pub(crate) use delta::DeltaHook;

use crate::backend::{Batch, KeyValue};
use crate::error::{Index, Result, StoreError};
use crate::keys::{prefix_end, DELTA, META};
use crate::progress::Progress;
use crate::reader::StoreReader;
use crate::store::Store;
use csr::Csr;
use delta::DeltaIndex;
use rustc_hash::FxHashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// The key of the commit the current CSR file reflects.
const CSR_SEQ_KEY: &[u8] = &[META, b'a'];
pub(crate) const DIR: &str = "adjacency";
pub(crate) const FILE: &str = "graph.csr";

fn csr_path(store: &Store) -> PathBuf {
    store.path().join(DIR).join(FILE)
}

fn read_csr_seq(reader: &StoreReader) -> Result<Option<u64>> {
    reader
        .get_raw(CSR_SEQ_KEY)?
        .map(|v| {
            v.as_slice()
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Corruption("bad adjacency sequence record".into()))
        })
        .transpose()
}

/// The entity graph for path search: CSR rows with the delta applied.
#[derive(Clone)]
pub struct Adjacency {
    csr: Arc<Csr>,
    delta: Arc<DeltaIndex>,
}

impl Adjacency {
    /// Builds the adjacency of the current state and folds the delta into it. Readers keep
    /// working meanwhile; live writes during the build land in the delta after it.
    pub fn build(store: &Store, progress: &dyn Progress) -> Result<BuildSummary> {
        store.check_writable()?;
        let reader = store.reader();
        let summary = build::build_csr(&reader, &csr_path(store), store.id(), progress)?;
        let mut batch = Batch::default();
        batch.put(CSR_SEQ_KEY, summary.write_seq.to_be_bytes());
        let mut end = vec![DELTA];
        end.extend_from_slice(&(summary.write_seq + 1).to_be_bytes());
        batch.delete_range(vec![DELTA], end);
        store.write_index_records(batch)?;
        Ok(summary)
    }

    /// How many delta records live writes have added since the CSR file was built (counted up to
    /// `at_most + 1`), or `None` when the adjacency is missing or older than the last bulk load,
    /// so that a load has to rebuild it. Reads no CSR data: the bulk loader asks this to decide
    /// whether a small load can go into the delta.
    pub(crate) fn delta_records(store: &Store, at_most: usize) -> Result<Option<usize>> {
        let reader = store.reader();
        let counters = reader.counters()?;
        match read_csr_seq(&reader)? {
            Some(seq) if seq >= counters.adjacency_base && csr_path(store).is_file() => {
                let mut records = 0;
                for key in reader.scan_prefix(&[DELTA]) {
                    key?;
                    records += 1;
                    if records > at_most {
                        break;
                    }
                }
                Ok(Some(records))
            }
            _ => Ok(None),
        }
    }

    /// Opens the adjacency of a store: an error if it is missing, stale, truncated or corrupted.
    pub fn open(store: &Store) -> Result<Self> {
        let path = csr_path(store);
        for _ in 0..5 {
            let reader = store.reader();
            let counters = reader.counters()?;
            let Some(seq) = read_csr_seq(&reader)? else {
                return Err(StoreError::MissingIndex {
                    index: Index::Adjacency,
                    store: store.path().to_owned(),
                });
            };
            let csr = Csr::open(&path, store.id())?;
            if csr.header.write_seq != seq {
                continue; // replaced by a build between our two reads
            }
            if seq < counters.adjacency_base {
                return Err(StoreError::StaleIndex {
                    index: Index::Adjacency,
                    store: store.path().to_owned(),
                    built: seq,
                    loaded: counters.adjacency_base,
                });
            }
            let mut delta = DeltaIndex {
                last_seq: seq,
                ..DeltaIndex::default()
            };
            let records = delta_records_after(&reader, delta.last_seq);
            apply_delta(&mut delta, records)?;
            return Ok(Self {
                csr: Arc::new(csr),
                delta: Arc::new(delta),
            });
        }
        Err(StoreError::Adjacency {
            path,
            reason: "it keeps being replaced while opening; is a build looping?".into(),
        })
    }

    /// Opens the adjacency, building it first when it is missing, stale or damaged and the
    /// store is writable.
    pub fn open_or_build(store: &Store, progress: &dyn Progress) -> Result<Self> {
        match Self::open(store) {
            Err(
                StoreError::Adjacency { .. }
                | StoreError::MissingIndex { .. }
                | StoreError::StaleIndex { .. },
            ) if store.check_writable().is_ok() => {
                Self::build(store, progress)?;
                Self::open(store)
            }
            other => other,
        }
    }

    /// Whether nothing has changed since this view was taken: no delta record written after it,
    /// no rebuilt file. A seek, not a scan, when nothing has.
    pub fn is_current(&self, store: &Store) -> Result<bool> {
        let reader = store.reader();
        Ok(read_csr_seq(&reader)? == Some(self.csr.header.write_seq)
            && delta_records_after(&reader, self.delta.last_seq).is_empty())
    }

    /// Catches up with writes committed since opening (and with a rebuilt file).
    pub fn refresh(&mut self, store: &Store) -> Result<()> {
        let reader = store.reader();
        if read_csr_seq(&reader)? != Some(self.csr.header.write_seq) {
            *self = Self::open(store)?;
            return Ok(());
        }
        // Most refreshes find nothing new: look before cloning the delta, which every
        // concurrent query would otherwise pay for.
        let records = delta_records_after(&reader, self.delta.last_seq);
        if records.is_empty() {
            return Ok(());
        }
        let mut delta = (*self.delta).clone();
        apply_delta(&mut delta, records)?;
        self.delta = Arc::new(delta);
        Ok(())
    }

    /// Rows: entity indexes below this may have edges.
    pub fn rows(&self) -> u64 {
        self.csr.header.rows
    }

    /// Edges in the CSR file (one direction).
    pub fn csr_edges(&self) -> u64 {
        self.csr.header.out_edges
    }

    pub fn file_bytes(&self) -> u64 {
        self.csr.bytes()
    }

    /// How much of the CSR file is mapped with huge pages now; `None` where the kernel does not
    /// say. See `adjacency/build.rs` for why it matters.
    pub fn huge_mapped_bytes(&self) -> Option<u64> {
        self.csr.huge_mapped_bytes()
    }

    /// Edge flips in the delta.
    pub fn delta_len(&self) -> usize {
        self.delta.removed.len() + self.delta.out_added.values().map(Vec::len).sum::<usize>()
    }

    /// `v`'s out-edges as `(object, predicate)`.
    #[inline]
    pub fn out_edges(&self, v: u32) -> Edges<'_> {
        self.edges(v, true)
    }

    /// `v`'s in-edges as `(subject, predicate)`.
    #[inline]
    pub fn in_edges(&self, v: u32) -> Edges<'_> {
        self.edges(v, false)
    }

    #[inline]
    fn edges(&self, v: u32, out: bool) -> Edges<'_> {
        let (row, added) = if out {
            (self.csr.out_row(v), self.delta.out_added.get(&v))
        } else {
            (self.csr.in_row(v), self.delta.in_added.get(&v))
        };
        Edges {
            row: row.iter(),
            added: added.map_or(&[][..], Vec::as_slice).iter(),
            removed: (!self.delta.removed.is_empty()).then_some(&self.delta.removed),
            v,
            out,
        }
    }

    /// How many edges each predicate (by entity index) labels: rarer predicates say more.
    pub fn predicate_counts(&self) -> rustc_hash::FxHashMap<u32, u64> {
        let mut counts = rustc_hash::FxHashMap::default();
        for v in 0..self.rows() as u32 {
            for [_, p] in self.out_edges(v) {
                *counts.entry(p).or_default() += 1;
            }
        }
        // Rows of entities newer than the file exist only in the delta.
        for (_, row) in self
            .delta
            .out_added
            .iter()
            .filter(|(v, _)| u64::from(**v) >= self.rows())
        {
            for [_, p] in row {
                *counts.entry(*p).or_default() += 1;
            }
        }
        counts
    }

    /// Edges out of `v` (CSR row plus the delta's additions; for cost estimates).
    #[inline]
    pub fn out_degree(&self, v: u32) -> u64 {
        let added = if self.delta.out_added.is_empty() {
            0
        } else {
            self.delta.out_added.get(&v).map_or(0, Vec::len)
        };
        (self.csr.out_row(v).len() + added) as u64
    }

    /// Edges into `v` (CSR row plus the delta's additions; for cost estimates).
    #[inline]
    pub fn in_degree(&self, v: u32) -> u64 {
        let added = if self.delta.in_added.is_empty() {
            0
        } else {
            self.delta.in_added.get(&v).map_or(0, Vec::len)
        };
        (self.csr.in_row(v).len() + added) as u64
    }

    /// Calls `found(predicate, a_is_subject)` for every edge between `a` and `b`, stored either
    /// way (`a -p-> b` with `true`, `b -p-> a` with `false`).
    ///
    /// A lookup, not a scan: rows are sorted by neighbour, so each direction is a binary search
    /// in the shorter of the two rows that hold it (the point of meeting a hub instead of
    /// walking it: its row may have millions of edges).
    pub fn edges_between(&self, a: u32, b: u32, mut found: impl FnMut(u32, bool)) {
        self.edges_from_to(a, b, |p| found(p, true));
        if a != b {
            self.edges_from_to(b, a, |p| found(p, false));
        }
    }

    /// The predicates of the edges `s -p-> o`.
    fn edges_from_to(&self, s: u32, o: u32, mut found: impl FnMut(u32)) {
        let out_row = self.csr.out_row(s);
        let in_row = self.csr.in_row(o);
        // Both rows list the same CSR edges; the shorter is searched.
        let (row, other) = if out_row.len() <= in_row.len() {
            (out_row, o)
        } else {
            (in_row, s)
        };
        let start = row.partition_point(|&[n, _]| n < other);
        for &[n, p] in &row[start..] {
            if n != other {
                break;
            }
            if self.delta.removed.is_empty() || !self.delta.removed.contains(&(s, p, o)) {
                found(p);
            }
        }
        if let Some(added) = self.delta.out_added.get(&s) {
            let start = added.partition_point(|&[n, _]| n < o);
            for &[n, p] in &added[start..] {
                if n != o {
                    break;
                }
                found(p);
            }
        }
    }

    /// A hint that `v`'s degree will be asked soon: its cache miss starts now (see
    /// [`Csr::prefetch_offsets`]). The delta is small and in the heap; only the file is hinted.
    #[inline]
    pub fn prefetch_degree(&self, v: u32) {
        self.csr.prefetch_offsets(v);
    }

    /// A hint that `v`'s edges will be walked soon (see [`Csr::prefetch_rows`]).
    #[inline]
    pub fn prefetch_edges(&self, v: u32) {
        self.csr.prefetch_rows(v);
    }

    /// Edges at `v`, both directions (parallel edges count once each).
    #[inline]
    pub fn degree(&self, v: u32) -> u64 {
        let base = self.csr.degree(v) as i64;
        let change = if self.delta.degree_change.is_empty() {
            0
        } else {
            self.delta.degree_change.get(&v).copied().unwrap_or(0)
        };
        (base + change).max(0) as u64
    }
}

/// The delta records written after `last_seq`, as stored.
fn delta_records_after(reader: &StoreReader, last_seq: u64) -> Vec<Result<KeyValue>> {
    let mut start = vec![DELTA];
    start.extend_from_slice(&(last_seq + 1).to_be_bytes());
    reader.scan_range(&start, &prefix_end(&[DELTA]).expect("DELTA < 255"))
}

/// Folds delta records (read by [`delta_records_after`]) into `delta`.
fn apply_delta(delta: &mut DeltaIndex, records: Vec<Result<KeyValue>>) -> Result<()> {
    let changed = !records.is_empty();
    for item in records {
        let (key, value) = item?;
        let (seq, edge) = DeltaEdge::parse(&key, &value)?;
        delta.apply(&edge)?;
        delta.last_seq = delta.last_seq.max(seq);
    }
    if changed {
        delta.sort_rows();
    }
    Ok(())
}

/// The edges of one row with the delta applied: `[neighbour, predicate]` pairs.
pub struct Edges<'a> {
    row: std::slice::Iter<'a, [u32; 2]>,
    added: std::slice::Iter<'a, [u32; 2]>,
    removed: Option<&'a FxHashSet<(u32, u32, u32)>>,
    v: u32,
    out: bool,
}

impl Iterator for Edges<'_> {
    type Item = [u32; 2];

    #[inline]
    fn next(&mut self) -> Option<[u32; 2]> {
        for &[n, p] in self.row.by_ref() {
            match self.removed {
                Some(removed) => {
                    let key = if self.out {
                        (self.v, p, n)
                    } else {
                        (n, p, self.v)
                    };
                    if !removed.contains(&key) {
                        return Some([n, p]);
                    }
                }
                None => return Some([n, p]),
            }
        }
        self.added.next().copied()
    }
}
