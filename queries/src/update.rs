//! SPARQL 1.1 Update: every operation of a request sees the ones before it, and the request
//! commits as one atomic write (or not at all, on any error).
//!
//! Operations run against a snapshot plus an overlay of pending changes; DELETE/INSERT WHERE is
//! evaluated by spareval over that view, fully, before its changes are applied. The net changes
//! go to the store in one `Store::apply_changes`, which also records the edges they flip in the
//! adjacency delta, so path queries see them at once.

use crate::dataset::{InternalTerm, Overlay, QuadKey, StoreDataset};
use crate::error::{QueryError, Result};
use kg_store::{Changes, LoadInput, Store};
use oxrdf::{GraphName, NamedNode, NamedOrBlankNode, Quad, Term};
use oxrdfio::RdfParser;
use spareval::{DeleteInsertQuad, QueryEvaluator, QueryableDataset};
use spargebra::algebra::GraphTarget;
use spargebra::{GraphUpdateOperation, Update};

/// What an update did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    pub operations: usize,
    pub inserted: u64,
    pub removed: u64,
}

/// Whether `LOAD <file>` may read local files (not over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadPolicy {
    Allow,
    Deny,
}

struct Executor {
    base: StoreDataset,
    overlay: Overlay,
    load: LoadPolicy,
}

impl Executor {
    fn view(&self) -> StoreDataset {
        self.base.with_overlay(self.overlay.clone())
    }

    fn key(&self, quad: &Quad) -> Result<QuadKey> {
        let term = |t: Term| self.base.internalize_term(t);
        let graph = match &quad.graph_name {
            GraphName::DefaultGraph => None,
            GraphName::NamedNode(g) => Some(term(g.clone().into())?),
            GraphName::BlankNode(g) => Some(term(g.clone().into())?),
        };
        Ok((
            term(quad.subject.clone().into())?,
            term(quad.predicate.clone().into())?,
            term(quad.object.clone())?,
            graph,
        ))
    }

    fn insert(&mut self, key: QuadKey) -> Result<()> {
        if !self.overlay.removed.remove(&key) && !self.base.stored_quad(&key)? {
            if let Some(g) = &key.3 {
                self.overlay.dropped_graphs.remove(g);
            }
            self.overlay.inserted.insert(key);
        }
        Ok(())
    }

    fn delete(&mut self, key: QuadKey) -> Result<()> {
        if !self.overlay.inserted.remove(&key) && self.base.stored_quad(&key)? {
            self.overlay.removed.insert(key);
        }
        Ok(())
    }

    fn graph_exists(&self, graph: &InternalTerm) -> Result<bool> {
        Ok(self.view().graph_names()?.contains(graph))
    }

    /// Removes every quad of the target's graphs; returns the named graphs it covered.
    fn clear(&mut self, target: &GraphTarget, silent: bool) -> Result<Vec<InternalTerm>> {
        let view = self.view();
        let graphs: Vec<Option<InternalTerm>> = match target {
            GraphTarget::DefaultGraph => vec![None],
            GraphTarget::NamedNode(g) => {
                let g = self.base.internalize_term(g.clone().into())?;
                if !self.graph_exists(&g)? {
                    if silent {
                        return Ok(Vec::new());
                    }
                    return Err(QueryError::InvalidInput(format!(
                        "the graph {} does not exist (use SILENT to ignore)",
                        self.base.externalize_term(g)?
                    )));
                }
                vec![Some(g)]
            }
            GraphTarget::NamedGraphs => view.graph_names()?.into_iter().map(Some).collect(),
            GraphTarget::AllGraphs => std::iter::once(None)
                .chain(view.graph_names()?.into_iter().map(Some))
                .collect(),
        };
        for graph in &graphs {
            let quads: Vec<QuadKey> = view
                .internal_quads_for_pattern(None, None, None, Some(graph.as_ref()))
                .map(|q| q.map(|q| (q.subject, q.predicate, q.object, q.graph_name)))
                .collect::<Result<_>>()?;
            for key in quads {
                self.delete(key)?;
            }
        }
        Ok(graphs.into_iter().flatten().collect())
    }

    fn run(
        &mut self,
        operation: &GraphUpdateOperation,
        base_iri: Option<&oxiri::Iri<String>>,
    ) -> Result<()> {
        match operation {
            GraphUpdateOperation::InsertData { data } => {
                for q in data {
                    let quad = Quad::new(
                        q.subject.clone(),
                        q.predicate.clone(),
                        q.object.clone(),
                        graph_name(&q.graph_name),
                    );
                    let key = self.key(&quad)?;
                    self.insert(key)?;
                }
            }
            GraphUpdateOperation::DeleteData { data } => {
                for q in data {
                    let quad = Quad::new(
                        q.subject.clone(),
                        q.predicate.clone(),
                        Term::from(q.object.clone()),
                        graph_name(&q.graph_name),
                    );
                    let key = self.key(&quad)?;
                    self.delete(key)?;
                }
            }
            GraphUpdateOperation::DeleteInsert {
                delete,
                insert,
                using,
                pattern,
            } => {
                let evaluator = QueryEvaluator::new();
                let changes: Vec<DeleteInsertQuad> = evaluator
                    .prepare_delete_insert(
                        delete.clone(),
                        insert.clone(),
                        base_iri.cloned(),
                        using.clone(),
                        pattern,
                    )
                    .execute(self.view())?
                    .collect::<Result<_, _>>()?;
                // Deletions first, then insertions, both computed from the state before.
                for change in &changes {
                    if let DeleteInsertQuad::Delete(q) = change {
                        let key = self.key(q)?;
                        self.delete(key)?;
                    }
                }
                for change in changes {
                    if let DeleteInsertQuad::Insert(q) = change {
                        let key = self.key(&q)?;
                        self.insert(key)?;
                    }
                }
            }
            GraphUpdateOperation::Load {
                silent,
                source,
                destination,
            } => {
                if let Err(e) = self.load(source, &graph_name(destination)) {
                    if !silent {
                        return Err(e);
                    }
                }
            }
            GraphUpdateOperation::Clear { silent, graph } => {
                self.clear(graph, *silent)?;
            }
            GraphUpdateOperation::Create { silent, graph } => {
                let g = self.base.internalize_term(graph.clone().into())?;
                if self.graph_exists(&g)? {
                    if !silent {
                        return Err(QueryError::InvalidInput(format!(
                            "the graph {graph} already exists (use SILENT to ignore)"
                        )));
                    }
                } else {
                    self.overlay.dropped_graphs.remove(&g);
                    self.overlay.created_graphs.insert(g);
                }
            }
            GraphUpdateOperation::Drop { silent, graph } => {
                for g in self.clear(graph, *silent)? {
                    self.overlay.created_graphs.remove(&g);
                    self.overlay.dropped_graphs.insert(g);
                }
            }
        }
        Ok(())
    }

