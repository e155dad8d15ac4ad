//! KI (knowledge-induced) synthesis: a QA item and a knowledge graph in, the item with its
//! linked entities, the reasoning paths between them and a rationale written from those paths
//! out.
//!
//! For each item: the question's entities (E_q, from the question and any context) and the
//! answer's (E_a, from the correct choice) are linked; the path search finds the paths from E_q
//! to E_a; they are deduplicated (the same nodes and predicates, whatever the directions), ranked
//! (fewer hops first, then rarer predicates and less hub-like nodes) and the top N verbalised,
//! taken in turn from each question entity, the most specific first (so a generic mention such
//! as the class "country" cannot fill the rationale). Items run in parallel; output keeps input
//! order.

mod rationale;

pub use rationale::Template;

use crate::link::{Linker, Mention};
use crate::qa::QaItem;
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, Path, PathQuery, DEFAULT_MAX_DEGREE};
use kg_store::progress::{Progress, Unit};
use kg_store::{Adjacency, Store, StoreError, StoreReader, TermId};
use oxrdf::Term;
use rationale::capitalise;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::time::{Duration, Instant};

/// How items are synthesised.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    pub max_hops: u32,
    /// Paths kept per item.
    pub paths: usize,
    /// Paths searched per item before ranking (more gives the ranking more to choose from).
    pub candidates: usize,
    pub max_degree: Option<u64>,
    pub allow: Option<Vec<TermId>>,
    pub deny: Vec<TermId>,
    pub both_directions: bool,
    /// Language of labels, for linking and for the rationale.
    pub lang: String,
    pub template: Template,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            max_hops: 3,
            paths: 5,
            candidates: 200,
            max_degree: Some(DEFAULT_MAX_DEGREE),
            allow: None,
            deny: Vec::new(),
            both_directions: true,
            lang: "en".into(),
            template: Template::Auto,
        }
    }
}

/// A linked entity in the output.
#[derive(Clone, Debug, Serialize)]
pub struct LinkedEntity {
    #[serde(flatten)]
    pub mention: Mention,
    pub iri: String,
    pub label: Option<String>,
}

