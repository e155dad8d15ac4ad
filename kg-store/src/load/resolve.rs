//! Term ids for a load: one sequential pass over the chunks, in input order, so ids are the same
//! for the same input whatever the thread count.
//!
//! A term is looked up in the load's in-memory map, then in its spill (a scratch RocksDB that the
//! map moves into when it outgrows its budget) where the spill's filter says it may be there,
//! then in the store; a term found nowhere gets the next id of its kind. New terms go to two
//! spools (entities and literals, each in id order) for the id-to-term table, and to a sorter
//! for the term-to-id table.
//!
//! The map has two generations, as a generational cache does: a term found in the older one or
//! in the spill moves into the newer, and when the newer is full the older goes to the spill and
//! the newer takes its place. A term a load keeps meeting (a hub, a class, a predicate) stays in
//! memory; spilling the whole map at once sent every such term to the spill's disk blocks once
//! per chunk until the load ended.

use super::parse::TermTable;
use super::sorter::Sorter;
use super::spill_filter::SpillFilter;
use crate::backend::SpillTable;
use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::memory;
use crate::meta::Counters;
use crate::reader::StoreReader;
use crate::term::{is_literal_encoding, term_hash64};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// A term's 128-bit hash as two words. A `u128` is 16-byte aligned, which pads an entry with
/// its 8-byte id to 32 bytes; two `u64`s make it 24.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key(u64, u64);

impl Key {
    #[inline]
    fn of(hash: u128) -> Self {
        Self((hash >> 64) as u64, hash as u64)
    }

    /// Which of the [`ROTATE_SLICES`] parts of the hash range the key lies in, in key order.
    fn slice(self) -> u32 {
        (self.0 >> (64 - ROTATE_SLICES.ilog2())) as u32
    }

    /// The hash again, as the spill keys it.
    fn hash(self) -> u128 {
        (u128::from(self.0) << 64) | u128::from(self.1)
    }
}

/// The parts of the hash range a generation is spilled in, one after another (a power of two).
const ROTATE_SLICES: u32 = 16;

/// What one bucket of a generation's table costs: the 24-byte entry and hashbrown's control
/// byte.
const BUCKET_BYTES: usize = 25;

/// The entries a generation holds when its two tables (the newer and the older) must fit in
/// `map_memory`: hashbrown's tables have a power of two of buckets and fill to 7/8 of them
/// before they grow, so a generation is 7/8 of the largest power of two that fits, and rotates
/// before it would grow.
pub(super) fn generation_size(map_memory: usize) -> usize {
    (buckets(map_memory) / 8 * 7).max(1 << 15)
}

/// The buckets of one generation's table: the largest power of two of which two tables fit.
fn buckets(map_memory: usize) -> usize {
    1usize << (map_memory / 2 / BUCKET_BYTES).max(1).ilog2()
}

/// What one generation's table takes once it is full (it never grows past that).
fn table_bytes(map_memory: usize) -> usize {
    buckets(map_memory) * BUCKET_BYTES
}

/// The spill filter's memory: what the two tables leave of the map's share (they come in powers
/// of two), at least a sixteenth of it where the share falls just past a step. With kale's 125
/// MB held it was 52 MB under 440M, 55 MB under 1 GiB and 406 MB under 4 GiB; two threads'
/// chunks in flight, now taken off the limit too, take half their 29 MB from each: about 37, 40
/// and 391 MB, 10 bits a term for 30M, 32M and 313M spilled terms, past which its false
/// positives rise (16% at 4.5 bits, each a read of the spill).
fn filter_memory(map_memory: usize) -> usize {
    map_memory
        .saturating_sub(2 * table_bytes(map_memory))
        .max(map_memory / 16)
}

pub struct TermResolver {
    /// Terms met since the last rotation.
    map: FxHashMap<Key, TermId>,
    /// The generation before `map`: in memory, not yet (all) in the spill.
    older: FxHashMap<Key, TermId>,
    /// Entries a generation holds before it rotates (see [`generation_size`]).
    generation: usize,
    /// The spill table and the filter of every term written to it, made together at the first
    /// rotation.
    spill: Option<(SpillTable, SpillFilter)>,
    /// Entries written to the spill table (a term spilled, moved back and spilled again counts
    /// twice).
    pub spilled: u64,
    /// The memory the spill table is given when the first rotation creates it.
    spill_memory: usize,
    /// The filter's memory: what the two generations' tables leave of the map's share.
    filter_memory: usize,
    scratch: PathBuf,
    /// The store's committed dictionary; `None` when it was empty before the load.
    store: Option<StoreReader>,
    pub counters: Counters,
    /// Ids before the load: ids at or past these are this load's new terms.
    pub first_new: Counters,
    entities: Spool,
    literals: Spool,
    /// `[hash64, id]` of every new term.
    pub term_to_id: Sorter<2>,
}

