//! The one error type of the crate: every failure names what the user needs to fix it (the file
//! and line of bad input, the store path, the corrupted file and why).

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("RocksDB: {0}")]
    Rocks(#[from] rocksdb::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Malformed input: `line` counts from 1.
    #[error("{}:{line}: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{}: cannot tell the RDF format from the file name (expected .nt, .nq, .ttl, .trig or .rdf, optionally with .gz, .zst or .bz2); name it with --format", path.display())]
    UnknownFormat { path: PathBuf },
    #[error("no store at {}", path.display())]
    NotFound { path: PathBuf },
    #[error("{} is not a kale store: {reason}", path.display())]
    NotAStore { path: PathBuf, reason: String },
    #[error("the store at {} is open read-only", path.display())]
    ReadOnly { path: PathBuf },
    #[error("the store is corrupted: {0}")]
    Corruption(String),
    #[error("adjacency file {}: {reason}", path.display())]
    Adjacency { path: PathBuf, reason: String },
    #[error("{0}")]
    InvalidInput(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
