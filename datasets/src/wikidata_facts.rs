//! BIG-bench's `qa_wikidata` task as a knowledge graph, and 2-hop questions over it.
//!
//! The task (PyPI `bigbench` 1.0.0, `bigbench/benchmark_tasks/qa_wikidata/task.json`) holds about
//! 20k facts taken from Wikidata, each a prompt and its answers:
//! `{"input": "The country of citizenship of Barack Obama is", "target": "United States"}`.
//! Three shapes occur: "The {relation} of {subject} is", "The {relation} {subject} is" for
//! relations that end in a preposition ("The language used in Botswana is"), and
//! "{subject} {relation}" for verb phrases ("Abuja is capital of"). Relations and subjects may
//! both contain " of " ("country of citizenship", "University of Tokyo"), so a prompt is split on
//! the known relations ([`RELATIONS`]), longest first. Prompts of no known shape (a handful end
//! in `[MASK]`) are counted and skipped.
//!
//! The graph: every distinct name becomes `<http://kale.example/wikidata-facts/entity/{name}>`
//! with an English `rdfs:label`, every relation `<.../prop/{name}>` with its label, every
//! (subject, relation, answer) a triple. The task gives names, not Wikidata ids, so two things
//! that share a name share a node.
//!
//! Questions compose two facts through a bridge entity: X -r1-> C -r2-> Y ("What is the capital
//! of the country of citizenship of X?"), r1 and r2 both noun relations. Distractors are other
//! answers of r2 (never another correct answer of the composition); each question comes with
//! its two single-hop fact checks and the predicates of the path it asks about.
//!
//! The task carries BIG-bench's canary string: benchmark data must stay out of training corpora
//! and repositories. Its derived files are made at set-up time under the git-ignored `.cache/`.

use crate::error::{DatasetError, Result};
use crate::qa::QaItem;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;
use std::io::{self, Write};
use std::path::Path;

pub const FACTS_NS: &str = "http://kale.example/wikidata-facts/";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";

/// How a relation reads in a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// "The {relation} of {subject} is".
    Noun,
    /// "The {relation} {subject} is": the relation ends in a preposition.
    NounBefore,
    /// "{subject} {relation}".
    Verb,
}

