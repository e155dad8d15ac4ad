//! Path search against an independent reference: a naive depth-first enumeration over the
//! test's own edge list (not the CSR), on random small graphs, through bulk loads, live updates
//! of the delta and compaction. Plus the adjacency files' validation.

use kg_store::paths::{find_paths, find_paths_batch, Hop, PathQuery, Truncation};
use kg_store::{Adjacency, BulkLoader, LoadInput, Store, StoreError, TermId};
use oxrdf::{GraphName, NamedNode, Quad};
use proptest::prelude::*;
use std::collections::BTreeSet;

type Edge = (usize, usize, usize); // (subject node, predicate number, object node)

fn node(i: usize) -> NamedNode {
    NamedNode::new(format!("http://example.com/n{i}")).unwrap()
}

fn predicate(i: usize) -> NamedNode {
    NamedNode::new(format!("http://example.com/p{i}")).unwrap()
}

fn quad((s, p, o): Edge) -> Quad {
    Quad::new(node(s), predicate(p), node(o), GraphName::DefaultGraph)
}

/// Ids of the nodes and predicates the test uses.
struct Ids {
    nodes: Vec<TermId>,
    predicates: Vec<TermId>,
}

impl Ids {
    fn of(store: &Store, nodes: usize, predicates: usize) -> Self {
        let reader = store.reader();
        let id = |n: NamedNode| {
            reader
                .term_id(n.as_ref().into())
                .unwrap()
                .unwrap_or(TermId::entity(u64::from(u32::MAX - 1)))
        };
        Self {
            nodes: (0..nodes).map(|i| id(node(i))).collect(),
            predicates: (0..predicates).map(|i| id(predicate(i))).collect(),
        }
    }
}

/// What the naive walk needs: edges, ids, the query, and its node and predicate tests.
type Context<'a> = (
    &'a BTreeSet<Edge>,
    &'a Ids,
    &'a Query,
    &'a dyn Fn(usize) -> bool,
    &'a dyn Fn(usize) -> bool,
    &'a dyn Fn(usize) -> bool,
);

/// The definition of the answer, walked naively over the edge list: every simple path of up to
/// k hops from a source to the first target it reaches, kept when all its hubs (nodes of more
/// than max_degree edges, its ends included) lie on one hop, and it does not pass through a hub
/// by two edges of one predicate that both point at it.
fn naive(edges: &BTreeSet<Edge>, ids: &Ids, q: &Query) -> BTreeSet<Vec<Hop>> {
    let degree = |v: usize| {
        edges.iter().filter(|e| e.0 == v).count() + edges.iter().filter(|e| e.2 == v).count()
    };
    let hub = |v: usize| q.max_degree.is_some_and(|d| degree(v) as u64 > d);
    let passable = |v: usize| !q.targets.contains(&v);
    let ok = |p: usize| q.allow.as_ref().is_none_or(|a| a.contains(&p)) && !q.deny.contains(&p);
    let mut out = BTreeSet::new();
    fn walk(
        path: &mut Vec<usize>,
        hops: &mut Vec<Hop>,
        out: &mut BTreeSet<Vec<Hop>>,
        ctx: &Context<'_>,
    ) {
        let (edges, ids, q, passable, ok, hub) = ctx;
        let v = *path.last().unwrap();
        if hops.len() == q.k as usize || (!hops.is_empty() && !passable(v)) {
            return;
        }
        for &(s, p, o) in edges.iter() {
            for (forward, from, to) in [(true, s, o), (false, o, s)] {
                if from != v || (!forward && !q.both) || !ok(p) || path.contains(&to) {
                    continue;
                }
                path.push(to);
                hops.push(Hop {
                    subject: ids.nodes[s],
                    predicate: ids.predicates[p],
                    object: ids.nodes[o],
                    forward,
                });
                if q.targets.contains(&to) {
                    let at: Vec<usize> = (0..path.len()).filter(|&i| hub(path[i])).collect();
                    // Through a hub (not at an end) by two edges of one predicate into it.
                    let shares_a_value = at.iter().any(|&i| {
                        i > 0
                            && i + 1 < path.len()
                            && hops[i - 1].predicate == hops[i].predicate
                            && hops[i - 1].object == ids.nodes[path[i]]
                            && hops[i].object == ids.nodes[path[i]]
                    });
                    if !shares_a_value && (at.len() <= 1 || (at.len() == 2 && at[1] == at[0] + 1)) {
                        out.insert(hops.clone());
                    }
                } else {
                    walk(path, hops, out, ctx);
                }
                path.pop();
                hops.pop();
            }
        }
    }
    let sources: BTreeSet<usize> = q.sources.iter().copied().collect();
    for s in sources {
        walk(
            &mut vec![s],
            &mut Vec::new(),
            &mut out,
            &(edges, ids, q, &passable, &ok, &hub),
        );
    }
    out
}

