//! Turning policy files into one validated Cedar policy set: parse each file, give every policy
//! the id its `@id` annotation names, read blastdoor's annotations once, and validate the whole
//! set against [`crate::SCHEMA`]. Every problem is reported with its file and position.

use std::collections::HashMap;
use std::num::NonZeroU8;

use blastdoor_core::RuleId;
use cedar_policy::{Effect, PolicyId, PolicySet, Schema, ValidationMode, Validator};
use miette::Diagnostic;

use crate::error::{PolicyError, Problem, position_of};

/// What blastdoor reads from a policy's annotations, once, at load time.
#[derive(Debug, Clone)]
pub(crate) struct PolicyMeta {
    pub rule_id: RuleId,
    /// Position in load order, to list matching policies deterministically.
    pub index: usize,
    /// `@hold("N")` on a permit: the number of approvers.
    pub hold: Option<NonZeroU8>,
    /// `@reason`: the explanation for humans.
    pub reason: Option<String>,
    /// `@alternative`: the safer way.
    pub alternative: Option<String>,
    /// `@agent_message`: what the agent is told.
    pub agent_message: Option<String>,
}

/// A validated policy set and the metadata of each policy, keyed by policy id (= `@id`).
#[derive(Debug)]
pub(crate) struct LoadedPolicies {
    pub set: PolicySet,
    pub meta: HashMap<PolicyId, PolicyMeta>,
    /// Policy ids in load order (file order, then order within the file).
    pub order: Vec<RuleId>,
}

/// Loads `(file name, text)` pairs into one policy set validated against `schema`.
pub(crate) fn load(
    schema: &Schema,
    sources: &[(&str, &str)],
) -> Result<LoadedPolicies, PolicyError> {
    let mut problems = Vec::new();
    let mut set = PolicySet::new();
    let mut meta = HashMap::new();
    let mut order = Vec::new();
    // policy id -> (file, text) to locate validation errors later.
    let mut origin: HashMap<PolicyId, (&str, &str)> = HashMap::new();

    for &(file, text) in sources {
        let parsed = match text.parse::<PolicySet>() {
            Ok(parsed) => parsed,
            Err(errors) => {
                for error in errors.iter() {
                    problems.push(Problem {
                        file: file.to_owned(),
                        position: first_label(error, text),
                        message: with_help(error.to_string(), error.help()),
                    });
                }
                continue;
            }
        };
        if parsed.templates().next().is_some() {
            problems.push(Problem {
                file: file.to_owned(),
                position: None,
                message: "policy templates (`?principal`, `?resource`) are not supported"
                    .to_owned(),
            });
        }
        for (index, policy) in parsed.policies().enumerate() {
            let source = policy.to_string();
            let position = text
                .find(source.trim())
                .map(|offset| position_of(text, offset));
            let mut complain = |message: String| {
                problems.push(Problem {
                    file: file.to_owned(),
                    position,
                    message,
                })
            };
            let Some(id_text) = policy.annotation("id") else {
                complain(format!(
                    "policy #{} has no `@id(\"...\")` annotation; every policy needs a stable id such as `@id(\"team.staging-writes\")`",
                    index + 1
                ));
                continue;
            };
            let rule_id = match RuleId::new(id_text) {
                Ok(rule_id) => rule_id,
                Err(error) => {
                    complain(format!("`@id`: {error}"));
                    continue;
                }
            };
            let hold = match (policy.annotation("hold"), policy.effect()) {
                (None, _) => None,
                (Some(_), Effect::Forbid) => {
                    complain(format!(
                        "policy `{rule_id}`: `@hold` only means something on a `permit` (a `forbid` always denies)"
                    ));
                    continue;
                }
                (Some(count), Effect::Permit) => {
                    match count.parse::<u8>().ok().and_then(NonZeroU8::new) {
                        Some(count) => Some(count),
                        None => {
                            complain(format!(
                                "policy `{rule_id}`: `@hold(\"{count}\")` must be a number of approvers from 1 to 255"
                            ));
                            continue;
                        }
                    }
                }
            };
            let policy_id = PolicyId::new(rule_id.as_str());
            let rule_id_for_order = rule_id.clone();
            if let Some((other_file, _)) = origin.get(&policy_id) {
                complain(format!(
                    "policy id `{rule_id}` is already used in `{other_file}`"
                ));
                continue;
            }
            if let Err(error) = set.add(policy.new_id(policy_id.clone())) {
                complain(format!("policy `{rule_id}`: {error}"));
                continue;
            }
            origin.insert(policy_id.clone(), (file, text));
            meta.insert(
                policy_id,
                PolicyMeta {
                    index: order.len(),
                    rule_id,
                    hold,
                    reason: policy.annotation("reason").map(str::to_owned),
                    alternative: policy.annotation("alternative").map(str::to_owned),
                    agent_message: policy.annotation("agent_message").map(str::to_owned),
                },
            );
            order.push(rule_id_for_order);
        }
    }

    if problems.is_empty() {
        let validation = Validator::new(schema.clone()).validate(&set, ValidationMode::Strict);
        for error in validation.validation_errors() {
            let (file, position) = match origin.get(error.policy_id()) {
                Some(&(file, text)) => (file, first_label(error, text)),
                None => ("(unknown file)", None),
            };
            problems.push(Problem {
                file: file.to_owned(),
                position,
                message: with_help(
                    schema_message(error.policy_id(), &error.to_string()),
                    error.help(),
                ),
            });
        }
    }

    if problems.is_empty() {
        Ok(LoadedPolicies { set, meta, order })
    } else {
        Err(PolicyError::Invalid(problems))
    }
}

/// "policy `x` does not match the schema: ...", without cedar's own "for policy `x`, " prefix.
fn schema_message(policy_id: &PolicyId, error: &str) -> String {
    let prefix = format!("for policy `{policy_id}`, ");
    let error = error.strip_prefix(&prefix).unwrap_or(error);
    format!("policy `{policy_id}` does not match the schema: {error}")
}

/// The position of the first source span cedar attached to `error`, within `text`.
fn first_label(error: &dyn Diagnostic, text: &str) -> Option<(usize, usize)> {
    let label = error.labels()?.next()?;
    Some(position_of(text, label.offset()))
}

fn with_help(message: String, help: Option<Box<dyn std::fmt::Display + '_>>) -> String {
    match help {
        Some(help) => format!("{message} (help: {help})"),
        None => message,
    }
}
