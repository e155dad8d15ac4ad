//! The storage backend: the one module that touches RocksDB (the database, its snapshots,
//! iterators, write batches, SST files, the bulk loader's spill table), memory maps and the
//! CPU's prefetch hint for them, and so holds every `unsafe` of the crate. Everything above
//! speaks keys and values through it.
//!
//! It knows nothing of triples or terms: keys are bytes, values are bytes or counts.

use crate::error::{Result, StoreError};
use crate::keys::prefix_end;
use memmap2::Mmap;
use rocksdb::{
    BlockBasedIndexType, BlockBasedOptions, Cache, CompactOptions, DBCompressionType,
    DBRawIteratorWithThreadMode, DataBlockIndexType, Direction, IngestExternalFileOptions,
    IteratorMode, Options, ReadOptions, SnapshotWithThreadMode, SstFileWriter, WriteBatch,
    WriteOptions, DB,
};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

/// How the database is opened.
#[derive(Clone, Copy, Debug)]
pub(crate) enum OpenAs<'a> {
    /// The one writer; created when missing.
    ReadWrite,
    /// A reader of the state at open time.
    ReadOnly,
    /// A follower of the writer; `scratch` holds its own small files.
    Secondary { scratch: &'a Path },
}

/// An open database.
pub(crate) struct Db {
    db: DB,
    /// Opened read-only: its state never changes.
    frozen: bool,
    /// A secondary's catch-up takes it exclusively, so no read sees half of one.
    view: RwLock<()>,
}

impl Db {
    pub(crate) fn open(path: &Path, how: OpenAs<'_>) -> Result<Arc<Self>> {
        let opened = match how {
            OpenAs::ReadWrite => DB::open(&db_options(), path),
            OpenAs::ReadOnly => DB::open_for_read_only(&db_options(), path, false),
            OpenAs::Secondary { scratch } => {
                let mut options = db_options();
                // A secondary must keep every file open: the primary may delete ones it reads.
                options.set_max_open_files(-1);
                DB::open_as_secondary(&options, path, scratch)
            }
        };
        let db = opened.map_err(|e| open_error(path, e))?;
        Ok(Arc::new(Self {
            db,
            frozen: matches!(how, OpenAs::ReadOnly),
            view: RwLock::new(()),
        }))
    }

    /// The value under `key` now (no snapshot): for opening and for the writer, under its lock.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?)
    }

    /// Whether `key` exists now (no snapshot, no copy of the value).
    pub(crate) fn contains(&self, key: &[u8]) -> Result<bool> {
        Ok(self.db.get_pinned(key)?.is_some())
    }

    /// Keys under `prefix` now (no snapshot): for the writer, under its lock.
    pub(crate) fn keys_with_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<Box<[u8]>>> + 'a {
        let mut options = ReadOptions::default();
        if let Some(end) = prefix_end(prefix) {
            options.set_iterate_upper_bound(end);
        }
        self.db
            .iterator_opt(IteratorMode::From(prefix, Direction::Forward), options)
            .map(|item| item.map(|(key, _)| key).map_err(StoreError::from))
    }

    /// Commits a batch atomically and durably.
    pub(crate) fn write(&self, batch: Batch) -> Result<()> {
        Ok(self.db.write(batch.0)?)
    }

    /// A consistent copy of the database in `out` (which must not exist): RocksDB's checkpoint,
    /// the memtables flushed and the table files hard-linked where `out` is on the same file
    /// system (copied where not).
    pub(crate) fn checkpoint(&self, out: &Path) -> Result<()> {
        let _view = self.hold_view();
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(out)?;
        Ok(())
    }

    pub(crate) fn flush(&self) -> Result<()> {
        Ok(self.db.flush()?)
    }

    /// Merges every table file overlapping `[start, end)` (`None`: the whole key space) down into
    /// the last level, so that a read there consults one sorted run instead of the files of each
    /// level: what oxigraph's `optimize()` does for its store. Blocks until done.
    pub(crate) fn compact(&self, start: Option<&[u8]>, end: Option<&[u8]>) {
        let mut options = CompactOptions::default();
        options.set_exclusive_manual_compaction(true);
        self.db.compact_range_opt(start, end, &options);
    }

    /// Moves SST files into the database in one atomic step (one column family: see `keys.rs`).
    pub(crate) fn ingest(&self, files: Vec<PathBuf>) -> Result<()> {
        let mut options = IngestExternalFileOptions::default();
        options.set_move_files(true);
        Ok(self.db.ingest_external_file_opts(&options, files)?)
    }

    /// For a secondary: replays the writer's newer commits, then runs `then` (which re-reads
    /// what the store caches) before any reader sees the new state.
    pub(crate) fn catch_up(&self, then: impl FnOnce() -> Result<()>) -> Result<()> {
        let _view = self.view.write().unwrap_or_else(|e| e.into_inner());
        self.db.try_catch_up_with_primary()?;
        then()
    }

    fn hold_view(&self) -> RwLockReadGuard<'_, ()> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }
}

