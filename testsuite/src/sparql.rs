//! The SPARQL 1.1 query suites: syntax tests (the query parses, or must not) and evaluation
//! tests (the query over its default and named graphs gives the expected results).

use crate::engines::{Answer, System};
use crate::files;
use crate::manifest::Test;
use crate::outcome::Outcome;
use crate::results::{canonical, difference, is_ordered, is_result_set, to_dataset};
use oxrdf::{Dataset, GraphName, NamedNode, Quad};
use oxrdfio::{RdfFormat, RdfParser};
use sparesults::{QueryResultsFormat, QueryResultsParser, SliceQueryResultsParserOutput};

fn text(iri: &str) -> Result<String, String> {
    let bytes = files::read(iri).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| format!("{iri}: {e}"))
}

/// An RDF file's quads, in `graph`.
fn quads(iri: &str, graph: GraphName) -> Result<Vec<Quad>, String> {
    let format = RdfFormat::from_extension(iri.rsplit('.').next().unwrap_or(""))
        .ok_or_else(|| format!("no RDF format for {iri}"))?;
    let bytes = files::read(iri).map_err(|e| e.to_string())?;
    RdfParser::from_format(format)
        .with_base_iri(iri)
        .map_err(|e| e.to_string())?
        .for_slice(&bytes)
        .map(|q| {
            q.map(|q| Quad::new(q.subject, q.predicate, q.object, graph.clone()))
                .map_err(|e| format!("{iri}: {e}"))
        })
        .collect()
}

/// The expected answer as a graph, and whether its order counts.
fn expected(iri: &str, query_ordered: bool) -> Result<(Dataset, bool), String> {
    let extension = iri.rsplit('.').next().unwrap_or("");
    let results_format = match extension {
        "srx" => Some(QueryResultsFormat::Xml),
        "srj" => Some(QueryResultsFormat::Json),
        "tsv" => Some(QueryResultsFormat::Tsv),
        "csv" => Some(QueryResultsFormat::Csv),
        _ => None,
    };
    if let Some(format) = results_format {
        let bytes = files::read(iri).map_err(|e| e.to_string())?;
        let answer = match QueryResultsParser::from_format(format)
            .for_slice(&bytes)
            .map_err(|e| format!("{iri}: {e}"))?
        {
            SliceQueryResultsParserOutput::Boolean(b) => Answer::Boolean(b),
            SliceQueryResultsParserOutput::Solutions(solutions) => {
                let variables = solutions.variables().to_vec();
                let mut rows = Vec::new();
                for solution in solutions {
                    let solution = solution.map_err(|e| format!("{iri}: {e}"))?;
                    rows.push(variables.iter().map(|v| solution.get(v).cloned()).collect());
                }
                Answer::Solutions { variables, rows }
            }
        };
        return Ok((to_dataset(&answer, query_ordered), query_ordered));
    }
    let graph: Dataset = quads(iri, GraphName::DefaultGraph)?.into_iter().collect();
    let ordered = is_result_set(&graph) && is_ordered(&graph);
    Ok((graph, ordered))
}

/// Runs one SPARQL test against `system`.
pub fn run(system: &dyn System, test: &Test) -> Outcome {
    let Some(query_iri) = &test.action else {
        return Outcome::Unsupported("no query".into());
    };
    let query = match text(query_iri) {
        Ok(query) => query,
        Err(e) => return Outcome::Unsupported(e),
    };
    match test.kind.as_str() {
        "PositiveSyntaxTest11" | "PositiveSyntaxTest" => {
            match system.parse_query(&query, query_iri) {
                Ok(()) => Outcome::Pass,
                Err(e) => Outcome::Fail(format!("rejected a valid query: {e}")),
            }
        }
        "NegativeSyntaxTest11" | "NegativeSyntaxTest" => {
            match system.parse_query(&query, query_iri) {
                Ok(()) => Outcome::Fail("accepted an invalid query".into()),
                Err(_) => Outcome::Pass,
            }
        }
        "QueryEvaluationTest" => evaluate(system, test, query_iri, &query),
        "CSVResultFormatTest" => csv(system, test, query_iri, &query),
        other => Outcome::Unsupported(format!("test type {other}")),
    }
}

