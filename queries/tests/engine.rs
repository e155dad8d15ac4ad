//! Updates (differentially against oxigraph), atomicity, the path service, limits and errors.

use kale_queries::{
    write_results, LoadPolicy, QueryError, QueryOptions, SolutionsFormat, SparqlEngine,
};
use kg_store::paths::{find_paths, PathQuery};
use kg_store::{Adjacency, BulkLoader, LoadInput, Store};
use oxigraph::io::RdfFormat;
use oxigraph::sparql::SparqlEvaluator;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

fn people() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/people.trig")
}

fn loaded() -> (tempfile::TempDir, SparqlEngine) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(people())])
        .unwrap();
    (dir, SparqlEngine::new(store))
}

fn update(engine: &SparqlEngine, text: &str) -> Result<kale_queries::UpdateSummary, QueryError> {
    let parsed = SparqlEngine::parse_update(text, None)?;
    engine.update(&parsed, LoadPolicy::Allow)
}

/// Every quad, as N-Quads lines with numbers compared by value.
fn quads_of_ours(engine: &SparqlEngine) -> BTreeSet<String> {
    let mut out = Vec::new();
    kg_store::export::dump(&engine.store().reader(), &mut out).unwrap();
    oxttl::NQuadsParser::new()
        .for_slice(&out)
        .map(|q| canonical(&q.unwrap()))
        .collect()
}

fn quads_of_reference(store: &oxigraph::store::Store) -> BTreeSet<String> {
    store.iter().map(|q| canonical(&q.unwrap())).collect()
}

fn canonical(q: &oxrdf::Quad) -> String {
    use oxrdf::vocab::xsd;
    let object = match &q.object {
        oxrdf::Term::Literal(l)
            if [xsd::INTEGER, xsd::DECIMAL, xsd::DOUBLE].contains(&l.datatype()) =>
        {
            format!("{}^^{}", l.value().parse::<f64>().unwrap(), l.datatype())
        }
        other => other.to_string(),
    };
    format!("{} {} {object} {}", q.subject, q.predicate, q.graph_name)
}

const PREFIXES: &str = "PREFIX ex: <http://example.com/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n";

#[test]
fn updates_change_the_store_as_they_change_oxigraph() {
    let (dir, engine) = loaded();
    let reference = oxigraph::store::Store::new().unwrap();
    reference
        .load_from_reader(RdfFormat::TriG, std::fs::File::open(people()).unwrap())
        .unwrap();
    let extra = dir.path().join("extra.ttl");
    std::fs::write(
        &extra,
        "<http://example.com/zoe> <http://xmlns.com/foaf/0.1/knows> <http://example.com/alice> .\n",
    )
    .unwrap();
    let load = format!("LOAD <file://{}> INTO GRAPH ex:loaded", extra.display());
    let requests = [
        "INSERT DATA { ex:zoe a foaf:Person ; foaf:age 23 . GRAPH ex:g3 { ex:zoe ex:likes ex:alice } }",
        "DELETE DATA { ex:alice foaf:knows ex:carol . GRAPH ex:g1 { ex:alice ex:likes ex:bob } }",
        "DELETE { ?p foaf:age ?a } INSERT { ?p foaf:age ?b } WHERE { ?p foaf:age ?a FILTER(isNumeric(?a)) BIND(?a + 1 AS ?b) }",
        "INSERT { GRAPH ex:adults { ?p a ex:Adult } } WHERE { ?p foaf:age ?a FILTER(isNumeric(?a) && ?a >= 30) }",
        "DELETE WHERE { ?p ex:nick ?n }",
        "WITH ex:g2 DELETE { ?s ex:likes ?o } WHERE { ?s ex:likes ?o }",
        "CLEAR GRAPH ex:g1",
        "CREATE GRAPH ex:empty",
        "DROP GRAPH ex:g3",
        "ADD ex:adults TO DEFAULT",
        "COPY DEFAULT TO ex:backup",
        "MOVE ex:backup TO ex:moved",
        // Several operations in one request: each sees the ones before.
        "INSERT DATA { ex:a ex:p ex:b } ; INSERT { ?o ex:q ?s } WHERE { ?s ex:p ?o } ; DELETE DATA { ex:a ex:p ex:b }",
        "CLEAR NAMED",
        "DROP DEFAULT",
        &load,
        "DROP ALL",
    ];
    for request in requests {
        let text = format!("{PREFIXES}{request}");
        update(&engine, &text).unwrap_or_else(|e| panic!("{request}: {e}"));
        if request.starts_with("LOAD") {
            // oxigraph's LOAD needs its HTTP client even for file: IRIs; load directly.
            let parser = oxigraph::io::RdfParser::from_format(RdfFormat::Turtle)
                .with_default_graph(oxrdf::NamedNode::new("http://example.com/loaded").unwrap());
            reference
                .load_from_reader(parser, std::fs::File::open(&extra).unwrap())
                .unwrap();
        } else {
            SparqlEvaluator::new()
                .parse_update(&text)
                .unwrap()
                .on_store(&reference)
                .execute()
                .unwrap();
        }
        assert_eq!(
            quads_of_ours(&engine),
            quads_of_reference(&reference),
            "after {request}"
        );
        let graphs = |q: &str| -> BTreeSet<String> {
            let mut out = Vec::new();
            let parsed = SparqlEngine::parse_query(q, None).unwrap();
            engine
                .query(&parsed, &QueryOptions::default(), |r| {
                    write_results(
                        r,
                        SolutionsFormat::Standard(sparesults::QueryResultsFormat::Tsv),
                        RdfFormat::NTriples,
                        &mut out,
                        None,
                    )
                })
                .unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .skip(1)
                .map(str::to_owned)
                .collect()
        };
        let reference_graphs: BTreeSet<String> = reference
            .named_graphs()
            .map(|g| g.unwrap().to_string())
            .collect();
        assert_eq!(
            graphs("SELECT ?g WHERE { GRAPH ?g {} }"),
            reference_graphs,
            "named graphs after {request}"
        );
    }
}