fn open_error(path: &Path, e: rocksdb::Error) -> StoreError {
    let text = e.to_string();
    // RocksDB says "IO error: While lock file: .../LOCK: Resource temporarily unavailable"; a
    // corrupt block's "block checksum mismatch" also contains "lock", and is no lock at all.
    let locked = e.kind() == rocksdb::ErrorKind::IOError
        && (text.contains("While lock file") || text.contains("/LOCK"));
    if locked {
        StoreError::Locked {
            path: path.to_owned(),
            message: text,
        }
    } else {
        StoreError::Rocks(e)
    }
}

/// The RocksDB options of a store and of the SST files the loader writes.
///
/// zstd everywhere: the store is read far more than written, and zstd on sorted id keys is what
/// gets it near 20-odd bytes per triple. 16 KiB blocks compress better than the 4 KiB default.
/// No Bloom filters: triple reads are prefix scans they would not help, and term lookups are
/// few per query.
fn db_options() -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.set_compression_type(DBCompressionType::Zstd);
    options.set_bottommost_compression_type(DBCompressionType::Zstd);
    options.set_max_background_jobs(2);
    options.set_bytes_per_sync(1 << 20);
    options.set_target_file_size_base(64 << 20);
    // Counts (the label index's) are added to by writers that never read them: see `Batch::add`.
    options.set_merge_operator_associative("kale-add-counts", add_counts);
    let mut table = BlockBasedOptions::default();
    table.set_block_size(16 << 10);
    // Point lookups (a term by id, the counters, the markers) find their key in a data block by
    // a small hash table instead of a binary search of its restart points.
    table.set_data_block_index_type(DataBlockIndexType::BinaryAndHash);
    table.set_block_cache(&Cache::new_lru_cache(256 << 20));
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    options.set_block_based_table_factory(&table);
    options
}

/// The merge operator of counts: adds the operands (little-endian i64) to the value.
fn add_counts(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let total = existing.map_or(0, count) + operands.iter().map(count).sum::<i64>();
    Some(total.to_le_bytes().to_vec())
}

/// The count a value written by [`Batch::add`] holds (0 for anything else).
pub(crate) fn count(value: &[u8]) -> i64 {
    value.try_into().map(i64::from_le_bytes).unwrap_or(0)
}

/// Whether a scan of `prefix` in one of the crate's own tables is a lookup (one language's
/// labels of a word) rather than a long scan (a whole table). Quad scans decide by their pattern
/// instead (`StoreReader::quads`). Lookups fill the block cache and are worth pooling; long scans
/// would only evict its hot part, and fill it up to its 256 MB: the label index's build, after
/// every bulk load, reads the whole dictionary and every label predicate's quads.
pub(crate) fn is_lookup(prefix: &[u8]) -> bool {
    prefix.len() > 2
}

/// One atomic write in the making.
#[derive(Default)]
pub(crate) struct Batch(WriteBatch);

impl Batch {
    pub(crate) fn put(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0.put(key, value);
    }

    pub(crate) fn delete(&mut self, key: impl AsRef<[u8]>) {
        self.0.delete(key);
    }

