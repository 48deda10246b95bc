//! [`BrokerError`]: the one error type of `blastdoor-broker`. Messages name the file or the part
//! of the token that is wrong and never carry a secret value.

use std::path::PathBuf;

/// Everything that can go wrong in the secret store, the token machinery or the scanner.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "key file `{path}` is readable by other users (mode {mode:o}); run `chmod 600 {path}` and rotate the key if anyone else may have read it"
    )]
    KeyFilePermissions { path: PathBuf, mode: u32 },
    #[error(
        "keys directory `{path}` is open to other users (mode {mode:o}); run `chmod 700 {path}`"
    )]
    KeyDirPermissions { path: PathBuf, mode: u32 },
    #[error("key file `{path}` is malformed: {why}")]
    MalformedKey { path: PathBuf, why: String },
    #[error("key file `{path}` does not exist; run `blastdoor init` (or `{hint}`) to create it")]
    MissingKey { path: PathBuf, hint: &'static str },
    #[error("secret store `{path}` is corrupt: {why}")]
    CorruptStore { path: PathBuf, why: String },
    #[error(
        "cannot decrypt secret store `{path}` with key `{key_path}`: wrong key, or the store was altered"
    )]
    WrongKey { path: PathBuf, key_path: PathBuf },
    #[error(
        "cannot decrypt secret `{name}` in `{path}`: the entry was altered or moved from another name"
    )]
    Decrypt { path: PathBuf, name: String },
    #[error("no secret named `{0}`")]
    NoSuchSecret(String),
    #[error("invalid secret name `{0}`: use 1 to 128 letters, digits, `-`, `_` or `.`")]
    InvalidSecretName(String),
    #[error("refusing to store an empty secret `{0}`")]
    EmptySecret(String),
    #[error("cannot encrypt secret `{0}`")]
    Encrypt(String),
    #[error("token registry `{path}` is corrupt: {why}")]
    CorruptRegistry { path: PathBuf, why: String },
    #[error("no token with id `{0}` in the registry")]
    NoSuchToken(String),
    #[error("invalid scope: {0}")]
    InvalidScope(String),
    #[error("malformed token: {0}")]
    MalformedToken(String),
    #[error("token was not signed by this blastdoor's root key, or was altered: {0}")]
    BadSignature(String),
    #[error("token `{0}` has been revoked")]
    Revoked(String),
    #[error("token `{token_id}` expired at {expired_at} (unix seconds)")]
    Expired { token_id: String, expired_at: u64 },
    #[error("token `{token_id}` does not allow {what}")]
    OutOfScope { token_id: String, what: String },
    #[error("cannot attenuate: {0}")]
    Attenuate(String),
    #[error("cannot mint token: {0}")]
    Mint(String),
    #[error("cannot scan `{path}`: {why}")]
    Scan { path: PathBuf, why: String },
}

impl BrokerError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        BrokerError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
