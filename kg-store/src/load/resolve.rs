//! Term ids for a load: one sequential pass over the chunks, in input order, so ids are the same
//! for the same input whatever the thread count.
//!
//! A term is looked up in the load's in-memory map, then in its spill (a scratch RocksDB that the
//! map moves into when it outgrows its budget), then in the store; a term found nowhere gets the
//! next id of its kind. New terms go to two spools (entities and literals, each in id order) for
//! the id-to-term table, and to a sorter for the term-to-id table.
//!
//! The map has two generations, as a generational cache does: a term found in the older one or
//! in the spill moves into the newer, and when the newer is full the older goes to the spill and
//! the newer takes its place. A term a load keeps meeting (a hub, a class, a predicate) stays in
//! memory; spilling the whole map at once sent every such term to the spill's disk blocks once
//! per chunk until the load ended.

use super::parse::TermTable;
use super::sorter::Sorter;
use crate::backend::SpillTable;
use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::meta::Counters;
use crate::reader::StoreReader;
use crate::term::{is_literal_encoding, term_hash64};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes one map entry may cost: 24 of key and value, plus the table's slack and the transient
/// doubling while it grows.
const MAP_ENTRY_BYTES: usize = 64;

pub struct TermResolver {
    /// Terms met since the last rotation.
    map: FxHashMap<u128, TermId>,
    /// The generation before `map`: in memory, not yet (all) in the spill.
    older: FxHashMap<u128, TermId>,
    /// Entries a generation holds before it rotates: half the map's budget.
    generation: usize,
    spill: Option<SpillTable>,
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
    ) -> Result<Self> {
        Ok(Self {
            map: FxHashMap::default(),
            older: FxHashMap::default(),
            generation: (map_memory / MAP_ENTRY_BYTES / 2).max(1 << 15),
            spill: None,
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
        let mut ids = vec![TermId::from_u64(u64::MAX); terms.len()];
        let mut missing = Vec::new();
        let mut promoted = Vec::new();
        for (i, hash) in terms.hashes.iter().enumerate() {
            if let Some(id) = self.map.get(hash) {
                ids[i] = *id;
            } else if let Some(id) = self.older.get(hash) {
                ids[i] = *id;
                promoted.push((*hash, *id));
            } else {
                missing.push(i);
            }
        }
        if let Some(spill) = &self.spill {
            let keys: Vec<[u8; 16]> = missing
                .iter()
                .map(|&i| terms.hashes[i].to_be_bytes())
                .collect();
            let found = spill.get_all(&keys);
            let mut still = Vec::new();
            for (i, value) in missing.into_iter().zip(found) {
                match value? {
                    Some(v) => {
                        ids[i] = decode_id(&v)?;
                        promoted.push((terms.hashes[i], ids[i]));
                    }
                    None => still.push(i),
                }
            }
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
            self.map.insert(hash, id);
        }
        if self.map.len() > self.generation {
            self.rotate()?;
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
            let spill = match &self.spill {
                Some(spill) => spill,
                None => self
                    .spill
                    .insert(SpillTable::create(&self.scratch.join("term-spill"))?),
            };
            let mut entries: Vec<(u128, TermId)> = self.older.drain().collect();
            entries.sort_unstable_by_key(|(h, _)| *h);
            // Terms promoted out of the spill are written again: the same value, harmless.
            spill.put_all(
                entries
                    .iter()
                    .map(|(hash, id)| (hash.to_be_bytes(), id.as_u64().to_be_bytes())),
            )?;
        }
        // The emptied table keeps its allocation for the next generation.
        std::mem::swap(&mut self.map, &mut self.older);
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
