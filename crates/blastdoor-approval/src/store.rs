//! [`HoldStore`]: holds, approvers and the freeze flag in `BLASTDOOR_HOME/state.sqlite`,
//! shared by the gateway, the CLI and hook processes.
//!
//! SQLite in WAL mode with `synchronous=FULL` and a busy timeout. Every change is one
//! `BEGIN IMMEDIATE` transaction (so two processes never interleave a read and a write of the
//! same hold) that: reads the hold, lets the sans-IO state machine in [`crate::hold`] decide,
//! writes the result with an `UPDATE ... WHERE id = ? AND state = <the state it was read in>`
//! that must change exactly one row, appends the ledger entry, and only then commits. A ledger
//! that refuses the entry rolls the change back: nothing is acknowledged that the ledger does
//! not show. (If the commit itself failed after the append, the ledger would show a change
//! that did not happen; it can never miss one that did.)

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use blastdoor_audit::{Ledger, Record, UpstreamResponse};
use blastdoor_core::{
    Actor, AgentName, HoldId, Layer, Operation, OperationKind, Reason, Risk, RuleId, Verdict,
};
use rand_core::{OsRng, RngCore as _};
use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};

use crate::{ApprovalError, ApprovalProgress, ClaimedHold, Digest, Hold, HoldState, NewHold};

/// How long a hold waits when the caller does not say: one hour.
pub const DEFAULT_HOLD_TTL_SECS: i64 = 3600;
/// The state database's file name inside `BLASTDOOR_HOME`.
pub const STATE_FILE: &str = "state.sqlite";
/// The freeze marker's file name inside `BLASTDOOR_HOME`.
pub const FROZEN_MARKER_FILE: &str = "FROZEN";
/// The encrypted approver seeds' file name inside `BLASTDOOR_HOME`.
pub const APPROVER_SECRETS_FILE: &str = "approvers.json";

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS holds (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    not_before INTEGER,
    cooling_off_secs INTEGER NOT NULL DEFAULT 0,
    digest TEXT NOT NULL,
    hold_json TEXT NOT NULL,
    agent TEXT
);
CREATE INDEX IF NOT EXISTS holds_by_state ON holds (state, created_at);
CREATE TABLE IF NOT EXISTS approvers (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    last_step INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER
);
CREATE TABLE IF NOT EXISTS freeze (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    reason TEXT NOT NULL,
    frozen_by TEXT NOT NULL,
    frozen_at INTEGER NOT NULL
);
";

/// What [`HoldStore::create_or_join`] did with a held request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// A new pending hold, recorded in the ledger.
    Created(Hold),
    /// The same agent's identical request was already waiting: that hold, unchanged.
    Pending(Hold),
}

impl Queued {
    pub fn hold(&self) -> &Hold {
        match self {
            Queued::Created(hold) | Queued::Pending(hold) => hold,
        }
    }

    pub fn into_hold(self) -> Hold {
        match self {
            Queued::Created(hold) | Queued::Pending(hold) => hold,
        }
    }
}

/// How many holds of one agent wait for a decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingCount {
    /// `None`: holds that name no agent.
    pub agent: Option<AgentName>,
    pub pending: u64,
}

/// Where a store keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePaths {
    /// The SQLite state database.
    pub state_db: PathBuf,
    /// The key directory holding `secrets.key` (shared with the secret store).
    pub keys_dir: PathBuf,
    /// The approvers' TOTP seeds, encrypted like the secret store.
    pub approver_secrets: PathBuf,
    /// The freeze marker the hook stats.
    pub frozen_marker: PathBuf,
}

impl StorePaths {
    /// The standard layout inside `BLASTDOOR_HOME`.
    pub fn in_home(home: &Path) -> StorePaths {
        StorePaths {
            state_db: home.join(STATE_FILE),
            keys_dir: home.join("keys"),
            approver_secrets: home.join(APPROVER_SECRETS_FILE),
            frozen_marker: home.join(FROZEN_MARKER_FILE),
        }
    }
}

