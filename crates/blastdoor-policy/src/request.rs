//! [`PolicyRequest`], what a layer asks the policy engine, and [`PolicyDecision`], the answer
//! with one [`EnvironmentDecision`] per environment the target touches.

use blastdoor_core::{AgentName, Environment, Layer, Risk, RuleId, Target, Verdict};
use serde::Serialize;

/// One operation on one target, as the policy engine sees it.
///
/// There is no `Default`: the caller states every field, in particular `frozen`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyRequest {
    /// The agent, from its capability token or harness; `None` when it could not be named
    /// (policies see the name `""`).
    pub agent: Option<AgentName>,
    pub risk: Risk,
    /// The target; each of its environments is decided separately, and an empty list is decided
    /// as [`Environment::Unknown`].
    pub target: Target,
    /// The task the agent declared, if any (policies see `""` when there is none).
    pub task: Option<String>,
    /// The time of the request in Unix seconds (the engine never reads the clock).
    pub now_unix: i64,
    /// The ids of the classifier rules that fired.
    pub rule_ids: Vec<RuleId>,
    /// Whether `blastdoor freeze` is in force.
    pub frozen: bool,
    /// The layer asking.
    pub layer: Layer,
}

/// The answer for a whole request: the strictest of the per-environment answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    /// The verdict that applies to the operation.
    pub verdict: Verdict,
    /// The ids of the policies that determined [`PolicyDecision::verdict`] (empty when no policy
    /// matched, or when the engine itself decided: default deny, evaluation error, freeze).
    pub determining: Vec<RuleId>,
    /// One answer per environment the target touches, in the target's order.
    pub environments: Vec<EnvironmentDecision>,
}

/// The answer for the target in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvironmentDecision {
    pub environment: Environment,
    pub verdict: Verdict,
    /// The ids of the policies that determined this verdict.
    pub determining: Vec<RuleId>,
}
