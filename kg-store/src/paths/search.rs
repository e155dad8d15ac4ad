//! Bidirectional path enumeration over the adjacency, meeting in the middle; hubs are met, never
//! walked.
//!
//! Both sides grow level by level (all simple partial paths from the sources, and backwards from
//! the targets); each step grows the side whose frontier has fewer edges to walk, so the work is
//! about the square root of a one-sided search's. When the two depths `F + B` reach `max_hops`,
//! every hub-free path of length `L` is found exactly once by joining forward partial paths of
//! length `a = min(L, F)` with backward ones of length `L - a` at their common node.
//!
//! Hubs (entities with more than `max_degree` edges, sources and targets included) are never
//! expanded: their rows are never listed, which at Wikidata's size would mean millions of edges
//! per country or language. A side that reaches a hub keeps it as the end of a partial path. So
//! a path is found when all its hubs lie on one hop (one hub anywhere on it, or the two ends of
//! one hop):
//! - one hub `h` at position `i`, both sides reaching it (`i <= F`, `L - i <= B`): a join at `h`,
//!   at the split `(i, L - i)` whatever the canonical split is;
//! - one hub one hop beyond the other side's deepest level: the hub end tied to a partial path
//!   of that level by one hop found with a lookup in the sorted rows
//!   ([`Adjacency::edges_between`]): a binary search, not a scan;
//! - two hubs on one hop, each reached by one side: the same lookup between the two hub ends.
//!
//! A hub reached at depth `i` needs the other side's partial paths of up to `max_hops - 1 - i`
//! hops, so each side then grows until it has the depth the other side's hubs need (or dies out).
//! Whether a state's node is a hub (or a target) is looked up only when something asks: most
//! states of the deepest levels are never asked about. A path does not pass through a hub by two
//! edges of one predicate that both point at the hub (`x -type-> Class <-type- y`,
//! `a -citizenship-> Country <-citizenship- b`): that only says two entities share a value, and
//! around a hub it joins everything to everything.
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

/// How many frontier states ahead of the one being grown have their rows prefetched: enough
/// misses in flight to cover a DRAM round trip, few enough to stay in the fill buffers.
const PREFETCH_AHEAD: usize = 8;

/// `State::flags`: whether the node is a hub (a degree lookup) and whether it is a target (a
/// hash lookup), each with a bit saying it was looked up.
const HUB_KNOWN: u8 = 1;
const HUB: u8 = 2;
const TARGET_KNOWN: u8 = 4;
const TARGET: u8 = 8;

#[derive(Clone, Copy)]
struct State {
    node: u32,
    parent: u32,
    predicate: u32,
    /// Forward side: the stored edge is parent -> node. Backward side: node -> parent.
    along: bool,
    /// `HUB_KNOWN | HUB | TARGET_KNOWN | TARGET`, filled in when first asked.
    flags: u8,
}

impl State {
    /// The predicate of the state's own edge when that edge points at its node: on the forward
    /// side the edge is parent -> node when `along`, on the backward side when not.
    fn into_node(self, forward: bool) -> Option<u32> {
        (self.parent != ROOT && self.along == forward).then_some(self.predicate)
    }
}

#[derive(Default)]
struct Side {
    states: Vec<State>,
    /// Start of each level in `states`; the last entry is the end of the deepest level.
    levels: Vec<usize>,
    /// Per level, once asked: its `(node, state)` pairs sorted by node (joins and probes look
    /// nodes up in them).
    sorted: Vec<Option<Vec<(u32, u32)>>>,
}

