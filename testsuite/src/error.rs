//! The suite runner's one error type: a manifest or file it cannot use.

/// What stops a suite from running (not a failing test: those are [`crate::Outcome`]s).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Suite(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
