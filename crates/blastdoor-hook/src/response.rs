//! Turning a [`Verdict`] into each harness's answer: which of allow/ask/deny the harness is
//! told ([`Answer`]), and the exact stdout bytes for it ([`render`]).
//!
//! Two choices here are deliberate:
//! - **Allow is "no decision"** wherever the harness documents that exit 0 with no output lets
//!   its normal permission flow continue (Claude Code, Codex, Gemini CLI, Copilot CLI). An
//!   explicit `allow` would skip the user's own permission prompts (Claude Code: "allow skips
//!   the prompt"), and a security tool must only ever add friction, never remove it. Cursor's
//!   protocol expects a `permission` answer, so Cursor gets `{"permission":"allow"}`.
//! - **Hold becomes `ask` only where a person can answer**: Claude Code in the `default`,
//!   `acceptEdits` and `plan` modes, and Cursor's shell, MCP and tool gates. Everywhere else
//!   (Codex, whose `ask` is unreliable; Gemini and Copilot, which have none; Cursor's
//!   `beforeReadFile`, which takes only allow/deny; Claude Code in `auto`, `dontAsk`,
//!   `bypassPermissions` or an unknown mode) a hold is a deny that explains the hold.

use blastdoor_core::{Decision, Verdict};
use serde_json::{Value, json};

use crate::{Envelope, PermissionMode};

/// What the harness is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Let the call go on to the harness's own permission flow.
    Allow,
    /// Ask the person at the keyboard; `reason` is shown to them.
    Ask { reason: String },
    /// Refuse; `reason` is shown to the agent.
    Deny { reason: String },
}

/// Appended to every hold that reaches the agent as a deny, so that the agent stops rather
/// than routing around the hold.
pub const HOLD_GUIDANCE: &str = "This action needs a human's approval. Do not look for other \
credentials or other ways to do the same thing; stop and ask the user to review it.";

/// The answer for `verdict` in `envelope`, given Claude Code's `permission_mode` when known.
pub fn answer(
    envelope: Envelope,
    permission_mode: Option<&PermissionMode>,
    verdict: &Verdict,
) -> Answer {
    match verdict.decision {
        Decision::Allow => Answer::Allow,
        Decision::Deny => Answer::Deny {
            reason: agent_reason(verdict, "blastdoor denied this"),
        },
        Decision::Hold { .. } => {
            let someone_can_answer = match envelope {
                Envelope::ClaudePreToolUse => {
                    permission_mode.is_some_and(PermissionMode::has_a_person_to_ask)
                }
                Envelope::CursorGate => true,
                Envelope::CodexPreToolUse
                | Envelope::CursorReadFile
                | Envelope::GeminiBeforeTool
                | Envelope::CopilotPreToolUse => false,
            };
            match someone_can_answer {
                true => Answer::Ask {
                    reason: user_reason(verdict),
                },
                false => {
                    let mut reason =
                        agent_reason(verdict, "blastdoor is holding this for human approval");
                    if !reason
                        .to_lowercase()
                        .contains("do not look for other credentials")
                    {
                        reason.push(' ');
                        reason.push_str(HOLD_GUIDANCE);
                    }
                    Answer::Deny { reason }
                }
            }
        }
    }
}

/// The agent-facing text: each reason's message for the agent (after `lead`, unless the
/// messages already say they come from blastdoor), then the rule ids.
fn agent_reason(verdict: &Verdict, lead: &str) -> String {
    let messages: Vec<&str> = verdict
        .reasons
        .iter()
        .map(|reason| reason.agent_message.as_str())
        .filter(|message| !message.is_empty())
        .collect();
    let body = join_or(&messages, "no reason was given");
    let mut text = match body.starts_with("blastdoor") {
        true => body,
        false => format!("{lead}: {body}"),
    };
    push_rule_ids(&mut text, verdict);
    text
}

/// The person-facing text for an `ask`: what was found, the safer alternative, the rule ids.
fn user_reason(verdict: &Verdict) -> String {
    let explanations: Vec<&str> = verdict
        .reasons
        .iter()
        .map(|reason| reason.explanation.as_str())
        .filter(|text| !text.is_empty())
        .collect();
    let mut text = format!(
        "blastdoor: this needs your approval: {}",
        join_or(&explanations, "no reason was given")
    );
    let alternatives: Vec<&str> = verdict
        .reasons
        .iter()
        .filter_map(|reason| reason.alternative.as_deref())
        .collect();
    if !alternatives.is_empty() {
        text.push_str(" Safer: ");
        text.push_str(&alternatives.join(" "));
    }
    push_rule_ids(&mut text, verdict);
    text
}

fn join_or(parts: &[&str], empty: &str) -> String {
    match parts.is_empty() {
        true => empty.to_owned(),
        false => parts.join(" "),
    }
}

fn push_rule_ids(text: &mut String, verdict: &Verdict) {
    let ids: Vec<&str> = verdict.rule_ids().map(|id| id.as_str()).collect();
    if !ids.is_empty() {
        text.push_str(" [rule: ");
        text.push_str(&ids.join(", "));
        text.push(']');
    }
}

