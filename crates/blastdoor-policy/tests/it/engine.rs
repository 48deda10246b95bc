//! The engine's rules, on small custom policy sets: forbid wins, holds take the largest count,
//! no permit denies, evaluation errors deny, and the freeze and unknown-environment floors hold
//! whatever the policies say.

use blastdoor_core::{Decision, Risk};
use blastdoor_policy::{PolicyEngine, PolicyRequest};

use crate::request;

fn engine(text: &str) -> PolicyEngine {
    PolicyEngine::from_sources(&[("test.cedar", text)]).unwrap()
}

fn decision(engine: &PolicyEngine, request: &PolicyRequest) -> (Decision, Vec<String>) {
    let decision = engine.decide(request);
    let reasons = decision
        .verdict
        .reasons
        .iter()
        .map(|reason| reason.rule_id.to_string())
        .collect();
    (decision.verdict.decision, reasons)
}

#[track_caller]
fn check(policies: &str, request: PolicyRequest, expected: Decision, expected_rules: &[&str]) {
    let engine = engine(policies);
    let (actual, rules) = decision(&engine, &request);
    assert_eq!(actual, expected, "rules: {rules:?}");
    assert_eq!(rules, expected_rules);
}

const ALLOW_ALL: &str = r#"@id("t.all") permit (principal, action, resource);"#;

#[test]
fn forbid_wins_over_permit() {
    let policies = format!(
        r#"{ALLOW_ALL}
        @id("t.no-prod") @reason("no") forbid (principal, action, resource)
        when {{ resource.environment == "production" }};"#
    );
    check(
        &policies,
        request(Risk::Read, &["production"], false),
        Decision::Deny,
        &["t.no-prod"],
    );
    check(
        &policies,
        request(Risk::Read, &["staging"], false),
        Decision::Allow,
        &["t.all"],
    );
}

#[test]
fn hold_beats_a_plain_permit_and_the_largest_count_wins() {
    let policies = format!(
        r#"{ALLOW_ALL}
        @id("t.one") @hold("1") permit (principal, action == Action::"write", resource);
        @id("t.three") @hold("3") permit (principal, action == Action::"write", resource)
        when {{ resource.upstream == "railway" }};"#
    );
    check(
        &policies,
        request(Risk::Write, &["staging"], false),
        Decision::hold(3),
        &["t.three", "t.one"],
    );
    check(
        &policies,
        request(Risk::Read, &["staging"], false),
        Decision::Allow,
        &["t.all"],
    );
}

#[test]
fn no_permit_denies() {
    let policies = r#"@id("t.reads") permit (principal, action == Action::"read", resource);"#;
    check(
        policies,
        request(Risk::Write, &["staging"], false),
        Decision::Deny,
        &["policy.no-permit"],
    );
}

#[test]
fn an_evaluation_error_denies_even_if_another_policy_permits() {
    // Overflow is a runtime error the validator cannot see.
    let policies = format!(
        r#"{ALLOW_ALL}
        @id("t.overflow") forbid (principal, action, resource)
        when {{ context.now + 9223372036854775807 > 0 }};"#
    );
    let (actual, rules) = decision(
        &engine(&policies),
        &request(Risk::Read, &["staging"], false),
    );
    assert_eq!(actual, Decision::Deny);
    assert_eq!(rules, ["policy.evaluation-error"]);
}

#[test]
fn a_freeze_holds_non_reads_even_without_the_freeze_policy() {
    check(
        ALLOW_ALL,
        request(Risk::Write, &["staging"], true),
        Decision::hold(1),
        &["policy.frozen"],
    );
    check(
        ALLOW_ALL,
        request(Risk::Read, &["staging"], true),
        Decision::Allow,
        &["t.all"],
    );
}

#[test]
fn an_unknown_environment_gets_the_production_answer_when_that_is_stricter() {
    let policies = r#"
        @id("t.loose-unknown") permit (principal, action, resource)
        when { resource.environment == "unknown" };
        @id("t.prod") @hold("2") permit (principal, action, resource)
        when { resource.environment == "production" };"#;
    check(
        policies,
        request(Risk::Write, &["unknown"], false),
        Decision::hold(2),
        &["t.prod"],
    );
    check(
        policies,
        request(Risk::Write, &[], false),
        Decision::hold(2),
        &["t.prod"],
    );
}

#[test]
fn policies_see_the_agent_task_rule_ids_layer_and_time() {
    let policies = r#"
        @id("t.only-claude") permit (principal, action, resource)
        when {
            principal.name == "claude-staging-fix"
            && context.task like "*staging*"
            && context.rule_ids.contains("railway.volume-delete")
            && context.layer == "gateway"
            && context.now > 1700000000
            && resource.kind == "volume"
            && resource.id == "vol-pg-data"
        };"#;
    check(
        policies,
        request(Risk::Destroy, &["staging"], false),
        Decision::Allow,
        &["t.only-claude"],
    );
    let mut other = request(Risk::Destroy, &["staging"], false);
    other.task = None;
    check(policies, other, Decision::Deny, &["policy.no-permit"]);
    let mut anonymous = request(Risk::Destroy, &["staging"], false);
    anonymous.agent = None;
    check(policies, anonymous, Decision::Deny, &["policy.no-permit"]);
}

#[test]
fn annotations_become_the_reason() {
    let policies = r#"
        @id("t.hold")
        @hold("2")
        @reason("why it matters")
        @alternative("the safer way")
        @agent_message("wait for a human")
        permit (principal, action, resource);"#;
    let decision = engine(policies).decide(&request(Risk::Destroy, &["staging"], false));
    let reason = &decision.verdict.reasons[0];
    assert_eq!(reason.explanation, "why it matters");
    assert_eq!(reason.alternative.as_deref(), Some("the safer way"));
    assert_eq!(reason.agent_message, "wait for a human");
}

#[test]
fn the_engine_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PolicyEngine>();
}

#[test]
fn from_dir_reads_every_cedar_file_and_ignores_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.cedar"),
        r#"@id("t.b") permit (principal, action == Action::"write", resource);"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.cedar"),
        r#"@id("t.a") permit (principal, action == Action::"read", resource);"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
    let engine = PolicyEngine::from_dir(dir.path()).unwrap();
    let ids: Vec<&str> = engine.policy_ids().iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["t.a", "t.b"]);
}

#[test]
fn the_default_files_load_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in blastdoor_policy::DEFAULT_POLICIES {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let engine = PolicyEngine::from_dir(dir.path()).unwrap();
    assert_eq!(
        engine.policy_ids().len(),
        PolicyEngine::default_policies().unwrap().policy_ids().len()
    );
}
