//! The persistent store: opening a directory, reading through consistent snapshots, and atomic
//! write batches. The bulk loader (`load/`) and the adjacency (`adjacency/`) build on it.

use crate::error::{Result, StoreError};
use crate::id::{read_varint, write_varint, TermId};
use crate::keys::{
    self, graph_key, id_to_term_key, pattern_prefix, prefix_end, term_to_id_key, term_to_id_prefix,
    EncodedQuad, QuadOrder,
};
use crate::meta::{new_store_id, Counters, COUNTERS_KEY, FORMAT, FORMAT_KEY, STORE_ID_KEY};
use crate::term::{
    decode_term, encode_graph_name, encode_named_or_blank, encode_term, is_literal_encoding,
    term_hash64,
};
use oxrdf::{GraphName, NamedOrBlankNode, Quad, QuadRef, Term, TermRef};
use rocksdb::{
    BlockBasedOptions, Cache, DBCompressionType, DBRawIteratorWithThreadMode, Direction,
    IteratorMode, Options, ReadOptions, SnapshotWithThreadMode, WriteBatch, DB,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// How a store was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    /// The one writer. RocksDB's lock file keeps a second writing process out.
    ReadWrite,
    /// A reader of the state at open time, beside a writer or not.
    ReadOnly,
    /// A reader that follows a writing process: [`Store::catch_up`] shows its newer commits.
    Secondary,
}

/// What the statistics of a store count.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    /// Quads stored (a triple in two graphs counts twice).
    pub triples: u64,
    /// IRIs and blank nodes in the dictionary (never shrinks: deleting a triple keeps its terms).
    pub entities: u64,
    /// Distinct predicates of the stored triples.
    pub predicates: u64,
    /// Literals in the dictionary (never shrinks, like `entities`).
    pub literals: u64,
    /// Named graphs the store knows (see [`StoreReader::named_graphs`]).
    pub named_graphs: u64,
    /// Everything under the store directory: RocksDB files and the adjacency.
    pub disk_bytes: u64,
}

/// What `kale stats` prints.
impl std::fmt::Display for StoreStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "triples       {}", self.triples)?;
        writeln!(f, "entities      {}", self.entities)?;
        writeln!(f, "predicates    {}", self.predicates)?;
        writeln!(f, "literals      {}", self.literals)?;
        writeln!(f, "named graphs  {}", self.named_graphs)?;
        write!(
            f,
            "disk          {:.1} MB ({:.1} bytes per triple)",
            self.disk_bytes as f64 / 1e6,
            self.disk_bytes as f64 / self.triples.max(1) as f64
        )
    }
}

/// What one atomic write changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    pub inserted: u64,
    pub removed: u64,
}

/// One atomic write: quads to remove, then quads to add, then named graphs to drop (their quads
/// must be among the removals) and to create (empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub remove: Vec<Quad>,
    pub insert: Vec<Quad>,
    pub drop_graphs: Vec<NamedOrBlankNode>,
    pub create_graphs: Vec<NamedOrBlankNode>,
}

/// Which graphs a pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFilter {
    /// Every graph, the default one included.
    All,
    /// The default graph only.
    Default,
    /// Every named graph, not the default one.
    AnyNamed,
    /// One named graph.
    Named(TermId),
}

impl GraphFilter {
    #[inline]
    pub fn matches(self, graph: Option<TermId>) -> bool {
        match self {
            Self::All => true,
            Self::Default => graph.is_none(),
            Self::AnyNamed => graph.is_some(),
            Self::Named(g) => graph == Some(g),
        }
    }
}

pub(crate) struct Inner {
    pub(crate) db: DB,
    pub(crate) path: PathBuf,
    pub(crate) mode: AccessMode,
    /// See [`Store::id`].
    id: u64,
    /// Serialises writers; holds the counters as of the last commit.
    writer: Mutex<Counters>,
    /// A secondary's catch-up takes it exclusively so no reader sees half of one.
    view: RwLock<()>,
}

