//! `blastdoor doctor`: checks this machine for the hazards the design names, and reports only
//! what it actually checked:
//! - for each harness, whether the hook (`blastdoor hook` or the lean `blastdoor-hook`) is
//!   registered (user and current-project settings), in every slot `blastdoor install` uses,
//!   with the fail-closed switch on where the harness has one, and whether the registered
//!   executable still exists;
//! - whether `BLASTDOOR_HOME` (and its ledger) can be read by group or others;
//! - (for information) how durable the hook's ledger entries are (`hook.ledger_sync`), whether
//!   held commands can be approved (a state database exists) and whether blastdoor is frozen;
//! - raw provider credentials in this process's environment (names only, never values);
//! - backups that die with what they protect: a `[[protect]]` resource whose only method is
//!   `railway_backup` (kept by Railway, deleted with the volume), or a local snapshot store
//!   inside a path a `command` method reads; and a snapshot store the agent's user could
//!   change: writable by group or others, or writable by the user running doctor (taken to
//!   be the agent's) while `BLASTDOOR_HOME` is too.
//!
//! Exit status: 0 when no hazard was found, 2 when at least one was, 1 on error.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
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
    check_backups(&home, &mut findings);

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
            if !executable_exists(harness, command) {
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

/// The program of a registered hook command line (`PROGRAM hook HARNESS` or the lean
/// `PROGRAM HARNESS`) exists and is executable.
fn executable_exists(harness: Harness, command: &str) -> bool {
    let Some(program) = blastdoor_hook::registered_program(harness, command) else {
        return false;
    };
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

/// Where backups live, against the failure domains they must survive and the user who could
/// delete them.
fn check_backups(home: &Home, findings: &mut Vec<Finding>) {
    let config = match blastdoor_config::load_or_default(&home.config_file()) {
        Ok(config) => config,
        Err(error) => {
            findings.push(Finding {
                level: Level::Hazard,
                check: "backups",
                message: format!("cannot check where backups live: {error}"),
            });
            return;
        }
    };
    check_protection(&config, findings);
    if let blastdoor_config::SnapshotStore::Directory(store) = &config.snapshots.store {
        check_store_directory(home, store, findings);
    }
}

/// `[[protect]]` entries whose backups share the protected resource's fate.
fn check_protection(config: &blastdoor_config::Config, findings: &mut Vec<Finding>) {
    use blastdoor_config::{ProtectMethod, SnapshotStore};
    // The configuration allows one entry per resource, so its method is its only backup.
    let same_platform: Vec<String> = config
        .protect
        .iter()
        .filter(|entry| entry.method == ProtectMethod::RailwayBackup)
        .map(|entry| format!("{} `{}`", entry.upstream.as_str(), entry.resource))
        .collect();
    if !same_platform.is_empty() {
        findings.push(Finding {
            level: Level::Hazard,
            check: "backups",
            message: format!(
                "only backed up on the same platform (method `railway_backup`: Railway keeps \
                 the backup with the volume, and deleting the volume deletes it): {}; add a \
                 `pg_dump` or `command` protection to an isolated [snapshots] store",
                same_platform.join(", ")
            ),
        });
    }
    if let SnapshotStore::Directory(store) = &config.snapshots.store {
        let store = normalise(store);
        for entry in &config.protect {
            let ProtectMethod::Command { argv } = &entry.method else {
                continue;
            };
            let shared = argv
                .iter()
                .skip(1)
                .map(Path::new)
                .filter(|path| path.is_absolute() && path.components().count() > 1)
                .map(normalise)
                .find(|data| store.starts_with(data) || data.starts_with(&store));
            if let Some(data) = shared {
                findings.push(Finding {
                    level: Level::Hazard,
                    check: "backups",
                    message: format!(
                        "the snapshot store {} shares a path with {} `{}`'s data ({}): \
                         losing that volume loses its snapshots too",
                        store.display(),
                        entry.upstream.as_str(),
                        entry.resource,
                        data.display()
                    ),
                });
            }
        }
    }
}

/// A local snapshot store must not be changeable by the agent's user.
fn check_store_directory(home: &Home, store: &Path, findings: &mut Vec<Finding>) {
    let Ok(metadata) = std::fs::metadata(store) else {
        findings.push(Finding {
            level: Level::Info,
            check: "snapshot-store",
            message: format!(
                "{} does not exist yet (created with the first snapshot)",
                store.display()
            ),
        });
        return;
    };
    let mode = metadata.permissions().mode();
    if mode & 0o022 != 0 {
        findings.push(Finding {
            level: Level::Hazard,
            check: "snapshot-store",
            message: format!(
                "{} is writable by {}: anyone there can delete snapshots (chmod go-w)",
                store.display(),
                match (mode & 0o020 != 0, mode & 0o002 != 0) {
                    (true, true) => "group and others",
                    (true, false) => "its group",
                    _ => "others",
                }
            ),
        });
        return;
    }
    let Some(user) = CurrentUser::read() else {
        findings.push(Finding {
            level: Level::Info,
            check: "snapshot-store",
            message: format!(
                "{} is not writable by group or others (who this process runs as is \
                 unknown, so its own access was not checked)",
                store.display()
            ),
        });
        return;
    };
    let home_writable =
        std::fs::metadata(home.root()).is_ok_and(|metadata| user.can_write(&metadata));
    if user.can_write(&metadata) && home_writable {
        findings.push(Finding {
            level: Level::Hazard,
            check: "snapshot-store",
            message: format!(
                "{} and {} are writable by this user (uid {}): if the agent runs as this \
                 user it can delete the snapshots and the state, and the deployment model is \
                 broken; run the gateway as another user, container or host",
                store.display(),
                home.root().display(),
                user.uid
            ),
        });
    } else {
        findings.push(Finding {
            level: Level::Ok,
            check: "snapshot-store",
            message: format!("{} is not writable by this user", store.display()),
        });
    }
}

/// Lexically resolves `.` and `..` (the paths may not exist, so no `canonicalize`).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Who this process runs as (effective ids), from `/proc/self/status`.
struct CurrentUser {
    uid: u32,
    gids: Vec<u32>,
}

impl CurrentUser {
    fn read() -> Option<CurrentUser> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let field = |name: &str| -> Option<Vec<u32>> {
            let line = status.lines().find_map(|line| line.strip_prefix(name))?;
            line.split_whitespace()
                .map(|id| id.parse().ok())
                .collect::<Option<Vec<u32>>>()
        };
        // "Uid:" and "Gid:" list real, effective, saved and filesystem ids.
        let uid = *field("Uid:")?.get(1)?;
        let mut gids = vec![*field("Gid:")?.get(1)?];
        gids.extend(field("Groups:").unwrap_or_default());
        Some(CurrentUser { uid, gids })
    }

    /// Whether the mode bits let this user create or delete entries in `metadata`'s directory.
    fn can_write(&self, metadata: &std::fs::Metadata) -> bool {
        let mode = metadata.permissions().mode();
        self.uid == 0
            || (metadata.uid() == self.uid && mode & 0o200 != 0)
            || (self.gids.contains(&metadata.gid()) && mode & 0o020 != 0)
            || mode & 0o002 != 0
    }
}
