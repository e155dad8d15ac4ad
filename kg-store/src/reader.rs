//! Reading the store: terms by id and ids by term, quads by pattern, the named graphs, all
//! through one consistent view (see [`StoreReader`]).

use crate::backend::{self, KeyIter, KeyValue, View};
use crate::error::{Result, StoreError};
use crate::id::{read_varint, write_varint, TermId};
use crate::keys::{
    self, id_to_term_key, pattern_prefix, prefix_end, term_to_id_prefix, EncodedQuad, QuadOrder,
};
use crate::meta::{Counters, COUNTERS_KEY};
use crate::term::{decode_term, encode_named_or_blank, encode_term, term_hash64};
use crate::term_cache::TermCache;
use oxrdf::{GraphName, NamedOrBlankNode, Term, TermRef};
use std::path::Path;
use std::sync::Arc;

/// Which graphs a pattern matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFilter {
    /// Every graph, the default one included.
    All,
    /// The default graph only.
    Default,
    /// Every named graph, not the default one.
    AnyNamed,
    /// One named graph.
    Named(TermId),
}

impl GraphFilter {
    #[inline]
    pub fn matches(self, graph: Option<TermId>) -> bool {
        match self {
            Self::All => true,
            Self::Default => graph.is_none(),
            Self::AnyNamed => graph.is_some(),
            Self::Named(g) => graph == Some(g),
        }
    }
}

/// A consistent read view of a store: every read through one reader sees the same state.
/// Cheap to clone; made by `Store::reader`.
#[derive(Clone)]
pub struct StoreReader {
    view: View,
    path: Arc<Path>,
    /// The store's, shared by all its readers.
    terms: Arc<TermCache>,
}

impl StoreReader {
    pub(crate) fn new(view: View, path: Arc<Path>, terms: Arc<TermCache>) -> Self {
        Self { view, path, terms }
    }

    /// The directory of the store this reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value under a raw key (for the crate's own tables).
    pub(crate) fn get_raw(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.view.get(key)
    }

    /// Keys that start with `prefix`, in order (for the crate's own tables).
    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> KeyIter {
        self.view.scan_prefix(prefix, backend::is_lookup(prefix))
    }

    /// Keys and values under a prefix, in order.
    pub(crate) fn scan_prefix_values(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<KeyValue>> + '_ {
        self.view.scan_prefix_values(prefix)
    }

    /// Keys and values in `[start, end)`, collected (for small tables such as the delta).
    pub(crate) fn scan_range(&self, start: &[u8], end: &[u8]) -> Vec<Result<KeyValue>> {
        self.view.scan_range(start, end)
    }

    pub(crate) fn counters(&self) -> Result<Counters> {
        match self.view.get(COUNTERS_KEY)? {
            Some(bytes) => Counters::decode(&bytes),
            None => Err(StoreError::Corruption(
                "the counters record is missing".into(),
            )),
        }
    }

    /// The id of a term, if the store has ever held it.
    pub fn term_id(&self, term: TermRef<'_>) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_term(term, &mut buf);
        self.encoded_term_id(&buf)
    }

    /// The id of a subject or graph name.
    pub fn node_id(&self, node: &NamedOrBlankNode) -> Result<Option<TermId>> {
        let mut buf = Vec::new();
        encode_named_or_blank(node.as_ref(), &mut buf);
        self.encoded_term_id(&buf)
    }

