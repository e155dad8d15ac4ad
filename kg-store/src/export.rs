//! Writing a store's quads back out as N-Triples or N-Quads.

use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::reader::{GraphFilter, StoreReader};
use oxrdf::{GraphName, NamedOrBlankNode, Quad, Term};
use oxttl::{NQuadsSerializer, NTriplesSerializer};
use rustc_hash::FxHashMap;
use std::io::Write;

/// Resolves ids to terms, remembering the ones that repeat (predicates, graphs, the current
/// subject) so that a dump does not look each of them up again.
pub struct TermCache<'a> {
    reader: &'a StoreReader,
    cache: FxHashMap<TermId, Term>,
}

impl<'a> TermCache<'a> {
    pub fn new(reader: &'a StoreReader) -> Self {
        Self {
            reader,
            cache: FxHashMap::default(),
        }
    }

    /// The term of an id, cached.
    pub fn term(&mut self, id: TermId) -> Result<Term> {
        if let Some(term) = self.cache.get(&id) {
            return Ok(term.clone());
        }
        let term = self.reader.term(id)?;
        // Bound the cache: predicates and graphs repeat, the long tail does not.
        if self.cache.len() > 100_000 {
            self.cache.clear();
        }
        self.cache.insert(id, term.clone());
        Ok(term)
    }

    /// The oxrdf quad of an encoded quad.
    pub fn quad(&mut self, q: &crate::EncodedQuad) -> Result<Quad> {
        let subject = match self.term(q.subject)? {
            Term::NamedNode(n) => NamedOrBlankNode::from(n),
            Term::BlankNode(b) => b.into(),
            Term::Literal(l) => {
                return Err(StoreError::Corruption(format!("a literal {l} as subject")))
            }
        };
        let Term::NamedNode(predicate) = self.term(q.predicate)? else {
            return Err(StoreError::Corruption(format!(
                "predicate {:?} is no IRI",
                q.predicate
            )));
        };
        let object = self.term(q.object)?;
        let graph_name = match q.graph {
            None => GraphName::DefaultGraph,
            Some(g) => match self.term(g)? {
                Term::NamedNode(n) => n.into(),
                Term::BlankNode(b) => b.into(),
                Term::Literal(l) => {
                    return Err(StoreError::Corruption(format!(
                        "a literal {l} names a graph"
                    )))
                }
            },
        };
        Ok(Quad::new(subject, predicate, object, graph_name))
    }
}

/// Writes every quad: N-Triples when the store has only the default graph, N-Quads otherwise.
/// Returns the number of statements written.
pub fn dump(reader: &StoreReader, out: impl Write) -> Result<u64> {
    let quads = reader.quads(None, None, None, GraphFilter::All);
    let mut terms = TermCache::new(reader);
    let mut count = 0;
    let io = |e| StoreError::Io {
        path: "<output>".into(),
        source: e,
    };
    if reader.named_graphs()?.is_empty() {
        let mut serializer = NTriplesSerializer::new().for_writer(out);
        for q in quads {
            let quad = terms.quad(&q?)?;
            serializer.serialize_triple(quad.as_ref()).map_err(io)?;
            count += 1;
        }
        serializer.finish().flush().map_err(io)?;
    } else {
        let mut serializer = NQuadsSerializer::new().for_writer(out);
        for q in quads {
            let quad = terms.quad(&q?)?;
            serializer.serialize_quad(quad.as_ref()).map_err(io)?;
            count += 1;
        }
        serializer.finish().flush().map_err(io)?;
    }
    Ok(count)
}
