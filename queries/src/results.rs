//! Writing query results: the SPARQL results formats (sparesults), RDF for CONSTRUCT and
//! DESCRIBE (oxrdfio), and an aligned table for terminals.

use crate::error::{QueryError, Result};
use oxrdf::{Term, Variable};
use oxrdfio::{RdfFormat, RdfSerializer};
use sparesults::{QueryResultsFormat, QueryResultsSerializer};
use spareval::QueryResults;
use std::io::Write;

/// How to write solutions and booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SolutionsFormat {
    Standard(QueryResultsFormat),
    /// Aligned columns, for a terminal.
    Table,
}

impl SolutionsFormat {
    /// `json`, `xml`, `csv`, `tsv` or `table`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "table" => Self::Table,
            "json" => Self::Standard(QueryResultsFormat::Json),
            "xml" => Self::Standard(QueryResultsFormat::Xml),
            "csv" => Self::Standard(QueryResultsFormat::Csv),
            "tsv" => Self::Standard(QueryResultsFormat::Tsv),
            _ => return None,
        })
    }
}

/// What `--format` names: a solutions format or, for CONSTRUCT and DESCRIBE, a graph syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns, for a terminal (graphs as N-Triples).
    Table,
    Json,
    Xml,
    Csv,
    Tsv,
    /// N-Triples (graphs; solutions as a table).
    Nt,
    Ttl,
    Nq,
    Trig,
    /// RDF/XML.
    Rdf,
}

impl OutputFormat {
    /// How solutions and graphs are written under this format.
    pub fn formats(self) -> (SolutionsFormat, RdfFormat) {
        let solutions = |f| (SolutionsFormat::Standard(f), RdfFormat::NTriples);
        let graph = |g| (SolutionsFormat::Table, g);
        match self {
            Self::Table => (SolutionsFormat::Table, RdfFormat::NTriples),
            Self::Json => solutions(QueryResultsFormat::Json),
            Self::Xml => solutions(QueryResultsFormat::Xml),
            Self::Csv => solutions(QueryResultsFormat::Csv),
            Self::Tsv => solutions(QueryResultsFormat::Tsv),
            Self::Nt => graph(RdfFormat::NTriples),
            Self::Ttl => graph(RdfFormat::Turtle),
            Self::Nq => graph(RdfFormat::NQuads),
            Self::Trig => graph(RdfFormat::TriG),
            Self::Rdf => graph(RdfFormat::RdfXml),
        }
    }
}

/// What kind of result a query gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultKind {
    Solutions,
    Boolean,
    Graph,
}

/// Writes results; returns their kind and the rows (or triples) written.
pub fn write_results(
    results: QueryResults<'static>,
    solutions: SolutionsFormat,
    graph: RdfFormat,
    out: &mut dyn Write,
    max_rows: Option<usize>,
) -> Result<(ResultKind, u64)> {
    let limit = max_rows.unwrap_or(usize::MAX);
    match results {
        QueryResults::Boolean(value) => {
            match solutions {
                SolutionsFormat::Standard(format) => {
                    QueryResultsSerializer::from_format(format)
                        .serialize_boolean_to_writer(&mut *out, value)?;
                }
                SolutionsFormat::Table => writeln!(out, "{value}")?,
            }
            Ok((ResultKind::Boolean, 1))
        }
        QueryResults::Solutions(iter) => {
            let variables: Vec<Variable> = iter.variables().to_vec();
            let mut rows = 0u64;
            match solutions {
                SolutionsFormat::Standard(format) => {
                    let mut serializer = QueryResultsSerializer::from_format(format)
                        .serialize_solutions_to_writer(&mut *out, variables)?;
                    for solution in iter {
                        let solution = solution?;
                        rows += 1;
                        if rows as usize > limit {
                            return Err(QueryError::TooManyRows(limit));
                        }
                        serializer.serialize(&solution)?;
                    }
                    serializer.finish()?;
                }
                SolutionsFormat::Table => {
                    let mut table: Vec<Vec<String>> = Vec::new();
                    for solution in iter {
                        let solution = solution?;
                        if table.len() >= limit {
                            return Err(QueryError::TooManyRows(limit));
                        }
                        table.push(
                            variables
                                .iter()
                                .map(|v| solution.get(v).map_or(String::new(), cell))
                                .collect(),
                        );
                    }
                    rows = table.len() as u64;
                    write_table(out, &variables, &table)?;
                }
            }
            Ok((ResultKind::Solutions, rows))
        }
        QueryResults::Graph(triples) => {
            let mut serializer = RdfSerializer::from_format(graph).for_writer(&mut *out);
            let mut count = 0u64;
            for triple in triples {
                let triple = triple?;
                count += 1;
                if count as usize > limit {
                    return Err(QueryError::TooManyRows(limit));
                }
                serializer.serialize_triple(triple.as_ref())?;
            }
            serializer.finish()?;
            Ok((ResultKind::Graph, count))
        }
    }
}

/// A term as a table shows it: numbers and booleans bare, other terms in N-Triples syntax.
fn cell(term: &Term) -> String {
    use oxrdf::vocab::xsd;
    match term {
        Term::Literal(l)
            if [xsd::INTEGER, xsd::DECIMAL, xsd::DOUBLE, xsd::BOOLEAN].contains(&l.datatype()) =>
        {
            l.value().to_owned()
        }
        other => other.to_string(),
    }
}

fn write_table(out: &mut dyn Write, variables: &[Variable], rows: &[Vec<String>]) -> Result<()> {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([variables[i].as_str().chars().count() + 1])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..variables.len()).map(width).collect();
    let rule: String = widths
        .iter()
        .map(|w| "-".repeat(w + 2))
        .collect::<Vec<_>>()
        .join("+");
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!(" {c}{} ", " ".repeat(w - c.chars().count())))
            .collect::<Vec<_>>()
            .join("|")
    };
    writeln!(
        out,
        "{}",
        line(
            variables
                .iter()
                .map(|v| format!("?{}", v.as_str()))
                .collect()
        )
    )?;
    writeln!(out, "{rule}")?;
    for row in rows {
        writeln!(out, "{}", line(row.clone()))?;
    }
    writeln!(
        out,
        "({} row{})",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    )?;
    Ok(())
}
