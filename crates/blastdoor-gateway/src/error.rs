//! [`GatewayError`]: every way a request can fail before or while it is forwarded. The detail
//! in each message is for the log; [`crate::response`] decides what the agent is told.

use crate::framing::Violation;

/// The one error type of the gateway. Messages may hold detail that must not reach an agent
/// (upstream addresses, store paths); they never hold a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("upstream `{name}` is misconfigured: {why}")]
    InvalidUpstream { name: String, why: String },
    #[error("no upstream named `{0}`")]
    UnknownUpstream(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("method `{method}` is not accepted here (allowed: {allow})")]
    MethodNotAllowed {
        method: String,
        /// The value of the `Allow` header in the answer.
        allow: &'static str,
    },
    #[error("unsupported request body: {0}")]
    UnsupportedMediaType(String),
    #[error("a credential that is not a capability token was sent in the `{header}` header")]
    FoundCredential {
        /// The header's name; never its value.
        header: String,
    },
    #[error("ambiguous request framing: {}", .0.code())]
    Framing(Violation),
    #[error("request body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error("the client sent the request too slowly")]
    SlowClient,
    #[error("no capability token presented")]
    MissingToken,
    #[error("capability token refused: {0}")]
    TokenRefused(String),
    #[error("capability token revoked")]
    TokenRevoked,
    #[error("could not resolve the environments of the request: {0}")]
    ResolutionFailed(String),
    #[error("policy evaluation failed: {0}")]
    PolicyFailed(String),
    #[error("the audit ledger could not record the decision: {0}")]
    LedgerUnavailable(String),
    #[error("the credential for upstream `{upstream}` is unavailable: {why}")]
    CredentialUnavailable { upstream: String, why: String },
    #[error("the approval state is unavailable: {0}")]
    ApprovalsUnavailable(String),
    /// The agent already has `pending` holds waiting (the cap); no hold was created.
    #[error(
        "the agent already has {pending} holds waiting for a decision (at most {cap}): no hold was created"
    )]
    HoldQueueFull {
        pending: u64,
        cap: u32,
        /// Seconds until the agent's oldest pending hold expires, if no human decides first.
        retry_after_secs: Option<u64>,
    },
    #[error("the snapshot before the destroy failed: {0}")]
    SnapshotFailed(String),
    #[error("the upstream could not be reached: {0}")]
    UpstreamUnreachable(String),
    #[error("internal error: {0}")]
    Internal(String),
}
