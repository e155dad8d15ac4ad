//! Live writes: a [`WriteTx`] resolves terms (allocating ids for new ones), checks what exists,
//! and collects keys and counters into one batch; derived indexes add their own records to the
//! same batch through an [`IndexHook`], so they can never disagree with the triples, and the
//! write path names none of them.

use crate::backend::{Batch, Db};
use crate::error::{Result, StoreError};
use crate::id::{read_varint, TermId};
use crate::keys::{
    graph_key, id_to_term_key, term_to_id_key, term_to_id_prefix, EncodedQuad, QuadOrder,
};
use crate::meta::{Counters, COUNTERS_KEY};
use crate::term::{
    encode_graph_name, encode_named_or_blank, encode_term, is_literal_encoding, term_hash64,
};
use oxrdf::{NamedOrBlankNode, Quad, QuadRef};
use rustc_hash::{FxHashMap, FxHashSet};

/// What one atomic write changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeSummary {
    pub inserted: u64,
    pub removed: u64,
}

/// One atomic write: quads to remove, then quads to add, then named graphs to drop (their quads
/// must be among the removals) and to create (empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub remove: Vec<Quad>,
    pub insert: Vec<Quad>,
    pub drop_graphs: Vec<NamedOrBlankNode>,
    pub create_graphs: Vec<NamedOrBlankNode>,
}

/// A derived index kept in step with live writes: fed every commit that changes quads, it adds
/// its records to the commit's own batch.
pub(crate) trait IndexHook: Send + Sync {
    fn on_commit(&self, commit: &Commit<'_>, batch: &mut Batch) -> Result<()>;
}

/// One quad whose presence a write flipped.
pub(crate) struct Flip {
    pub quad: Quad,
    pub ids: EncodedQuad,
    /// `true`: added; `false`: removed.
    pub present: bool,
}

/// A commit as index hooks see it, before it is written.
pub(crate) struct Commit<'a> {
    db: &'a Db,
    /// The commit's sequence number (`Counters::write_seq` after it).
    pub write_seq: u64,
    /// The flips in the order the write made them (a quad added then removed appears twice).
    pub flips: &'a [Flip],
    touched: &'a FxHashMap<EncodedQuad, bool>,
}

impl Commit<'_> {
    /// Each quad this commit changes, once, with whether it is present after it.
    pub(crate) fn net_changes(&self) -> impl Iterator<Item = (&EncodedQuad, bool)> {
        self.touched.iter().map(|(quad, present)| (quad, *present))
    }

    /// Whether this commit leaves `quad` present (`None`: it does not touch it).
    pub(crate) fn present_after(&self, quad: &EncodedQuad) -> Option<bool> {
        self.touched.get(quad).copied()
    }

    /// Keys under `prefix` as they are before this commit.
    pub(crate) fn keys_before<'k>(
        &'k self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<Box<[u8]>>> + 'k {
        self.db.keys_with_prefix(prefix)
    }
}

/// One atomic write in the making. Made and finished under the store's writer lock.
pub(crate) struct WriteTx<'a> {
    db: &'a Db,
    batch: Batch,
    counters: Counters,
    summary: ChangeSummary,
    /// Terms this write interned or looked up, by canonical form.
    terms: FxHashMap<Vec<u8>, TermId>,
    /// Quads whose presence this write changed: true = now present.
    touched: FxHashMap<EncodedQuad, bool>,
    flips: Vec<Flip>,
    /// Named graphs that gained a quad, or were created.
    new_graphs: FxHashSet<TermId>,
    /// Named graphs dropped.
    dropped_graphs: FxHashSet<TermId>,
    key: Vec<u8>,
}

impl<'a> WriteTx<'a> {
    pub(crate) fn new(db: &'a Db, counters: Counters) -> Self {
        Self {
            db,
            batch: Batch::default(),
            counters,
            summary: ChangeSummary::default(),
            terms: FxHashMap::default(),
            touched: FxHashMap::default(),
            flips: Vec::new(),
            new_graphs: FxHashSet::default(),
            dropped_graphs: FxHashSet::default(),
            key: Vec::new(),
        }
    }

    fn lookup(&mut self, encoded: Vec<u8>, create: bool) -> Result<Option<TermId>> {
        if let Some(id) = self.terms.get(&encoded) {
            return Ok(Some(*id));
        }
        let prefix = term_to_id_prefix(term_hash64(&encoded));
        let mut found = None;
        for key in self.db.keys_with_prefix(&prefix) {
            let key = key?;
            let Some((id, _)) = read_varint(&key[prefix.len()..]) else {
                return Err(StoreError::Corruption(format!(
                    "bad term-to-id key {key:?}"
                )));
            };
            let id = TermId::from_u64(id);
            if self.db.get(&id_to_term_key(id))?.as_deref() == Some(&encoded[..]) {
                found = Some(id);
                break;
            }
        }
        let id = match found {
            Some(id) => id,
            None if create => {
                let id = if is_literal_encoding(&encoded) {
                    self.counters.next_literal += 1;
                    TermId::literal(self.counters.next_literal - 1)
                } else {
                    self.counters.next_entity += 1;
                    TermId::entity(self.counters.next_entity - 1)
                };
                self.batch.put(id_to_term_key(id), &encoded);
                term_to_id_key(term_hash64(&encoded), id, &mut self.key);
                self.batch.put(&self.key, []);
                id
            }
            None => return Ok(None),
        };
        self.terms.insert(encoded, id);
        Ok(Some(id))
    }

