//! The bulk loader: RDF files in, one atomic commit out.
//!
//! 1. A reader thread decompresses and cuts the input; workers parse chunks in parallel.
//! 2. One sequential pass gives every term its id (`resolve.rs`) and turns quads into id tuples
//!    for an external sort in all three index orders (`quads.rs`, over `sorter.rs`'s run files),
//!    overlapped with the parsing of the next chunks.
//! 3. The sorted, deduplicated quads (minus those already stored) and the new dictionary entries
//!    are written into SST files, one key range per file (`sst.rs`).
//! 4. All files are ingested in one RocksDB call: the commit. Until then nothing of the load is
//!    visible; a crash before it leaves the store as it was (the scratch directory is removed at
//!    the next open), and RocksDB applies an ingestion entirely or not at all.
//!
//! Memory stays near the configured limit whatever the input size: the id map and the sorters
//! spill to disk, and the reader keeps a bounded number of chunks in flight.

mod input;
mod languages;
mod parse;
mod quads;
mod resolve;
mod size;
mod small;
mod sorter;
mod spill_filter;
mod sst;

pub use input::{Compression, InputFormat, LoadInput};
pub use languages::LanguageFilter;
pub use size::parse_size;

use crate::adjacency::Adjacency;
use crate::backend::KeyIter;
use crate::error::{Result, StoreError};
use crate::id::{write_varint, TermId};
use crate::keys::{self, graph_key, QuadOrder};
use crate::label_index::LabelIndex;
use crate::memory;
use crate::meta::{Counters, COUNTERS_KEY};
use crate::progress::{human_count, NoProgress, Progress, Unit};
use crate::reader::StoreReader;
use crate::store::Store;
use crate::writer::Changes;
use parse::{read_inputs, ParsedChunk, Work, DEFAULT_GRAPH};
use quads::{rotate, QuadSorter, SortedQuads};
use rayon::prelude::*;
use resolve::{SpoolReader, TermResolver};
use small::SmallLoad;
use sorter::{RunMerger, Sorter};
use sst::SstFiles;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many skipped lines a lenient load reports in full.
const REPORTED_SKIPS: usize = 10;

/// The most quads a load may read and still go in as one live write (see [`LoadSummary::in_place`]):
/// a live write of this many takes about a second, while rebuilding the indexes of a 100M-triple
/// store takes minutes.
pub const SMALL_LOAD_QUADS: u64 = 100_000;

/// The most adjacency delta records small loads may leave; past it a load rebuilds the adjacency
/// (folding the delta in), since every reader that opens the adjacency reads the whole delta.
pub const MAX_DELTA_RECORDS: usize = 1_000_000;

/// A bad line a lenient load skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

/// What a load did.
#[derive(Clone, Debug, Default)]
pub struct LoadSummary {
    pub files: usize,
    /// Bytes read from disk (compressed size for compressed files).
    pub bytes_read: u64,
    /// Statements parsed.
    pub triples_read: u64,
    /// Quads the store did not have before.
    pub new: u64,
    /// Quads read that were in the store already or earlier in the input.
    pub duplicates: u64,
    /// Bad lines skipped (lenient mode).
    pub skipped: u64,
    /// Labels, names and descriptions skipped for their language (`--languages`).
    pub other_languages: u64,
    /// The first few skipped lines.
    pub first_skipped: Vec<SkippedLine>,
    /// Terms the dictionary gained.
    pub new_terms: u64,
    /// Term-map entries that outgrew the map's memory and went to its spill table on disk,
    /// where every later lookup of them is a read: 0 when the map held every term.
    pub spilled_terms: u64,
    /// Parsing to commit, the adjacency build excluded.
    pub elapsed: Duration,
    /// The adjacency built after the commit, and how long it and the label index took.
    pub adjacency: Option<(crate::BuildSummary, Duration)>,
    /// The load was small and the store's indexes current, so it went in as one live write: the
    /// adjacency delta and the label index took its triples in the same atomic write and nothing
    /// was rebuilt.
    pub in_place: bool,
}