/// A knowledge-graph store in a directory. Cheap to clone; all clones share one database.
///
/// ```
/// use kg_store::{Store, GraphFilter};
/// use oxrdf::{NamedNodeRef, QuadRef, GraphNameRef, LiteralRef};
///
/// let dir = tempfile::tempdir()?;
/// let store = Store::open(dir.path())?;
/// let sun = NamedNodeRef::new("http://example.com/Sun")?;
/// let label = NamedNodeRef::new("http://www.w3.org/2000/01/rdf-schema#label")?;
/// store.insert([QuadRef::new(sun, label, LiteralRef::new_language_tagged_literal_unchecked("Sun", "en"), GraphNameRef::DefaultGraph)])?;
///
/// let reader = store.reader();
/// let sun_id = reader.term_id(sun.into())?.unwrap();
/// let quads: Vec<_> = reader.quads(Some(sun_id), None, None, GraphFilter::All).collect::<Result<_, _>>()?;
/// assert_eq!(quads.len(), 1);
/// assert_eq!(store.stats()?.triples, 1);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl Store {
    /// Opens the store in `path` for reading and writing, creating it if missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        fs::create_dir_all(path).map_err(StoreError::io(path))?;
        if path
            .read_dir()
            .map_err(StoreError::io(path))?
            .next()
            .is_some()
            && !path.join("CURRENT").exists()
        {
            return Err(StoreError::NotAStore {
                path: path.to_owned(),
                reason: "the directory is not empty and holds no RocksDB database".into(),
            });
        }
        let db = DB::open(&db_options(), path).map_err(|e| open_error(path, e))?;
        if db.get(FORMAT_KEY)?.is_none() {
            let mut batch = WriteBatch::default();
            batch.put(FORMAT_KEY, FORMAT);
            batch.put(COUNTERS_KEY, Counters::default().encode());
            db.write(batch)?;
        }
        // Stores made before identities existed get one at their first writable open.
        if db.get(STORE_ID_KEY)?.is_none() {
            db.put(STORE_ID_KEY, new_store_id().to_be_bytes())?;
        }
        let store = Self::from_db(db, path, AccessMode::ReadWrite)?;
        crate::load::remove_stale_scratch(path);
        Ok(store)
    }

    /// Opens an existing store for reading only: it sees the state at open time, and does not
    /// stop a writer from opening the same store.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        check_exists(path)?;
        let db =
            DB::open_for_read_only(&db_options(), path, false).map_err(|e| open_error(path, e))?;
        Self::from_db(db, path, AccessMode::ReadOnly)
    }

    /// Opens an existing store as a follower of its writer: [`Store::catch_up`] makes the
    /// writer's newer commits visible. `scratch` holds the follower's own small files.
    pub fn open_secondary(path: impl AsRef<Path>, scratch: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        check_exists(path)?;
        let mut options = db_options();
        // A secondary must keep every file open: the primary may delete ones it reads.
        options.set_max_open_files(-1);
        let db = DB::open_as_secondary(&options, path, scratch.as_ref())
            .map_err(|e| open_error(path, e))?;
        Self::from_db(db, path, AccessMode::Secondary)
    }

    fn from_db(db: DB, path: &Path, mode: AccessMode) -> Result<Self> {
        match db.get(FORMAT_KEY)? {
            Some(format) if format == FORMAT => {}
            Some(format) => {
                return Err(StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: format!(
                        "its format is {:?}, this version reads {:?}",
                        String::from_utf8_lossy(&format),
                        String::from_utf8_lossy(FORMAT)
                    ),
                })
            }
            None => {
                return Err(StoreError::NotAStore {
                    path: path.to_owned(),
                    reason: "it has no format marker".into(),
                })
            }
        }
        let counters = read_counters(&db)?;
        let id = match db.get(STORE_ID_KEY)? {
            Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into().map_err(|_| {
                StoreError::Corruption("the store identity record is not 8 bytes".into())
            })?),
            None => 0,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                path: path.to_owned(),
                mode,
                id,
                writer: Mutex::new(counters),
                view: RwLock::new(()),
            }),
        })
    }

    /// The store's identity (0 for a store made before identities existed, opened read-only).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub fn mode(&self) -> AccessMode {
        self.inner.mode
    }

    /// For a secondary: makes the writer's commits so far visible. Elsewhere it does nothing.
    pub fn catch_up(&self) -> Result<()> {
        if self.inner.mode == AccessMode::Secondary {
            let _view = self.inner.view.write().unwrap_or_else(|e| e.into_inner());
            self.inner.db.try_catch_up_with_primary()?;
            *self.inner.lock_writer() = read_counters(&self.inner.db)?;
        }
        Ok(())
    }

    /// A consistent view of the store as it is now; later writes stay invisible to it.
    pub fn reader(&self) -> StoreReader {
        StoreReader::new(Arc::clone(&self.inner))
    }

    pub fn stats(&self) -> Result<StoreStats> {
        let reader = self.reader();
        let counters = reader.counters()?;
        Ok(StoreStats {
            triples: counters.quads,
            entities: counters.next_entity,
            literals: counters.next_literal,
            predicates: reader.distinct_predicates()?,
            named_graphs: reader.named_graphs()?.len() as u64,
            disk_bytes: dir_size(&self.inner.path),
        })
    }

    /// Adds quads in one atomic write; quads already present are skipped.
    pub fn insert<'a>(
        &self,
        quads: impl IntoIterator<Item = impl Into<QuadRef<'a>>>,
    ) -> Result<ChangeSummary> {
        let quads: Vec<Quad> = quads.into_iter().map(|q| q.into().into_owned()).collect();
        self.apply(&[], &quads)
    }

    /// Removes quads in one atomic write; absent quads are skipped.
    pub fn remove<'a>(
        &self,
        quads: impl IntoIterator<Item = impl Into<QuadRef<'a>>>,
    ) -> Result<ChangeSummary> {
        let quads: Vec<Quad> = quads.into_iter().map(|q| q.into().into_owned()).collect();
        self.apply(&quads, &[])
    }

    /// Removes `removals` then adds `insertions`, all in one atomic write (SPARQL's
    /// DELETE/INSERT order). Edges it adds or removes go to the adjacency delta in the same write,
    /// so path queries see them at once.
    pub fn apply(&self, removals: &[Quad], insertions: &[Quad]) -> Result<ChangeSummary> {
        self.apply_changes(&Changes {
            remove: removals.to_vec(),
            insert: insertions.to_vec(),
            ..Changes::default()
        })
    }

    /// Applies [`Changes`] in one atomic write.
    pub fn apply_changes(&self, changes: &Changes) -> Result<ChangeSummary> {
        self.check_writable()?;
        let mut counters = self.inner.lock_writer();
        self.apply_locked(&mut counters, changes)
    }

    /// Computes changes from the current state and applies them, with every other writer held
    /// off in between: a read-modify-write (a SPARQL update) that no concurrent write can
    /// interleave with.
    pub fn update_with<E: From<StoreError>>(
        &self,
        compute: impl FnOnce(StoreReader) -> std::result::Result<Changes, E>,
    ) -> std::result::Result<ChangeSummary, E> {
        self.check_writable()?;
        let mut counters = self.inner.lock_writer();
        let changes = compute(self.reader())?;
        Ok(self.apply_locked(&mut counters, &changes)?)
    }

    fn apply_locked(&self, counters: &mut Counters, changes: &Changes) -> Result<ChangeSummary> {
        let mut tx = WriteTx::new(&self.inner.db, *counters);
        for quad in &changes.remove {
            tx.remove(quad.as_ref())?;
        }
        for quad in &changes.insert {
            tx.insert(quad.as_ref())?;
        }
        for graph in &changes.drop_graphs {
            tx.drop_graph(graph)?;
        }
        for graph in &changes.create_graphs {
            tx.create_graph(graph)?;
        }
        let (batch, next, summary) = tx.finish()?;
        if !batch.is_empty() {
            self.inner.db.write(batch)?;
            *counters = next;
        }
        Ok(summary)
    }

    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.inner.mode == AccessMode::ReadWrite {
            Ok(())
        } else {
            Err(StoreError::ReadOnly {
                path: self.inner.path.clone(),
            })
        }
    }

    /// Holds off every other writer of this handle's process (the bulk loader takes it).
    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, Counters> {
        self.inner.lock_writer()
    }

    pub(crate) fn db(&self) -> &DB {
        &self.inner.db
    }
}

