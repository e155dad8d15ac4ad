//! WordNet, a real knowledge graph: its database files (Debian's `wordnet-base`, in
//! `/usr/share/wordnet`) as RDF, and questions over it.
//!
//! Each synset becomes `<http://kale.example/wordnet/{n,v,a,r}{offset}>` with an English
//! `rdfs:label` per lemma, its gloss as `skos:definition`, and its pointers as edges. Of each
//! pair of inverse pointers only one direction is kept (hypernym, not hyponym; holonym, not
//! meronym): path search walks edges both ways anyway. Predicates are labelled to read as
//! sentences ("car is a kind of motor vehicle").

use crate::error::{DatasetError, Result};
use crate::qa::QaItem;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

/// Where Debian's `wordnet-base` puts the database.
pub const DEFAULT_DICT: &str = "/usr/share/wordnet";
pub const WORDNET_NS: &str = "http://kale.example/wordnet/";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const SKOS_DEFINITION: &str = "http://www.w3.org/2004/02/skos/core#definition";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// The pointers kept: WordNet symbol, predicate name, label.
const POINTERS: &[(&str, &str, &str)] = &[
    ("@", "hypernym", "a kind of"),
    ("@i", "instanceHypernym", "an instance of"),
    ("#m", "memberHolonym", "a member of"),
    ("#p", "partHolonym", "a part of"),
    ("#s", "substanceHolonym", "a substance of"),
    ("!", "antonym", "the opposite of"),
    ("&", "similarTo", "similar to"),
    ("*", "entailment", "entails"),
    (">", "cause", "causes"),
    ("^", "alsoSee", "related to"),
    ("=", "attribute", "attribute"),
    ("+", "derivation", "derivationally related to"),
    ("\\", "pertainym", "pertaining to"),
    ("<", "participle", "participle of"),
    (";c", "topicDomain", "in the topic domain of"),
    (";r", "regionDomain", "in the region domain of"),
    (";u", "usageDomain", "in the usage domain of"),
];

/// One synset.
#[derive(Clone, Debug)]
pub struct Synset {
    /// `n`, `v`, `a` or `r` (satellite adjectives are `a`).
    pub pos: char,
    pub offset: u32,
    pub lemmas: Vec<String>,
    pub gloss: String,
    /// `(pointer index into POINTERS, target synset index)`.
    pub pointers: Vec<(usize, u32)>,
}

/// The whole database in memory.
pub struct WordNet {
    pub synsets: Vec<Synset>,
    /// Synsets of each lemma.
    lemmas: FxHashMap<String, Vec<u32>>,
}

/// What provides the dictionary.
const WORDNET_HINT: &str = "is wordnet-base installed? `apt-get install wordnet-base`";

fn pos_of(letter: &str) -> Option<char> {
    match letter {
        "n" => Some('n'),
        "v" => Some('v'),
        "a" | "s" => Some('a'),
        "r" => Some('r'),
        _ => None,
    }
}

