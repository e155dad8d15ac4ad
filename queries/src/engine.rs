//! The entry point: parse, evaluate (with the path service, a time budget and a row limit),
//! update.

use crate::counts::answer_group_counts;
use crate::dataset::StoreDataset;
use crate::error::{QueryError, Result};
use crate::path_service::{service_name, PathService, SharedAdjacency};
use crate::update::{execute_update, LoadPolicy, UpdateSummary};
use kg_store::{Store, StoreReader};
use oxrdf::{GraphName, NamedNode, NamedOrBlankNode};
use spareval::{CancellationToken, QueryEvaluator, QueryResults};
use spargebra::{Query, SparqlParser, Update};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Limits and dataset of one query.
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// Wall-clock budget; past it the query fails with [`QueryError::Timeout`].
    pub timeout: Option<Duration>,
    /// Most result rows (solutions, or triples of a CONSTRUCT); more is [`QueryError::TooManyRows`].
    pub max_rows: Option<usize>,
    /// The SPARQL protocol's `default-graph-uri`: the default graph is their union.
    pub default_graphs: Vec<NamedNode>,
    /// The SPARQL protocol's `named-graph-uri`: the only named graphs visible.
    pub named_graphs: Vec<NamedNode>,
}

/// SPARQL over one store. Cheap to share between threads (an HTTP server's workers).
pub struct SparqlEngine {
    store: Store,
    adjacency: Arc<SharedAdjacency>,
}

