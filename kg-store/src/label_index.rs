//! The label index for entity linking: `[LABELS][lang][0][normalised label][0][entity]` -> the
//! number of label triples behind the entry.
//!
//! Built from the label predicates (`rdfs:label`, `skos:prefLabel`, `skos:altLabel`,
//! `schema:name`, which are also Wikidata's) after every bulk load and by `kale index`; live
//! writes keep it up to date in their own batch. Like the adjacency, an index older than the last
//! bulk load is stale, and says so.

use crate::error::{Result, StoreError};
use crate::id::{read_varint, write_varint, TermId};
use crate::keys::{LABELS, META};
use crate::labels::{RDFS_LABEL, SCHEMA_NAME, SKOS_ALT_LABEL, SKOS_PREF_LABEL};
use crate::progress::{Progress, Unit};
use crate::store::{GraphFilter, Store, StoreReader};
use oxrdf::{NamedNodeRef, Term};
use rocksdb::{WriteBatch, WriteOptions};
use unicode_normalization::UnicodeNormalization;

/// The predicates whose literals name their subject.
pub const LABEL_PREDICATES: [&str; 4] = [RDFS_LABEL, SKOS_PREF_LABEL, SKOS_ALT_LABEL, SCHEMA_NAME];

/// The key of the commit the label index reflects.
const LABELS_SEQ_KEY: &[u8] = &[META, b'l'];

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

/// The language and normalised text of a label literal; `None` for what is no label.
pub(crate) fn label_entry(object: &Term) -> Option<(String, String)> {
    let Term::Literal(literal) = object else {
        return None;
    };
    let normalized = normalize_label(literal.value());
    (!normalized.is_empty()).then(|| {
        (
            literal.language().unwrap_or("").to_ascii_lowercase(),
            normalized,
        )
    })
}

/// Whether a predicate IRI is a label predicate.
pub(crate) fn is_label_predicate(iri: &str) -> bool {
    LABEL_PREDICATES.contains(&iri)
}

/// One entry of the index as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelEntry {
    pub normalized: String,
    pub entity: TermId,
}

impl Store {
    /// Rebuilds the label index from the label triples.
    pub fn build_label_index(&self, progress: &dyn Progress) -> Result<u64> {
        self.check_writable()?;
        let reader = self.reader();
        let write_seq = reader.counters()?.write_seq;
        let db = self.db();
        let mut batch = WriteBatch::default();
        batch.delete_range(vec![LABELS], vec![LABELS + 1]);
        db.write(batch)?;
        let mut options = WriteOptions::default();
        // Durability comes from the flush before the marker below; a crash before it leaves
        // the marker old, and the index reported stale.
        options.disable_wal(true);
        let mut entries = 0u64;
        progress.begin("indexing labels", None, Unit::Items("labels"));
        for iri in LABEL_PREDICATES {
            let Some(p) = reader.term_id(NamedNodeRef::new_unchecked(iri).into())? else {
                continue;
            };
            let mut batch = WriteBatch::default();
            // POS order: the objects (literals) come in id order, so the dictionary is walked
            // forwards alongside instead of read at random.
            let mut terms = reader
                .scan_prefix_values(&[crate::keys::ID_TO_TERM])
                .peekable();
            let mut wanted = Vec::new();
            for quad in reader.quads(None, Some(p), None, GraphFilter::All) {
                let quad = quad?;
                if !quad.object.is_literal() || quad.subject.is_literal() {
                    continue;
                }
                wanted.clear();
                wanted.extend_from_slice(&crate::keys::id_to_term_key(quad.object));
                let bytes = loop {
                    match terms.peek() {
                        Some(Ok((key, _))) if key[..] < wanted[..] => {
                            terms.next();
                        }
                        Some(Ok((key, value))) if key[..] == wanted[..] => break value.clone(),
                        Some(Err(_)) => {
                            return Err(terms.next().expect("peeked").expect_err("an error"))
                        }
                        _ => {
                            return Err(StoreError::Corruption(format!(
                                "no term {:?}",
                                quad.object
                            )))
                        }
                    }
                };
                if let Some((lang, value)) = crate::term::literal_parts(&bytes) {
                    let normalized = normalize_label(value);
                    if !normalized.is_empty() {
                        batch.merge(
                            label_key(&lang.to_ascii_lowercase(), &normalized, quad.subject),
                            1i64.to_le_bytes(),
                        );
                        entries += 1;
                    }
                }
                if batch.len() >= 100_000 {
                    db.write_opt(std::mem::take(&mut batch), &options)?;
                    progress.set_position(entries);
                }
            }
            db.write_opt(batch, &options)?;
        }
        db.flush()?;
        db.put(LABELS_SEQ_KEY, write_seq.to_be_bytes())?;
        progress.end();
        Ok(entries)
    }
}

