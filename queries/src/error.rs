//! The errors of SPARQL evaluation, each saying what to change.

use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query or update text does not parse; the message has the position.
    #[error("{0}")]
    Syntax(String),
    #[error(transparent)]
    Store(#[from] kg_store::StoreError),
    /// `SERVICE <urn:kale:paths>` asked for, but the adjacency cannot be opened (missing,
    /// stale: the cause says which and what to run).
    #[error("SERVICE <urn:kale:paths> needs the store's adjacency: {0}")]
    NoAdjacency(Arc<kg_store::StoreError>),
    #[error("{0}")]
    Evaluation(String),
    #[error("the query ran longer than its {0:?} budget; narrow it or raise --timeout")]
    Timeout(Duration),
    #[error("the query returns more than {0} results; add a LIMIT or raise --max-rows")]
    TooManyRows(usize),
    #[error("{0}")]
    InvalidInput(String),
    #[error("writing results: {0}")]
    Io(#[from] std::io::Error),
}

impl From<spareval::QueryEvaluationError> for QueryError {
    fn from(e: spareval::QueryEvaluationError) -> Self {
        // Our own errors travel through spareval boxed: unbox them to keep their kind.
        match e {
            spareval::QueryEvaluationError::Dataset(inner)
            | spareval::QueryEvaluationError::Service(inner) => {
                match inner.downcast::<QueryError>() {
                    Ok(ours) => *ours,
                    Err(other) => Self::Evaluation(other.to_string()),
                }
            }
            spareval::QueryEvaluationError::UnsupportedService(name) => {
                Self::InvalidInput(format!(
                    "SERVICE {name} is not answered here: the only service is <{}>",
                    crate::PATH_SERVICE
                ))
            }
            other => Self::Evaluation(other.to_string()),
        }
    }
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;