impl Inner {
    fn lock_writer(&self) -> MutexGuard<'_, Counters> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn check_exists(path: &Path) -> Result<()> {
    if path.join("CURRENT").exists() {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            path: path.to_owned(),
        })
    }
}

fn open_error(path: &Path, e: rocksdb::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("lock") || text.contains("LOCK") {
        StoreError::InvalidInput(format!(
            "the store at {} is open for writing in another process ({text}); open it read-only, or stop the other process",
            path.display()
        ))
    } else {
        StoreError::Rocks(e)
    }
}

fn read_counters(db: &DB) -> Result<Counters> {
    match db.get(COUNTERS_KEY)? {
        Some(bytes) => Counters::decode(&bytes),
        None => Err(StoreError::Corruption(
            "the counters record is missing".into(),
        )),
    }
}

/// The RocksDB options of a store and of the SST files the loader writes.
///
/// zstd everywhere: the store is read far more than written, and zstd on sorted id keys is what
/// gets it near 20-odd bytes per triple. 16 KiB blocks compress better than the 4 KiB default.
/// No Bloom filters: triple reads are prefix scans they would not help, and term lookups are
/// few per query.
pub(crate) fn db_options() -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.set_compression_type(DBCompressionType::Zstd);
    options.set_bottommost_compression_type(DBCompressionType::Zstd);
    options.set_max_background_jobs(2);
    options.set_bytes_per_sync(1 << 20);
    options.set_target_file_size_base(64 << 20);
    // Label index entries are counts that writers add to without reading (label_index.rs).
    options.set_merge_operator_associative("kale-add-counts", crate::label_index::add_counts);
    let mut table = BlockBasedOptions::default();
    table.set_block_size(16 << 10);
    table.set_block_cache(&block_cache());
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    options.set_block_based_table_factory(&table);
    options
}

