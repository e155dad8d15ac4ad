//! `kale gen`: test data.

use crate::cli::GenCommand;
use anyhow::{Context, Result};
use kale_datasets::qa::write_items;
use kale_datasets::wikidata_facts::{FactsQaConfig, WikidataFacts};
use kale_datasets::wordnet::WordNet;
use kale_datasets::world::{generate_qa, QaConfig, World, WorldConfig};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

pub fn run(command: GenCommand) -> Result<()> {
    match command {
        GenCommand::World {
            out,
            entities,
            seed,
        } => {
            let started = Instant::now();
            let world = World::generate(WorldConfig { entities, seed });
            let file = File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            let triples = world
                .write_ntriples(&mut writer)
                .and_then(|n| writer.flush().map(|()| n))
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} entities, {triples} triples to {} in {:.1}s",
                world.entities.len(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        GenCommand::Qa {
            out,
            facts,
            entities,
            seed,
            questions,
            templates,
        } => {
            let world = World::generate(WorldConfig { entities, seed });
            let config = QaConfig {
                questions,
                seed,
                templates,
                ..QaConfig::default()
            };
            let qa = generate_qa(&world, &config)?;
            let facts = facts.unwrap_or_else(|| out.with_extension("facts.jsonl"));
            write_items(&out, &qa.questions)?;
            write_items(&facts, &qa.facts)?;
            eprintln!(
                "wrote {} questions to {} and {} fact checks to {}",
                qa.questions.len(),
                out.display(),
                qa.facts.len(),
                facts.display()
            );
            if qa.questions.len() < questions {
                eprintln!(
                    "(the world has room for only {} of the {questions} questions asked)",
                    qa.questions.len()
                );
            }
            Ok(())
        }
        GenCommand::WikidataFacts {
            task,
            out,
            questions,
            per_bridge,
            seed,
        } => {
            let facts = WikidataFacts::read(&task)?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let graph = out.join("facts.nt");
            let file =
                File::create(&graph).with_context(|| format!("creating {}", graph.display()))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            let triples = facts
                .write_ntriples(&mut writer)
                .and_then(|n| writer.flush().map(|()| n))
                .with_context(|| format!("writing {}", graph.display()))?;
            eprintln!(
                "{}: {} facts ({} prompts of no known shape skipped), {triples} triples -> {}",
                task.display(),
                facts.facts.len(),
                facts.skipped.len(),
                graph.display()
            );
            let (items, checks) = facts.generate_qa(&FactsQaConfig {
                questions,
                seed,
                per_bridge,
                ..FactsQaConfig::default()
            });
            let qa = out.join("questions.jsonl");
            let facts_file = out.join("questions.facts.jsonl");
            write_items(&qa, &items)?;
            write_items(&facts_file, &checks)?;
            eprintln!(
                "wrote {} 2-hop questions to {} and {} fact checks to {}",
                items.len(),
                qa.display(),
                checks.len(),
                facts_file.display()
            );
            Ok(())
        }
        GenCommand::Wordnet {
            out,
            dict,
            qa,
            questions,
            seed,
        } => {
            let wordnet = WordNet::read(&dict)?;
            let file = File::create(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            let triples = wordnet.write_ntriples(&mut writer)?;
            writer.flush()?;
            eprintln!(
                "wrote {} synsets, {triples} triples to {}",
                wordnet.synsets.len(),
                out.display()
            );
            if let Some(qa) = qa {
                let (items, facts) = wordnet.generate_qa(questions, seed);
                let facts_file = qa.with_extension("facts.jsonl");
                write_items(&qa, &items)?;
                write_items(&facts_file, &facts)?;
                eprintln!(
                    "wrote {} questions to {} and {} fact checks to {}",
                    items.len(),
                    qa.display(),
                    facts.len(),
                    facts_file.display()
                );
            }
            Ok(())
        }
    }
}
