//! The lines of a run's `metrics.jsonl`: one per optimizer step, and one per evaluation. The
//! trainer writes them and the charts read them, through these types.

use crate::error::{Result, TrainerError};
use crate::eval::EvalReport;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What one optimizer step did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub step: usize,
    pub epoch: u64,
    pub loss: f64,
    pub lr: f64,
    pub grad_norm: f64,
    /// Tokens read by the student in the step.
    pub tokens: usize,
    pub tokens_per_sec: f64,
    /// Answer tokens trained with KA and with SFT.
    pub ka_tokens: usize,
    pub sft_tokens: usize,
    /// Examples of a KA objective that had no rationale (trained with SFT).
    pub sft_fallbacks: u64,
    /// Seconds since the run started.
    pub elapsed: f64,
}

/// An evaluation during or at the end of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalMetrics {
    /// Under the evaluation's chosen score.
    pub accuracy: f64,
    pub acc: f64,
    pub acc_norm: f64,
    pub known_incorrect: Option<f64>,
    /// Accuracy on the fact checks.
    pub facts: Option<f64>,
    pub choice_mass: f64,
    pub items: usize,
}

impl From<&EvalReport> for EvalMetrics {
    fn from(r: &EvalReport) -> Self {
        Self {
            accuracy: r.accuracy.accuracy,
            acc: r.acc.accuracy,
            acc_norm: r.acc_norm.accuracy,
            known_incorrect: r.known_incorrect,
            facts: r.facts.as_ref().map(|f| f.accuracy),
            choice_mass: r.choice_mass,
            items: r.accuracy.items,
        }
    }
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetricsRecord {
    Eval { step: usize, eval: EvalMetrics },
    Step(StepMetrics),
}

/// Every record of a metrics log, in order; errors name the file and line.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRecord>> {
    let text = std::fs::read_to_string(path).map_err(TrainerError::io(path))?;
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        records.push(serde_json::from_str(line).map_err(|e| {
            TrainerError::InvalidInput(format!(
                "{}:{}: not a metrics record: {e}",
                path.display(),
                n + 1
            ))
        })?);
    }
    Ok(records)
}
