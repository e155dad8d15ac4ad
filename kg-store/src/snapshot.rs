//! `kale snapshot`: a consistent read-only copy of a store, to ship to the hosts that share its
//! work (synthesis shards, training): RocksDB's checkpoint of the database and the adjacency
//! file it was built to, taken under the writer lock so no commit falls between the two. The
//! copy is a store like any other; it opens read-only (or for writing, as a fork) anywhere.

use crate::adjacency::{self, Adjacency};
use crate::error::{Result, StoreError};
use crate::progress::Progress;
use crate::store::Store;
use std::fs;
use std::path::Path;

/// What a snapshot holds.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SnapshotSummary {
    pub triples: u64,
    pub files: usize,
    pub bytes: u64,
    /// Files hard-linked rather than copied (the same file system).
    pub linked: usize,
}

impl std::fmt::Display for SnapshotSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "snapshot of {} triples: {} files, {:.1} MB ({} hard-linked)",
            self.triples,
            self.files,
            self.bytes as f64 / 1e6,
            self.linked
        )
    }
}

/// Writes the snapshot of `store` (opened for writing) to `out`, which must not exist. A stale
/// or missing adjacency is rebuilt first, since the copy may be opened where it cannot be. On
/// error nothing is left at `out`.
pub fn snapshot(store: &Store, out: &Path, progress: &dyn Progress) -> Result<SnapshotSummary> {
    if out.exists() {
        return Err(StoreError::InvalidInput(format!(
            "{}: already exists; a snapshot goes to a new directory",
            out.display()
        )));
    }
    store.check_writable()?;
    let adjacency = Adjacency::open_or_build(store, progress)?;
    drop(adjacency);
    let result = (|| {
        let lock = store.write_lock()?;
        // Under the lock no commit can land; the adjacency opened here is the one the
        // checkpoint's counters describe.
        Adjacency::open(store)?;
        lock.checkpoint(out)?;
        drop(lock);
        copy_adjacency(store, out)?;
        summarise(store, out)
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(out);
    }
    result
}

/// Links (or copies) the CSR file. It is only ever replaced by rename, so a link taken now
/// keeps this version whatever later builds do.
fn copy_adjacency(store: &Store, out: &Path) -> Result<()> {
    let from = store.path().join(adjacency::DIR).join(adjacency::FILE);
    let dir = out.join(adjacency::DIR);
    fs::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
    let to = dir.join(adjacency::FILE);
    if fs::hard_link(&from, &to).is_err() {
        let tmp = to.with_extension("part");
        fs::copy(&from, &tmp).map_err(StoreError::io(&from))?;
        fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(StoreError::io(&tmp))?;
        fs::rename(&tmp, &to).map_err(StoreError::io(&to))?;
    }
    fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(&dir))
}

fn summarise(store: &Store, out: &Path) -> Result<SnapshotSummary> {
    let (mut files, mut bytes, mut linked) = (0, 0, 0);
    let mut visit = vec![out.to_owned()];
    while let Some(dir) = visit.pop() {
        for entry in fs::read_dir(&dir).map_err(StoreError::io(&dir))? {
            let path = entry.map_err(StoreError::io(&dir))?.path();
            let meta = fs::metadata(&path).map_err(StoreError::io(&path))?;
            if meta.is_dir() {
                visit.push(path);
                continue;
            }
            files += 1;
            bytes += meta.len();
            if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
                linked += 1;
            }
        }
    }
    Ok(SnapshotSummary {
        triples: store.stats()?.triples,
        files,
        bytes,
        linked,
    })
}
