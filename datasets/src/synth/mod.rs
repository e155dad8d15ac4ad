//! KI (knowledge-induced) synthesis: a QA item and a knowledge graph in, the item with its
//! linked entities, the reasoning paths between them and a rationale written from those paths
//! out.
//!
//! For each item: the question's entities (E_q, from the concept the dataset names, the question
//! and any context) and the answer's (E_a, from the correct choice) are linked; the path search
//! finds the paths from E_q to E_a; they are deduplicated (the same nodes and predicates,
//! whatever the directions) and ranked:
//! 1. paths over more of the predicates the question names first ("the *capital* of the
//!    *country of citizenship* of X": the linker links relation words to predicates too);
//! 2. then fewer hops;
//! 3. then rarer predicates and less hub-like nodes.
//!
//! The top N are verbalised, taken in turn from each question entity (the one whose best path
//! ranks highest first, then the most specific), so a generic mention such as the class "country"
//! cannot fill the rationale. When no path joins them, the best partial evidence is used instead:
//! one-hop facts of the answer's and the question's entities, ranked the same way
//! ([`Evidence::Partial`]). Items run in parallel; output keeps input order.

mod fact_checks;
mod rationale;
mod run;
mod shard;
mod source;
pub mod writer;

pub use fact_checks::{derive_fact_checks, FactCheckSummary};
pub use rationale::Template;
pub use run::{SynthRun, SynthRunReport, SynthSettings};
pub use shard::Shard;

use crate::error::Result;
use crate::link::{Linker, Mention};
use crate::qa::QaItem;
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, Path, PathQuery, DEFAULT_MAX_DEGREE};
use kg_store::progress::{Progress, Unit};
use kg_store::{Adjacency, Store, StoreReader, TermId};
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

/// What a rationale is made of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Paths from the question's entities to the answer's.
    Paths,
    /// No path joins them: one-hop facts of the answer's and the question's entities.
    Partial,
    /// Nothing linked, or nothing known about what did.
    #[default]
    None,
}

/// A synthesised item: the input item's fields, then what synthesis added.
#[derive(Clone, Debug, Serialize)]
pub struct Synthesized {
    #[serde(flatten)]
    pub item: QaItem,
    pub entities: LinkedEntities,
    pub evidence: Evidence,
    /// The paths (or, with partial evidence, the one-hop facts) the rationale verbalises.
    pub paths: Vec<LabelledPath>,
    /// Empty when there is no evidence.
    pub rationale: String,
    /// Who wrote `rationale`.
    pub rationale_by: source::RationaleSource,
    /// The template's rationale, when a writer's replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_rationale: Option<String>,
    /// A writer's text that failed the grounding check (the template stands instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_rationale: Option<String>,
}

impl Synthesized {
    /// Whether the first path walks the predicates the question asks about (`None` when the item
    /// does not say which those are).
    pub fn right_path_first(&self) -> Option<bool> {
        if self.item.relations.is_empty() {
            return None;
        }
        Some(
            self.evidence == Evidence::Paths
                && self.paths.first().is_some_and(|p| {
                    p.hops.iter().map(|h| h.p.as_str()).eq(self
                        .item
                        .relations
                        .iter()
                        .map(String::as_str))
                }),
        )
    }
}

/// What a run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SynthSummary {
    pub items: usize,
    /// Items with at least one path from question to answer.
    pub with_paths: usize,
    /// Items with partial evidence only (one-hop facts).
    pub partial: usize,
    /// Items whose question and answer both linked to some entity.
    pub linked: usize,
    pub paths: usize,
    /// Items that say which path they ask about...
    pub with_relations: usize,
    /// ...and of those, the ones whose first path is that one.
    pub right_path_first: usize,
    pub seconds: f64,
}

impl SynthSummary {
    /// Share of items with full paths.
    pub fn coverage(&self) -> f64 {
        self.with_paths as f64 / self.items.max(1) as f64
    }

    /// Share of items with no evidence at all.
    pub fn without_evidence(&self) -> usize {
        self.items - self.with_paths - self.partial
    }

