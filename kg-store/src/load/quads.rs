//! The load's quads, sorted in each of the three index orders under a memory budget.
//!
//! Quads collect in one buffer. A full buffer is sorted and written as a run once per order,
//! rotated in place between orders, so no second copy is ever held. At the end each order's runs
//! are merged on their own, so the three indexes are written side by side from sequential reads.
//! (Merging SPO's runs alone and feeding POS and OSP sorters from that merge made the merge one
//! thread's work and sorted every quad twice more inside it: at 100M triples it was the slowest
//! phase of the load.) The last buffer's final order stays in memory as the tail of its merge.
//! When nothing was spilled the buffer is handed back in SPO order and never touches the disk.

use super::sorter::{sort_dedup, write_run, RunMerger};
use crate::error::Result;
use crate::keys::QuadOrder;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// A quad as sorted for one order: its positions in that order, the graph last (0 = default
/// graph, else its id + 1).
pub type Record = [u64; 4];

/// SPO -> POS -> OSP: each order's record is the previous one's rotated left (graph stays last).
#[inline]
pub fn rotate([a, b, c, g]: Record) -> Record {
    [b, c, a, g]
}

/// Sorts quads in SPO, POS and OSP order, dropping duplicates, spilling runs past a budget.
pub struct QuadSorter {
    buffer: Vec<Record>,
    capacity: usize,
    /// Each order's run files, indexed as [`QuadOrder::ALL`].
    runs: [Vec<PathBuf>; 3],
    dir: PathBuf,
}

/// What a finished sort yields.
pub enum SortedQuads {
    /// Everything fitted in memory: in SPO order, deduplicated.
    InMemory(Vec<Record>),
    /// Each order's merge of its runs, indexed as [`QuadOrder::ALL`], records rotated into their
    /// order; `upper_bound` counts the records written, so duplicates across runs are in it.
    Merged {
        orders: Box<[RunMerger<4>; 3]>,
        upper_bound: u64,
    },
}

impl QuadSorter {
    /// A sorter holding at most `memory` bytes of quads, spilling runs into `dir`.
    pub fn new(dir: &Path, memory: usize) -> Self {
        Self::with_capacity(dir, (memory / size_of::<Record>()).max(1024))
    }

    fn with_capacity(dir: &Path, capacity: usize) -> Self {
        Self {
            buffer: Vec::new(),
            capacity,
            runs: Default::default(),
            dir: dir.to_owned(),
        }
    }

    #[inline]
    pub fn push(&mut self, quad: Record) -> Result<()> {
        if self.buffer.len() >= self.capacity {
            self.spill(false)?;
        }
        self.buffer.push(quad);
        Ok(())
    }

    /// Writes the buffer as one run per order; with `keep_last`, OSP's stays in the buffer.
    fn spill(&mut self, keep_last: bool) -> Result<u64> {
        sort_dedup(&mut self.buffer);
        for (i, order) in QuadOrder::ALL.into_iter().enumerate() {
            if order != QuadOrder::Spo {
                self.buffer.par_iter_mut().for_each(|r| *r = rotate(*r));
                self.buffer.par_sort_unstable();
            }
            if keep_last && i == QuadOrder::ALL.len() - 1 {
                break;
            }
            let path = self
                .dir
                .join(format!("{order:?}-{}.run", self.runs[i].len()));
            write_run(&path, &self.buffer)?;
            self.runs[i].push(path);
        }
        let written = self.buffer.len() as u64;
        if !keep_last {
            self.buffer.clear();
        }
        Ok(written)
    }

    /// The sorted quads; merged from runs, the runs are read through buffers of about `memory`
    /// bytes in all (the buffer's own share still holds the last run of one order).
    pub fn finish(mut self, memory: usize) -> Result<SortedQuads> {
        if self.runs[0].is_empty() {
            sort_dedup(&mut self.buffer);
            return Ok(SortedQuads::InMemory(self.buffer));
        }
        let spilled = self.runs[0].len() as u64;
        let last = self.spill(true)?;
        let upper_bound = (spilled * self.capacity as u64) + last;
        let [spo, pos, osp] = self.runs;
        Ok(SortedQuads::Merged {
            orders: Box::new([
                RunMerger::open(spo, Vec::new(), memory / 3)?,
                RunMerger::open(pos, Vec::new(), memory / 3)?,
                RunMerger::open(osp, self.buffer, memory / 3)?,
            ]),
            upper_bound,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn orders_of(quads: &[Record], capacity: usize) -> (bool, Vec<Vec<Record>>) {
        let dir = tempfile::tempdir().unwrap();
        let mut sorter = QuadSorter::with_capacity(dir.path(), capacity);
        for q in quads {
            sorter.push(*q).unwrap();
        }
        match sorter.finish(1 << 20).unwrap() {
            SortedQuads::InMemory(spo) => {
                let mut orders = vec![spo];
                for _ in 1..3 {
                    let mut next: Vec<Record> =
                        orders.last().unwrap().iter().map(|r| rotate(*r)).collect();
                    next.sort_unstable();
                    orders.push(next);
                }
                (false, orders)
            }
            SortedQuads::Merged {
                orders,
                upper_bound,
            } => {
                let orders: Vec<Vec<Record>> = orders
                    .into_iter()
                    .map(|m| m.collect::<Result<_>>().unwrap())
                    .collect();
                assert!(orders[0].len() as u64 <= upper_bound);
                assert_eq!(
                    std::fs::read_dir(dir.path()).unwrap().count(),
                    0,
                    "the mergers delete their runs"
                );
                (true, orders)
            }
        }
    }

    proptest! {
        #[test]
        fn every_order_is_sorted_and_deduplicated_whether_spilled_or_not(
            quads in proptest::collection::vec((0u64..6, 0u64..4, 0u64..6, 0u64..2), 0..300),
            capacity in 1usize..64,
        ) {
            let quads: Vec<Record> = quads.into_iter().map(|(s, p, o, g)| [s, p, o, g]).collect();
            let mut expected = vec![quads.clone()];
            for i in 0..3 {
                if i > 0 {
                    let rotated = expected[i - 1].iter().map(|r| rotate(*r)).collect();
                    expected.push(rotated);
                }
                expected[i].sort_unstable();
                expected[i].dedup();
            }
            let (spilled, orders) = orders_of(&quads, capacity);
            prop_assert_eq!(spilled, quads.len() > capacity);
            prop_assert_eq!(&orders, &expected);
            let (spilled, orders) = orders_of(&quads, 1 << 20);
            prop_assert!(!spilled);
            prop_assert_eq!(&orders, &expected);
        }
    }
}
