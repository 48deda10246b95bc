//! From a [`HookRequest`] to an [`Assessment`]: shell commands and file reads go to the shell
//! classifier, file writes through the disarm rule, and the failures of the hook itself
//! (unreadable input, an unwritable ledger, an internal error) become deny verdicts here, so
//! that every path out of the hook is decided in one place.

use blastdoor_core::{Decision, Operation, OperationKind, Reason, Risk, RuleId, Verdict};
use blastdoor_shell::{Assessment, Context, assess_command, assess_file_read};

use crate::{Action, HookError, HookRequest, disarm_reason};

/// Rule id of the allow given to a tool call the hook does not classify.
pub const UNCLASSIFIED_TOOL_RULE: &str = "hook.unclassified-tool";
/// Rule id of the allow given to a file write outside the protected files.
pub const FILE_WRITE_RULE: &str = "hook.file-write";
/// Rule id of the deny given to hook input that could not be understood.
pub const MALFORMED_INPUT_RULE: &str = "hook.malformed-input";
/// Rule id of the deny given when the hook itself failed.
pub const INTERNAL_ERROR_RULE: &str = "hook.internal-error";
/// Rule id of the deny given when the decision could not be written to the ledger.
pub const LEDGER_UNAVAILABLE_RULE: &str = "hook.ledger-unavailable";

/// Classifies what `request` would do. `context.cwd` should be the request's cwd.
pub fn assess(request: &HookRequest, context: &Context<'_>) -> Assessment {
    match &request.action {
        Action::Shell { command } => assess_command(command, context),
        Action::Read { tool, paths } => match paths.split_first() {
            None => unclassified(tool),
            Some((first, rest)) => rest
                .iter()
                .fold(assess_file_read(first, context), |combined, path| {
                    combine(combined, assess_file_read(path, context))
                }),
        },
        Action::Write { tool, paths } => assess_write(tool, paths, context),
        Action::Tool { tool } => unclassified(tool),
    }
}

/// The deny for hook input that could not be parsed or had an unknown envelope.
pub fn malformed_input(error: &HookError) -> Assessment {
    failure(
        MALFORMED_INPUT_RULE,
        "unreadable hook input",
        format!("the hook could not understand its input: {error}"),
        "blastdoor could not read this tool call, so it was refused. Retry it as a plain tool call.",
    )
}

/// The deny for a failure inside the hook (including a panic).
pub fn internal_error(detail: &str) -> Assessment {
    failure(
        INTERNAL_ERROR_RULE,
        "hook internal error",
        format!("the hook failed: {detail}"),
        "blastdoor failed while checking this tool call, so it was refused.",
    )
}

/// The verdict to use when the decision could not be appended to the ledger: unchanged for a
/// plain read that was allowed, otherwise a deny that says why (keeping the original reasons).
pub fn ledger_unavailable(assessment: &Assessment, error: &str) -> Verdict {
    let verdict = &assessment.verdict;
    if assessment.operation.risk().is_read() && verdict.decision == Decision::Allow {
        return verdict.clone();
    }
    let mut reasons = vec![reason(
        LEDGER_UNAVAILABLE_RULE,
        format!("the decision could not be written to the audit ledger: {error}"),
        Some("fix the ledger (`blastdoor doctor`) and retry".to_owned()),
        "blastdoor could not record this decision in its audit ledger, and nothing but a plain \
         read may run unrecorded. Ask the user to check blastdoor's state directory.",
    )];
    reasons.extend(verdict.reasons.iter().cloned());
    Verdict::deny(reasons)
}

