//! Terms as people write them (an IRI with or without angle brackets, a blank node, an
//! N-Triples literal, comma-separated lists) resolved to the store's ids: what the command line,
//! pair files and configurations hand to the store.

use crate::error::{Result, StoreError};
use crate::id::TermId;
use crate::reader::StoreReader;
use oxrdf::{NamedNode, Term};
use std::str::FromStr;

/// An IRI given with or without angle brackets.
pub fn parse_iri(text: &str) -> Result<NamedNode> {
    let inner = text.trim().trim_start_matches('<').trim_end_matches('>');
    NamedNode::new(inner).map_err(|e| StoreError::BadTerm {
        text: text.to_owned(),
        expected: "an IRI",
        reason: e.to_string(),
    })
}

/// An IRI (bare or bracketed), a blank node (`_:b`) or an N-Triples literal (`"Sun"@en`).
pub fn parse_term(text: &str) -> Result<Term> {
    let text = text.trim();
    if text.starts_with('"') || text.starts_with("_:") || text.starts_with('<') {
        Term::from_str(text).map_err(|e| StoreError::BadTerm {
            text: text.to_owned(),
            expected: "an RDF term",
            reason: e.to_string(),
        })
    } else {
        Ok(parse_iri(text)?.into())
    }
}

/// The items of comma-separated lists, trimmed, empty ones dropped.
fn items<'a>(lists: impl IntoIterator<Item = &'a str>) -> impl Iterator<Item = &'a str> {
    lists
        .into_iter()
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The ids of comma-separated entity IRIs, every one of which the store must hold; `what` names
/// them in errors ("source").
pub fn entity_ids(reader: &StoreReader, list: &str, what: &'static str) -> Result<Vec<TermId>> {
    let mut ids = Vec::new();
    for iri in items([list]) {
        let node = parse_iri(iri)?;
        match reader.term_id(node.as_ref().into())? {
            Some(id) => ids.push(id),
            None => {
                return Err(StoreError::UnknownTerm {
                    what,
                    term: node.to_string(),
                })
            }
        }
    }
    if ids.is_empty() {
        return Err(StoreError::InvalidInput(format!("no {what} given")));
    }
    Ok(ids)
}

/// The ids of predicates given as comma-separated IRI lists; ones the store never saw are
/// dropped (they label no edge anyway).
pub fn predicate_ids<'a>(
    reader: &StoreReader,
    lists: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<TermId>> {
    let mut ids = Vec::new();
    for iri in items(lists) {
        if let Some(id) = reader.term_id(parse_iri(iri)?.as_ref().into())? {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A triple pattern as written (`None`: any), resolved: `None` when a term the store never held
/// makes it match nothing.
pub fn pattern_ids(
    reader: &StoreReader,
    subject: Option<&str>,
    predicate: Option<&str>,
    object: Option<&str>,
) -> Result<Option<[Option<TermId>; 3]>> {
    let mut ids = [None; 3];
    for (slot, (text, any_term)) in
        ids.iter_mut()
            .zip([(subject, false), (predicate, false), (object, true)])
    {
        let Some(text) = text else { continue };
        let term = if any_term {
            parse_term(text)?
        } else {
            parse_iri(text)?.into()
        };
        match reader.term_id(term.as_ref())? {
            Some(id) => *slot = Some(id),
            None => return Ok(None),
        }
    }
    Ok(Some(ids))
}

/// A term as a plain string: an IRI without brackets, `_:id` for a blank node, a literal in
/// N-Triples form.
pub fn plain(term: &Term) -> String {
    match term {
        Term::NamedNode(n) => n.as_str().to_owned(),
        Term::BlankNode(b) => format!("_:{}", b.as_str()),
        Term::Literal(l) => l.to_string(),
    }
}