/// The exact stdout bytes for `answer` in `envelope`: empty (no decision) or one JSON object
/// and a newline.
pub fn render(envelope: Envelope, answer: &Answer) -> Vec<u8> {
    let value = match (envelope, answer) {
        (
            Envelope::ClaudePreToolUse
            | Envelope::CodexPreToolUse
            | Envelope::GeminiBeforeTool
            | Envelope::CopilotPreToolUse,
            Answer::Allow,
        ) => return Vec::new(),
        (Envelope::ClaudePreToolUse | Envelope::CodexPreToolUse, Answer::Ask { reason }) => {
            // Codex never receives an ask (see `answer`), but if a caller built one it is
            // refused rather than sent as a verdict Codex may not honour.
            let decision = match envelope {
                Envelope::CodexPreToolUse => "deny",
                _ => "ask",
            };
            pre_tool_use(decision, reason)
        }
        (Envelope::ClaudePreToolUse | Envelope::CodexPreToolUse, Answer::Deny { reason }) => {
            pre_tool_use("deny", reason)
        }
        (Envelope::CursorGate, Answer::Allow) => json!({"permission": "allow"}),
        (Envelope::CursorGate, Answer::Ask { reason }) => json!({
            "permission": "ask",
            "user_message": reason,
            "agent_message": reason,
        }),
        (Envelope::CursorGate, Answer::Deny { reason }) => json!({
            "permission": "deny",
            "user_message": reason,
            "agent_message": reason,
        }),
        (Envelope::CursorReadFile, Answer::Allow) => json!({"permission": "allow"}),
        (Envelope::CursorReadFile, Answer::Ask { .. } | Answer::Deny { .. }) => {
            json!({"permission": "deny"})
        }
        (Envelope::GeminiBeforeTool, Answer::Ask { reason } | Answer::Deny { reason }) => {
            json!({"decision": "deny", "reason": reason})
        }
        (Envelope::CopilotPreToolUse, Answer::Ask { reason } | Answer::Deny { reason }) => json!({
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }),
    };
    let mut bytes = value.to_string().into_bytes();
    bytes.push(b'\n');
    bytes
}

/// Claude Code's and Codex's answer: exactly these three keys, nothing else (Codex's schema
/// has `additionalProperties: false`).
fn pre_tool_use(decision: &str, reason: &str) -> Value {
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    })
}

#[cfg(test)]
mod tests {
    use blastdoor_core::{Reason, RuleId};

    use super::*;

    fn reason() -> Reason {
        Reason::new(
            RuleId::new("railway.volume-delete").unwrap(),
            "deletes a production volume",
            Some("take a snapshot first".into()),
            "Deleting a Railway volume needs a human.",
        )
    }

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn hold_asks_only_where_a_person_can_answer() {
        let hold = Verdict::hold(1, vec![reason()]);
        let modes = [
            (Some(PermissionMode::Default), true),
            (Some(PermissionMode::AcceptEdits), true),
            (Some(PermissionMode::Plan), true),
            (Some(PermissionMode::Auto), false),
            (Some(PermissionMode::DontAsk), false),
            (Some(PermissionMode::BypassPermissions), false),
            (Some(PermissionMode::Unrecognised("new".into())), false),
            (None, false),
        ];
        for (mode, asks) in modes {
            let got = answer(Envelope::ClaudePreToolUse, mode.as_ref(), &hold);
            assert_eq!(matches!(got, Answer::Ask { .. }), asks, "{mode:?}");
        }
        assert!(matches!(
            answer(Envelope::CursorGate, None, &hold),
            Answer::Ask { .. }
        ));
        for envelope in [
            Envelope::CodexPreToolUse,
            Envelope::CursorReadFile,
            Envelope::GeminiBeforeTool,
            Envelope::CopilotPreToolUse,
        ] {
            let Answer::Deny { reason } = answer(envelope, Some(&PermissionMode::Default), &hold)
            else {
                panic!("{envelope:?} should deny a hold");
            };
            assert!(reason.contains("human"));
            assert!(
                reason
                    .to_lowercase()
                    .contains("do not look for other credentials")
            );
            assert!(reason.contains("railway.volume-delete"));
        }
    }

    #[test]
    fn deny_reason_has_agent_message_and_rule_id() {
        let Answer::Deny { reason } = answer(
            Envelope::GeminiBeforeTool,
            None,
            &Verdict::deny(vec![reason()]),
        ) else {
            panic!("deny expected");
        };
        assert!(reason.contains("Deleting a Railway volume needs a human."));
        assert!(reason.ends_with("[rule: railway.volume-delete]"));
    }

    #[test]
    fn codex_answers_have_exactly_three_keys() {
        let bytes = render(
            Envelope::CodexPreToolUse,
            &Answer::Ask { reason: "r".into() },
        );
        let value = parsed(&bytes);
        let outer = value.as_object().unwrap();
        assert_eq!(outer.len(), 1);
        let inner = outer["hookSpecificOutput"].as_object().unwrap();
        let mut keys: Vec<&str> = inner.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "hookEventName",
                "permissionDecision",
                "permissionDecisionReason"
            ]
        );
        assert_eq!(inner["permissionDecision"], "deny");
    }

    #[test]
    fn allow_is_silent_except_for_cursor() {
        for envelope in [
            Envelope::ClaudePreToolUse,
            Envelope::CodexPreToolUse,
            Envelope::GeminiBeforeTool,
            Envelope::CopilotPreToolUse,
        ] {
            assert!(render(envelope, &Answer::Allow).is_empty());
        }
        assert_eq!(
            parsed(&render(Envelope::CursorGate, &Answer::Allow)),
            json!({"permission":"allow"})
        );
    }

    #[test]
    fn cursor_read_file_answer_has_only_permission() {
        let value = parsed(&render(
            Envelope::CursorReadFile,
            &Answer::Deny { reason: "r".into() },
        ));
        assert_eq!(value, json!({"permission":"deny"}));
    }
}