fn block_cache() -> Cache {
    Cache::new_lru_cache(256 << 20)
}

/// Sums the sizes of the files under `path` (the store's bytes on disk).
pub(crate) fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// A RocksDB snapshot that owns the database it belongs to, so readers can be passed around
/// and kept (an SPARQL query, a training epoch) without borrowing the [`Store`].
struct OwnedSnapshot {
    // Declared before `inner`: fields drop in order, and the snapshot must go before the DB.
    snapshot: SnapshotWithThreadMode<'static, DB>,
    _inner: Arc<Inner>,
}

// SAFETY: a RocksDB snapshot is an immutable handle that RocksDB allows any thread to use and
// release; the rust wrapper only lacks the marker traits because it holds a raw pointer.
unsafe impl Send for OwnedSnapshot {}
// SAFETY: as above; nothing in the snapshot is mutated through a shared reference.
unsafe impl Sync for OwnedSnapshot {}

/// A consistent read view of a store: every read through one reader sees the same state.
#[derive(Clone)]
pub struct StoreReader {
    inner: Arc<Inner>,
    /// `None` for read-only and secondary stores, whose state only changes under `view`.
    snapshot: Option<Arc<OwnedSnapshot>>,
}

impl StoreReader {
    fn new(inner: Arc<Inner>) -> Self {
        let snapshot = (inner.mode == AccessMode::ReadWrite).then(|| {
            let snapshot = inner.db.snapshot();
            // SAFETY: the snapshot borrows the DB inside `inner`; `OwnedSnapshot` keeps that
            // Arc alive and drops the snapshot first, so the borrow never dangles.
            let snapshot: SnapshotWithThreadMode<'static, DB> =
                unsafe { std::mem::transmute(snapshot) };
            Arc::new(OwnedSnapshot {
                snapshot,
                _inner: Arc::clone(&inner),
            })
        });
        Self { inner, snapshot }
    }

    fn read_options(&self) -> ReadOptions {
        let mut options = ReadOptions::default();
        if let Some(s) = &self.snapshot {
            options.set_snapshot(&s.snapshot);
        }
        options
    }