/// Appends a ledger record and returns its sequence number once durable.
pub trait ApprovalLog: Send + Sync + 'static {
    fn append(&self, record: &Record) -> Result<u64, String>;
}

impl ApprovalLog for Ledger {
    fn append(&self, record: &Record) -> Result<u64, String> {
        Ledger::append(self, record).map_err(|error| error.to_string())
    }
}

/// The approval state. Cheap to share (`Arc<HoldStore>`); every method is blocking (SQLite,
/// fsync), so async callers use `spawn_blocking`.
pub struct HoldStore {
    pub(crate) paths: StorePaths,
    connection: Mutex<Connection>,
    pub(crate) ledger: Arc<dyn ApprovalLog>,
}

impl std::fmt::Debug for HoldStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HoldStore")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl HoldStore {
    /// Opens (creating if needed) the state database at `paths.state_db`, appending to `ledger`.
    pub fn open(
        paths: StorePaths,
        ledger: Arc<dyn ApprovalLog>,
    ) -> Result<HoldStore, ApprovalError> {
        let connection = connect(&paths.state_db)?;
        Ok(HoldStore {
            paths,
            connection: Mutex::new(connection),
            ledger,
        })
    }

    /// Opens the store in `home` with the ledger at `home/ledger.sqlite`.
    pub fn open_in_home(home: &Path) -> Result<HoldStore, ApprovalError> {
        let ledger = Ledger::open_or_create(&home.join("ledger.sqlite"))
            .map_err(|error| ApprovalError::Ledger(error.to_string()))?;
        HoldStore::open(StorePaths::in_home(home), Arc::new(ledger))
    }

    pub fn paths(&self) -> &StorePaths {
        &self.paths
    }

    /// Stores a new pending hold (random 128-bit id) and records it in the ledger. Always a new
    /// hold; the gateway uses [`HoldStore::create_or_join`], which protects the queue.
    pub fn create(&self, new: NewHold, now: i64) -> Result<Hold, ApprovalError> {
        let hold = Hold::new(new_hold_id()?, new, now)?;
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        self.insert(&transaction, &hold, now)?;
        transaction.commit()?;
        Ok(hold)
    }

    /// Queues a held request, protecting the approvers' queue, in one transaction (atomic
    /// across threads and processes):
    /// - when the same agent already has a pending hold (not decided, not past its expiry) for
    ///   the identical operation (same [`Digest`]), that hold is returned unchanged
    ///   ([`Queued::Pending`]; nothing is written and it gets no new ledger entry);
    /// - otherwise, when the agent already has `max_pending` pending holds, nothing is stored
    ///   and the answer is [`ApprovalError::QueueFull`] (the caller records the refusal);
    /// - otherwise a new hold is stored and recorded, as [`HoldStore::create`] does
    ///   ([`Queued::Created`]).
    ///
    /// Holds are counted per agent name: every token of one agent shares the cap.
    pub fn create_or_join(
        &self,
        new: NewHold,
        max_pending: NonZeroU32,
        now: i64,
    ) -> Result<Queued, ApprovalError> {
        let digest = new.request.digest();
        let agent = new.agent.as_ref().map(AgentName::as_str).map(str::to_owned);
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = transaction
            .query_row(
                "SELECT id, state, hold_json FROM holds
                 WHERE agent IS ?1 AND state = 'pending' AND expires_at > ?2 AND digest = ?3
                 ORDER BY created_at, id
                 LIMIT 1",
                params![agent, now, digest.to_hex()],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        if let Some((id, state, json)) = existing {
            let hold = decode(&id, &state, &json)?;
            if hold.agent == new.agent && hold.digest == digest {
                return Ok(Queued::Pending(hold));
            }
            return Err(ApprovalError::Corrupt(format!(
                "hold `{id}`: its row and its record disagree"
            )));
        }
        let (pending, frees_at) = transaction.query_row(
            "SELECT COUNT(*), MIN(expires_at) FROM holds
             WHERE agent IS ?1 AND state = 'pending' AND expires_at > ?2",
            params![agent, now],
            |row| Ok((row.get::<_, u64>(0)?, row.get::<_, Option<i64>>(1)?)),
        )?;
        if pending >= u64::from(max_pending.get()) {
            return Err(ApprovalError::QueueFull {
                agent: new.agent,
                pending,
                cap: max_pending.get(),
                frees_at,
            });
        }
        let hold = Hold::new(new_hold_id()?, new, now)?;
        self.insert(&transaction, &hold, now)?;
        transaction.commit()?;
        Ok(Queued::Created(hold))
    }

    /// How many holds wait for a decision (pending and not past their expiry at `now`), per
    /// agent, most first (then by name); holds without an agent count under `None`.
    pub fn pending_counts(&self, now: i64) -> Result<Vec<PendingCount>, ApprovalError> {
        let connection = self.lock()?;
        let mut statement = connection.prepare(
            "SELECT agent, COUNT(*) FROM holds
             WHERE state = 'pending' AND expires_at > ?1
             GROUP BY agent
             ORDER BY COUNT(*) DESC, agent",
        )?;
        let rows = statement.query_map([now], |row| {
            Ok((row.get::<_, Option<String>>(0)?, row.get::<_, u64>(1)?))
        })?;
        let mut counts = Vec::new();
        for row in rows {
            let (agent, pending) = row?;
            let agent = agent
                .map(|name| {
                    AgentName::new(&name).map_err(|_| {
                        ApprovalError::Corrupt(format!("a hold names an invalid agent `{name}`"))
                    })
                })
                .transpose()?;
            counts.push(PendingCount { agent, pending });
        }
        Ok(counts)
    }

    /// Inserts a new hold and appends its ledger entry, inside `transaction`.
    fn insert(
        &self,
        transaction: &Transaction<'_>,
        hold: &Hold,
        now: i64,
    ) -> Result<(), ApprovalError> {
        transaction.execute(
            "INSERT INTO holds (id, state, created_at, expires_at, not_before, cooling_off_secs, digest, hold_json, agent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                hold.id.as_str(),
                hold.state.as_str(),
                hold.created_at,
                hold.expires_at,
                hold.not_before,
                hold.cooling_off_secs,
                hold.digest.to_hex(),
                encode(hold)?,
                hold.agent.as_ref().map(AgentName::as_str),
            ],
        )?;
        let explanation = format!(
            "held for {} approval(s) until unix time {}: {}",
            hold.approvals_required, hold.expires_at, hold.summary
        );
        let verdict = Verdict::hold(
            hold.approvals_required,
            vec![reason("approval.hold-created", explanation)],
        );
        self.append(&hold_record(hold, verdict, Vec::new(), now, None))?;
        Ok(())
    }

    /// The hold `id`, as stored (an overdue hold reads as stored until something touches it;
    /// [`Hold::is_due_to_expire`] tells).
    pub fn hold(&self, id: &str) -> Result<Hold, ApprovalError> {
        let connection = self.lock()?;
        load(&connection, id)
    }

    /// Holds newest first: pending and approved ones, or every hold with `all`.
    pub fn holds(&self, all: bool) -> Result<Vec<Hold>, ApprovalError> {
        let connection = self.lock()?;
        let sql = if all {
            "SELECT id, state, hold_json FROM holds ORDER BY created_at DESC, id"
        } else {
            "SELECT id, state, hold_json FROM holds WHERE state IN ('pending', 'approved') ORDER BY created_at DESC, id"
        };
        let mut statement = connection.prepare(sql)?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        let mut holds = Vec::new();
        for row in rows {
            let (id, state, json) = row?;
            holds.push(decode(&id, &state, &json)?);
        }
        Ok(holds)
    }

    /// The open hold (approved or pending, not past its expiry at `now`) whose operation has
    /// `digest`, preferring an approved one, oldest first: how the hook finds the approval of a
    /// command it held before. Reads only; claiming is [`HoldStore::claim_for_execution`].
    pub fn find_by_digest(&self, digest: &Digest, now: i64) -> Result<Option<Hold>, ApprovalError> {
        let connection = self.lock()?;
        let row = connection
            .query_row(
                "SELECT id, state, hold_json FROM holds
                 WHERE digest = ?1 AND state IN ('approved', 'pending') AND expires_at > ?2
                 ORDER BY state = 'approved' DESC, created_at, id
                 LIMIT 1",
                params![digest.to_hex(), now],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(id, state, json)| decode(&id, &state, &json))
            .transpose()
    }

    /// `approver`'s approval of hold `id`, with their current TOTP `code`. The code's time step
    /// is consumed in the same transaction, so it can never be used again.
    pub fn approve(
        &self,
        id: &str,
        approver: &str,
        code: &str,
        now: i64,
    ) -> Result<(Hold, ApprovalProgress), ApprovalError> {
        let seed = self.approver_seed(approver)?;
        self.counting_failures(approver, now, || {
            self.transition(id, now, None, |hold, transaction| {
                crate::approvers::consume_code(transaction, approver, &seed, code, now)?;
                approve_in(hold, approver, now)
            })
        })
    }

    /// The approval of a human whose code the caller already checked with
    /// [`HoldStore::verify_approver`] (the web UI's logged-in session).
    pub fn approve_as(
        &self,
        id: &str,
        approver: &crate::VerifiedApprover,
        now: i64,
    ) -> Result<(Hold, ApprovalProgress), ApprovalError> {
        self.transition(id, now, None, |hold, transaction| {
            crate::approvers::require_enrolled(transaction, approver.name())?;
            approve_in(hold, approver.name(), now)
        })
    }

    /// `approver`'s denial of hold `id` with `reason`; needs their current code, because a
    /// denial is recorded under an approver's name. (`cancel` is the no-code way to stop a hold.)
    pub fn deny(
        &self,
        id: &str,
        approver: &str,
        code: &str,
        reason: &str,
        now: i64,
    ) -> Result<Hold, ApprovalError> {
        let seed = self.approver_seed(approver)?;
        self.counting_failures(approver, now, || {
            self.transition(id, now, None, |hold, transaction| {
                crate::approvers::consume_code(transaction, approver, &seed, code, now)?;
                deny_in(hold, approver, reason, now)
            })
        })
        .map(|(hold, ())| hold)
    }

    /// The denial of an approver verified by [`HoldStore::verify_approver`].
    pub fn deny_as(
        &self,
        id: &str,
        approver: &crate::VerifiedApprover,
        reason: &str,
        now: i64,
    ) -> Result<Hold, ApprovalError> {
        self.transition(id, now, None, |hold, transaction| {
            crate::approvers::require_enrolled(transaction, approver.name())?;
            deny_in(hold, approver.name(), reason, now)
        })
        .map(|(hold, ())| hold)
    }

    /// Cancels hold `id` (pending or approved); it can never run. `by` names who asked, for
    /// the ledger. Needs no code: stopping an operation is always safe.
    pub fn cancel(&self, id: &str, by: &str, now: i64) -> Result<Hold, ApprovalError> {
        self.transition(id, now, None, |hold, _| {
            hold.cancel(now)?;
            let verdict = Verdict::deny(vec![reason(
                "approval.cancelled",
                format!("cancelled by `{by}`"),
            )]);
            Ok(((), verdict, vec![by.to_owned()], None))
        })
        .map(|(hold, ())| hold)
    }

    /// Consumes an approved hold for the re-sent request whose digest is `digest`. Succeeds
    /// exactly once, across processes; every refusal is its own [`ApprovalError`] variant:
    /// [`AlreadyExecuted`](ApprovalError::AlreadyExecuted),
    /// [`DigestMismatch`](ApprovalError::DigestMismatch),
    /// [`NotApproved`](ApprovalError::NotApproved), [`Denied`](ApprovalError::Denied),
    /// [`Expired`](ApprovalError::Expired), [`Cancelled`](ApprovalError::Cancelled),
    /// [`CoolingOff`](ApprovalError::CoolingOff), [`Frozen`](ApprovalError::Frozen),
    /// [`UnknownHold`](ApprovalError::UnknownHold).
    pub fn claim_for_execution(
        &self,
        id: &str,
        digest: &Digest,
        now: i64,
    ) -> Result<ClaimedHold, ApprovalError> {
        self.transition(id, now, Some(digest), |hold, transaction| {
            if hold.state == HoldState::Approved
                && crate::approvers::frozen_in(transaction)?.is_some()
            {
                return Err(ApprovalError::Frozen {
                    id: hold.id.clone(),
                });
            }
            hold.claim(digest, now)?;
            let verdict = Verdict::allow(vec![reason(
                "approval.executed",
                "approved operation released for execution, once".to_owned(),
            )]);
            Ok(((), verdict, hold.approvers(), None))
        })
        .map(|(hold, ())| ClaimedHold { hold })
    }

    /// Records the upstream's answer to a claimed hold (once).
    pub fn mark_executed(
        &self,
        id: &str,
        status: u16,
        summary: &str,
        now: i64,
    ) -> Result<Hold, ApprovalError> {
        self.transition(id, now, None, |hold, _| {
            hold.record_outcome(status, summary, now)?;
            let verdict = Verdict::allow(vec![reason(
                "approval.outcome",
                "the upstream answered".to_owned(),
            )]);
            let response = UpstreamResponse {
                status,
                summary: blastdoor_core::redact_known_secrets(summary),
            };
            Ok(((), verdict, hold.approvers(), Some(response)))
        })
        .map(|(hold, ())| hold)
    }

    /// Marks every overdue pending or approved hold expired (each with its ledger entry).
    pub fn expire_due(&self, now: i64) -> Result<Vec<HoldId>, ApprovalError> {
        let due: Vec<String> = {
            let connection = self.lock()?;
            let mut statement = connection.prepare(
                "SELECT id FROM holds WHERE state IN ('pending', 'approved') AND expires_at <= ?1",
            )?;
            let rows = statement.query_map([now], |row| row.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut expired = Vec::new();
        for id in due {
            // The transition expires the hold before calling the closure; a hold that is no
            // longer due (changed meanwhile) reaches the closure, which refuses to touch it.
            let untouched =
                |hold: &mut Hold, _: &Transaction<'_>| -> Result<Change<()>, ApprovalError> {
                    Err(ApprovalError::IllegalTransition {
                        id: hold.id.clone(),
                        from: hold.state,
                        event: "expire",
                    })
                };
            match self.transition(&id, now, None, untouched) {
                Err(ApprovalError::Expired { id }) => expired.push(id),
                Err(ApprovalError::IllegalTransition { .. }) | Ok(_) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(expired)
    }

    /// One transaction: load, expire if due, apply `change`, write back guarded by the state it
    /// was read in (and by `digest` for a claim), append to the ledger, commit.
    fn transition<T>(
        &self,
        id: &str,
        now: i64,
        digest_guard: Option<&Digest>,
        change: impl FnOnce(&mut Hold, &Transaction<'_>) -> Result<Change<T>, ApprovalError>,
    ) -> Result<(Hold, T), ApprovalError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut hold = load(&transaction, id)?;
        let read_state = hold.state;
        if hold.expire_if_due(now) {
            write(&transaction, &hold, read_state, None)?;
            let verdict = Verdict::deny(vec![reason(
                "approval.expired",
                format!(
                    "not approved and executed before unix time {}",
                    hold.expires_at
                ),
            )]);
            self.append(&hold_record(&hold, verdict, hold.approvers(), now, None))?;
            transaction.commit()?;
            return Err(ApprovalError::Expired { id: hold.id });
        }
        let (value, verdict, approvers, response) = change(&mut hold, &transaction)?;
        write(&transaction, &hold, read_state, digest_guard)?;
        self.append(&hold_record(&hold, verdict, approvers, now, response))?;
        transaction.commit()?;
        Ok((hold, value))
    }

    pub(crate) fn append(&self, record: &Record) -> Result<u64, ApprovalError> {
        self.ledger.append(record).map_err(ApprovalError::Ledger)
    }

    pub(crate) fn lock(&self) -> Result<MutexGuard<'_, Connection>, ApprovalError> {
        self.connection.lock().map_err(|_| {
            ApprovalError::Storage("the state connection was poisoned by a panic".to_owned())
        })
    }
}

/// What a transition returns: a value for the caller, the ledger verdict, the approvers to
/// name in the entry, and the upstream's answer if any.
type Change<T> = (T, Verdict, Vec<String>, Option<UpstreamResponse>);

fn approve_in(
    hold: &mut Hold,
    approver: &str,
    now: i64,
) -> Result<Change<ApprovalProgress>, ApprovalError> {
    let progress = hold.approve(approver, now)?;
    let verdict = match progress {
        ApprovalProgress::Approved => Verdict::allow(vec![reason(
            "approval.approved",
            format!("approved by {}", hold.approvers().join(", ")),
        )]),
        ApprovalProgress::StillPending { given, required } => Verdict::hold(
            required,
            vec![reason(
                "approval.approval-given",
                format!("`{approver}` approved; {given} of {required}"),
            )],
        ),
    };
    Ok((progress, verdict, hold.approvers(), None))
}

fn deny_in(
    hold: &mut Hold,
    approver: &str,
    text: &str,
    now: i64,
) -> Result<Change<()>, ApprovalError> {
    hold.deny(approver, text, now)?;
    let verdict = Verdict::deny(vec![reason(
        "approval.denied",
        format!("denied by `{approver}`: {text}"),
    )]);
    Ok(((), verdict, vec![approver.to_owned()], None))
}

fn connect(path: &Path) -> Result<Connection, ApprovalError> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|error| ApprovalError::Io {
            action: "create",
            path: parent.display().to_string(),
            detail: error.to_string(),
        })?;
    }
    create_private(path)?;
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    let exists = connection
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'freeze'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !exists {
        connection.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))?;
    }
    migrate(&connection)?;
    Ok(connection)
}

