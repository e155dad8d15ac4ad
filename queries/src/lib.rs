#![doc = include_str!("../README.md")]

pub mod bench;
mod counts;
mod dataset;
mod engine;
mod error;
mod path_service;
mod results;
mod server;
#[cfg(feature = "sophia")]
pub mod sophia;
mod update;

pub use dataset::{InternalTerm, StoreDataset};
pub use engine::{QueryOptions, SparqlEngine, MAX_NESTING};
pub use error::{QueryError, Result};
pub use path_service::{PathService, SharedAdjacency, PATH_SERVICE};
pub use results::{write_results, OutputFormat, ResultKind, SolutionsFormat};
pub use server::{serve, ServerOptions};
pub use update::{execute_update, LoadPolicy, UpdateSummary};
