//! The bulk loader through the public API, on real files: formats, compression, exact round
//! trips, strict and lenient errors, loads into non-empty stores, and the spilling paths.

use kg_store::{BulkLoader, InputFormat, LoadInput, Store, StoreError};
use oxrdf::Quad;
use oxrdfio::{RdfFormat, RdfParser};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The quads of a file as the reference parser reads them.
fn parsed(path: &Path, format: RdfFormat, base: Option<&str>) -> HashSet<Quad> {
    let mut parser = RdfParser::from_format(format);
    if let Some(base) = base {
        parser = parser.with_base_iri(base).unwrap();
    }
    parser
        .for_reader(std::fs::File::open(path).unwrap())
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Everything in the store, through `export::dump` and the reference parser.
fn dumped(store: &Store) -> HashSet<Quad> {
    let mut out = Vec::new();
    kg_store::export::dump(&store.reader(), &mut out).unwrap();
    RdfParser::from_format(RdfFormat::NQuads)
        .for_slice(&out)
        .collect::<Result<_, _>>()
        .unwrap()
}

fn load(store: &Store, inputs: &[LoadInput]) -> Result<kg_store::LoadSummary, StoreError> {
    BulkLoader::new(store).threads(2).load(inputs)
}

#[test]
fn every_term_shape_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let summary = load(&store, &[LoadInput::new(data("shapes.nt"))]).unwrap();
    let expected = parsed(&data("shapes.nt"), RdfFormat::NTriples, None);
    assert_eq!(summary.new, expected.len() as u64);
    assert_eq!(dumped(&store), expected);
    // Lexical forms are kept: "+1" and "1" are two literals, neither rewritten.
    let text = {
        let mut out = Vec::new();
        kg_store::export::dump(&store.reader(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(text.contains("\"+1\"^^<http://www.w3.org/2001/XMLSchema#integer>"));
    assert!(text.contains("\"1.0E2\"^^<http://www.w3.org/2001/XMLSchema#double>"));
    assert!(text.contains("\"2020-02-30\"^^<http://www.w3.org/2001/XMLSchema#date>"));
}

#[test]
fn every_syntax_loads_with_graphs_and_base() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, RdfFormat, Option<&str>); 4] = [
        (
            "shapes.ttl",
            RdfFormat::Turtle,
            Some("http://base.example/dir/"),
        ),
        ("graphs.trig", RdfFormat::TriG, None),
        ("graphs.nq", RdfFormat::NQuads, None),
        ("small.rdf", RdfFormat::RdfXml, None),
    ];
    for (i, (name, format, base)) in cases.into_iter().enumerate() {
        let store = Store::open(dir.path().join(format!("s{i}"))).unwrap();
        let input = LoadInput {
            path: data(name),
            format: None,
            base_iri: base.map(str::to_owned),
        };
        load(&store, &[input]).unwrap();
        assert_eq!(dumped(&store), parsed(&data(name), format, base), "{name}");
    }
}

#[test]
fn named_graphs_are_kept_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    load(&store, &[LoadInput::new(data("graphs.nq"))]).unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.triples, 4);
    assert_eq!(stats.named_graphs, 2);
    let reader = store.reader();
    let default_only = reader
        .quads(None, None, None, kg_store::GraphFilter::Default)
        .count();
    assert_eq!(default_only, 1);
}

#[test]
fn compressed_inputs_load_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(data("shapes.nt")).unwrap();
    let expected = parsed(&data("shapes.nt"), RdfFormat::NTriples, None);
    let gz = dir.path().join("shapes.nt.gz");
    let mut e =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), Default::default());
    e.write_all(&text).unwrap();
    e.finish().unwrap();
    let zst = dir.path().join("shapes.nt.zst");
    std::fs::write(&zst, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
    let bz2 = dir.path().join("shapes.nt.bz2");
    let mut e =
        bzip2::write::BzEncoder::new(std::fs::File::create(&bz2).unwrap(), Default::default());
    e.write_all(&text).unwrap();
    e.finish().unwrap();
    for (i, file) in [gz, zst, bz2].into_iter().enumerate() {
        let store = Store::open(dir.path().join(format!("s{i}"))).unwrap();
        load(&store, &[LoadInput::new(&file)]).unwrap();
        assert_eq!(dumped(&store), expected, "{}", file.display());
    }
}

#[test]
fn a_bad_line_stops_a_strict_load_and_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    load(&store, &[LoadInput::new(data("shapes.nt"))]).unwrap();
    let before = dumped(&store);
    let stats_before = store.stats().unwrap();
    let err = load(&store, &[LoadInput::new(data("bad.nt"))]).unwrap_err();
    match &err {
        StoreError::Syntax { file, line, .. } => {
            assert_eq!(file, &data("bad.nt"));
            assert_eq!(*line, 4);
        }
        other => panic!("expected a syntax error, got {other}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("{}:4: ", data("bad.nt").display())),
        "{err}"
    );
    assert_eq!(dumped(&store), before);
    let stats_after = store.stats().unwrap();
    assert_eq!(stats_after.triples, stats_before.triples);
    assert_eq!(stats_after.entities, stats_before.entities);
    assert_eq!(stats_after.literals, stats_before.literals);
}

#[test]
fn a_lenient_load_skips_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let summary = BulkLoader::new(&store)
        .lenient(true)
        .load(&[LoadInput::new(data("bad.nt"))])
        .unwrap();
    assert_eq!(summary.skipped, 2);
    assert_eq!(summary.new, 4);
    let lines: Vec<u64> = summary.first_skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, vec![4, 6]);
    assert_eq!(store.stats().unwrap().triples, 4);
}