    fn load(&mut self, source: &NamedNode, destination: &GraphName) -> Result<()> {
        if self.load == LoadPolicy::Deny {
            return Err(QueryError::InvalidInput("LOAD is refused here: load files with `kale load` or `kale update` on the command line".into()));
        }
        let path = match source.as_str().strip_prefix("file://") {
            Some(path) => std::path::PathBuf::from(path),
            None => {
                return Err(QueryError::InvalidInput(format!(
                    "LOAD reads local files only (file:///path), not {source}"
                )))
            }
        };
        let input = LoadInput::new(&path);
        let (reader, format) = input.open_with_format()?;
        let parser = RdfParser::from_format(format.rdf_format())
            .with_base_iri(source.as_str())
            .map_err(|e| QueryError::InvalidInput(e.to_string()))?;
        for quad in parser.for_reader(reader) {
            let quad =
                quad.map_err(|e| QueryError::InvalidInput(format!("{}: {e}", path.display())))?;
            let graph = if destination.is_default_graph() {
                quad.graph_name.clone()
            } else {
                destination.clone()
            };
            let key = self.key(&Quad::new(quad.subject, quad.predicate, quad.object, graph))?;
            self.insert(key)?;
        }
        Ok(())
    }

    fn into_changes(self) -> Result<Changes> {
        let quad = |(s, p, o, g): QuadKey| -> Result<Quad> {
            let node = |t: InternalTerm| -> Result<NamedOrBlankNode> {
                match self.base.externalize_term(t)? {
                    Term::NamedNode(n) => Ok(n.into()),
                    Term::BlankNode(b) => Ok(b.into()),
                    Term::Literal(l) => Err(QueryError::InvalidInput(format!(
                        "a literal {l} cannot be a subject or graph name"
                    ))),
                }
            };
            let Term::NamedNode(predicate) = self.base.externalize_term(p)? else {
                return Err(QueryError::InvalidInput(
                    "a predicate must be an IRI".into(),
                ));
            };
            let graph = match g {
                None => GraphName::DefaultGraph,
                Some(g) => match node(g)? {
                    NamedOrBlankNode::NamedNode(n) => n.into(),
                    NamedOrBlankNode::BlankNode(b) => b.into(),
                },
            };
            Ok(Quad::new(
                node(s)?,
                predicate,
                self.base.externalize_term(o)?,
                graph,
            ))
        };
        let graph_node = |g: &InternalTerm| -> Result<NamedOrBlankNode> {
            match self.base.externalize_term(g.clone())? {
                Term::NamedNode(n) => Ok(n.into()),
                Term::BlankNode(b) => Ok(b.into()),
                Term::Literal(l) => Err(QueryError::InvalidInput(format!(
                    "a literal {l} cannot name a graph"
                ))),
            }
        };
        Ok(Changes {
            remove: self
                .overlay
                .removed
                .iter()
                .cloned()
                .map(quad)
                .collect::<Result<_>>()?,
            insert: self
                .overlay
                .inserted
                .iter()
                .cloned()
                .map(quad)
                .collect::<Result<_>>()?,
            drop_graphs: self
                .overlay
                .dropped_graphs
                .iter()
                .map(graph_node)
                .collect::<Result<_>>()?,
            create_graphs: self
                .overlay
                .created_graphs
                .iter()
                .map(graph_node)
                .collect::<Result<_>>()?,
        })
    }
}

/// spargebra's graph names (an IRI or the default graph) as oxrdf's.
fn graph_name(g: &spargebra::term::GraphName) -> GraphName {
    match g {
        spargebra::term::GraphName::NamedNode(n) => n.clone().into(),
        spargebra::term::GraphName::DefaultGraph => GraphName::DefaultGraph,
    }
}

/// Runs a parsed update against a store: all of it, atomically, or nothing.
pub fn execute_update(store: &Store, update: &Update, load: LoadPolicy) -> Result<UpdateSummary> {
    // Under the writer lock from the snapshot to the commit: no other write can interleave.
    let summary = store.update_with(|reader| {
        let mut executor = Executor {
            base: StoreDataset::new(reader, None),
            overlay: Overlay::default(),
            load,
        };
        for operation in &update.operations {
            executor.run(operation, update.base_iri.as_ref())?;
        }
        executor.into_changes()
    })?;
    Ok(UpdateSummary {
        operations: update.operations.len(),
        inserted: summary.inserted,
        removed: summary.removed,
    })
}
