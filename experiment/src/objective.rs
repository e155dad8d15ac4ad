//! One objective's fine-tuning run, the same in both pipelines: train a copy of the starting
//! model, evaluate it on the held-out questions at the end, say the result's line.

use crate::config::ObjectiveSpec;
use crate::error::Result;
use crate::report::{objective_line, Measured, ObjectiveResult, Say};
use kale_trainer::data::{Example, Tokenized};
use kale_trainer::eval::EvalOptions;
use kale_trainer::train::{TeacherKind, TokenizedExamples, Trainer};
use kg_store::progress::Progress;
use std::path::PathBuf;
use std::time::Instant;

/// What an objective's run is and what it is measured on.
pub struct ObjectiveRun<'a> {
    pub spec: &'a ObjectiveSpec,
    pub teacher: TeacherKind,
    /// When the run started (loading its model counts).
    pub started: Instant,
    /// Where the trainer writes its model and metrics.
    pub out: PathBuf,
    pub test: &'a [Example],
    pub facts: &'a [Example],
    pub options: &'a EvalOptions,
}

impl ObjectiveRun<'_> {
    /// Trains on `train` and measures the model at the end of training.
    pub fn measure(
        &self,
        trainer: &mut Trainer<'_>,
        train: &[Tokenized],
        progress: &dyn Progress,
        say: Say<'_>,
    ) -> Result<ObjectiveResult> {
        let report = trainer
            .run(
                &mut TokenizedExamples(train.to_vec()),
                &self.out,
                progress,
                Some((self.test, Some(self.facts), self.options)),
            )?
            .final_eval
            .expect("a run given an evaluation set evaluates at its end");
        let result = ObjectiveResult {
            measured: Measured::from(&report),
            with_rationale: self.options.with_rationale,
            teacher: self.spec.objective.uses_teacher().then_some(self.teacher),
            seconds: self.started.elapsed().as_secs_f64(),
            metrics: self.out.join("metrics.jsonl"),
        };
        say(&objective_line(&self.spec.name(), &result));
        Ok(result)
    }
}
