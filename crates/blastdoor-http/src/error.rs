//! The one error type of `blastdoor-http`: why a request or a response could not be understood.

/// Why classification or parsing failed. Classification entry points report these as a
/// malformed request, which the gateway refuses (400); they never forward them as safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("request body is {size} bytes, more than the {limit} bytes classified")]
    TooLarge { size: usize, limit: usize },
    #[error("request has no `query`")]
    MissingQuery,
    #[error("request is not a GraphQL request object: {0}")]
    NotARequest(String),
    #[error("batch is empty")]
    EmptyBatch,
    #[error("batch has {count} operations, more than the {limit} classified")]
    BatchTooLarge { count: usize, limit: usize },
    #[error("GraphQL document does not parse: {0}")]
    InvalidDocument(String),
    #[error("document has no operation")]
    NoOperation,
    #[error("document has several operations and the request names none")]
    AmbiguousOperation,
    #[error("no operation named `{0}` in the document")]
    OperationNotFound(String),
    #[error("fragment `{0}` is not defined")]
    UnknownFragment(String),
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
    #[error("document expands to more than {0} selections")]
    TooManySelections(usize),
    #[error("`{field}` has more than {limit} ids; ids past the limit are not checked")]
    TooManyIds { field: String, limit: usize },
    #[error("value nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("variables are not a JSON object")]
    InvalidVariables,
    #[error("query string is not valid: {0}")]
    InvalidQueryString(String),
    #[error("a POST carries GraphQL parameters in its query string too (`{0}`)")]
    ParametersInBothPlaces(String),
    #[error("method `{0}` does not carry a GraphQL request")]
    UnsupportedMethod(String),
    #[error("the embedded Railway schema is not usable: {0}")]
    Schema(String),
    #[error("request body is not UTF-8 JSON: {0}")]
    NotUtf8Json(String),
    #[error("a GET request can only run a query, not a {0}")]
    NotAQueryOverGet(&'static str),
    #[error("topology response is not usable: {0}")]
    InvalidTopology(String),
}
