//! Fact checks derived from rationales, for benchmarks that ship none (CommonsenseQA, ARC,
//! OpenBookQA): each hop (s, p, o) of an item's first path (the evidence the rationale leads
//! with) becomes a single-hop multiple-choice question asking for o ("What is the capital of
//! France?"), with distractors that are other objects of the same predicate and never another
//! correct answer. An item is then *known* when the model answers all its checks, and
//! known&incorrect can be reported on any dataset.
//!
//! Distractors are sampled by seeking to random points of the predicate's objects in the POS
//! index, so a predicate with millions of objects costs a few seeks, not a scan. The same items,
//! store and seed give the same checks.

use super::{Evidence, Synthesized, Synthesizer};
use crate::error::{DatasetError, Result};
use crate::qa::QaItem;
use kg_store::{GraphFilter, StoreReader, TermId};
use oxrdf::{BlankNode, NamedNode, Term};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use serde::Serialize;
use std::hash::{Hash, Hasher};

/// What a derivation did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FactCheckSummary {
    /// Items given checks (those with paths and without checks of their own).
    pub items: usize,
    /// Distinct checks made.
    pub checks: usize,
    /// Hops no check could be made for (fewer distinct objects than choices).
    pub skipped_hops: usize,
}

fn term_id(reader: &StoreReader, iri: &str) -> Result<Option<TermId>> {
    let bad = |source: Box<dyn std::error::Error + Send + Sync>| DatasetError::Term {
        term: iri.to_owned(),
        source,
    };
    let term: Term = match iri.strip_prefix("_:") {
        Some(b) => BlankNode::new(b).map_err(|e| bad(e.into()))?.into(),
        None => NamedNode::new(iri).map_err(|e| bad(e.into()))?.into(),
    };
    Ok(reader.term_id(term.as_ref())?)
}

/// Derives checks for every item with paths and no `facts`, sets the items' `facts` to their
/// ids, and returns the checks (each once, however many items share the hop).
pub fn derive_fact_checks(
    synthesizer: &Synthesizer,
    items: &mut [Synthesized],
    choices: usize,
    seed: u64,
) -> Result<(Vec<QaItem>, FactCheckSummary)> {
    let reader = synthesizer.reader();
    let rows = synthesizer.adjacency.rows().max(1);
    let mut checks: Vec<QaItem> = Vec::new();
    let mut by_triple: FxHashMap<(TermId, TermId, TermId), Option<String>> = FxHashMap::default();
    let mut summary = FactCheckSummary::default();
    for item in items.iter_mut() {
        if item.evidence != Evidence::Paths || !item.item.facts.is_empty() {
            continue;
        }
        let Some(path) = item.paths.first() else {
            continue;
        };
        let mut ids = Vec::new();
        for hop in &path.hops {
            let (Some(s), Some(p), Some(o)) = (
                term_id(reader, &hop.s)?,
                term_id(reader, &hop.p)?,
                term_id(reader, &hop.o)?,
            ) else {
                continue;
            };
            if let Some(known) = by_triple.get(&(s, p, o)) {
                ids.extend(known.clone());
                continue;
            }
            let mut hasher = FxHasher::default();
            (s, p, o).hash(&mut hasher);
            let key = hasher.finish();
            let mut rng = Pcg64Mcg::seed_from_u64(seed ^ key);
            let answer = synthesizer.name(o)?;
            // Every object the subject has for the predicate is a right answer.
            let mut right: FxHashSet<TermId> = FxHashSet::default();
            for quad in reader.quads(Some(s), Some(p), None, GraphFilter::All) {
                right.insert(quad?.object);
            }
            let mut labels = vec![answer.clone()];
            // From a random point, step to the next distinct object until one serves, then jump
            // again: every object can be reached, and a few seeks suffice.
            let mut from = TermId::entity(rng.random_range(0..rows));
            for _ in 0..64 {
                if labels.len() >= choices.max(2) {
                    break;
                }
                let found = match reader.object_of_predicate_from(p, from)? {
                    Some(found) => Some(found),
                    None => reader.object_of_predicate_from(p, TermId::from_u64(0))?,
                };
                let Some(d) = found else {
                    break;
                };
                from = TermId::from_u64(d.as_u64() + 1);
                if !d.is_entity() || right.contains(&d) {
                    continue;
                }
                let label = synthesizer.name(d)?;
                if !labels.contains(&label) {
                    labels.push(label);
                    from = TermId::entity(rng.random_range(0..rows));
                }
            }
            if labels.len() < choices.max(2) {
                summary.skipped_hops += 1;
                by_triple.insert((s, p, o), None);
                continue;
            }
            labels.shuffle(&mut rng);
            let answer_index = labels
                .iter()
                .position(|l| *l == answer)
                .expect("the answer is among the choices");
            let id = format!("fact-{key:016x}");
            checks.push(QaItem {
                id: id.clone(),
                question: super::rationale::fact_question(&hop.s_label, &hop.p_label),
                context: None,
                choices: labels,
                answer: answer_index,
                facts: Vec::new(),
                kind: Some("fact".into()),
                concept: None,
                relations: vec![hop.p.clone()],
            });
            by_triple.insert((s, p, o), Some(id.clone()));
            ids.push(id);
        }
        if !ids.is_empty() {
            summary.items += 1;
            item.item.facts = ids;
        }
    }
    summary.checks = checks.len();
    Ok((checks, summary))
}