/// One hop of an output path: IRIs and labels.
#[derive(Clone, Debug, Serialize)]
pub struct LabelledHop {
    pub s: String,
    pub p: String,
    pub o: String,
    pub forward: bool,
    pub s_label: String,
    pub p_label: String,
    pub o_label: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabelledPath {
    pub hops: Vec<LabelledHop>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkedEntities {
    pub question: Vec<LinkedEntity>,
    pub answer: Vec<LinkedEntity>,
}

/// A synthesised item: the input item's fields, then what synthesis added.
#[derive(Clone, Debug, Serialize)]
pub struct Synthesized {
    #[serde(flatten)]
    pub item: QaItem,
    pub entities: LinkedEntities,
    pub paths: Vec<LabelledPath>,
    /// Empty when no path connects the question to the answer.
    pub rationale: String,
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SynthSummary {
    pub items: usize,
    /// Items with at least one path.
    pub with_paths: usize,
    /// Items whose question and answer both linked to some entity.
    pub linked: usize,
    pub paths: usize,
    pub seconds: f64,
}

impl SynthSummary {
    pub fn coverage(&self) -> f64 {
        self.with_paths as f64 / self.items.max(1) as f64
    }

    pub fn mean_paths(&self) -> f64 {
        self.paths as f64 / self.items.max(1) as f64
    }

    pub fn items_per_second(&self) -> f64 {
        self.items as f64 / self.seconds.max(1e-9)
    }
}

/// Synthesis over one store, shareable between threads.
pub struct Synthesizer {
    reader: StoreReader,
    adjacency: Adjacency,
    linker: Linker,
    labels: Labels,
    predicate_counts: FxHashMap<u32, u64>,
    config: SynthConfig,
}

impl Synthesizer {
    /// Opens what synthesis reads: the adjacency, the label index, the predicate statistics.
    pub fn new(store: &Store, config: SynthConfig) -> Result<Self, StoreError> {
        let adjacency = Adjacency::open(store)?;
        Self::with_adjacency(store, adjacency, config)
    }

    /// The same, with an adjacency the caller keeps fresh (streaming reads a live store).
    pub fn with_adjacency(
        store: &Store,
        adjacency: Adjacency,
        config: SynthConfig,
    ) -> Result<Self, StoreError> {
        let reader = store.reader();
        let linker = Linker::build(&reader, Some(&adjacency), &config.lang)?;
        let labels = Labels::new(reader.clone(), &config.lang)?;
        let predicate_counts = adjacency.predicate_counts();
        Ok(Self {
            reader,
            adjacency,
            linker,
            labels,
            predicate_counts,
            config,
        })
    }

    pub fn linker(&self) -> &Linker {
        &self.linker
    }

    pub fn reader(&self) -> &StoreReader {
        &self.reader
    }

    fn iri(&self, id: TermId) -> Result<String, StoreError> {
        Ok(match self.reader.term(id)? {
            Term::NamedNode(n) => n.into_string(),
            Term::BlankNode(b) => format!("_:{}", b.as_str()),
            Term::Literal(l) => l.to_string(),
        })
    }

    /// A label, or the IRI's last segment when the entity has none.
    fn name(&self, id: TermId) -> Result<String, StoreError> {
        if let Some(label) = self.labels.label(id)? {
            return Ok(label);
        }
        let iri = self.iri(id)?;
        Ok(iri.rsplit(['/', '#']).next().unwrap_or(&iri).to_owned())
    }

    fn entities(&self, mentions: Vec<Mention>) -> Result<Vec<LinkedEntity>, StoreError> {
        mentions
            .into_iter()
            .map(|m| {
                Ok(LinkedEntity {
                    iri: self.iri(m.entity)?,
                    label: self.labels.label(m.entity)?,
                    mention: m,
                })
            })
            .collect()
    }

    /// Ranking key: hops, then predicate rarity plus hub-ness of the nodes on the path, its ends
    /// included (a path from the class "country" says less than one from a person).
    fn score(&self, path: &Path) -> (usize, f64) {
        let mut score = 0.0;
        for hop in &path.hops {
            let p = hop.predicate.entity_index().unwrap_or(0);
            score += (self.predicate_counts.get(&p).copied().unwrap_or(1).max(1) as f64).ln();
        }
        for node in &path.nodes() {
            score += (self.adjacency.degree(node.entity_index().unwrap_or(0)) as f64 + 1.0).ln();
        }
        (path.hops.len(), score)
    }

    /// The paths from the question's entities to the answer's, deduplicated and ranked.
    pub fn paths(&self, sources: Vec<TermId>, targets: Vec<TermId>) -> Vec<Path> {
        if sources.is_empty() || targets.is_empty() {
            return Vec::new();
        }
        let mut query = PathQuery::new(sources, targets)
            .max_hops(self.config.max_hops)
            .max_paths(self.config.candidates)
            .max_degree(self.config.max_degree);
        query.allow = self.config.allow.clone();
        query.deny = self.config.deny.clone();
        query.both_directions = self.config.both_directions;
        let found = find_paths(&self.adjacency, &query).paths;
        let mut seen = FxHashSet::default();
        let mut unique: Vec<Path> = found
            .into_iter()
            .filter(|p| {
                seen.insert((
                    p.nodes(),
                    p.hops.iter().map(|h| h.predicate).collect::<Vec<_>>(),
                ))
            })
            .collect();
        let mut scored: Vec<((usize, f64), Path)> =
            unique.drain(..).map(|p| (self.score(&p), p)).collect();
        scored.sort_by(|a, b| {
            a.0 .0
                .cmp(&b.0 .0)
                .then(a.0 .1.total_cmp(&b.0 .1))
                .then(a.1.cmp(&b.1))
        });
        // Take paths in turn from each question entity, the most specific (fewest edges) first:
        // a generic mention ("country", a class) must not crowd out the one the question is about.
        let mut by_source: Vec<(u64, TermId, std::collections::VecDeque<Path>)> = Vec::new();
        for (_, path) in scored {
            let start = path.start();
            match by_source.iter_mut().find(|(_, s, _)| *s == start) {
                Some((_, _, paths)) => paths.push_back(path),
                None => {
                    let degree = start.entity_index().map_or(0, |v| self.adjacency.degree(v));
                    by_source.push((degree, start, std::collections::VecDeque::from([path])));
                }
            }
        }
        by_source.sort_by_key(|(degree, start, _)| (*degree, *start));
        let mut kept = Vec::with_capacity(self.config.paths);
        while kept.len() < self.config.paths && by_source.iter().any(|(_, _, p)| !p.is_empty()) {
            for (_, _, paths) in &mut by_source {
                if kept.len() < self.config.paths {
                    if let Some(path) = paths.pop_front() {
                        kept.push(path);
                    }
                }
            }
        }
        kept
    }

    /// Synthesises one item.
    pub fn synthesize(&self, item: &QaItem) -> Result<Synthesized, StoreError> {
        let mut question_text = item.question.clone();
        if let Some(context) = &item.context {
            question_text.push('\n');
            question_text.push_str(context);
        }
        let question = self.linker.link(&question_text);
        let answer = self.linker.link(item.answer_text());
        let targets: Vec<TermId> = answer.iter().map(|m| m.entity).collect();
        // An entity named in both is no bridge between them.
        let sources: Vec<TermId> = question
            .iter()
            .map(|m| m.entity)
            .filter(|e| !targets.contains(e))
            .collect();
        let paths = self.paths(sources, targets);
        let mut labelled = Vec::with_capacity(paths.len());
        let mut sentences = Vec::with_capacity(paths.len());
        for path in &paths {
            let mut hops = Vec::with_capacity(path.hops.len());
            let mut parts = Vec::with_capacity(path.hops.len());
            for hop in &path.hops {
                let (s, p, o) = (
                    self.name(hop.subject)?,
                    self.name(hop.predicate)?,
                    self.name(hop.object)?,
                );
                parts.push(self.config.template.sentence(&s, &p, &o));
                hops.push(LabelledHop {
                    s: self.iri(hop.subject)?,
                    p: self.iri(hop.predicate)?,
                    o: self.iri(hop.object)?,
                    forward: hop.forward,
                    s_label: s,
                    p_label: p,
                    o_label: o,
                });
            }
            sentences.push(capitalise(&parts.join("; ")));
            labelled.push(LabelledPath { hops });
        }
        let rationale = if sentences.is_empty() {
            String::new()
        } else {
            format!("{}.", sentences.join(". "))
        };
        Ok(Synthesized {
            item: item.clone(),
            entities: LinkedEntities {
                question: self.entities(question)?,
                answer: self.entities(answer)?,
            },
            paths: labelled,
            rationale,
        })
    }

    /// Synthesises items in parallel; results in input order.
    pub fn synthesize_all(
        &self,
        items: &[QaItem],
        progress: &dyn Progress,
    ) -> Result<(Vec<Synthesized>, SynthSummary), StoreError> {
        let started = Instant::now();
        progress.begin(
            "synthesising",
            Some(items.len() as u64),
            Unit::Items("items"),
        );
        let out: Vec<Synthesized> = items
            .par_iter()
            .map(|item| {
                let s = self.synthesize(item);
                progress.advance(1);
                s
            })
            .collect::<Result<_, _>>()?;
        progress.end();
        let summary = summarize(&out, started.elapsed());
        Ok((out, summary))
    }
}

/// Counts of a run's output.
pub fn summarize(out: &[Synthesized], took: Duration) -> SynthSummary {
    SynthSummary {
        items: out.len(),
        with_paths: out.iter().filter(|s| !s.paths.is_empty()).count(),
        linked: out
            .iter()
            .filter(|s| !s.entities.question.is_empty() && !s.entities.answer.is_empty())
            .count(),
        paths: out.iter().map(|s| s.paths.len()).sum(),
        seconds: took.as_secs_f64(),
    }
}