#[test]
fn line_numbers_are_right_past_the_first_chunk() {
    // Big enough to be cut into several chunks of a few MiB.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.nt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let bad_line = 123_457u64;
    for i in 1..=150_000u64 {
        if i == bad_line {
            writeln!(out, "<http://e/{i}> <http://e/p> \"broken .").unwrap();
        } else {
            writeln!(out, "<http://e/{i}> <http://e/p> \"a fairly long literal value number {i} to fill chunks\" .").unwrap();
        }
    }
    drop(out);
    assert!(std::fs::metadata(&file).unwrap().len() > 3 * (4 << 20));
    let store = Store::open(dir.path().join("s")).unwrap();
    match load(&store, &[LoadInput::new(&file)]) {
        Err(StoreError::Syntax { line, .. }) => assert_eq!(line, bad_line),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert_eq!(store.stats().unwrap().triples, 0);
}

#[test]
fn loading_into_a_non_empty_store_dedupes_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    load(&store, &[LoadInput::new(data("shapes.nt"))]).unwrap();
    let first = dumped(&store);
    let again = load(&store, &[LoadInput::new(data("shapes.nt"))]).unwrap();
    assert_eq!(again.new, 0);
    assert_eq!(again.duplicates, again.triples_read);
    assert_eq!(dumped(&store), first);
    // A file overlapping partly: only the new quads are added, terms are shared.
    let summary = load(&store, &[LoadInput::new(data("graphs.nq"))]).unwrap();
    assert_eq!(summary.new, 3);
    let mut expected = first;
    expected.extend(parsed(&data("graphs.nq"), RdfFormat::NQuads, None));
    assert_eq!(dumped(&store), expected);
}

#[test]
fn a_tiny_memory_limit_spills_and_gives_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.nt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    // Enough distinct terms and quads to overflow the least budget's term map (32 MiB, what a
    // load spends whatever the limit leaves beside the test's own memory: two generations of
    // 229,376 terms, so the older one goes to the spill table), its term sorter and its quad
    // sorter (209,715 records of 32 bytes), so the quads are merged from runs.
    let n = 450_000u64;
    for i in 0..n {
        writeln!(
            out,
            "<http://e/n{}> <http://e/p{}> <http://e/n{}> .",
            i,
            i % 7,
            (i * 7919) % n
        )
        .unwrap();
        writeln!(
            out,
            "<http://e/n{i}> <http://e/label> \"node number {i}\"@en ."
        )
        .unwrap();
    }
    drop(out);
    let spilled = Store::open(dir.path().join("spilled")).unwrap();
    let summary = BulkLoader::new(&spilled)
        .memory_limit(32 << 20)
        .load(&[LoadInput::new(&file)])
        .unwrap();
    // At least the first generation went to disk, and the summary says so.
    assert!(
        summary.spilled_terms >= 229_376,
        "{}",
        summary.spilled_terms
    );
    assert!(summary.to_string().contains("spilled to disk"), "{summary}");
    let plain = Store::open(dir.path().join("plain")).unwrap();
    let summary = load(&plain, &[LoadInput::new(&file)]).unwrap();
    assert_eq!(summary.spilled_terms, 0);
    assert!(!summary.to_string().contains("spilled"), "{summary}");
    assert_eq!(spilled.stats().unwrap().triples, 2 * n);
    assert_eq!(dumped(&spilled), dumped(&plain));
    // Every term met again after it spilled was found (through the spill filter), not given a
    // second id, which the dump, spelling ids out, would not show.
    let terms = |store: &Store| {
        let stats = store.stats().unwrap();
        (stats.entities, stats.literals)
    };
    assert_eq!(terms(&spilled), terms(&plain));
    // Ids are assigned in input order whatever the memory: the same store, not just the same set.
    let (a, b) = (spilled.reader(), plain.reader());
    for iri in ["http://e/n0", "http://e/n449999", "http://e/label"] {
        let term = oxrdf::NamedNodeRef::new(iri).unwrap().into();
        assert_eq!(a.term_id(term).unwrap(), b.term_id(term).unwrap());
    }
    drop((a, b));
    // A second spilling load into the stored world: half its quads are stored already (each of
    // the three merges must drop them from its own index), the new half is in named graphs.
    let more = dir.path().join("more.nq");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&more).unwrap());
    for i in 0..n {
        writeln!(
            out,
            "<http://e/n{i}> <http://e/label> \"node number {i}\"@en ."
        )
        .unwrap();
        writeln!(
            out,
            "<http://e/n{i}> <http://e/q> <http://e/n{}> <http://e/g{}> .",
            (i * 31) % n,
            i % 3
        )
        .unwrap();
    }
    drop(out);
    let summary = BulkLoader::new(&spilled)
        .memory_limit(32 << 20)
        .load(&[LoadInput::new(&more)])
        .unwrap();
    assert_eq!((summary.new, summary.duplicates), (n, n));
    load(&plain, &[LoadInput::new(&more)]).unwrap();
    assert_eq!(spilled.stats().unwrap().triples, 3 * n);
    assert_eq!(dumped(&spilled), dumped(&plain));
    assert_eq!(terms(&spilled), terms(&plain));
}

#[test]
fn unknown_formats_and_missing_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "hello").unwrap();
    let err = load(&store, &[LoadInput::new(&txt)]).unwrap_err();
    assert!(matches!(err, StoreError::UnknownFormat { .. }), "{err}");
    let forced = LoadInput {
        path: txt,
        format: Some(InputFormat::NTriples),
        base_iri: None,
    };
    assert!(matches!(
        load(&store, &[forced]).unwrap_err(),
        StoreError::Syntax { line: 1, .. }
    ));
    let missing = load(&store, &[LoadInput::new(dir.path().join("nope.nt"))]).unwrap_err();
    assert!(missing.to_string().contains("nope.nt"), "{missing}");
}
