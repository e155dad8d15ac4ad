//! Criterion benches of the store's hot paths on a small generated world (from kale-datasets, a
//! dev-dependency only): the bulk load, a subject's triples, opening the CSR adjacency, and path
//! queries of 1 to 4 hops between connected and random pairs. `kale bench load` and `kale bench paths` measure
//! the same at scale.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kale_datasets::world::{World, WorldConfig};
use kg_store::bench::{PairSample, PathBench};
use kg_store::paths::find_paths;
use kg_store::{Adjacency, BulkLoader, GraphFilter, LoadInput, Store};
use std::io::Write;

/// The generated Wikidata-shaped world of 20k entities (about 220k triples).
fn write_world(file: &std::path::Path) -> u64 {
    let world = World::generate(WorldConfig {
        entities: 20_000,
        seed: 42,
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).unwrap());
    let triples = world.write_ntriples(&mut out).unwrap();
    out.flush().unwrap();
    triples
}

fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.nt");
    let triples = write_world(&file);

    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.throughput(Throughput::Elements(triples));
    group.bench_function("bulk-load", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |target| {
                let store = Store::open(target.path().join("store")).unwrap();
                BulkLoader::new(&store)
                    .load(&[LoadInput::new(&file)])
                    .unwrap();
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();

    let store = Store::open(dir.path().join("store")).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    let reader = store.reader();
    let subject = reader
        .term_id(
            oxrdf::NamedNodeRef::new("http://kale.example/entity/Q42")
                .unwrap()
                .into(),
        )
        .unwrap();
    let mut group = c.benchmark_group("read");
    group.bench_function("subject-scan", |b| {
        b.iter(|| reader.quads(subject, None, None, GraphFilter::All).count());
    });
    group.finish();

    let mut group = c.benchmark_group("adjacency");
    group.bench_function("csr-open", |b| {
        b.iter(|| Adjacency::open(&store).unwrap().rows());
    });
    group.finish();

    let adjacency = Adjacency::open(&store).unwrap();
    let mut group = c.benchmark_group("paths");
    for (sample, max_hops) in [PairSample::Walk, PairSample::Random]
        .into_iter()
        .flat_map(|s| (1..=4).map(move |h| (s, h)))
    {
        let queries = PathBench {
            pairs: 200,
            max_hops,
            seed: 7,
            forward_only: false,
            max_degree: kg_store::paths::DEFAULT_MAX_DEGREE,
            sample,
        }
        .queries(&adjacency)
        .unwrap();
        group.throughput(Throughput::Elements(queries.len() as u64));
        group.bench_function(format!("{max_hops}-hop-{sample:?}").to_lowercase(), |b| {
            b.iter(|| {
                queries
                    .iter()
                    .map(|q| find_paths(&adjacency, q).paths.len())
                    .sum::<usize>()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
