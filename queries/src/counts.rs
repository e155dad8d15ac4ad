//! Group counts over one triple pattern, answered from the index before evaluation.
//!
//! `SELECT ?country (COUNT(?person) AS ?n) WHERE { ?person wdt:P27 ?country } GROUP BY ?country`
//! is the commonest aggregate over a knowledge graph, and evaluating it row by row builds a
//! solution per triple only to count it. Here the predicate's quads are counted as they come off
//! the POS index (runs of one object; subjects in a hash map), and the `Group` node of the query's
//! algebra is replaced by the `VALUES` table of its answers, which the evaluator then orders,
//! filters and slices as before. What qualifies, and nothing else is touched:
//!
//! - a `Group` over a basic graph pattern of one triple pattern with a constant predicate and two
//!   different variables, in the default graph (no `GRAPH`, no `FROM`, no protocol dataset);
//! - grouped by the subject, the object or nothing (one group of every triple);
//! - every aggregate a count: `COUNT(*)`, `COUNT(?v)` of a pattern variable, with or without
//!   `DISTINCT` (a triple is stored once per graph, so distinct pairs are the triples).
//!
//! A group key that is a blank node cannot be written in `VALUES`; such a query is evaluated as
//! usual. A `Group` inside `LATERAL`'s right side, `GRAPH`, `SERVICE` or an `EXISTS` sees outer
//! bindings or another graph and is left alone.

use crate::error::Result;
use kg_store::{GraphFilter, StoreReader, TermId};
use oxrdf::{Literal, Term, Variable};
use rustc_hash::FxHashMap;
use spareval::CancellationToken;
use spargebra::algebra::{AggregateExpression, AggregateFunction, Expression, GraphPattern};
use spargebra::term::{GroundTerm, NamedNodePattern, TermPattern};
use spargebra::Query;

/// How often (in quads) a count checks whether its query was cancelled.
const CHECK_EVERY: u64 = 1 << 14;

/// `query` with every qualifying group count answered from `reader` (see the module
/// documentation); `None` when nothing qualified, so the caller keeps the original.
pub(crate) fn answer_group_counts(
    query: &Query,
    reader: &StoreReader,
    token: &CancellationToken,
) -> Result<Option<Query>> {
    let mut query = query.clone();
    let (Query::Select {
        dataset, pattern, ..
    }
    | Query::Construct {
        dataset, pattern, ..
    }
    | Query::Describe {
        dataset, pattern, ..
    }
    | Query::Ask {
        dataset, pattern, ..
    }) = &mut query;
    if dataset.is_some() {
        return Ok(None);
    }
    let mut counter = Counter { reader, token };
    Ok(counter.visit(pattern)?.then_some(query))
}

struct Counter<'a> {
    reader: &'a StoreReader,
    token: &'a CancellationToken,
}

/// What a group is keyed by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Subject,
    Object,
    Nothing,
}

