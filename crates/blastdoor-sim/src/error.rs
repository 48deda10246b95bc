//! The one error type of `blastdoor-sim`: why the simulated Railway refuses a GraphQL request.
//! Messages follow the GraphQL reference server's wording, as Railway's do.

/// A request the simulator refuses, with the message a GraphQL server would give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The document does not parse (`GRAPHQL_PARSE_FAILED`).
    #[error("{0}")]
    Syntax(String),
    /// The document parses but does not fit the schema (`GRAPHQL_VALIDATION_FAILED`).
    #[error("{0}")]
    Validation(String),
    /// Anything else wrong with the request (`BAD_USER_INPUT`).
    #[error("{0}")]
    BadRequest(String),
}

impl SimError {
    /// The `extensions.code` of the GraphQL error.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::Syntax(_) => "GRAPHQL_PARSE_FAILED",
            SimError::Validation(_) => "GRAPHQL_VALIDATION_FAILED",
            SimError::BadRequest(_) => "BAD_USER_INPUT",
        }
    }
}