#[test]
fn a_failing_request_changes_nothing() {
    let (_dir, engine) = loaded();
    let before = quads_of_ours(&engine);
    let err = update(
        &engine,
        &format!("{PREFIXES}INSERT DATA {{ ex:new ex:p ex:o }} ; CREATE GRAPH ex:g1"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(quads_of_ours(&engine), before);
    // SILENT makes the same request succeed.
    update(
        &engine,
        &format!("{PREFIXES}INSERT DATA {{ ex:new ex:p ex:o }} ; CREATE SILENT GRAPH ex:g1"),
    )
    .unwrap();
    assert_eq!(quads_of_ours(&engine).len(), before.len() + 1);
    let refused =
        SparqlEngine::parse_update(&format!("LOAD <file://{}>", people().display()), None).unwrap();
    assert!(engine.update(&refused, LoadPolicy::Deny).is_err());
}

fn select(engine: &SparqlEngine, text: &str, options: &QueryOptions) -> Result<String, QueryError> {
    let parsed = SparqlEngine::parse_query(&format!("{PREFIXES}{text}"), None)?;
    let mut out = Vec::new();
    engine.query(&parsed, options, |r| {
        write_results(
            r,
            SolutionsFormat::Standard(sparesults::QueryResultsFormat::Tsv),
            RdfFormat::NTriples,
            &mut out,
            options.max_rows,
        )
    })?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn path_rows_agree_with_path_search_and_follow_updates() {
    let (_dir, engine) = loaded();
    let service = |from: &str, to: &str| -> Vec<Vec<String>> {
        let text = format!(
            "PREFIX kale: <urn:kale:> SELECT ?path ?hop ?s ?p ?o ?forward WHERE {{
               SERVICE <urn:kale:paths> {{ [] kale:source {from} ; kale:target {to} ; kale:maxHops 3 ;
                 kale:path ?path ; kale:hop ?hop ; kale:subject ?s ; kale:predicate ?p ; kale:object ?o ; kale:forward ?forward }}
             }} ORDER BY ?path ?hop"
        );
        select(&engine, &text, &QueryOptions::default())
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    };
    let rows = service("ex:erin", "ex:frank");
    // The same question through the path search directly.
    let store = engine.store();
    let reader = store.reader();
    let id = |iri: &str| {
        reader
            .term_id(oxrdf::NamedNodeRef::new(iri).unwrap().into())
            .unwrap()
            .unwrap()
    };
    let adjacency = Adjacency::open(store).unwrap();
    let result = find_paths(
        &adjacency,
        &PathQuery::new(
            vec![id("http://example.com/erin")],
            vec![id("http://example.com/frank")],
        ),
    );
    let expected: Vec<Vec<String>> = result
        .paths
        .iter()
        .enumerate()
        .flat_map(|(p, path)| {
            let reader = &reader;
            path.hops.iter().enumerate().map(move |(h, hop)| {
                vec![
                    (p + 1).to_string(),
                    (h + 1).to_string(),
                    reader.term(hop.subject).unwrap().to_string(),
                    reader.term(hop.predicate).unwrap().to_string(),
                    reader.term(hop.object).unwrap().to_string(),
                    hop.forward.to_string(),
                ]
            })
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(rows, expected);

    // Joinable with ordinary patterns: the label of every hop's subject.
    let labelled = select(
        &engine,
        "PREFIX kale: <urn:kale:> SELECT ?l WHERE { SERVICE <urn:kale:paths> { [] kale:source ex:erin ; kale:target ex:dave ; kale:maxHops 2 ; kale:subject ?s } ?s rdfs:label ?l FILTER(LANG(?l) = \"en\") }",
        &QueryOptions::default(),
    )
    .unwrap();
    assert!(labelled.contains("\"Carol\"@en"), "{labelled}");

    // An update that adds the only link is seen by the next query at once.
    assert!(service("ex:erin", "ex:island").is_empty());
    update(
        &engine,
        &format!("{PREFIXES}INSERT DATA {{ ex:frank ex:visits ex:island }}"),
    )
    .unwrap();
    let after = service("ex:frank", "ex:island");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0][3], "<http://example.com/visits>");
    update(
        &engine,
        &format!("{PREFIXES}DELETE DATA {{ ex:frank ex:visits ex:island }}"),
    )
    .unwrap();
    assert!(service("ex:frank", "ex:island").is_empty());
}

/// Queries share one adjacency that each catches up with the writes it finds: readers on
/// other threads keep answering while a writer commits, and the writer's own next query
/// always sees the edge it just wrote.
#[test]
fn path_queries_run_alongside_writes_and_see_every_acknowledged_one() {
    let (_dir, engine) = loaded();
    let paths = |from: &str, to: &str| -> usize {
        let text = format!(
            "PREFIX kale: <urn:kale:> SELECT ?path WHERE {{
               SERVICE <urn:kale:paths> {{ [] kale:source {from} ; kale:target {to} ; kale:maxHops 2 ; kale:path ?path }}
             }}"
        );
        select(&engine, &text, &QueryOptions::default())
            .unwrap()
            .lines()
            .skip(1)
            .count()
    };
    let writes = 40;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let mut answered = 0;
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        assert!(paths("ex:erin", "ex:frank") > 0);
                        answered += 1;
                    }
                    answered
                })
            })
            .collect();
        for i in 0..writes {
            update(
                &engine,
                &format!("{PREFIXES}INSERT DATA {{ ex:frank ex:visits ex:island{i} }}"),
            )
            .unwrap();
            assert_eq!(paths("ex:frank", &format!("ex:island{i}")), 1, "write {i}");
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap() > 0);
        }
    });
    // Every write is in the adjacency the queries share, once.
    for i in 0..writes {
        assert_eq!(paths("ex:frank", &format!("ex:island{i}")), 1, "write {i}");
    }
}