impl Side {
    fn reset(&mut self, roots: &[u32]) {
        self.states.clear();
        self.levels.clear();
        self.sorted.clear();
        self.levels.push(0);
        for &node in roots {
            self.states.push(State {
                node,
                parent: ROOT,
                predicate: 0,
                along: true,
                flags: 0,
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

    /// Level `d`'s `(node, state)` pairs sorted by node, made the first time.
    fn sorted_level(&mut self, d: usize) -> Vec<(u32, u32)> {
        if self.sorted.len() <= d {
            self.sorted.resize(d + 1, None);
        }
        if let Some(list) = self.sorted[d].take() {
            return list;
        }
        let mut list: Vec<(u32, u32)> = self
            .level(d)
            .map(|i| (self.states[i].node, i as u32))
            .collect();
        list.sort_unstable();
        list
    }

    /// Gives back a list [`Side::sorted_level`] handed out.
    fn keep_sorted(&mut self, d: usize, list: Vec<(u32, u32)>) {
        self.sorted[d] = Some(list);
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

/// Which meets a join accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Meets {
    /// Every meet: the canonical split of a length.
    All,
    /// Hubs only: the other splits, where only a path's hub can be its meet.
    Hubs,
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

    fn side(&self, forward: bool) -> &Side {
        if forward {
            &self.s.forward
        } else {
            &self.s.backward
        }
    }

    fn side_mut(&mut self, forward: bool) -> &mut Side {
        if forward {
            &mut self.s.forward
        } else {
            &mut self.s.backward
        }
    }

    /// Whether the node of state `i` of a side is a hub, looked up the first time.
    #[inline]
    fn is_hub(&mut self, forward: bool, i: usize) -> bool {
        let st = self.side(forward).states[i];
        if st.flags & HUB_KNOWN == 0 {
            let hub = self
                .query
                .max_degree
                .is_some_and(|cap| self.adj.degree(st.node) > cap);
            self.side_mut(forward).states[i].flags |= HUB_KNOWN | if hub { HUB } else { 0 };
            return hub;
        }
        st.flags & HUB != 0
    }

    /// Whether the node of state `i` of a side is a target, looked up the first time.
    #[inline]
    fn is_target(&mut self, forward: bool, i: usize) -> bool {
        let st = self.side(forward).states[i];
        if st.flags & TARGET_KNOWN == 0 {
            let target = self.s.targets.contains(&st.node);
            self.side_mut(forward).states[i].flags |=
                TARGET_KNOWN | if target { TARGET } else { 0 };
            return target;
        }
        st.flags & TARGET != 0
    }

    /// Whether state `i` (at `depth`) is grown further: never a hub, and past the roots never a
    /// target (a path ends at the first target it reaches).
    #[inline]
    fn expandable(&mut self, forward: bool, i: usize, depth: usize) -> bool {
        (depth == 0 || !self.is_target(forward, i)) && !self.is_hub(forward, i)
    }

    /// Whether state `i` (at `depth`) is a hub that ends a partial path which may go on through
    /// it (a root, or any node but a target).
    #[inline]
    fn hub_end(&mut self, forward: bool, i: usize, depth: usize) -> bool {
        (depth == 0 || !self.is_target(forward, i)) && self.is_hub(forward, i)
    }

    /// Whether the deepest level of a side has a state to grow.
    fn alive(&mut self, forward: bool) -> bool {
        let d = self.side(forward).depth();
        self.side(forward)
            .level(d)
            .any(|i| self.expandable(forward, i, d))
    }

    /// Edges the next expansion of a side would walk (what it will cost); 0 when nothing on its
    /// frontier can grow.
    fn frontier_cost(&mut self, forward: bool) -> u64 {
        let d = self.side(forward).depth();
        let mut cost = 0;
        for i in self.side(forward).level(d) {
            if !self.expandable(forward, i, d) {
                continue;
            }
            let node = self.side(forward).states[i].node;
            // Forward walks out-edges, backward in-edges; the other kind too when edges may be
            // walked against their direction.
            let (along, against) = if forward {
                (self.adj.out_degree(node), self.adj.in_degree(node))
            } else {
                (self.adj.in_degree(node), self.adj.out_degree(node))
            };
            let against = if self.query.both_directions {
                against
            } else {
                0
            };
            cost += along + against + 1;
        }
        cost
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
        let end = range.end;
        for i in range.clone().take(PREFETCH_AHEAD) {
            adj.prefetch_edges(self.side(forward).states[i].node);
        }
        for i in range {
            if i + PREFETCH_AHEAD < end {
                adj.prefetch_edges(self.side(forward).states[i + PREFETCH_AHEAD].node);
            }
            if !self.expandable(forward, i, depth) {
                continue;
            }
            let st = self.side(forward).states[i];
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
                        let side = this.side_mut(forward);
                        if side.on_chain(i as u32, n) {
                            continue;
                        }
                        side.states.push(State {
                            node: n,
                            parent: i as u32,
                            predicate: p,
                            along: is_along,
                            flags: 0,
                        });
                        // The new state's hub test comes with the next cost estimate or probe:
                        // its miss starts now, overlapping the others of this level.
                        this.adj.prefetch_degree(n);
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
        let side = self.side_mut(forward);
        side.levels.push(side.states.len());
        true
    }

    /// The depth the *other* side needs so that every hub end of this side can be reached:
    /// `max_hops - 1 - depth` of this side's shallowest hub end. Only levels whose need exceeds
    /// what the other side has are looked at.
    fn hub_need(&mut self, forward: bool) -> usize {
        let k = self.query.max_hops as usize;
        let other = self.side(!forward).depth();
        let depth = self.side(forward).depth();
        for d in 0..=depth {
            if k.saturating_sub(d + 1) <= other {
                break;
            }
            if self
                .side(forward)
                .level(d)
                .any(|i| self.hub_end(forward, i, d))
            {
                return k - d - 1;
            }
        }
        0
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
            let grow_backward = self.hub_need(true) > self.s.backward.depth() && self.alive(false);
            let grow_forward = self.hub_need(false) > self.s.forward.depth() && self.alive(true);
            let forward = match (grow_forward, grow_backward) {
                (false, false) => break,
                (true, true) => self.frontier_cost(true) <= self.frontier_cost(false),
                (forward, _) => forward,
            };
            complete = self.expand(forward);
        }
        let (f, b) = (self.s.forward.depth(), self.s.backward.depth());
        let mut through_hubs: FxHashSet<Path> = FxHashSet::default();
        // No path is longer than the two sides' depths and a hop between them: sized by what the
        // search reached, not by `max_hops`, which a caller may set to billions.
        let longest = k.min(f + b + 1);
        let mut by_length: Vec<Vec<Path>> = vec![Vec::new(); longest + 1];
        for (length, paths) in by_length
            .iter_mut()
            .enumerate()
            .take(k.min(f + b) + 1)
            .skip(1)
        {
            let canonical = length.min(f);
            for a in length.saturating_sub(b)..=length.min(f) {
                let meets = if a == canonical {
                    Meets::All
                } else {
                    Meets::Hubs
                };
                let hub_free = self.join(a, length - a, meets, &mut through_hubs);
                paths.extend(hub_free);
            }
        }
        if self.truncated.is_none() {
            self.probe_paths(&mut through_hubs);
        }
        for path in through_hubs {
            by_length[path.hops.len()].push(path);
        }
        let mut result = PathResult::default();
        for mut found in by_length {
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

    /// Paths made of a forward partial path of `a` hops and a backward one of `b` hops, meeting
    /// at a common node: the hub-free ones returned, those meeting at a hub added to `hubs`.
    fn join(&mut self, a: usize, b: usize, meets: Meets, hubs: &mut FxHashSet<Path>) -> Vec<Path> {
        let mut found = Vec::new();
        let cap = self.build_cap();
        let meet = self.s.backward.sorted_level(b);
        for fi in self.s.forward.level(a) {
            let m = self.s.forward.states[fi].node;
            let start = meet.partition_point(|&(n, _)| n < m);
            if start == meet.len() || meet[start].0 != m {
                continue;
            }
            // A target in the middle ends the path there.
            if a > 0 && b > 0 && self.is_target(true, fi) {
                continue;
            }
            let is_hub = self.is_hub(true, fi);
            if meets == Meets::Hubs && !is_hub {
                continue;
            }
            let into_forward = self.s.forward.states[fi].into_node(true);
            let mut j = start;
            while j < meet.len() && meet[j].0 == m {
                let bi = meet[j].1;
                j += 1;
                // Through a hub by two edges of one predicate pointing at it: no path.
                if is_hub
                    && into_forward.is_some()
                    && into_forward == self.s.backward.states[bi as usize].into_node(false)
                {
                    continue;
                }
                let s = &mut *self.s;
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
                let path = build_path(&s.forward, fi as u32, None, &s.backward, bi);
                if is_hub {
                    hubs.insert(path);
                } else {
                    found.push(path);
                }
                if found.len() + hubs.len() >= cap {
                    self.truncated.get_or_insert(Truncation::MaxPaths);
                    self.s.backward.keep_sorted(b, meet);
                    return found;
                }
            }
        }
        self.s.backward.keep_sorted(b, meet);
        found
    }

    /// Paths through hubs that no join finds: a hub end one hop from the other side's deepest
    /// level, and two hub ends on one hop.
    fn probe_paths(&mut self, found: &mut FxHashSet<Path>) {
        let k = self.query.max_hops as usize;
        let (f, b) = (self.s.forward.depth(), self.s.backward.depth());
        // Hub ends of each side against the other side's deepest level...
        for forward in [true, false] {
            let (mine, other) = if forward { (f, b) } else { (b, f) };
            for i in 0..=mine {
                if i + 1 + other > k {
                    break;
                }
                if !self.probe_levels(forward, i, other, false, found) {
                    return;
                }
            }
        }
        // ...and against the other side's shallower hub ends (the deepest level is done).
        for i in 0..f {
            for j in 0..b {
                if i + 1 + j <= k && !self.probe_levels(true, i, j, true, found) {
                    return;
                }
            }
        }
    }

    /// Probes the hub ends at level `i` of one side (`forward`: the sources') against the states
    /// at level `j` of the other side (with `hubs_only`, its hub ends only). Returns false when a
    /// limit stopped it.
    fn probe_levels(
        &mut self,
        forward: bool,
        i: usize,
        j: usize,
        hubs_only: bool,
        found: &mut FxHashSet<Path>,
    ) -> bool {
        let cap = self.build_cap();
        let mut hubs = std::mem::take(&mut self.s.hubs);
        let mut between = std::mem::take(&mut self.s.between);
        let mut meet = std::mem::take(&mut self.s.meet);
        hubs.clear();
        for si in self.side(forward).level(i) {
            if self.hub_end(forward, si, i) {
                hubs.push((self.side(forward).states[si].node, si as u32));
            }
        }
        let mut ok = true;
        if !hubs.is_empty() {
            hubs.sort_unstable();
            meet.clear();
            let sorted = self.side_mut(!forward).sorted_level(j);
            for &(node, oi) in &sorted {
                // The rows of the nodes kept here are searched below for edges to the hubs.
                self.adj.prefetch_edges(node);
                // The other side's end is the next node after the hub: past the roots it may not
                // be a target.
                let oi_ = oi as usize;
                let keep = if hubs_only {
                    self.hub_end(!forward, oi_, j)
                } else {
                    j == 0 || !self.is_target(!forward, oi_)
                };
                if keep {
                    meet.push((node, oi));
                }
            }
            self.side_mut(!forward).keep_sorted(j, sorted);
            let mut h = 0;
            'hubs: while h < hubs.len() {
                let hub = hubs[h].0;
                let hub_stop = hubs[h..].partition_point(|&(n, _)| n == hub) + h;
                let mut m = 0;
                while m < meet.len() {
                    let node = meet[m].0;
                    let node_stop = meet[m..].partition_point(|&(n, _)| n == node) + m;
                    if !self.spend() {
                        ok = false;
                        break 'hubs;
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
                        for &(_, hs) in &hubs[h..hub_stop] {
                            for &(_, os) in &meet[m..node_stop] {
                                self.probe_pair(forward, hs, os, &between, found);
                                if found.len() >= cap {
                                    self.truncated.get_or_insert(Truncation::MaxPaths);
                                    ok = false;
                                    break 'hubs;
                                }
                            }
                        }
                    }
                    m = node_stop;
                }
                h = hub_stop;
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
        // The other end may be a hub too (two hubs on one hop): the co-membership rule at it.
        let other_is_hub = self.is_hub(!forward, os as usize);
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
        let into_hub = hub.into_node(forward);
        let into_other = if other_is_hub {
            other.into_node(!forward)
        } else {
            None
        };
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
