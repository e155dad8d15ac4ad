//! The store's benchmarks as `kale bench` runs them (the README quotes their numbers): bulk
//! loading into a fresh store, and path queries between sampled pairs. Each returns a report
//! that serialises to the JSON `--json` prints and displays as the text it prints otherwise.

mod load;
mod paths;

pub use load::{LoadBench, LoadReport};
pub use paths::{PairSample, PathBench, PathReport};

/// The process's peak resident set (VmHWM), 0 where /proc is not there.
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
