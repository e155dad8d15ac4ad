//! The label index for entity linking: `[LABELS][lang][0][normalised label][0][entity]` -> the
//! number of label triples behind the entry.
//!
//! Built from the label predicates (`rdfs:label`, `skos:prefLabel`, `skos:altLabel`,
//! `schema:name`, which are also Wikidata's) after every bulk load and by `kale index`; live
//! writes keep it up to date in their own batch (`entry::LabelHook`). Like the adjacency, an
//! index older than the last bulk load is stale, and says so.

mod entry;

pub(crate) use entry::LabelHook;
pub use entry::{
    language_prefix, normalize_label, LABEL_PREDICATES, RDFS_LABEL, SCHEMA_NAME, SKOS_ALT_LABEL,
    SKOS_PREF_LABEL,
};

use crate::backend::{self, Batch};
use crate::error::{Index, Result, StoreError};
use crate::id::{read_varint, TermId};
use crate::keys::{id_to_term_key, ID_TO_TERM, LABELS};
use crate::progress::{Progress, Unit};
use crate::reader::{GraphFilter, StoreReader};
use crate::store::Store;
use entry::{label_literal_key, LABELS_SEQ_KEY};
use oxrdf::NamedNodeRef;

/// The memory a label build sorts its entries in when no limit is given (`kale index`).
pub const DEFAULT_BUILD_MEMORY: usize = 256 << 20;

/// What an entry costs in a [`Run`] beside its key bytes: its span.
const SPAN_BYTES: usize = size_of::<(usize, usize)>();

/// Entry keys gathered for one SST file: the bytes end to end, and where each key lies.
#[derive(Default)]
struct Run {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Run {
    fn push(&mut self, key: &[u8]) {
        self.spans.push((self.bytes.len(), key.len()));
        self.bytes.extend_from_slice(key);
    }

    /// Sorts the keys and writes each once, with the number of times it came, to `path`
    /// (first deleting the index the store holds, when `clear_old`); empties the run.
    fn write(
        &mut self,
        options: &backend::SstOptions,
        path: &std::path::Path,
        clear_old: bool,
    ) -> Result<std::path::PathBuf> {
        use rayon::slice::ParallelSliceMut;
        let bytes = &self.bytes;
        let key = |&(at, len): &(usize, usize)| &bytes[at..at + len];
        self.spans.par_sort_unstable_by(|a, b| key(a).cmp(key(b)));
        let mut file = options.create(path)?;
        if clear_old {
            file.delete_range(&[LABELS], &[LABELS + 1])?;
        }
        let mut i = 0;
        while i < self.spans.len() {
            let current = key(&self.spans[i]);
            let mut count = 1;
            while i + count < self.spans.len() && key(&self.spans[i + count]) == current {
                count += 1;
            }
            file.add(current, count as i64)?;
            i += count;
        }
        self.bytes.clear();
        self.spans.clear();
        file.finish()
    }
}

/// One entry of the index as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelEntry {
    pub normalized: String,
    pub entity: TermId,
}

/// The label index as one reader sees it, checked fresh when opened.
///
/// ```
/// use kg_store::{label_index::LabelIndex, BulkLoader, LoadInput, Store};
///
/// let dir = tempfile::tempdir()?;
/// let data = dir.path().join("labels.nt");
/// std::fs::write(&data, "<http://e/sun> <http://www.w3.org/2000/01/rdf-schema#label> \"The Sun!\"@en .\n")?;
/// let store = Store::open(dir.path().join("store"))?;
/// BulkLoader::new(&store).load(&[LoadInput::new(&data)])?; // builds the index too
/// let reader = store.reader();
/// let index = LabelIndex::open(&reader)?;
/// let sun = index.entities_labelled("en", "the sun")?;
/// assert_eq!(reader.term(sun[0])?.to_string(), "<http://e/sun>");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub struct LabelIndex<'r> {
    reader: &'r StoreReader,
}

