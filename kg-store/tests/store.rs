//! The store's public API: live writes, consistent readers, the ways of opening, and the
//! dictionary, on real RocksDB directories.

use kg_store::{GraphFilter, Store, StoreError, TermId};
use oxrdf::{BlankNode, GraphName, Literal, NamedNode, Quad, Term};
use proptest::prelude::*;

fn iri(s: &str) -> NamedNode {
    NamedNode::new(format!("http://example.com/{s}")).unwrap()
}

fn quad(s: &str, p: &str, o: impl Into<Term>) -> Quad {
    Quad::new(iri(s), iri(p), o, GraphName::DefaultGraph)
}

#[test]
fn inserts_and_removes_are_atomic_counted_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let a = quad("a", "p", iri("b"));
    let b = quad(
        "a",
        "name",
        Literal::new_language_tagged_literal_unchecked("A", "en"),
    );
    let summary = store.insert([&a, &b, &a].map(|q| q.as_ref())).unwrap();
    assert_eq!(summary.inserted, 2);
    assert_eq!(store.insert([a.as_ref()]).unwrap().inserted, 0);
    assert_eq!(store.stats().unwrap().triples, 2);
    let summary = store
        .apply(
            &[a.clone(), quad("x", "y", iri("z"))],
            &[quad("a", "p", iri("c"))],
        )
        .unwrap();
    assert_eq!((summary.removed, summary.inserted), (1, 1));
    assert_eq!(store.stats().unwrap().triples, 2);
    // Removing then re-adding in one write leaves the quad there.
    let summary = store
        .apply(std::slice::from_ref(&b), std::slice::from_ref(&b))
        .unwrap();
    assert_eq!((summary.removed, summary.inserted), (1, 1));
    let reader = store.reader();
    let id = reader.term_id(iri("a").as_ref().into()).unwrap().unwrap();
    assert_eq!(
        reader.quads(Some(id), None, None, GraphFilter::All).count(),
        2
    );
}

#[test]
fn a_reader_sees_one_state_whatever_is_written_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    store.insert([quad("a", "p", iri("b")).as_ref()]).unwrap();
    let before = store.reader();
    store.insert([quad("a", "p", iri("c")).as_ref()]).unwrap();
    store.remove([quad("a", "p", iri("b")).as_ref()]).unwrap();
    let a = before.term_id(iri("a").as_ref().into()).unwrap().unwrap();
    let objects: Vec<Term> = before
        .quads(Some(a), None, None, GraphFilter::All)
        .map(|q| before.term(q.unwrap().object).unwrap())
        .collect();
    assert_eq!(objects, vec![Term::from(iri("b"))]);
    // The term added later is not visible to the old reader either.
    assert_eq!(before.term_id(iri("c").as_ref().into()).unwrap(), None);
    assert!(store
        .reader()
        .term_id(iri("c").as_ref().into())
        .unwrap()
        .is_some());
}

#[test]
fn read_only_and_follower_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let writer = Store::open(&path).unwrap();
    writer.insert([quad("a", "p", iri("b")).as_ref()]).unwrap();

    let read_only = Store::open_read_only(&path).unwrap();
    assert_eq!(read_only.stats().unwrap().triples, 1);
    let err = read_only
        .insert([quad("x", "p", iri("y")).as_ref()])
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err}");

    let follower = Store::open_secondary(&path, dir.path().join("follower")).unwrap();
    writer.insert([quad("c", "p", iri("d")).as_ref()]).unwrap();
    follower.catch_up().unwrap();
    assert_eq!(follower.stats().unwrap().triples, 2);

    // A second writer is refused with a message that says what to do.
    let err = Store::open(&path)
        .err()
        .expect("a second writer must be refused");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(matches!(
        Store::open_read_only(dir.path().join("none")),
        Err(StoreError::NotFound { .. })
    ));
}

