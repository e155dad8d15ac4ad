//! The store as spareval's [`QueryableDataset`]: joins compare our integer ids.
//!
//! A term the query mentions but the store never held (a constant, a computed value) cannot be
//! an id; it stays a term. Since a stored term is always internalised to its id and an unstored
//! one never can be, equal terms always have equal internal forms.

use crate::error::QueryError;
use kg_store::{GraphFilter, StoreReader, TermId};
use oxrdf::Term;
use rustc_hash::{FxHashMap, FxHashSet};
use spareval::{InternalQuad, QueryableDataset};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// A term inside the evaluator.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum InternalTerm {
    Stored(TermId),
    /// Not in the store's dictionary (boxed to keep the common case small).
    Unstored(Box<Term>),
}

/// One query's terms as the evaluator internalised them: a query compares the same constants and
/// computed values again and again. (Terms by id come from the store's own cache of recent
/// terms, shared by every query.)
#[derive(Default)]
struct TermCache {
    by_term: FxHashMap<Term, InternalTerm>,
}

const CACHE_LIMIT: usize = 200_000;

/// A quad of internal terms; the graph is `None` for the default graph.
pub(crate) type QuadKey = (
    InternalTerm,
    InternalTerm,
    InternalTerm,
    Option<InternalTerm>,
);

/// The changes of an update request not yet committed, seen by its later operations.
#[derive(Clone, Default)]
pub(crate) struct Overlay {
    /// Quads added that the store does not hold.
    pub inserted: FxHashSet<QuadKey>,
    /// Stored quads taken away.
    pub removed: FxHashSet<QuadKey>,
    pub created_graphs: FxHashSet<InternalTerm>,
    pub dropped_graphs: FxHashSet<InternalTerm>,
}

/// A consistent view of a store for one query (plus, during an update, its pending changes).
#[derive(Clone)]
pub struct StoreDataset {
    reader: StoreReader,
    cache: Rc<RefCell<TermCache>>,
    deadline: Option<(Instant, std::time::Duration)>,
    overlay: Option<Rc<Overlay>>,
}

impl StoreDataset {
    pub fn new(reader: StoreReader, timeout: Option<std::time::Duration>) -> Self {
        Self {
            reader,
            cache: Rc::default(),
            deadline: timeout.map(|t| (Instant::now() + t, t)),
            overlay: None,
        }
    }

    /// The same view with an update's pending changes on top.
    pub(crate) fn with_overlay(&self, overlay: Overlay) -> Self {
        Self {
            overlay: Some(Rc::new(overlay)),
            ..self.clone()
        }
    }

    /// Whether the store (not the overlay) holds this quad.
    pub(crate) fn stored_quad(&self, key: &QuadKey) -> Result<bool, QueryError> {
        let (
            InternalTerm::Stored(subject),
            InternalTerm::Stored(predicate),
            InternalTerm::Stored(object),
        ) = (&key.0, &key.1, &key.2)
        else {
            return Ok(false);
        };
        let graph = match &key.3 {
            None => None,
            Some(InternalTerm::Stored(g)) => Some(*g),
            Some(InternalTerm::Unstored(_)) => return Ok(false),
        };
        Ok(self.reader.contains(&kg_store::EncodedQuad {
            subject: *subject,
            predicate: *predicate,
            object: *object,
            graph,
        })?)
    }

    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }

    /// The term of an id.
    pub fn term(&self, id: TermId) -> Result<Term, QueryError> {
        Ok(self.reader.term(id)?)
    }

    /// The named graphs, with the overlay's creations, drops and new quads.
    pub(crate) fn graph_names(&self) -> Result<Vec<InternalTerm>, QueryError> {
        let mut graphs: Vec<InternalTerm> = self
            .reader
            .named_graphs()?
            .into_iter()
            .map(InternalTerm::Stored)
            .collect();
        if let Some(overlay) = &self.overlay {
            graphs.retain(|g| !overlay.dropped_graphs.contains(g));
            let extra = overlay
                .created_graphs
                .iter()
                .chain(overlay.inserted.iter().filter_map(|q| q.3.as_ref()));
            for g in extra {
                if !graphs.contains(g) {
                    graphs.push(g.clone());
                }
            }
        }
        Ok(graphs)
    }

    fn stored(term: Option<&InternalTerm>) -> Result<Option<TermId>, ()> {
        match term {
            None => Ok(None),
            Some(InternalTerm::Stored(id)) => Ok(Some(*id)),
            Some(InternalTerm::Unstored(_)) => Err(()),
        }
    }
}