#[test]
fn limits_and_bad_queries_are_clear_errors() {
    let (_dir, engine) = loaded();
    let slow = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }";
    let timed = QueryOptions {
        timeout: Some(Duration::from_millis(200)),
        ..QueryOptions::default()
    };
    let started = std::time::Instant::now();
    match select(&engine, slow, &timed) {
        Err(QueryError::Timeout(d)) => assert_eq!(d, Duration::from_millis(200)),
        other => panic!("expected a timeout, got {:?}", other.map(|s| s.len())),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    let capped = QueryOptions {
        max_rows: Some(10),
        ..QueryOptions::default()
    };
    assert!(matches!(
        select(&engine, "SELECT * WHERE { ?s ?p ?o }", &capped),
        Err(QueryError::TooManyRows(10))
    ));
    assert!(select(&engine, "SELECT * WHERE { ?s ?p ?o } LIMIT 10", &capped).is_ok());
    let err = SparqlEngine::parse_query("SELECT * WHERE { ?s ?p }", None).unwrap_err();
    assert!(err.to_string().contains("1:"), "position missing: {err}");
    let bad_service = select(
        &engine,
        "SELECT * WHERE { SERVICE <urn:kale:paths> { [] <urn:kale:nonsense> 1 } }",
        &QueryOptions::default(),
    );
    assert!(bad_service
        .unwrap_err()
        .to_string()
        .contains("kale:nonsense"));
}
