//! Turns the findings of an analysis into an [`Assessment`]: the operation (worst risk,
//! targets, redacted description) and the built-in verdict. Deny beats hold beats allow; a
//! hold needs two approvers when any target is, or may be, production (unknown counts as
//! production), one otherwise. Every verdict carries reasons with the message for the agent.

use blastdoor_core::{
    Operation, OperationKind, Reason, Risk, RuleId, Target, Verdict, redact_known_secrets,
};

use crate::Assessment;
use crate::analysis::Analysis;
use crate::rules::{self, Action, Finding, Rule};

/// Longest description kept in the operation (the ledger stores it).
const MAX_DESCRIPTION_CHARS: usize = 2000;

pub(crate) fn build(kind: OperationKind, text: &str, analysis: Analysis) -> Assessment {
    let description: String = if text.chars().count() > MAX_DESCRIPTION_CHARS {
        let mut truncated: String = text.chars().take(MAX_DESCRIPTION_CHARS).collect();
        truncated.push_str(" [...]");
        truncated
    } else {
        text.to_owned()
    };
    let findings = analysis.findings;
    let risk = findings
        .iter()
        .map(|finding| finding.risk)
        .fold(analysis.baseline, Risk::max);
    let mut targets: Vec<Target> = Vec::new();
    for target in findings.iter().flat_map(|finding| finding.targets.iter()) {
        if targets.len() < 32 && !targets.contains(target) {
            let mut target = target.clone();
            target.id = redact_known_secrets(&target.id);
            targets.push(target);
        }
    }
    let operation = Operation::new(kind, &description, risk, targets);

    let denies: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.action == Action::Deny)
        .collect();
    let holds: Vec<&Finding> = findings
        .iter()
        .filter(|finding| finding.action == Action::Hold)
        .collect();
    let verdict = if !denies.is_empty() {
        let reasons = denies
            .iter()
            .chain(holds.iter())
            .filter_map(|finding| deny_reason(finding))
            .collect();
        Verdict::deny(reasons)
    } else if !holds.is_empty() {
        let production = holds.iter().any(|finding| {
            finding.targets.is_empty() || finding.targets.iter().any(Target::may_touch_production)
        });
        let approvals = if production { 2 } else { 1 };
        let reasons = holds
            .iter()
            .filter_map(|finding| hold_reason(finding, approvals))
            .collect();
        Verdict::hold(approvals, reasons)
    } else {
        let reason = reason(
            &rules::shell_no_risk::RULE,
            "no rule found a destructive, credential-seeking or unknown action".to_owned(),
            "blastdoor found no risk in this command.".to_owned(),
        );
        Verdict::allow(reason.into_iter().collect())
    };
    let verdict = ensure_reason(verdict);
    Assessment { operation, verdict }
}

fn hold_reason(finding: &Finding, approvals: u8) -> Option<Reason> {
    let approvers = if approvals == 1 {
        "one human approver".to_owned()
    } else {
        format!("{approvals} human approvers")
    };
    let message = format!(
        "blastdoor held this: {}. A human must approve it ({approvers}) before it can run. Do not retry it another way, and do not look for other credentials, tokens, scripts, API calls or tools to do the same thing. Tell the user what you wanted to do and why, then wait for their decision. Safer alternative: {}.",
        finding.explanation, finding.rule.alternative
    );
    reason(finding.rule, finding.explanation.clone(), message)
}

fn deny_reason(finding: &Finding) -> Option<Reason> {
    let message = format!(
        "blastdoor denied this: {}. It will not be allowed. Do not work around it, and do not look for other credentials or other ways to do the same thing. Instead: {}.",
        finding.explanation, finding.rule.alternative
    );
    reason(finding.rule, finding.explanation.clone(), message)
}

fn reason(rule: &Rule, explanation: String, agent_message: String) -> Option<Reason> {
    let rule_id = RuleId::new(rule.id).ok()?;
    // Explanations quote pieces of the command (URLs, paths): redact what may be a credential.
    let explanation = redact_known_secrets(&explanation);
    let agent_message = redact_known_secrets(&agent_message);
    Some(Reason::new(
        rule_id,
        explanation,
        Some(rule.alternative.to_owned()),
        agent_message,
    ))
}

/// Every verdict carries a reason; if none could be built (a rule id failed validation, which
/// the tests rule out), the verdict becomes a hold on `shell.unparseable` — or stays a deny.
fn ensure_reason(verdict: Verdict) -> Verdict {
    if !verdict.reasons.is_empty() {
        return verdict;
    }
    let fallback = reason(
        &rules::shell_unparseable::RULE,
        "the classifier could not explain its decision".to_owned(),
        "blastdoor held this because it could not be classified. A human must approve it; do not look for other ways to do the same thing.".to_owned(),
    );
    match verdict.decision {
        blastdoor_core::Decision::Deny => Verdict::deny(fallback.into_iter().collect()),
        _ => Verdict::hold(2, fallback.into_iter().collect()),
    }
}
