//! The part of the `blastdoor` package that the agent hook needs, shared by the full command
//! line (`src/main.rs`, `blastdoor hook HARNESS`) and the lean hook binary
//! (`src/bin/blastdoor-hook.rs`, `blastdoor-hook HARNESS`): [`home`] and the hook runner,
//! [`run_hook`]. It reads the harness's JSON from stdin, classifies the tool call, appends the
//! decision to the ledger, and prints the harness's answer.
//!
//! This library must not depend on the gateway, the policy engine, an async runtime, TLS or
//! the argument parser: the lean hook binary links only what is reachable from here, and
//! process start-up (loading and relocating the binary) is the hook's whole time budget. It
//! holds no decision logic of its own either: classification lives in `blastdoor-shell` and
//! `blastdoor-hook`, the ledger in `blastdoor-audit`, holds in `blastdoor-approval`.
//!
//! The hook always exits 0 with an answer in the harness's format: malformed input, an unknown
//! envelope, an internal error or a panic all become a deny with a reason, because most
//! harnesses treat a crashed hook as "allow". The decision is delivered to the ledger (to its
//! inbox, which every ledger handle folds into the tree; see `blastdoor_audit::inbox`) before it
//! is printed; when the ledger cannot be written, anything but an allowed plain read is denied.
//!
//! Holds: a held shell command is registered in the state database (when `BLASTDOOR_HOME` has
//! one) bound to the digest of (session, cwd, command), and the messages name the hold and the
//! command a human runs to approve it. Once approved, the identical command in the same session
//! is allowed exactly once (the hold is claimed); the next time it is held again. While
//! `BLASTDOOR_HOME/FROZEN` exists, every verdict on anything but a read is at least a hold.
//!
//! Nothing here needs `blastdoor init` or a config file, starts an async runtime, compiles a
//! regex or parses policy. The state database is opened only for a hold; the config file is
//! parsed only when it sets `hook.ledger_sync`.

pub mod home;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blastdoor_approval::{CanonicalRequest, HoldState, HoldStore, NewHold};
use blastdoor_audit::{AuditError, Durability, EncodedRecord, Ledger, Record, inbox};
use blastdoor_core::{
    Actor, AgentName, Decision, HoldId, Layer, Reason, RuleId, SessionId, Verdict,
};
use blastdoor_hook::{Action, Assessment, Context, Envelope, FsSource, Harness, HookRequest};

use crate::home::Home;

/// The most stdin the hook reads (Cursor's `beforeReadFile` carries the file's content).
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// The harness named `name` on a hook command line (`claude`, `codex`, `cursor`, `gemini`,
/// `copilot`).
pub fn harness_named(name: &str) -> Option<Harness> {
    Harness::ALL
        .into_iter()
        .find(|harness| harness.as_str() == name)
}

/// Runs the hook for `harness` over this process's stdin and stdout; always exits 0 (see the
/// crate documentation). Both `blastdoor hook HARNESS` and `blastdoor-hook HARNESS` are this.
pub fn run_hook(harness: Harness) -> ExitCode {
    let mut input = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(MAX_INPUT_BYTES)
        .read_to_end(&mut input)
        .map_err(|error| error.to_string());
    // A panic anywhere below still produces a deny in the harness's format.
    let answer = std::panic::catch_unwind(|| match read {
        Ok(_) => respond(harness, &input),
        Err(error) => respond_with_failure(
            harness,
            Envelope::fallback(harness, &[]),
            None,
            blastdoor_hook::internal_error(&format!("cannot read stdin: {error}")),
        ),
    });
    let bytes = match answer {
        Ok(bytes) => bytes,
        Err(_) => {
            let assessment = blastdoor_hook::internal_error("the hook panicked");
            // Record the deny if the ledger can still be reached; it is a deny either way.
            let _ = std::panic::catch_unwind(|| {
                record_decision(
                    Home::from_env().ok().as_ref(),
                    &actor(harness, None),
                    &assessment,
                )
            });
            let envelope = Envelope::fallback(harness, &input);
            let answer = blastdoor_hook::answer(envelope, None, &assessment.verdict);
            blastdoor_hook::render(envelope, &answer)
        }
    };
    let mut stdout = std::io::stdout().lock();
    // Nothing useful can be done if the harness closed our stdout.
    let _ = stdout.write_all(&bytes).and_then(|()| stdout.flush());
    ExitCode::SUCCESS
}