impl TermResolver {
    pub fn new(
        scratch: &Path,
        store: Option<StoreReader>,
        counters: Counters,
        map_memory: usize,
        sorter_memory: usize,
        spill_memory: usize,
    ) -> Result<Self> {
        Ok(Self {
            map: FxHashMap::default(),
            older: FxHashMap::default(),
            generation: generation_size(map_memory),
            spill: None,
            spilled: 0,
            spill_memory,
            filter_memory: filter_memory(map_memory),
            scratch: scratch.to_owned(),
            store,
            counters,
            first_new: counters,
            entities: Spool::create(&scratch.join("entities.spool"))?,
            literals: Spool::create(&scratch.join("literals.spool"))?,
            term_to_id: Sorter::new(scratch, "term-to-id", sorter_memory),
        })
    }

    /// The ids of a chunk's terms, in the chunk's order.
    pub fn resolve(&mut self, terms: &TermTable) -> Result<Vec<TermId>> {
        // A chunk adds at most one entry per term: rotating first keeps the newer table within
        // the capacity it was given, so it never doubles past the budget.
        if self.map.len() + terms.len() > self.generation {
            self.rotate()?;
        }
        let mut ids = vec![TermId::from_u64(u64::MAX); terms.len()];
        let mut missing = Vec::new();
        let mut promoted = Vec::new();
        for (i, hash) in terms.hashes.iter().enumerate() {
            let key = Key::of(*hash);
            if let Some(id) = self.map.get(&key) {
                ids[i] = *id;
            } else if let Some(id) = self.older.get(&key) {
                ids[i] = *id;
                promoted.push((key, *id));
            } else {
                missing.push(i);
            }
        }
        if let Some((spill, filter)) = &self.spill {
            // Most of what is missing is new, and the filter turns it away without a read.
            let (maybe, mut still): (Vec<usize>, Vec<usize>) = missing
                .into_iter()
                .partition(|&i| filter.may_contain(terms.hashes[i]));
            let keys: Vec<[u8; 16]> = maybe
                .iter()
                .map(|&i| terms.hashes[i].to_be_bytes())
                .collect();
            let found = spill.get_all(&keys);
            for (i, value) in maybe.into_iter().zip(found) {
                match value? {
                    Some(v) => {
                        ids[i] = decode_id(&v)?;
                        promoted.push((Key::of(terms.hashes[i]), ids[i]));
                    }
                    None => still.push(i),
                }
            }
            // New terms get their ids in the chunk's order, whatever the filter let through.
            still.sort_unstable();
            missing = still;
        }
        self.map.extend(promoted);
        for i in missing {
            let bytes = terms.get(i);
            let hash = terms.hashes[i];
            let existing = match &self.store {
                Some(store) => store.encoded_term_id(bytes)?,
                None => None,
            };
            let id = match existing {
                Some(id) => id,
                None => self.create(bytes)?,
            };
            ids[i] = id;
            self.map.insert(Key::of(hash), id);
        }
        Ok(ids)
    }

    fn create(&mut self, bytes: &[u8]) -> Result<TermId> {
        let id = if is_literal_encoding(bytes) {
            self.counters.next_literal += 1;
            let id = TermId::literal(self.counters.next_literal - 1);
            self.literals.write(id, bytes)?;
            id
        } else {
            self.counters.next_entity += 1;
            let id = TermId::entity(self.counters.next_entity - 1);
            self.entities.write(id, bytes)?;
            id
        };
        self.term_to_id.push([term_hash64(bytes), id.as_u64()])?;
        Ok(id)
    }

