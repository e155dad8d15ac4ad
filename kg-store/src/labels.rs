//! The display label of an entity: the value of its label predicates, preferring a language.
//! Wikidata's direct-claim predicates (`wdt:P19`) have no labels of their own: theirs are on the
//! property entity (`wd:P19`) that `wikibase:directClaim` ties to them, and are used instead.

use crate::error::Result;
use crate::id::TermId;
use crate::label_index::{RDFS_LABEL, SCHEMA_NAME, SKOS_PREF_LABEL};
use crate::reader::{GraphFilter, StoreReader};
use oxrdf::{NamedNodeRef, Term};
use rustc_hash::FxHashMap;
use std::sync::RwLock;

/// Wikibase's link from a property entity to its direct-claim predicate.
pub const DIRECT_CLAIM: &str = "http://wikiba.se/ontology#directClaim";

/// Looks up labels (`rdfs:label`, `skos:prefLabel`, `schema:name`, in that order of preference)
/// in one language, with a cache shared by threads.
pub struct Labels {
    reader: StoreReader,
    predicates: Vec<TermId>,
    /// `wikibase:directClaim`, where the store has it.
    direct_claim: Option<TermId>,
    lang: String,
    cache: RwLock<FxHashMap<TermId, Option<String>>>,
}

impl Labels {
    pub fn new(reader: StoreReader, lang: &str) -> Result<Self> {
        let mut predicates = Vec::new();
        for iri in [RDFS_LABEL, SKOS_PREF_LABEL, SCHEMA_NAME] {
            if let Some(id) = reader.term_id(NamedNodeRef::new_unchecked(iri).into())? {
                predicates.push(id);
            }
        }
        let direct_claim = reader.term_id(NamedNodeRef::new_unchecked(DIRECT_CLAIM).into())?;
        Ok(Self {
            reader,
            predicates,
            direct_claim,
            lang: lang.to_ascii_lowercase(),
            cache: RwLock::default(),
        })
    }

    /// The best label: in the language asked for, else a regional variant of it, else one with
    /// no language, else any; `None` when the entity has none.
    pub fn label(&self, entity: TermId) -> Result<Option<String>> {
        if let Some(hit) = self
            .cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&entity)
        {
            return Ok(hit.clone());
        }
        let mut label = self.own_label(entity)?;
        if label.is_none() {
            label = self.property_label(entity)?;
        }
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 1_000_000 {
            cache.clear();
        }
        cache.insert(entity, label.clone());
        Ok(label)
    }

    /// The entity's best label of its own (see [`Labels::label`]).
    fn own_label(&self, entity: TermId) -> Result<Option<String>> {
        let mut best: Option<(u8, String)> = None;
        for &p in &self.predicates {
            for quad in self
                .reader
                .quads(Some(entity), Some(p), None, GraphFilter::All)
            {
                let Term::Literal(literal) = self.reader.term(quad?.object)? else {
                    continue;
                };
                let rank = match literal.language() {
                    Some(l) if l.eq_ignore_ascii_case(&self.lang) => 0,
                    Some(l)
                        if l.to_ascii_lowercase()
                            .starts_with(&format!("{}-", self.lang)) =>
                    {
                        1
                    }
                    None => 2,
                    Some(_) => 3,
                };
                if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                    best = Some((rank, literal.value().to_owned()));
                }
            }
            if best.as_ref().is_some_and(|(r, _)| *r == 0) {
                break;
            }
        }
        Ok(best.map(|(_, l)| l))
    }

    /// The label of the property whose direct claim `predicate` is.
    fn property_label(&self, predicate: TermId) -> Result<Option<String>> {
        let Some(direct_claim) = self.direct_claim else {
            return Ok(None);
        };
        let property = self
            .reader
            .quads(None, Some(direct_claim), Some(predicate), GraphFilter::All)
            .next()
            .transpose()?
            .map(|q| q.subject);
        match property {
            Some(property) => self.own_label(property),
            None => Ok(None),
        }
    }

    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }
}
