//! `kale load --languages en,de`: labels, alternative labels, names and descriptions are kept
//! in those languages only (Wikidata's dump carries them in hundreds, most of its triples). A
//! tag is kept when its primary subtag is listed (`en` keeps `en-gb`); text without a language
//! tag, and every other triple, is always kept. Dropped triples never reach the dictionary.

use crate::error::{Result, StoreError};
use crate::label_index::{RDFS_LABEL, SCHEMA_NAME, SKOS_ALT_LABEL, SKOS_PREF_LABEL};
use oxrdf::{QuadRef, TermRef};

/// The predicates whose language-tagged objects the filter applies to.
const TEXT_PREDICATES: [&str; 5] = [
    RDFS_LABEL,
    SKOS_PREF_LABEL,
    SKOS_ALT_LABEL,
    SCHEMA_NAME,
    "http://schema.org/description",
];

/// The languages to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageFilter {
    keep: Vec<String>,
}

impl LanguageFilter {
    /// From a comma-separated list of language tags.
    pub fn parse(list: &str) -> Result<Self> {
        let keep: Vec<String> = list
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        let valid = |t: &String| t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if keep.is_empty() || !keep.iter().all(valid) {
            return Err(StoreError::InvalidInput(format!(
                "--languages {list:?}: give language tags separated by commas, e.g. en,de"
            )));
        }
        Ok(Self { keep })
    }

    /// Whether the quad is text in a language not kept.
    pub(crate) fn drops(&self, quad: QuadRef<'_>) -> bool {
        let TermRef::Literal(literal) = quad.object else {
            return false;
        };
        let Some(language) = literal.language() else {
            return false;
        };
        TEXT_PREDICATES.contains(&quad.predicate.as_str()) && !self.keeps(language)
    }

    fn keeps(&self, language: &str) -> bool {
        let primary = language.split('-').next().unwrap_or(language);
        self.keep
            .iter()
            .any(|k| k.eq_ignore_ascii_case(language) || k.eq_ignore_ascii_case(primary))
    }
}

impl std::fmt::Display for LanguageFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.keep.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{GraphNameRef, LiteralRef, NamedNodeRef};

    #[test]
    fn only_text_in_other_languages_is_dropped() {
        let filter = LanguageFilter::parse("en, DE").unwrap();
        let s = NamedNodeRef::new_unchecked("http://e/s");
        let label = NamedNodeRef::new_unchecked(RDFS_LABEL);
        let other = NamedNodeRef::new_unchecked("http://e/p");
        let quad = |p, o: LiteralRef<'static>| {
            filter.drops(QuadRef::new(s, p, o, GraphNameRef::DefaultGraph))
        };
        let lit = LiteralRef::new_language_tagged_literal_unchecked;
        assert!(!quad(label, lit("Sun", "en")));
        assert!(!quad(label, lit("Sun", "en-GB")));
        assert!(!quad(label, lit("Sonne", "de")));
        assert!(quad(label, lit("Soleil", "fr")));
        assert!(!quad(other, lit("Soleil", "fr")), "not a text predicate");
        assert!(!quad(label, LiteralRef::new_simple_literal("Sol")));
        assert!(LanguageFilter::parse(" ,").is_err());
        assert!(LanguageFilter::parse("en;de").is_err());
    }
}
