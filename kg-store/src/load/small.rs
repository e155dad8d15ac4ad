//! Small loads into an indexed store: the parsed chunks held back while the load may still be
//! small, and their quads as terms for one live write.
//!
//! Rebuilding the adjacency and the label index after a load costs time in proportion to the
//! whole store (minutes at 100M triples), whatever the load's size. A load of at most
//! [`super::SMALL_LOAD_QUADS`] quads into a store whose indexes are current therefore goes in
//! as one live write instead: the adjacency delta and the label index take its triples in the
//! same atomic batch, exactly as for a SPARQL update, and nothing is rebuilt.

use super::parse::{ParsedChunk, DEFAULT_GRAPH};
use crate::error::{Result, StoreError};
use crate::term::decode_term;
use oxrdf::{GraphName, NamedOrBlankNode, Quad, Term};

/// Parsed chunks held back, and how many more quads may join them.
pub(super) struct SmallLoad {
    pub chunks: Vec<ParsedChunk>,
    room: u64,
}

impl SmallLoad {
    /// Room for `room` quads.
    pub fn new(room: u64) -> Self {
        Self {
            chunks: Vec::new(),
            room,
        }
    }

    /// Holds `chunk` back; `false` once the quads held are more than the room (the chunk is held
    /// all the same, for the caller to take back).
    pub fn hold(&mut self, chunk: ParsedChunk) -> bool {
        let quads = chunk.quads.len() as u64;
        self.chunks.push(chunk);
        match self.room.checked_sub(quads) {
            Some(left) => {
                self.room = left;
                true
            }
            None => false,
        }
    }

    /// The quads held, in input order, as terms.
    pub fn quads(&self) -> Result<Vec<Quad>> {
        let mut quads = Vec::new();
        for chunk in &self.chunks {
            let term = |i: u32| decode_term(chunk.terms.get(i as usize));
            for &[s, p, o, g] in &chunk.quads {
                let graph_name = if g == DEFAULT_GRAPH {
                    GraphName::DefaultGraph
                } else {
                    node(term(g)?)?.into()
                };
                let Term::NamedNode(predicate) = term(p)? else {
                    return Err(StoreError::Corruption(
                        "a parsed predicate is not an IRI".into(),
                    ));
                };
                quads.push(Quad::new(node(term(s)?)?, predicate, term(o)?, graph_name));
            }
        }
        Ok(quads)
    }
}

/// A parsed subject or graph name, which the parser only ever gives as an IRI or blank node.
fn node(term: Term) -> Result<NamedOrBlankNode> {
    match term {
        Term::NamedNode(n) => Ok(n.into()),
        Term::BlankNode(b) => Ok(b.into()),
        Term::Literal(_) => Err(StoreError::Corruption(
            "a parsed subject or graph name is a literal".into(),
        )),
    }
}