    /// Deletes every key in `[from, to)`.
    pub(crate) fn delete_range<K: AsRef<[u8]>>(&mut self, from: K, to: K) {
        self.0.delete_range(from, to);
    }

    /// Adds `change` to the count under `key` without reading it (see [`count`]).
    pub(crate) fn add(&mut self, key: impl AsRef<[u8]>, change: i64) {
        self.0.merge(key, change.to_le_bytes());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A RocksDB snapshot that owns the database it belongs to, so views can be passed around and
/// kept (a SPARQL query, a training epoch) without borrowing the store.
struct OwnedSnapshot {
    // Declared before `_db`: fields drop in order, and the snapshot must go before the DB.
    snapshot: SnapshotWithThreadMode<'static, DB>,
    _db: Arc<Db>,
}

// Send and Sync come from the fields: rust-rocksdb marks `SnapshotWithThreadMode` both (a
// snapshot is an immutable handle any thread may use and release), so no `unsafe impl` here.

/// A key and its value, as RocksDB returns them.
pub(crate) type KeyValue = (Box<[u8]>, Box<[u8]>);

/// A consistent read view: every read through one view sees the same state.
#[derive(Clone)]
pub(crate) struct View {
    db: Arc<Db>,
    /// `None` for read-only and secondary databases, whose state only changes under `Db::view`.
    snapshot: Option<Arc<OwnedSnapshot>>,
    /// Iterators of finished short scans, kept for the next (see [`IterPool`]).
    pool: Option<Arc<IterPool>>,
}

/// Iterators a view's short scans hand back for the next to reuse: a SPARQL join looks a
/// pattern up once per row, and making a RocksDB iterator (a merging iterator over the files of
/// every level, its arena, the version pinned) costs more than the seek and the few keys read.
///
/// Only views whose state never changes under them pool: a snapshot's, or a read-only
/// database's. A secondary's catch-up would leave pooled iterators on the old state. Pooled
/// iterators have no upper bound (it cannot be changed once set), so [`KeyIter`] checks the
/// prefix itself.
struct IterPool {
    // Declared first: the iterators drop before the snapshot and database they read.
    idle: Mutex<Vec<DBRawIteratorWithThreadMode<'static, DB>>>,
    _snapshot: Option<Arc<OwnedSnapshot>>,
    _db: Arc<Db>,
}

/// How many idle iterators a view keeps: enough for the patterns of a deep join, few enough
/// that the blocks they pin stay small.
const POOL_SIZE: usize = 8;

impl IterPool {
    fn take(&self) -> Option<DBRawIteratorWithThreadMode<'static, DB>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn give_back(&self, iter: DBRawIteratorWithThreadMode<'static, DB>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(iter);
        }
    }
}

impl View {
    /// A view of `db` as it is now; with `snapshot`, later writes stay invisible to it.
    pub(crate) fn new(db: &Arc<Db>, snapshot: bool) -> Self {
        let snapshot = snapshot.then(|| {
            let snapshot = db.db.snapshot();
            // SAFETY: the snapshot borrows the DB inside the Arc; `OwnedSnapshot` keeps that Arc
            // alive and drops the snapshot first, so the borrow never dangles.
            let snapshot: SnapshotWithThreadMode<'static, DB> =
                unsafe { std::mem::transmute(snapshot) };
            Arc::new(OwnedSnapshot {
                snapshot,
                _db: Arc::clone(db),
            })
        });
        let pool = (snapshot.is_some() || db.frozen).then(|| {
            Arc::new(IterPool {
                idle: Mutex::new(Vec::new()),
                _snapshot: snapshot.clone(),
                _db: Arc::clone(db),
            })
        });
        Self {
            db: Arc::clone(db),
            snapshot,
            pool,
        }
    }

    fn read_options(&self) -> ReadOptions {
        let mut options = ReadOptions::default();
        if let Some(s) = &self.snapshot {
            options.set_snapshot(&s.snapshot);
        }
        options
    }