/// Rule id of the hold added to every non-read operation while blastdoor is frozen.
pub const FROZEN_RULE: &str = "policy.frozen";
/// Rule id of the reason naming the hold a held command was registered as.
const HOLD_REGISTERED_RULE: &str = "hook.hold-registered";
/// Rule id of the reason saying a held command could not be registered for approval.
const HOLD_UNREGISTERED_RULE: &str = "hook.hold-unregistered";
/// Rule id of the allow given to a command a human approved (released once).
const APPROVED_HOLD_RULE: &str = "hook.approved-hold";
/// Set to print where the hook's time goes (to stderr; for profiling).
const TIMING_ENV: &str = "BLASTDOOR_HOOK_TIMING";

/// The stdout bytes for one hook call.
fn respond(harness: Harness, input: &[u8]) -> Vec<u8> {
    let mut timer = Timer::from_env();
    let request = match blastdoor_hook::parse_request(harness, input) {
        Ok(request) => request,
        Err(error) => {
            let envelope = Envelope::fallback(harness, input);
            return respond_with_failure(
                harness,
                envelope,
                None,
                blastdoor_hook::malformed_input(&error),
            );
        }
    };
    timer.lap("parse");
    let home = Home::from_env().ok();
    let user_home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from);
    let cwd = request
        .cwd
        .clone()
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"));
    let context = Context {
        cwd: &cwd,
        home: user_home.as_deref(),
        blastdoor_home: home.as_ref().map(Home::root),
        files: &FsSource,
    };
    let assessment = apply_freeze(home.as_ref(), blastdoor_hook::assess(&request, &context));
    timer.lap("classify");
    let actor = actor(harness, request.session.clone());
    let (assessment, hold_id) = match (&assessment.verdict.decision, &home) {
        (Decision::Hold { .. }, Some(home)) => {
            let resolved = resolve_hold(home, &request, &cwd, &actor, assessment);
            timer.lap("holds");
            resolved
        }
        _ => (assessment, None),
    };
    let durability = hook_durability(home.as_ref());
    timer.lap("config");
    let verdict = record_decision_timed(
        home.as_ref(),
        &actor,
        &assessment,
        hold_id,
        durability,
        &mut timer,
    );
    let answer =
        blastdoor_hook::answer(request.envelope, request.permission_mode.as_ref(), &verdict);
    let bytes = blastdoor_hook::render(request.envelope, &answer);
    timer.lap("render");
    bytes
}

fn respond_with_failure(
    harness: Harness,
    envelope: Envelope,
    session: Option<SessionId>,
    assessment: Assessment,
) -> Vec<u8> {
    let home = Home::from_env().ok();
    // Already a deny: the ledger outcome cannot make it stricter.
    let verdict = record_decision(home.as_ref(), &actor(harness, session), &assessment);
    let answer = blastdoor_hook::answer(envelope, None, &verdict);
    blastdoor_hook::render(envelope, &answer)
}

fn actor(harness: Harness, session: Option<SessionId>) -> Actor {
    Actor {
        agent: AgentName::new(harness.as_str()).ok(),
        session,
    }
}

/// While `home/FROZEN` exists, anything but a read is held at least (a deny stays a deny).
/// One `stat()`; an unreadable marker counts as frozen.
pub fn apply_freeze(home: Option<&Home>, assessment: Assessment) -> Assessment {
    let frozen = home.is_some_and(|home| blastdoor_approval::frozen_marker_present(home.root()));
    if !frozen || assessment.operation.risk().is_read() {
        return assessment;
    }
    let freeze = Verdict::hold(
        1,
        vec![reason(
            FROZEN_RULE,
            "blastdoor is frozen: every operation but a read needs a human's approval until \
             an approver runs `blastdoor thaw`"
                .to_owned(),
            None,
            "blastdoor is frozen by a human: nothing but reads may run without approval. Do not \
             look for other credentials or other ways to do the same thing; ask the user.",
        )],
    );
    Assessment {
        operation: assessment.operation,
        verdict: assessment.verdict.strictest(freeze),
    }
}

