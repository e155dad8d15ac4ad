//! `kale gen`: test data.

use crate::cli::GenCommand;
use anyhow::{Context, Result};
use kale_datasets::world::{World, WorldConfig};
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
    }
}
