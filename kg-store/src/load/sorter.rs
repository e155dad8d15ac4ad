//! A memory-bounded external sort of fixed-size records (arrays of `u64`).
//!
//! Records collect in memory up to a budget; a full buffer is sorted, deduplicated and written to
//! a run file; the end merges the runs. When nothing was spilled, the buffer is handed back as
//! is, so the common case never touches the disk.

use crate::error::{Result, StoreError};
use rayon::slice::ParallelSliceMut;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Sorts `[u64; N]` records in lexicographic order, dropping duplicates.
pub struct Sorter<const N: usize> {
    buffer: Vec<[u64; N]>,
    capacity: usize,
    runs: Vec<PathBuf>,
    dir: PathBuf,
    name: &'static str,
}

/// What a finished sort yields.
pub enum Sorted<const N: usize> {
    /// Everything fitted in memory: sorted and deduplicated.
    InMemory(Vec<[u64; N]>),
    /// Merged from runs on disk, in order, without duplicates.
    Merged(RunMerger<N>),
}

impl<const N: usize> Sorter<N> {
    /// A sorter holding at most `memory` bytes of records, spilling runs into `dir`.
    pub fn new(dir: &Path, name: &'static str, memory: usize) -> Self {
        let capacity = (memory / (8 * N)).max(1024);
        Self {
            buffer: Vec::new(),
            capacity,
            runs: Vec::new(),
            dir: dir.to_owned(),
            name,
        }
    }

    #[inline]
    pub fn push(&mut self, record: [u64; N]) -> Result<()> {
        if self.buffer.len() >= self.capacity {
            self.spill()?;
        }
        self.buffer.push(record);
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        sort_dedup(&mut self.buffer);
        let path = self
            .dir
            .join(format!("{}-{}.run", self.name, self.runs.len()));
        let file = File::create(&path).map_err(StoreError::io(&path))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        // One call per record, not per value: runs of a 100M-triple load hold billions of values.
        let mut bytes = vec![0; 8 * N];
        for record in &self.buffer {
            for (slot, v) in bytes.chunks_exact_mut(8).zip(record) {
                slot.copy_from_slice(&v.to_le_bytes());
            }
            out.write_all(&bytes).map_err(StoreError::io(&path))?;
        }
        out.flush().map_err(StoreError::io(&path))?;
        self.runs.push(path);
        self.buffer.clear();
        Ok(())
    }

    pub fn finish(mut self) -> Result<Sorted<N>> {
        if self.runs.is_empty() {
            sort_dedup(&mut self.buffer);
            return Ok(Sorted::InMemory(std::mem::take(&mut self.buffer)));
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        self.buffer = Vec::new();
        RunMerger::open(std::mem::take(&mut self.runs)).map(Sorted::Merged)
    }
}

impl<const N: usize> Sorted<N> {
    /// Every record, in order, as one stream (for callers that need no in-memory fast path).
    pub fn into_stream(self) -> Box<dyn Iterator<Item = Result<[u64; N]>> + Send> {
        match self {
            Self::InMemory(records) => Box::new(records.into_iter().map(Ok)),
            Self::Merged(merger) => Box::new(merger),
        }
    }
}

fn sort_dedup<const N: usize>(records: &mut Vec<[u64; N]>) {
    records.par_sort_unstable();
    records.dedup();
}

struct Run<const N: usize> {
    reader: BufReader<File>,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl<const N: usize> Run<N> {
    fn next_record(&mut self) -> Result<Option<[u64; N]>> {
        let path = &self.path;
        // The end of the file may only fall between records.
        if self
            .reader
            .fill_buf()
            .map_err(|e| StoreError::io(path)(e))?
            .is_empty()
        {
            return Ok(None);
        }
        self.reader
            .read_exact(&mut self.bytes)
            .map_err(|e| StoreError::io(path)(e))?;
        let mut record = [0; N];
        for (v, slot) in record.iter_mut().zip(self.bytes.chunks_exact(8)) {
            *v = u64::from_le_bytes(slot.try_into().expect("8 bytes"));
        }
        Ok(Some(record))
    }
}

/// The k-way merge of sorted runs, without duplicates. Deletes its run files when dropped.
pub struct RunMerger<const N: usize> {
    runs: Vec<Run<N>>,
    heap: BinaryHeap<Reverse<([u64; N], usize)>>,
    last: Option<[u64; N]>,
}

impl<const N: usize> RunMerger<N> {
    fn open(paths: Vec<PathBuf>) -> Result<Self> {
        let mut runs = Vec::with_capacity(paths.len());
        for path in paths {
            let file = File::open(&path).map_err(StoreError::io(&path))?;
            runs.push(Run {
                reader: BufReader::with_capacity(1 << 20, file),
                path,
                bytes: vec![0; 8 * N],
            });
        }
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(record) = run.next_record()? {
                heap.push(Reverse((record, i)));
            }
        }
        Ok(Self {
            runs,
            heap,
            last: None,
        })
    }
}

impl<const N: usize> Iterator for RunMerger<N> {
    type Item = Result<[u64; N]>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let Reverse((record, i)) = self.heap.pop()?;
            match self.runs[i].next_record() {
                Ok(Some(next)) => self.heap.push(Reverse((next, i))),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
            if self.last != Some(record) {
                self.last = Some(record);
                return Some(Ok(record));
            }
        }
    }
}

impl<const N: usize> Drop for RunMerger<N> {
    fn drop(&mut self) {
        for run in &self.runs {
            let _ = std::fs::remove_file(&run.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sort_with_budget(records: &[[u64; 2]], memory: usize) -> Vec<[u64; 2]> {
        let dir = tempfile::tempdir().unwrap();
        let mut sorter = Sorter::<2>::new(dir.path(), "t", memory);
        sorter.capacity = memory / 16; // allow tiny budgets in tests
        for r in records {
            sorter.push(*r).unwrap();
        }
        sorter
            .finish()
            .unwrap()
            .into_stream()
            .collect::<Result<_>>()
            .unwrap()
    }

    proptest! {
        #[test]
        fn spilled_and_in_memory_sorts_agree(records in proptest::collection::vec((0u64..50, 0u64..5), 0..400)) {
            let records: Vec<[u64; 2]> = records.into_iter().map(|(a, b)| [a, b]).collect();
            let mut expected = records.clone();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(&sort_with_budget(&records, 1 << 20), &expected);
            prop_assert_eq!(&sort_with_budget(&records, 16 * 7), &expected);
        }
    }
}
