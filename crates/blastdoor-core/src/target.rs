//! [`Target`]: the resource an operation acts on, and the [`Environment`]s it lives in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The name of an environment as configured (`production`, `staging`, `pr-42`): a lowercase slug.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnvironmentName(String);

impl EnvironmentName {
    /// The name policies treat as production.
    pub const PRODUCTION: &'static str = "production";

    /// Checks `name` (lowercase ASCII letters, digits, `-`, `_`, 1 to 64 bytes) and wraps it.
    pub fn new(name: impl Into<String>) -> Result<EnvironmentName, CoreError> {
        let name = name.into();
        let why = if name.is_empty() {
            Some("must not be empty")
        } else if name.len() > 64 {
            Some("longer than 64 bytes")
        } else if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            Some("use lowercase letters, digits, `-` and `_`")
        } else if name == "unknown" {
            Some("`unknown` is reserved for environments that could not be resolved")
        } else {
            None
        };
        match why {
            Some(why) => Err(CoreError::InvalidIdentifier {
                kind: "environment name",
                value: name,
                why,
            }),
            None => Ok(EnvironmentName(name)),
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EnvironmentName {
    type Error = CoreError;
    fn try_from(name: String) -> Result<EnvironmentName, CoreError> {
        EnvironmentName::new(name)
    }
}

impl From<EnvironmentName> for String {
    fn from(name: EnvironmentName) -> String {
        name.0
    }
}

/// Where a target lives. An environment that could not be resolved is `Unknown`, and policy
/// must never treat `Unknown` as safe (it could be production).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Environment {
    Named(EnvironmentName),
    Unknown,
}

impl Environment {
    /// Parses a configured name; `unknown` gives [`Environment::Unknown`].
    pub fn parse(name: &str) -> Result<Environment, CoreError> {
        if name == "unknown" {
            return Ok(Environment::Unknown);
        }
        EnvironmentName::new(name).map(Environment::Named)
    }

    /// The `production` environment.
    pub fn production() -> Environment {
        Environment::Named(EnvironmentName(EnvironmentName::PRODUCTION.to_owned()))
    }

    /// True for `production` only; callers that must be conservative should also check
    /// [`Environment::is_unknown`] (or use [`Environment::may_be_production`]).
    pub fn is_production(&self) -> bool {
        matches!(self, Environment::Named(name) if name.as_str() == EnvironmentName::PRODUCTION)
    }

    /// True when the environment could not be resolved.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Environment::Unknown)
    }

    /// True for production and for anything unresolved: the fail-closed reading.
    pub fn may_be_production(&self) -> bool {
        self.is_production() || self.is_unknown()
    }

    /// The name as text (`unknown` for an unresolved environment).
    pub fn as_str(&self) -> &str {
        match self {
            Environment::Named(name) => name.as_str(),
            Environment::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Environment {
    type Error = CoreError;
    fn try_from(name: String) -> Result<Environment, CoreError> {
        Environment::parse(&name)
    }
}

impl From<Environment> for String {
    fn from(environment: Environment) -> String {
        environment.as_str().to_owned()
    }
}

/// The resource an operation acts on: a volume, a service, a database table, a file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// What sort of resource (`volume`, `service`, `database`, `file`, `branch`, ...).
    pub kind: String,
    /// The resource's id or path as the upstream names it.
    pub id: String,
    /// The upstream the resource belongs to (`railway`), if any.
    pub upstream: Option<String>,
    /// Every environment the operation touches through this target. Empty means none was
    /// resolved, which readers must treat like [`Environment::Unknown`].
    pub environments: Vec<Environment>,
}

impl Target {
    /// A target in the given environments.
    pub fn new(
        kind: impl Into<String>,
        id: impl Into<String>,
        environments: Vec<Environment>,
    ) -> Target {
        Target {
            kind: kind.into(),
            id: id.into(),
            upstream: None,
            environments,
        }
    }

    /// The same target, belonging to `upstream`.
    pub fn on_upstream(mut self, upstream: impl Into<String>) -> Target {
        self.upstream = Some(upstream.into());
        self
    }

    /// True when any environment this target touches is, or may be, production: an empty
    /// list counts as unknown.
    pub fn may_touch_production(&self) -> bool {
        self.environments.is_empty() || self.environments.iter().any(Environment::may_be_production)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_environment_may_be_production() {
        assert!(Environment::Unknown.may_be_production());
        assert!(Environment::production().may_be_production());
        assert!(!Environment::parse("staging").unwrap().may_be_production());
    }

    #[test]
    fn a_target_with_no_resolved_environment_may_touch_production() {
        let target = Target::new("volume", "vol-1", vec![]);
        assert!(target.may_touch_production());
        let staging = Target::new(
            "volume",
            "vol-1",
            vec![Environment::parse("staging").unwrap()],
        );
        assert!(!staging.may_touch_production());
        let both = Target::new(
            "volume",
            "vol-1",
            vec![
                Environment::parse("staging").unwrap(),
                Environment::production(),
            ],
        );
        assert!(both.may_touch_production());
    }

    #[test]
    fn environment_names_are_validated() {
        assert!(Environment::parse("Production").is_err());
        assert!(Environment::parse("").is_err());
        assert_eq!(Environment::parse("unknown"), Ok(Environment::Unknown));
        let json = serde_json::to_string(&Environment::production()).unwrap();
        assert_eq!(json, "\"production\"");
    }
}