impl LoadSummary {
    pub fn triples_per_second(&self) -> f64 {
        self.triples_read as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What the command line prints after a load: the counts, the adjacency, the first skipped lines.
impl std::fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loaded {} file(s), {:.1} MB in {:.1}s: {} triples read ({}/s), {} new, {} duplicate, {} skipped, {} new terms",
            self.files,
            self.bytes_read as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.triples_read,
            human_count(self.triples_per_second()),
            self.new,
            self.duplicates,
            self.skipped,
            self.new_terms
        )?;
        if self.other_languages > 0 {
            write!(
                f,
                ", {} text triples in other languages left out",
                self.other_languages
            )?;
        }
        if self.spilled_terms > 0 {
            write!(
                f,
                ", {} term-map entries spilled to disk (a larger --memory-limit keeps them in memory)",
                self.spilled_terms
            )?;
        }
        if self.in_place {
            write!(
                f,
                "\nindexes updated in place (adjacency delta and label index, no rebuild)"
            )?;
        }
        if let Some((adj, took)) = &self.adjacency {
            write!(
                f,
                "\nadjacency: {} entities, {} edges, {:.1} MB, built in {:.1}s",
                adj.rows,
                adj.edges,
                adj.bytes as f64 / 1e6,
                took.as_secs_f64()
            )?;
        }
        for skip in &self.first_skipped {
            write!(
                f,
                "\n  skipped {}:{}: {}",
                skip.file.display(),
                skip.line,
                skip.message
            )?;
        }
        if self.skipped > self.first_skipped.len() as u64 {
            write!(
                f,
                "\n  ... and {} more skipped lines",
                self.skipped - self.first_skipped.len() as u64
            )?;
        }
        Ok(())
    }
}

/// Loads RDF files into a [`Store`].
///
/// ```
/// use kg_store::{Store, BulkLoader, LoadInput};
///
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("data.nt");
/// std::fs::write(&file, "<http://e/a> <http://e/knows> <http://e/b> .\n")?;
/// let store = Store::open(dir.path().join("store"))?;
/// let summary = BulkLoader::new(&store).load(&[LoadInput::new(&file)])?;
/// assert_eq!(summary.new, 1);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub struct BulkLoader<'a> {
    store: &'a Store,
    threads: usize,
    memory_limit: usize,
    lenient: bool,
    adjacency: bool,
    languages: Option<Arc<LanguageFilter>>,
    progress: &'a dyn Progress,
}

/// The default memory limit: a few GB, as the issue asks; loads of tens of millions of triples
/// stay far below it.
pub const DEFAULT_MEMORY_LIMIT: usize = 4 << 30;

/// The least a load spends on its tables, whatever the limit leaves: below it the term map's
/// generations would be too small to hold one chunk's terms.
pub const MIN_MEMORY: usize = 32 << 20;

