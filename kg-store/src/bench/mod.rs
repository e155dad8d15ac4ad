//! The store's benchmarks as `kale bench` runs them (the README quotes their numbers): bulk
//! loading into a fresh store, and path queries between sampled pairs. Each returns a report
//! that serialises to the JSON `--json` prints and displays as the text it prints otherwise.

mod load;
mod paths;

pub use load::{LoadBench, LoadReport};
pub use paths::{PairSample, PathBench, PathReport};
