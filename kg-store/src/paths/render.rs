//! Path results as people read them: text with labels beside the IRIs, and JSON with the
//! terms as plain strings.

use super::query::{Path, PathResult};
use crate::error::Result;
use crate::id::TermId;
use crate::labels::Labels;
use crate::reader::StoreReader;
use crate::resolve::plain;
use serde_json::{json, Value};
use std::io::Write;

/// `{"paths":[{"hops":[{"s","p","o","forward"}]}],"truncated","truncated_by","expansions"}`.
pub fn result_json(reader: &StoreReader, result: &PathResult) -> Result<Value> {
    let mut paths = Vec::new();
    for path in &result.paths {
        let mut hops = Vec::new();
        for hop in &path.hops {
            hops.push(json!({
                "s": plain(&reader.term(hop.subject)?),
                "p": plain(&reader.term(hop.predicate)?),
                "o": plain(&reader.term(hop.object)?),
                "forward": hop.forward,
            }));
        }
        paths.push(json!({ "hops": hops }));
    }
    Ok(json!({
        "paths": paths,
        "truncated": result.is_truncated(),
        "truncated_by": result.truncated,
        "expansions": result.expansions,
    }))
}

/// `label <iri>`, or `<iri>` for an entity without a label.
fn describe(labels: &Labels, id: TermId) -> Result<String> {
    let term = plain(&labels.reader().term(id)?);
    Ok(match labels.label(id)? {
        Some(label) => format!("{label} <{term}>"),
        None => format!("<{term}>"),
    })
}

fn write_path(out: &mut dyn Write, labels: &Labels, n: usize, path: &Path) -> Result<()> {
    let io = |e| crate::error::StoreError::io("output")(e);
    writeln!(
        out,
        "path {} ({} hop{}):",
        n + 1,
        path.hops.len(),
        if path.hops.len() == 1 { "" } else { "s" }
    )
    .map_err(io)?;
    for hop in &path.hops {
        let p = labels.label(hop.predicate)?.unwrap_or_else(|| "?".into());
        let arrow = if hop.forward {
            format!("-[{p}]->")
        } else {
            format!("<-[{p}]-")
        };
        writeln!(
            out,
            "  {}  {arrow}  {}",
            describe(labels, hop.from())?,
            describe(labels, hop.to())?
        )
        .map_err(io)?;
    }
    Ok(())
}

/// The result as text: each path hop by hop with labels, and whether a limit cut it short.
pub fn write_result_text(out: &mut dyn Write, labels: &Labels, result: &PathResult) -> Result<()> {
    let io = |e| crate::error::StoreError::io("output")(e);
    if result.paths.is_empty() {
        writeln!(out, "no path").map_err(io)?;
    }
    for (n, path) in result.paths.iter().enumerate() {
        write_path(out, labels, n, path)?;
    }
    if let Some(t) = result.truncated {
        writeln!(
            out,
            "(truncated: the {t:?} limit was reached; more paths may exist)"
        )
        .map_err(io)?;
    }
    Ok(())
}
