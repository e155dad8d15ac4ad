//! A synthesis run as `kale synth` makes it: a QA file in, synthesised JSONL out, predicate
//! filters given by IRI, fact checks derived on request.

use super::fact_checks::{derive_fact_checks, FactCheckSummary};
use super::shard::Shard;
use super::writer::{Rewriter, WriterSummary};
use super::{SynthConfig, SynthSummary, Synthesizer, Template};
use crate::error::Result;
use crate::qa::{read_items, write_items, QaFormat};
use kg_store::paths::DEFAULT_MAX_DEGREE;
use kg_store::progress::Progress;
use kg_store::resolve::predicate_ids;
use kg_store::{Store, StoreReader};
use std::path::PathBuf;

/// The synthesis settings as given, predicates by IRI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthSettings {
    pub max_hops: u32,
    /// Paths kept per item.
    pub paths: usize,
    /// Hub cap; 0: none.
    pub max_degree: u64,
    /// Only these predicates (comma-separated IRI lists), when any is given.
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub forward_only: bool,
    pub lang: String,
    /// How a hop reads: `auto`, or a template with `{s}`, `{p}`, `{o}`.
    pub template: String,
}

impl Default for SynthSettings {
    fn default() -> Self {
        Self {
            max_hops: 3,
            paths: 5,
            max_degree: DEFAULT_MAX_DEGREE,
            allow: Vec::new(),
            deny: Vec::new(),
            forward_only: false,
            lang: "en".into(),
            template: "auto".into(),
        }
    }
}

impl SynthSettings {
    /// The configuration these settings give on `reader`'s store.
    pub fn config(&self, reader: &StoreReader) -> Result<SynthConfig> {
        let iris = |lists: &[String]| predicate_ids(reader, lists.iter().map(String::as_str));
        Ok(SynthConfig {
            max_hops: self.max_hops,
            paths: self.paths,
            max_degree: (self.max_degree > 0).then_some(self.max_degree),
            allow: (!self.allow.is_empty())
                .then(|| iris(&self.allow))
                .transpose()?,
            deny: iris(&self.deny)?,
            both_directions: !self.forward_only,
            lang: self.lang.clone(),
            template: Template::parse(&self.template),
            ..SynthConfig::default()
        })
    }
}

/// One run: which file, where the output goes.
#[derive(Clone, Debug)]
pub struct SynthRun {
    pub dataset: PathBuf,
    /// Default: detected.
    pub format: Option<QaFormat>,
    /// One JSON object per item, in input order.
    pub out: PathBuf,
    /// Where to write single-hop fact checks derived from each item's first path, if wanted
    /// (for datasets without any, so that known&incorrect can be measured).
    pub fact_checks: Option<PathBuf>,
    pub settings: SynthSettings,
    /// Only this shard of the items (for runs split over hosts).
    pub shard: Option<Shard>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct SynthRunReport {
    pub summary: SynthSummary,
    /// What the rationale writer did, when one was asked for.
    pub writer: Option<WriterSummary>,
    pub derived: Option<FactCheckSummary>,
}

impl SynthRun {
    /// Where a writer's completions are cached unless told otherwise: beside the output
    /// (`synth.jsonl` -> `synth.rationale-cache/`).
    pub fn default_cache(&self) -> PathBuf {
        self.out.with_extension("rationale-cache")
    }

    /// Synthesises the dataset; with a `rewriter`, a language model writes the rationales
    /// (the template's stand where its text is refused).
    pub fn run(
        &self,
        store: &Store,
        rewriter: Option<&Rewriter>,
        progress: &dyn Progress,
    ) -> Result<SynthRunReport> {
        let mut items = read_items(&self.dataset, self.format)?;
        if let Some(shard) = self.shard {
            items = shard.select(items);
        }
        let config = self.settings.config(&store.reader())?;
        let synthesizer = Synthesizer::new(store, config)?;
        let (mut out, summary) = synthesizer.synthesize_all(&items, progress)?;
        let writer = rewriter
            .map(|r| r.rewrite(&mut out, progress))
            .transpose()?;
        let derived = match &self.fact_checks {
            Some(path) => {
                let (checks, derived) = derive_fact_checks(&synthesizer, &mut out, 4, 42)?;
                write_items(path, &checks)?;
                Some(derived)
            }
            None => None,
        };
        write_items(&self.out, &out)?;
        Ok(SynthRunReport {
            summary,
            writer,
            derived,
        })
    }
}

impl SynthRunReport {
    /// The report as `kale synth --json-summary` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let s = &self.summary;
        serde_json::json!({
            "items": s.items, "with_paths": s.with_paths,
            "partial": s.partial, "without_evidence": s.without_evidence(),
            "linked": s.linked, "coverage": s.coverage(),
            "mean_paths": s.mean_paths(),
            "right_path_first": s.right_path_first_share(),
            "with_relations": s.with_relations,
            "seconds": s.seconds, "items_per_sec": s.items_per_second(),
            "fact_checks": self.derived,
            "writer": self.writer.as_ref().map(|w| serde_json::json!({
                "writer": w.writer, "items": w.items, "accepted": w.accepted,
                "acceptance": w.acceptance(), "generated": w.generated, "cached": w.cached,
                "ungrounded": w.ungrounded, "repetitive": w.repetitive, "too_long": w.too_long,
                "empty": w.empty,
                "seconds": w.seconds,
            })),
        })
    }
}

impl std::fmt::Display for SynthRunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        if let Some(d) = &self.derived {
            writeln!(
                f,
                "derived {} fact checks for {} items ({} hops without enough distinct objects for choices)",
                d.checks, d.items, d.skipped_hops
            )?;
        }
        let right_first = s.right_path_first_share().map_or(String::new(), |share| {
            format!(
                "; the asked path first for {:.1}% of the {} items that name it",
                100.0 * share,
                s.with_relations
            )
        });
        if let Some(w) = &self.writer {
            writeln!(f, "{w}")?;
        }
        write!(
            f,
            "synthesised {} items in {:.1}s ({:.0} items/s): coverage {:.1}% ({} with paths, {} with partial evidence only, {} with nothing), {:.2} paths per item{right_first}",
            s.items,
            s.seconds,
            s.items_per_second(),
            100.0 * s.coverage(),
            s.with_paths,
            s.partial,
            s.without_evidence(),
            s.mean_paths(),
        )
    }
}
