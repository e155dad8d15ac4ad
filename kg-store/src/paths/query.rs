//! What a path query asks and what it returns.

use crate::id::TermId;
use std::time::Duration;

/// A query for the paths between two sets of entities.
///
/// Semantics: every simple path (no entity twice) of 1 to `max_hops` edges from any source to any
/// target. A path ends at the first target it reaches: no target is an intermediate node.
/// Edges may be walked against their direction unless `both_directions` is off; such hops are
/// marked. Parallel edges (same nodes, different predicates) make different paths.
///
/// Hubs: entities with more than `max_degree` edges (both directions counted; sources and targets
/// too) are met, never walked: the search never lists their edges, and finds the hops at a hub by
/// looking the neighbour up in the hub's sorted edge list. So a path may pass through or end at
/// hubs when all the hubs on it lie on one hop: one hub anywhere on the path, or the two ends of
/// a single hop ("person -citizenship-> country -official language-> language" with country and
/// language both hubs). A path with two hubs apart, such as hub -> x -> hub, is not returned, nor
/// one that passes through a hub by two edges of the same predicate both pointing at the hub
/// (`x -type-> Class <-type- y`: they share a value, which around a hub joins everything).
///
/// ```
/// use kg_store::paths::PathQuery;
/// use kg_store::TermId;
///
/// let query = PathQuery::new(vec![TermId::entity(1)], vec![TermId::entity(7)]).max_hops(2);
/// assert_eq!(query.max_paths, 100);
/// ```
#[derive(Clone, Debug)]
pub struct PathQuery {
    pub sources: Vec<TermId>,
    pub targets: Vec<TermId>,
    /// Longest path, in edges (default 3).
    pub max_hops: u32,
    /// Most paths returned (default 100); shorter paths come first.
    pub max_paths: usize,
    /// Most partial paths the search may build (default 1,000,000).
    pub max_expansions: u64,
    /// Hub cap (default 1,000 edges; `None`: no cap): see the type's documentation.
    pub max_degree: Option<u64>,
    /// Only these predicates, when given.
    pub allow: Option<Vec<TermId>>,
    /// Never these predicates.
    pub deny: Vec<TermId>,
    /// Whether edges may be walked against their direction (default yes).
    pub both_directions: bool,
    /// Wall-clock budget.
    pub timeout: Option<Duration>,
    /// Pins how many hops the forward side grows (the rest grow backwards) instead of choosing
    /// by frontier size. For tests, so they can reach every way of splitting a path.
    #[doc(hidden)]
    pub forward_depth: Option<u32>,
}

/// Default hub cap: in a Wikidata-shaped graph, classes and countries have far more edges, and
/// walking through them connects everything to everything (paths still meet them, see
/// [`PathQuery`]).
pub const DEFAULT_MAX_DEGREE: u64 = 1_000;

impl PathQuery {
    pub fn new(sources: Vec<TermId>, targets: Vec<TermId>) -> Self {
        Self {
            sources,
            targets,
            max_hops: 3,
            max_paths: 100,
            max_expansions: 1_000_000,
            max_degree: Some(DEFAULT_MAX_DEGREE),
            allow: None,
            deny: Vec::new(),
            both_directions: true,
            timeout: None,
            forward_depth: None,
        }
    }

    pub fn max_hops(mut self, k: u32) -> Self {
        self.max_hops = k;
        self
    }

    pub fn max_paths(mut self, n: usize) -> Self {
        self.max_paths = n;
        self
    }

    pub fn max_degree(mut self, d: Option<u64>) -> Self {
        self.max_degree = d;
        self
    }

    pub fn forward_only(mut self) -> Self {
        self.both_directions = false;
        self
    }
}

/// One edge of a path: the stored triple, and whether the path walks it subject to object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hop {
    pub subject: TermId,
    pub predicate: TermId,
    pub object: TermId,
    /// `false`: walked from object to subject, against the edge.
    pub forward: bool,
}

impl Hop {
    /// The entity the path is at before this hop.
    pub fn from(&self) -> TermId {
        if self.forward {
            self.subject
        } else {
            self.object
        }
    }

    /// The entity the path is at after this hop.
    pub fn to(&self) -> TermId {
        if self.forward {
            self.object
        } else {
            self.subject
        }
    }
}

/// A path: its hops in walking order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    pub hops: Vec<Hop>,
}

impl Path {
    pub fn start(&self) -> TermId {
        self.hops[0].from()
    }

    pub fn end(&self) -> TermId {
        self.hops[self.hops.len() - 1].to()
    }

    /// The entities visited, in order.
    pub fn nodes(&self) -> Vec<TermId> {
        std::iter::once(self.start())
            .chain(self.hops.iter().map(Hop::to))
            .collect()
    }
}

/// Which limit cut a result short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Truncation {
    MaxPaths,
    Expansions,
    Timeout,
}

/// The answer to a [`PathQuery`].
#[derive(Clone, Debug, Default)]
pub struct PathResult {
    /// Shortest first; within a length, in the order of their hops' ids.
    pub paths: Vec<Path>,
    /// Set when a limit stopped the search: more paths may exist.
    pub truncated: Option<Truncation>,
    /// Partial paths built.
    pub expansions: u64,
}

impl PathResult {
    pub fn is_truncated(&self) -> bool {
        self.truncated.is_some()
    }
}
