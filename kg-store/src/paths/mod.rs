//! Path search between entity sets over the adjacency (CSR plus delta).

mod query;
mod render;
mod request;
mod search;

pub use query::{Hop, Path, PathQuery, PathResult, Truncation, DEFAULT_MAX_DEGREE};
pub use render::{result_json, write_result_text};
pub use request::PathFilter;
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