#[derive(Clone, Debug)]
struct Query {
    sources: Vec<usize>,
    targets: Vec<usize>,
    k: u32,
    max_degree: Option<u64>,
    allow: Option<Vec<usize>>,
    deny: Vec<usize>,
    both: bool,
}

impl Query {
    fn to_path_query(&self, ids: &Ids) -> PathQuery {
        let mut q = PathQuery::new(
            self.sources.iter().map(|&i| ids.nodes[i]).collect(),
            self.targets.iter().map(|&i| ids.nodes[i]).collect(),
        )
        .max_hops(self.k)
        .max_paths(1_000_000)
        .max_degree(self.max_degree);
        q.allow = self
            .allow
            .as_ref()
            .map(|a| a.iter().map(|&p| ids.predicates[p]).collect());
        q.deny = self.deny.iter().map(|&p| ids.predicates[p]).collect();
        q.both_directions = self.both;
        q
    }
}

const NODES: usize = 9;
const PREDICATES: usize = 3;

fn edge() -> impl Strategy<Value = Edge> {
    (0..NODES, 0..PREDICATES, 0..NODES)
}

fn query() -> impl Strategy<Value = Query> {
    (
        proptest::collection::vec(0..NODES, 1..3),
        proptest::collection::vec(0..NODES, 1..3),
        1u32..5,
        proptest::option::of(1u64..8),
        proptest::option::of(proptest::collection::vec(0..PREDICATES, 1..3)),
        proptest::collection::vec(0..PREDICATES, 0..2),
        any::<bool>(),
    )
        .prop_map(
            |(sources, targets, k, max_degree, allow, deny, both)| Query {
                sources,
                targets,
                k,
                max_degree,
                allow,
                deny,
                both,
            },
        )
}

