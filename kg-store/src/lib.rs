#![doc = include_str!("../README.md")]

pub mod adjacency;
mod error;
pub mod export;
mod id;
mod keys;
pub mod label_index;
pub mod labels;
mod load;
mod meta;
pub mod paths;
pub mod progress;
mod store;
mod term;

pub use adjacency::{Adjacency, BuildSummary};
pub use error::{Result, StoreError};
pub use id::TermId;
pub use keys::EncodedQuad;
pub use load::{
    BulkLoader, Compression, InputFormat, LoadInput, LoadSummary, SkippedLine, DEFAULT_MEMORY_LIMIT,
};
pub use store::{
    graph_name_of, AccessMode, ChangeSummary, Changes, GraphFilter, QuadIter, Store, StoreReader,
    StoreStats,
};
