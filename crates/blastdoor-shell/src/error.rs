//! The one error type of `blastdoor-shell`: why a command could not be analysed. Errors never
//! leave the crate as such: the analysis turns each into an unknown (held) operation.

/// Why a command (or a script or payload inside it) could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    #[error("the command could not be parsed as bash: {0}")]
    Parse(String),
    #[error("the command is longer than {limit} bytes")]
    TooLong { limit: usize },
    #[error("commands nest deeper than {limit} levels")]
    TooDeep { limit: usize },
}
