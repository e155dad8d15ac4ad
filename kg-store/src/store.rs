//! The store facade: opening a directory (read-write, read-only or following a writer), readers
//! on consistent snapshots, atomic live writes with the derived indexes' hooks registered, and
//! the writer lock and scratch space that the bulk loader and the index builders take.

use crate::adjacency::DeltaHook;
use crate::backend::{Batch, Db, OpenAs, View};
use crate::error::{Result, StoreError};
use crate::label_index::LabelHook;
use crate::meta::{new_store_id, Counters, COUNTERS_KEY, FORMAT, FORMAT_KEY, STORE_ID_KEY};
use crate::reader::StoreReader;
use crate::term_cache::TermCache;
use crate::writer::{ChangeSummary, Changes, IndexHook, WriteTx};
use oxrdf::{Quad, QuadRef};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

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

struct Inner {
    db: Arc<Db>,
    path: Arc<Path>,
    mode: AccessMode,
    /// See [`Store::id`].
    id: u64,
    /// Serialises writers; holds the counters as of the last commit.
    writer: Mutex<Counters>,
    /// The derived indexes that live writes keep in step.
    hooks: Vec<Box<dyn IndexHook>>,
    /// Terms of recently read ids, for every reader (see `term_cache.rs`).
    terms: Arc<TermCache>,
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
    inner: Arc<Inner>,
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
        let db = Db::open(path, OpenAs::ReadWrite)?;
        if db.get(FORMAT_KEY)?.is_none() {
            let mut batch = Batch::default();
            batch.put(FORMAT_KEY, FORMAT);
            batch.put(COUNTERS_KEY, Counters::default().encode());
            db.write(batch)?;
        }
        // Stores made before identities existed get one at their first writable open.
        if db.get(STORE_ID_KEY)?.is_none() {
            let mut batch = Batch::default();
            batch.put(STORE_ID_KEY, new_store_id().to_be_bytes());
            db.write(batch)?;
        }
        let store = Self::from_db(db, path, AccessMode::ReadWrite)?;
        remove_stale_scratch(path);
        Ok(store)
    }

    /// Opens an existing store for reading only: it sees the state at open time, and does not
    /// stop a writer from opening the same store.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        check_exists(path)?;
        Self::from_db(
            Db::open(path, OpenAs::ReadOnly)?,
            path,
            AccessMode::ReadOnly,
        )
    }

    /// Opens an existing store as a follower of its writer: [`Store::catch_up`] makes the
    /// writer's newer commits visible. `scratch` holds the follower's own small files.
    pub fn open_secondary(path: impl AsRef<Path>, scratch: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        check_exists(path)?;
        let how = OpenAs::Secondary {
            scratch: scratch.as_ref(),
        };
        Self::from_db(Db::open(path, how)?, path, AccessMode::Secondary)
    }

    fn from_db(db: Arc<Db>, path: &Path, mode: AccessMode) -> Result<Self> {
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
                path: path.into(),
                mode,
                id,
                writer: Mutex::new(counters),
                hooks: vec![Box::new(LabelHook), Box::new(DeltaHook)],
                terms: Arc::new(TermCache::new()),
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
            self.inner.db.catch_up(|| {
                *self.lock_counters() = read_counters(&self.inner.db)?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// A consistent view of the store as it is now; later writes stay invisible to it.
    pub fn reader(&self) -> StoreReader {
        let view = View::new(&self.inner.db, self.inner.mode == AccessMode::ReadWrite);
        StoreReader::new(
            view,
            Arc::clone(&self.inner.path),
            Arc::clone(&self.inner.terms),
        )
    }

    /// Puts the tables in shape for reads: the memtable flushed and every level merged into one
    /// sorted run (RocksDB's full manual compaction, as oxigraph's `optimize()`). A bulk load
    /// leaves its tables in the last level already; what this merges is what came after (live
    /// writes, small loads). Writers and readers keep working meanwhile.
    pub fn optimize(&self) -> Result<()> {
        self.check_writable()?;
        self.inner.db.flush()?;
        self.inner.db.compact(None, None);
        Ok(())
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
        let mut writer = self.write_lock()?;
        self.apply_locked(&mut writer, changes)
    }

    /// Computes changes from the current state and applies them, with every other writer held
    /// off in between: a read-modify-write (a SPARQL update) that no concurrent write can
    /// interleave with.
    pub fn update_with<E: From<StoreError>>(
        &self,
        compute: impl FnOnce(StoreReader) -> std::result::Result<Changes, E>,
    ) -> std::result::Result<ChangeSummary, E> {
        let mut writer = self.write_lock()?;
        let changes = compute(self.reader())?;
        Ok(self.apply_locked(&mut writer, &changes)?)
    }

    /// Applies changes under a writer lock the caller holds (the bulk loader's small loads).
    pub(crate) fn apply_locked(
        &self,
        writer: &mut WriteLock<'_>,
        changes: &Changes,
    ) -> Result<ChangeSummary> {
        let mut tx = WriteTx::new(&self.inner.db, writer.committed());
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
        let (batch, next, summary) = tx.finish(&self.inner.hooks)?;
        if !batch.is_empty() {
            writer.commit(batch, next)?;
        }
        Ok(summary)
    }

    /// An error unless the store was opened for writing.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if self.inner.mode == AccessMode::ReadWrite {
            Ok(())
        } else {
            Err(StoreError::ReadOnly {
                path: self.inner.path.to_path_buf(),
            })
        }
    }

    /// Holds off every other writer of this handle's process until dropped: live writes, the
    /// bulk loader's commit, the label index build.
    pub(crate) fn write_lock(&self) -> Result<WriteLock<'_>> {
        self.check_writable()?;
        Ok(WriteLock {
            db: &self.inner.db,
            counters: self.lock_counters(),
        })
    }

    /// Writes records of a derived index that live writes never touch (the adjacency's marker),
    /// without holding writers off.
    pub(crate) fn write_index_records(&self, batch: Batch) -> Result<()> {
        self.check_writable()?;
        self.inner.db.write(batch)
    }

    /// A scratch directory inside the store directory (so renames and ingestion stay on one
    /// file system), removed when dropped, or at the next writable open after a crash.
    pub(crate) fn scratch(&self) -> Result<Scratch> {
        self.check_writable()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = self
            .inner
            .path
            .join(format!("{SCRATCH_PREFIX}{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).map_err(StoreError::io(&path))?;
        Ok(Scratch { path })
    }

    fn lock_counters(&self) -> MutexGuard<'_, Counters> {
        self.inner.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writer lock of a store (see [`Store::write_lock`]), with the counters as of the last
/// commit.
pub(crate) struct WriteLock<'a> {
    db: &'a Db,
    counters: MutexGuard<'a, Counters>,
}

impl WriteLock<'_> {
    /// The counters as of the last commit.
    pub(crate) fn committed(&self) -> Counters {
        *self.counters
    }

    /// Commits a batch that leaves the counters at `next`.
    pub(crate) fn commit(&mut self, batch: Batch, next: Counters) -> Result<()> {
        self.db.write(batch)?;
        *self.counters = next;
        Ok(())
    }

    /// Ingests a bulk load's SST files (their counters record among them) in one atomic step.
    pub(crate) fn ingest(&mut self, files: Vec<PathBuf>, next: Counters) -> Result<()> {
        self.db.ingest(files)?;
        *self.counters = next;
        Ok(())
    }

    /// Ingests SST files of derived records that change no counters (an index built aside).
    pub(crate) fn ingest_index(&self, files: Vec<PathBuf>) -> Result<()> {
        self.db.ingest(files)
    }

    /// Writes derived records that change no counters.
    pub(crate) fn write(&self, batch: Batch) -> Result<()> {
        self.db.write(batch)
    }

    /// The database as of the last commit, copied to `out` (see `Db::checkpoint`).
    pub(crate) fn checkpoint(&self, out: &Path) -> Result<()> {
        self.db.checkpoint(out)
    }
}

/// A scratch directory of the store (see [`Store::scratch`]).
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

const SCRATCH_PREFIX: &str = ".load-";

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes the scratch directories of loads that died (the writer lock is ours, so any is stale).
fn remove_stale_scratch(store: &Path) {
    if let Ok(entries) = fs::read_dir(store) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(SCRATCH_PREFIX)
            {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
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

fn read_counters(db: &Db) -> Result<Counters> {
    match db.get(COUNTERS_KEY)? {
        Some(bytes) => Counters::decode(&bytes),
        None => Err(StoreError::Corruption(
            "the counters record is missing".into(),
        )),
    }
}

/// Sums the sizes of the files under `path` (the store's bytes on disk).
fn dir_size(path: &Path) -> u64 {
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
