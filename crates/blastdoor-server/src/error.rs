//! [`ServerError`]: why the server could not start or keep running.

use std::path::PathBuf;

/// The one error type of `blastdoor-server`.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot load the capability-token keys from `{path}`: {why}")]
    TokenKeys { path: PathBuf, why: String },
    #[error("cannot load the token registry `{path}`: {why}")]
    TokenRegistry { path: PathBuf, why: String },
    #[error("cannot open the secret store `{path}`: {why}")]
    SecretStore { path: PathBuf, why: String },
    #[error("cannot load the policies from `{path}`: {why}")]
    Policies { path: PathBuf, why: String },
    #[error("cannot open the audit ledger `{path}`: {why}")]
    Ledger { path: PathBuf, why: String },
    #[error("cannot open the approval state `{path}`: {why}")]
    State { path: PathBuf, why: String },
    #[error("cannot start the approval UI: {0}")]
    Ui(String),
    #[error(transparent)]
    Gateway(#[from] blastdoor_gateway::GatewayError),
    #[error("listener failed: {0}")]
    Io(#[from] std::io::Error),
}
