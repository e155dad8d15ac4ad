//! One criterion bench per SPARQL query kind of `benches/queries` (and of the SPARQL issue's
//! second set), on a small generated world loaded into a fresh store: a regression in pattern
//! scans, joins, the id-to-term boundary or the evaluator shows in `cargo bench`. The
//! side-by-side comparison with oxigraph is `benches/oxigraph_sparql.py` on a 10M world.

use criterion::{criterion_group, criterion_main, Criterion};
use kale_datasets::world::{World, WorldConfig};
use kale_queries::{write_results, OutputFormat, QueryOptions, SparqlEngine};
use kg_store::{BulkLoader, LoadInput, Store};

const PREFIXES: &str = "PREFIX e: <http://kale.example/entity/>
PREFIX p: <http://kale.example/prop/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <http://schema.org/>
";

/// Runs a query to its last row, serialised as TSV as `kale sparql --format tsv` would.
fn run(engine: &SparqlEngine, text: &str) -> u64 {
    let query = SparqlEngine::parse_query(&format!("{PREFIXES}{text}"), None).unwrap();
    let (solutions, graphs) = OutputFormat::Tsv.formats();
    let mut sink = Vec::new();
    engine
        .query(&query, &QueryOptions::default(), |r| {
            write_results(r, solutions, graphs, &mut sink, None)
        })
        .unwrap()
        .1
}

/// The first value of a one-variable query: picks the bench's entities from the world.
fn pick(engine: &SparqlEngine, text: &str) -> String {
    let query = SparqlEngine::parse_query(&format!("{PREFIXES}{text}"), None).unwrap();
    let (solutions, graphs) = OutputFormat::Tsv.formats();
    let mut tsv = Vec::new();
    engine
        .query(&query, &QueryOptions::default(), |r| {
            write_results(r, solutions, graphs, &mut tsv, None)
        })
        .unwrap();
    let tsv = String::from_utf8(tsv).unwrap();
    tsv.lines().nth(1).expect("a row").to_owned()
}

fn sparql(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.nt");
    let world = World::generate(WorldConfig {
        entities: 20_000,
        seed: 42,
    });
    world
        .write_ntriples(&mut std::io::BufWriter::new(
            std::fs::File::create(&file).unwrap(),
        ))
        .unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    let engine = SparqlEngine::new(store);
    // The most common birth city, its country, one of its people and the label of that person.
    let city = pick(
        &engine,
        "SELECT ?c WHERE { ?x p:P19 ?c } GROUP BY ?c ORDER BY DESC(COUNT(?x)) LIMIT 1",
    );
    let country = pick(
        &engine,
        &format!("SELECT ?k WHERE {{ {city} p:P17 ?k }} LIMIT 1"),
    );
    let person = pick(
        &engine,
        &format!("SELECT ?x WHERE {{ ?x p:P19 {city} }} LIMIT 1"),
    );
    let label = pick(
        &engine,
        &format!("SELECT ?l WHERE {{ {person} rdfs:label ?l }} LIMIT 1"),
    );
    let queries = [
        ("label-lookup", format!("SELECT ?e WHERE {{ ?e rdfs:label {label} }}")),
        (
            "labels-of-neighbours",
            format!("SELECT ?p ?label WHERE {{ {person} ?p ?o . ?o rdfs:label ?label FILTER(LANG(?label) = \"en\") }}"),
        ),
        (
            "star-join",
            format!("SELECT ?x ?name ?d WHERE {{ ?x p:P19 {city} ; rdfs:label ?name . OPTIONAL {{ ?x schema:description ?d }} }}"),
        ),
        (
            "chain-count",
            format!("SELECT (COUNT(*) AS ?n) WHERE {{ ?x p:P19 ?c . ?c p:P17 {country} }}"),
        ),
        (
            "property-path",
            format!("SELECT (COUNT(DISTINCT ?k) AS ?n) WHERE {{ {country} p:P47+ ?k }}"),
        ),
        (
            "aggregate",
            "SELECT ?k (COUNT(?x) AS ?n) WHERE { ?x p:P27 ?k } GROUP BY ?k ORDER BY DESC(?n) LIMIT 10".to_owned(),
        ),
        (
            "optional-filter",
            format!("SELECT ?x ?died WHERE {{ ?x p:P19 ?c . ?c p:P17 {country} OPTIONAL {{ ?x p:P570 ?died }} FILTER(!BOUND(?died) || ?died > \"1990-01-01\"^^<http://www.w3.org/2001/XMLSchema#date>) }} LIMIT 1000"),
        ),
    ];
    let mut group = c.benchmark_group("sparql");
    for (name, text) in &queries {
        assert!(run(&engine, text) > 0, "{name} has rows on the bench world");
        group.bench_function(*name, |b| b.iter(|| run(&engine, text)));
    }
    group.finish();
}

criterion_group!(benches, sparql);
criterion_main!(benches);