    fn view(&self) -> RwLockReadGuard<'_, ()> {
        self.inner.view.read().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let _view = self.view();
        Ok(self.inner.db.get_opt(key, &self.read_options())?)
    }

    /// The value under a raw key (for the crate's own tables).
    pub(crate) fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(key)
    }

    /// Keys and values under a prefix, in order.
    pub(crate) fn scan_prefix_values(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue>> + '_ {
        let mut options = self.read_options();
        if let Some(end) = prefix_end(prefix) {
            options.set_iterate_upper_bound(end);
        }
        self.inner
            .db
            .iterator_opt(IteratorMode::From(prefix, Direction::Forward), options)
            .map(|item| item.map_err(StoreError::from))
    }

    /// Keys and values in `[start, end)`, collected (for small tables such as the delta).
    pub(crate) fn scan_range(&self, start: &[u8], end: &[u8]) -> Vec<Result<KeyValue>> {
        let _view = self.view();
        let mut options = self.read_options();
        options.set_iterate_upper_bound(end.to_vec());
        self.inner
            .db
            .iterator_opt(IteratorMode::From(start, Direction::Forward), options)
            .map(|item| item.map_err(StoreError::from))
            .collect()
    }

    pub(crate) fn counters(&self) -> Result<Counters> {
        match self.get(COUNTERS_KEY)? {
            Some(bytes) => Counters::decode(&bytes),
            None => Err(StoreError::Corruption(
                "the counters record is missing".into(),
            )),
        }
    }

    /// The id of a term, if the store has ever held it.
    pub fn term_id(&self, term: TermRef<'_>) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_term(term, &mut buf);
        self.encoded_term_id(&buf)
    }

    /// The id of a subject or graph name.
    pub fn node_id(&self, node: &NamedOrBlankNode) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_named_or_blank(node.as_ref(), &mut buf);
        self.encoded_term_id(&buf)
    }

    /// The id of a term given in canonical form (see `term.rs`).
    pub(crate) fn encoded_term_id(&self, encoded: &[u8]) -> Result<Option<TermId>> {
        let prefix = term_to_id_prefix(term_hash64(encoded));
        let candidates: Vec<TermId> = self
            .scan_prefix(&prefix)
            .map(|key| {
                let key = key?;
                read_varint(&key[prefix.len()..])
                    .map(|(id, _)| TermId::from_u64(id))
                    .ok_or_else(|| StoreError::Corruption(format!("bad term-to-id key {key:?}")))
            })
            .collect::<Result<_>>()?;
        for id in candidates {
            if self.term_bytes(id)?.as_deref() == Some(encoded) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The canonical form of a term by id.
    pub(crate) fn term_bytes(&self, id: TermId) -> Result<Option<Vec<u8>>> {
        self.get(&id_to_term_key(id))
    }

    /// The term with this id.
    pub fn term(&self, id: TermId) -> Result<Term> {
        let bytes = self
            .term_bytes(id)?
            .ok_or_else(|| StoreError::Corruption(format!("no term has the id {id:?}")))?;
        decode_term(&bytes)
    }

    /// The quads that match a pattern, in the key order of the index that serves it.
    pub fn quads(
        &self,
        subject: Option<TermId>,
        predicate: Option<TermId>,
        object: Option<TermId>,
        graph: GraphFilter,
    ) -> QuadIter {
        let (order, prefix) = pattern_prefix(subject, predicate, object);
        QuadIter {
            keys: self.scan_prefix(&prefix),
            order,
            graph,
        }
    }

    /// The first object of `predicate`, in id order, at or after `from` (`None` past the last):
    /// a seek, so random starting points sample the predicate's objects at no scan's cost.
    pub fn object_of_predicate_from(
        &self,
        predicate: TermId,
        from: TermId,
    ) -> Result<Option<TermId>> {
        let (order, prefix) = pattern_prefix(None, Some(predicate), None);
        let (_, start) = pattern_prefix(None, Some(predicate), Some(from));
        let _view = self.view();
        let mut keys = self.scan_prefix(&prefix);
        keys.seek(&start);
        let Some(key) = keys.peek() else {
            return Ok(None);
        };
        let quad = order
            .read_key(key)
            .ok_or_else(|| StoreError::Corruption(format!("bad POS key {key:?}")))?;
        Ok(Some(quad.object))
    }

    /// Whether this exact quad is stored.
    pub fn contains(&self, quad: &EncodedQuad) -> Result<bool> {
        let mut key = Vec::new();
        QuadOrder::Spo.write_key(quad, &mut key);
        Ok(self.get(&key)?.is_some())
    }

    /// Named graphs the store knows: a graph exists from its first quad until it is dropped
    /// (SPARQL `DROP GRAPH`), as in oxigraph; removing its last quad leaves it, empty.
    pub fn named_graphs(&self) -> Result<Vec<TermId>> {
        let mut graphs = Vec::new();
        for key in self.scan_prefix(&[keys::GRAPHS]) {
            let key = key?;
            let (g, _) = read_varint(&key[1..])
                .ok_or_else(|| StoreError::Corruption(format!("bad graph key {key:?}")))?;
            graphs.push(TermId::from_u64(g));
        }
        Ok(graphs)
    }

    /// The distinct predicates in use, counted by skipping from one to the next in POS order.
    pub fn distinct_predicates(&self) -> Result<u64> {
        let _view = self.view();
        let mut options = self.read_options();
        options.set_iterate_upper_bound(vec![keys::POS + 1]);
        let mut iter = self.inner.db.raw_iterator_opt(options);
        iter.seek([keys::POS]);
        let mut count = 0;
        while let Some(key) = iter.key() {
            let (p, _) = read_varint(&key[1..])
                .ok_or_else(|| StoreError::Corruption(format!("bad POS key {key:?}")))?;
            count += 1;
            let mut prefix = vec![keys::POS];
            write_varint(&mut prefix, p);
            match prefix_end(&prefix) {
                Some(next) => iter.seek(next),
                None => break,
            }
        }
        iter.status()?;
        Ok(count)
    }

    /// Keys that start with `prefix`, in order.
    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> KeyIter {
        let mut options = self.read_options();
        if let Some(end) = prefix_end(prefix) {
            options.set_iterate_upper_bound(end);
        }
        // Long scans should not evict the hot part of the block cache.
        options.fill_cache(prefix.len() > 2);
        let iter = self.inner.db.raw_iterator_opt(options);
        // SAFETY: the iterator borrows the DB inside `inner`, which the KeyIter keeps alive
        // (and drops after the iterator: field order).
        let iter: DBRawIteratorWithThreadMode<'static, DB> = unsafe { std::mem::transmute(iter) };
        KeyIter {
            iter,
            prefix: prefix.to_vec(),
            started: false,
            _snapshot: self.snapshot.clone(),
            _inner: Arc::clone(&self.inner),
        }
    }
}

/// A key and its value, as RocksDB returns them.
pub(crate) type KeyValue = (Box<[u8]>, Box<[u8]>);

/// Keys under a prefix, owning what they read from.
pub(crate) struct KeyIter {
    iter: DBRawIteratorWithThreadMode<'static, DB>,
    prefix: Vec<u8>,
    started: bool,
    _snapshot: Option<Arc<OwnedSnapshot>>,
    _inner: Arc<Inner>,
}

impl KeyIter {
    /// Positions the scan at the first key at or after `key` (within the prefix).
    pub(crate) fn seek(&mut self, key: &[u8]) {
        self.started = true;
        self.iter.seek(key);
    }

    /// The current key without advancing, after `seek` or `next`.
    pub(crate) fn peek(&mut self) -> Option<&[u8]> {
        if !self.started {
            self.started = true;
            self.iter.seek(&self.prefix);
        }
        self.iter.key()
    }
}

impl Iterator for KeyIter {
    type Item = Result<Box<[u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.started {
            self.iter.next();
        } else {
            self.started = true;
            self.iter.seek(&self.prefix);
        }
        match self.iter.key() {
            Some(key) => Some(Ok(key.into())),
            None => self.iter.status().err().map(|e| Err(e.into())),
        }
    }
}

/// The quads matching a pattern (see [`StoreReader::quads`]).
pub struct QuadIter {
    keys: KeyIter,
    order: QuadOrder,
    graph: GraphFilter,
}

impl Iterator for QuadIter {
    type Item = Result<EncodedQuad>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.next()? {
                Ok(key) => key,
                Err(e) => return Some(Err(e)),
            };
            let Some(quad) = self.order.read_key(&key) else {
                return Some(Err(StoreError::Corruption(format!("bad quad key {key:?}"))));
            };
            if self.graph.matches(quad.graph) {
                return Some(Ok(quad));
            }
        }
    }
}

