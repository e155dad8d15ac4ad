//! How long-running work reports progress: the libraries report, the `kale` binary draws (with
//! indicatif). The crates above (synthesis, training) report through the same trait.

/// What a progress total counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    /// Items, named in the plural ("triples", "pairs", "steps").
    Items(&'static str),
}

/// A receiver of progress reports. Every method has a do-nothing default.
pub trait Progress: Sync {
    /// A new phase starts; `total` in `unit`s when known.
    fn begin(&self, _phase: &str, _total: Option<u64>, _unit: Unit) {}
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// `done` units are done in all.
    fn set_position(&self, _done: u64) {}
    /// A short status shown beside the bar ("12.3M triples, 410k/s").
    fn note(&self, _text: &str) {}
    /// The phase is over.
    fn end(&self) {}
}

/// Reports nowhere.
pub struct NoProgress;

impl Progress for NoProgress {}

/// A human-friendly count: 12345678 -> "12.3M".
pub fn human_count(n: f64) -> String {
    if n >= 1e9 {
        format!("{:.2}G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2}M", n / 1e6)
    } else if n >= 1e4 {
        format!("{:.1}k", n / 1e3)
    } else {
        format!("{n:.0}")
    }
}
