//! A memory-bounded external sort of fixed-size records (arrays of `u64`), and the delta-coded
//! run files and k-way merge it shares with the quad sorter (`quads.rs`).
//!
//! Records collect in memory up to a budget; a full buffer is sorted, deduplicated and written to
//! a run file; the end merges the runs. When nothing was spilled, the buffer is handed back as
//! is, so the common case never touches the disk.

use crate::error::{Result, StoreError};
use crate::id::{read_varint, write_varint};
use rayon::slice::ParallelSliceMut;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
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
        write_run(&path, &self.buffer)?;
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
        // The buffer's share of the memory goes to the runs' read buffers.
        let memory = self.capacity * 8 * N;
        RunMerger::open(std::mem::take(&mut self.runs), Vec::new(), memory).map(Sorted::Merged)
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

pub(super) fn sort_dedup<const N: usize>(records: &mut Vec<[u64; N]>) {
    records.par_sort_unstable();
    records.dedup();
}

/// Writes sorted records as a run file.
///
/// Each record is stored as its difference from the one before (the first from all zeros): a
/// byte naming the first position that differs, that position's increase, and the positions
/// after it in full, each as a [`write_varint`]; the run ends with [`END_OF_RUN`] and its count.
/// Sorted records share their leading positions, so a 32-byte quad takes 6-9 bytes: runs are
/// written to disk and read back whole, and this machine's disk takes about 300 MB/s, so bytes
/// not written are the cheapest saving.
pub(super) fn write_run<const N: usize>(path: &Path, records: &[[u64; N]]) -> Result<()> {
    let file = File::create(path).map_err(StoreError::io(path))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut bytes = Vec::with_capacity(MAX_RECORD_BYTES * N);
    let mut prev = [0; N];
    for record in records {
        let first = (0..N).find(|&i| record[i] != prev[i]).unwrap_or(N);
        debug_assert!(first == N || record[first] > prev[first], "runs are sorted");
        bytes.clear();
        bytes.push(first as u8);
        if first < N {
            write_varint(&mut bytes, record[first] - prev[first]);
            for &v in &record[first + 1..] {
                write_varint(&mut bytes, v);
            }
        }
        out.write_all(&bytes).map_err(StoreError::io(path))?;
        prev = *record;
    }
    bytes.clear();
    bytes.push(END_OF_RUN);
    write_varint(&mut bytes, records.len() as u64);
    out.write_all(&bytes).map_err(StoreError::io(path))?;
    out.flush().map_err(StoreError::io(path))
}

/// The header byte that closes a run, followed by its record count: a run cut short, even at a
/// record's end, is then an error rather than a merge that silently drops the rest.
const END_OF_RUN: u8 = u8::MAX;

/// The most bytes one value of a run record takes (the header byte counted once per value, a
/// generous bound that keeps the arithmetic simple).
const MAX_RECORD_BYTES: usize = 10;

/// One sorted input of a merge: a run file, or records still in memory.
enum Run<const N: usize> {
    File(RunFile<N>),
    Memory(std::vec::IntoIter<[u64; N]>),
}

impl<const N: usize> Run<N> {
    fn next_record(&mut self) -> Result<Option<[u64; N]>> {
        match self {
            Self::Memory(records) => Ok(records.next()),
            Self::File(file) => file.next_record(),
        }
    }
}

/// A run's read buffer: 1 MiB when memory allows; a fixed 1 MiB a run made a 200M-triple load's
/// three quad merges, 100 runs each under 440M, hold 300 MB beside a limit that leaves the load
/// 315. Not below 64 KiB, where reads get small.
const MAX_RUN_BUFFER: usize = 1 << 20;
const MIN_RUN_BUFFER: usize = 64 << 10;

/// A run file being read back, a buffer at a time.
struct RunFile<const N: usize> {
    file: File,
    path: PathBuf,
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    prev: [u64; N],
    /// Records read so far, checked against the count after [`END_OF_RUN`].
    read: u64,
    done: bool,
}

impl<const N: usize> RunFile<N> {
    fn open(path: PathBuf, buffer: usize) -> Result<Self> {
        let file = File::open(&path).map_err(StoreError::io(&path))?;
        Ok(Self {
            file,
            path,
            buffer: vec![0; buffer],
            start: 0,
            end: 0,
            eof: false,
            prev: [0; N],
            read: 0,
            done: false,
        })
    }

