//! [`Operation`]: what an input would do, whatever its phrasing, and who asked for it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AgentName, Risk, SessionId, Target, redact_known_secrets};

/// The blastdoor layer that saw an input and made a decision about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Hook,
    Gateway,
    Sql,
    Approval,
    System,
}

impl Layer {
    /// The stable lowercase name used in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Hook => "hook",
            Layer::Gateway => "gateway",
            Layer::Sql => "sql",
            Layer::Approval => "approval",
            Layer::System => "system",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the operation was phrased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OperationKind {
    /// A shell command line.
    Shell,
    /// A file an agent's tool wants to read.
    FileRead,
    /// A file an agent's tool wants to write.
    FileWrite,
    /// An agent tool call that is not a shell command (MCP and the like).
    Tool,
    /// An HTTP request to an upstream API.
    Http,
    /// A GraphQL request to an upstream API.
    Graphql,
    /// A SQL statement.
    Sql,
    /// Something blastdoor itself did (init, checkpoint, freeze).
    Internal,
}

/// Who asked: the agent (from its capability token or harness) and its session.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Actor {
    pub agent: Option<AgentName>,
    pub session: Option<SessionId>,
}

/// What an input would do, independent of how it was phrased.
///
/// The `description` is redacted on construction with [`redact_known_secrets`]; layers should
/// still build it from typed parts that never held a credential in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    kind: OperationKind,
    description: String,
    risk: Risk,
    targets: Vec<Target>,
}

impl Operation {
    /// An operation of `kind`, described (then redacted) by `description`.
    pub fn new(kind: OperationKind, description: &str, risk: Risk, targets: Vec<Target>) -> Self {
        Operation {
            kind,
            description: redact_known_secrets(description),
            risk,
            targets,
        }
    }

    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    /// The redacted human description.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn risk(&self) -> Risk {
        self.risk
    }

    pub fn targets(&self) -> &[Target] {
        &self.targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_redacted_on_construction() {
        let operation = Operation::new(
            OperationKind::Shell,
            "curl -H 'Authorization: Bearer rw_live_0123456789abcdef' https://backboard.railway.com/graphql/v2",
            Risk::Unknown,
            vec![],
        );
        assert!(!operation.description().contains("rw_live_0123456789abcdef"));
        assert!(operation.description().contains("backboard.railway.com"));
    }
}
