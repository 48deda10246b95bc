//! [`Verdict`]: what blastdoor decided, with the typed [`Reason`]s that explain it.

use std::num::NonZeroU8;

use serde::{Deserialize, Serialize};

use crate::RuleId;

/// The decision itself. There is no boolean anywhere that means "allowed".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Decision {
    /// The operation may proceed.
    Allow,
    /// The operation waits for `approvals` distinct human approvers.
    Hold { approvals: NonZeroU8 },
    /// The operation is refused.
    Deny,
}

impl Decision {
    /// A hold for `approvals` approvers; zero is rounded up to one, since a hold nobody needs
    /// to approve would be an allow in disguise.
    pub fn hold(approvals: u8) -> Decision {
        Decision::Hold {
            approvals: NonZeroU8::new(approvals).unwrap_or(NonZeroU8::MIN),
        }
    }

    /// Severity for combining decisions: allow < hold(1) < hold(2) < ... < deny.
    fn severity(self) -> u16 {
        match self {
            Decision::Allow => 0,
            Decision::Hold { approvals } => u16::from(approvals.get()),
            Decision::Deny => u16::MAX,
        }
    }

    /// The stable lowercase name (`allow`, `hold`, `deny`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Hold { .. } => "hold",
            Decision::Deny => "deny",
        }
    }
}

/// Why a decision was made. Every verdict carries at least one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// The stable id of the rule or policy that fired.
    pub rule_id: RuleId,
    /// What was found and why it matters, for the human reading the ledger or the hold.
    pub explanation: String,
    /// The safer way to reach the same goal, when there is one.
    pub alternative: Option<String>,
    /// What the agent is told.
    pub agent_message: String,
}

impl Reason {
    pub fn new(
        rule_id: RuleId,
        explanation: impl Into<String>,
        alternative: Option<String>,
        agent_message: impl Into<String>,
    ) -> Reason {
        Reason {
            rule_id,
            explanation: explanation.into(),
            alternative,
            agent_message: agent_message.into(),
        }
    }
}

/// A decision and its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    #[serde(flatten)]
    pub decision: Decision,
    pub reasons: Vec<Reason>,
}

impl Verdict {
    pub fn allow(reasons: Vec<Reason>) -> Verdict {
        Verdict {
            decision: Decision::Allow,
            reasons,
        }
    }

    pub fn hold(approvals: u8, reasons: Vec<Reason>) -> Verdict {
        Verdict {
            decision: Decision::hold(approvals),
            reasons,
        }
    }

    pub fn deny(reasons: Vec<Reason>) -> Verdict {
        Verdict {
            decision: Decision::Deny,
            reasons,
        }
    }

    /// The stricter of two verdicts. Reasons of the stricter one come first; on a tie both
    /// sets of reasons are kept, since both rules fired.
    pub fn strictest(self, other: Verdict) -> Verdict {
        use std::cmp::Ordering;
        match self.decision.severity().cmp(&other.decision.severity()) {
            Ordering::Greater => self,
            Ordering::Less => other,
            Ordering::Equal => {
                let mut reasons = self.reasons;
                for reason in other.reasons {
                    if !reasons.contains(&reason) {
                        reasons.push(reason);
                    }
                }
                Verdict {
                    decision: self.decision,
                    reasons,
                }
            }
        }
    }

    /// The rule ids of every reason, in order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &RuleId> {
        self.reasons.iter().map(|reason| &reason.rule_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(id: &str) -> Reason {
        Reason::new(RuleId::new(id).unwrap(), "why", None, "to the agent")
    }

    #[test]
    fn deny_beats_hold_beats_allow() {
        let allow = Verdict::allow(vec![reason("a")]);
        let hold = Verdict::hold(1, vec![reason("h")]);
        let deny = Verdict::deny(vec![reason("d")]);
        assert_eq!(
            allow.clone().strictest(hold.clone()).decision,
            hold.decision
        );
        assert_eq!(
            hold.clone().strictest(deny.clone()).decision,
            Decision::Deny
        );
        assert_eq!(deny.strictest(allow).decision, Decision::Deny);
    }

    #[test]
    fn more_approvers_is_stricter() {
        let one = Verdict::hold(1, vec![reason("one")]);
        let two = Verdict::hold(2, vec![reason("two")]);
        let combined = one.strictest(two);
        assert_eq!(combined.decision, Decision::hold(2));
        assert_eq!(combined.reasons, vec![reason("two")]);
    }

    #[test]
    fn a_hold_of_zero_approvers_still_holds() {
        assert_eq!(Decision::hold(0), Decision::hold(1));
        assert_ne!(Decision::hold(0), Decision::Allow);
    }

    #[test]
    fn serialises_with_a_flat_decision_tag() {
        let json = serde_json::to_value(Verdict::hold(2, vec![])).unwrap();
        assert_eq!(json["decision"], "hold");
        assert_eq!(json["approvals"], 2);
    }
}
