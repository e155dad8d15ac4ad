//! The canonical byte form of an RDF term: what the dictionary stores and what term hashes are
//! computed over.
//!
//! One tag byte, then the term's text. Literals keep their lexical form exactly as written
//! (`"+1"^^xsd:integer` stays `+1`): the store never rewrites its users' data. A NUL separates a
//! language tag or datatype IRI from the value; neither may contain one, the value may.

use crate::error::StoreError;
use oxrdf::vocab::{rdf, xsd};
use oxrdf::{BlankNode, GraphNameRef, Literal, NamedNode, NamedOrBlankNodeRef, Term, TermRef};
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

const IRI: u8 = 1;
const BLANK_NODE: u8 = 2;
const SIMPLE_LITERAL: u8 = 3;
const LANG_LITERAL: u8 = 4;
const TYPED_LITERAL: u8 = 5;

/// Appends the canonical form of `term` to `out`.
pub fn encode_term(term: TermRef<'_>, out: &mut Vec<u8>) {
    match term {
        TermRef::NamedNode(n) => {
            out.push(IRI);
            out.extend_from_slice(n.as_str().as_bytes());
        }
        TermRef::BlankNode(b) => {
            out.push(BLANK_NODE);
            out.extend_from_slice(b.as_str().as_bytes());
        }
        TermRef::Literal(l) => {
            if let Some(language) = l.language() {
                out.push(LANG_LITERAL);
                out.extend_from_slice(language.as_bytes());
                out.push(0);
            } else if l.datatype() == xsd::STRING {
                out.push(SIMPLE_LITERAL);
            } else {
                out.push(TYPED_LITERAL);
                out.extend_from_slice(l.datatype().as_str().as_bytes());
                out.push(0);
            }
            out.extend_from_slice(l.value().as_bytes());
        }
    }
}

/// Appends the canonical form of a subject or graph name.
pub fn encode_named_or_blank(node: NamedOrBlankNodeRef<'_>, out: &mut Vec<u8>) {
    match node {
        NamedOrBlankNodeRef::NamedNode(n) => encode_term(n.into(), out),
        NamedOrBlankNodeRef::BlankNode(b) => encode_term(b.into(), out),
    }
}

/// The canonical form of a graph name; `None` for the default graph, which is never interned.
pub fn encode_graph_name(graph: GraphNameRef<'_>, out: &mut Vec<u8>) -> bool {
    match graph {
        GraphNameRef::NamedNode(n) => encode_term(n.into(), out),
        GraphNameRef::BlankNode(b) => encode_term(b.into(), out),
        GraphNameRef::DefaultGraph => return false,
    }
    true
}

/// Whether a canonical form is a literal (it then takes a literal id).
#[inline]
pub fn is_literal_encoding(bytes: &[u8]) -> bool {
    matches!(
        bytes.first(),
        Some(&(SIMPLE_LITERAL | LANG_LITERAL | TYPED_LITERAL))
    )
}

/// The hash that keys the in-memory term maps of the loader: 128 bits, so that distinct terms
/// never share one in practice (the same assumption oxigraph's store makes).
#[inline]
pub fn term_hash128(bytes: &[u8]) -> u128 {
    xxh3_128(bytes)
}

/// The hash that keys the persistent term-to-id table. Only 64 bits, to keep the table small;
/// lookups therefore confirm every candidate against the stored term.
#[inline]
pub fn term_hash64(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// The language (`""` when none) and lexical form of a literal's canonical form, read in place;
/// `None` for what is not a literal (or is malformed).
pub fn literal_parts(bytes: &[u8]) -> Option<(&str, &str)> {
    let (&tag, rest) = bytes.split_first()?;
    let (lang, value) = match tag {
        SIMPLE_LITERAL => (&[][..], rest),
        LANG_LITERAL | TYPED_LITERAL => {
            let split = memchr::memchr(0, rest)?;
            let lang = if tag == LANG_LITERAL {
                &rest[..split]
            } else {
                &[][..]
            };
            (lang, &rest[split + 1..])
        }
        _ => return None,
    };
    Some((
        std::str::from_utf8(lang).ok()?,
        std::str::from_utf8(value).ok()?,
    ))
}

/// Rebuilds a term from its canonical form.
pub fn decode_term(bytes: &[u8]) -> Result<Term, StoreError> {
    let corrupt = || StoreError::Corruption(format!("invalid term encoding {bytes:?}"));
    let (&tag, rest) = bytes.split_first().ok_or_else(corrupt)?;
    let text = |b: &[u8]| {
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| corrupt())
    };
    Ok(match tag {
        IRI => NamedNode::new_unchecked(text(rest)?).into(),
        BLANK_NODE => BlankNode::new_unchecked(text(rest)?).into(),
        SIMPLE_LITERAL => Literal::new_simple_literal(text(rest)?).into(),
        LANG_LITERAL => {
            let split = memchr::memchr(0, rest).ok_or_else(corrupt)?;
            Literal::new_language_tagged_literal_unchecked(
                text(&rest[split + 1..])?,
                text(&rest[..split])?,
            )
            .into()
        }
        TYPED_LITERAL => {
            let split = memchr::memchr(0, rest).ok_or_else(corrupt)?;
            let datatype = NamedNode::new_unchecked(text(&rest[..split])?);
            if datatype == rdf::LANG_STRING {
                return Err(corrupt());
            }
            Literal::new_typed_literal(text(&rest[split + 1..])?, datatype).into()
        }
        _ => return Err(corrupt()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(term: Term) {
        let mut buf = Vec::new();
        encode_term(term.as_ref(), &mut buf);
        assert_eq!(decode_term(&buf).unwrap(), term);
        assert_eq!(is_literal_encoding(&buf), matches!(term, Term::Literal(_)));
    }

    #[test]
    fn every_term_shape_round_trips() {
        round_trip(NamedNode::new_unchecked("http://example.com/é/ü?q=1#x").into());
        round_trip(BlankNode::new_unchecked("b0").into());
        round_trip(Literal::new_simple_literal("a \"quoted\"\n\u{0} value").into());
        round_trip(Literal::new_language_tagged_literal_unchecked("chat", "fr").into());
        round_trip(Literal::new_typed_literal("+1", xsd::INTEGER).into());
        round_trip(Literal::new_typed_literal("1.0E2", xsd::DOUBLE).into());
        round_trip(Literal::new_typed_literal("", xsd::DATE_TIME).into());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"\x09abc",
            b"\x04fr-without-separator",
            b"\x01\xff\xfe",
        ] {
            assert!(decode_term(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn literals_round_trip(value in ".*", lang in "[a-z]{2}(-[A-Z]{2})?", dt in "[a-z]{1,8}") {
            round_trip(Literal::new_simple_literal(value.clone()).into());
            round_trip(Literal::new_language_tagged_literal_unchecked(value.clone(), lang).into());
            let datatype = NamedNode::new_unchecked(format!("http://example.com/{dt}"));
            round_trip(Literal::new_typed_literal(value, datatype).into());
        }

        #[test]
        fn distinct_terms_have_distinct_encodings(a in ".{0,12}", b in ".{0,12}") {
            let (mut ea, mut eb) = (Vec::new(), Vec::new());
            encode_term(Literal::new_simple_literal(a.clone()).as_ref().into(), &mut ea);
            encode_term(NamedNode::new_unchecked(b.clone()).as_ref().into(), &mut eb);
            prop_assert_ne!(&ea, &eb);
            let mut ec = Vec::new();
            encode_term(Literal::new_simple_literal(b.clone()).as_ref().into(), &mut ec);
            prop_assert_eq!(a == b, ea == ec);
        }
    }
}
