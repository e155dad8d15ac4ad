//! `SERVICE <urn:kale:paths>`: paths between entity sets as solution rows, one per hop,
//! joinable with ordinary patterns (to fetch each hop's labels, say).
//!
//! ```sparql
//! PREFIX kale: <urn:kale:>
//! SELECT ?path ?hop ?s ?p ?o ?forward WHERE {
//!   SERVICE <urn:kale:paths> {
//!     [] kale:source <http://example.com/Sun> ;   # one or more
//!        kale:target <http://example.com/White> ; # one or more
//!        kale:maxHops 3 ; kale:limit 10 ;          # optional, as `kale paths`
//!        kale:path ?path ; kale:hop ?hop ;         # outputs: any subset
//!        kale:subject ?s ; kale:predicate ?p ; kale:object ?o ; kale:forward ?forward .
//!   }
//! }
//! ```
//!
//! Parameters: `kale:source`, `kale:target` (IRIs), `kale:maxHops`, `kale:limit`,
//! `kale:maxDegree` (integers; 0 = no hub cap), `kale:allow`, `kale:deny` (predicate IRIs),
//! `kale:forwardOnly` (boolean). Outputs: `kale:path` (path number from 1, shortest first),
//! `kale:length` (its hops), `kale:hop` (hop number from 1), `kale:subject`, `kale:predicate`,
//! `kale:object` (the stored triple), `kale:forward` (false when walked object to subject).
//!
//! spareval gives a service only its own pattern, not the bindings around it, so the parameters
//! are constants. It may call the service once per incoming solution: answers are memoised for
//! the query's lifetime.

use crate::error::QueryError;
use kg_store::paths::{find_paths, PathQuery};
use kg_store::{Adjacency, Store, StoreError, StoreReader, TermId};
use oxrdf::{Literal, NamedNode, Term, Variable};
use rustc_hash::FxHashMap;
use sparesults::QuerySolution;
use spareval::{QuerySolutionIter, ServiceHandler};
use spargebra::algebra::GraphPattern;
use spargebra::term::{NamedNodePattern, TermPattern};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// The IRI of the service.
pub const PATH_SERVICE: &str = "urn:kale:paths";
const NS: &str = "urn:kale:";

type Rows = (Arc<[Variable]>, Vec<Vec<Option<Term>>>);

/// The adjacency the path service reads, shared by every query of one engine: opened by the
/// first query that calls the service, then caught up with live writes as queries find it
/// behind. Queries take it concurrently (a read lock and a seek that finds nothing new); one
/// catch-up runs at a time, so a write's edges are applied once, not once per waiting query.
#[derive(Default)]
pub struct SharedAdjacency {
    current: RwLock<Option<Adjacency>>,
    catch_up: Mutex<()>,
}