impl Counter<'_> {
    /// Rewrites the qualifying groups under `pattern`; whether any was.
    fn visit(&mut self, pattern: &mut GraphPattern) -> Result<bool> {
        if let GraphPattern::Group {
            inner,
            variables,
            aggregates,
        } = pattern
        {
            if let Some(values) = self.counts(inner, variables, aggregates)? {
                *pattern = values;
                return Ok(true);
            }
        }
        Ok(match pattern {
            GraphPattern::Join { left, right }
            | GraphPattern::LeftJoin { left, right, .. }
            | GraphPattern::Union { left, right }
            | GraphPattern::Minus { left, right } => {
                let left = self.visit(left)?;
                self.visit(right)? || left
            }
            // The right side of LATERAL is evaluated with the left's bindings in place.
            GraphPattern::Lateral { left, .. } => self.visit(left)?,
            GraphPattern::Filter { inner, .. }
            | GraphPattern::Extend { inner, .. }
            | GraphPattern::OrderBy { inner, .. }
            | GraphPattern::Project { inner, .. }
            | GraphPattern::Distinct { inner }
            | GraphPattern::Reduced { inner }
            | GraphPattern::Slice { inner, .. }
            | GraphPattern::Group { inner, .. } => self.visit(inner)?,
            GraphPattern::Bgp { .. }
            | GraphPattern::Path { .. }
            | GraphPattern::Values { .. }
            | GraphPattern::Graph { .. }
            | GraphPattern::Service { .. } => false,
        })
    }

    /// The `VALUES` table that answers this group, when it qualifies.
    fn counts(
        &mut self,
        inner: &GraphPattern,
        variables: &[Variable],
        aggregates: &[(Variable, AggregateExpression)],
    ) -> Result<Option<GraphPattern>> {
        let GraphPattern::Bgp { patterns } = inner else {
            return Ok(None);
        };
        let [triple] = patterns.as_slice() else {
            return Ok(None);
        };
        let (
            TermPattern::Variable(subject),
            NamedNodePattern::NamedNode(predicate),
            TermPattern::Variable(object),
        ) = (&triple.subject, &triple.predicate, &triple.object)
        else {
            return Ok(None);
        };
        if subject == object || aggregates.is_empty() {
            return Ok(None);
        }
        let key = match variables {
            [] => Key::Nothing,
            [v] if v == subject => Key::Subject,
            [v] if v == object => Key::Object,
            _ => return Ok(None),
        };
        // Each aggregate's value per group: the group's triples (a distinct count of the other
        // variable too: a triple is stored once in a graph), or 1 for a distinct count of the
        // key itself.
        let mut ones = Vec::with_capacity(aggregates.len());
        for (_, aggregate) in aggregates {
            let one = match aggregate {
                AggregateExpression::CountSolutions { .. } => false,
                AggregateExpression::FunctionCall {
                    name: AggregateFunction::Count,
                    expr: Expression::Variable(v),
                    distinct,
                } if v == subject || v == object => match (key, *distinct) {
                    (_, false) => false,
                    (Key::Subject, true) => v == subject,
                    (Key::Object, true) => v == object,
                    // Distinct subjects (or objects) of the whole predicate are not its triples.
                    (Key::Nothing, true) => return Ok(None),
                },
                _ => return Ok(None),
            };
            ones.push(one);
        }
        let Some(predicate) = self.reader.term_id(predicate.as_ref().into())? else {
            // A predicate the store never held: no triple, so no group (or one group of 0).
            return Ok(Some(values(variables, aggregates, &ones, key, Vec::new())));
        };
        let groups = self.group_sizes(predicate, key)?;
        let mut rows = Vec::with_capacity(groups.len());
        for (id, count) in groups {
            let term = match id {
                None => None,
                Some(id) => match self.reader.term(id)? {
                    Term::NamedNode(n) => Some(GroundTerm::NamedNode(n)),
                    Term::Literal(l) => Some(GroundTerm::Literal(l)),
                    // VALUES cannot name a blank node: evaluate the query as usual.
                    #[allow(unreachable_patterns)]
                    _ => return Ok(None),
                },
            };
            rows.push((term, count));
        }
        Ok(Some(values(variables, aggregates, &ones, key, rows)))
    }

    /// How many default-graph quads of `predicate` each key has, in the index's order.
    fn group_sizes(&self, predicate: TermId, key: Key) -> Result<Vec<(Option<TermId>, u64)>> {
        let mut groups: Vec<(Option<TermId>, u64)> = Vec::new();
        let mut by_subject: FxHashMap<TermId, u64> = FxHashMap::default();
        let mut total = 0u64;
        for quad in self
            .reader
            .quads(None, Some(predicate), None, GraphFilter::Default)
        {
            let quad = quad?;
            total += 1;
            if total.is_multiple_of(CHECK_EVERY) && self.token.is_cancelled() {
                return Err(spareval::QueryEvaluationError::Cancelled.into());
            }
            match key {
                Key::Object => match groups.last_mut() {
                    Some((Some(last), count)) if *last == quad.object => *count += 1,
                    _ => groups.push((Some(quad.object), 1)),
                },
                Key::Subject => *by_subject.entry(quad.subject).or_default() += 1,
                Key::Nothing => {}
            }
        }
        Ok(match key {
            Key::Object => groups,
            Key::Subject => {
                let mut groups: Vec<_> =
                    by_subject.into_iter().map(|(s, n)| (Some(s), n)).collect();
                groups.sort_unstable_by_key(|(s, _)| *s);
                groups
            }
            Key::Nothing => vec![(None, total)],
        })
    }
}