/// Whether the query orders its solutions (then so does the comparison).
fn orders(query: &str) -> bool {
    query.to_ascii_uppercase().contains("ORDER BY")
}

/// The default and named graphs of a test's dataset.
fn dataset(test: &Test) -> Result<Vec<Quad>, String> {
    let mut data = Vec::new();
    for iri in &test.data {
        data.extend(quads(iri, GraphName::DefaultGraph)?);
    }
    for iri in &test.graph_data {
        data.extend(quads(iri, NamedNode::new_unchecked(iri).into())?);
    }
    Ok(data)
}

/// CSV loses datatypes, so a CSV test compares the serialisation itself, row by row (in order
/// when the query has `ORDER BY`).
fn csv(system: &dyn System, test: &Test, query_iri: &str, query: &str) -> Outcome {
    let expected = test
        .result
        .as_deref()
        .ok_or_else(|| "no expected result".to_owned())
        .and_then(text);
    let (data, expected) = match dataset(test).and_then(|d| Ok((d, expected?))) {
        Ok(x) => x,
        Err(e) => return Outcome::Unsupported(e),
    };
    let Answer::Solutions { variables, rows } = (match system.query(&data, query, query_iri) {
        Ok(answer) => answer,
        Err(e) => return Outcome::Fail(format!("error: {e}")),
    }) else {
        return Outcome::Fail("not a SELECT answer".into());
    };
    let mut out = Vec::new();
    let mut writer = sparesults::QueryResultsSerializer::from_format(QueryResultsFormat::Csv)
        .serialize_solutions_to_writer(&mut out, variables.clone())
        .expect("writing to memory");
    for row in &rows {
        let solution = variables
            .iter()
            .zip(row)
            .filter_map(|(v, t)| t.as_ref().map(|t| (v.as_ref(), t.as_ref())));
        writer.serialize(solution).expect("writing to memory");
    }
    writer.finish().expect("writing to memory");
    let actual = String::from_utf8(out).expect("CSV is UTF-8");
    let ordered = orders(query);
    if csv_rows(&expected, ordered) == csv_rows(&actual, ordered) {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("expected\n{expected}\ngot\n{actual}"))
    }
}

/// CSV rows as column -> value maps (columns in any order, as `SELECT *` may give them), blank
/// node labels erased (they are the engine's to choose), sorted unless `ordered`.
fn csv_rows(text: &str, ordered: bool) -> Vec<Vec<(String, String)>> {
    fn fields(line: &str) -> Vec<String> {
        let (mut out, mut field, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        out.push(field);
        out
    }
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let header = lines.next().map(fields).unwrap_or_default();
    let mut rows: Vec<Vec<(String, String)>> = lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut row: Vec<(String, String)> = header
                .iter()
                .cloned()
                .zip(fields(line).into_iter().map(|v| {
                    if v.starts_with("_:") {
                        "_:".to_owned()
                    } else {
                        v
                    }
                }))
                .collect();
            row.sort();
            row
        })
        .collect();
    if !ordered {
        rows.sort();
    }
    rows
}

fn evaluate(system: &dyn System, test: &Test, query_iri: &str, query: &str) -> Outcome {
    let data = match dataset(test) {
        Ok(data) => data,
        Err(e) => return Outcome::Unsupported(e),
    };
    let Some(result) = &test.result else {
        return Outcome::Unsupported("no expected result".into());
    };
    let query_ordered = orders(query);
    let (expected, ordered) = match expected(result, query_ordered) {
        Ok(expected) => expected,
        Err(e) => return Outcome::Unsupported(format!("the expected result: {e}")),
    };
    let answer = match system.query(&data, query, query_iri) {
        Ok(answer) => answer,
        Err(e) => return Outcome::Fail(format!("error: {e}")),
    };
    let (expected, actual) = (canonical(expected), canonical(to_dataset(&answer, ordered)));
    if expected == actual {
        Outcome::Pass
    } else {
        Outcome::Fail(difference(&expected, &actual))
    }
}
