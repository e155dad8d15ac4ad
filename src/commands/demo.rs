//! `kale demo`: the whole method on the built-in world, nothing downloaded.

use crate::cli::DemoArgs;
use crate::commands::store::{print_stats, print_summary};
use crate::progress::TerminalProgress;
use anyhow::{Context, Result};
use kale_datasets::world::{relation, Kind, World, WorldConfig};
use kg_store::labels::Labels;
use kg_store::paths::{find_paths, PathQuery};
use kg_store::{Adjacency, BulkLoader, LoadInput, Store};
use oxrdf::NamedNodeRef;
use std::fs;
use std::io::{BufWriter, Write};

pub fn run(args: DemoArgs, progress: &TerminalProgress) -> Result<()> {
    let out = &args.out;
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let entities = args
        .entities
        .unwrap_or(if args.quick { 600 } else { 3_000 });

    step("1. generate the built-in world");
    let world = World::generate(WorldConfig {
        entities,
        seed: args.seed,
    });
    let world_file = out.join("world.nt");
    let mut writer = BufWriter::new(fs::File::create(&world_file)?);
    let triples = world.write_ntriples(&mut writer)?;
    writer.flush()?;
    println!(
        "   {} entities, {triples} triples -> {}",
        world.entities.len(),
        world_file.display()
    );

    step("2. bulk-load it into a store");
    let store_dir = out.join("store");
    if store_dir.exists() {
        fs::remove_dir_all(&store_dir)
            .with_context(|| format!("removing the old {}", store_dir.display()))?;
    }
    let store = Store::open(&store_dir)?;
    let summary = BulkLoader::new(&store)
        .progress(progress)
        .load(&[LoadInput::new(&world_file)])?;
    print_summary(&summary);
    print_stats(&store.stats()?);

    step("3. a path query: how is a person connected to their country?");
    let adjacency = Adjacency::open(&store)?;
    let reader = store.reader();
    let labels = Labels::new(reader.clone(), "en")?;
    let person = world
        .entities_of(Kind::Person)
        .iter()
        .copied()
        .find(|&p| world.has_unique_label(p))
        .context("the world has no uniquely named person")?;
    let city = world
        .target(person, relation::PLACE_OF_BIRTH)
        .context("a birthplace")?;
    let country = world.target(city, relation::COUNTRY).context("a country")?;
    let id = |index: u32| -> Result<kg_store::TermId> {
        let iri = world.iri(index);
        reader
            .term_id(NamedNodeRef::new(&iri)?.into())?
            .with_context(|| format!("{iri} is not in the store"))
    };
    let result = find_paths(
        &adjacency,
        &PathQuery::new(vec![id(person)?], vec![id(country)?])
            .max_hops(2)
            .max_paths(5),
    );
    println!(
        "   from {:?} to {:?}:",
        world.label(person),
        world.label(country)
    );
    for path in &result.paths {
        let mut text = labels.label(path.start())?.unwrap_or_default();
        for hop in &path.hops {
            let p = labels.label(hop.predicate)?.unwrap_or_default();
            let to = labels.label(hop.to())?.unwrap_or_default();
            text.push_str(&if hop.forward {
                format!(" -[{p}]-> {to}")
            } else {
                format!(" <-[{p}]- {to}")
            });
        }
        println!("   {text}");
    }
    println!("\nEverything is under {}.", out.display());
    Ok(())
}

fn step(title: &str) {
    println!("\n== {title}");
}
