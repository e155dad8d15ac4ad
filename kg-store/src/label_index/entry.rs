//! What one label index entry is: the label predicates, the normalisation that text and labels
//! both go through, the key of an entry, and the hook that keeps entries in step with live
//! writes.

use crate::backend::Batch;
use crate::error::Result;
use crate::id::{write_varint, TermId};
use crate::keys::{LABELS, META};
use crate::writer::{Commit, IndexHook};
use oxrdf::TermRef;
use unicode_normalization::UnicodeNormalization;

pub const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
pub const SKOS_PREF_LABEL: &str = "http://www.w3.org/2004/02/skos/core#prefLabel";
pub const SKOS_ALT_LABEL: &str = "http://www.w3.org/2004/02/skos/core#altLabel";
pub const SCHEMA_NAME: &str = "http://schema.org/name";

/// The predicates whose literals name their subject.
pub const LABEL_PREDICATES: [&str; 4] = [RDFS_LABEL, SKOS_PREF_LABEL, SKOS_ALT_LABEL, SCHEMA_NAME];

/// The key of the commit the label index reflects.
pub(crate) const LABELS_SEQ_KEY: &[u8] = &[META, b'l'];

/// Lower case, accents and punctuation gone, single spaces: "Érin  O'Neil!" -> "erin o neil".
/// Text and labels both go through it, so they meet whatever their spelling.
pub fn normalize_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

/// The key prefix of one language's labels (`""` for labels without a language).
pub fn language_prefix(lang: &str) -> Vec<u8> {
    let mut key = vec![LABELS];
    key.extend_from_slice(lang.to_ascii_lowercase().as_bytes());
    key.push(0);
    key
}

/// The index key of one label of one entity.
pub(crate) fn label_key(lang: &str, normalized: &str, entity: TermId) -> Vec<u8> {
    let mut key = language_prefix(lang);
    key.extend_from_slice(normalized.as_bytes());
    key.push(0);
    write_varint(&mut key, entity.as_u64());
    key
}

/// The key of a label triple's entry, `None` for a triple that is no label: its predicate is no
/// label predicate, its object no literal, or its text normalises to nothing.
pub(crate) fn entry_key(predicate: &str, object: TermRef<'_>, subject: TermId) -> Option<Vec<u8>> {
    if !LABEL_PREDICATES.contains(&predicate) {
        return None;
    }
    let TermRef::Literal(literal) = object else {
        return None;
    };
    label_literal_key(literal.language().unwrap_or(""), literal.value(), subject)
}

/// The key of the entry of a label literal in `lang` (`""`: none); `None` when the text
/// normalises to nothing.
pub(crate) fn label_literal_key(lang: &str, value: &str, subject: TermId) -> Option<Vec<u8>> {
    let normalized = normalize_label(value);
    (!normalized.is_empty()).then(|| label_key(&lang.to_ascii_lowercase(), &normalized, subject))
}

/// Keeps the label index in step with live writes: +1 for a label triple added, -1 for one
/// removed (counts, since one entity may carry the same label in several graphs).
pub(crate) struct LabelHook;

impl IndexHook for LabelHook {
    fn on_commit(&self, commit: &Commit<'_>, batch: &mut Batch) -> Result<()> {
        let mut changes: rustc_hash::FxHashMap<Vec<u8>, i64> = Default::default();
        for flip in commit.flips {
            let quad = flip.quad.as_ref();
            if let Some(key) = entry_key(quad.predicate.as_str(), quad.object, flip.ids.subject) {
                *changes.entry(key).or_default() += if flip.present { 1 } else { -1 };
            }
        }
        for (key, change) in changes {
            if change != 0 {
                batch.add(&key, change);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_label;

    #[test]
    fn normalisation_folds_case_accents_and_punctuation() {
        assert_eq!(normalize_label("Érin  O'Neil!"), "erin o neil");
        assert_eq!(normalize_label("  Zoë-Jürgen "), "zoe jurgen");
        assert_eq!(normalize_label("!!!"), "");
        assert_eq!(
            normalize_label("University of Tarvona"),
            "university of tarvona"
        );
    }
}
