//! The trainer's errors: each names the file, the tensor or the setting at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },
    /// A model configuration this trainer cannot build (read from no file, or before its path
    /// is known).
    #[error("model configuration: {0}")]
    UnsupportedModel(String),
    #[error("{}: tensor `{name}`: {message}", path.display())]
    Tensor {
        path: PathBuf,
        name: String,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Checkpoint { path: PathBuf, message: String },
    #[error("tokenizer {}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Dataset(#[from] kale_datasets::DatasetError),
    #[error(transparent)]
    Store(#[from] kg_store::StoreError),
}

impl TrainerError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

pub type Result<T, E = TrainerError> = std::result::Result<T, E>;