/// The relations of the task with the shape of their prompts.
pub static RELATIONS: &[(&str, Shape)] = &[
    ("country", Shape::Noun),
    ("country of citizenship", Shape::Noun),
    ("native language", Shape::Noun),
    ("language", Shape::Noun),
    ("religion", Shape::Noun),
    ("instrument", Shape::Noun),
    ("official language", Shape::Noun),
    ("eye color", Shape::Noun),
    ("original country", Shape::Noun),
    ("capital", Shape::Noun),
    ("continent", Shape::Noun),
    ("genre", Shape::Noun),
    ("team position", Shape::Noun),
    ("color", Shape::Noun),
    ("color of the flag", Shape::Noun),
    ("military rank", Shape::Noun),
    ("emergency phone number", Shape::Noun),
    ("headquarters location", Shape::Noun),
    ("noble title", Shape::Noun),
    ("voice type", Shape::Noun),
    ("basic form of government", Shape::Noun),
    ("blood type", Shape::Noun),
    ("residence", Shape::Noun),
    ("ethnic group", Shape::Noun),
    ("basin country", Shape::Noun),
    ("record label", Shape::Noun),
    ("main subject", Shape::Noun),
    ("academic degree", Shape::Noun),
    ("currency", Shape::Noun),
    ("historic county", Shape::Noun),
    ("health specialty", Shape::Noun),
    ("official religion", Shape::Noun),
    ("office held by head of government", Shape::Noun),
    ("measured physical quantity", Shape::Noun),
    ("developer", Shape::Noun),
    ("public holiday", Shape::Noun),
    ("IUCN conservation status", Shape::Noun),
    ("streak color", Shape::Noun),
    ("family name", Shape::Noun),
    ("place of birth", Shape::Noun),
    ("place of publication", Shape::Noun),
    ("honorific prefix", Shape::Noun),
    ("original broadcaster", Shape::Noun),
    ("official color", Shape::Noun),
    ("product or material produced", Shape::Noun),
    ("publisher", Shape::Noun),
    ("competition class", Shape::Noun),
    ("military branch", Shape::Noun),
    ("operating system", Shape::Noun),
    ("newspaper format", Shape::Noun),
    ("manufacturer", Shape::Noun),
    ("work location", Shape::Noun),
    ("participant", Shape::Noun),
    ("month of the year", Shape::Noun),
    ("operating area", Shape::Noun),
    ("platform", Shape::Noun),
    ("language used in", Shape::NounBefore),
    ("material used in", Shape::NounBefore),
    ("sport played by", Shape::NounBefore),
    ("languages spoken, written or signed by", Shape::NounBefore),
    ("country for sport played by", Shape::NounBefore),
    ("is located in", Shape::Verb),
    ("shares a border with", Shape::Verb),
    ("is capital of", Shape::Verb),
    ("convicted of", Shape::Verb),
    ("is facet of", Shape::Verb),
    ("is indigenous to", Shape::Verb),
    ("writing languages", Shape::Verb),
    ("given name", Shape::Verb),
    ("named after", Shape::Verb),
    ("is followed by", Shape::Verb),
    ("endemic to", Shape::Verb),
    ("follows", Shape::Verb),
    ("is territory claimed by", Shape::Verb),
    ("is located in or next to body of water", Shape::Verb),
    ("is studied by", Shape::Verb),
    ("influenced by", Shape::Verb),
    ("replaced by", Shape::Verb),
    ("owned by", Shape::Verb),
    ("practiced by", Shape::Verb),
    ("programming language", Shape::Verb),
    ("is used by", Shape::Verb),
    ("calculated from", Shape::Verb),
];

/// One fact: subject and object names, the relation's index in [`RELATIONS`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fact {
    pub subject: String,
    pub relation: usize,
    pub object: String,
}

/// Splits a prompt into its relation and subject; `None` for a prompt of no known shape.
pub fn parse_prompt(input: &str) -> Option<(usize, &str)> {
    let mut order: Vec<usize> = (0..RELATIONS.len()).collect();
    // Longest first: "country of citizenship" before "country".
    order.sort_by_key(|&i| std::cmp::Reverse(RELATIONS[i].0.len()));
    let valid = |s: &str| !s.trim().is_empty() && !s.contains("[MASK]");
    if let Some(body) = input
        .strip_prefix("The ")
        .and_then(|b| b.strip_suffix(" is"))
    {
        for &i in &order {
            let (name, shape) = RELATIONS[i];
            let subject = match shape {
                Shape::Noun => body
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(" of ")),
                Shape::NounBefore => body.strip_prefix(name).and_then(|r| r.strip_prefix(' ')),
                Shape::Verb => None,
            };
            if let Some(subject) = subject.filter(|s| valid(s)) {
                return Some((i, subject));
            }
        }
    }
    for &i in &order {
        let (name, shape) = RELATIONS[i];
        if shape == Shape::Verb {
            if let Some(subject) = input
                .strip_suffix(name)
                .and_then(|s| s.strip_suffix(' '))
                .filter(|s| valid(s))
            {
                return Some((i, subject));
            }
        }
    }
    None
}

/// The IRI of a relation.
pub fn relation_iri(relation: usize) -> String {
    format!("{FACTS_NS}prop/{}", iri_segment(RELATIONS[relation].0))
}

/// The IRI of a named entity.
pub fn entity_iri(name: &str) -> String {
    format!("{FACTS_NS}entity/{}", iri_segment(name))
}