/// One atomic write in the making: resolves terms (allocating ids for new ones), checks what
/// exists, and collects the keys, the counters and the adjacency delta into one batch.
pub(crate) struct WriteTx<'a> {
    db: &'a DB,
    batch: WriteBatch,
    counters: Counters,
    summary: ChangeSummary,
    /// Terms this write interned or looked up, by canonical form.
    terms: FxHashMap<Vec<u8>, TermId>,
    /// Quads whose presence this write changed: true = now present.
    touched: FxHashMap<EncodedQuad, bool>,
    /// Named graphs that gained a quad, or were created.
    new_graphs: FxHashSet<TermId>,
    /// Named graphs dropped.
    dropped_graphs: FxHashSet<TermId>,
    /// Net change of label index entries.
    labels: FxHashMap<Vec<u8>, i64>,
    key: Vec<u8>,
}

impl<'a> WriteTx<'a> {
    pub(crate) fn new(db: &'a DB, counters: Counters) -> Self {
        Self {
            db,
            batch: WriteBatch::default(),
            counters,
            summary: ChangeSummary::default(),
            terms: FxHashMap::default(),
            touched: FxHashMap::default(),
            new_graphs: FxHashSet::default(),
            dropped_graphs: FxHashSet::default(),
            labels: FxHashMap::default(),
            key: Vec::new(),
        }
    }