    fn encode_quad(&mut self, quad: QuadRef<'_>, create: bool) -> Result<Option<EncodedQuad>> {
        let mut buf = Vec::new();
        encode_named_or_blank(quad.subject, &mut buf);
        let Some(subject) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        encode_term(quad.predicate.into(), &mut buf);
        let Some(predicate) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        encode_term(quad.object, &mut buf);
        let Some(object) = self.lookup(buf, create)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        let graph = if encode_graph_name(quad.graph_name, &mut buf) {
            match self.lookup(buf, create)? {
                Some(g) => Some(g),
                None => return Ok(None),
            }
        } else {
            None
        };
        Ok(Some(EncodedQuad {
            subject,
            predicate,
            object,
            graph,
        }))
    }

    fn present(&mut self, quad: &EncodedQuad) -> Result<bool> {
        if let Some(&present) = self.touched.get(quad) {
            return Ok(present);
        }
        QuadOrder::Spo.write_key(quad, &mut self.key);
        self.db.contains(&self.key)
    }

    pub(crate) fn insert(&mut self, quad_ref: QuadRef<'_>) -> Result<()> {
        let Some(quad) = self.encode_quad(quad_ref, true)? else {
            unreachable!("insertion creates missing terms")
        };
        if !self.present(&quad)? {
            for order in QuadOrder::ALL {
                order.write_key(&quad, &mut self.key);
                self.batch.put(&self.key, []);
            }
            if let Some(g) = quad.graph {
                if !self.dropped_graphs.contains(&g) {
                    self.new_graphs.insert(g);
                }
            }
            self.flip(quad_ref, quad, true);
            self.summary.inserted += 1;
            self.counters.quads += 1;
        }
        Ok(())
    }

    pub(crate) fn remove(&mut self, quad_ref: QuadRef<'_>) -> Result<()> {
        let Some(quad) = self.encode_quad(quad_ref, false)? else {
            return Ok(()); // a term the store never saw: the quad cannot be there
        };
        if self.present(&quad)? {
            for order in QuadOrder::ALL {
                order.write_key(&quad, &mut self.key);
                self.batch.delete(&self.key);
            }
            self.flip(quad_ref, quad, false);
            self.summary.removed += 1;
            self.counters.quads -= 1;
        }
        Ok(())
    }

    fn flip(&mut self, quad: QuadRef<'_>, ids: EncodedQuad, present: bool) {
        self.touched.insert(ids, present);
        self.flips.push(Flip {
            quad: quad.into_owned(),
            ids,
            present,
        });
    }

    fn graph_id(&mut self, graph: &NamedOrBlankNode, create: bool) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_named_or_blank(graph.as_ref(), &mut buf);
        self.lookup(buf, create)
    }

    pub(crate) fn drop_graph(&mut self, graph: &NamedOrBlankNode) -> Result<()> {
        if let Some(g) = self.graph_id(graph, false)? {
            self.new_graphs.remove(&g);
            self.dropped_graphs.insert(g);
        }
        Ok(())
    }

    pub(crate) fn create_graph(&mut self, graph: &NamedOrBlankNode) -> Result<()> {
        let g = self.graph_id(graph, true)?.expect("created");
        self.dropped_graphs.remove(&g);
        self.new_graphs.insert(g);
        Ok(())
    }

    /// Closes the write, letting each hook add its records: the batch to commit (empty when
    /// nothing changes), the counters after it, what changed.
    pub(crate) fn finish(
        mut self,
        hooks: &[Box<dyn IndexHook>],
    ) -> Result<(Batch, Counters, ChangeSummary)> {
        for &g in &self.dropped_graphs {
            self.batch.delete(graph_key(g));
        }
        for &g in &self.new_graphs {
            self.batch.put(graph_key(g), []);
        }
        if self.summary == ChangeSummary::default() {
            if !self.batch.is_empty() {
                self.counters.write_seq += 1;
                self.batch.put(COUNTERS_KEY, self.counters.encode());
            }
            return Ok((self.batch, self.counters, self.summary));
        }
        self.counters.write_seq += 1;
        let commit = Commit {
            db: self.db,
            write_seq: self.counters.write_seq,
            flips: &self.flips,
            touched: &self.touched,
        };
        for hook in hooks {
            hook.on_commit(&commit, &mut self.batch)?;
        }
        self.batch.put(COUNTERS_KEY, self.counters.encode());
        Ok((self.batch, self.counters, self.summary))
    }
}