/// A name as an IRI path segment: spaces as `_`, everything outside unreserved characters
/// percent-encoded (so any name gives a valid IRI, and distinct names distinct IRIs).
fn iri_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b' ' => out.push('_'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn escape_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The facts of the task.
pub struct WikidataFacts {
    pub facts: Vec<Fact>,
    /// Prompts of no known shape: (index in the task's examples, the prompt).
    pub skipped: Vec<(usize, String)>,
}

/// What to compose.
#[derive(Clone, Debug)]
pub struct FactsQaConfig {
    pub questions: usize,
    pub seed: u64,
    pub choices: usize,
    /// Questions per bridge entity and second relation at most (so one popular country does not
    /// make most of them).
    pub per_bridge: usize,
}

impl Default for FactsQaConfig {
    fn default() -> Self {
        Self {
            questions: 1_000,
            seed: 42,
            choices: 4,
            per_bridge: 5,
        }
    }
}

impl WikidataFacts {
    /// Reads the task file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(DatasetError::io(
            path,
            Some("scripts/setup.sh --data fetches it"),
        ))?;
        let format = |message: String| DatasetError::Format {
            file: path.to_owned(),
            message,
        };
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format(format!("not JSON: {e}")))?;
        let examples = value
            .get("examples")
            .and_then(Value::as_array)
            .ok_or_else(|| format("no `examples` list: not a BIG-bench task file".into()))?;
        let mut facts = Vec::new();
        let mut skipped = Vec::new();
        for (n, example) in examples.iter().enumerate() {
            let input = example
                .get("input")
                .and_then(Value::as_str)
                .ok_or_else(|| format(format!("examples[{n}] has no string `input`")))?;
            let targets: Vec<&str> = match example.get("target") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
                _ => return Err(format(format!("examples[{n}] has no `target`"))),
            };
            let Some((relation, subject)) = parse_prompt(input) else {
                skipped.push((n, input.to_owned()));
                continue;
            };
            for target in targets.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                facts.push(Fact {
                    subject: subject.trim().to_owned(),
                    relation,
                    object: target.to_owned(),
                });
            }
        }
        facts.sort();
        facts.dedup();
        Ok(Self { facts, skipped })
    }

    /// The graph as N-Triples; returns the number of triples.
    pub fn write_ntriples(&self, w: &mut impl Write) -> io::Result<u64> {
        let mut triples = 0;
        let mut names: Vec<&str> = self
            .facts
            .iter()
            .flat_map(|f| [f.subject.as_str(), f.object.as_str()])
            .collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            writeln!(
                w,
                "<{}> <{RDFS_LABEL}> \"{}\"@en .",
                entity_iri(name),
                escape_literal(name)
            )?;
            triples += 1;
        }
        let used: FxHashSet<usize> = self.facts.iter().map(|f| f.relation).collect();
        let mut used: Vec<usize> = used.into_iter().collect();
        used.sort_unstable();
        for r in used {
            writeln!(
                w,
                "<{}> <{RDFS_LABEL}> \"{}\"@en .",
                relation_iri(r),
                escape_literal(RELATIONS[r].0)
            )?;
            triples += 1;
        }
        for f in &self.facts {
            writeln!(
                w,
                "<{}> <{}> <{}> .",
                entity_iri(&f.subject),
                relation_iri(f.relation),
                entity_iri(&f.object)
            )?;
            triples += 1;
        }
        Ok(triples)
    }

    /// 2-hop questions and their fact checks (module documentation).
    pub fn generate_qa(&self, config: &FactsQaConfig) -> (Vec<QaItem>, Vec<QaItem>) {
        let mut rng = Pcg64Mcg::seed_from_u64(config.seed);
        let mut by_subject: FxHashMap<&str, Vec<&Fact>> = FxHashMap::default();
        let mut answers_of: FxHashMap<usize, Vec<&str>> = FxHashMap::default();
        for f in &self.facts {
            by_subject.entry(&f.subject).or_default().push(f);
            answers_of.entry(f.relation).or_default().push(&f.object);
        }
        for list in answers_of.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        let objects = |subject: &str, relation: usize| -> Vec<&str> {
            by_subject.get(subject).map_or_else(Vec::new, |facts| {
                facts
                    .iter()
                    .filter(|f| f.relation == relation)
                    .map(|f| f.object.as_str())
                    .collect()
            })
        };
        let is_noun = |r: usize| RELATIONS[r].1 != Shape::Verb;
        // Every composition X -r1-> C -r2-> Y, grouped by (r1, r2).
        let mut groups: FxHashMap<(usize, usize), Vec<(&Fact, &Fact)>> = FxHashMap::default();
        for first in &self.facts {
            if RELATIONS[first.relation].1 != Shape::Noun {
                continue;
            }
            for second in by_subject.get(first.object.as_str()).into_iter().flatten() {
                if is_noun(second.relation)
                    && second.relation != first.relation
                    && second.object != first.subject
                {
                    groups
                        .entry((first.relation, second.relation))
                        .or_default()
                        .push((first, second));
                }
            }
        }
        let mut keys: Vec<(usize, usize)> = groups.keys().copied().collect();
        keys.sort_unstable();
        let mut queues: Vec<Vec<(&Fact, &Fact)>> = keys
            .iter()
            .map(|k| {
                let mut g = groups.remove(k).expect("a key of the map");
                g.shuffle(&mut rng);
                g
            })
            .collect();
        let mut questions = Vec::new();
        let mut facts: Vec<QaItem> = Vec::new();
        let mut fact_ids: FxHashMap<(String, usize), String> = FxHashMap::default();
        let mut per_bridge: FxHashMap<(&str, usize), usize> = FxHashMap::default();
        let mut asked: FxHashSet<(&str, usize, usize)> = FxHashSet::default();
        let choices = config.choices.max(2);
        // Shuffled choices: the answer and `choices - 1` others of the relation, none of them in
        // `exclude` (the other correct answers).
        let pick = |answer: &str,
                    relation: usize,
                    exclude: &FxHashSet<&str>,
                    rng: &mut Pcg64Mcg|
         -> Option<(Vec<String>, usize)> {
            let pool: Vec<&str> = answers_of[&relation]
                .iter()
                .copied()
                .filter(|a| !exclude.contains(a) && *a != answer)
                .collect();
            if pool.len() < choices - 1 {
                return None;
            }
            let mut picked: Vec<&str> = vec![answer];
            while picked.len() < choices {
                let d = pool[rng.random_range(0..pool.len())];
                if !picked.contains(&d) {
                    picked.push(d);
                }
            }
            picked.shuffle(rng);
            let index = picked.iter().position(|&c| c == answer)?;
            Some((picked.into_iter().map(str::to_owned).collect(), index))
        };
        let mut progress = true;
        while questions.len() < config.questions && progress {
            progress = false;
            for queue in &mut queues {
                if questions.len() >= config.questions {
                    break;
                }
                while let Some((first, second)) = queue.pop() {
                    let bridge_key = (second.subject.as_str(), second.relation);
                    if per_bridge.get(&bridge_key).copied().unwrap_or(0) >= config.per_bridge
                        || !asked.insert((first.subject.as_str(), first.relation, second.relation))
                    {
                        continue;
                    }
                    // Every answer the composition has, through any bridge.
                    let bridges = objects(&first.subject, first.relation);
                    let correct: FxHashSet<&str> = bridges
                        .iter()
                        .flat_map(|c| objects(c, second.relation))
                        .collect();
                    let Some((q_choices, answer)) =
                        pick(&second.object, second.relation, &correct, &mut rng)
                    else {
                        continue;
                    };
                    let mut fact_for = |f: &Fact, rng: &mut Pcg64Mcg| -> Option<String> {
                        if let Some(id) = fact_ids.get(&(f.subject.clone(), f.relation)) {
                            return Some(id.clone());
                        }
                        let exclude: FxHashSet<&str> =
                            objects(&f.subject, f.relation).into_iter().collect();
                        let (choices, answer) = pick(&f.object, f.relation, &exclude, rng)?;
                        let id = format!("fact-{:06}", facts.len());
                        facts.push(QaItem {
                            id: id.clone(),
                            question: format!("What is {}?", phrase(f.relation, &f.subject)),
                            context: None,
                            choices,
                            answer,
                            facts: Vec::new(),
                            kind: Some(format!("fact-{}", iri_segment(RELATIONS[f.relation].0))),
                            concept: None,
                            relations: vec![relation_iri(f.relation)],
                        });
                        fact_ids.insert((f.subject.clone(), f.relation), id.clone());
                        Some(id)
                    };
                    let (Some(f1), Some(f2)) =
                        (fact_for(first, &mut rng), fact_for(second, &mut rng))
                    else {
                        continue;
                    };
                    *per_bridge.entry(bridge_key).or_default() += 1;
                    let inner = phrase(first.relation, &first.subject);
                    questions.push(QaItem {
                        id: format!("wd{:06}", questions.len()),
                        question: format!("What is {}?", phrase(second.relation, &inner)),
                        context: None,
                        choices: q_choices,
                        answer,
                        facts: vec![f1, f2],
                        kind: Some(format!(
                            "{}/{}",
                            iri_segment(RELATIONS[first.relation].0),
                            iri_segment(RELATIONS[second.relation].0)
                        )),
                        concept: None,
                        relations: vec![
                            relation_iri(first.relation),
                            relation_iri(second.relation),
                        ],
                    });
                    progress = true;
                    break;
                }
            }
        }
        (questions, facts)
    }
}

