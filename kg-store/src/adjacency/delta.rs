//! The adjacency delta: edges added or removed by live writes after the CSR files were built.
//!
//! Each write batch that flips an edge (an entity-to-entity triple, in any graph) records it under
//! `[DELTA][write_seq][n]` in the same batch ([`DeltaHook`]), so the delta can never disagree
//! with the triples.

use crate::backend::Batch;
use crate::error::{Result, StoreError};
use crate::id::{read_varint, write_varint, TermId};
use crate::keys::{pattern_prefix, EncodedQuad, QuadOrder, DELTA};
use crate::writer::{Commit, IndexHook};
use rustc_hash::{FxHashMap, FxHashSet};

/// Records the edges a commit flips.
pub(crate) struct DeltaHook;

impl IndexHook for DeltaHook {
    fn on_commit(&self, commit: &Commit<'_>, batch: &mut Batch) -> Result<()> {
        // The adjacency ignores graphs: an edge exists while any graph holds its triple. For
        // each entity-to-entity triple the commit touches, compare before and after.
        let mut edges: FxHashMap<(TermId, TermId, TermId), bool> = FxHashMap::default();
        for (quad, present) in commit.net_changes() {
            if quad.object.is_entity() {
                *edges
                    .entry((quad.subject, quad.predicate, quad.object))
                    .or_default() |= present;
            }
        }
        let mut delta = Vec::new();
        for ((s, p, o), inserted) in edges {
            let (_, prefix) = pattern_prefix(Some(s), Some(p), Some(o));
            let (mut before, mut kept) = (false, false);
            for key in commit.keys_before(&prefix) {
                let key = key?;
                let quad: EncodedQuad = QuadOrder::Spo
                    .read_key(&key)
                    .ok_or_else(|| StoreError::Corruption(format!("bad SPO key {key:?}")))?;
                before = true;
                if commit.present_after(&quad) != Some(false) {
                    kept = true;
                    break;
                }
            }
            let after = kept || inserted;
            if before != after {
                delta.push(DeltaEdge {
                    subject: s,
                    predicate: p,
                    object: o,
                    added: after,
                });
            }
        }
        delta.sort_unstable();
        for (n, edge) in delta.into_iter().enumerate() {
            let (key, value) = edge.record(commit.write_seq, n as u32);
            batch.put(key, value);
        }
        Ok(())
    }
}

/// One edge flipped by a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeltaEdge {
    pub subject: TermId,
    pub predicate: TermId,
    pub object: TermId,
    /// `true`: the edge now exists; `false`: it no longer does.
    pub added: bool,
}

impl DeltaEdge {
    /// The key and value of this edge as the `n`-th flip of commit `write_seq`.
    pub(crate) fn record(&self, write_seq: u64, n: u32) -> (Vec<u8>, Vec<u8>) {
        let mut key = Vec::with_capacity(13);
        key.push(DELTA);
        key.extend_from_slice(&write_seq.to_be_bytes());
        key.extend_from_slice(&n.to_be_bytes());
        let mut value = vec![u8::from(self.added)];
        for id in [self.subject, self.predicate, self.object] {
            write_varint(&mut value, id.as_u64());
        }
        (key, value)
    }

    /// Decodes a record: the commit it belongs to and the edge.
    pub(crate) fn parse(key: &[u8], value: &[u8]) -> Result<(u64, Self)> {
        let bad = || StoreError::Corruption(format!("bad delta record {key:?} -> {value:?}"));
        if key.len() != 13 || key[0] != DELTA {
            return Err(bad());
        }
        let mut seq = [0; 8];
        seq.copy_from_slice(&key[1..9]);
        let (&added, rest) = value.split_first().ok_or_else(bad)?;
        let (s, rest) = read_varint(rest).ok_or_else(bad)?;
        let (p, rest) = read_varint(rest).ok_or_else(bad)?;
        let (o, rest) = read_varint(rest).ok_or_else(bad)?;
        if added > 1 || !rest.is_empty() {
            return Err(bad());
        }
        Ok((
            u64::from_be_bytes(seq),
            Self {
                subject: TermId::from_u64(s),
                predicate: TermId::from_u64(p),
                object: TermId::from_u64(o),
                added: added == 1,
            },
        ))
    }
}

/// The delta in memory: what path search adds to and takes from the CSR rows.
#[derive(Default, Clone)]
pub(crate) struct DeltaIndex {
    /// Added out-edges per subject row: `(object, predicate)`.
    pub out_added: FxHashMap<u32, Vec<[u32; 2]>>,
    /// Added in-edges per object row: `(subject, predicate)`.
    pub in_added: FxHashMap<u32, Vec<[u32; 2]>>,
    /// CSR edges that no longer exist: `(subject, predicate, object)`.
    pub removed: FxHashSet<(u32, u32, u32)>,
    /// Net change of each row's degree (out + in).
    pub degree_change: FxHashMap<u32, i64>,
    /// The last commit applied.
    pub last_seq: u64,
}

impl DeltaIndex {
    /// Applies one flip, in commit order.
    pub fn apply(&mut self, edge: &DeltaEdge) -> Result<()> {
        let index = |id: TermId| {
            id.entity_index().ok_or_else(|| {
                StoreError::Corruption(format!("delta edge with a non-entity {id:?}"))
            })
        };
        let (s, p, o) = (
            index(edge.subject)?,
            index(edge.predicate)?,
            index(edge.object)?,
        );
        let change = if edge.added {
            // Undo a removal of a CSR edge, or add a new one.
            if !self.removed.remove(&(s, p, o)) {
                self.out_added.entry(s).or_default().push([o, p]);
                self.in_added.entry(o).or_default().push([s, p]);
            }
            1
        } else {
            let mut was_added = false;
            if let Some(row) = self.out_added.get_mut(&s) {
                if let Some(i) = row.iter().position(|e| *e == [o, p]) {
                    row.swap_remove(i);
                    was_added = true;
                }
            }
            if was_added {
                if let Some(row) = self.in_added.get_mut(&o) {
                    if let Some(i) = row.iter().position(|e| *e == [s, p]) {
                        row.swap_remove(i);
                    }
                }
            } else {
                self.removed.insert((s, p, o));
            }
            -1
        };
        *self.degree_change.entry(s).or_default() += change;
        *self.degree_change.entry(o).or_default() += change;
        Ok(())
    }

    /// Keeps added rows sorted like CSR rows, so iteration order stays deterministic.
    pub fn sort_rows(&mut self) {
        for row in self
            .out_added
            .values_mut()
            .chain(self.in_added.values_mut())
        {
            row.sort_unstable();
        }
    }
}