    fn lookup(&mut self, encoded: Vec<u8>, create: bool) -> Result<Option<TermId>> {
        if let Some(id) = self.terms.get(&encoded) {
            return Ok(Some(*id));
        }
        let prefix = term_to_id_prefix(term_hash64(&encoded));
        let mut found = None;
        for key in db_keys_with_prefix(self.db, &prefix) {
            let key = key?;
            let Some((id, _)) = read_varint(&key[prefix.len()..]) else {
                return Err(StoreError::Corruption(format!(
                    "bad term-to-id key {key:?}"
                )));
            };
            let id = TermId::from_u64(id);
            if self.db.get(id_to_term_key(id))?.as_deref() == Some(&encoded[..]) {
                found = Some(id);
                break;
            }
        }
        let id = match found {
            Some(id) => id,
            None if create => {
                let id = if is_literal_encoding(&encoded) {
                    self.counters.next_literal += 1;
                    TermId::literal(self.counters.next_literal - 1)
                } else {
                    self.counters.next_entity += 1;
                    TermId::entity(self.counters.next_entity - 1)
                };
                self.batch.put(id_to_term_key(id), &encoded);
                term_to_id_key(term_hash64(&encoded), id, &mut self.key);
                self.batch.put(&self.key, []);
                id
            }
            None => return Ok(None),
        };
        self.terms.insert(encoded, id);
        Ok(Some(id))
    }

    fn encode_quad(&mut self, quad: QuadRef<'_>, create: bool) -> Result<Option<EncodedQuad>> {
        let mut buf = Vec::new();
        encode_named_or_blank(quad.subject, &mut buf);
        let Some(subject) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        encode_term(quad.predicate.into(), &mut buf);
        let Some(predicate) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        encode_term(quad.object, &mut buf);
        let Some(object) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        let graph = if encode_graph_name(quad.graph_name, &mut buf) {
            match self.lookup(buf, create)? {
                Some(g) => Some(g),
                None => return Ok(None),
            }
        } else {
            None
        };
        Ok(Some(EncodedQuad {
            subject,
            predicate,
            object,
            graph,
        }))
    }

    fn present(&mut self, quad: &EncodedQuad) -> Result<bool> {
        if let Some(&present) = self.touched.get(quad) {
            return Ok(present);
        }
        QuadOrder::Spo.write_key(quad, &mut self.key);
        Ok(self.db.get_pinned(&self.key)?.is_some())
    }

    pub(crate) fn insert(&mut self, quad_ref: QuadRef<'_>) -> Result<()> {
        let Some(quad) = self.encode_quad(quad_ref, true)? else {
            unreachable!("insertion creates missing terms")
        };
        if !self.present(&quad)? {
            for order in QuadOrder::ALL {
                order.write_key(&quad, &mut self.key);
                self.batch.put(&self.key, []);
            }
            if let Some(g) = quad.graph {
                if !self.dropped_graphs.contains(&g) {
                    self.new_graphs.insert(g);
                }
            }
            self.touched.insert(quad, true);
            self.summary.inserted += 1;
            self.counters.quads += 1;
            self.count_label(quad_ref, quad.subject, 1);
        }
        Ok(())
    }

    /// Keeps the label index in step with a label triple added (+1) or removed (-1).
    fn count_label(&mut self, quad: QuadRef<'_>, subject: TermId, change: i64) {
        if crate::label_index::is_label_predicate(quad.predicate.as_str()) {
            if let Some((lang, normalized)) =
                crate::label_index::label_entry(&quad.object.into_owned())
            {
                *self
                    .labels
                    .entry(crate::label_index::label_key(&lang, &normalized, subject))
                    .or_default() += change;
            }
        }
    }

    pub(crate) fn remove(&mut self, quad_ref: QuadRef<'_>) -> Result<()> {
        let Some(quad) = self.encode_quad(quad_ref, false)? else {
            return Ok(()); // a term the store never saw: the quad cannot be there
        };
        if self.present(&quad)? {
            for order in QuadOrder::ALL {
                order.write_key(&quad, &mut self.key);
                self.batch.delete(&self.key);
            }
            self.touched.insert(quad, false);
            self.summary.removed += 1;
            self.counters.quads -= 1;
            self.count_label(quad_ref, quad.subject, -1);
        }
        Ok(())
    }

