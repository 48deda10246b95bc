//! The one error type of `blastdoor-core`: a value that failed validation.

/// A value that does not satisfy the rules of the type it was meant to become.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("invalid {kind} `{value}`: {why}")]
    InvalidIdentifier {
        kind: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(
        "unknown risk class `{0}` (expected read, write, destroy, execute, escalate or unknown)"
    )]
    UnknownRisk(String),
    #[error("a hold needs at least one approver")]
    ZeroApprovers,
}