/// For a held shell command: releases it once if a human approved this exact command (same
/// session, cwd and bytes), otherwise registers the hold (or finds the pending one) and names
/// it in the messages. Any failure keeps the hold, with a reason saying why it cannot be
/// approved (fail closed). Opens the state database only when it already exists.
fn resolve_hold(
    home: &Home,
    request: &HookRequest,
    cwd: &Path,
    actor: &Actor,
    assessment: Assessment,
) -> (Assessment, Option<HoldId>) {
    let Action::Shell { command } = &request.action else {
        return (assessment, None);
    };
    let unregistered = |assessment: Assessment, why: String| -> (Assessment, Option<HoldId>) {
        let note = reason(
            HOLD_UNREGISTERED_RULE,
            format!("this hold could not be registered for approval: {why}"),
            None,
            "",
        );
        let mut verdict = assessment.verdict;
        verdict.reasons.push(note);
        let assessment = Assessment {
            operation: assessment.operation,
            verdict,
        };
        (assessment, None)
    };
    let Some(session) = request.session.as_ref() else {
        return unregistered(
            assessment,
            "the harness gave no session id to bind an approval to".to_owned(),
        );
    };
    if !home.root().join(blastdoor_approval::STATE_FILE).is_file() {
        return unregistered(
            assessment,
            "no approvals are set up (run `blastdoor init` and `blastdoor approver add NAME`)"
                .to_owned(),
        );
    }
    let store = match HoldStore::open_in_home(home.root()) {
        Ok(store) => store,
        Err(error) => return unregistered(assessment, error.to_string()),
    };
    let now = now_unix_ms() / 1000;
    let digest =
        CanonicalRequest::shell(session.as_str(), &cwd.to_string_lossy(), command).digest();
    let existing = match store.find_by_digest(&digest, now) {
        Ok(existing) => existing,
        Err(error) => return unregistered(assessment, error.to_string()),
    };
    // Claiming can still fail (claimed by someone else meanwhile, frozen, cooling off): then
    // the command is held again below.
    let claimed = existing
        .as_ref()
        .filter(|hold| hold.state == HoldState::Approved)
        .and_then(|hold| {
            store
                .claim_for_execution(hold.id.as_str(), &digest, now)
                .ok()
        });
    if let Some(claimed) = claimed {
        let approvers = claimed.hold.approvers().join(", ");
        let verdict = Verdict::allow(vec![reason(
            APPROVED_HOLD_RULE,
            format!(
                "approved by {approvers} as hold `{}`; released for this one run",
                claimed.hold.id
            ),
            None,
            "",
        )]);
        let id = claimed.hold.id.clone();
        let assessment = Assessment {
            operation: assessment.operation,
            verdict,
        };
        return (assessment, Some(id));
    }
    let pending = existing.filter(|hold| hold.state == HoldState::Pending);
    let id = match pending {
        Some(hold) => hold.id,
        None => {
            let approvals_required = match assessment.verdict.decision {
                Decision::Hold { approvals } => approvals,
                Decision::Allow | Decision::Deny => std::num::NonZeroU8::MIN,
            };
            let new = NewHold {
                request: CanonicalRequest::shell(session.as_str(), &cwd.to_string_lossy(), command),
                kind: assessment.operation.kind(),
                risk: assessment.operation.risk(),
                targets: assessment.operation.targets().to_vec(),
                description: assessment.operation.description().to_owned(),
                summary: None,
                agent: actor.agent.clone(),
                token_id: None,
                session: Some(session.clone()),
                task: None,
                reasons: assessment.verdict.reasons.clone(),
                approvals_required,
                ttl_secs: blastdoor_approval::DEFAULT_HOLD_TTL_SECS,
                not_before: None,
                // The cooling-off window is the gateway's ([approvals] cooling_off): a held
                // shell command runs as soon as it is approved.
                cooling_off_secs: 0,
            };
            match store.create(new, now) {
                Ok(hold) => hold.id,
                Err(error) => return unregistered(assessment, error.to_string()),
            }
        }
    };
    let note = reason(
        HOLD_REGISTERED_RULE,
        format!("held as `{id}`: a human approves it with `blastdoor approve {id} --as <you>`"),
        None,
        &format!(
            "blastdoor is holding this command as hold {id}: a human must approve hold {id}; do \
             not look for other credentials or other ways to do the same thing; once approved, \
             run exactly the same command again."
        ),
    );
    let mut verdict = assessment.verdict;
    verdict.reasons.insert(0, note);
    let assessment = Assessment {
        operation: assessment.operation,
        verdict,
    };
    (assessment, Some(id))
}