impl QueryableDataset<'static> for StoreDataset {
    type InternalTerm = InternalTerm;
    type Error = QueryError;

    fn internal_quads_for_pattern(
        &self,
        subject: Option<&InternalTerm>,
        predicate: Option<&InternalTerm>,
        object: Option<&InternalTerm>,
        graph_name: Option<Option<&InternalTerm>>,
    ) -> impl Iterator<Item = Result<InternalQuad<InternalTerm>, QueryError>> + use<> {
        let graph = match graph_name {
            None => Ok(GraphFilter::AnyNamed),
            Some(None) => Ok(GraphFilter::Default),
            Some(Some(g)) => Self::stored(Some(g)).map(|g| GraphFilter::Named(g.expect("given"))),
        };
        let bound = (
            Self::stored(subject),
            Self::stored(predicate),
            Self::stored(object),
            graph,
        );
        let pending: Vec<Result<InternalQuad<InternalTerm>, QueryError>> = match &self.overlay {
            Some(overlay) => overlay
                .inserted
                .iter()
                .filter(|(s, p, o, g)| {
                    subject.is_none_or(|x| x == s)
                        && predicate.is_none_or(|x| x == p)
                        && object.is_none_or(|x| x == o)
                        && match graph_name {
                            None => g.is_some(),
                            Some(None) => g.is_none(),
                            Some(Some(x)) => g.as_ref() == Some(x),
                        }
                })
                .map(|(s, p, o, g)| {
                    Ok(InternalQuad {
                        subject: s.clone(),
                        predicate: p.clone(),
                        object: o.clone(),
                        graph_name: g.clone(),
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        // A term the store never held matches nothing stored.
        let (Ok(s), Ok(p), Ok(o), Ok(graph)) = bound else {
            return Box::new(pending.into_iter()) as Box<dyn Iterator<Item = _>>;
        };
        let deadline = self.deadline;
        let overlay = self.overlay.clone();
        let mut seen = 0u32;
        let stored = self.reader.quads(s, p, o, graph).filter_map(move |quad| {
            seen = seen.wrapping_add(1);
            if seen.is_multiple_of(4096) {
                if let Some((at, budget)) = deadline {
                    if Instant::now() > at {
                        return Some(Err(QueryError::Timeout(budget)));
                    }
                }
            }
            let q = match quad {
                Ok(q) => q,
                Err(e) => return Some(Err(e.into())),
            };
            let key: QuadKey = (
                InternalTerm::Stored(q.subject),
                InternalTerm::Stored(q.predicate),
                InternalTerm::Stored(q.object),
                q.graph.map(InternalTerm::Stored),
            );
            if overlay.as_ref().is_some_and(|o| o.removed.contains(&key)) {
                return None;
            }
            Some(Ok(InternalQuad {
                subject: key.0,
                predicate: key.1,
                object: key.2,
                graph_name: key.3,
            }))
        });
        if pending.is_empty() {
            // The common case (every query, most update steps) skips the chain's check per row.
            Box::new(stored)
        } else {
            Box::new(stored.chain(pending))
        }
    }

    fn internal_named_graphs(
        &self,
    ) -> impl Iterator<Item = Result<InternalTerm, QueryError>> + use<> {
        let graphs = match self.graph_names() {
            Ok(graphs) => graphs.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        graphs.into_iter()
    }

    fn contains_internal_graph_name(&self, graph_name: &InternalTerm) -> Result<bool, QueryError> {
        Ok(self.graph_names()?.contains(graph_name))
    }

    fn internalize_term(&self, term: Term) -> Result<InternalTerm, QueryError> {
        if let Some(hit) = self.cache.borrow().by_term.get(&term) {
            return Ok(hit.clone());
        }
        let internal = match self.reader.term_id(term.as_ref())? {
            Some(id) => InternalTerm::Stored(id),
            None => InternalTerm::Unstored(Box::new(term.clone())),
        };
        let mut cache = self.cache.borrow_mut();
        if cache.by_term.len() >= CACHE_LIMIT {
            cache.by_term.clear();
        }
        cache.by_term.insert(term, internal.clone());
        Ok(internal)
    }

    fn externalize_term(&self, term: InternalTerm) -> Result<Term, QueryError> {
        match term {
            InternalTerm::Stored(id) => self.term(id),
            InternalTerm::Unstored(term) => Ok(*term),
        }
    }
}
