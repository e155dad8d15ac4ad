//! Written rationales on disk, keyed by everything that decides them (the item, its paths, the
//! writer and its model and settings, the prompt), so a rerun, a second epoch of streaming
//! training or a second objective of an experiment never asks the writer twice.
//!
//! One append-only JSON Lines file per directory, flushed after each batch; a last line cut
//! short by a crash is ignored when the file is read again (what it held is written again).

use crate::error::{DatasetError, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const FILE: &str = "rationales.jsonl";

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    text: String,
}

/// A rationale cache directory, shared between threads.
pub struct RationaleCache {
    file: PathBuf,
    entries: Mutex<(FxHashMap<String, String>, File)>,
}

/// The cache key of a request: a SHA-256 over its parts, each length-prefixed so that no two
/// different part lists hash the same bytes.
pub fn key(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl RationaleCache {
    /// Opens (creating) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(DatasetError::io(dir, None))?;
        let file = dir.join(FILE);
        let mut entries = FxHashMap::default();
        if file.exists() {
            let reader = BufReader::new(File::open(&file).map_err(DatasetError::io(&file, None))?);
            for line in reader.lines() {
                let line = line.map_err(DatasetError::io(&file, None))?;
                // A line cut short by a crash: its rationale is simply written again.
                if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                    entries.insert(entry.key, entry.text);
                }
            }
        }
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .map_err(DatasetError::io(&file, None))?;
        // A cut line must not swallow the next entry.
        if out.metadata().map(|m| m.len()).unwrap_or(0) > 0 && !ends_with_newline(&file) {
            out.write_all(b"\n")
                .map_err(DatasetError::io(&file, None))?;
        }
        Ok(Self {
            file,
            entries: Mutex::new((entries, out)),
        })
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().0.get(key).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds entries and flushes them to disk.
    pub fn put(&self, new: impl IntoIterator<Item = (String, String)>) -> Result<()> {
        let mut guard = self.lock();
        let (entries, out) = &mut *guard;
        let mut bytes = Vec::new();
        for (key, text) in new {
            serde_json::to_writer(
                &mut bytes,
                &Entry {
                    key: key.clone(),
                    text: text.clone(),
                },
            )
            .expect("strings serialise");
            bytes.push(b'\n');
            entries.insert(key, text);
        }
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(DatasetError::io(&self.file, None))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (FxHashMap<String, String>, File)> {
        // A panic elsewhere cannot leave the map half-updated in a way that matters: the worst
        // is an entry missing from memory that is on disk.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn ends_with_newline(file: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = File::open(file) else {
        return true;
    };
    let mut last = [0u8];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] == b'\n'
}