    /// Holds off a secondary's catch-up while a read of several steps runs.
    pub(crate) fn hold(&self) -> RwLockReadGuard<'_, ()> {
        self.db.hold_view()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let _view = self.hold();
        Ok(self.db.db.get_opt(key, &self.read_options())?)
    }

    /// Keys that start with `prefix`, in order, with seeks. A `lookup` (a few keys) fills the
    /// block cache and takes a pooled iterator; a long scan does neither (see [`is_lookup`]).
    pub(crate) fn scan_prefix(&self, prefix: &[u8], lookup: bool) -> KeyIter {
        let pooled = self.pool.as_ref().filter(|_| lookup);
        let iter = match pooled.and_then(|pool| pool.take()) {
            Some(iter) => iter,
            None => {
                let mut options = self.read_options();
                if pooled.is_none() {
                    if let Some(end) = prefix_end(prefix) {
                        options.set_iterate_upper_bound(end);
                    }
                }
                options.fill_cache(lookup);
                let iter: DBRawIteratorWithThreadMode<'_, DB> =
                    self.db.db.raw_iterator_opt(options);
                // SAFETY: the iterator borrows the DB inside the Arc, which the KeyIter keeps
                // alive (and drops after the iterator: field order), as it keeps the snapshot the
                // options name; a pooled iterator goes back to the pool, which keeps both too.
                unsafe {
                    std::mem::transmute::<
                        DBRawIteratorWithThreadMode<'_, DB>,
                        DBRawIteratorWithThreadMode<'static, DB>,
                    >(iter)
                }
            }
        };
        KeyIter {
            iter: Some(iter),
            prefix: prefix.to_vec(),
            started: false,
            pool: pooled.cloned(),
            _snapshot: self.snapshot.clone(),
            _db: Arc::clone(&self.db),
        }
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
        options.fill_cache(is_lookup(prefix));
        self.db
            .db
            .iterator_opt(IteratorMode::From(prefix, Direction::Forward), options)
            .map(|item| item.map_err(StoreError::from))
    }

    /// Keys and values in `[start, end)`, collected (for small tables such as the delta).
    pub(crate) fn scan_range(&self, start: &[u8], end: &[u8]) -> Vec<Result<KeyValue>> {
        let _view = self.hold();
        let mut options = self.read_options();
        options.set_iterate_upper_bound(end.to_vec());
        self.db
            .db
            .iterator_opt(IteratorMode::From(start, Direction::Forward), options)
            .map(|item| item.map_err(StoreError::from))
            .collect()
    }
}

/// Keys under a prefix, owning what they read from.
pub(crate) struct KeyIter {
    /// Always `Some` until dropped, when a pooled iterator is handed back.
    iter: Option<DBRawIteratorWithThreadMode<'static, DB>>,
    prefix: Vec<u8>,
    started: bool,
    /// Where the iterator goes back to; `None` for one made with the prefix as upper bound.
    pool: Option<Arc<IterPool>>,
    _snapshot: Option<Arc<OwnedSnapshot>>,
    _db: Arc<Db>,
}

impl KeyIter {
    fn raw(&mut self) -> &mut DBRawIteratorWithThreadMode<'static, DB> {
        self.iter
            .as_mut()
            .expect("a KeyIter holds its iterator until dropped")
    }

    /// Positions the scan at the first key at or after `key` (within the prefix).
    pub(crate) fn seek(&mut self, key: &[u8]) {
        self.started = true;
        self.raw().seek(key);
    }

    /// The current key without advancing, after `seek` or `next`.
    pub(crate) fn peek(&mut self) -> Option<&[u8]> {
        self.start();
        let iter = self
            .iter
            .as_ref()
            .expect("a KeyIter holds its iterator until dropped");
        iter.key().filter(|key| key.starts_with(&self.prefix))
    }

    /// Moves to the next key and returns it (the first, on the first call), borrowed: what
    /// [`Iterator::next`] does without copying the key.
    pub(crate) fn advance(&mut self) -> Option<Result<&[u8]>> {
        if self.started {
            self.raw().next();
        } else {
            self.start();
        }
        let iter = self
            .iter
            .as_ref()
            .expect("a KeyIter holds its iterator until dropped");
        match iter.key() {
            Some(key) if key.starts_with(&self.prefix) => Some(Ok(key)),
            Some(_) => None,
            None => iter.status().err().map(|e| Err(e.into())),
        }
    }

    /// Seeks to the prefix unless a seek already placed the scan.
    fn start(&mut self) {
        if !self.started {
            self.started = true;
            let iter = self
                .iter
                .as_mut()
                .expect("a KeyIter holds its iterator until dropped");
            iter.seek(&self.prefix);
        }
    }

    /// The iterator's error, if it stopped on one.
    pub(crate) fn status(&self) -> Result<()> {
        let iter = self
            .iter
            .as_ref()
            .expect("a KeyIter holds its iterator until dropped");
        Ok(iter.status()?)
    }
}