/// The ledger durability for the hook: `hook.ledger_sync` from `BLASTDOOR_HOME/blastdoor.toml`
/// when the file sets it (the file is parsed only then), else the hook's default
/// (os-buffered). A config that cannot be read, or that sets the key but does not parse, gives
/// the stricter `Fsync`.
pub fn hook_durability(home: Option<&Home>) -> Durability {
    let Some(home) = home else {
        return Durability::Fsync;
    };
    let path = home.config_file();
    let sync = match std::fs::read_to_string(&path) {
        // Parsing the whole file (`blastdoor init` writes ~6 KB of comments) costs ~40-50 us;
        // a file that sets no `ledger_sync` outside a comment cannot change the default.
        Ok(text) if !sets_ledger_sync(&text) => blastdoor_config::LedgerSync::HOOK_DEFAULT,
        Ok(text) => match blastdoor_config::parse(&text, &path) {
            Ok(config) => config.hook.ledger_sync,
            Err(_) => blastdoor_config::LedgerSync::Full,
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            blastdoor_config::LedgerSync::HOOK_DEFAULT
        }
        Err(_) => blastdoor_config::LedgerSync::Full,
    };
    match sync {
        blastdoor_config::LedgerSync::Full => Durability::Fsync,
        blastdoor_config::LedgerSync::OsBuffered => Durability::OsBuffered,
    }
}

/// True when some line that is not a comment mentions `ledger_sync` (as a key, in an inline
/// table, anywhere): only then can the file change the hook's durability.
fn sets_ledger_sync(text: &str) -> bool {
    text.lines()
        .any(|line| !line.trim_start().starts_with('#') && line.contains("ledger_sync"))
}

/// Records the decision in `BLASTDOOR_HOME/ledger.sqlite` (created if needed; usually through
/// its inbox) and returns the verdict to act on: the assessed one, or a deny when the ledger
/// could not be written and the operation is anything but an allowed plain read. For one-shot
/// processes: a ledger connection, when one is opened, stays open until the process exits.
pub fn record_decision(home: Option<&Home>, actor: &Actor, assessment: &Assessment) -> Verdict {
    record_decision_with(home, actor, assessment, None, hook_durability(home))
}

/// [`record_decision`] naming the hold the decision is about, with the given durability.
pub fn record_decision_with(
    home: Option<&Home>,
    actor: &Actor,
    assessment: &Assessment,
    hold_id: Option<HoldId>,
    durability: Durability,
) -> Verdict {
    let mut timer = Timer { last: None };
    record_decision_timed(home, actor, assessment, hold_id, durability, &mut timer)
}

fn record_decision_timed(
    home: Option<&Home>,
    actor: &Actor,
    assessment: &Assessment,
    hold_id: Option<HoldId>,
    durability: Durability,
    timer: &mut Timer,
) -> Verdict {
    let outcome = match home {
        None => Err("neither BLASTDOOR_HOME nor HOME is set".to_owned()),
        Some(home) => append(
            &home.ledger_file(),
            actor,
            assessment,
            hold_id,
            durability,
            timer,
        )
        .map_err(|error| error.to_string()),
    };
    match outcome {
        Ok(_) => assessment.verdict.clone(),
        Err(error) => blastdoor_hook::ledger_unavailable(assessment, &error),
    }
}

