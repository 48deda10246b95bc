//! Validated identifiers. Each is a newtype over a string that has been checked once, so code
//! that holds one never has to check it again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal, $allowed:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it.
            pub fn new(value: impl Into<String>) -> Result<$name, CoreError> {
                let value = value.into();
                let allowed: fn(char) -> bool = $allowed;
                let why = if value.is_empty() {
                    Some("must not be empty")
                } else if value.len() > $max {
                    Some(concat!("longer than ", stringify!($max), " bytes"))
                } else if !value.chars().all(allowed) {
                    Some("contains a character that is not allowed")
                } else {
                    None
                };
                match why {
                    Some(why) => Err(CoreError::InvalidIdentifier { kind: $kind, value, why }),
                    None => Ok($name(value)),
                }
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(value: String) -> Result<$name, CoreError> {
                $name::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(value: &str) -> Result<$name, CoreError> {
                $name::new(value)
            }
        }
    };
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')
}

fn is_opaque_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

identifier!(
    /// A rule's stable id, such as `railway.volume-delete` or `fs.recursive-delete`. Rule ids
    /// appear in policies and the ledger and never change meaning once published.
    RuleId, "rule id", 96, is_slug_char
);
identifier!(
    /// The name of an agent, as written in its capability token (`claude-staging-fix`).
    AgentName, "agent name", 128, is_name_char
);
identifier!(
    /// The harness's session or conversation id, as the harness gave it.
    SessionId, "session id", 256, is_opaque_id_char
);
identifier!(
    /// The id of a hold waiting for approvals.
    HoldId, "hold id", 64, is_opaque_id_char
);
identifier!(
    /// The id of a snapshot in the isolated store.
    SnapshotId, "snapshot id", 128, is_opaque_id_char
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_lowercase_slugs() {
        assert!(RuleId::new("railway.volume-delete").is_ok());
        assert!(RuleId::new("Railway.VolumeDelete").is_err());
        assert!(RuleId::new("").is_err());
        assert!(RuleId::new("a b").is_err());
    }

    #[test]
    fn identifiers_refuse_bad_input_when_deserialized() {
        let parsed: Result<AgentName, _> = serde_json::from_str("\"agent; rm -rf /\"");
        assert!(parsed.is_err());
        let parsed: AgentName = serde_json::from_str("\"claude-code\"").unwrap();
        assert_eq!(parsed.as_str(), "claude-code");
    }

    #[test]
    fn overlong_identifiers_are_refused() {
        assert!(HoldId::new("h".repeat(65)).is_err());
        assert!(HoldId::new("h".repeat(64)).is_ok());
    }
}
