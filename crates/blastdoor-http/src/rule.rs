//! [`Rule`]: the published description of a built-in REST or Kubernetes rule, kept as data
//! beside the code that applies it ([`crate::rest::RULES`], [`crate::kubernetes::RULES`]), so
//! that docs, approvers and tests read the same text the classifier cites.

use blastdoor_core::{Risk, RuleId};

/// One built-in rule: its stable id, the risk it gives, and what a human needs to judge it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id used in policies, the ledger and messages (`kubernetes.scale-to-zero`).
    pub id: &'static str,
    /// The risk a request gets when this rule is the one that decides.
    pub risk: Risk,
    /// What the rule flags and why that is risky, in one sentence.
    pub summary: &'static str,
    /// A request the rule flags.
    pub example: &'static str,
    /// The safer way to reach the same goal.
    pub alternative: &'static str,
}

impl Rule {
    /// The rule's id as a [`RuleId`].
    pub fn rule_id(&self) -> RuleId {
        crate::rule_id(self.id)
    }
}