/// The merge operator of label counts: adds the operands (little-endian i64) to the value.
pub(crate) fn add_counts(
    _key: &[u8],
    existing: Option<&[u8]>,
    operands: &rocksdb::MergeOperands,
) -> Option<Vec<u8>> {
    let count = |v: &[u8]| v.try_into().map(i64::from_le_bytes).unwrap_or(0);
    let total = existing.map_or(0, count) + operands.iter().map(count).sum::<i64>();
    Some(total.to_le_bytes().to_vec())
}

/// Whether a label entry's value counts at least one label triple (counts can fall to 0).
fn live(value: &[u8]) -> bool {
    value.try_into().map(i64::from_le_bytes).unwrap_or(0) > 0
}

impl StoreReader {
    /// Whether the label index reflects the last bulk load; an error that says what to run if not.
    pub fn check_label_index(&self) -> Result<()> {
        let seq = self
            .get_raw(LABELS_SEQ_KEY)?
            .and_then(|v| v.as_slice().try_into().ok().map(u64::from_be_bytes));
        let base = self.counters()?.adjacency_base;
        match seq {
            Some(seq) if seq >= base => Ok(()),
            _ => Err(StoreError::InvalidInput(
                "the label index is missing or older than the last bulk load; rebuild it with `kale index STORE`".into(),
            )),
        }
    }

    /// Every label of one language (with `""`: labels without language), in key order.
    pub fn labels(&self, lang: &str) -> impl Iterator<Item = Result<LabelEntry>> + '_ {
        let prefix = language_prefix(lang);
        let skip = prefix.len();
        self.scan_prefix_values(&prefix).filter_map(move |item| {
            let (key, value) = match item {
                Ok(kv) => kv,
                Err(e) => return Some(Err(e)),
            };
            if !live(&value) {
                return None;
            }
            Some(Self::label_entry_of(&key, skip))
        })
    }

    fn label_entry_of(key: &[u8], skip: usize) -> Result<LabelEntry> {
        let rest = &key[skip..];
        let bad = || StoreError::Corruption(format!("bad label key {key:?}"));
        let split = memchr::memchr(0, rest).ok_or_else(bad)?;
        let normalized = std::str::from_utf8(&rest[..split])
            .map_err(|_| bad())?
            .to_owned();
        let (id, _) = read_varint(&rest[split + 1..]).ok_or_else(bad)?;
        Ok(LabelEntry {
            normalized,
            entity: TermId::from_u64(id),
        })
    }

    /// The entities with a normalised label, in one language.
    pub fn entities_labelled(&self, lang: &str, normalized: &str) -> Result<Vec<TermId>> {
        let mut prefix = language_prefix(lang);
        prefix.extend_from_slice(normalized.as_bytes());
        prefix.push(0);
        let skip = prefix.len();
        let mut ids = Vec::new();
        for item in self.scan_prefix_values(&prefix) {
            let (key, value) = item?;
            if live(&value) {
                let (id, _) = read_varint(&key[skip..])
                    .ok_or_else(|| StoreError::Corruption(format!("bad label key {key:?}")))?;
                ids.push(TermId::from_u64(id));
            }
        }
        Ok(ids)
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
