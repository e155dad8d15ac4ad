//! Bidirectional path enumeration over the adjacency, meeting in the middle; hubs are met, never
//! walked.
//!
//! Both sides grow level by level (all simple partial paths from the sources, and backwards from
//! the targets); each step grows the side whose frontier has fewer edges to walk, so the work is
//! about the square root of a one-sided search's. When the two depths add up to `max_hops`, every
//! hub-free path of length `L` is found exactly once by joining forward partial paths of length
//! `a = min(L, F)` with backward ones of length `L - a` at their common node.
//!
//! Hubs (entities with more than `max_degree` edges, sources and targets included) are never
//! expanded: their rows are never listed, which at Wikidata's size would mean millions of edges
//! per country or language. A side that reaches a hub keeps it as the end of a partial path.
//! After growing, each such end is tied to the other side's partial paths by one hop found with
//! a lookup in the sorted rows ([`Adjacency::edges_between`]): a binary search, not a scan. So a
//! path is found when all its hubs lie on one hop (one hub anywhere on it, or the two ends of one
//! hop). A path does not pass through a hub by two edges of one predicate that both point at the
//! hub (`x -type-> Class <-type- y`, `a -citizenship-> Country <-citizenship- b`): that only says
//! two entities share a value, and around a hub it joins everything to everything.
//! A hub reached at depth `i` needs the other side's partial paths of up to
//! `max_hops - 1 - i` hops, so each side then grows until it has the depth the other side's hubs
//! need (or dies out). The two sides can find the same hub path; duplicates are dropped.
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
    /// Hub ends of partial paths on the probing side: `(node, state)`, sorted.
    hubs: Vec<(u32, u32)>,
    /// Edges of one probe: `(predicate, the hub's side holds the subject)`.
    between: Vec<(u32, bool)>,
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

    #[inline]
    fn is_hub(&self, v: u32) -> bool {
        self.query
            .max_degree
            .is_some_and(|cap| self.adj.degree(v) > cap)
    }

    /// Whether a state at `depth` is grown further: never a hub, and past the roots never a
    /// target (a path ends at the first target it reaches).
    #[inline]
    fn expandable(&self, v: u32, depth: usize) -> bool {
        !self.is_hub(v) && (depth == 0 || !self.s.targets.contains(&v))
    }

    /// Whether a state at `depth` is a hub that ends a partial path which may go on through it
    /// (a root, or any node but a target).
    #[inline]
    fn hub_end(&self, v: u32, depth: usize) -> bool {
        self.is_hub(v) && (depth == 0 || !self.s.targets.contains(&v))
    }

    fn side(&self, forward: bool) -> &Side {
        if forward {
            &self.s.forward
        } else {
            &self.s.backward
        }
    }

    /// Whether the deepest level of a side has a state to grow.
    fn alive(&self, forward: bool) -> bool {
        let side = self.side(forward);
        let d = side.depth();
        side.states[side.level(d)]
            .iter()
            .any(|st| self.expandable(st.node, d))
    }

    /// Edges the next expansion of a side would walk (what it will cost).
    fn frontier_cost(&self, forward: bool) -> u64 {
        let side = self.side(forward);
        let d = side.depth();
        side.states[side.level(d)]
            .iter()
            .filter(|st| self.expandable(st.node, d))
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

    /// Counts one unit of work against the limits; false when a limit is reached.
    #[inline]
    fn spend(&mut self) -> bool {
        self.expansions += 1;
        if self.expansions >= self.query.max_expansions {
            self.truncated = Some(Truncation::Expansions);
            return false;
        }
        if self.expansions.is_multiple_of(1024) && self.deadline.is_some_and(|d| Instant::now() > d)
        {
            self.truncated = Some(Truncation::Timeout);
            return false;
        }
        true
    }

    /// Grows one side by a level. Returns false when a limit stopped it.
    fn expand(&mut self, forward: bool) -> bool {
        let depth = self.side(forward).depth();
        let range = self.side(forward).level(depth);
        let both = self.query.both_directions;
        let adj = self.adj;
        for i in range {
            let st = self.side(forward).states[i];
            if !self.expandable(st.node, depth) {
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
                        if !this.spend() {
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

    /// The depth the *other* side needs so that every hub end of this side can be probed
    /// against it: `max_hops - 1 - depth` of the shallowest hub end.
    fn hub_need(&self, forward: bool) -> usize {
        let k = self.query.max_hops as usize;
        let side = self.side(forward);
        (0..=side.depth())
            .find(|&d| {
                side.states[side.level(d)]
                    .iter()
                    .any(|st| self.hub_end(st.node, d))
            })
            .map_or(0, |d| k.saturating_sub(d + 1))
    }

    fn run(mut self) -> PathResult {
        let k = self.query.max_hops as usize;
        if k == 0 || self.s.sources.is_empty() || self.s.targets.is_empty() {
            return PathResult::default();
        }
        // Grow until the depths add up to k, or a side has nothing left to grow (then no longer
        // hub-free path exists: every such path's prefix and suffix of each length is a partial
        // path of that side).
        let mut complete = true;
        while self.s.forward.depth() + self.s.backward.depth() < k {
            // A side costs nothing exactly when nothing on its frontier can grow.
            let (cost_forward, cost_backward) =
                (self.frontier_cost(true), self.frontier_cost(false));
            if cost_forward == 0 || cost_backward == 0 {
                break;
            }
            let forward = match self.query.forward_depth {
                Some(f) => self.s.forward.depth() < f as usize,
                None => cost_forward <= cost_backward,
            };
            if !self.expand(forward) {
                complete = false;
                break;
            }
        }
        // Then each side as deep as the other side's hubs need.
        while complete {
            let grow_backward = self.s.backward.depth() < self.hub_need(true) && self.alive(false);
            let grow_forward = self.s.forward.depth() < self.hub_need(false) && self.alive(true);
            let forward = match (grow_forward, grow_backward) {
                (false, false) => break,
                (true, true) => self.frontier_cost(true) <= self.frontier_cost(false),
                (forward, _) => forward,
            };
            complete = self.expand(forward);
        }
        let (f, b) = (self.s.forward.depth(), self.s.backward.depth());
        let mut through_hubs = if self.truncated.is_none() {
            self.probe_paths()
        } else {
            Vec::new()
        };
        through_hubs.sort_unstable_by_key(|p| p.hops.len());
        let mut result = PathResult::default();
        let longest = k.min(f + b);
        let mut next_hub_path = 0;
        for length in 1..=k {
            let mut found = if length <= longest {
                let a = length.min(f);
                self.join(a, length - a)
            } else {
                Vec::new()
            };
            while next_hub_path < through_hubs.len()
                && through_hubs[next_hub_path].hops.len() == length
            {
                found.push(std::mem::take(&mut through_hubs[next_hub_path]));
                next_hub_path += 1;
            }
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

    /// The most paths one join or probe pass builds: a pathological meet (hubs on both sides)
    /// must stop too.
    fn build_cap(&self) -> usize {
        self.query.max_paths.saturating_mul(16).max(10_000)
    }

    /// Hub-free paths made of a forward partial path of `a` hops and a backward one of `b` hops.
    fn join(&mut self, a: usize, b: usize) -> Vec<Path> {
        let mut found = Vec::new();
        let cap = self.build_cap();
        let s = &mut *self.s;
        s.meet.clear();
        for i in s.backward.level(b) {
            s.meet.push((s.backward.states[i].node, i as u32));
        }
        s.meet.sort_unstable();
        for fi in s.forward.level(a) {
            let m = s.forward.states[fi].node;
            // A hub meet is a hub path: the probes find those. A target in the middle ends the
            // path there.
            let is_hub = self
                .query
                .max_degree
                .is_some_and(|cap| self.adj.degree(m) > cap);
            if is_hub || (a > 0 && b > 0 && s.targets.contains(&m)) {
                continue;
            }
            let start = s.meet.partition_point(|&(n, _)| n < m);
            let mut j = start;
            while j < s.meet.len() && s.meet[j].0 == m {
                let bi = s.meet[j].1;
                j += 1;
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
                found.push(build_path(&s.forward, fi as u32, None, &s.backward, bi));
                if found.len() >= cap {
                    self.truncated.get_or_insert(Truncation::MaxPaths);
                    return found;
                }
            }
        }
        found
    }

    /// Paths through hubs: each hub end of one side tied by one hop to a partial path of the
    /// other side, the hop found by lookup. Deduplicated (both sides can find a path).
    fn probe_paths(&mut self) -> Vec<Path> {
        let mut found: FxHashSet<Path> = FxHashSet::default();
        for forward in [true, false] {
            if !self.probe_side(forward, &mut found) {
                break;
            }
        }
        found.into_iter().collect()
    }

    /// Probes from the hub ends of one side (`forward`: the side of the sources). Returns false
    /// when a limit stopped it.
    fn probe_side(&mut self, forward: bool, found: &mut FxHashSet<Path>) -> bool {
        let k = self.query.max_hops as usize;
        let cap = self.build_cap();
        let mut hubs = std::mem::take(&mut self.s.hubs);
        let mut between = std::mem::take(&mut self.s.between);
        let mut meet = std::mem::take(&mut self.s.meet);
        let mut ok = true;
        let depth = self.side(forward).depth();
        'levels: for i in 0..=depth.min(k - 1) {
            hubs.clear();
            let side = self.side(forward);
            for si in side.level(i) {
                let node = side.states[si].node;
                if self.hub_end(node, i) {
                    hubs.push((node, si as u32));
                }
            }
            if hubs.is_empty() {
                continue;
            }
            hubs.sort_unstable();
            let other_depth = self.side(!forward).depth();
            for j in 0..=other_depth.min(k - 1 - i) {
                meet.clear();
                let other = self.side(!forward);
                for oi in other.level(j) {
                    let node = other.states[oi].node;
                    // The other side's end is the next node after the hub: past the roots it
                    // may not be a target.
                    if j == 0 || !self.s.targets.contains(&node) {
                        meet.push((node, oi as u32));
                    }
                }
                meet.sort_unstable();
                let mut h = 0;
                while h < hubs.len() {
                    let hub = hubs[h].0;
                    let hub_end = hubs[h..].partition_point(|&(n, _)| n == hub) + h;
                    let mut m = 0;
                    while m < meet.len() {
                        let node = meet[m].0;
                        let node_end = meet[m..].partition_point(|&(n, _)| n == node) + m;
                        if !self.spend() {
                            ok = false;
                            break 'levels;
                        }
                        between.clear();
                        if node != hub {
                            self.adj.edges_between(hub, node, |p, hub_subject| {
                                between.push((p, hub_subject));
                            });
                        }
                        between.retain(|&(p, hub_subject)| {
                            self.predicate_ok(p)
                                && (self.query.both_directions || hub_subject == forward)
                        });
                        if !between.is_empty() {
                            for &(_, hs) in &hubs[h..hub_end] {
                                for &(_, os) in &meet[m..node_end] {
                                    self.probe_pair(forward, hs, os, &between, found);
                                    if found.len() >= cap {
                                        self.truncated.get_or_insert(Truncation::MaxPaths);
                                        ok = false;
                                        break 'levels;
                                    }
                                }
                            }
                        }
                        m = node_end;
                    }
                    h = hub_end;
                }
            }
        }
        self.s.hubs = hubs;
        self.s.between = between;
        self.s.meet = meet;
        ok
    }

    /// The paths of one hub end (`hs` on the probing side) and one partial path of the other
    /// side (`os`), over each edge between their ends.
    fn probe_pair(
        &mut self,
        forward: bool,
        hs: u32,
        os: u32,
        between: &[(u32, bool)],
        found: &mut FxHashSet<Path>,
    ) {
        let s = &mut *self.s;
        let (fi, bi) = if forward { (hs, os) } else { (os, hs) };
        s.forward.chain(fi, &mut s.fwd_nodes);
        s.backward.chain(bi, &mut s.bwd_nodes);
        // Simple: the two halves share no node.
        if s.fwd_nodes.iter().any(|n| s.bwd_nodes.contains(n)) {
            return;
        }
        let (from, to) = (
            s.forward.states[fi as usize].node,
            s.backward.states[bi as usize].node,
        );
        // The predicate of a state's own edge when that edge points at its node: a state of the
        // forward side was reached parent -> node when `along`, one of the backward side when not.
        let into = |st: State, side_forward: bool| {
            (st.parent != ROOT && st.along == side_forward).then_some(st.predicate)
        };
        let (hub, other) = if forward {
            (
                s.forward.states[hs as usize],
                s.backward.states[os as usize],
            )
        } else {
            (
                s.backward.states[hs as usize],
                s.forward.states[os as usize],
            )
        };
        let into_hub = into(hub, forward);
        // The other end may be a hub too (two hubs on one hop): the same rule at it.
        let into_other = self
            .query
            .max_degree
            .is_some_and(|cap| self.adj.degree(other.node) > cap)
            .then(|| into(other, !forward))
            .flatten();
        for &(p, hub_subject) in between {
            // Two edges of one predicate pointing at a hub: no path through it.
            if (!hub_subject && into_hub == Some(p)) || (hub_subject && into_other == Some(p)) {
                continue;
            }
            // Walking from `from` to `to`: along when `from` is the stored subject.
            let along = hub_subject == forward;
            let (subject, object) = if along { (from, to) } else { (to, from) };
            let hop = Hop {
                subject: entity(subject),
                predicate: entity(p),
                object: entity(object),
                forward: along,
            };
            found.insert(build_path(&s.forward, fi, Some(hop), &s.backward, bi));
        }
    }
}

fn entity(i: u32) -> TermId {
    TermId::entity(u64::from(i))
}

/// The path of forward partial path `fi`, an optional middle hop, and backward partial path
/// `bi`.
fn build_path(forward: &Side, fi: u32, middle: Option<Hop>, backward: &Side, bi: u32) -> Path {
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
    hops.extend(middle);
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