fn assess_write(tool: &str, paths: &[std::path::PathBuf], context: &Context<'_>) -> Assessment {
    let description = format!(
        "{tool} {}",
        paths
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let reasons: Vec<Reason> = paths
        .iter()
        .filter_map(|path| disarm_reason(path, context.cwd, context.blastdoor_home))
        .collect();
    match reasons.is_empty() {
        true => Assessment {
            operation: Operation::new(
                OperationKind::FileWrite,
                &description,
                Risk::Write,
                Vec::new(),
            ),
            verdict: Verdict::allow(vec![reason(
                FILE_WRITE_RULE,
                "a file write outside hook settings and blastdoor's state".to_owned(),
                None,
                "",
            )]),
        },
        false => Assessment {
            operation: Operation::new(
                OperationKind::FileWrite,
                &description,
                Risk::Escalate,
                Vec::new(),
            ),
            verdict: Verdict::deny(reasons),
        },
    }
}

fn unclassified(tool: &str) -> Assessment {
    Assessment {
        operation: Operation::new(OperationKind::Tool, tool, Risk::Unknown, Vec::new()),
        verdict: Verdict::allow(vec![reason(
            UNCLASSIFIED_TOOL_RULE,
            format!(
                "`{tool}` is not a shell command or file access; the hook does not classify it \
                 (calls that reach infrastructure are judged by the gateway)"
            ),
            None,
            "",
        )]),
    }
}

fn failure(rule: &str, description: &str, explanation: String, agent_message: &str) -> Assessment {
    Assessment {
        operation: Operation::new(OperationKind::Tool, description, Risk::Unknown, Vec::new()),
        verdict: Verdict::deny(vec![reason(rule, explanation, None, agent_message)]),
    }
}

/// Two assessments of parts of one tool call (several files read) as one.
fn combine(first: Assessment, second: Assessment) -> Assessment {
    let description = format!(
        "{}; {}",
        first.operation.description(),
        second.operation.description()
    );
    let mut targets = first.operation.targets().to_vec();
    targets.extend(second.operation.targets().iter().cloned());
    Assessment {
        operation: Operation::new(
            first.operation.kind(),
            &description,
            first.operation.risk().max(second.operation.risk()),
            targets,
        ),
        verdict: first.verdict.strictest(second.verdict),
    }
}

fn reason(
    rule: &str,
    explanation: String,
    alternative: Option<String>,
    agent_message: &str,
) -> Reason {
    // INVARIANT: every `rule` passed here is one of this module's constants, each a valid
    // lowercase slug (the `rule_ids_are_valid` test checks them).
    #[expect(
        clippy::expect_used,
        reason = "rule ids are constants checked by a test"
    )]
    let rule_id = RuleId::new(rule).expect("rule id constants are valid slugs");
    Reason::new(rule_id, explanation, alternative, agent_message)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use blastdoor_shell::NoFiles;

    use super::*;
    use crate::{Envelope, Harness};

    #[test]
    fn rule_ids_are_valid() {
        for rule in [
            UNCLASSIFIED_TOOL_RULE,
            FILE_WRITE_RULE,
            MALFORMED_INPUT_RULE,
            INTERNAL_ERROR_RULE,
            LEDGER_UNAVAILABLE_RULE,
        ] {
            assert!(RuleId::new(rule).is_ok(), "{rule}");
        }
    }

    fn context() -> Context<'static> {
        Context {
            cwd: Path::new("/work/proj"),
            home: Some(Path::new("/home/u")),
            blastdoor_home: Some(Path::new("/home/u/.blastdoor")),
            files: &NoFiles,
        }
    }

    fn request(action: Action) -> HookRequest {
        HookRequest {
            harness: Harness::Claude,
            envelope: Envelope::ClaudePreToolUse,
            session: None,
            cwd: None,
            permission_mode: None,
            action,
        }
    }

    #[test]
    fn writes_to_hook_settings_are_denied_and_others_allowed() {
        let settings = request(Action::Write {
            tool: "Edit".into(),
            paths: vec![PathBuf::from(".claude/settings.json")],
        });
        let assessment = assess(&settings, &context());
        assert_eq!(assessment.verdict.decision, Decision::Deny);
        assert_eq!(
            assessment.verdict.reasons[0].rule_id.as_str(),
            crate::DISARM_RULE
        );
        let source = request(Action::Write {
            tool: "Edit".into(),
            paths: vec![PathBuf::from("src/lib.rs")],
        });
        assert_eq!(
            assess(&source, &context()).verdict.decision,
            Decision::Allow
        );
    }

    #[test]
    fn unwritable_ledger_denies_everything_but_an_allowed_read() {
        let read = Assessment {
            operation: Operation::new(OperationKind::FileRead, "read x", Risk::Read, Vec::new()),
            verdict: Verdict::allow(vec![reason(FILE_WRITE_RULE, String::new(), None, "")]),
        };
        assert_eq!(
            ledger_unavailable(&read, "disk full").decision,
            Decision::Allow
        );
        let tool = unclassified("WebFetch");
        let verdict = ledger_unavailable(&tool, "disk full");
        assert_eq!(verdict.decision, Decision::Deny);
        assert_eq!(verdict.reasons[0].rule_id.as_str(), LEDGER_UNAVAILABLE_RULE);
        let write = Assessment {
            operation: Operation::new(OperationKind::FileWrite, "w", Risk::Write, Vec::new()),
            verdict: Verdict::allow(vec![reason(FILE_WRITE_RULE, String::new(), None, "")]),
        };
        assert_eq!(ledger_unavailable(&write, "x").decision, Decision::Deny);
    }

    #[test]
    fn several_reads_keep_the_strictest_verdict() {
        let reads = request(Action::Read {
            tool: "read_many_files".into(),
            paths: vec![
                PathBuf::from("src/lib.rs"),
                PathBuf::from("/home/u/.aws/credentials"),
            ],
        });
        let combined = assess(&reads, &context());
        let alone = assess_file_read(Path::new("/home/u/.aws/credentials"), &context());
        assert_eq!(combined.verdict.decision, alone.verdict.decision);
        assert_ne!(combined.verdict.decision, Decision::Allow);
    }
}
