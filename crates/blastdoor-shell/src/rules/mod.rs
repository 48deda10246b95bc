//! The rules. Each file holds one rule: its stable id, what it flags, why that is risky, an
//! example, the safer alternative, its check, and its tests. [`ALL`] lists them, for docs and
//! for tests that every id is valid.

use blastdoor_core::{Environment, Risk, Target};

use crate::analysis::Walker;
use crate::command::Invocation;
use crate::words::Arg;

pub(crate) mod blastdoor_disarm;
pub(crate) mod cloud_aws;
pub(crate) mod cloud_az;
pub(crate) mod cloud_doctl;
pub(crate) mod cloud_fly;
pub(crate) mod cloud_gcloud;
pub(crate) mod cloud_gh;
pub(crate) mod cloud_heroku;
pub(crate) mod cloud_railway;
pub(crate) mod cloud_supabase;
pub(crate) mod cloud_vercel;
pub(crate) mod cred_file_read;
pub(crate) mod cred_hunting;
pub(crate) mod db_dropdb;
pub(crate) mod db_mongo;
pub(crate) mod db_mysql;
pub(crate) mod db_orm;
pub(crate) mod db_psql;
pub(crate) mod db_redis;
pub(crate) mod docker_destructive;
pub(crate) mod fs_delete_outside;
pub(crate) mod fs_raw_device;
pub(crate) mod fs_recursive_delete;
pub(crate) mod git_force_push;
pub(crate) mod git_history_rewrite;
pub(crate) mod git_reset_hard;
pub(crate) mod http_infra;
pub(crate) mod http_railway;
pub(crate) mod iac_destroy;
pub(crate) mod interp_inline;
pub(crate) mod k8s_destructive;
pub(crate) mod script_contents;
pub(crate) mod shell_dynamic;
pub(crate) mod shell_no_risk;
pub(crate) mod shell_pipe_to_interpreter;
pub(crate) mod shell_unparseable;

/// A rule's published description.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The stable id used in policies, the ledger and the hook's messages.
    pub id: &'static str,
    /// What the rule flags and why it is risky, in one sentence.
    pub summary: &'static str,
    /// The safer way to reach the same goal.
    pub alternative: &'static str,
}

/// Every rule, in a stable order.
pub static ALL: &[&Rule] = &[
    &blastdoor_disarm::RULE,
    &cloud_aws::RULE,
    &cloud_az::RULE,
    &cloud_doctl::RULE,
    &cloud_fly::RULE,
    &cloud_gcloud::RULE,
    &cloud_gh::RULE,
    &cloud_heroku::RULE,
    &cloud_railway::RULE,
    &cloud_supabase::RULE,
    &cloud_vercel::RULE,
    &cred_file_read::RULE,
    &cred_hunting::RULE,
    &db_dropdb::RULE,
    &db_mongo::RULE,
    &db_mysql::RULE,
    &db_orm::RULE,
    &db_psql::RULE,
    &db_redis::RULE,
    &docker_destructive::RULE,
    &fs_delete_outside::RULE,
    &fs_raw_device::RULE,
    &fs_recursive_delete::RULE,
    &git_force_push::RULE,
    &git_history_rewrite::RULE,
    &git_reset_hard::RULE,
    &http_infra::RULE,
    &http_railway::RULE,
    &iac_destroy::RULE,
    &interp_inline::RULE,
    &k8s_destructive::RULE,
    &script_contents::RULE,
    &shell_dynamic::RULE,
    &shell_no_risk::RULE,
    &shell_pipe_to_interpreter::RULE,
    &shell_unparseable::RULE,
];

/// What a finding asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// A human must approve it.
    Hold,
    /// Refused outright (credential hunting, disarming blastdoor).
    Deny,
}

/// One rule firing on one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub rule: &'static Rule,
    pub action: Action,
    pub risk: Risk,
    pub explanation: String,
    pub targets: Vec<Target>,
}

