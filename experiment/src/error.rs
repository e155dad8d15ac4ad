//! The experiment's errors: a setting that cannot run, missing data and what fetches it, and the
//! errors of the crates the pipeline calls.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{0}")]
    Config(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is missing: {hint}", path.display())]
    MissingData { path: PathBuf, hint: String },
    #[error(transparent)]
    Store(#[from] kg_store::StoreError),
    #[error(transparent)]
    Trainer(#[from] kale_trainer::TrainerError),
    #[error(transparent)]
    Dataset(#[from] kale_datasets::DatasetError),
    #[error(transparent)]
    Query(#[from] kale_queries::QueryError),
    #[error("drawing {}: {message}", path.display())]
    Chart { path: PathBuf, message: String },
}

impl ExperimentError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
