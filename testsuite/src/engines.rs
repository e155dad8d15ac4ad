//! The systems the suites run against: kale (the bulk loader into a fresh RocksDB store, the
//! SPARQL engine over it) and oxigraph's in-memory store as the reference, behind one trait.

use kale_queries::{QueryOptions, SparqlEngine};
use kg_store::{BulkLoader, LoadInput, Store};
use oxrdf::{Dataset, Quad};
use oxrdfio::{RdfFormat, RdfParser};
use spareval::QueryResults;
use std::path::Path;

/// What a query answered, owned.
#[derive(Debug)]
pub enum Answer {
    Boolean(bool),
    Solutions {
        variables: Vec<oxrdf::Variable>,
        rows: Vec<Vec<Option<oxrdf::Term>>>,
    },
    Graph(Vec<oxrdf::Triple>),
}

impl Answer {
    /// Drains a result iterator (evaluation errors become an error).
    pub fn collect(results: QueryResults<'_>) -> Result<Self, String> {
        Ok(match results {
            QueryResults::Boolean(b) => Self::Boolean(b),
            QueryResults::Solutions(solutions) => {
                let variables = solutions.variables().to_vec();
                let mut rows = Vec::new();
                for solution in solutions {
                    let solution = solution.map_err(|e| e.to_string())?;
                    rows.push(variables.iter().map(|v| solution.get(v).cloned()).collect());
                }
                Self::Solutions { variables, rows }
            }
            QueryResults::Graph(triples) => Self::Graph(
                triples
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string())?,
            ),
        })
    }
}

/// A system under test.
pub trait System {
    fn name(&self) -> &'static str;

    /// Parses `file` (of `format`, relative IRIs against `base`) the way the system loads
    /// files, and returns what it then holds.
    fn load_file(&self, file: &Path, format: RdfFormat, base: &str) -> Result<Dataset, String>;

    /// Parses a query as the system does.
    fn parse_query(&self, query: &str, base: &str) -> Result<(), String>;

    /// Loads `quads` into a fresh store and answers `query` (relative IRIs against `base`).
    fn query(&self, quads: &[Quad], query: &str, base: &str) -> Result<Answer, String>;
}

/// kale: `kale load` and `kale sparql`, through the crates' public APIs.
pub struct Kale;

impl System for Kale {
    fn name(&self) -> &'static str {
        "kale"
    }

    fn load_file(&self, file: &Path, format: RdfFormat, base: &str) -> Result<Dataset, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = Store::open(dir.path().join("store")).map_err(|e| e.to_string())?;
        let input = LoadInput {
            path: file.to_owned(),
            format: Some(match format {
                RdfFormat::NQuads => kg_store::InputFormat::NQuads,
                RdfFormat::Turtle => kg_store::InputFormat::Turtle,
                RdfFormat::TriG => kg_store::InputFormat::TriG,
                RdfFormat::RdfXml => kg_store::InputFormat::RdfXml,
                _ => kg_store::InputFormat::NTriples,
            }),
            base_iri: Some(base.to_owned()),
        };
        BulkLoader::new(&store)
            .load(&[input])
            .map_err(|e| e.to_string())?;
        let mut nquads = Vec::new();
        kg_store::export::dump(&store.reader(), &mut nquads).map_err(|e| e.to_string())?;
        RdfParser::from_format(RdfFormat::NQuads)
            .for_slice(&nquads)
            .collect::<Result<Dataset, _>>()
            .map_err(|e| format!("reading the dump back: {e}"))
    }

    fn parse_query(&self, query: &str, base: &str) -> Result<(), String> {
        SparqlEngine::parse_query(query, Some(base))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn query(&self, quads: &[Quad], query: &str, base: &str) -> Result<Answer, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let store = Store::open(dir.path().join("store")).map_err(|e| e.to_string())?;
        if !quads.is_empty() {
            store.insert(quads).map_err(|e| e.to_string())?;
        }
        let query = SparqlEngine::parse_query(query, Some(base)).map_err(|e| e.to_string())?;
        let engine = SparqlEngine::new(store);
        engine
            .query(&query, &QueryOptions::default(), |results| {
                Ok(Answer::collect(results))
            })
            .map_err(|e| e.to_string())?
    }
}

/// oxigraph's in-memory store: the reference.
pub struct Oxigraph;

impl System for Oxigraph {
    fn name(&self) -> &'static str {
        "oxigraph"
    }

    fn load_file(&self, file: &Path, format: RdfFormat, base: &str) -> Result<Dataset, String> {
        let store = oxigraph::store::Store::new().map_err(|e| e.to_string())?;
        let parser = RdfParser::from_format(format)
            .with_base_iri(base)
            .map_err(|e| e.to_string())?;
        let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
        store
            .load_from_slice(parser, &bytes)
            .map_err(|e| e.to_string())?;
        store
            .iter()
            .collect::<Result<Dataset, _>>()
            .map_err(|e| e.to_string())
    }

    fn parse_query(&self, query: &str, base: &str) -> Result<(), String> {
        oxigraph::sparql::SparqlEvaluator::new()
            .with_base_iri(base)
            .map_err(|e| e.to_string())?
            .parse_query(query)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn query(&self, quads: &[Quad], query: &str, base: &str) -> Result<Answer, String> {
        let store = oxigraph::store::Store::new().map_err(|e| e.to_string())?;
        store
            .extend(quads.iter().cloned())
            .map_err(|e| e.to_string())?;
        let results = oxigraph::sparql::SparqlEvaluator::new()
            .with_base_iri(base)
            .map_err(|e| e.to_string())?
            .parse_query(query)
            .map_err(|e| e.to_string())?
            .on_store(&store)
            .execute()
            .map_err(|e| e.to_string())?;
        Answer::collect(results)
    }
}