impl Finding {
    pub(crate) fn hold(
        rule: &'static Rule,
        risk: Risk,
        explanation: impl Into<String>,
        targets: Vec<Target>,
    ) -> Finding {
        Finding {
            rule,
            action: Action::Hold,
            risk,
            explanation: explanation.into(),
            targets,
        }
    }

    pub(crate) fn deny(
        rule: &'static Rule,
        risk: Risk,
        explanation: impl Into<String>,
        targets: Vec<Target>,
    ) -> Finding {
        Finding {
            rule,
            action: Action::Deny,
            risk,
            explanation: explanation.into(),
            targets,
        }
    }
}

/// Applies every command rule to one invocation.
pub(crate) fn check_invocation(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    if !crate::interpreters::is_read_only(invocation) {
        walker.note_write();
    }
    record_outputs(invocation, walker);
    blastdoor_disarm::check(invocation, walker);
    cred_hunting::check(invocation, walker);
    cred_file_read::check(invocation, walker);
    fs_recursive_delete::check(invocation, walker);
    fs_delete_outside::check(invocation, walker);
    fs_raw_device::check(invocation, walker);
    git_force_push::check(invocation, walker);
    git_reset_hard::check(invocation, walker);
    git_history_rewrite::check(invocation, walker);
    db_psql::check(invocation, walker);
    db_mysql::check(invocation, walker);
    db_redis::check(invocation, walker);
    db_dropdb::check(invocation, walker);
    db_mongo::check(invocation, walker);
    cloud_railway::check(invocation, walker);
    cloud_aws::check(invocation, walker);
    cloud_gcloud::check(invocation, walker);
    cloud_az::check(invocation, walker);
    cloud_fly::check(invocation, walker);
    cloud_heroku::check(invocation, walker);
    cloud_vercel::check(invocation, walker);
    cloud_supabase::check(invocation, walker);
    cloud_doctl::check(invocation, walker);
    cloud_gh::check(invocation, walker);
    k8s_destructive::check(invocation, walker);
    iac_destroy::check(invocation, walker);
    docker_destructive::check(invocation, walker);
    http_railway::check(invocation, walker);
    http_infra::check(invocation, walker);
}

/// Remembers files a program writes (`curl -o`, `wget -O`, `cp`, `mv`, `tee`), so that a
/// script run later on the same line is not read from its stale version on disk.
fn record_outputs(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let operands = invocation.operands();
    let outputs: Vec<Arg> = match invocation.program() {
        "curl" => crate::command::option_text(operands, &["-o"], &["--output"])
            .map(Arg::literal)
            .into_iter()
            .collect(),
        "wget" => crate::command::option_text(operands, &["-O"], &["--output-document"])
            .map(Arg::literal)
            .into_iter()
            .collect(),
        "cp" | "mv" | "install" | "ln" | "rsync" | "scp" => invocation
            .positionals(&["-t", "--target-directory", "-m", "--mode"])
            .last()
            .map(|arg| (*arg).clone())
            .into_iter()
            .collect(),
        "tee" => {
            let contents = match &invocation.stdin {
                crate::command::Stdin::Literal(text) => Some(text.clone()),
                _ => None,
            };
            for arg in invocation.positionals(&[]) {
                walker.forget_file(arg, contents.clone());
            }
            Vec::new()
        }
        _ => Vec::new(),
    };
    for arg in outputs {
        if arg.text != "-" {
            walker.forget_file(&arg, None);
        }
    }
}

/// Applies the rules about writing a file (redirection targets, `tee`, `cp` destinations).
pub(crate) fn check_write_target(arg: &Arg, walker: &mut Walker<'_, '_>) {
    blastdoor_disarm::check_write(arg, walker);
    fs_raw_device::check_write(arg, walker);
}

