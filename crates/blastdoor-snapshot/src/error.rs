//! [`SnapshotError`], the one error type of this crate. Messages never carry a secret: text
//! that came from a tool's stderr is scrubbed of the DSN's password and of anything
//! `redact_known_secrets` recognises before it is put here.

use std::path::PathBuf;

/// Everything that can go wrong taking, storing, verifying or restoring a snapshot. Any of
/// them taken before a destroy means the destroy must not run.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` failed ({status}): {stderr}")]
    ToolFailed {
        program: String,
        status: String,
        /// The tool's stderr, redacted.
        stderr: String,
    },
    #[error("the snapshot of `{resource}` is empty: the method wrote nothing")]
    Empty { resource: String },
    #[error("the secret `{name}` is not available: {why}")]
    Secret { name: String, why: String },
    #[error("the database URL in secret `{name}` is not usable: {why}")]
    BadDsn { name: String, why: String },
    #[error("the `{method}` method cannot be taken here: {why}")]
    UnsupportedMethod { method: &'static str, why: String },
    #[error("no snapshot `{id}` in the store")]
    NotFound { id: String },
    #[error("snapshot `{id}` failed verification: {why}")]
    Verification { id: String, why: String },
    #[error("invalid snapshot id `{id}`")]
    InvalidId { id: String },
    #[error("the snapshot signing key `{path}` is unusable: {why}")]
    Key { path: PathBuf, why: String },
    #[error(
        "the target database `{target}` is not empty ({tables} user tables); pass --force to restore over it"
    )]
    TargetNotEmpty { target: String, tables: u64 },
    #[error("snapshot `{id}` was taken with `{method}`, which cannot be restored into a database")]
    NotRestorable { id: String, method: String },
    #[error("object store: {0}")]
    ObjectStore(String),
    #[error("manifest: {0}")]
    Manifest(String),
}

impl SnapshotError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        SnapshotError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
