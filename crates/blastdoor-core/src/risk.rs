//! [`Risk`]: the class of harm an operation can do, ordered from harmless to worst.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// What an operation could do if it ran.
///
/// The order of the variants is the order of severity used by [`Risk::max`]: combining the
/// parts of an operation (several GraphQL root fields, a pipeline) keeps the worst.
/// `Unknown` is the worst of all because nothing about it is known: it is never treated as safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Risk {
    /// Observes state without changing it.
    Read,
    /// Changes state in a way that can be undone.
    Write,
    /// Reveals secrets: decrypted variables, credentials, tokens, connection strings. A read,
    /// but one a capability token must name explicitly (`read-secrets`): `read` never implies
    /// it, because a secret read is how a staging task reaches production.
    ReadSecrets,
    /// Runs arbitrary code on a remote system.
    Execute,
    /// Widens privileges, mints credentials or turns a protection off.
    Escalate,
    /// Irreversible loss of data or infrastructure.
    Destroy,
    /// Could not be classified.
    Unknown,
}

impl Risk {
    /// Every risk class, in order of severity.
    pub const ALL: [Risk; 7] = [
        Risk::Read,
        Risk::Write,
        Risk::ReadSecrets,
        Risk::Execute,
        Risk::Escalate,
        Risk::Destroy,
        Risk::Unknown,
    ];

    /// The stable lowercase name used in config, policy and the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Write => "write",
            Risk::ReadSecrets => "read-secrets",
            Risk::Execute => "execute",
            Risk::Escalate => "escalate",
            Risk::Destroy => "destroy",
            Risk::Unknown => "unknown",
        }
    }

    /// True only for [`Risk::Read`]: the one class that a freeze lets through (a secret read
    /// is not: it is held like a write).
    pub fn is_read(self) -> bool {
        matches!(self, Risk::Read)
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Risk {
    type Err = CoreError;

    fn from_str(text: &str) -> Result<Risk, CoreError> {
        Risk::ALL
            .into_iter()
            .find(|risk| risk.as_str() == text)
            .ok_or_else(|| CoreError::UnknownRisk(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_worse_than_destroy_and_destroy_worse_than_write() {
        assert!(Risk::Unknown > Risk::Destroy);
        assert!(Risk::Destroy > Risk::Write);
        assert!(Risk::ReadSecrets > Risk::Write);
        assert!(!Risk::ReadSecrets.is_read());
        assert_eq!(Risk::Read.max(Risk::Unknown), Risk::Unknown);
    }

    #[test]
    fn names_round_trip() {
        for risk in Risk::ALL {
            assert_eq!(risk.as_str().parse::<Risk>(), Ok(risk));
        }
        assert!("DESTROY".parse::<Risk>().is_err());
        assert_eq!("read-secrets".parse::<Risk>(), Ok(Risk::ReadSecrets));
        assert_eq!(
            serde_json::to_string(&Risk::ReadSecrets).unwrap(),
            "\"read-secrets\""
        );
    }
}