/// The label index is a hook on the write path: it counts label triples, so a label held in
/// two graphs stays until both are gone, and it is stale (its own error) after a bulk load
/// that did not rebuild it.
#[test]
fn the_label_index_follows_live_writes_in_every_graph() {
    use kg_store::label_index::{LabelIndex, DEFAULT_BUILD_MEMORY, RDFS_LABEL};
    use kg_store::{BulkLoader, Index, LoadInput};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let data = dir.path().join("empty.nt");
    std::fs::write(&data, "").unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&data)])
        .unwrap();
    let label = |graph: GraphName| {
        Quad::new(
            iri("sun"),
            NamedNode::new(RDFS_LABEL).unwrap(),
            Literal::new_language_tagged_literal_unchecked("The Sun", "en"),
            graph,
        )
    };
    let (default, named) = (label(GraphName::DefaultGraph), label(iri("g").into()));
    let labelled = || {
        let reader = store.reader();
        let index = LabelIndex::open(&reader).unwrap();
        index.entities_labelled("en", "the sun").unwrap().len()
    };
    assert_eq!(labelled(), 0);
    store.insert([default.as_ref(), named.as_ref()]).unwrap();
    assert_eq!(labelled(), 1);
    store.remove([default.as_ref()]).unwrap();
    assert_eq!(labelled(), 1, "the named graph still labels it");
    // Added and removed in one write: no trace.
    store
        .apply(std::slice::from_ref(&named), std::slice::from_ref(&named))
        .unwrap();
    assert_eq!(labelled(), 1);
    store.remove([named.as_ref()]).unwrap();
    assert_eq!(labelled(), 0);

    let more = dir.path().join("more.nt");
    std::fs::write(
        &more,
        "<http://example.com/a> <http://example.com/p> <http://example.com/b> .\n",
    )
    .unwrap();
    BulkLoader::new(&store)
        .build_adjacency(false)
        .load(&[LoadInput::new(&more)])
        .unwrap();
    let reader = store.reader();
    match LabelIndex::open(&reader) {
        Err(StoreError::StaleIndex { index, .. }) => assert_eq!(index, Index::Labels),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a stale label index opened"),
    }
    LabelIndex::build(
        &store,
        DEFAULT_BUILD_MEMORY,
        &kg_store::progress::NoProgress,
    )
    .unwrap();
    assert!(LabelIndex::open(&store.reader()).is_ok());

    // Rebuilds over an index: the old entries go (a count left behind would keep the entity
    // found after its last label triple is removed), and one entity labelled in two graphs
    // counts twice.
    store.insert([default.as_ref(), named.as_ref()]).unwrap();
    for _ in 0..2 {
        LabelIndex::build(
            &store,
            DEFAULT_BUILD_MEMORY,
            &kg_store::progress::NoProgress,
        )
        .unwrap();
        assert_eq!(labelled(), 1);
    }
    store.remove([default.as_ref()]).unwrap();
    assert_eq!(labelled(), 1, "the named graph still labels it");
    store.remove([named.as_ref()]).unwrap();
    assert_eq!(
        labelled(),
        0,
        "an entry outlived the rebuild or its triples"
    );
    LabelIndex::build(
        &store,
        DEFAULT_BUILD_MEMORY,
        &kg_store::progress::NoProgress,
    )
    .unwrap();
    assert_eq!(labelled(), 0);
}

/// A label build under a small memory writes many runs, one file each, whose counts add up: the
/// index equals a build in one run, and an entity labelled by two literals that normalise alike
/// ("Thing 7" first, "THING 7" last, so at the two ends of the predicate's quads and in
/// different runs) counts twice, so its entry outlives the removal of one of them.
#[test]
fn a_label_build_in_many_small_runs_equals_one_in_a_single_run() {
    use kg_store::label_index::{LabelEntry, LabelIndex, DEFAULT_BUILD_MEMORY, RDFS_LABEL};
    use kg_store::progress::NoProgress;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let label = |entity: usize, text: String, lang: &str| {
        Quad::new(
            iri(&format!("e{entity}")),
            NamedNode::new(RDFS_LABEL).unwrap(),
            Literal::new_language_tagged_literal_unchecked(text, lang),
            GraphName::DefaultGraph,
        )
    };
    let mut quads = Vec::new();
    for i in 0..60 {
        quads.push(label(i, format!("Thing {}", i % 25), "en"));
        quads.push(label(i, format!("Ding {i}"), "de"));
    }
    store.insert(quads.iter().map(Quad::as_ref)).unwrap();
    // Written after the rest, so its literal's id, and its place in POS order, is the last.
    let twice = label(7, "THING 7".into(), "en");
    store.insert([twice.as_ref()]).unwrap();
    let index = || -> Vec<Vec<LabelEntry>> {
        let reader = store.reader();
        let index = LabelIndex::open(&reader).unwrap();
        ["en", "de"]
            .iter()
            .map(|lang| index.labels(lang).collect::<Result<_, _>>().unwrap())
            .collect()
    };
    let entries = LabelIndex::build(&store, DEFAULT_BUILD_MEMORY, &NoProgress).unwrap();
    assert_eq!(entries, 121);
    let whole = index();
    assert_eq!(
        whole[0].len() + whole[1].len(),
        120,
        "entity 7's English label is one entry"
    );
    // About four entries (30-odd key bytes and a 16-byte span each) a run.
    assert_eq!(
        LabelIndex::build(&store, 200, &NoProgress).unwrap(),
        entries
    );
    assert_eq!(index(), whole);
    store.remove([twice.as_ref()]).unwrap();
    let reader = store.reader();
    let labelled = LabelIndex::open(&reader)
        .unwrap()
        .entities_labelled("en", "thing 7")
        .unwrap();
    assert_eq!(
        labelled,
        index_entities(&whole[0], "thing 7"),
        "counted twice, removed once"
    );
}