    fn graph_id(&mut self, graph: &NamedOrBlankNode, create: bool) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_named_or_blank(graph.as_ref(), &mut buf);
        self.lookup(buf, create)
    }

    pub(crate) fn drop_graph(&mut self, graph: &NamedOrBlankNode) -> Result<()> {
        if let Some(g) = self.graph_id(graph, false)? {
            self.new_graphs.remove(&g);
            self.dropped_graphs.insert(g);
        }
        Ok(())
    }

    pub(crate) fn create_graph(&mut self, graph: &NamedOrBlankNode) -> Result<()> {
        let g = self.graph_id(graph, true)?.expect("created");
        self.dropped_graphs.remove(&g);
        self.new_graphs.insert(g);
        Ok(())
    }

    /// Closes the write: the batch to commit (empty when nothing changes), the counters after
    /// it, what changed.
    pub(crate) fn finish(mut self) -> Result<(WriteBatch, Counters, ChangeSummary)> {
        for &g in &self.dropped_graphs {
            self.batch.delete(graph_key(g));
        }
        for &g in &self.new_graphs {
            self.batch.put(graph_key(g), []);
        }
        if self.summary == ChangeSummary::default() {
            if !self.batch.is_empty() {
                self.counters.write_seq += 1;
                self.batch.put(COUNTERS_KEY, self.counters.encode());
            }
            return Ok((self.batch, self.counters, self.summary));
        }
        self.counters.write_seq += 1;
        // The adjacency ignores graphs: an edge exists while any graph holds its triple. For each
        // entity-to-entity triple this write touched, compare before and after.
        let mut edges: FxHashMap<(TermId, TermId, TermId), bool> = FxHashMap::default();
        for (quad, present) in &self.touched {
            if quad.object.is_entity() {
                *edges
                    .entry((quad.subject, quad.predicate, quad.object))
                    .or_default() |= *present;
            }
        }
        let mut delta = Vec::new();
        for ((s, p, o), inserted) in edges {
            let (_, prefix) = pattern_prefix(Some(s), Some(p), Some(o));
            let (mut before, mut kept) = (false, false);
            for key in db_keys_with_prefix(self.db, &prefix) {
                let key = key?;
                let quad = QuadOrder::Spo
                    .read_key(&key)
                    .ok_or_else(|| StoreError::Corruption(format!("bad SPO key {key:?}")))?;
                before = true;
                if self.touched.get(&quad) != Some(&false) {
                    kept = true;
                    break;
                }
            }
            let after = kept || inserted;
            if before != after {
                delta.push((s, p, o, after));
            }
        }
        for (key, change) in std::mem::take(&mut self.labels) {
            if change != 0 {
                self.batch.merge(&key, change.to_le_bytes());
            }
        }
        delta.sort_unstable();
        for (n, (s, p, o, added)) in delta.into_iter().enumerate() {
            let edge = crate::adjacency::DeltaEdge {
                subject: s,
                predicate: p,
                object: o,
                added,
            };
            let (key, value) = edge.record(self.counters.write_seq, n as u32);
            self.batch.put(key, value);
        }
        self.batch.put(COUNTERS_KEY, self.counters.encode());
        Ok((self.batch, self.counters, self.summary))
    }
}

/// Keys of the live database (no snapshot) under `prefix`: for the writer, under its lock.
pub(crate) fn db_keys_with_prefix<'a>(
    db: &'a DB,
    prefix: &[u8],
) -> impl Iterator<Item = Result<Box<[u8]>>> + 'a {
    let mut options = ReadOptions::default();
    if let Some(end) = prefix_end(prefix) {
        options.set_iterate_upper_bound(end);
    }
    db.iterator_opt(IteratorMode::From(prefix, Direction::Forward), options)
        .map(|item| item.map(|(key, _)| key).map_err(StoreError::from))
}

/// Terms of the oxrdf API from our ids, for the crates above.
pub fn graph_name_of(reader: &StoreReader, graph: Option<TermId>) -> Result<GraphName> {
    Ok(match graph {
        None => GraphName::DefaultGraph,
        Some(g) => match reader.term(g)? {
            Term::NamedNode(n) => n.into(),
            Term::BlankNode(b) => b.into(),
            Term::Literal(l) => {
                return Err(StoreError::Corruption(format!(
                    "a literal {l} names a graph"
                )))
            }
        },
    })
}