impl<'a> BulkLoader<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self {
            store,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            lenient: false,
            adjacency: true,
            languages: None,
            progress: &NoProgress,
        }
    }

    /// Keep labels, names and descriptions in these languages only (default: all).
    pub fn languages(mut self, filter: Option<LanguageFilter>) -> Self {
        self.languages = filter.map(Arc::new);
        self
    }

    /// Whether to rebuild the adjacency and the label index after the commit (default: yes).
    /// Without it, path search and entity linking report them stale until `kale index` runs.
    pub fn build_adjacency(mut self, build: bool) -> Self {
        self.adjacency = build;
        self
    }

    /// Worker threads for parsing and writing (default: every core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The memory the process may hold while it loads, in bytes: what it held before and what
    /// its chunks in flight hold are taken from it, and the load spends at least [`MIN_MEMORY`]
    /// whatever is left.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Skip bad lines (counting them) instead of stopping at the first.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    pub fn progress(mut self, progress: &'a dyn Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Loads the files, in order, in one atomic commit.
    pub fn load(&self, inputs: &[LoadInput]) -> Result<LoadSummary> {
        self.store.check_writable()?;
        let started = Instant::now();
        let mut total_bytes = 0;
        let mut sized = true;
        for input in inputs {
            input.resolved_format()?;
            match input.size()? {
                Some(bytes) => total_bytes += bytes,
                None => sized = false,
            }
        }
        if inputs.iter().filter(|i| i.is_stdin()).count() > 1 {
            return Err(StoreError::InvalidInput(
                "standard input (-) can be read once per load".into(),
            ));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| StoreError::InvalidInput(format!("cannot start threads: {e}")))?;
        let mut writer = self.store.write_lock()?;
        let scratch = self.store.scratch()?;
        let mut summary = LoadSummary {
            files: inputs.len(),
            ..LoadSummary::default()
        };
        // The limit is the process's: what it held before the load (kale's binary, libtorch's
        // static state, about 125 MB) is not the load's to spend, nor what its chunks in flight
        // will hold.
        let in_flight = self.threads.max(2);
        let budget = Budget::new(
            self.memory_limit,
            memory::resident_bytes() as usize + in_flight_bytes(in_flight),
        );
        let committed = writer.committed();
        let nonempty = committed.next_entity + committed.next_literal > 0;
        let mut resolver = TermResolver::new(
            &scratch.path,
            nonempty.then(|| self.store.reader()),
            committed,
            budget.term_map,
            budget.term_sorter,
            budget.spill,
        )?;
        let mut spo = QuadSorter::new(&scratch.path, budget.quads);
        // Held back until the load is known to be small (then it is one live write) or is not
        // (then they go to the id map and the sorter like every later chunk).
        let mut small = self.small_load_room(nonempty)?.map(SmallLoad::new);

        self.progress
            .begin("reading", sized.then_some(total_bytes), Unit::Bytes);
        let bytes_read = Arc::new(AtomicU64::new(0));
        pool.install(|| {
            std::thread::scope(|scope| {
                let (tx, rx) = crossbeam_channel::bounded(in_flight);
                let counter = Arc::clone(&bytes_read);
                let languages = self.languages.as_ref();
                scope.spawn(move || read_inputs(inputs, &counter, &tx, languages));
                let mut pending: Option<Vec<ParsedChunk>> = None;
                loop {
                    let mut batch: Vec<Work> = rx.recv().into_iter().collect();
                    batch.extend(rx.try_iter().take(in_flight - 1));
                    let done = batch.is_empty();
                    let (parsed, absorbed) = rayon::join(
                        || {
                            batch
                                .into_par_iter()
                                .map(Work::parse)
                                .collect::<Result<Vec<_>>>()
                        },
                        || match pending.take() {
                            Some(chunks) => self.absorb(
                                chunks,
                                inputs,
                                &mut small,
                                &mut resolver,
                                &mut spo,
                                &mut summary,
                            ),
                            None => Ok(()),
                        },
                    );
                    absorbed?;
                    if done {
                        return Ok::<(), StoreError>(());
                    }
                    pending = Some(parsed?);
                    self.progress
                        .set_position(bytes_read.load(Ordering::Relaxed));
                    let rate = summary.triples_read as f64 / started.elapsed().as_secs_f64();
                    self.progress.note(&format!(
                        "{} triples, {}/s",
                        human_count(summary.triples_read as f64),
                        human_count(rate)
                    ));
                }
                // Leaving the scope drops `rx`: a reader still sending stops at its next send.
            })
        })?;
        self.progress.end();
        summary.bytes_read = bytes_read.load(Ordering::Relaxed);

        if let Some(small) = small {
            self.progress
                .begin("committing", None, Unit::Items("quads"));
            let changes = Changes {
                insert: small.quads()?,
                ..Changes::default()
            };
            let change = self.store.apply_locked(&mut writer, &changes)?;
            let next = writer.committed();
            self.progress.end();
            summary.new = change.inserted;
            summary.duplicates = summary.triples_read - change.inserted;
            summary.new_terms = (next.next_entity - committed.next_entity)
                + (next.next_literal - committed.next_literal);
            summary.in_place = true;
            summary.elapsed = started.elapsed();
            return Ok(summary);
        }

        let (files, next) = pool.install(|| {
            self.write_files(&scratch.path, resolver, spo, budget.term_map, &mut summary)
        })?;
        if summary.new > 0 {
            self.progress
                .begin("committing", None, Unit::Items("files"));
            writer.ingest(files, next)?;
            self.progress.end();
        }
        drop(writer);
        drop(scratch);
        summary.elapsed = started.elapsed();
        if self.adjacency {
            memory::release_free_memory();
            // The adjacency reads the quad indexes, the label index the label triples: build
            // them side by side.
            let started = Instant::now();
            let rebuild_adjacency = summary.new > 0 || Adjacency::open(self.store).is_err();
            let rebuild_labels = summary.new > 0 || LabelIndex::open(&self.store.reader()).is_err();
            let (adjacency, labels) = std::thread::scope(|scope| {
                let labels = scope.spawn(|| {
                    rebuild_labels
                        .then(|| LabelIndex::build(self.store, budget.labels, &NoProgress))
                        .transpose()
                });
                let adjacency = rebuild_adjacency
                    .then(|| Adjacency::build(self.store, self.progress))
                    .transpose();
                (
                    adjacency,
                    labels.join().expect("the label thread does not panic"),
                )
            });
            labels?;
            if let Some(built) = adjacency? {
                summary.adjacency = Some((built, started.elapsed()));
            }
        }
        Ok(summary)
    }

    /// How many quads this load may read and still be a live write (see
    /// [`LoadSummary::in_place`]): `None` when it must be a bulk load, because the store is
    /// empty, the indexes are not to be kept or are not current, or the delta is full.
    fn small_load_room(&self, nonempty: bool) -> Result<Option<u64>> {
        if !(self.adjacency && nonempty) || LabelIndex::open(&self.store.reader()).is_err() {
            return Ok(None);
        }
        let Some(records) = Adjacency::delta_records(self.store, MAX_DELTA_RECORDS)? else {
            return Ok(None);
        };
        let room = (MAX_DELTA_RECORDS.saturating_sub(records) as u64).min(SMALL_LOAD_QUADS);
        Ok((room > 0).then_some(room))
    }

    /// Takes parsed chunks, in input order, into the id map and the quad sorter, or holds them
    /// back while the load may still be small.
    fn absorb(
        &self,
        chunks: Vec<ParsedChunk>,
        inputs: &[LoadInput],
        small: &mut Option<SmallLoad>,
        resolver: &mut TermResolver,
        spo: &mut QuadSorter,
        summary: &mut LoadSummary,
    ) -> Result<()> {
        for chunk in chunks {
            self.count(&chunk, inputs, summary)?;
            if let Some(held) = small {
                if held.hold(chunk) {
                    continue;
                }
                // Too big to be a live write after all: a bulk load from here on.
                for chunk in small.take().expect("checked").chunks {
                    Self::resolve(chunk, resolver, spo)?;
                }
                continue;
            }
            Self::resolve(chunk, resolver, spo)?;
        }
        Ok(())
    }

    /// Reports a chunk's bad lines (the first one is the load's error unless lenient) and counts
    /// what it holds.
    fn count(
        &self,
        chunk: &ParsedChunk,
        inputs: &[LoadInput],
        summary: &mut LoadSummary,
    ) -> Result<()> {
        let file = &inputs[chunk.file].path;
        if let Some(first) = chunk.errors.first() {
            if !self.lenient {
                return Err(StoreError::Syntax {
                    file: file.clone(),
                    line: first.line,
                    message: first.message.clone(),
                });
            }
            summary.skipped += chunk.errors.len() as u64;
            for bad in &chunk.errors {
                if summary.first_skipped.len() >= REPORTED_SKIPS {
                    break;
                }
                summary.first_skipped.push(SkippedLine {
                    file: file.clone(),
                    line: bad.line,
                    message: bad.message.clone(),
                });
            }
        }
        summary.triples_read += chunk.quads.len() as u64;
        summary.other_languages += chunk.dropped;
        Ok(())
    }

    /// Gives a chunk's terms their ids and sends its quads to the sorter.
    fn resolve(
        chunk: ParsedChunk,
        resolver: &mut TermResolver,
        spo: &mut QuadSorter,
    ) -> Result<()> {
        let ids = resolver.resolve(&chunk.terms)?;
        for &[s, p, o, g] in &chunk.quads {
            let graph = if g == DEFAULT_GRAPH {
                0
            } else {
                ids[g as usize].as_u64() + 1
            };
            spo.push([
                ids[s as usize].as_u64(),
                ids[p as usize].as_u64(),
                ids[o as usize].as_u64(),
                graph,
            ])?;
        }
        Ok(())
    }

    /// Writes the SST files of the load; returns them and the counters after the commit.
    fn write_files(
        &self,
        scratch: &Path,
        resolver: TermResolver,
        spo: QuadSorter,
        merge_memory: usize,
        summary: &mut LoadSummary,
    ) -> Result<(Vec<PathBuf>, Counters)> {
        let sst_dir = scratch.join("sst");
        fs::create_dir_all(&sst_dir).map_err(StoreError::io(&sst_dir))?;
        let ssts = SstFiles::new(&sst_dir);
        summary.spilled_terms = resolver.spilled;
        let (entities, literals, term_to_id, mut next, first_new) = resolver.finish_spools()?;
        // The term map, its filter and the chunks are gone: what they held is the merges'.
        memory::release_free_memory();
        summary.new_terms = (next.next_entity - first_new.next_entity)
            + (next.next_literal - first_new.next_literal);
        let existing = (first_new.quads > 0).then(|| self.store.reader());

        self.progress.begin("sorting", None, Unit::Items("quads"));
        // The term map is gone by now: its share reads the quads' runs back.
        let sorted = spo.finish(merge_memory)?;
        self.progress.end();
        let (quads, dictionary) = rayon::join(
            || self.write_quads(&ssts, sorted, existing.as_ref()),
            || write_dictionary(&ssts, entities, literals, term_to_id),
        );
        let (mut files, new, graphs) = quads?;
        files.extend(dictionary?);
        summary.new = new;
        summary.duplicates = summary.triples_read - new;

        next.quads = first_new.quads + new;
        next.write_seq = first_new.write_seq + 1;
        // Edges of a bulk load are not in the delta: an adjacency built before now is stale.
        next.adjacency_base = next.write_seq;
        let mut meta = ssts.writer();
        meta.put(COUNTERS_KEY, &next.encode())?;
        files.extend(meta.finish()?.0);
        if !graphs.is_empty() {
            let mut writer = ssts.writer();
            for g in graphs {
                writer.put(&graph_key(g), &[])?;
            }
            files.extend(writer.finish()?.0);
        }
        Ok((files, next))
    }

    /// The three quad indexes of the new quads. Returns the files, the count of new quads and
    /// the named graphs they use.
    fn write_quads(
        &self,
        ssts: &SstFiles,
        sorted: SortedQuads,
        existing: Option<&StoreReader>,
    ) -> Result<(Vec<PathBuf>, u64, Vec<TermId>)> {
        match sorted {
            // The common case: everything fits in memory. One vector is filtered, written, and
            // permuted in place for the next order: no second copy.
            SortedQuads::InMemory(mut records) => {
                if let Some(reader) = existing {
                    let mut stored = StoredQuads::new(reader, QuadOrder::Spo);
                    let mut keep = Vec::with_capacity(records.len());
                    for r in &records {
                        keep.push(!stored.contains(r)?);
                    }
                    let mut flags = keep.into_iter();
                    records.retain(|_| flags.next().unwrap_or(false));
                }
                let new = records.len() as u64;
                let graphs = named_graphs(records.iter().copied());
                let mut files = Vec::new();
                for order in QuadOrder::ALL {
                    if order != QuadOrder::Spo {
                        records.par_iter_mut().for_each(|r| *r = rotate(*r));
                        records.par_sort_unstable();
                    }
                    self.progress.begin(
                        &format!("writing {order:?}"),
                        Some(new),
                        Unit::Items("quads"),
                    );
                    files.extend(write_sorted_parallel(ssts, order, &records, self.progress)?);
                    self.progress.end();
                }
                Ok((files, new, graphs))
            }
            // Larger than memory: each order's runs merged into its files, the three side by
            // side. Each merge drops the quads already stored on its own, from its own index:
            // every stored quad is in all three, so the three agree on what is new.
            SortedQuads::Merged {
                orders,
                upper_bound,
            } => {
                let [spo, pos, osp] = *orders;
                self.progress.begin(
                    "writing indexes",
                    Some(3 * upper_bound),
                    Unit::Items("quads"),
                );
                let merge =
                    |order, merger| write_merged(ssts, order, merger, existing, self.progress);
                let (spo, (pos, osp)) = rayon::join(
                    || merge(QuadOrder::Spo, spo),
                    || rayon::join(|| merge(QuadOrder::Pos, pos), || merge(QuadOrder::Osp, osp)),
                );
                self.progress.end();
                let (mut files, new, graphs) = spo?;
                for (order, (more, count, _)) in [(QuadOrder::Pos, pos?), (QuadOrder::Osp, osp?)] {
                    if count != new {
                        return Err(StoreError::Corruption(format!(
                            "the load's {order:?} merge found {count} new quads, SPO's {new}"
                        )));
                    }
                    files.extend(more);
                }
                Ok((files, new, graphs))
            }
        }
    }
}

