//! `blastdoor doctor`: checks this machine for the hazards the design names, and reports only
//! what it actually checked:
//! - for each harness, whether `blastdoor hook` is registered (user and current-project
//!   settings), in every slot `blastdoor install` uses, with the fail-closed switch on where
//!   the harness has one, and whether the registered executable still exists;
//! - whether `BLASTDOOR_HOME` (and its ledger) can be read by group or others;
//! - (for information) how durable the hook's ledger entries are (`hook.ledger_sync`), whether
//!   held commands can be approved (a state database exists) and whether blastdoor is frozen;
//! - raw provider credentials in this process's environment (names only, never values).
//!
//! Exit status: 0 when no hazard was found, 2 when at least one was, 1 on error.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_hook::{Harness, Scope};
use serde::Serialize;

use crate::home::Home;

/// Environment variables that hold a raw provider credential when set.
const CREDENTIAL_VARIABLES: &[&str] = &[
    "RAILWAY_TOKEN",
    "RAILWAY_API_TOKEN",
    "RAILWAY_PROJECT_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "HEROKU_API_KEY",
    "FLY_API_TOKEN",
    "FLY_ACCESS_TOKEN",
    "VERCEL_TOKEN",
    "NETLIFY_AUTH_TOKEN",
    "SUPABASE_ACCESS_TOKEN",
    "DIGITALOCEAN_ACCESS_TOKEN",
    "CLOUDFLARE_API_TOKEN",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "KUBECONFIG",
    "PGPASSWORD",
    "DATABASE_URL",
];

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Info,
    Hazard,
}

#[derive(Debug, Serialize)]
struct Finding {
    level: Level,
    check: &'static str,
    message: String,
}

pub fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let user_home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set")?;
    let project = std::env::current_dir().context("cannot read the current directory")?;

    let mut findings = Vec::new();
    let mut protected = Vec::new();
    for harness in Harness::ALL {
        if check_harness(harness, &user_home, &project, &mut findings) {
            protected.push(harness.as_str());
        }
    }
    findings.push(match protected.is_empty() {
        true => Finding {
            level: Level::Hazard,
            check: "hooks",
            message:
                "no harness has the blastdoor hook installed (run `blastdoor install HARNESS`)"
                    .to_owned(),
        },
        false => Finding {
            level: Level::Ok,
            check: "hooks",
            message: format!("protected harnesses: {}", protected.join(", ")),
        },
    });
    check_home(&home, &mut findings);
    check_hook_state(&home, &mut findings);
    check_environment(&mut findings);

    let hazards = findings
        .iter()
        .filter(|finding| matches!(finding.level, Level::Hazard))
        .count();
    if args.json {
        println!(
            "{}",
            serde_json::json!({"findings": findings, "hazards": hazards})
        );
    } else {
        for finding in &findings {
            let label = match finding.level {
                Level::Ok => "ok    ",
                Level::Info => "info  ",
                Level::Hazard => "HAZARD",
            };
            println!("{label} {}: {}", finding.check, finding.message);
        }
        println!("{hazards} hazard(s) found");
    }
    Ok(ExitCode::from(if hazards == 0 { 0 } else { 2 }))
}

/// Reports `harness`'s registrations; true when at least one settings file protects it fully.
fn check_harness(
    harness: Harness,
    user_home: &Path,
    project: &Path,
    findings: &mut Vec<Finding>,
) -> bool {
    let mut protected = false;
    let mut registered_anywhere = false;
    for scope in [Scope::User, Scope::Project] {
        let Some(path) = harness.settings_file(scope, user_home, project) else {
            continue;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                findings.push(hazard(
                    harness,
                    format!("cannot read `{}`: {error}", path.display()),
                ));
                continue;
            }
        };
        let registration = match blastdoor_hook::inspect_registration(harness, &text, &path) {
            Ok(registration) => registration,
            Err(error) => {
                findings.push(hazard(harness, error.to_string()));
                continue;
            }
        };
        if registration.present.is_empty() {
            continue;
        }
        registered_anywhere = true;
        let mut problems = Vec::new();
        if !registration.missing.is_empty() {
            let missing: Vec<String> = registration
                .missing
                .iter()
                .map(|slot| match slot.matcher {
                    Some(matcher) => format!("{} {matcher}", slot.event),
                    None => slot.event.to_owned(),
                })
                .collect();
            problems.push(format!("not registered for {}", missing.join(", ")));
        }
        if !registration.failing_open.is_empty() {
            problems.push("fails open: the fail-closed switch is off".to_owned());
        }
        for command in &registration.commands {
            if !executable_exists(command) {
                problems.push(format!(
                    "`{command}` does not point at an existing executable"
                ));
            }
        }
        if problems.is_empty() {
            protected = true;
            let switch = match harness.has_fail_closed_switch() {
                true => "fail-closed switch on",
                false => "this harness has no fail-closed switch",
            };
            findings.push(Finding {
                level: Level::Ok,
                check: harness.as_str(),
                message: format!("hook installed in {} ({switch})", path.display()),
            });
        } else {
            findings.push(hazard(
                harness,
                format!("{}: {}", path.display(), problems.join("; ")),
            ));
        }
    }
    if !registered_anywhere {
        let harness_dir = user_home.join(harness.settings_dir());
        let present = harness != Harness::Copilot && harness_dir.is_dir();
        findings.push(match present {
            true => hazard(
                harness,
                format!(
                    "{} exists but the blastdoor hook is not installed",
                    harness_dir.display()
                ),
            ),
            false => Finding {
                level: Level::Info,
                check: harness.as_str(),
                message: "hook not installed (no settings for this harness found)".to_owned(),
            },
        });
    }
    protected
}

