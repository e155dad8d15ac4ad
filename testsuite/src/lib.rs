#![doc = include_str!("../README.md")]

mod engines;
mod error;
mod files;
mod manifest;
mod outcome;
mod parser;
mod results;
mod sparql;

pub use engines::{Answer, Kale, Oxigraph, System};
pub use error::{Error, Result};
pub use manifest::{read_manifest, Test};
pub use outcome::Outcome;

/// The suites run, by their directory under `rdf-tests/`.
pub const PARSER_SUITES: &[&str] = &[
    "rdf/rdf11/rdf-n-triples",
    "rdf/rdf11/rdf-n-quads",
    "rdf/rdf11/rdf-turtle",
];

/// SPARQL 1.1's query suites (the update, protocol, federation, entailment and service
/// description suites are not run).
pub const SPARQL_SUITES: &[&str] = &[
    "sparql/sparql11/aggregates",
    "sparql/sparql11/bind",
    "sparql/sparql11/bindings",
    "sparql/sparql11/cast",
    "sparql/sparql11/construct",
    "sparql/sparql11/csv-tsv-res",
    "sparql/sparql11/exists",
    "sparql/sparql11/functions",
    "sparql/sparql11/grouping",
    "sparql/sparql11/json-res",
    "sparql/sparql11/negation",
    "sparql/sparql11/project-expression",
    "sparql/sparql11/property-path",
    "sparql/sparql11/subquery",
    "sparql/sparql11/syntax-query",
];

/// One suite's outcomes, test by test.
#[derive(Debug)]
pub struct SuiteReport {
    pub suite: &'static str,
    pub outcomes: Vec<(Test, Outcome)>,
}

impl SuiteReport {
    pub fn passed(&self) -> usize {
        self.count(|o| *o == Outcome::Pass)
    }

    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    pub fn unsupported(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unsupported(_)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.iter().filter(|(_, o)| f(o)).count()
    }

    /// The tests that failed, by IRI, with why.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &str)> {
        self.outcomes.iter().filter_map(|(t, o)| match o {
            Outcome::Fail(why) => Some((t.id.as_str(), why.as_str())),
            _ => None,
        })
    }
}

/// Runs every test of `suite` against `system`.
pub fn run_suite(system: &dyn System, suite: &'static str) -> Result<SuiteReport> {
    let tests = read_manifest(suite)?;
    let sparql = suite.starts_with("sparql/");
    let outcomes = tests
        .into_iter()
        .map(|test| {
            let outcome = if sparql {
                sparql::run(system, &test)
            } else {
                parser::run(system, &test)
            };
            (test, outcome)
        })
        .collect();
    Ok(SuiteReport { suite, outcomes })
}