fn check(
    store: &Store,
    adjacency: &Adjacency,
    edges: &BTreeSet<Edge>,
    queries: &[Query],
) -> Result<(), TestCaseError> {
    let ids = Ids::of(store, NODES, PREDICATES);
    let reader = store.reader();
    let path_queries: Vec<PathQuery> = queries.iter().map(|q| q.to_path_query(&ids)).collect();
    let batch = find_paths_batch(adjacency, &path_queries);
    for ((q, pq), batched) in queries.iter().zip(&path_queries).zip(&batch) {
        let result = find_paths(adjacency, pq);
        prop_assert_eq!(
            &result.paths,
            &batched.paths,
            "batch and single answers differ"
        );
        // Every way of splitting paths between the two sides gives the same answer.
        for f in 0..=q.k {
            let mut pinned = pq.clone();
            pinned.forward_depth = Some(f);
            prop_assert_eq!(
                &find_paths(adjacency, &pinned).paths,
                &result.paths,
                "forward depth {}",
                f
            );
        }
        prop_assert!(result.truncated.is_none());
        let found: BTreeSet<Vec<Hop>> = result.paths.iter().map(|p| p.hops.clone()).collect();
        prop_assert_eq!(found.len(), result.paths.len(), "a path was returned twice");
        prop_assert_eq!(&found, &naive(edges, &ids, q), "query {:?}", q);
        // Shortest first, and every hop a stored triple.
        prop_assert!(result
            .paths
            .windows(2)
            .all(|w| w[0].hops.len() <= w[1].hops.len()));
        for path in &result.paths {
            for hop in &path.hops {
                let stored = kg_store::EncodedQuad {
                    subject: hop.subject,
                    predicate: hop.predicate,
                    object: hop.object,
                    graph: None,
                };
                prop_assert!(reader.contains(&stored).unwrap());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn search_agrees_with_the_naive_enumeration(
        loaded in proptest::collection::btree_set(edge(), 0..28),
        added in proptest::collection::btree_set(edge(), 0..8),
        removed in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        queries in proptest::collection::vec(query(), 12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s")).unwrap();
        // Every node and predicate exists even without edges (as a label subject).
        let mut file = String::new();
        for i in 0..NODES {
            file.push_str(&format!("<{}> <http://example.com/label> \"n{i}\" .\n", node(i).as_str()));
        }
        for i in 0..PREDICATES {
            file.push_str(&format!("<{}> <http://example.com/label> \"p{i}\" .\n", predicate(i).as_str()));
        }
        for e in &loaded {
            file.push_str(&format!("{} .\n", oxrdf::Triple::from(quad(*e))));
        }
        let path = dir.path().join("graph.nt");
        std::fs::write(&path, file).unwrap();
        BulkLoader::new(&store).load(&[LoadInput::new(&path)]).unwrap();
        let adjacency = Adjacency::open(&store).unwrap();
        check(&store, &adjacency, &loaded, &queries)?;

        // Live updates go to the delta and are seen at once, without a rebuild.
        let mut edges = loaded.clone();
        let gone: Vec<Edge> = removed.iter().filter(|_| !loaded.is_empty()).map(|i| *i.get(&loaded.iter().copied().collect::<Vec<_>>())).collect();
        let remove_quads: Vec<Quad> = gone.iter().map(|e| quad(*e)).collect();
        let add_quads: Vec<Quad> = added.iter().map(|e| quad(*e)).collect();
        store.apply(&remove_quads, &add_quads).unwrap();
        for e in &gone { edges.remove(e); }
        edges.extend(added.iter().copied());
        let mut live = adjacency.clone();
        live.refresh(&store).unwrap();
        check(&store, &live, &edges, &queries)?;
        prop_assert!(!added.is_empty() || gone.is_empty() || live.delta_len() > 0 || edges == loaded);

        // Compaction folds the delta into new files with the same answers.
        Adjacency::build(&store, &kg_store::progress::NoProgress).unwrap();
        let compacted = Adjacency::open(&store).unwrap();
        prop_assert_eq!(compacted.delta_len(), 0);
        check(&store, &compacted, &edges, &queries)?;
        // The old handle still works on its mapping after the file was replaced...
        check(&store, &live, &edges, &queries)?;
        // ...and refreshing moves it to the new file.
        live.refresh(&store).unwrap();
        prop_assert_eq!(live.delta_len(), 0);
    }
}

fn line_graph(dir: &std::path::Path, store: &Store) {
    // a -> b -> c -> d, and a hub h linked to b and c and to many leaves.
    let mut file = String::new();
    for (s, o) in [("a", "b"), ("b", "c"), ("c", "d"), ("b", "h"), ("h", "c")] {
        file.push_str(&format!("<http://e/{s}> <http://e/p> <http://e/{o}> .\n"));
    }
    for i in 0..50 {
        file.push_str(&format!("<http://e/h> <http://e/p> <http://e/leaf{i}> .\n"));
    }
    let path = dir.join("g.nt");
    std::fs::write(&path, file).unwrap();
    BulkLoader::new(store)
        .load(&[LoadInput::new(&path)])
        .unwrap();
}

fn id(store: &Store, name: &str) -> TermId {
    store
        .reader()
        .term_id(
            NamedNode::new(format!("http://e/{name}"))
                .unwrap()
                .as_ref()
                .into(),
        )
        .unwrap()
        .unwrap()
}

#[test]
fn limits_truncate_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    line_graph(dir.path(), &store);
    let adjacency = Adjacency::open(&store).unwrap();
    let (a, d) = (id(&store, "a"), id(&store, "d"));
    let all = find_paths(
        &adjacency,
        &PathQuery::new(vec![a], vec![d])
            .max_hops(4)
            .max_degree(None),
    );
    assert_eq!(all.paths.len(), 2, "a-b-c-d and a-b-h-c-d");
    assert!(all.truncated.is_none());
    // Under a hub cap the path through h (degree 52) is still found, but h's edges are never
    // listed. Growing from a alone (pinned), the uncapped search walks h's 50 leaves; the capped
    // one meets h and looks c up in its row instead.
    let capped = find_paths(
        &adjacency,
        &PathQuery::new(vec![a], vec![d])
            .max_hops(4)
            .max_degree(Some(10)),
    );
    assert_eq!(capped.paths, all.paths);
    let one_sided = |max_degree| {
        let mut q = PathQuery::new(vec![a], vec![d])
            .max_hops(4)
            .max_degree(max_degree);
        q.forward_depth = Some(4);
        find_paths(&adjacency, &q)
    };
    let (walked, met) = (one_sided(None), one_sided(Some(10)));
    assert_eq!(walked.paths, all.paths);
    assert_eq!(met.paths, all.paths);
    assert!(walked.expansions > 50, "{}", walked.expansions);
    assert!(met.expansions < 20, "{}", met.expansions);
    let one = find_paths(
        &adjacency,
        &PathQuery::new(vec![a], vec![d])
            .max_hops(4)
            .max_degree(None)
            .max_paths(1),
    );
    assert_eq!(one.paths.len(), 1);
    assert_eq!(one.truncated, Some(Truncation::MaxPaths));
    let mut tiny = PathQuery::new(vec![a], vec![d])
        .max_hops(4)
        .max_degree(None);
    tiny.max_expansions = 3;
    assert_eq!(
        find_paths(&adjacency, &tiny).truncated,
        Some(Truncation::Expansions)
    );
    // Forward only: a path needing a reversed edge disappears.
    let back = find_paths(&adjacency, &PathQuery::new(vec![d], vec![a]).max_hops(3));
    assert_eq!(back.paths.len(), 1);
    assert!(back.paths[0].hops.iter().all(|h| !h.forward));
    assert!(find_paths(
        &adjacency,
        &PathQuery::new(vec![d], vec![a]).max_hops(3).forward_only()
    )
    .paths
    .is_empty());
}

#[test]
fn corrupted_truncated_and_stale_adjacency_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    line_graph(dir.path(), &store);
    let file = dir.path().join("s/adjacency/graph.csr");
    let good = std::fs::read(&file).unwrap();
    let expect_error = |what: &str| match Adjacency::open(&store) {
        Err(StoreError::Adjacency { reason, .. }) => reason,
        Err(stale @ StoreError::StaleIndex { .. }) => stale.to_string(),
        Err(other) => panic!("{what}: unexpected error {other}"),
        Ok(_) => panic!("{what}: a damaged file opened"),
    };
    std::fs::write(&file, &good[..good.len() - 5]).unwrap();
    assert!(expect_error("truncated").contains("truncated"));
    let mut flipped = good.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    std::fs::write(&file, &flipped).unwrap();
    assert!(expect_error("flipped data").contains("checksum"));
    let mut header = good.clone();
    header[20] ^= 1;
    std::fs::write(&file, &header).unwrap();
    assert!(expect_error("flipped header").contains("header"));
    std::fs::write(&file, b"short").unwrap();
    expect_error("garbage");
    std::fs::write(&file, &good).unwrap();
    Adjacency::open(&store).unwrap();

    // An adjacency file of another store at the same commit: refused, not used.
    let other = Store::open(dir.path().join("other")).unwrap();
    line_graph(dir.path(), &other);
    let other_file = dir.path().join("other/adjacency/graph.csr");
    std::fs::copy(&other_file, &file).unwrap();
    assert!(expect_error("another store's file").contains("another store"));
    std::fs::write(&file, &good).unwrap();
    Adjacency::open(&store).unwrap();

    // A bulk load without rebuilding leaves the file stale: an error that says what to run.
    let more = dir.path().join("more.nt");
    std::fs::write(&more, "<http://e/d> <http://e/p> <http://e/z> .\n").unwrap();
    BulkLoader::new(&store)
        .build_adjacency(false)
        .load(&[LoadInput::new(&more)])
        .unwrap();
    assert!(expect_error("stale").contains("kale index"));
    // A writable store rebuilds on demand.
    let rebuilt = Adjacency::open_or_build(&store, &kg_store::progress::NoProgress).unwrap();
    let (d, z) = (id(&store, "d"), id(&store, "z"));
    assert_eq!(
        find_paths(&rebuilt, &PathQuery::new(vec![d], vec![z]))
            .paths
            .len(),
        1
    );
}

#[test]
fn hubs_are_met_when_all_of_a_paths_hubs_lie_on_one_hop() {
    // A person, the country of 20 citizens, the language of 20 speakers: both hubs at a cap of
    // 10. p -native-> L; p -cit-> C -lang-> L (hubs C and L on one hop); p -cit-> C -x-> m -y-> L
    // (hubs C and L apart).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s")).unwrap();
    let mut file = String::new();
    let mut edge = |s: &str, p: &str, o: &str| {
        file.push_str(&format!("<http://e/{s}> <http://e/{p}> <http://e/{o}> .\n"));
    };
    edge("p", "native", "L");
    edge("p", "cit", "C");
    edge("C", "lang", "L");
    edge("C", "x", "m");
    edge("m", "y", "L");
    for i in 0..20 {
        edge(&format!("citizen{i}"), "cit", "C");
        edge(&format!("speaker{i}"), "native", "L");
    }
    let path = dir.path().join("g.nt");
    std::fs::write(&path, file).unwrap();
    BulkLoader::new(&store)
        .load(&[LoadInput::new(&path)])
        .unwrap();
    let adjacency = Adjacency::open(&store).unwrap();
    let names = |p: &kg_store::paths::Path| -> Vec<String> {
        let reader = store.reader();
        p.nodes()
            .iter()
            .map(|n| reader.term(*n).unwrap().to_string())
            .collect()
    };
    let (p, l) = (id(&store, "p"), id(&store, "L"));
    let capped = find_paths(
        &adjacency,
        &PathQuery::new(vec![p], vec![l]).max_degree(Some(10)),
    );
    let found: Vec<Vec<String>> = capped.paths.iter().map(names).collect();
    assert_eq!(
        found,
        vec![
            vec!["<http://e/p>", "<http://e/L>"],
            vec!["<http://e/p>", "<http://e/C>", "<http://e/L>"],
        ],
        "the path with hubs C and L apart is not returned"
    );
    // Without a cap every path is there.
    let all = find_paths(
        &adjacency,
        &PathQuery::new(vec![p], vec![l]).max_degree(None),
    );
    assert_eq!(all.paths.len(), 3);
}
