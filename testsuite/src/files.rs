//! Where the suites' IRIs live on disk: the W3C test IRIs (their canonical addresses, which
//! expected results are written against) mapped to the vendored copy under `rdf-tests/`.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Canonical IRI prefixes of the suites and the vendored directory each one names.
const PREFIXES: &[(&str, &str)] = &[
    ("https://w3c.github.io/rdf-tests/", ""),
    ("http://w3c.github.io/rdf-tests/", ""),
    (
        "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/",
        "sparql/sparql11/",
    ),
];

/// The vendored test suites' root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("rdf-tests")
}

/// The local file of a test IRI.
pub fn path_of(iri: &str) -> Result<PathBuf> {
    let iri = iri.split('#').next().unwrap_or(iri);
    PREFIXES
        .iter()
        .find_map(|(prefix, dir)| {
            iri.strip_prefix(prefix)
                .map(|rest| root().join(dir).join(rest))
        })
        .ok_or_else(|| Error::Suite(format!("{iri} is not an IRI of the vendored suites")))
}

/// The canonical IRI of a suite's manifest, from its directory under `rdf-tests/`
/// (`rdf/rdf11/rdf-turtle`, `sparql/sparql11/aggregates`).
pub fn manifest_iri(suite: &str) -> String {
    match suite.strip_prefix("sparql/sparql11/") {
        Some(rest) => format!("{}{rest}/manifest.ttl", PREFIXES[2].0),
        None => format!("{}{suite}/manifest.ttl", PREFIXES[0].0),
    }
}

/// A file's bytes, with its IRI in the error.
pub fn read(iri: &str) -> Result<Vec<u8>> {
    let path = path_of(iri)?;
    std::fs::read(&path).map_err(|e| Error::Suite(format!("{}: {e}", path.display())))
}