impl WordNet {
    /// Reads `data.noun`, `data.verb`, `data.adj` and `data.adv` from a dictionary directory.
    pub fn read(dict: &Path) -> Result<Self> {
        // First pass: synsets and raw pointers; second: pointer targets to indexes.
        let mut synsets = Vec::new();
        let mut index: FxHashMap<(char, u32), u32> = FxHashMap::default();
        let mut raw: Vec<Vec<(usize, char, u32)>> = Vec::new();
        for (file, pos) in [
            ("data.noun", 'n'),
            ("data.verb", 'v'),
            ("data.adj", 'a'),
            ("data.adv", 'r'),
        ] {
            let path = dict.join(file);
            let io_err = || DatasetError::io(&path, Some(WORDNET_HINT));
            let reader = BufReader::new(std::fs::File::open(&path).map_err(io_err())?);
            for (n, line) in reader.lines().enumerate() {
                let line = line.map_err(io_err())?;
                if line.starts_with("  ") || line.trim().is_empty() {
                    continue; // the licence header
                }
                let bad = |message: &str| DatasetError::Record {
                    file: path.clone(),
                    line: n + 1,
                    message: message.to_owned(),
                };
                let (fields, gloss) = line.split_once(" | ").unwrap_or((&line, ""));
                let mut f = fields.split_whitespace();
                let offset: u32 = f
                    .next()
                    .and_then(|o| o.parse().ok())
                    .ok_or_else(|| bad("no synset offset"))?;
                let _lex_file = f.next();
                let _ss_type = f.next();
                let words = f
                    .next()
                    .and_then(|w| u32::from_str_radix(w, 16).ok())
                    .ok_or_else(|| bad("no word count"))?;
                let mut lemmas = Vec::new();
                for _ in 0..words {
                    let word = f.next().ok_or_else(|| bad("missing word"))?;
                    f.next(); // lex_id
                              // Adjective markers "(a)", "(p)", "(ip)" are syntax, not part of the lemma.
                    let word = word.split('(').next().unwrap_or(word);
                    lemmas.push(word.replace('_', " "));
                }
                let pointers: usize = f
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| bad("no pointer count"))?;
                let mut ptrs = Vec::new();
                for _ in 0..pointers {
                    let (Some(symbol), Some(target), Some(target_pos), Some(_)) =
                        (f.next(), f.next(), f.next(), f.next())
                    else {
                        return Err(bad("truncated pointer"));
                    };
                    let target: u32 = target.parse().map_err(|_| bad("bad pointer offset"))?;
                    if let (Some(kind), Some(tpos)) = (
                        POINTERS.iter().position(|p| p.0 == symbol),
                        pos_of(target_pos),
                    ) {
                        ptrs.push((kind, tpos, target));
                    }
                }
                index.insert((pos, offset), synsets.len() as u32);
                synsets.push(Synset {
                    pos,
                    offset,
                    lemmas,
                    gloss: gloss.trim().to_owned(),
                    pointers: Vec::new(),
                });
                raw.push(ptrs);
            }
        }
        for (synset, ptrs) in synsets.iter_mut().zip(raw) {
            let mut resolved: Vec<(usize, u32)> = ptrs
                .into_iter()
                .filter_map(|(kind, pos, offset)| index.get(&(pos, offset)).map(|&t| (kind, t)))
                .collect();
            resolved.sort_unstable();
            resolved.dedup();
            synset.pointers = resolved;
        }
        let mut lemmas: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (i, s) in synsets.iter().enumerate() {
            for l in &s.lemmas {
                lemmas.entry(l.to_lowercase()).or_default().push(i as u32);
            }
        }
        Ok(Self { synsets, lemmas })
    }

    pub fn iri(&self, synset: u32) -> String {
        let s = &self.synsets[synset as usize];
        format!("{WORDNET_NS}{}{:08}", s.pos, s.offset)
    }

    /// Whether a lemma names exactly one synset (questions only use such lemmas).
    pub fn monosemous(&self, lemma: &str) -> bool {
        self.lemmas
            .get(&lemma.to_lowercase())
            .is_some_and(|s| s.len() == 1)
    }

    /// The first monosemous lemma of a synset.
    pub fn name(&self, synset: u32) -> Option<&str> {
        self.synsets[synset as usize]
            .lemmas
            .iter()
            .find(|l| self.monosemous(l))
            .map(String::as_str)
    }

    /// Targets of one pointer kind from a synset.
    fn targets(&self, synset: u32, pointer: &str) -> impl Iterator<Item = u32> + '_ {
        let kind = POINTERS
            .iter()
            .position(|p| p.1 == pointer)
            .expect("a known pointer");
        self.synsets[synset as usize]
            .pointers
            .iter()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, t)| *t)
    }

    /// Writes the graph as N-Triples; returns the triple count.
    pub fn write_ntriples(&self, out: &mut impl Write) -> io::Result<u64> {
        let mut count = 0;
        let mut line = String::new();
        let mut emit = |out: &mut dyn Write, line: &mut String| -> io::Result<()> {
            count += 1;
            out.write_all(line.as_bytes())
        };
        let literal = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
        for (name, label) in POINTERS.iter().map(|p| (p.1, p.2)) {
            line.clear();
            let _ = writeln!(
                line,
                "<{WORDNET_NS}prop/{name}> <{RDFS_LABEL}> \"{}\"@en .",
                literal(label)
            );
            emit(out, &mut line)?;
        }
        for (i, s) in self.synsets.iter().enumerate() {
            let iri = self.iri(i as u32);
            let class = match s.pos {
                'n' => "NounSynset",
                'v' => "VerbSynset",
                'a' => "AdjectiveSynset",
                _ => "AdverbSynset",
            };
            line.clear();
            let _ = writeln!(line, "<{iri}> <{RDF_TYPE}> <{WORDNET_NS}class/{class}> .");
            emit(out, &mut line)?;
            for lemma in &s.lemmas {
                line.clear();
                let _ = writeln!(line, "<{iri}> <{RDFS_LABEL}> \"{}\"@en .", literal(lemma));
                emit(out, &mut line)?;
            }
            if !s.gloss.is_empty() {
                line.clear();
                let _ = writeln!(
                    line,
                    "<{iri}> <{SKOS_DEFINITION}> \"{}\"@en .",
                    literal(&s.gloss)
                );
                emit(out, &mut line)?;
            }
            for &(kind, target) in &s.pointers {
                line.clear();
                let _ = writeln!(
                    line,
                    "<{iri}> <{WORDNET_NS}prop/{}> <{}> .",
                    POINTERS[kind].1,
                    self.iri(target)
                );
                emit(out, &mut line)?;
            }
        }
        Ok(count)
    }

    /// Hypernym ancestors of a synset, up to `depth` levels.
    fn ancestors(&self, synset: u32, depth: usize) -> FxHashSet<u32> {
        let mut seen = FxHashSet::default();
        let mut frontier = vec![synset];
        for _ in 0..depth {
            let mut next = Vec::new();
            for s in frontier {
                for t in self
                    .targets(s, "hypernym")
                    .chain(self.targets(s, "instanceHypernym"))
                {
                    if seen.insert(t) {
                        next.push(t);
                    }
                }
            }
            frontier = next;
        }
        seen
    }

    /// Questions over the noun hierarchy and parts: "Which of these is a kind of vehicle?",
    /// "Which of these is a part of a bicycle?", with their fact checks.
    pub fn generate_qa(&self, questions: usize, seed: u64) -> (Vec<QaItem>, Vec<QaItem>) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let nouns: Vec<u32> = (0..self.synsets.len() as u32)
            .filter(|&s| self.synsets[s as usize].pos == 'n' && self.name(s).is_some())
            .collect();
        let mut order = nouns.clone();
        order.shuffle(&mut rng);
        let mut items = Vec::new();
        let mut facts: Vec<QaItem> = Vec::new();
        let mut fact_ids: FxHashMap<(u32, &str), String> = FxHashMap::default();
        let mut fact = |subject: u32,
                        pointer: &'static str,
                        target: u32,
                        rng: &mut Pcg64Mcg|
         -> Option<String> {
            if let Some(id) = fact_ids.get(&(subject, pointer)) {
                return Some(id.clone());
            }
            let (question, exclude) = match pointer {
                "hypernym" => (
                    format!("What is {} a kind of?", self.name(subject)?),
                    self.ancestors(subject, 12),
                ),
                _ => (
                    format!("What is {} a part of?", self.name(subject)?),
                    self.targets(subject, "partHolonym").collect(),
                ),
            };
            let (choices, answer) = self.choices(target, &nouns, &exclude, rng)?;
            let id = format!(
                "fact-{pointer}-{}",
                self.iri(subject).trim_start_matches(WORDNET_NS)
            );
            facts.push(QaItem {
                id: id.clone(),
                question,
                context: None,
                choices,
                answer,
                facts: Vec::new(),
                kind: Some(format!("fact-{pointer}")),
                concept: None,
                relations: vec![format!("{WORDNET_NS}prop/{pointer}")],
            });
            fact_ids.insert((subject, pointer), id.clone());
            Some(id)
        };
        for (n, &x) in order.iter().enumerate() {
            if items.len() >= questions {
                break;
            }
            if n % 2 == 0 {
                // Kind of: x -> parent -> grandparent, all named by monosemous lemmas.
                let Some(parent) = self
                    .targets(x, "hypernym")
                    .find(|&p| self.name(p).is_some())
                else {
                    continue;
                };
                let Some(grand) = self
                    .targets(parent, "hypernym")
                    .find(|&g| self.name(g).is_some())
                else {
                    continue;
                };
                // Distractors must not be kinds of the grandparent.
                let Some(distractors) = self.distractors(&nouns, &mut rng, |d| {
                    !self.ancestors(d, 12).contains(&grand) && d != grand
                }) else {
                    continue;
                };
                let (Some(f1), Some(f2)) = (
                    fact(x, "hypernym", parent, &mut rng),
                    fact(parent, "hypernym", grand, &mut rng),
                ) else {
                    continue;
                };
                let Some((choices, answer)) = self.shuffled_names(x, &distractors, &mut rng) else {
                    continue;
                };
                items.push(QaItem {
                    id: format!("wn{n:06}-kind-of"),
                    question: format!(
                        "Which of these is a kind of {}?",
                        self.name(grand).expect("named")
                    ),
                    context: None,
                    choices,
                    answer,
                    facts: vec![f1, f2],
                    kind: Some("kind-of".into()),
                    concept: None,
                    relations: vec![format!("{WORDNET_NS}prop/hypernym"); 2],
                });
            } else {
                let Some(whole) = self
                    .targets(x, "partHolonym")
                    .find(|&w| self.name(w).is_some())
                else {
                    continue;
                };
                let parts_of_whole: FxHashSet<u32> = (0..self.synsets.len() as u32)
                    .filter(|&p| self.targets(p, "partHolonym").any(|w| w == whole))
                    .collect();
                let Some(distractors) =
                    self.distractors(&nouns, &mut rng, |d| !parts_of_whole.contains(&d))
                else {
                    continue;
                };
                let Some(f) = fact(x, "partHolonym", whole, &mut rng) else {
                    continue;
                };
                let Some((choices, answer)) = self.shuffled_names(x, &distractors, &mut rng) else {
                    continue;
                };
                items.push(QaItem {
                    id: format!("wn{n:06}-part-of"),
                    question: format!(
                        "Which of these is a part of a {}?",
                        self.name(whole).expect("named")
                    ),
                    context: None,
                    choices,
                    answer,
                    facts: vec![f],
                    kind: Some("part-of".into()),
                    concept: None,
                    relations: vec![format!("{WORDNET_NS}prop/partHolonym")],
                });
            }
        }
        (items, facts)
    }

    /// The names of `answer` and its (named) distractors, shuffled, and where the answer went;
    /// `None` when the answer has no name.
    fn shuffled_names(
        &self,
        answer: u32,
        distractors: &[u32],
        rng: &mut Pcg64Mcg,
    ) -> Option<(Vec<String>, usize)> {
        Some(shuffle_in(
            self.name(answer)?.to_owned(),
            distractors
                .iter()
                .filter_map(|&d| self.name(d).map(str::to_owned))
                .collect(),
            rng,
        ))
    }

    fn distractors(
        &self,
        pool: &[u32],
        rng: &mut Pcg64Mcg,
        ok: impl Fn(u32) -> bool,
    ) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        for _ in 0..200 {
            let d = pool[rng.random_range(0..pool.len())];
            if ok(d) && !out.contains(&d) {
                out.push(d);
                if out.len() == 3 {
                    return Some(out);
                }
            }
        }
        None
    }

    fn choices(
        &self,
        answer: u32,
        pool: &[u32],
        exclude: &FxHashSet<u32>,
        rng: &mut Pcg64Mcg,
    ) -> Option<(Vec<String>, usize)> {
        let distractors = self.distractors(pool, rng, |d| d != answer && !exclude.contains(&d))?;
        self.shuffled_names(answer, &distractors, rng)
    }
}

/// The answer among the distractors, shuffled; returns the choices and the answer's index.
fn shuffle_in(
    answer: String,
    distractors: Vec<String>,
    rng: &mut Pcg64Mcg,
) -> (Vec<String>, usize) {
    let mut choices = distractors;
    choices.push(answer.clone());
    choices.shuffle(rng);
    let index = choices
        .iter()
        .position(|c| *c == answer)
        .expect("the answer is among them");
    (choices, index)
}
