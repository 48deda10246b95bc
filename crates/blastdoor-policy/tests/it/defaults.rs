//! The default policy set, one line per case: risk × environment × freeze → decision.

use blastdoor_core::{Decision, Risk};
use blastdoor_policy::PolicyEngine;

use crate::request;

/// What a case expects: `allow`, `deny`, or `hold N`.
#[track_caller]
fn check(engine: &PolicyEngine, risk: Risk, environments: &[&str], frozen: bool, expected: &str) {
    let decision = engine.decide(&request(risk, environments, frozen));
    let actual = match decision.verdict.decision {
        Decision::Allow => "allow".to_owned(),
        Decision::Deny => "deny".to_owned(),
        Decision::Hold { approvals } => format!("hold {approvals}"),
    };
    assert_eq!(
        actual, expected,
        "{risk} in {environments:?} (frozen: {frozen}); reasons: {:?}",
        decision.verdict.reasons
    );
    assert!(
        !decision.verdict.reasons.is_empty(),
        "every verdict carries a reason"
    );
}

#[test]
fn default_set_table() {
    let engine = PolicyEngine::default_policies().unwrap();
    let e = &engine;
    use Risk::*;
    //       risk      environments                 frozen  expected
    check(e, Read, &["production"], false, "allow");
    check(e, Read, &["staging"], false, "allow");
    check(e, Read, &["unknown"], false, "allow");
    check(e, Read, &["production"], true, "allow");
    check(e, Read, &["unknown"], true, "allow");
    check(e, ReadSecrets, &["staging"], false, "allow");
    check(e, ReadSecrets, &["pr-42"], false, "allow");
    check(e, ReadSecrets, &["production"], false, "hold 1");
    check(e, ReadSecrets, &["unknown"], false, "hold 1");
    check(e, ReadSecrets, &["staging", "production"], false, "hold 1");
    check(e, ReadSecrets, &["staging"], true, "hold 1");
    check(e, Write, &["staging"], false, "allow");
    check(e, Write, &["pr-42"], false, "allow");
    check(e, Write, &["production"], false, "hold 1");
    check(e, Write, &["unknown"], false, "hold 1");
    check(e, Write, &["staging"], true, "hold 1");
    check(e, Write, &["production"], true, "hold 1");
    check(e, Destroy, &["production"], false, "hold 2");
    check(e, Destroy, &["unknown"], false, "hold 2");
    check(e, Destroy, &["staging"], false, "hold 1");
    check(e, Destroy, &["production"], true, "hold 2");
    check(e, Destroy, &["staging"], true, "hold 1");
    check(e, Execute, &["production"], false, "hold 1");
    check(e, Execute, &["unknown"], false, "hold 1");
    check(e, Execute, &["staging"], false, "hold 1");
    check(e, Execute, &["staging"], true, "hold 1");
    check(e, Escalate, &["production"], false, "hold 2");
    check(e, Escalate, &["unknown"], false, "hold 2");
    check(e, Escalate, &["staging"], false, "hold 1");
    check(e, Escalate, &["production"], true, "hold 2");
    check(e, Unknown, &["production"], false, "hold 2");
    check(e, Unknown, &["unknown"], false, "hold 2");
    check(e, Unknown, &["staging"], false, "hold 1");
    check(e, Unknown, &["staging"], true, "hold 1");
    // A target whose environments were not resolved at all is decided as unknown.
    check(e, Write, &[], false, "hold 1");
    check(e, Destroy, &[], false, "hold 2");
    // Several environments: the strictest answer wins, so the production answer.
    check(e, Destroy, &["staging", "production"], false, "hold 2");
    check(e, Write, &["staging", "production"], false, "hold 1");
    check(e, Write, &["staging", "pr-42"], false, "allow");
    check(e, Write, &["staging", "unknown"], false, "hold 1");
}

#[test]
fn unknown_environment_is_never_looser_than_production() {
    let engine = PolicyEngine::default_policies().unwrap();
    for risk in Risk::ALL {
        for frozen in [false, true] {
            let unknown = engine
                .decide(&request(risk, &["unknown"], frozen))
                .verdict
                .decision;
            let production = engine
                .decide(&request(risk, &["production"], frozen))
                .verdict
                .decision;
            assert_eq!(unknown, production, "{risk}, frozen: {frozen}");
        }
    }
}

#[test]
fn the_incident_is_held_for_two_approvers_with_the_determining_policy() {
    let engine = PolicyEngine::default_policies().unwrap();
    let decision = engine.decide(&request(Risk::Destroy, &["staging", "production"], false));
    assert_eq!(decision.verdict.decision, Decision::hold(2));
    let determining: Vec<&str> = decision.determining.iter().map(|id| id.as_str()).collect();
    assert_eq!(determining, ["default.destroy-production"]);
    let reason = &decision.verdict.reasons[0];
    assert_eq!(reason.rule_id.as_str(), "default.destroy-production");
    assert!(reason.explanation.contains("two human approvals"));
    assert!(reason.alternative.as_deref().unwrap().contains("snapshot"));
    assert!(
        reason
            .agent_message
            .contains("do not look for other credentials")
    );
    // One answer per environment, in the target's order.
    let per_environment: Vec<(&str, Decision)> = decision
        .environments
        .iter()
        .map(|answer| (answer.environment.as_str(), answer.verdict.decision))
        .collect();
    assert_eq!(
        per_environment,
        [
            ("staging", Decision::hold(1)),
            ("production", Decision::hold(2))
        ]
    );
}

#[test]
fn frozen_writes_are_held_by_the_freeze_policy() {
    let engine = PolicyEngine::default_policies().unwrap();
    let decision = engine.decide(&request(Risk::Write, &["staging"], true));
    let determining: Vec<&str> = decision.determining.iter().map(|id| id.as_str()).collect();
    assert_eq!(determining, ["freeze.hold"]);
}