/// The key of a record (positions already in `order`; graph 0 = default, else id + 1).
#[inline]
fn record_key(order: QuadOrder, record: &[u64; 4], key: &mut Vec<u8>) {
    key.clear();
    key.push(order.table());
    for v in &record[..3] {
        write_varint(key, *v);
    }
    if record[3] != 0 {
        write_varint(key, record[3] - 1);
    }
}

fn named_graphs(records: impl Iterator<Item = [u64; 4]>) -> Vec<TermId> {
    let mut graphs: Vec<TermId> = records
        .filter(|r| r[3] != 0)
        .map(|r| TermId::from_u64(r[3] - 1))
        .collect();
    graphs.sort_unstable();
    graphs.dedup();
    graphs
}

/// Writes sorted records of one order as several SST files in parallel (disjoint key ranges).
fn write_sorted_parallel(
    ssts: &SstFiles,
    order: QuadOrder,
    records: &[[u64; 4]],
    progress: &dyn Progress,
) -> Result<Vec<PathBuf>> {
    const PER_FILE: usize = 4 << 20;
    let parts = records
        .len()
        .div_ceil(PER_FILE)
        .max(rayon::current_num_threads());
    let per_part = records.len().div_ceil(parts).max(1);
    let files: Vec<Vec<PathBuf>> = records
        .par_chunks(per_part)
        .map(|part| {
            let mut writer = ssts.writer();
            let mut key = Vec::new();
            for (i, record) in part.iter().enumerate() {
                record_key(order, record, &mut key);
                writer.put(&key, &[])?;
                if i % 65_536 == 65_535 {
                    progress.advance(65_536);
                }
            }
            progress.advance((part.len() % 65_536) as u64);
            Ok(writer.finish()?.0)
        })
        .collect::<Result<_>>()?;
    Ok(files.into_iter().flatten().collect())
}