    /// Share of the items that name their path whose first rationale sentence is that path.
    pub fn right_path_first_share(&self) -> Option<f64> {
        (self.with_relations > 0).then(|| self.right_path_first as f64 / self.with_relations as f64)
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
    pub fn new(store: &Store, config: SynthConfig) -> Result<Self> {
        let adjacency = Adjacency::open(store)?;
        Self::with_adjacency(store, adjacency, config)
    }

    /// The same, with an adjacency the caller keeps fresh (streaming reads a live store).
    pub fn with_adjacency(
        store: &Store,
        adjacency: Adjacency,
        config: SynthConfig,
    ) -> Result<Self> {
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

    fn iri(&self, id: TermId) -> Result<String> {
        Ok(match self.reader.term(id)? {
            Term::NamedNode(n) => n.into_string(),
            Term::BlankNode(b) => format!("_:{}", b.as_str()),
            Term::Literal(l) => l.to_string(),
        })
    }

    /// A label, or the IRI's last segment when the entity has none.
    fn name(&self, id: TermId) -> Result<String> {
        if let Some(label) = self.labels.label(id)? {
            return Ok(label);
        }
        let iri = self.iri(id)?;
        Ok(iri.rsplit(['/', '#']).next().unwrap_or(&iri).to_owned())
    }

    fn entities(&self, mentions: Vec<Mention>) -> Result<Vec<LinkedEntity>> {
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

    /// Ranking key (smaller first): the question's predicates not on the path, hops, then
    /// predicate rarity plus hub-ness of the nodes on the path, its ends included (a path from
    /// the class "country" says less than one from a person).
    fn score(&self, path: &Path, named: &FxHashSet<TermId>) -> (usize, usize, f64) {
        let mut score = 0.0;
        for hop in &path.hops {
            let p = hop.predicate.entity_index().unwrap_or(0);
            score += (self.predicate_counts.get(&p).copied().unwrap_or(1).max(1) as f64).ln();
        }
        for node in &path.nodes() {
            score += (self.adjacency.degree(node.entity_index().unwrap_or(0)) as f64 + 1.0).ln();
        }
        let covered: FxHashSet<TermId> = path
            .hops
            .iter()
            .map(|h| h.predicate)
            .filter(|p| named.contains(p))
            .collect();
        (named.len() - covered.len(), path.hops.len(), score)
    }

    /// The predicates among the linked entities (relation words of the question).
    fn named_predicates(&self, mentions: &[Mention]) -> FxHashSet<TermId> {
        mentions
            .iter()
            .map(|m| m.entity)
            .filter(|e| {
                e.entity_index()
                    .is_some_and(|i| self.predicate_counts.contains_key(&i))
            })
            .collect()
    }

    /// Orders scored paths and keeps `config.paths` of them: in turn from each start entity, the
    /// entity whose best path covers most of the named predicates first, then the most specific
    /// (fewest edges): a generic mention (the class "country") must not crowd out the entity the
    /// question is about, however short its paths.
    fn rank(&self, mut scored: Vec<((usize, usize, f64), Path)>) -> Vec<Path> {
        scored.sort_by(|a, b| {
            (a.0 .0, a.0 .1)
                .cmp(&(b.0 .0, b.0 .1))
                .then(a.0 .2.total_cmp(&b.0 .2))
                .then(a.1.cmp(&b.1))
        });
        type Group = (usize, u64, TermId, std::collections::VecDeque<Path>);
        let mut by_source: Vec<Group> = Vec::new();
        for (key, path) in scored {
            let start = path.start();
            match by_source.iter_mut().find(|g| g.2 == start) {
                Some(group) => group.3.push_back(path),
                None => {
                    let degree = start.entity_index().map_or(0, |v| self.adjacency.degree(v));
                    by_source.push((
                        key.0,
                        degree,
                        start,
                        std::collections::VecDeque::from([path]),
                    ));
                }
            }
        }
        by_source.sort_by_key(|g| (g.0, g.1, g.2));
        let mut kept = Vec::with_capacity(self.config.paths);
        while kept.len() < self.config.paths && by_source.iter().any(|g| !g.3.is_empty()) {
            for group in &mut by_source {
                if kept.len() < self.config.paths {
                    if let Some(path) = group.3.pop_front() {
                        kept.push(path);
                    }
                }
            }
        }
        kept
    }

    /// The paths from the question's entities to the answer's, deduplicated and ranked (with
    /// `named`, the predicates the question names, first).
    pub fn paths(
        &self,
        sources: Vec<TermId>,
        targets: Vec<TermId>,
        named: &FxHashSet<TermId>,
    ) -> Vec<Path> {
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
        let scored: Vec<((usize, usize, f64), Path)> = found
            .into_iter()
            .filter(|p| {
                seen.insert((
                    p.nodes(),
                    p.hops.iter().map(|h| h.predicate).collect::<Vec<_>>(),
                ))
            })
            .map(|p| (self.score(&p, named), p))
            .collect();
        self.rank(scored)
    }

    /// Partial evidence: one-hop facts of `entities` (the answer's first), ranked like paths.
    /// A hub's facts are chosen among the first edges of its rows: the evidence must not cost
    /// a scan of millions of edges.
    pub fn one_hop_facts(&self, entities: &[TermId], named: &FxHashSet<TermId>) -> Vec<Path> {
        const EDGES_LOOKED_AT: usize = 4_096;
        let mut seen = FxHashSet::default();
        let mut scored = Vec::new();
        let ok = |p: u32| {
            let id = TermId::entity(u64::from(p));
            self.config.allow.as_ref().is_none_or(|a| a.contains(&id))
                && !self.config.deny.contains(&id)
        };
        for &entity in entities {
            let Some(v) = entity.entity_index() else {
                continue;
            };
            let out = self.adjacency.out_edges(v).map(|[n, p]| (v, p, n, true));
            let into = self
                .adjacency
                .in_edges(v)
                .filter(|_| self.config.both_directions)
                .map(|[n, p]| (n, p, v, false));
            for (s, p, o, forward) in out.take(EDGES_LOOKED_AT).chain(into.take(EDGES_LOOKED_AT)) {
                if !ok(p) || !seen.insert((s, p, o)) {
                    continue;
                }
                let hop = kg_store::paths::Hop {
                    subject: TermId::entity(u64::from(s)),
                    predicate: TermId::entity(u64::from(p)),
                    object: TermId::entity(u64::from(o)),
                    forward,
                };
                let path = Path { hops: vec![hop] };
                scored.push((self.score(&path, named), path));
            }
        }
        self.rank(scored)
    }

    /// Synthesises one item.
    pub fn synthesize(&self, item: &QaItem) -> Result<Synthesized> {
        let mut question_text = item.question.clone();
        if let Some(context) = &item.context {
            question_text.push('\n');
            question_text.push_str(context);
        }
        // The concept a dataset names comes first.
        let mut question = item
            .concept
            .as_deref()
            .map(|c| self.linker.link(c))
            .unwrap_or_default();
        for m in self.linker.link(&question_text) {
            if !question.iter().any(|q| q.entity == m.entity) {
                question.push(m);
            }
        }
        let answer = self.linker.link(item.answer_text());
        let named = self.named_predicates(&question);
        let targets: Vec<TermId> = answer.iter().map(|m| m.entity).collect();
        // An entity named in both is no bridge between them.
        let sources: Vec<TermId> = question
            .iter()
            .map(|m| m.entity)
            .filter(|e| !targets.contains(e))
            .collect();
        let mut paths = self.paths(sources.clone(), targets.clone(), &named);
        let mut evidence = Evidence::Paths;
        if paths.is_empty() {
            let mut ends = targets;
            ends.extend(sources);
            paths = self.one_hop_facts(&ends, &named);
            evidence = if paths.is_empty() {
                Evidence::None
            } else {
                Evidence::Partial
            };
        }
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
            evidence,
            paths: labelled,
            rationale,
            rationale_by: source::RationaleSource::Template,
            template_rationale: None,
            refused_rationale: None,
        })
    }

    /// Synthesises items in parallel; results in input order.
    pub fn synthesize_all(
        &self,
        items: &[QaItem],
        progress: &dyn Progress,
    ) -> Result<(Vec<Synthesized>, SynthSummary)> {
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
    let evidence = |e: Evidence| out.iter().filter(|s| s.evidence == e).count();
    SynthSummary {
        items: out.len(),
        with_paths: evidence(Evidence::Paths),
        partial: evidence(Evidence::Partial),
        linked: out
            .iter()
            .filter(|s| !s.entities.question.is_empty() && !s.entities.answer.is_empty())
            .count(),
        paths: out
            .iter()
            .filter(|s| s.evidence == Evidence::Paths)
            .map(|s| s.paths.len())
            .sum(),
        with_relations: out.iter().filter(|s| !s.item.relations.is_empty()).count(),
        right_path_first: out
            .iter()
            .filter(|s| s.right_path_first() == Some(true))
            .count(),
        seconds: took.as_secs_f64(),
    }
}