/// Brings a database created by an earlier version up to [`SCHEMA`]: adds the
/// `cooling_off_secs` column if missing (its holds read as having no window), and the `agent`
/// column, filled from each stored hold, with the index the queue's limits are counted by.
fn migrate(connection: &Connection) -> Result<(), ApprovalError> {
    let is_current = |connection: &Connection| -> Result<bool, ApprovalError> {
        Ok(has_column(connection, "cooling_off_secs")?
            && connection
                .query_row(
                    "SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = 'holds_by_agent'",
                    [],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
    };
    if is_current(connection)? {
        return Ok(());
    }
    // Another process may be migrating at the same moment: check again under the write lock.
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<(), ApprovalError> {
        if !has_column(connection, "cooling_off_secs")? {
            connection.execute_batch(
                "ALTER TABLE holds ADD COLUMN cooling_off_secs INTEGER NOT NULL DEFAULT 0",
            )?;
        }
        if !has_column(connection, "agent")? {
            connection.execute_batch(
                "ALTER TABLE holds ADD COLUMN agent TEXT;
                 UPDATE holds SET agent = json_extract(hold_json, '$.agent');",
            )?;
        }
        connection.execute_batch(
            "CREATE INDEX IF NOT EXISTS holds_by_agent ON holds (agent, state, expires_at)",
        )?;
        Ok(())
    })();
    match result {
        Ok(()) => connection.execute_batch("COMMIT")?,
        Err(error) => {
            let _rolled_back = connection.execute_batch("ROLLBACK");
            return Err(error);
        }
    }
    Ok(())
}

fn has_column(connection: &Connection, column: &str) -> Result<bool, ApprovalError> {
    Ok(connection
        .query_row(
            "SELECT 1 FROM pragma_table_info('holds') WHERE name = ?1",
            [column],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Creates the database file 0600 before SQLite does (its -wal and -shm copy the mode).
fn create_private(path: &Path) -> Result<(), ApprovalError> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(|_| ())
        .map_err(|error| ApprovalError::Io {
            action: "open",
            path: path.display().to_string(),
            detail: error.to_string(),
        })
}

fn load(connection: &Connection, id: &str) -> Result<Hold, ApprovalError> {
    let row = connection
        .query_row(
            "SELECT state, hold_json FROM holds WHERE id = ?1",
            [id],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )
        .optional()?;
    match row {
        Some((state, json)) => decode(id, &state, &json),
        None => Err(ApprovalError::UnknownHold(id.to_owned())),
    }
}

fn decode(id: &str, state: &str, json: &str) -> Result<Hold, ApprovalError> {
    let hold: Hold = serde_json::from_str(json)
        .map_err(|error| ApprovalError::Corrupt(format!("hold `{id}` does not parse: {error}")))?;
    if hold.id.as_str() != id || hold.state.as_str() != state {
        return Err(ApprovalError::Corrupt(format!(
            "hold `{id}`: its row and its record disagree"
        )));
    }
    Ok(hold)
}

fn encode(hold: &Hold) -> Result<String, ApprovalError> {
    serde_json::to_string(hold).map_err(|error| ApprovalError::Corrupt(error.to_string()))
}

/// Writes `hold` back, only if the row is still in `read_state` (and has `digest`).
fn write(
    transaction: &Transaction<'_>,
    hold: &Hold,
    read_state: HoldState,
    digest: Option<&Digest>,
) -> Result<(), ApprovalError> {
    let changed = transaction.execute(
        "UPDATE holds SET state = ?1, hold_json = ?2, not_before = ?6
         WHERE id = ?3 AND state = ?4 AND (?5 IS NULL OR digest = ?5)",
        params![
            hold.state.as_str(),
            encode(hold)?,
            hold.id.as_str(),
            read_state.as_str(),
            digest.map(Digest::to_hex),
            hold.not_before,
        ],
    )?;
    if changed == 1 {
        Ok(())
    } else {
        Err(ApprovalError::Storage(format!(
            "hold `{}` changed underneath this transaction",
            hold.id
        )))
    }
}

/// `hold_` and 32 hex digits: 128 random bits (the gateway's format).
pub fn new_hold_id() -> Result<HoldId, ApprovalError> {
    let mut bytes = [0u8; 16];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|error| ApprovalError::Randomness(error.to_string()))?;
    HoldId::new(format!("hold_{}", hex::encode(bytes)))
        .map_err(|error| ApprovalError::Corrupt(error.to_string()))
}

pub(crate) fn reason(rule: &str, explanation: String) -> Reason {
    let rule_id = RuleId::new(rule).unwrap_or_else(|_| fallback_rule());
    Reason::new(
        rule_id,
        explanation,
        None,
        "a human decides on this operation",
    )
}

#[expect(
    clippy::expect_used,
    reason = "a constant that satisfies RuleId's rules"
)]
fn fallback_rule() -> RuleId {
    // INVARIANT: a lowercase slug shorter than 96 bytes.
    RuleId::new("approval.event").expect("valid rule id")
}

fn hold_record(
    hold: &Hold,
    verdict: Verdict,
    approvers: Vec<String>,
    now: i64,
    upstream_response: Option<UpstreamResponse>,
) -> Record {
    Record {
        time_unix_ms: now.saturating_mul(1000),
        layer: Layer::Approval,
        actor: Actor {
            agent: hold.agent.clone(),
            session: hold.session.clone(),
        },
        operation: Operation::new(hold.kind, &hold.summary, hold.risk, hold.targets.clone()),
        verdict,
        hold_id: Some(hold.id.clone()),
        approvers,
        snapshot_id: None,
        upstream_response,
    }
}

/// A ledger record for a change that is not about one hold (approvers, freeze).
pub(crate) fn system_record(
    description: &str,
    risk: Risk,
    verdict: Verdict,
    approvers: Vec<String>,
    now: i64,
) -> Record {
    Record {
        time_unix_ms: now.saturating_mul(1000),
        layer: Layer::Approval,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Internal, description, risk, Vec::new()),
        verdict,
        hold_id: None,
        approvers,
        snapshot_id: None,
        upstream_response: None,
    }
}