    fn next_record(&mut self) -> Result<Option<[u64; N]>> {
        if self.end - self.start < MAX_RECORD_BYTES * N && !self.eof {
            self.refill()?;
        }
        if self.done {
            return Ok(None);
        }
        let bytes = &self.buffer[self.start..self.end];
        let corrupt = || StoreError::Corruption(format!("bad record in {}", self.path.display()));
        let Some((&first, mut rest)) = bytes.split_first() else {
            return Err(StoreError::Corruption(format!(
                "{} ends after {} records without its end marker",
                self.path.display(),
                self.read
            )));
        };
        if first == END_OF_RUN {
            let (count, _) = read_varint(rest).ok_or_else(corrupt)?;
            if count != self.read {
                return Err(StoreError::Corruption(format!(
                    "{} holds {} records where its end marker says {count}",
                    self.path.display(),
                    self.read
                )));
            }
            self.done = true;
            return Ok(None);
        }
        let first = usize::from(first);
        if first > N {
            return Err(corrupt());
        }
        let mut record = self.prev;
        for (i, slot) in record.iter_mut().enumerate().skip(first) {
            let (v, tail) = read_varint(rest).ok_or_else(corrupt)?;
            *slot = if i == first {
                slot.checked_add(v).ok_or_else(corrupt)?
            } else {
                v
            };
            rest = tail;
        }
        self.start = self.end - rest.len();
        self.prev = record;
        self.read += 1;
        Ok(Some(record))
    }

    /// Moves the unread bytes to the front and reads until the buffer is full or the file ends.
    fn refill(&mut self) -> Result<()> {
        self.buffer.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        while self.end < self.buffer.len() {
            let read = self
                .file
                .read(&mut self.buffer[self.end..])
                .map_err(StoreError::io(&self.path))?;
            if read == 0 {
                self.eof = true;
                break;
            }
            self.end += read;
        }
        Ok(())
    }
}

/// The k-way merge of sorted runs, without duplicates. Deletes its run files when dropped.
pub struct RunMerger<const N: usize> {
    runs: Vec<Run<N>>,
    heap: BinaryHeap<Reverse<([u64; N], usize)>>,
    last: Option<[u64; N]>,
}

impl<const N: usize> RunMerger<N> {
    /// Merges the run files at `paths` and `tail`, sorted records still in memory (which may be
    /// empty), reading the files through buffers of about `memory` bytes in all. The files are
    /// deleted when the merger is dropped.
    pub(super) fn open(paths: Vec<PathBuf>, tail: Vec<[u64; N]>, memory: usize) -> Result<Self> {
        let buffer = (memory / paths.len().max(1)).clamp(MIN_RUN_BUFFER, MAX_RUN_BUFFER);
        let mut runs = Vec::with_capacity(paths.len() + 1);
        for path in paths {
            runs.push(Run::File(RunFile::open(path, buffer)?));
        }
        runs.push(Run::Memory(tail.into_iter()));
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
            if let Run::File(file) = run {
                let _ = std::fs::remove_file(&file.path);
            }
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
        fn spilled_and_in_memory_sorts_agree(records in proptest::collection::vec(
            (prop_oneof![0u64..50, any::<u64>()], prop_oneof![0u64..5, any::<u64>()]),
            0..400,
        )) {
            let records: Vec<[u64; 2]> = records.into_iter().map(|(a, b)| [a, b]).collect();
            let mut expected = records.clone();
            expected.sort_unstable();
            expected.dedup();
            prop_assert_eq!(&sort_with_budget(&records, 1 << 20), &expected);
            prop_assert_eq!(&sort_with_budget(&records, 16 * 7), &expected);
        }
    }

    #[test]
    fn a_truncated_run_is_an_error_not_a_short_stream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.run");
        let records: Vec<[u64; 2]> = (0..1000u64).map(|i| [i * 7919, u64::MAX - i]).collect();
        write_run(&path, &records).unwrap();
        let read = |path: &Path| -> Result<Vec<[u64; 2]>> {
            RunMerger::open(vec![path.to_owned()], Vec::new(), 1 << 20)?.collect()
        };
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(read(&path).unwrap(), records);
        assert!(!path.exists(), "the merger deletes its runs");
        assert!(
            bytes.len() < records.len() * 16,
            "delta-coded runs are smaller than raw records"
        );
        // Cut inside a record, at a record's end (just before the end marker), and one record
        // short with the end marker kept.
        let marker = bytes.iter().rposition(|&b| b == END_OF_RUN).unwrap();
        let mut one_short = write_run_bytes(&records[..999]);
        let tail = bytes[marker..].to_vec();
        one_short.truncate(one_short.iter().rposition(|&b| b == END_OF_RUN).unwrap());
        one_short.extend_from_slice(&tail);
        for cut in [
            bytes[..marker - 3].to_vec(),
            bytes[..marker].to_vec(),
            one_short,
        ] {
            std::fs::write(&path, &cut).unwrap();
            let err = read(&path).unwrap_err();
            assert!(err.to_string().contains("t.run"), "{err}");
        }
    }

    fn write_run_bytes(records: &[[u64; 2]]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.run");
        write_run(&path, records).unwrap();
        std::fs::read(&path).unwrap()
    }
}
