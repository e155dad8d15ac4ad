//! Bidirectional path enumeration over the adjacency, meeting in the middle.
//!
//! Both sides grow level by level (all simple partial paths from the sources, and backwards from
//! the targets); each step grows the side whose frontier has fewer edges to walk, so the work is
//! about the square root of a one-sided search's. When the two depths add up to `max_hops`, every
//! path of length `L` is found exactly once by joining forward partial paths of length
//! `a = min(L, F)` with backward ones of length `L - a` at their common node.
//!
//! Partial paths live in reused per-thread arenas: no allocation per visited edge.

use super::query::{Hop, Path, PathQuery, PathResult, Truncation};
use crate::adjacency::Adjacency;
use crate::id::TermId;
use rustc_hash::FxHashSet;
use std::cell::RefCell;
use std::ops::Range;
use std::time::Instant;

const ROOT: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct State {
    node: u32,
    parent: u32,
    predicate: u32,
    /// Forward side: the stored edge is parent -> node. Backward side: node -> parent.
    along: bool,
}

#[derive(Default)]
struct Side {
    states: Vec<State>,
    /// Start of each level in `states`; the last entry is the end of the deepest level.
    levels: Vec<usize>,
}

impl Side {
    fn reset(&mut self, roots: &[u32]) {
        self.states.clear();
        self.levels.clear();
        self.levels.push(0);
        for &r in roots {
            self.states.push(State {
                node: r,
                parent: ROOT,
                predicate: 0,
                along: true,
            });
        }
        self.levels.push(self.states.len());
    }

    fn depth(&self) -> usize {
        self.levels.len() - 2
    }

    fn level(&self, d: usize) -> Range<usize> {
        self.levels[d]..self.levels[d + 1]
    }

    /// Whether `node` is on the partial path ending at state `i`.
    fn on_chain(&self, mut i: u32, node: u32) -> bool {
        while i != ROOT {
            let s = self.states[i as usize];
            if s.node == node {
                return true;
            }
            i = s.parent;
        }
        false
    }

    /// Nodes from the state back to its root.
    fn chain(&self, mut i: u32, out: &mut Vec<u32>) {
        out.clear();
        while i != ROOT {
            let s = self.states[i as usize];
            out.push(s.node);
            i = s.parent;
        }
    }
}

#[derive(Default)]
struct Scratch {
    forward: Side,
    backward: Side,
    sources: Vec<u32>,
    targets: FxHashSet<u32>,
    allow: Option<FxHashSet<u32>>,
    deny: FxHashSet<u32>,
    meet: Vec<(u32, u32)>,
    fwd_nodes: Vec<u32>,
    bwd_nodes: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Finds the paths a query asks for.
pub fn find_paths(adjacency: &Adjacency, query: &PathQuery) -> PathResult {
    SCRATCH.with(|scratch| Search::new(adjacency, query, &mut scratch.borrow_mut()).run())
}

struct Search<'a> {
    adj: &'a Adjacency,
    query: &'a PathQuery,
    s: &'a mut Scratch,
    expansions: u64,
    deadline: Option<Instant>,
    truncated: Option<Truncation>,
}