impl Iterator for KeyIter {
    type Item = Result<Box<[u8]>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.advance().map(|key| key.map(Box::from))
    }
}

impl Drop for KeyIter {
    fn drop(&mut self) {
        if let (Some(pool), Some(iter)) = (&self.pool, self.iter.take()) {
            // An iterator that stopped on an error is not worth keeping.
            if iter.status().is_ok() {
                pool.give_back(iter);
            }
        }
    }
}

/// The options SST files are written with: the store's, so ingestion never rewrites them.
pub(crate) struct SstOptions(Options);

impl SstOptions {
    pub(crate) fn new() -> Self {
        Self(db_options())
    }

    /// Starts a new SST file at `path`.
    pub(crate) fn create(&self, path: &Path) -> Result<SstWriter<'_>> {
        let writer = SstFileWriter::create(&self.0);
        writer.open(path)?;
        Ok(SstWriter {
            writer,
            path: path.to_owned(),
        })
    }
}

/// One SST file being written: keys strictly increasing.
pub(crate) struct SstWriter<'a> {
    writer: SstFileWriter<'a>,
    path: PathBuf,
}

impl SstWriter<'_> {
    #[inline]
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.writer
            .put(key, value)
            .map_err(|e| StoreError::InvalidInput(format!("writing {}: {e}", self.path.display())))
    }

    /// A merge operand (a count change, as [`Batch::add`] writes), for keys in increasing order.
    #[inline]
    pub(crate) fn add(&mut self, key: &[u8], change: i64) -> Result<()> {
        self.writer
            .merge(key, change.to_le_bytes())
            .map_err(|e| StoreError::InvalidInput(format!("writing {}: {e}", self.path.display())))
    }

    /// Deletes `[start, end)` of what the database held before the file is ingested (the
    /// file's own keys, which get the same sequence number, stay).
    pub(crate) fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.writer
            .delete_range(start, end)
            .map_err(|e| StoreError::InvalidInput(format!("writing {}: {e}", self.path.display())))
    }

    pub(crate) fn file_size(&self) -> u64 {
        self.writer.file_size()
    }

    /// Closes the file; returns its path.
    pub(crate) fn finish(mut self) -> Result<PathBuf> {
        self.writer.finish()?;
        Ok(self.path)
    }
}

/// Keys a [`SpillTable::get_all`] asks for in one `MultiGet`: at most 1 MiB of blocks held, and
/// still eight of RocksDB's own batches of 32.
const MULTI_GET_KEYS: usize = 256;

/// A scratch key-value table on disk that a bulk load moves its term map into when the map
/// outgrows memory: written without a log, never reopened.
pub(crate) struct SpillTable {
    db: DB,
}

