//! Answers compared up to blank-node renaming: each answer is written as an RDF graph (solutions
//! in the W3C result-set vocabulary, `rs:`, as some expected results already are) and the two
//! graphs are compared after canonicalising their blank nodes.

use crate::engines::Answer;
use oxrdf::dataset::CanonicalizationAlgorithm;
use oxrdf::vocab::{rdf, xsd};
use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, Quad, Term};

const RS: &str = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#";

fn rs(name: &str) -> NamedNode {
    NamedNode::new_unchecked(format!("{RS}{name}"))
}

/// Whether a graph is a result set in the `rs:` vocabulary (not a CONSTRUCT's graph).
pub fn is_result_set(graph: &Dataset) -> bool {
    let set = rs("ResultSet");
    graph
        .iter()
        .any(|q| q.predicate == rdf::TYPE && q.object == set.as_ref().into())
}

/// Whether a result set says its solutions' order (`rs:index`).
pub fn is_ordered(graph: &Dataset) -> bool {
    let index = rs("index");
    graph.iter().any(|q| q.predicate == index.as_ref())
}

fn quad(s: &BlankNode, p: NamedNode, o: impl Into<Term>) -> Quad {
    Quad::new(s.clone(), p, o, GraphName::DefaultGraph)
}

/// The answer as a graph; `ordered` numbers the solutions.
pub fn to_dataset(answer: &Answer, ordered: bool) -> Dataset {
    let text = Literal::new_simple_literal;
    let mut out = Vec::new();
    match answer {
        Answer::Graph(triples) => {
            out.extend(
                triples
                    .iter()
                    .map(|t| t.clone().in_graph(GraphName::DefaultGraph)),
            );
        }
        Answer::Boolean(b) => {
            let set = BlankNode::default();
            out.push(quad(&set, rdf::TYPE.into_owned(), rs("ResultSet")));
            out.push(quad(&set, rs("boolean"), Literal::from(*b)));
        }
        Answer::Solutions { variables, rows } => {
            let set = BlankNode::default();
            out.push(quad(&set, rdf::TYPE.into_owned(), rs("ResultSet")));
            for v in variables {
                out.push(quad(&set, rs("resultVariable"), text(v.as_str())));
            }
            for (i, row) in rows.iter().enumerate() {
                let solution = BlankNode::default();
                out.push(quad(&set, rs("solution"), solution.clone()));
                if ordered {
                    let index = Literal::new_typed_literal((i + 1).to_string(), xsd::INTEGER);
                    out.push(quad(&solution, rs("index"), index));
                }
                for (v, value) in variables.iter().zip(row) {
                    let Some(value) = value else { continue };
                    let binding = BlankNode::default();
                    out.push(quad(&solution, rs("binding"), binding.clone()));
                    out.push(quad(&binding, rs("variable"), text(v.as_str())));
                    out.push(quad(&binding, rs("value"), value.clone()));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Canonical blank nodes and numbers, so that equal graphs compare equal.
pub fn canonical(graph: Dataset) -> Dataset {
    let mut graph: Dataset = graph
        .iter()
        .map(|q| {
            let mut q = q.into_owned();
            if let Term::Literal(l) = &q.object {
                q.object = canonical_number(l).map_or(q.object, Term::from);
            }
            q
        })
        .collect();
    graph.canonicalize(CanonicalizationAlgorithm::Unstable);
    graph
}

/// A numeric literal in one lexical form per value (`"3.0E4"` and `"30000"` are the same
/// xsd:double): the W3C results compare numbers by value, and engines may write either.
fn canonical_number(literal: &Literal) -> Option<Literal> {
    let datatype = literal.datatype();
    let value = literal.value();
    let lexical = if datatype == xsd::INTEGER {
        value.parse::<i128>().ok()?.to_string()
    } else if datatype == xsd::DOUBLE || datatype == xsd::FLOAT {
        let number = value.parse::<f64>().ok()?;
        if datatype == xsd::FLOAT {
            format!("{:e}", number as f32)
        } else {
            format!("{number:e}")
        }
    } else if datatype == xsd::DECIMAL {
        let (sign, digits) = match value.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", value.strip_prefix('+').unwrap_or(value)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let sign = if int == "0" && frac.is_empty() {
            ""
        } else {
            sign
        };
        if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    } else {
        return None;
    };
    Some(Literal::new_typed_literal(lexical, datatype))
}

/// What differs, for a failure's message: the quads each side has that the other lacks.
pub fn difference(expected: &Dataset, actual: &Dataset) -> String {
    let missing: Vec<String> = expected
        .iter()
        .filter(|q| !actual.contains(*q))
        .take(5)
        .map(|q| q.to_string())
        .collect();
    let extra: Vec<String> = actual
        .iter()
        .filter(|q| !expected.contains(*q))
        .take(5)
        .map(|q| q.to_string())
        .collect();
    format!(
        "{} expected quads, {} actual; missing: {missing:?}; unexpected: {extra:?}",
        expected.len(),
        actual.len()
    )
}