impl SparqlEngine {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            adjacency: Arc::default(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Parses a query; a syntax error says where and what. Queries nested deeper than
    /// [`MAX_NESTING`] are refused before parsing: the parser and the evaluator recurse.
    pub fn parse_query(text: &str, base_iri: Option<&str>) -> Result<Query> {
        check_nesting(text, "query")?;
        parser(base_iri)?
            .parse_query(text)
            .map_err(|e| QueryError::Syntax(format!("invalid query: {e}")))
    }

    pub fn parse_update(text: &str, base_iri: Option<&str>) -> Result<Update> {
        check_nesting(text, "update")?;
        parser(base_iri)?
            .parse_update(text)
            .map_err(|e| QueryError::Syntax(format!("invalid update: {e}")))
    }

    /// Evaluates a query and hands its results to `consume` (which serialises them) while the
    /// time budget still watches: results are lazy.
    pub fn query<T>(
        &self,
        query: &Query,
        options: &QueryOptions,
        consume: impl FnOnce(QueryResults<'static>) -> Result<T>,
    ) -> Result<T> {
        self.query_cancellable(query, options, CancellationToken::new(), consume)
    }

    /// [`Self::query`], also stopped when `token` is cancelled (the endpoint cancels it when
    /// the client hangs up); the evaluation then fails.
    pub fn query_cancellable<T>(
        &self,
        query: &Query,
        options: &QueryOptions,
        token: CancellationToken,
        consume: impl FnOnce(QueryResults<'static>) -> Result<T>,
    ) -> Result<T> {
        let reader = self.store.reader();
        let watchdog = Watchdog::start(options.timeout, token.clone());
        let outcome = self.evaluate(query, options, reader, token, consume);
        let fired = watchdog.stop();
        match (outcome, options.timeout) {
            (Err(QueryError::Evaluation(_)), Some(budget)) if fired => {
                Err(QueryError::Timeout(budget))
            }
            (outcome, _) => outcome,
        }
    }

    /// The body of [`Self::query_cancellable`], under its watchdog.
    fn evaluate<T>(
        &self,
        query: &Query,
        options: &QueryOptions,
        reader: StoreReader,
        token: CancellationToken,
        consume: impl FnOnce(QueryResults<'static>) -> Result<T>,
    ) -> Result<T> {
        let protocol_dataset =
            !options.default_graphs.is_empty() || !options.named_graphs.is_empty();
        // Group counts read the store's default graph; a protocol dataset redefines it.
        let counted = if protocol_dataset {
            None
        } else {
            answer_group_counts(query, &reader, &token)?
        };
        let query = counted.as_ref().unwrap_or(query);
        let dataset = StoreDataset::new(reader.clone(), options.timeout);
        let evaluator = QueryEvaluator::new()
            .with_service_handler(
                service_name(),
                PathService::new(reader, self.store.clone(), Arc::clone(&self.adjacency)),
            )
            .with_cancellation_token(token.clone());
        let mut prepared = evaluator.prepare(query);
        if protocol_dataset {
            let spec = prepared.dataset_mut();
            spec.set_default_graph(
                options
                    .default_graphs
                    .iter()
                    .cloned()
                    .map(GraphName::from)
                    .collect(),
            );
            spec.set_available_named_graphs(
                options
                    .named_graphs
                    .iter()
                    .cloned()
                    .map(NamedOrBlankNode::from)
                    .collect(),
            );
        }
        prepared
            .execute(dataset)
            .map_err(QueryError::from)
            .and_then(consume)
    }

    /// Runs an update atomically. `LOAD` reads local files only when `load` allows it.
    pub fn update(&self, update: &Update, load: LoadPolicy) -> Result<UpdateSummary> {
        execute_update(&self.store, update, load)
    }
}

fn parser(base_iri: Option<&str>) -> Result<SparqlParser> {
    let parser = SparqlParser::new();
    match base_iri {
        Some(base) => parser
            .with_base_iri(base)
            .map_err(|e| QueryError::InvalidInput(format!("invalid base IRI {base:?}: {e}"))),
        None => Ok(parser),
    }
}

/// Cancels a query when its budget runs out; stopped (and joined) when the query ends first.
struct Watchdog {
    state: Arc<(Mutex<(bool, bool)>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    fn start(timeout: Option<Duration>, token: CancellationToken) -> Self {
        let state = Arc::new((Mutex::new((false, false)), Condvar::new()));
        let thread = timeout.map(|timeout| {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let (lock, wake) = &*state;
                let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (mut guard, _) = wake
                    .wait_timeout_while(guard, timeout, |(done, _)| !*done)
                    .unwrap_or_else(|e| e.into_inner());
                if !guard.0 {
                    guard.1 = true;
                    token.cancel();
                }
            })
        });
        Self { state, thread }
    }

    /// Stops watching; whether the budget had run out.
    fn stop(mut self) -> bool {
        let (lock, wake) = &*self.state;
        lock.lock().unwrap_or_else(|e| e.into_inner()).0 = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let fired = lock.lock().unwrap_or_else(|e| e.into_inner()).1;
        fired
    }
}

/// How deeply groups, expressions and blank-node lists (`{`, `(`, `[`) may nest in a query or
/// update. Parsing and evaluation recurse per level; a thread's stack holds about a thousand.
pub const MAX_NESTING: usize = 128;

fn check_nesting(text: &str, what: &str) -> Result<()> {
    let depth = nesting_depth(text);
    if depth > MAX_NESTING {
        return Err(QueryError::Syntax(format!(
            "invalid {what}: it nests {depth} levels deep (groups, parentheses, brackets); at most {MAX_NESTING} are allowed"
        )));
    }
    Ok(())
}

/// The deepest nesting of `{`, `(` and `[` outside strings, IRIs and comments.
fn nesting_depth(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let long = bytes[i..].starts_with(&[quote; 3]);
                i += if long { 3 } else { 1 };
                while i < bytes.len() {
                    if bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if long && bytes[i..].starts_with(&[quote; 3]) {
                        i += 2;
                        break;
                    }
                    if !long && (bytes[i] == quote || bytes[i] == b'\n') {
                        break;
                    }
                    i += 1;
                }
            }
            // An IRI (`<` then IRI characters up to `>`), not the less-than operator.
            b'<' => {
                let iri = bytes[i + 1..]
                    .iter()
                    .position(|&c| c == b'>' || c <= b' ' || b"<\"{}|^`\\".contains(&c));
                if let Some(n) = iri {
                    if bytes[i + 1 + n] == b'>' {
                        i += n + 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn nesting_counts_groups_not_strings_iris_or_comments() {
        assert_eq!(nesting_depth("SELECT * { ?s ?p ?o }"), 1);
        assert_eq!(nesting_depth("ASK { { ( [ ] ) } }"), 4);
        assert_eq!(nesting_depth("ASK { ?s ?p \"{{{{\" } # {{{{"), 1);
        assert_eq!(nesting_depth("ASK { ?s ?p \"\"\"a\n{{{\"\"\" }"), 1);
        assert_eq!(
            nesting_depth("ASK { <http://e/a#b> ?p ?o FILTER(?o < 3) }"),
            2
        );
        assert_eq!(
            nesting_depth(&format!("ASK {}{}", "{".repeat(1200), "}".repeat(1200))),
            1200
        );
        // A '#' inside an IRI starts no comment that could hide what follows.
        assert_eq!(
            nesting_depth(&format!("ASK {{ <a#> ?p ?o {} }}", "{".repeat(300))),
            301
        );
    }
}