impl SpillTable {
    /// A table using about `memory` bytes: a third for its block cache and a third for each of
    /// the two memtables that can be held at once (one filling, one being flushed). Under the
    /// default limit that is RocksDB's own 64 MB write buffer and a 64 MB cache; a small limit
    /// shrinks them rather than letting them take more than it leaves for the rest.
    pub(crate) fn create(path: &Path, memory: usize) -> Result<Self> {
        let part = (memory / 3).clamp(4 << 20, 64 << 20);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.set_write_buffer_size(part);
        options.set_max_write_buffer_number(2);
        // Keys are hashes, which do not compress: LZ4 cost a 10M load that spills (at
        // `--memory-limit 200M`) about 5% of its rate and 40 MB of peak, for a table 14% smaller.
        options.set_compression_type(DBCompressionType::None);
        // A whole-key bloom filter on each level above the last spares a lookup a block read of
        // every level that does not hold its key. Without any filter (before the load kept its
        // own) a 100M-triple load, whose map spills, ran at 0.4x the rate of a 10M one.
        let mut table = BlockBasedOptions::default();
        table.set_bloom_filter(10.0, false);
        // The load asks only for keys its own filter (`load/spill_filter.rs`) says may be here,
        // so a lookup mostly finds its key, in the last level where most keys are: that level's
        // filters, which RocksDB holds outside its cache and which grew with what had spilled,
        // would only be read to say yes.
        options.set_optimize_filters_for_hits(true);
        // The index and the upper levels' filters are cut in partitions held in the block cache
        // (the top level pinned), so they are bounded by it: held outside it, as RocksDB does by
        // default, they grew with what had spilled (2 MB at the 100M world's first rotation
        // under 440M, 15 MB at its last). In the cache each lookup is a cache probe more, and a
        // read of a partition the cache has dropped: a quarter of the reading rate while every
        // new term probed the spill; now that the load's own filter lets only spilled terms
        // through, 5% of it at 100M and 16% at 200M under 440M (a 5 MB cache there).
        table.set_index_type(BlockBasedIndexType::TwoLevelIndexSearch);
        table.set_partition_filters(true);
        table.set_cache_index_and_filter_blocks(true);
        table.set_cache_index_and_filter_blocks_with_high_priority(true);
        table.set_pin_top_level_index_and_filter(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_block_cache(&Cache::new_lru_cache(part));
        options.set_block_based_table_factory(&table);
        Ok(Self {
            db: DB::open(&options, path)?,
        })
    }

    /// Writes the entries, in batches.
    pub(crate) fn put_all<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Result<()> {
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        let mut batch = WriteBatch::default();
        for (key, value) in entries {
            batch.put(key, value);
            if batch.len() >= 1 << 16 {
                self.db.write_opt(std::mem::take(&mut batch), &write)?;
            }
        }
        Ok(self.db.write_opt(batch, &write)?)
    }

    /// The values of `keys`, in their order.
    ///
    /// Asked [`MULTI_GET_KEYS`] at a time: a `MultiGet` holds the data block of every key it has
    /// found until it returns, and keys that are hashes each find a block of their own, so a
    /// chunk's spilled terms (4,000 on average in a 100M load under 440M) asked at once held
    /// their 4 KiB blocks beside the budget: 21 MB at the peak of a 10M load under 200M
    /// (heaptrack); the 100M load's reading peak fell by 17 MB with batches.
    pub(crate) fn get_all<K: AsRef<[u8]>>(&self, keys: &[K]) -> Vec<Result<Option<Vec<u8>>>> {
        let mut values = Vec::with_capacity(keys.len());
        for batch in keys.chunks(MULTI_GET_KEYS) {
            values.extend(
                self.db
                    .multi_get(batch)
                    .into_iter()
                    .map(|v| v.map_err(StoreError::from)),
            );
        }
        values
    }
}

/// Maps a file read-only.
///
/// The caller must only ever replace the file by rename, never write it in place, and must
/// validate what it reads: then the mapping cannot change underneath, and a damaged file is an
/// error rather than undefined behaviour.
pub(crate) fn map_file(path: &Path) -> Result<Mmap> {
    let file = File::open(path).map_err(StoreError::io(path))?;
    // SAFETY: see above; the files mapped (the CSR adjacency) are replaced by rename only.
    unsafe { Mmap::map(&file) }.map_err(StoreError::io(path))
}

/// A prefetch of the cache line holding `at` into all cache levels (for the mapped adjacency:
/// path search starts the misses of a frontier together). A hint the CPU may drop; it never
/// faults and changes nothing that is read.
#[inline(always)]
pub(crate) fn prefetch<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, part of every x86_64 CPU's baseline; it reads nothing
    // the program sees, and `at` is a live reference anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (at as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}