/// The table of a group count: the key's column (when grouped), then one count per aggregate.
fn values(
    variables: &[Variable],
    aggregates: &[(Variable, AggregateExpression)],
    ones: &[bool],
    key: Key,
    rows: Vec<(Option<GroundTerm>, u64)>,
) -> GraphPattern {
    let mut columns: Vec<Variable> = variables.to_vec();
    columns.extend(aggregates.iter().map(|(v, _)| v.clone()));
    // One group of no triples when there is no key; none when there is one.
    let rows = if key == Key::Nothing && rows.is_empty() {
        vec![(None, 0)]
    } else {
        rows
    };
    let bindings = rows
        .into_iter()
        .map(|(term, count)| {
            let mut row: Vec<Option<GroundTerm>> = Vec::with_capacity(columns.len());
            if key != Key::Nothing {
                row.push(term);
            }
            for &one in ones {
                let n = if one { 1 } else { count };
                row.push(Some(GroundTerm::Literal(Literal::from(
                    i64::try_from(n).unwrap_or(i64::MAX),
                ))));
            }
            row
        })
        .collect();
    GraphPattern::Values {
        variables: columns,
        bindings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kg_store::Store;
    use oxrdf::{BlankNode, GraphName, NamedNode, Quad};

    fn iri(s: &str) -> NamedNode {
        NamedNode::new(format!("http://example.com/{s}")).unwrap()
    }

    /// Whether the group counts of `text` are answered from the index.
    fn answered(reader: &StoreReader, text: &str) -> bool {
        let query = spargebra::SparqlParser::new()
            .with_prefix("ex", "http://example.com/")
            .unwrap()
            .parse_query(text)
            .unwrap();
        answer_group_counts(&query, reader, &CancellationToken::new())
            .unwrap()
            .is_some()
    }

    #[test]
    fn the_benchmark_shapes_are_answered_from_the_index_and_the_rest_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let quad = |s: oxrdf::NamedOrBlankNode, p: &str, o: NamedNode| {
            Quad::new(s, iri(p), o, GraphName::DefaultGraph)
        };
        let quads = [
            quad(iri("a").into(), "p", iri("x")),
            quad(BlankNode::new_unchecked("b").into(), "p", iri("x")),
            quad(iri("a").into(), "q", iri("y")),
        ];
        store.insert(quads.iter().map(Quad::as_ref)).unwrap();
        let reader = store.reader();
        for text in [
            "SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?o ORDER BY DESC(?n) LIMIT 10",
            "SELECT (COUNT(*) AS ?n) WHERE { ?s ex:p ?o }",
            "SELECT ?s (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ex:q ?o } GROUP BY ?s",
            "SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ex:never ?o } GROUP BY ?o",
            "SELECT ?o ?n WHERE { ?a ex:q ?y { SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?o } }",
        ] {
            assert!(answered(&reader, text), "not answered from the index: {text}");
        }
        for text in [
            // A blank node cannot be written in VALUES.
            "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?s",
            "SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o",
            "SELECT ?o (COUNT(?s) AS ?n) FROM ex:g WHERE { ?s ex:p ?o } GROUP BY ?o",
            "SELECT ?o (SUM(?s) AS ?n) WHERE { ?s ex:p ?o } GROUP BY ?o",
            "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ex:p ?o }",
            "SELECT ?o (COUNT(?s) AS ?n) WHERE { ?s ex:p ?o ; ex:q ?y } GROUP BY ?o",
            "SELECT ?g ?n WHERE { GRAPH ?g { SELECT (COUNT(*) AS ?n) WHERE { ?s ex:p ?o } } }",
        ] {
            assert!(!answered(&reader, text), "answered from the index: {text}");
        }
    }
}
