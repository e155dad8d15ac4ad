//! Writing sorted keys into SST files for ingestion.
//!
//! Each table gets its own files, and each file holds one contiguous key range, so the files of
//! one load never overlap and RocksDB can place them straight into the bottom level of an empty
//! store: no compaction ever rewrites a bulk load.

use crate::backend::{SstOptions, SstWriter};
use crate::error::Result;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rolls to a new file past this size: large enough to keep the file count low, small enough
/// that RocksDB can later compact a range of them without rewriting the world.
const TARGET_FILE_BYTES: u64 = 256 << 20;

/// Hands out SST file names in a scratch directory, from any thread.
pub struct SstFiles {
    dir: PathBuf,
    next: AtomicUsize,
    options: SstOptions,
}

impl SstFiles {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            next: AtomicUsize::new(0),
            options: SstOptions::new(),
        }
    }

    /// A writer of one sorted key range; it may split the range over several files.
    pub fn writer(&self) -> SstRangeWriter<'_> {
        SstRangeWriter {
            files: self,
            current: None,
            written: Vec::new(),
            keys: 0,
        }
    }

    fn new_file(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{n:06}.sst"))
    }
}

/// Writes one strictly increasing sequence of keys (values are empty unless given).
pub struct SstRangeWriter<'a> {
    files: &'a SstFiles,
    current: Option<SstWriter<'a>>,
    written: Vec<PathBuf>,
    keys: u64,
}

impl SstRangeWriter<'_> {
    #[inline]
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if self
            .current
            .as_ref()
            .is_some_and(|w| w.file_size() >= TARGET_FILE_BYTES)
        {
            self.close_current()?;
        }
        let writer = match &mut self.current {
            Some(writer) => writer,
            None => self
                .current
                .insert(self.files.options.create(&self.files.new_file())?),
        };
        writer.put(key, value)?;
        self.keys += 1;
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        if let Some(writer) = self.current.take() {
            self.written.push(writer.finish()?);
        }
        Ok(())
    }

    /// Closes the last file; returns every file written and the number of keys.
    pub fn finish(mut self) -> Result<(Vec<PathBuf>, u64)> {
        self.close_current()?;
        Ok((std::mem::take(&mut self.written), self.keys))
    }
}
