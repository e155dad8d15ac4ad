//! How one test went.

/// A test's outcome against one system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The system's answer is wrong; why.
    Fail(String),
    /// The runner cannot run this test (a test type or file it does not handle); why.
    Unsupported(String),
}
