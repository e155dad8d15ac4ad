//! `kale gen`: test data, written by `kale_datasets::gen`.

use crate::cli::GenCommand;
use anyhow::Result;
use kale_datasets::gen;
use kale_datasets::wikidata_facts::FactsQaConfig;
use kale_datasets::world::{QaConfig, WorldConfig};
use std::time::Instant;

pub fn run(command: GenCommand) -> Result<()> {
    match command {
        GenCommand::World {
            out,
            entities,
            seed,
            languages,
        } => {
            let started = Instant::now();
            let (entities, triples) =
                gen::world_in(&out, WorldConfig { entities, seed }, languages)?;
            eprintln!(
                "wrote {entities} entities, {triples} triples to {} in {:.1}s",
                out.display(),
                started.elapsed().as_secs_f64()
            );
        }
        GenCommand::Qa {
            out,
            facts,
            entities,
            seed,
            questions,
            templates,
        } => {
            let config = QaConfig {
                questions,
                seed,
                templates,
                ..QaConfig::default()
            };
            let written = gen::world_qa(
                &out,
                facts.as_deref(),
                WorldConfig { entities, seed },
                &config,
            )?;
            eprintln!("{written}");
            if written.question_count < questions {
                eprintln!(
                    "(the world has room for only {} of the {questions} questions asked)",
                    written.question_count
                );
            }
        }
        GenCommand::WikidataFacts {
            task,
            out,
            questions,
            per_bridge,
            seed,
        } => {
            let config = FactsQaConfig {
                questions,
                seed,
                per_bridge,
                ..FactsQaConfig::default()
            };
            let written = gen::wikidata_facts(&task, &out, &config)?;
            eprintln!(
                "{}: {} facts ({} prompts of no known shape skipped), {} triples -> {}",
                task.display(),
                written.facts,
                written.skipped,
                written.triples,
                written.graph.display()
            );
            eprintln!("{} (2-hop questions)", written.qa);
        }
        GenCommand::Wordnet {
            out,
            dict,
            qa,
            questions,
            seed,
        } => {
            let written = gen::wordnet(&dict, &out, qa.as_deref().map(|q| (q, questions, seed)))?;
            eprintln!(
                "wrote {} synsets, {} triples to {}",
                written.synsets,
                written.triples,
                out.display()
            );
            if let Some(qa) = written.qa {
                eprintln!("{qa}");
            }
        }
    }
    Ok(())
}
