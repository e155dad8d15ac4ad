//! `kale bench train` and `kale bench generate`: the trainer's throughput, measured the way the
//! Python references under `benches/` measure PyTorch and transformers on the same shapes.

mod generate;
mod train;

pub use generate::{GenerateBench, GenerateBenchReport, GenerateRun};
pub use train::{BenchModel, ObjectiveThroughput, TrainBench, TrainBenchReport};

/// The middle value (the upper one of an even count); NaN for none.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