fn append(
    path: &Path,
    actor: &Actor,
    assessment: &Assessment,
    hold_id: Option<HoldId>,
    durability: Durability,
    timer: &mut Timer,
) -> Result<(), AuditError> {
    let record = Record {
        time_unix_ms: now_unix_ms(),
        layer: Layer::Hook,
        actor: actor.clone(),
        operation: assessment.operation.clone(),
        verdict: assessment.verdict.clone(),
        hold_id,
        approvers: Vec::new(),
        snapshot_id: None,
        upstream_response: None,
    };
    // The record goes to the ledger's inbox (a few system calls; see blastdoor-audit's
    // `inbox`): delivered, and with `Fsync` on disk, once `deliver` returns.
    let exists = ledger_exists(path)?;
    let now = record.time_unix_ms;
    let encoded = EncodedRecord::new(&record)?;
    let delivered = match inbox::deliver(path, &encoded, durability, now) {
        // The inbox is full because folds failed for a long while, or its header was cut
        // short by a crash: if the ledger takes a fold now, this one is delivered after all.
        Err(_) if inbox::needs_fold_to_deliver(inbox::pending_bytes(path)) => {
            fold(path, durability)?;
            inbox::deliver(path, &encoded, durability, now)?
        }
        delivered => delivered?,
    };
    timer.lap("ledger deliver");
    if exists && !delivered.fold_due(now) {
        return Ok(());
    }
    // About once in a hundred calls, or ten seconds after the first unfolded record (and on
    // the very first call, with no `blastdoor init`): fold the inbox into the ledger, creating
    // it if needed. A fold that fails is an error here, so once a ledger stops taking entries
    // the hook denies within seconds; the records stay in the inbox.
    let folded = fold(path, durability);
    timer.lap("ledger fold");
    folded
}

/// Opens the ledger at `path` (creating it if needed) and folds its inbox. The connection is
/// left open for the process's exit to close (~35 us saved per call): closing would not
/// checkpoint (see blastdoor-audit), and the kernel releases the file locks when the process
/// ends, as it does for a killed process. Callers are one-shot processes (the hook,
/// `blastdoor check`).
fn fold(path: &Path, durability: Durability) -> Result<(), AuditError> {
    let ledger = match Ledger::open_existing_with(path, durability) {
        Ok(ledger) => ledger,
        Err(AuditError::Missing { .. }) => Ledger::open_or_create_with(path, durability)?,
        Err(error) => return Err(error),
    };
    let folded = ledger.fold_inbox();
    std::mem::forget(ledger);
    folded.map(|_| ())
}

/// False when there is no ledger yet; an error when its path holds something other than a
/// regular file (SQLite would refuse it; the inbox must not pretend otherwise).
fn ledger_exists(path: &Path) -> Result<bool, AuditError> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(true),
        Ok(_) => Err(AuditError::NotALedger {
            path: path.to_owned(),
            detail: "not a regular file".to_owned(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(AuditError::Open {
            path: path.to_owned(),
            detail: error.to_string(),
        }),
    }
}

fn reason(rule: &str, explanation: String, alternative: Option<String>, agent: &str) -> Reason {
    // INVARIANT: every `rule` passed here is one of this module's constants, each a valid
    // lowercase slug (the `rule_ids_are_valid` test checks them).
    #[expect(
        clippy::expect_used,
        reason = "rule ids are constants checked by a test"
    )]
    let rule_id = RuleId::new(rule).expect("rule id constants are valid slugs");
    Reason::new(rule_id, explanation, alternative, agent)
}

fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Prints the time of each step to stderr when `BLASTDOOR_HOOK_TIMING` is set (profiling).
struct Timer {
    last: Option<Instant>,
}

impl Timer {
    fn from_env() -> Timer {
        Timer {
            last: std::env::var_os(TIMING_ENV).map(|_| Instant::now()),
        }
    }

    fn lap(&mut self, step: &str) {
        if let Some(last) = self.last {
            let now = Instant::now();
            eprintln!(
                "blastdoor hook timing: {step}: {} us",
                now.duration_since(last).as_micros()
            );
            self.last = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_uncommented_ledger_sync_makes_the_config_worth_parsing() {
        assert!(!sets_ledger_sync(blastdoor_config::DEFAULT_CONFIG_TOML));
        assert!(!sets_ledger_sync("[hook]\n  # ledger_sync = \"full\"\n"));
        assert!(sets_ledger_sync("[hook]\nledger_sync = \"full\"\n"));
        assert!(sets_ledger_sync("hook = { ledger_sync = \"full\" }\n"));
    }

    #[test]
    fn rule_ids_are_valid() {
        for rule in [
            FROZEN_RULE,
            HOLD_REGISTERED_RULE,
            HOLD_UNREGISTERED_RULE,
            APPROVED_HOLD_RULE,
        ] {
            assert!(RuleId::new(rule).is_ok(), "{rule}");
        }
    }
}