fn hazard(harness: Harness, message: String) -> Finding {
    Finding {
        level: Level::Hazard,
        check: harness.as_str(),
        message,
    }
}

/// The program of a registered `PROGRAM hook HARNESS` command line exists and is executable.
fn executable_exists(command: &str) -> bool {
    let Some(program) = command.rsplitn(3, ' ').nth(2) else {
        return false;
    };
    let program = program
        .strip_prefix('\'')
        .and_then(|quoted| quoted.strip_suffix('\''))
        .map(|quoted| quoted.replace(r"'\''", "'"))
        .unwrap_or_else(|| program.to_owned());
    std::fs::metadata(&program)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0)
}

/// What the hook will do with this home: ledger durability, holds, freeze. Information only.
fn check_hook_state(home: &Home, findings: &mut Vec<Finding>) {
    let ledger = match crate::cmd::hook::hook_durability(Some(home)) {
        blastdoor_audit::Durability::Fsync => {
            "fsynced before the agent gets its answer (survives a power failure)"
        }
        blastdoor_audit::Durability::OsBuffered => {
            "committed to the OS before the agent gets its answer (survives a killed agent; \
             a power failure may lose the latest entries)"
        }
    };
    findings.push(Finding {
        level: Level::Info,
        check: "hook-ledger",
        message: format!("each hook decision is {ledger} (hook.ledger_sync)"),
    });
    let holds = match home.root().join(blastdoor_approval::STATE_FILE).is_file() {
        true => {
            "held shell commands are registered as holds a human can approve (`blastdoor holds`)"
        }
        false => {
            "no state database: held commands cannot be approved until `blastdoor approver add NAME`"
        }
    };
    findings.push(Finding {
        level: Level::Info,
        check: "hook-holds",
        message: holds.to_owned(),
    });
    if blastdoor_approval::frozen_marker_present(home.root()) {
        findings.push(Finding {
            level: Level::Info,
            check: "frozen",
            message: "blastdoor is frozen: every non-read operation is held until `blastdoor thaw`"
                .to_owned(),
        });
    }
}

fn check_home(home: &Home, findings: &mut Vec<Finding>) {
    let root = home.root();
    let Ok(metadata) = std::fs::metadata(root) else {
        findings.push(Finding {
            level: Level::Info,
            check: "home",
            message: format!(
                "{} does not exist yet (the hook works without it)",
                root.display()
            ),
        });
        return;
    };
    let mut open = Vec::new();
    if metadata.permissions().mode() & 0o077 != 0 {
        open.push(root.to_path_buf());
    }
    let ledger = home.ledger_file();
    if let Ok(metadata) = std::fs::metadata(&ledger)
        && metadata.permissions().mode() & 0o077 != 0
    {
        open.push(ledger);
    }
    findings.push(match open.is_empty() {
        true => Finding {
            level: Level::Ok,
            check: "home",
            message: format!("{} is private to its owner", root.display()),
        },
        false => Finding {
            level: Level::Hazard,
            check: "home",
            message: format!(
                "readable by group or others: {} (chmod go-rwx)",
                open.iter()
                    .map(|path| path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    });
}

fn check_environment(findings: &mut Vec<Finding>) {
    let found: Vec<&str> = CREDENTIAL_VARIABLES
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
        .collect();
    findings.push(match found.is_empty() {
        true => Finding {
            level: Level::Ok,
            check: "environment",
            message: "no raw provider credential variables set".to_owned(),
        },
        false => Finding {
            level: Level::Hazard,
            check: "environment",
            message: format!(
                "raw provider credentials in the environment an agent inherits: {}",
                found.join(", ")
            ),
        },
    });
}