/// "the capital of X", "the language used in X": a noun relation applied to a phrase.
fn phrase(relation: usize, of: &str) -> String {
    match RELATIONS[relation].1 {
        Shape::NounBefore => format!("the {} {of}", RELATIONS[relation].0),
        _ => format!("the {} of {of}", RELATIONS[relation].0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(i: usize) -> &'static str {
        RELATIONS[i].0
    }

    #[test]
    fn prompts_split_on_the_longest_known_relation() {
        let (r, s) = parse_prompt("The country of citizenship of Barack Obama is").unwrap();
        assert_eq!((name(r), s), ("country of citizenship", "Barack Obama"));
        // " of " inside the subject.
        let (r, s) = parse_prompt("The country of University of Tokyo is").unwrap();
        assert_eq!((name(r), s), ("country", "University of Tokyo"));
        // " of " inside both.
        let (r, s) =
            parse_prompt("The basic form of government of Grand Duchy of Tuscany is").unwrap();
        assert_eq!(
            (name(r), s),
            ("basic form of government", "Grand Duchy of Tuscany")
        );
        let (r, s) = parse_prompt("The language used in Isle of Man is").unwrap();
        assert_eq!((name(r), s), ("language used in", "Isle of Man"));
        let (r, s) = parse_prompt("Aswan is located in or next to body of water").unwrap();
        assert_eq!(
            (name(r), s),
            ("is located in or next to body of water", "Aswan")
        );
        let (r, s) = parse_prompt("Abuja is capital of").unwrap();
        assert_eq!((name(r), s), ("is capital of", "Abuja"));
        assert_eq!(parse_prompt("Brno is capital of [MASK]"), None);
        assert_eq!(parse_prompt("Something else entirely"), None);
    }

    #[test]
    fn iris_encode_any_name() {
        assert_eq!(
            entity_iri("Côte d'Ivoire"),
            format!("{FACTS_NS}entity/C%C3%B4te_d%27Ivoire")
        );
        assert_ne!(entity_iri("a b"), entity_iri("a_b"));
        assert!(oxrdf::NamedNode::new(entity_iri("x<>\"{}|^`\\y")).is_ok());
    }
}