    /// The id of a term given in canonical form (see `term.rs`).
    pub(crate) fn encoded_term_id(&self, encoded: &[u8]) -> Result<Option<TermId>> {
        let prefix = term_to_id_prefix(term_hash64(encoded));
        let candidates: Vec<TermId> = self
            .view
            .scan_prefix(&prefix, true)
            .map(|key| {
                let key = key?;
                read_varint(&key[prefix.len()..])
                    .map(|(id, _)| TermId::from_u64(id))
                    .ok_or_else(|| StoreError::Corruption(format!("bad term-to-id key {key:?}")))
            })
            .collect::<Result<_>>()?;
        for id in candidates {
            if self.term_bytes(id)?.as_deref() == Some(encoded) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The canonical form of a term by id.
    pub(crate) fn term_bytes(&self, id: TermId) -> Result<Option<Vec<u8>>> {
        self.view.get(&id_to_term_key(id))
    }

    /// The term with this id (from the store's cache of recent terms when it is there).
    pub fn term(&self, id: TermId) -> Result<Term> {
        if let Some(term) = self.terms.get(id) {
            return Ok(term);
        }
        let bytes = self
            .term_bytes(id)?
            .ok_or_else(|| StoreError::Corruption(format!("no term has the id {id:?}")))?;
        let term = decode_term(&bytes)?;
        self.terms.insert(id, term.clone());
        Ok(term)
    }

    /// The quads that match a pattern, in the key order of the index that serves it.
    pub fn quads(
        &self,
        subject: Option<TermId>,
        predicate: Option<TermId>,
        object: Option<TermId>,
        graph: GraphFilter,
    ) -> QuadIter {
        let (order, prefix) = pattern_prefix(subject, predicate, object);
        // A bound subject or object is a row; a predicate alone (every label triple, for the
        // label build: at 100M it filled the whole block cache) or nothing is a long scan.
        let lookup = subject.is_some() || object.is_some();
        QuadIter {
            keys: self.view.scan_prefix(&prefix, lookup),
            order,
            graph,
        }
    }

    /// The first object of `predicate`, in id order, at or after `from` (`None` past the last):
    /// a seek, so random starting points sample the predicate's objects at no scan's cost.
    pub fn object_of_predicate_from(
        &self,
        predicate: TermId,
        from: TermId,
    ) -> Result<Option<TermId>> {
        let (order, prefix) = pattern_prefix(None, Some(predicate), None);
        let (_, start) = pattern_prefix(None, Some(predicate), Some(from));
        let _view = self.view.hold();
        // A seek and a key or two.
        let mut keys = self.view.scan_prefix(&prefix, true);
        keys.seek(&start);
        let Some(key) = keys.peek() else {
            return keys.status().map(|()| None);
        };
        let quad = order
            .read_key(key)
            .ok_or_else(|| StoreError::Corruption(format!("bad POS key {key:?}")))?;
        Ok(Some(quad.object))
    }

    /// Whether this exact quad is stored.
    pub fn contains(&self, quad: &EncodedQuad) -> Result<bool> {
        let mut key = Vec::new();
        QuadOrder::Spo.write_key(quad, &mut key);
        Ok(self.view.get(&key)?.is_some())
    }

    /// Named graphs the store knows: a graph exists from its first quad until it is dropped
    /// (SPARQL `DROP GRAPH`), as in oxigraph; removing its last quad leaves it, empty.
    pub fn named_graphs(&self) -> Result<Vec<TermId>> {
        let mut graphs = Vec::new();
        for key in self.view.scan_prefix(&[keys::GRAPHS], false) {
            let key = key?;
            let (g, _) = read_varint(&key[1..])
                .ok_or_else(|| StoreError::Corruption(format!("bad graph key {key:?}")))?;
            graphs.push(TermId::from_u64(g));
        }
        Ok(graphs)
    }

    /// The distinct predicates in use, counted by skipping from one to the next in POS order.
    pub fn distinct_predicates(&self) -> Result<u64> {
        let _view = self.view.hold();
        let mut keys = self.view.scan_prefix(&[keys::POS], false);
        let mut count = 0;
        while let Some(key) = keys.peek() {
            let (p, _) = read_varint(&key[1..])
                .ok_or_else(|| StoreError::Corruption(format!("bad POS key {key:?}")))?;
            count += 1;
            let mut prefix = vec![keys::POS];
            write_varint(&mut prefix, p);
            match prefix_end(&prefix) {
                Some(next) => keys.seek(&next),
                None => break,
            }
        }
        keys.status()?;
        Ok(count)
    }
}

/// The quads matching a pattern (see [`StoreReader::quads`]).
pub struct QuadIter {
    keys: KeyIter,
    order: QuadOrder,
    graph: GraphFilter,
}

impl Iterator for QuadIter {
    type Item = Result<EncodedQuad>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = match self.keys.advance()? {
                Ok(key) => key,
                Err(e) => return Some(Err(e)),
            };
            let Some(quad) = self.order.read_key(key) else {
                return Some(Err(StoreError::Corruption(format!("bad quad key {key:?}"))));
            };
            if self.graph.matches(quad.graph) {
                return Some(Ok(quad));
            }
        }
    }
}

/// Terms of the oxrdf API from our ids, for the crates above.
pub fn graph_name_of(reader: &StoreReader, graph: Option<TermId>) -> Result<GraphName> {
    Ok(match graph {
        None => GraphName::DefaultGraph,
        Some(g) => match reader.term(g)? {
            Term::NamedNode(n) => n.into(),
            Term::BlankNode(b) => b.into(),
            Term::Literal(l) => {
                return Err(StoreError::Corruption(format!(
                    "a literal {l} names a graph"
                )))
            }
        },
    })
}