/// One order's merged records, minus those already stored, into SST files. Returns the files,
/// how many records were new, and (for SPO, whose records carry the graph in order) the named
/// graphs they use.
fn write_merged(
    ssts: &SstFiles,
    order: QuadOrder,
    merged: RunMerger<4>,
    existing: Option<&StoreReader>,
    progress: &dyn Progress,
) -> Result<(Vec<PathBuf>, u64, Vec<TermId>)> {
    let mut stored = existing.map(|r| StoredQuads::new(r, order));
    let mut writer = ssts.writer();
    let mut key = Vec::new();
    let mut new = 0;
    let mut graphs = Vec::new();
    let mut pending = 0;
    for record in merged {
        let record = record?;
        pending += 1;
        if pending == 65_536 {
            progress.advance(pending);
            pending = 0;
        }
        if let Some(stored) = &mut stored {
            if stored.contains(&record)? {
                continue;
            }
        }
        new += 1;
        if order == QuadOrder::Spo && record[3] != 0 {
            graphs.push(TermId::from_u64(record[3] - 1));
        }
        record_key(order, &record, &mut key);
        writer.put(&key, &[])?;
    }
    progress.advance(pending);
    graphs.sort_unstable();
    graphs.dedup();
    Ok((writer.finish()?.0, new, graphs))
}