    /// Moves the older generation into the scratch database; the newer becomes the older.
    fn rotate(&mut self) -> Result<()> {
        if !self.older.is_empty() {
            let (spill, filter) = match &mut self.spill {
                Some(spill) => spill,
                None => self.spill.insert((
                    SpillTable::create(&self.scratch.join("term-spill"), self.spill_memory)?,
                    SpillFilter::with_memory(self.filter_memory),
                )),
            };
            // The generation goes out in slices of its hash range, each sorted on its own, so
            // the spill still receives its keys in order (its flushed files never overlap) while
            // the sorted copy is a slice, not a second table beside the two: a whole sorted copy
            // (32 bytes an entry) was larger than a table, and the load's peak whenever the map
            // spilled (1.23 GB under a 1 GiB limit at 100M, 1.01 GB in slices).
            for key in self.older.keys() {
                filter.insert(key.hash());
            }
            let mut slice: Vec<([u8; 16], TermId)> =
                Vec::with_capacity(self.older.len() / ROTATE_SLICES as usize * 9 / 8);
            for part in 0..ROTATE_SLICES {
                slice.clear();
                slice.extend(
                    self.older
                        .iter()
                        .filter(|(key, _)| key.slice() == part)
                        .map(|(key, id)| (key.hash().to_be_bytes(), *id)),
                );
                slice.sort_unstable_by_key(|(hash, _)| *hash);
                // Terms promoted out of the spill are written again: the same value, harmless.
                spill.put_all(
                    slice
                        .iter()
                        .map(|(hash, id)| (hash, id.as_u64().to_be_bytes())),
                )?;
            }
            self.spilled += self.older.len() as u64;
            // What the chunks since the last rotation freed lies among what is live. The slice
            // buffer is still held here (it is dropped at the end of this block), so its pages go
            // back at the next trim.
            memory::release_free_memory();
            self.older.clear();
        }
        // The emptied table keeps its allocation for the next generation. The first time it has
        // none: it takes its whole capacity now rather than doubling up to it beside the full
        // older one (one and a half tables more, for a moment).
        std::mem::swap(&mut self.map, &mut self.older);
        self.map.reserve(self.generation);
        Ok(())
    }

    /// The id-to-term spools of the new terms, to merge in id order.
    pub fn finish_spools(
        self,
    ) -> Result<(SpoolReader, SpoolReader, Sorter<2>, Counters, Counters)> {
        let entities = self.entities.finish()?;
        let literals = self.literals.finish()?;
        Ok((
            entities,
            literals,
            self.term_to_id,
            self.counters,
            self.first_new,
        ))
    }
}

fn decode_id(bytes: &[u8]) -> Result<TermId> {
    let raw: [u8; 8] = bytes
        .try_into()
        .map_err(|_| StoreError::Corruption("bad entry in the load's term spill".into()))?;
    Ok(TermId::from_u64(u64::from_be_bytes(raw)))
}

/// An append-only file of `(id, canonical term)` records in increasing id order.
struct Spool {
    out: BufWriter<File>,
    path: PathBuf,
}

impl Spool {
    fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(StoreError::io(path))?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            path: path.to_owned(),
        })
    }

    fn write(&mut self, id: TermId, bytes: &[u8]) -> Result<()> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| StoreError::InvalidInput("a term longer than 4 GiB".into()))?;
        self.out
            .write_all(&id.as_u64().to_le_bytes())
            .and_then(|()| self.out.write_all(&len.to_le_bytes()))
            .and_then(|()| self.out.write_all(bytes))
            .map_err(StoreError::io(&self.path))
    }

    fn finish(mut self) -> Result<SpoolReader> {
        self.out.flush().map_err(StoreError::io(&self.path))?;
        let file = File::open(&self.path).map_err(StoreError::io(&self.path))?;
        Ok(SpoolReader {
            input: BufReader::with_capacity(1 << 20, file),
            path: self.path,
        })
    }
}

pub struct SpoolReader {
    input: BufReader<File>,
    path: PathBuf,
}

impl SpoolReader {
    /// The next record, reusing `bytes`.
    pub fn next_into(&mut self, bytes: &mut Vec<u8>) -> Result<Option<TermId>> {
        let mut head = [0; 12];
        match self.input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(StoreError::io(&self.path)(e)),
        }
        let id = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(head[8..].try_into().expect("4 bytes")) as usize;
        bytes.resize(len, 0);
        self.input
            .read_exact(bytes)
            .map_err(StoreError::io(&self.path))?;
        Ok(Some(TermId::from_u64(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_full_generations_fit_the_budget_and_never_grow() {
        assert_eq!(size_of::<(Key, TermId)>(), 24);
        for budget in [64 << 20, 110 << 20, 1 << 30, 3 << 30, 1_000_000_007] {
            let generation = generation_size(budget);
            let table: FxHashMap<Key, TermId> =
                FxHashMap::with_capacity_and_hasher(generation, Default::default());
            // A table reserved for a generation holds exactly that many entries before growing.
            assert_eq!(table.capacity(), generation, "budget {budget}");
            let buckets = generation / 7 * 8;
            assert_eq!(buckets * BUCKET_BYTES, table_bytes(budget));
            assert!(2 * buckets * BUCKET_BYTES <= budget, "budget {budget}");
            // And it uses at least half the budget: the largest power of two that fits.
            assert!(4 * buckets * BUCKET_BYTES > budget, "budget {budget}");
        }
    }
}