fn entity_indexes(ids: &[TermId]) -> Vec<u32> {
    let mut v: Vec<u32> = ids.iter().filter_map(|id| id.entity_index()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl<'a> Search<'a> {
    fn new(adj: &'a Adjacency, query: &'a PathQuery, s: &'a mut Scratch) -> Self {
        s.sources = entity_indexes(&query.sources);
        let targets = entity_indexes(&query.targets);
        s.targets.clear();
        s.targets.extend(targets.iter().copied());
        s.allow = query
            .allow
            .as_ref()
            .map(|a| a.iter().filter_map(|p| p.entity_index()).collect());
        s.deny.clear();
        s.deny
            .extend(query.deny.iter().filter_map(|p| p.entity_index()));
        s.forward.reset(&s.sources);
        s.backward.reset(&targets);
        Self {
            adj,
            query,
            s,
            expansions: 0,
            deadline: query.timeout.map(|t| Instant::now() + t),
            truncated: None,
        }
    }

    #[inline]
    fn predicate_ok(&self, p: u32) -> bool {
        self.s.allow.as_ref().is_none_or(|a| a.contains(&p)) && !self.s.deny.contains(&p)
    }

    /// Whether a path may pass through `v` (not end or start there).
    #[inline]
    fn passable(&self, v: u32) -> bool {
        !self.s.targets.contains(&v)
            && self
                .query
                .max_degree
                .is_none_or(|cap| self.adj.degree(v) <= cap)
    }

    /// Edges the next expansion of a side would walk (what it will cost).
    fn frontier_cost(&self, forward: bool) -> u64 {
        let side = if forward {
            &self.s.forward
        } else {
            &self.s.backward
        };
        let d = side.depth();
        side.states[side.level(d)]
            .iter()
            .filter(|st| d == 0 || self.passable(st.node))
            .map(|st| {
                // Forward walks out-edges, backward in-edges; the other kind too when edges may
                // be walked against their direction.
                let (along, against) = if forward {
                    (self.adj.out_degree(st.node), self.adj.in_degree(st.node))
                } else {
                    (self.adj.in_degree(st.node), self.adj.out_degree(st.node))
                };
                let against = if self.query.both_directions {
                    against
                } else {
                    0
                };
                along + against + 1
            })
            .sum()
    }

    /// Grows one side by a level. Returns false when a limit stopped it.
    fn expand(&mut self, forward: bool) -> bool {
        let depth = if forward {
            self.s.forward.depth()
        } else {
            self.s.backward.depth()
        };
        let range = if forward {
            self.s.forward.level(depth)
        } else {
            self.s.backward.level(depth)
        };
        let both = self.query.both_directions;
        let adj = self.adj;
        for i in range {
            let st = if forward {
                self.s.forward.states[i]
            } else {
                self.s.backward.states[i]
            };
            if depth > 0 && !self.passable(st.node) {
                continue;
            }
            // Forward: walk out-edges along, in-edges against. Backward (towards the source):
            // a predecessor u with u -> v is walked along, one with v -> u against.
            let (along, against) = if forward {
                (adj.out_edges(st.node), adj.in_edges(st.node))
            } else {
                (adj.in_edges(st.node), adj.out_edges(st.node))
            };
            let grow =
                |edges: crate::adjacency::Edges<'_>, is_along: bool, this: &mut Self| -> bool {
                    for [n, p] in edges {
                        if !this.predicate_ok(p) {
                            continue;
                        }
                        let side = if forward {
                            &mut this.s.forward
                        } else {
                            &mut this.s.backward
                        };
                        if side.on_chain(i as u32, n) {
                            continue;
                        }
                        side.states.push(State {
                            node: n,
                            parent: i as u32,
                            predicate: p,
                            along: is_along,
                        });
                        this.expansions += 1;
                        if this.expansions >= this.query.max_expansions {
                            this.truncated = Some(Truncation::Expansions);
                            return false;
                        }
                        if this.expansions.is_multiple_of(1024)
                            && this.deadline.is_some_and(|d| Instant::now() > d)
                        {
                            this.truncated = Some(Truncation::Timeout);
                            return false;
                        }
                    }
                    true
                };
            if !grow(along, true, self) || (both && !grow(against, false, self)) {
                return false;
            }
        }
        let side = if forward {
            &mut self.s.forward
        } else {
            &mut self.s.backward
        };
        side.levels.push(side.states.len());
        true
    }

    fn run(mut self) -> PathResult {
        let k = self.query.max_hops as usize;
        if k == 0 || self.s.sources.is_empty() || self.s.targets.is_empty() {
            return PathResult::default();
        }
        // Grow until the depths add up to k, or a frontier dies out (then no longer path exists:
        // every path's prefix and suffix of each length is a partial path of that side).
        let mut complete = true;
        while self.s.forward.depth() + self.s.backward.depth() < k {
            let f_empty = self.s.forward.level(self.s.forward.depth()).is_empty();
            let b_empty = self.s.backward.level(self.s.backward.depth()).is_empty();
            if f_empty || b_empty {
                break;
            }
            let forward = match self.query.forward_depth {
                Some(f) => self.s.forward.depth() < f as usize,
                None => self.frontier_cost(true) <= self.frontier_cost(false),
            };
            if !self.expand(forward) {
                complete = false;
                break;
            }
        }
        let (f, b) = (self.s.forward.depth(), self.s.backward.depth());
        let mut result = PathResult::default();
        let longest = if complete { k.min(f + b) } else { f + b };
        for length in 1..=longest {
            let a = length.min(f);
            let mut found = self.join(a, length - a);
            found.sort_unstable();
            let room = self.query.max_paths - result.paths.len();
            if found.len() > room {
                found.truncate(room);
                result.paths.extend(found);
                self.truncated.get_or_insert(Truncation::MaxPaths);
                break;
            }
            result.paths.extend(found);
        }
        result.truncated = self.truncated;
        result.expansions = self.expansions;
        result
    }

    /// Paths made of a forward partial path of `a` hops and a backward one of `b` hops.
    fn join(&mut self, a: usize, b: usize) -> Vec<Path> {
        let mut found = Vec::new();
        let s = &mut *self.s;
        s.meet.clear();
        for i in s.backward.level(b) {
            s.meet.push((s.backward.states[i].node, i as u32));
        }
        s.meet.sort_unstable();
        // Cap the join's own work: a pathological meet (hub on both sides) must stop too.
        let cap = self.query.max_paths.saturating_mul(16).max(10_000);
        for fi in s.forward.level(a) {
            let m = s.forward.states[fi].node;
            let start = s.meet.partition_point(|&(n, _)| n < m);
            let mut j = start;
            while j < s.meet.len() && s.meet[j].0 == m {
                let bi = s.meet[j].1;
                j += 1;
                // The meet node is intermediate unless it is an end.
                if a > 0 && b > 0 {
                    let passable = !s.targets.contains(&m)
                        && self
                            .query
                            .max_degree
                            .is_none_or(|cap| self.adj.degree(m) <= cap);
                    if !passable {
                        break;
                    }
                }
                s.forward.chain(fi as u32, &mut s.fwd_nodes);
                s.backward.chain(bi, &mut s.bwd_nodes);
                // Simple: the halves share only the meet node.
                if s.fwd_nodes[1..]
                    .iter()
                    .any(|n| s.bwd_nodes[1..].contains(n))
                    || s.bwd_nodes[1..].contains(&m)
                {
                    continue;
                }
                found.push(build_path(&s.forward, fi as u32, &s.backward, bi));
                if found.len() >= cap {
                    self.truncated.get_or_insert(Truncation::MaxPaths);
                    return found;
                }
            }
        }
        found
    }
}

fn entity(i: u32) -> TermId {
    TermId::entity(u64::from(i))
}

fn build_path(forward: &Side, fi: u32, backward: &Side, bi: u32) -> Path {
    let mut hops = Vec::new();
    let mut i = fi;
    while i != ROOT {
        let st = forward.states[i as usize];
        if st.parent == ROOT {
            break;
        }
        let from = forward.states[st.parent as usize].node;
        let (s, o) = if st.along {
            (from, st.node)
        } else {
            (st.node, from)
        };
        hops.push(Hop {
            subject: entity(s),
            predicate: entity(st.predicate),
            object: entity(o),
            forward: st.along,
        });
        i = st.parent;
    }
    hops.reverse();
    let mut i = bi;
    while i != ROOT {
        let st = backward.states[i as usize];
        if st.parent == ROOT {
            break;
        }
        let to = backward.states[st.parent as usize].node;
        let (s, o) = if st.along {
            (st.node, to)
        } else {
            (to, st.node)
        };
        hops.push(Hop {
            subject: entity(s),
            predicate: entity(st.predicate),
            object: entity(o),
            forward: st.along,
        });
        i = st.parent;
    }
    Path { hops }
}
