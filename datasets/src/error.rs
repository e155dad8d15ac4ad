//! The one error type of the crate: a bad record names its file and line, a missing file says
//! what installs or fetches it, and the store's errors pass through.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// A bad record: `line` counts from 1.
    #[error("{}:{line}: {message}", file.display())]
    Record {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// A file whose content is unusable as a whole (no one line to blame).
    #[error("{}: {message}", file.display())]
    Format { file: PathBuf, message: String },
    /// A file that cannot be read or written; `hint` says what provides it.
    #[error("{}: {source}{}", file.display(), hint.map_or(String::new(), |h| format!(" ({h})")))]
    Io {
        file: PathBuf,
        #[source]
        source: io::Error,
        hint: Option<&'static str>,
    },
    #[error("{}: cannot tell the dataset format (use --format csqa|hf|mmlu|race|plain)", file.display())]
    UnknownFormat { file: PathBuf },
    /// A setting no data can satisfy (an unknown template, say).
    #[error("{0}")]
    Config(String),
    /// An IRI or blank node label that does not parse.
    #[error("{term:?} is not an RDF term: {source}")]
    Term {
        term: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The linker's label automaton could not be built.
    #[error("building the label FST: {0}")]
    Fst(#[from] fst::Error),
    /// A rationale writer that failed (a server unreachable or answering garbage, a model that
    /// would not load).
    #[error("rationale writer {writer}: {message}")]
    Writer { writer: String, message: String },
    #[error(transparent)]
    Store(#[from] kg_store::StoreError),
}

impl DatasetError {
    /// An I/O error on `file`, with what provides the file.
    pub(crate) fn io(file: &Path, hint: Option<&'static str>) -> impl FnOnce(io::Error) -> Self {
        let file = file.to_owned();
        move |source| Self::Io { file, source, hint }
    }
}

pub type Result<T, E = DatasetError> = std::result::Result<T, E>;