/// Applies the rules about reading a file (an agent's read tool, `cat`, `< file`).
pub(crate) fn check_file_read(arg: &Arg, walker: &mut Walker<'_, '_>) {
    cred_file_read::check_path(arg, walker);
}

/// A target on this machine.
pub(crate) fn local_target(kind: &str, id: &str) -> Target {
    let environment = Environment::parse("local").unwrap_or(Environment::Unknown);
    Target::new(kind, id, vec![environment])
}

/// A target on `upstream`, in the environment the command names, else unknown.
pub(crate) fn remote_target(
    kind: &str,
    id: &str,
    upstream: &str,
    invocation: &Invocation,
    named: Option<&str>,
) -> Target {
    let name = named
        .map(str::to_ascii_lowercase)
        .or_else(|| invocation.environment_hint.clone());
    let environment = match name.as_deref() {
        Some("prod") | Some("prd") | Some("live") => Environment::production(),
        Some(name) => Environment::parse(name).unwrap_or(Environment::Unknown),
        None => Environment::Unknown,
    };
    Target::new(kind, id, vec![environment]).on_upstream(upstream)
}

/// A target for a file or directory: local unless the command runs on another machine.
pub(crate) fn path_target(kind: &str, path: &str, invocation: &Invocation) -> Target {
    if invocation.remote {
        Target::new(kind, path, vec![Environment::Unknown]).on_upstream("remote-host")
    } else {
        local_target(kind, path)
    }
}

/// Finds the first of `verbs` among the subcommand words of a cloud CLI (positionals,
/// lowercased). Returns the matched word.
pub(crate) fn find_verb<'w>(words: &'w [String], verbs: &[&str]) -> Option<&'w str> {
    words
        .iter()
        .take(6)
        .find(|word| {
            verbs.iter().any(|verb| {
                word.as_str() == *verb
                    || word.starts_with(&format!("{verb}-"))
                    || word.ends_with(&format!(":{verb}"))
            })
        })
        .map(String::as_str)
}

/// The test helper every rule's tests use: `check(command, "hold fs.recursive-delete")`.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    use blastdoor_core::Decision;

    use crate::{Context, MemorySource, assess_command};

    pub(crate) const CWD: &str = "/home/u/proj";

    /// `test_data/files/` mounted at the test workspace `/home/u/proj`.
    pub(crate) fn files() -> MemorySource {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/files");
        let mut source = MemorySource::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path.strip_prefix(&root).unwrap();
                    source = source
                        .with_file(Path::new(CWD).join(relative), std::fs::read(&path).unwrap());
                }
            }
        }
        source
    }

    /// Asserts the decision (`allow`, `hold`, `deny`) and, when given, that the rule id is
    /// among the reasons.
    pub(crate) fn check(command: &str, expected: &str) {
        let files = files();
        let context = Context {
            cwd: Path::new(CWD),
            home: Some(Path::new("/home/u")),
            blastdoor_home: Some(Path::new("/home/u/.blastdoor")),
            files: &files,
        };
        let assessment = assess_command(command, &context);
        let mut expected_parts = expected.split_whitespace();
        let decision = expected_parts.next().unwrap();
        let actual = match assessment.verdict.decision {
            Decision::Allow => "allow",
            Decision::Hold { .. } => "hold",
            Decision::Deny => "deny",
        };
        let ids: Vec<&str> = assessment
            .verdict
            .rule_ids()
            .map(|id| id.as_str())
            .collect();
        assert_eq!(actual, decision, "`{command}`: got {actual} {ids:?}");
        if let Some(rule) = expected_parts.next() {
            assert!(
                ids.contains(&rule),
                "`{command}`: expected {rule}, got {ids:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_id_is_valid_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for rule in ALL {
            assert!(blastdoor_core::RuleId::new(rule.id).is_ok(), "{}", rule.id);
            assert!(seen.insert(rule.id), "duplicate {}", rule.id);
            assert!(!rule.summary.is_empty() && !rule.alternative.is_empty());
        }
    }
}
