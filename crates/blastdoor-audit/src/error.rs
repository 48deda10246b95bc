//! [`AuditError`]: the one error type of `blastdoor-audit`. Every variant means "the ledger did
//! not do what was asked"; a caller appending on a decision path must treat any of them as
//! "do not proceed".

use std::path::PathBuf;

/// What went wrong with the ledger. Messages never contain entry contents (which could hold
/// text an agent chose), only positions, paths and causes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    #[error("no ledger at `{}` (run `blastdoor init` first)", path.display())]
    Missing { path: PathBuf },
    #[error("cannot open the ledger at `{}`: {detail}", path.display())]
    Open { path: PathBuf, detail: String },
    #[error("`{}` is not a blastdoor ledger or is corrupt: {detail}", path.display())]
    NotALedger { path: PathBuf, detail: String },
    #[error("ledger storage error: {0}")]
    Storage(String),
    #[error("cannot encode a ledger entry: {0}")]
    Encode(String),
    #[error("the ledger is full (sequence numbers exhausted)")]
    Full,
    #[error("entry {seq}: {problem}")]
    BadEntry { seq: u64, problem: String },
    #[error("the ledger has {actual} entries but its tree state records {expected}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("the ledger's tree root does not match its entries: {0}")]
    RootMismatch(String),
    #[error("checkpoint for tree size {size}: {problem}")]
    BadCheckpoint { size: u64, problem: String },
    #[error(
        "this ledger is log `{origin}` but the key is for log `{key_name}`: the ledger was replaced or recreated"
    )]
    OriginMismatch { origin: String, key_name: String },
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    #[error("malformed key: {0}")]
    MalformedKey(String),
    #[error("key file `{}`: {detail}", path.display())]
    KeyFile { path: PathBuf, detail: String },
    #[error("refusing to overwrite the existing key `{}`", path.display())]
    KeyExists { path: PathBuf },
    #[error("no entry {seq} (the ledger has {size} entries)")]
    NoSuchEntry { seq: u64, size: u64 },
    #[error("inclusion proof does not verify: {0}")]
    BadProof(String),
    #[error("the ledger's committer stopped after an earlier failure")]
    Poisoned,
}

impl AuditError {
    pub(crate) fn storage(error: impl std::fmt::Display) -> AuditError {
        AuditError::Storage(error.to_string())
    }
}
