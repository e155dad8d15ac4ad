//! W3C test manifests (`manifest.ttl`): the list of entries, each test's type, name, action
//! (a file, or for SPARQL a query with its data) and expected result.

use crate::error::{Error, Result};
use crate::files;
use oxrdf::vocab::rdf;
use oxrdf::{Graph, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef};
use oxttl::TurtleParser;

const MF: &str = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const QT: &str = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#";

/// One test of a manifest.
#[derive(Clone, Debug)]
pub struct Test {
    /// Its IRI.
    pub id: String,
    /// Its type's local name (`TestTurtleEval`, `QueryEvaluationTest`, ...).
    pub kind: String,
    pub name: String,
    /// The input file (parser tests) or the query file (SPARQL tests).
    pub action: Option<String>,
    /// SPARQL: the default graph's files and the named graphs' files (each named by its IRI).
    pub data: Vec<String>,
    pub graph_data: Vec<String>,
    pub result: Option<String>,
}

fn local_name(iri: &str) -> String {
    iri.rsplit(['#', '/']).next().unwrap_or(iri).to_owned()
}

/// The tests of the manifest of `suite` (a directory under `rdf-tests/`), in its order.
pub fn read_manifest(suite: &str) -> Result<Vec<Test>> {
    let iri = files::manifest_iri(suite);
    let bytes = files::read(&iri)?;
    let graph: Graph = TurtleParser::new()
        .with_base_iri(&iri)
        .map_err(|e| Error::Suite(e.to_string()))?
        .for_slice(&bytes)
        .map(|t| t.map_err(|e| Error::Suite(format!("{iri}: {e}"))))
        .collect::<Result<_>>()?;
    let mf = |name: &str| NamedNode::new_unchecked(format!("{MF}{name}"));
    let qt = |name: &str| NamedNode::new_unchecked(format!("{QT}{name}"));
    let manifest = NamedNodeRef::new_unchecked(&iri);
    let object =
        |s: NamedOrBlankNodeRef<'_>, p: &NamedNode| graph.object_for_subject_predicate(s, p);
    let iri_of = |t: Option<TermRef<'_>>| match t {
        Some(TermRef::NamedNode(n)) => Some(n.as_str().to_owned()),
        _ => None,
    };
    let mut entries = Vec::new();
    let mut list = object(manifest.into(), &mf("entries")).map(TermRef::into_owned);
    while let Some(Term::BlankNode(node)) = &list {
        if let Some(first) = object(node.as_ref().into(), &rdf::FIRST.into_owned()) {
            entries.push(first.into_owned());
        }
        list = object(node.as_ref().into(), &rdf::REST.into_owned()).map(TermRef::into_owned);
    }
    let mut tests = Vec::new();
    for entry in entries {
        let Term::NamedNode(id) = entry else {
            return Err(Error::Suite(format!("{iri}: an entry that is not an IRI")));
        };
        let subject: NamedOrBlankNodeRef<'_> = id.as_ref().into();
        let kind = iri_of(object(subject, &rdf::TYPE.into_owned()))
            .map(|k| local_name(&k))
            .unwrap_or_default();
        let name = match object(subject, &mf("name")) {
            Some(TermRef::Literal(l)) => l.value().to_owned(),
            _ => local_name(id.as_str()),
        };
        let action_term = object(subject, &mf("action"));
        let (action, data, graph_data) = match action_term {
            Some(TermRef::BlankNode(b)) => {
                let of = |p: &str| -> Vec<String> {
                    graph
                        .objects_for_subject_predicate(b, &qt(p))
                        .filter_map(|t| iri_of(Some(t)))
                        .collect()
                };
                (of("query").into_iter().next(), of("data"), of("graphData"))
            }
            other => (iri_of(other), Vec::new(), Vec::new()),
        };
        tests.push(Test {
            id: id.as_str().to_owned(),
            kind,
            name,
            action,
            data,
            graph_data,
            result: iri_of(object(subject, &mf("result"))),
        });
    }
    Ok(tests)
}