impl SharedAdjacency {
    /// The adjacency as of now: at least as new as any view of `store` taken before the call.
    pub fn get(&self, store: &Store) -> Result<Adjacency, StoreError> {
        let seen = self.latest();
        if let Some(adjacency) = seen {
            if adjacency.is_current(store)? {
                return Ok(adjacency);
            }
        }
        let _one = self.catch_up.lock().unwrap_or_else(|e| e.into_inner());
        // Another query may have caught up while this one waited for the lock.
        let adjacency = match self.latest() {
            Some(mut adjacency) => {
                adjacency.refresh(store)?;
                adjacency
            }
            None => Adjacency::open(store)?,
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(adjacency.clone());
        Ok(adjacency)
    }

    fn latest(&self) -> Option<Adjacency> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The handler, for one query: the store view, and the adjacency it reads once the query calls
/// the service (a query that does not never touches it).
pub struct PathService {
    reader: StoreReader,
    store: Store,
    shared: Arc<SharedAdjacency>,
    adjacency: OnceLock<Result<Adjacency, Arc<StoreError>>>,
    memo: Mutex<FxHashMap<String, Arc<Rows>>>,
}

impl PathService {
    /// The handler of one query over `reader`, a view of `store`; `shared` is the engine's
    /// adjacency (opening it is an error only if the query calls the service).
    pub fn new(reader: StoreReader, store: Store, shared: Arc<SharedAdjacency>) -> Self {
        Self {
            reader,
            store,
            shared,
            adjacency: OnceLock::new(),
            memo: Mutex::default(),
        }
    }

    fn compute(&self, pattern: &GraphPattern) -> Result<Rows, QueryError> {
        let GraphPattern::Bgp { patterns } = pattern else {
            return Err(invalid("the body of SERVICE <urn:kale:paths> must be plain triples (no FILTER, OPTIONAL or nested groups)"));
        };
        let adjacency = self
            .adjacency
            .get_or_init(|| self.shared.get(&self.store).map_err(Arc::new))
            .as_ref()
            .map_err(|e| QueryError::NoAdjacency(Arc::clone(e)))?;
        let mut sources = Vec::new();
        let mut targets = Vec::new();
        let mut query = PathQuery::new(Vec::new(), Vec::new());
        let mut allow = Vec::new();
        let mut outputs: Vec<(Output, Variable)> = Vec::new();
        for triple in patterns {
            let NamedNodePattern::NamedNode(predicate) = &triple.predicate else {
                return Err(invalid(
                    "a variable predicate inside SERVICE <urn:kale:paths>",
                ));
            };
            let Some(name) = predicate.as_str().strip_prefix(NS) else {
                return Err(invalid(&format!("unknown parameter {predicate} in SERVICE <urn:kale:paths> (see its documentation)")));
            };
            if let Some(output) = Output::from_name(name) {
                let TermPattern::Variable(v) = &triple.object else {
                    return Err(invalid(&format!("kale:{name} must be given a variable")));
                };
                outputs.push((output, v.clone()));
                continue;
            }
            match name {
                "source" => sources.extend(self.entity(&triple.object)?),
                "target" => targets.extend(self.entity(&triple.object)?),
                "allow" => allow.extend(self.entity(&triple.object)?),
                "deny" => query.deny.extend(self.entity(&triple.object)?),
                "maxHops" => {
                    query.max_hops = u32::try_from(integer(&triple.object, name)?)
                        .map_err(|_| invalid("kale:maxHops is past 4294967295"))?;
                }
                "limit" => {
                    query.max_paths = usize::try_from(integer(&triple.object, name)?)
                        .map_err(|_| invalid("kale:limit is past the address space"))?;
                }
                "maxDegree" => {
                    let d = integer(&triple.object, name)?;
                    query.max_degree = (d > 0).then_some(d);
                }
                "forwardOnly" => query.both_directions = !boolean(&triple.object, name)?,
                other => {
                    return Err(invalid(&format!(
                        "unknown parameter kale:{other} in SERVICE <urn:kale:paths>"
                    )))
                }
            }
        }
        if !allow.is_empty() {
            query.allow = Some(allow);
        }
        query.sources = sources;
        query.targets = targets;
        let result = find_paths(adjacency, &query);
        let variables: Arc<[Variable]> = outputs.iter().map(|(_, v)| v.clone()).collect();
        let mut rows = Vec::new();
        // Hops repeat their entities and predicates; the store's term cache serves the repeats.
        let term = |id: TermId| -> Result<Term, QueryError> { Ok(self.reader.term(id)?) };
        for (p, path) in result.paths.iter().enumerate() {
            for (h, hop) in path.hops.iter().enumerate() {
                let mut row = Vec::with_capacity(outputs.len());
                for (output, _) in &outputs {
                    row.push(Some(match output {
                        Output::Path => Literal::from(p as i64 + 1).into(),
                        Output::Length => Literal::from(path.hops.len() as i64).into(),
                        Output::Hop => Literal::from(h as i64 + 1).into(),
                        Output::Subject => term(hop.subject)?,
                        Output::Predicate => term(hop.predicate)?,
                        Output::Object => term(hop.object)?,
                        Output::Forward => Literal::from(hop.forward).into(),
                    }));
                }
                rows.push(row);
            }
        }
        Ok((variables, rows))
    }

    /// An entity constant; one the store never saw is no entity (and matches nothing).
    fn entity(&self, pattern: &TermPattern) -> Result<Option<TermId>, QueryError> {
        match pattern {
            TermPattern::NamedNode(n) => Ok(self.reader.term_id(n.as_ref().into())?),
            _ => Err(invalid(
                "kale:source, kale:target, kale:allow and kale:deny take IRIs",
            )),
        }
    }
}

#[derive(Clone, Copy)]
enum Output {
    Path,
    Length,
    Hop,
    Subject,
    Predicate,
    Object,
    Forward,
}

impl Output {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "path" => Self::Path,
            "length" => Self::Length,
            "hop" => Self::Hop,
            "subject" => Self::Subject,
            "predicate" => Self::Predicate,
            "object" => Self::Object,
            "forward" => Self::Forward,
            _ => return None,
        })
    }
}

fn invalid(message: &str) -> QueryError {
    QueryError::InvalidInput(message.to_owned())
}

fn literal<'a>(pattern: &'a TermPattern, name: &str) -> Result<&'a Literal, QueryError> {
    match pattern {
        TermPattern::Literal(l) => Ok(l),
        _ => Err(invalid(&format!("kale:{name} takes a literal"))),
    }
}

fn integer(pattern: &TermPattern, name: &str) -> Result<u64, QueryError> {
    literal(pattern, name)?
        .value()
        .parse()
        .map_err(|_| invalid(&format!("kale:{name} takes a non-negative integer")))
}

fn boolean(pattern: &TermPattern, name: &str) -> Result<bool, QueryError> {
    match literal(pattern, name)?.value() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(invalid(&format!("kale:{name} takes true or false"))),
    }
}

impl ServiceHandler for PathService {
    type Error = QueryError;

    fn handle(
        &self,
        pattern: &GraphPattern,
        _base_iri: Option<&oxiri::Iri<String>>,
    ) -> Result<QuerySolutionIter<'static>, QueryError> {
        let key = pattern.to_string();
        let cached = self
            .memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let rows = match cached {
            Some(rows) => rows,
            None => {
                let rows = Arc::new(self.compute(pattern)?);
                self.memo
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, Arc::clone(&rows));
                rows
            }
        };
        let variables = Arc::clone(&rows.0);
        let solutions: Vec<_> = rows
            .1
            .iter()
            .map(|row| Ok(QuerySolution::from((Arc::clone(&variables), row.clone()))))
            .collect();
        Ok(QuerySolutionIter::new(variables, solutions))
    }
}

/// The service's IRI as a node.
pub fn service_name() -> NamedNode {
    NamedNode::new_unchecked(PATH_SERVICE)
}