impl<'r> LabelIndex<'r> {
    /// Rebuilds the label index from the label triples, holding off other writers meanwhile.
    /// Returns the number of entries.
    ///
    /// The entries are sorted aside in runs of at most `memory` bytes and written as SST files that
    /// RocksDB ingests, as a bulk load's tables are: an index written through the memtable came
    /// out of it in random key order, and at 100M triples RocksDB merged its level-0 files into
    /// the level below again and again, rewriting the growing index each time; merging them
    /// down at the end pulled in every table a concurrent write had stretched a level-0 file
    /// over (at 10M, 24 s rewriting the whole store). An ingested file lands in the lowest
    /// level its keys do not overlap, so a fresh store's index goes to the last level whole.
    /// Entries are count changes, so runs that hold the same entry add up.
    pub fn build(store: &Store, memory: usize, progress: &dyn Progress) -> Result<u64> {
        let writer = store.write_lock()?;
        let reader = store.reader();
        let write_seq = reader.counters()?.write_seq;
        let scratch = store.scratch()?;
        // The old index goes with the first file (a range deletion under the same ingestion);
        // an empty one needs none, and then nothing overlaps the new files.
        let mut clear_old = reader.scan_prefix(&[LABELS]).next().is_some();
        let options = backend::SstOptions::new();
        let mut files = Vec::new();
        let mut run = Run::default();
        let mut entries = 0u64;
        progress.begin("indexing labels", None, Unit::Items("labels"));
        for iri in LABEL_PREDICATES {
            let Some(p) = reader.term_id(NamedNodeRef::new_unchecked(iri).into())? else {
                continue;
            };
            // POS order: the objects (literals) come in id order, so the dictionary is walked
            // forwards alongside instead of read at random.
            let mut terms = reader.scan_prefix_values(&[ID_TO_TERM]).peekable();
            let mut wanted = Vec::new();
            for quad in reader.quads(None, Some(p), None, GraphFilter::All) {
                let quad = quad?;
                if !quad.object.is_literal() || quad.subject.is_literal() {
                    continue;
                }
                wanted.clear();
                wanted.extend_from_slice(&id_to_term_key(quad.object));
                let bytes = loop {
                    match terms.peek() {
                        Some(Ok((key, _))) if key[..] < wanted[..] => {
                            terms.next();
                        }
                        Some(Ok((key, value))) if key[..] == wanted[..] => break value.clone(),
                        Some(Err(_)) => {
                            return Err(terms.next().expect("peeked").expect_err("an error"))
                        }
                        _ => {
                            return Err(StoreError::Corruption(format!(
                                "no term {:?}",
                                quad.object
                            )))
                        }
                    }
                };
                if let Some((lang, value)) = crate::term::literal_parts(&bytes) {
                    if let Some(key) = label_literal_key(lang, value, quad.subject) {
                        run.push(&key);
                        entries += 1;
                        if entries.is_multiple_of(100_000) {
                            progress.set_position(entries);
                        }
                    }
                }
                if run.bytes.len() + run.spans.len() * SPAN_BYTES >= memory {
                    let path = scratch.path.join(format!("labels-{}.sst", files.len()));
                    files.push(run.write(&options, &path, std::mem::take(&mut clear_old))?);
                }
            }
        }
        if !run.spans.is_empty() || clear_old {
            let path = scratch.path.join(format!("labels-{}.sst", files.len()));
            files.push(run.write(&options, &path, clear_old)?);
        }
        // One file at a time, in order: a later run's counts are added to an earlier's, and the
        // range deletion of the first never reaches them.
        for file in files {
            writer.ingest_index(vec![file])?;
        }
        let mut marker = Batch::default();
        marker.put(LABELS_SEQ_KEY, write_seq.to_be_bytes());
        writer.write(marker)?;
        progress.end();
        Ok(entries)
    }

    /// The index as `reader` sees it: an error that says what to run when it is missing or
    /// older than the last bulk load.
    pub fn open(reader: &'r StoreReader) -> Result<Self> {
        let seq = reader
            .get_raw(LABELS_SEQ_KEY)?
            .and_then(|v| v.as_slice().try_into().ok().map(u64::from_be_bytes));
        let loaded = reader.counters()?.adjacency_base;
        let store = reader.path().to_owned();
        match seq {
            Some(built) if built >= loaded => Ok(Self { reader }),
            Some(built) => Err(StoreError::StaleIndex {
                index: Index::Labels,
                store,
                built,
                loaded,
            }),
            None => Err(StoreError::MissingIndex {
                index: Index::Labels,
                store,
            }),
        }
    }

    /// Every label of one language (with `""`: labels without language), in key order.
    pub fn labels(&self, lang: &str) -> impl Iterator<Item = Result<LabelEntry>> + 'r {
        let prefix = language_prefix(lang);
        let skip = prefix.len();
        self.reader
            .scan_prefix_values(&prefix)
            .filter_map(move |item| {
                let (key, value) = match item {
                    Ok(kv) => kv,
                    Err(e) => return Some(Err(e)),
                };
                live(&value).then(|| label_entry_of(&key, skip))
            })
    }

    /// The entities with a normalised label, in one language.
    pub fn entities_labelled(&self, lang: &str, normalized: &str) -> Result<Vec<TermId>> {
        let mut prefix = language_prefix(lang);
        prefix.extend_from_slice(normalized.as_bytes());
        prefix.push(0);
        let skip = prefix.len();
        let mut ids = Vec::new();
        for item in self.reader.scan_prefix_values(&prefix) {
            let (key, value) = item?;
            if live(&value) {
                let (id, _) = read_varint(&key[skip..])
                    .ok_or_else(|| StoreError::Corruption(format!("bad label key {key:?}")))?;
                ids.push(TermId::from_u64(id));
            }
        }
        Ok(ids)
    }
}

/// Whether a label entry's value counts at least one label triple (counts can fall to 0).
fn live(value: &[u8]) -> bool {
    backend::count(value) > 0
}

fn label_entry_of(key: &[u8], skip: usize) -> Result<LabelEntry> {
    let rest = &key[skip..];
    let bad = || StoreError::Corruption(format!("bad label key {key:?}"));
    let split = memchr::memchr(0, rest).ok_or_else(bad)?;
    let normalized = std::str::from_utf8(&rest[..split])
        .map_err(|_| bad())?
        .to_owned();
    let (id, _) = read_varint(&rest[split + 1..]).ok_or_else(bad)?;
    Ok(LabelEntry {
        normalized,
        entity: TermId::from_u64(id),
    })
}
