#![doc = include_str!("../README.md")]

pub mod adjacency;
mod backend;
pub mod bench;
mod error;
pub mod export;
mod id;
mod keys;
pub mod label_index;
pub mod labels;
mod load;
pub mod memory;
mod meta;
pub mod paths;
pub mod progress;
mod reader;
pub mod resolve;
pub mod snapshot;
mod store;
mod term;
mod term_cache;
mod writer;

pub use adjacency::{Adjacency, BuildSummary};
pub use error::{Index, Result, StoreError};
pub use id::TermId;
pub use keys::EncodedQuad;
pub use load::{
    parse_size, BulkLoader, Compression, InputFormat, LanguageFilter, LoadInput, LoadSummary,
    SkippedLine, DEFAULT_MEMORY_LIMIT,
};
pub use reader::{graph_name_of, GraphFilter, QuadIter, StoreReader};
pub use store::{AccessMode, Store, StoreStats};
pub use writer::{ChangeSummary, Changes};