/// The id-to-term and term-to-id entries of the new terms.
fn write_dictionary(
    ssts: &SstFiles,
    mut entities: SpoolReader,
    mut literals: SpoolReader,
    term_to_id: Sorter<2>,
) -> Result<Vec<PathBuf>> {
    // Entity and literal ids interleave (the low bit): merge the two id-ordered spools.
    let mut writer = ssts.writer();
    let (mut eb, mut lb) = (Vec::new(), Vec::new());
    let mut e = entities.next_into(&mut eb)?;
    let mut l = literals.next_into(&mut lb)?;
    let mut key = Vec::new();
    loop {
        let take_entity = match (e, l) {
            (Some(ei), Some(li)) => ei < li,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        key.clear();
        key.push(keys::ID_TO_TERM);
        if take_entity {
            write_varint(&mut key, e.expect("checked").as_u64());
            writer.put(&key, &eb)?;
            e = entities.next_into(&mut eb)?;
        } else {
            write_varint(&mut key, l.expect("checked").as_u64());
            writer.put(&key, &lb)?;
            l = literals.next_into(&mut lb)?;
        }
    }
    let mut files = writer.finish()?.0;
    let mut writer = ssts.writer();
    for record in term_to_id.finish()?.into_stream() {
        let [hash, id] = record?;
        keys::term_to_id_key(hash, TermId::from_u64(id), &mut key);
        writer.put(&key, &[])?;
    }
    files.extend(writer.finish()?.0);
    Ok(files)
}

/// Answers "is this record stored?" for records in increasing order, by walking one order's
/// index alongside them: a few steps forward, or a seek when the next match is further.
struct StoredQuads {
    keys: KeyIter,
    order: QuadOrder,
    key: Vec<u8>,
}

impl StoredQuads {
    fn new(reader: &StoreReader, order: QuadOrder) -> Self {
        Self {
            keys: reader.scan_prefix(&[order.table()]),
            order,
            key: Vec::new(),
        }
    }

    fn contains(&mut self, record: &[u64; 4]) -> Result<bool> {
        record_key(self.order, record, &mut self.key);
        for _ in 0..8 {
            match self.keys.peek() {
                None => return Ok(false),
                Some(k) if k >= &self.key[..] => return Ok(k == &self.key[..]),
                Some(_) => {
                    self.keys.next().transpose()?;
                }
            }
        }
        self.keys.seek(&self.key);
        Ok(self.keys.peek() == Some(&self.key[..]))
    }
}

/// The most the chunks in flight hold when `in_flight` of them may wait in the reader's channel:
/// as many again being parsed, as many parsed and waiting for the term map, each about
/// [`parse::CHUNK_BYTES`] raw or parsed, and the one the reader is filling. heaptrack found 21 MB
/// of raw chunks live at the peak of a 10M-triple load on 2 threads (seven chunks are 28 MB).
fn in_flight_bytes(in_flight: usize) -> usize {
    (3 * in_flight + 1) * parse::CHUNK_BYTES
}

/// How the memory limit is shared.
///
/// The term map gets the most: a term that has left it is a random read of its spill table for
/// every later chunk that uses it, while quads that outgrow their buffer are written and merged
/// as sequential runs. Under the default 4 GiB each of the map's two generations holds 29.4M
/// terms (2^25 buckets; a quarter of the limit gave 14.7M), so a 200M-triple world's 58.0M terms
/// stay in memory until late in its reading (terms met again refill the newer generation, which
/// then spills the older once), where before a fifth of that load's reading CPU went to the
/// spill table; the quads' 830 MB still sort a 10M-triple load without a run. The map's tables
/// come in powers of two, so its share has to clear a step with what the process held before
/// the load and its chunks in flight taken off: a half keeps 2^25 buckets under 4 GiB while
/// that is under 940 MB and 2^23 under 1 GiB while it is under 235 MB (kale holds 125 MB, two
/// threads' chunks 28 more; sixteen threads' 196 MB halve the map under 1 GiB), where two fifths
/// fell to half of both. The map uses a step, not its share: 1.68 of 2.09 GB under 4 GiB.
struct Budget {
    /// The term map's two generations while reading; after it, the quad merges' read buffers.
    term_map: usize,
    term_sorter: usize,
    quads: usize,
    /// The term map's spill table: its block cache and its memtables.
    spill: usize,
    /// The label index's build after the commit, beside the adjacency's (whose memory is a row
    /// and its write buffers): the runs it sorts.
    labels: usize,
}

impl Budget {
    /// Shares of what `limit` leaves beside the `held` bytes: what the process held before the
    /// load and what its chunks in flight hold (at least [`MIN_MEMORY`]). The rest covers a slice
    /// of the term map's older generation sorted on its way to the spill, the SST writers and the
    /// allocator's slack. Not in it: the store's block cache, which a load's scans do not fill.
    fn new(limit: usize, held: usize) -> Self {
        let limit = limit.saturating_sub(held).max(MIN_MEMORY);
        Self {
            term_map: limit / 2,
            term_sorter: limit / 16,
            quads: limit / 5,
            spill: limit * 3 / 64,
            labels: limit / 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The term map keeps its generations whatever kale's binary holds before a load (125 MB
    /// measured, 153 MB with two threads' chunks in flight, 200 MB allowed): 29.4M terms under
    /// the default limit, which a 200M-triple world's 58.0M terms fit in two of, and 7.3M under
    /// 1 GiB.
    #[test]
    fn what_the_process_holds_does_not_halve_the_term_map() {
        for held in [0, 125 << 20, (125 << 20) + in_flight_bytes(2), 200 << 20] {
            let generation = |limit| resolve::generation_size(Budget::new(limit, held).term_map);
            assert_eq!(
                generation(DEFAULT_MEMORY_LIMIT),
                (1 << 25) / 8 * 7,
                "held {held}"
            );
            assert_eq!(generation(1 << 30), (1 << 23) / 8 * 7, "held {held}");
        }
    }

    #[test]
    fn a_limit_below_what_is_held_still_leaves_the_least_budget() {
        let budget = Budget::new(100 << 20, 150 << 20);
        assert_eq!(budget.term_map, MIN_MEMORY / 2);
        assert!(budget.term_map + budget.term_sorter + budget.quads + budget.spill < MIN_MEMORY);
    }
}
