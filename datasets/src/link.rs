//! Entity linking: text to the entities it names, with the span of each mention.
//!
//! The labels of one language (and those without a language) are loaded from the store's label
//! index into an FST (normalised label -> candidate list). Text is cut into words; from each word
//! the longest run of up to [`MAX_NGRAM`] words whose normalised form is a label becomes a
//! mention, and matching resumes after it. Stop words never link on their own ("the", "of"), and
//! a run of several words is tried only if it starts with a word that is no stop word, or with a
//! capitalised one inside the sentence (a title: "To Kill a Mockingbird", "All Quiet on the
//! Western Front"); it may end with one (Wikidata's relations: "language used in", and names:
//! "Muawiyah I").
//!
//! Ambiguity rule: when several entities share the label, the one with the most edges in the
//! adjacency wins (Wikidata's "Paris" the city has far more than the namesakes); ties go to the
//! smaller id. The other candidates are counted in the mention.

use crate::error::Result;
use fst::{Map, MapBuilder};
use kg_store::label_index::{normalize_label, LabelIndex};
use kg_store::{Adjacency, StoreReader, TermId};
use serde::Serialize;

/// The longest mention tried, in words.
pub const MAX_NGRAM: usize = 12;

const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yes",
    "one",
    "ones",
    "these",
    "kind",
    "following",
];

/// A piece of text linked to an entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mention {
    /// Byte offsets of the mention in the text.
    pub start: usize,
    pub end: usize,
    pub text: String,
    #[serde(skip)]
    pub entity: TermId,
    /// Entities sharing the label (1 when unambiguous).
    pub candidates: usize,
}

/// The linker of one store and language.
pub struct Linker {
    labels: Map<Vec<u8>>,
    /// Candidates of each label, best first.
    postings: Vec<Vec<TermId>>,
}

impl Linker {
    /// Loads the labels of `lang` (plus unlanguaged ones). `adjacency` ranks ambiguous labels.
    pub fn build(reader: &StoreReader, adjacency: Option<&Adjacency>, lang: &str) -> Result<Self> {
        let index = LabelIndex::open(reader)?;
        let degree = |id: TermId| match (adjacency, id.entity_index()) {
            (Some(a), Some(v)) => a.degree(v),
            _ => 0,
        };
        // Both languages' entries are sorted by label: merge them.
        let mut entries: Vec<(String, TermId)> = Vec::new();
        for language in [lang.to_ascii_lowercase(), String::new()] {
            for entry in index.labels(&language) {
                let entry = entry?;
                entries.push((entry.normalized, entry.entity));
            }
            if lang.is_empty() {
                break;
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        entries.dedup();
        let mut builder = MapBuilder::memory();
        let mut postings: Vec<Vec<TermId>> = Vec::new();
        let mut i = 0;
        while i < entries.len() {
            let label = &entries[i].0;
            let mut ids = Vec::new();
            while i < entries.len() && &entries[i].0 == label {
                ids.push(entries[i].1);
                i += 1;
            }
            ids.sort_by(|a, b| degree(*b).cmp(&degree(*a)).then(a.cmp(b)));
            builder.insert(label.as_bytes(), postings.len() as u64)?;
            postings.push(ids);
        }
        let bytes = builder.into_inner()?;
        let labels = Map::new(bytes)?;
        Ok(Self { labels, postings })
    }

    /// Distinct labels known.
    pub fn len(&self) -> usize {
        self.postings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }

    /// The mentions in a text, left to right, longest first, not overlapping.
    pub fn link(&self, text: &str) -> Vec<Mention> {
        let words = words(text);
        let normalized: Vec<String> = words
            .iter()
            .map(|&(s, e)| normalize_label(&text[s..e]))
            .collect();
        let stop =
            |i: usize| STOP_WORDS.contains(&normalized[i].as_str()) || normalized[i].is_empty();
        // A stop word may open a title: capitalised, and not the sentence's first word.
        let opens_title = |i: usize| {
            i > 0
                && text[words[i].0..words[i].1]
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
        };
        let mut mentions = Vec::new();
        let mut i = 0;
        let mut key = String::new();
        while i < words.len() {
            if normalized[i].is_empty() || (stop(i) && !opens_title(i)) {
                i += 1;
                continue;
            }
            let mut found = None;
            for n in (1..=MAX_NGRAM.min(words.len() - i)).rev() {
                // One word: never a stop word. Several: not only stop words.
                if (n == 1 && stop(i)) || (i..i + n).all(stop) {
                    continue;
                }
                key.clear();
                for (k, w) in normalized[i..i + n].iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(w);
                }
                if let Some(index) = self.labels.get(key.as_bytes()) {
                    found = Some((n, index as usize));
                    break;
                }
            }
            match found {
                Some((n, index)) => {
                    let (start, end) = (words[i].0, words[i + n - 1].1);
                    let candidates = &self.postings[index];
                    mentions.push(Mention {
                        start,
                        end,
                        text: text[start..end].to_owned(),
                        entity: candidates[0],
                        candidates: candidates.len(),
                    });
                    i += n;
                }
                None => i += 1,
            }
        }
        mentions
    }
}

/// Byte spans of the words of a text: runs of letters and digits.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            spans.push((s, i));
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn words_are_letter_and_digit_runs_with_byte_spans() {
        let text = "Where's Zoë-Marie born, in 1990?";
        let spans: Vec<&str> = words(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(spans, ["Where", "s", "Zoë", "Marie", "born", "in", "1990"]);
    }
}
