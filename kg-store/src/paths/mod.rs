//! Path search between entity sets over the adjacency (CSR plus delta).

mod query;
mod search;

pub use query::{Hop, Path, PathQuery, PathResult, Truncation, DEFAULT_MAX_DEGREE};
pub use search::find_paths;

use crate::adjacency::Adjacency;
use rayon::prelude::*;

/// Answers a batch of queries in parallel; results come in the queries' order.
pub fn find_paths_batch(adjacency: &Adjacency, queries: &[PathQuery]) -> Vec<PathResult> {
    queries
        .par_iter()
        .map(|q| find_paths(adjacency, q))
        .collect()
}

/// The plain definition of [`PathQuery`]'s answer, by depth-first enumeration from every source:
/// slow, obviously right, and the reference the fast search is tested against.
pub fn reference_paths(adjacency: &Adjacency, query: &PathQuery) -> Vec<Path> {
    use crate::id::TermId;
    use rustc_hash::FxHashSet;

    let entity = |i: u32| TermId::entity(u64::from(i));
    let targets: FxHashSet<u32> = query
        .targets
        .iter()
        .filter_map(|t| t.entity_index())
        .collect();
    let allow: Option<FxHashSet<u32>> = query
        .allow
        .as_ref()
        .map(|a| a.iter().filter_map(|p| p.entity_index()).collect());
    let deny: FxHashSet<u32> = query.deny.iter().filter_map(|p| p.entity_index()).collect();
    let ok = |p: u32| allow.as_ref().is_none_or(|a| a.contains(&p)) && !deny.contains(&p);
    let passable = |v: u32| {
        !targets.contains(&v)
            && query
                .max_degree
                .is_none_or(|cap| adjacency.degree(v) <= cap)
    };

    struct Walk<'a> {
        adjacency: &'a Adjacency,
        nodes: Vec<u32>,
        hops: Vec<Hop>,
        out: Vec<Path>,
    }
    fn dfs(
        w: &mut Walk<'_>,
        k: usize,
        both: bool,
        targets: &FxHashSet<u32>,
        ok: &dyn Fn(u32) -> bool,
        passable: &dyn Fn(u32) -> bool,
        entity: &dyn Fn(u32) -> TermId,
    ) {
        let v = *w.nodes.last().expect("a walk has a start");
        if w.hops.len() == k || (w.hops.len() > 0 && !passable(v)) {
            return;
        }
        let mut steps: Vec<(u32, Hop)> = w
            .adjacency
            .out_edges(v)
            .map(|[n, p]| {
                (
                    n,
                    Hop {
                        subject: entity(v),
                        predicate: entity(p),
                        object: entity(n),
                        forward: true,
                    },
                )
            })
            .collect();
        if both {
            steps.extend(w.adjacency.in_edges(v).map(|[n, p]| {
                (
                    n,
                    Hop {
                        subject: entity(n),
                        predicate: entity(p),
                        object: entity(v),
                        forward: false,
                    },
                )
            }));
        }
        for (n, hop) in steps {
            if !ok(hop.predicate.entity_index().expect("entity")) || w.nodes.contains(&n) {
                continue;
            }
            w.nodes.push(n);
            w.hops.push(hop);
            if targets.contains(&n) {
                w.out.push(Path {
                    hops: w.hops.clone(),
                });
            } else {
                dfs(w, k, both, targets, ok, passable, entity);
            }
            w.nodes.pop();
            w.hops.pop();
        }
    }

    let mut sources: Vec<u32> = query
        .sources
        .iter()
        .filter_map(|s| s.entity_index())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    let mut walk = Walk {
        adjacency,
        nodes: Vec::new(),
        hops: Vec::new(),
        out: Vec::new(),
    };
    for s in sources {
        walk.nodes = vec![s];
        dfs(
            &mut walk,
            query.max_hops as usize,
            query.both_directions,
            &targets,
            &ok,
            &passable,
            &entity,
        );
    }
    let mut paths = walk.out;
    paths.sort_by(|a, b| a.hops.len().cmp(&b.hops.len()).then_with(|| a.cmp(b)));
    paths
}
