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
    /// Another process holds the store's writer lock.
    #[error("the store at {} is open for writing in another process ({message}); open it read-only, or stop the other process", path.display())]
    Locked { path: PathBuf, message: String },
    /// A derived index was never built.
    #[error("the store at {} has no {index} yet; build it with `kale index {}`", store.display(), store.display())]
    MissingIndex { index: Index, store: PathBuf },
    /// A derived index reflects a commit older than the last bulk load, whose changes it lacks.
    #[error("the {index} of the store at {} is stale: it reflects commit {built} but a bulk load committed {loaded} (was a load interrupted?); rebuild it with `kale index {}`", store.display(), store.display())]
    StaleIndex {
        index: Index,
        store: PathBuf,
        built: u64,
        loaded: u64,
    },
    #[error("the store is corrupted: {0}")]
    Corruption(String),
    #[error("adjacency file {}: {reason}", path.display())]
    Adjacency { path: PathBuf, reason: String },
    /// Text that does not parse as the RDF term it should be.
    #[error("{text:?} is not {expected}: {reason}")]
    BadTerm {
        text: String,
        expected: &'static str,
        reason: String,
    },
    /// A term the store never held where one it holds is needed (a path's source, say).
    #[error("{what} {term} is not in the store")]
    UnknownTerm { what: &'static str, term: String },
    #[error("{0}")]
    InvalidInput(String),
}

/// The derived indexes of a store, which `kale index` builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// The CSR adjacency of path search.
    Adjacency,
    /// The label index of entity linking.
    Labels,
}

impl std::fmt::Display for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Adjacency => "adjacency",
            Self::Labels => "label index",
        })
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