fn index_entities(entries: &[kg_store::label_index::LabelEntry], normalized: &str) -> Vec<TermId> {
    entries
        .iter()
        .filter(|e| e.normalized == normalized)
        .map(|e| e.entity)
        .collect()
}

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let err = Store::open(dir.path()).err().expect("not a store");
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
}

#[test]
fn named_graphs_through_live_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let g = iri("g");
    let in_g = Quad::new(iri("a"), iri("p"), iri("b"), g.clone());
    store
        .insert([in_g.as_ref(), quad("a", "p", iri("b")).as_ref()])
        .unwrap();
    let reader = store.reader();
    let g_id = reader.term_id(g.as_ref().into()).unwrap().unwrap();
    assert_eq!(reader.named_graphs().unwrap(), vec![g_id]);
    assert_eq!(
        reader
            .quads(None, None, None, GraphFilter::Named(g_id))
            .count(),
        1
    );
    assert_eq!(
        reader.quads(None, None, None, GraphFilter::Default).count(),
        1
    );
    assert_eq!(reader.quads(None, None, None, GraphFilter::All).count(), 2);
}

fn term_strategy() -> impl Strategy<Value = Term> {
    prop_oneof![
        "[a-zA-Z0-9éü/_-]{1,12}"
            .prop_map(|s| NamedNode::new(format!("http://ex.org/{s}")).unwrap().into()),
        "[a-z0-9]{1,8}".prop_map(|s| BlankNode::new_unchecked(s).into()),
        ".{0,20}".prop_map(|s| Literal::new_simple_literal(s).into()),
        (".{0,12}", "[a-z]{2}")
            .prop_map(|(v, l)| Literal::new_language_tagged_literal_unchecked(v, l).into()),
        (".{0,12}", "[a-z]{1,6}").prop_map(|(v, d)| Literal::new_typed_literal(
            v,
            NamedNode::new(format!("http://dt.org/{d}")).unwrap()
        )
        .into()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every stored term maps to one id and back, and distinct terms never share an id.
    #[test]
    fn the_dictionary_round_trips(objects in proptest::collection::vec(term_strategy(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let quads: Vec<Quad> = objects.iter().map(|o| quad("s", "p", o.clone())).collect();
        store.insert(quads.iter().map(Quad::as_ref)).unwrap();
        let reader = store.reader();
        let mut ids = std::collections::HashMap::new();
        for term in &objects {
            let id = reader.term_id(term.as_ref()).unwrap().expect("stored");
            prop_assert_eq!(&reader.term(id).unwrap(), term);
            prop_assert_eq!(id.is_literal(), matches!(term, Term::Literal(_)));
            if let Some(previous) = ids.insert(id, term.clone()) {
                prop_assert_eq!(&previous, term);
            }
        }
    }
}

type Pattern = (Option<TermId>, Option<TermId>, Option<TermId>);

/// The quads of a pattern as the store answers them, sorted.
fn scanned(reader: &kg_store::StoreReader, (s, p, o): Pattern) -> Vec<kg_store::EncodedQuad> {
    let mut found: Vec<_> = reader
        .quads(s, p, o, GraphFilter::All)
        .collect::<Result<_, _>>()
        .unwrap();
    found.sort_by_key(|q| (q.subject, q.predicate, q.object));
    found
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Every pattern scan returns exactly the quads that match it, however many scans one reader
    /// ran before (they reuse its iterators, which have no upper bound and must stop at their
    /// prefix), on a writer's snapshot, on a read-only open, and after `optimize`.
    #[test]
    fn pattern_scans_through_one_reader_match_a_filter_of_all_quads(
        edges in proptest::collection::btree_set((0..12usize, 0..3usize, 0..12usize), 1..80),
        patterns in proptest::collection::vec(
            (proptest::option::of(0..12usize), proptest::option::of(0..3usize), proptest::option::of(0..12usize)),
            1..60,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let nodes: Vec<NamedNode> = (0..12).map(|i| iri(&format!("n{i}"))).collect();
        let predicates: Vec<NamedNode> = (0..3).map(|i| iri(&format!("p{i}"))).collect();
        let quads: Vec<Quad> = edges
            .iter()
            .map(|&(s, p, o)| Quad::new(nodes[s].clone(), predicates[p].clone(), nodes[o].clone(), GraphName::DefaultGraph))
            .collect();
        let check = |store: &Store| -> Result<(), TestCaseError> {
            let reader = store.reader();
            let id = |n: &NamedNode| reader.term_id(n.as_ref().into()).unwrap();
            // Unused nodes have no id: their patterns match nothing, which a missing id cannot
            // express, so they are left out of the patterns below.
            let node_ids: Vec<Option<TermId>> = nodes.iter().map(id).collect();
            let predicate_ids: Vec<Option<TermId>> = predicates.iter().map(id).collect();
            let all = scanned(&reader, (None, None, None));
            prop_assert_eq!(all.len(), edges.len());
            for &(s, p, o) in &patterns {
                let (Some(s_id), Some(p_id), Some(o_id)) = (
                    s.map_or(Some(None), |i| node_ids[i].map(Some)),
                    p.map_or(Some(None), |i| predicate_ids[i].map(Some)),
                    o.map_or(Some(None), |i| node_ids[i].map(Some)),
                ) else {
                    continue;
                };
                let expected: Vec<_> = all
                    .iter()
                    .filter(|q| {
                        s_id.is_none_or(|x| q.subject == x)
                            && p_id.is_none_or(|x| q.predicate == x)
                            && o_id.is_none_or(|x| q.object == x)
                    })
                    .cloned()
                    .collect();
                prop_assert_eq!(scanned(&reader, (s_id, p_id, o_id)), expected, "pattern {:?}", (s, p, o));
            }
            Ok(())
        };
        {
            let store = Store::open(dir.path()).unwrap();
            store.insert(quads.iter().map(Quad::as_ref)).unwrap();
            check(&store)?;
            store.optimize().unwrap();
            check(&store)?;
        }
        check(&Store::open_read_only(dir.path()).unwrap())?;
    }
}

/// A label-index rebuild holds off writers: live label writes that race rebuilds are all in the
/// index afterwards, none lost between the rebuild's clear and its rewrite.
#[test]
fn label_writes_racing_label_index_rebuilds_are_never_lost() {
    use kg_store::label_index::{LabelIndex, DEFAULT_BUILD_MEMORY, RDFS_LABEL};
    use kg_store::progress::NoProgress;
    use kg_store::{BulkLoader, LoadInput};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    let data = dir.path().join("labels.nt");
    let text: String = (0..2000)
        .map(|i| format!("<http://example.com/old{i}> <{RDFS_LABEL}> \"old {i}\"@en .\n"))
        .collect();
    std::fs::write(&data, text).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&data)])
        .unwrap();
    let writes = 300;
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..writes {
                let label = Quad::new(
                    iri(&format!("new{i}")),
                    NamedNode::new(RDFS_LABEL).unwrap(),
                    Literal::new_language_tagged_literal_unchecked(format!("new {i}"), "en"),
                    GraphName::DefaultGraph,
                );
                store.insert([label.as_ref()]).unwrap();
            }
        });
        let mut rebuilds = 0;
        while !writer.is_finished() || rebuilds == 0 {
            LabelIndex::build(&store, DEFAULT_BUILD_MEMORY, &NoProgress).unwrap();
            rebuilds += 1;
        }
        writer.join().unwrap();
        assert!(rebuilds > 1, "the rebuilds did not overlap the writes");
    });
    let reader = store.reader();
    let index = LabelIndex::open(&reader).unwrap();
    let missing: Vec<usize> = (0..writes)
        .filter(|i| {
            index
                .entities_labelled("en", &format!("new {i}"))
                .unwrap()
                .is_empty()
        })
        .collect();
    assert!(missing.is_empty(), "labels lost: {missing:?}");
    assert_eq!(index.labels("en").count(), 2000 + writes);
}
