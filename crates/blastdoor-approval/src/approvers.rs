//! Approvers (humans with a TOTP authenticator) and the freeze flag, both in the state
//! database.
//!
//! An approver's seed is kept in `BLASTDOOR_HOME/approvers.json`, encrypted exactly like the
//! upstream credentials (blastdoor-broker's [`SecretStore`], same key `keys/secrets.key`) but in
//! its own file, so seeds never show up in `secret list` and can never be configured as an
//! upstream credential. The state database keeps each approver's last used time step, so a
//! code is accepted once.
//!
//! The freeze flag lives in the database (the truth). `BLASTDOOR_HOME/FROZEN` is a cache of it
//! for the hook, which can afford one `stat()`: written before a freeze is committed, removed
//! after a thaw is committed, so the marker errs towards frozen.

use std::path::Path;

use blastdoor_broker::{SecretName, SecretStore};
use blastdoor_core::{Risk, Secret, Verdict};
use rusqlite::{OptionalExtension as _, Transaction, TransactionBehavior, params};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::store::{reason, system_record};
use crate::{ApprovalError, HoldStore, totp};

/// An approver whose code was checked just now. Only [`HoldStore::verify_approver`] makes one,
/// so holding one proves a valid, unused code was presented (the web UI keeps it in a session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedApprover {
    name: String,
    verified_at: i64,
}

impl VerifiedApprover {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Unix seconds when the code was checked (sessions decide how long that is good for).
    pub fn verified_at(&self) -> i64 {
        self.verified_at
    }
}

/// The result of enrolling an approver: show the URI once, then drop it.
pub struct Enrolment {
    pub name: String,
    /// The `otpauth://` URI holding the seed.
    pub otpauth_uri: Secret<String>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One line of `approver list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApproverListing {
    pub name: String,
    pub created_at: i64,
    /// Unix time of the last accepted code's step, if any.
    pub last_code_at: Option<i64>,
}

/// The freeze in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreezeStatus {
    pub reason: String,
    pub frozen_by: String,
    pub frozen_at: i64,
}

/// Wrong codes in a row before an approver is locked out.
pub const MAX_CODE_FAILURES: i64 = 5;
/// How long a lockout lasts, in seconds.
pub const LOCKOUT_SECS: i64 = 300;

/// True when the freeze marker exists: the hook's one-`stat()` check. The database is the
/// truth ([`HoldStore::is_frozen`]); this is its cache. Any error but "not found" reads as
/// frozen.
pub fn frozen_marker_present(home: &Path) -> bool {
    match std::fs::metadata(home.join(crate::FROZEN_MARKER_FILE)) {
        Ok(_) => true,
        Err(error) => error.kind() != std::io::ErrorKind::NotFound,
    }
}

/// Checks an approver's name: 1 to 64 ASCII letters, digits, `-`, `_`, `.`.
pub fn validate_approver_name(name: &str) -> Result<(), ApprovalError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(ApprovalError::InvalidApproverName(name.to_owned()))
    }
}

impl HoldStore {
    /// Enrols `name` with a fresh TOTP seed. `agent_names` are the names agents go by (from
    /// the token registry): approvers must not share them.
    pub fn add_approver(
        &self,
        name: &str,
        agent_names: &[String],
        now: i64,
    ) -> Result<Enrolment, ApprovalError> {
        validate_approver_name(name)?;
        if agent_names.iter().any(|agent| agent == name) {
            return Err(ApprovalError::ApproverIsAgent(name.to_owned()));
        }
        let seed = totp::new_seed()?;
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = transaction.execute(
            "INSERT OR IGNORE INTO approvers (name, created_at, last_step) VALUES (?1, ?2, NULL)",
            params![name, now],
        )?;
        if inserted != 1 {
            return Err(ApprovalError::ApproverExists(name.to_owned()));
        }
        let mut secrets = self.approver_secrets()?;
        let encoded = Secret::new(totp::base32_encode(&seed));
        secrets
            .set(&secret_name(name)?, &encoded)
            .map_err(|error| ApprovalError::ApproverSecrets(error.to_string()))?;
        let verdict = Verdict::allow(vec![reason(
            "approval.approver-added",
            format!("approver `{name}` enrolled"),
        )]);
        self.append(&system_record(
            &format!("approver add {name}"),
            Risk::Escalate,
            verdict,
            vec![name.to_owned()],
            now,
        ))?;
        transaction.commit()?;
        Ok(Enrolment {
            name: name.to_owned(),
            otpauth_uri: Secret::new(totp::otpauth_uri(name, &seed)),
        })
    }

    /// Every approver, by name.
    pub fn approvers(&self) -> Result<Vec<ApproverListing>, ApprovalError> {
        let connection = self.lock()?;
        let mut statement = connection
            .prepare("SELECT name, created_at, last_step FROM approvers ORDER BY name")?;
        let rows = statement.query_map([], |row| {
            Ok(ApproverListing {
                name: row.get(0)?,
                created_at: row.get(1)?,
                last_code_at: row
                    .get::<_, Option<i64>>(2)?
                    .map(|step| step.saturating_mul(totp::STEP_SECS)),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes approver `name` and their seed. Approvals they already gave stay.
    pub fn remove_approver(&self, name: &str, now: i64) -> Result<(), ApprovalError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if transaction.execute("DELETE FROM approvers WHERE name = ?1", [name])? != 1 {
            return Err(ApprovalError::UnknownApprover(name.to_owned()));
        }
        let verdict = Verdict::allow(vec![reason(
            "approval.approver-removed",
            format!("approver `{name}` removed"),
        )]);
        self.append(&system_record(
            &format!("approver rm {name}"),
            Risk::Write,
            verdict,
            vec![name.to_owned()],
            now,
        ))?;
        transaction.commit()?;
        drop(connection);
        // The row is gone, so the seed can no longer approve anything even if this fails.
        let mut secrets = self.approver_secrets()?;
        match secrets.remove(secret_name(name)?.as_str()) {
            Ok(()) | Err(blastdoor_broker::BrokerError::NoSuchSecret(_)) => Ok(()),
            Err(error) => Err(ApprovalError::ApproverSecrets(error.to_string())),
        }
    }

    /// Checks `approver`'s `code` and consumes its time step: the web UI's login.
    pub fn verify_approver(
        &self,
        approver: &str,
        code: &str,
        now: i64,
    ) -> Result<VerifiedApprover, ApprovalError> {
        let seed = self.approver_seed(approver)?;
        self.counting_failures(approver, now, || {
            let mut connection = self.lock()?;
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            consume_code(&transaction, approver, &seed, code, now)?;
            transaction.commit()?;
            Ok(())
        })?;
        Ok(VerifiedApprover {
            name: approver.to_owned(),
            verified_at: now,
        })
    }

    /// Freezes everything but reads. Needs no code: it only ever makes things safer.
    pub fn freeze(
        &self,
        by: &str,
        reason_text: &str,
        now: i64,
    ) -> Result<FreezeStatus, ApprovalError> {
        // The marker goes first, so that the hook never sees "thawed" while the database says
        // frozen.
        std::fs::write(
            &self.paths.frozen_marker,
            format!("frozen by {by} at unix time {now}: {reason_text}\n"),
        )
        .map_err(|error| ApprovalError::Io {
            action: "write",
            path: self.paths.frozen_marker.display().to_string(),
            detail: error.to_string(),
        })?;
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(existing) = frozen_in(&transaction)? {
            return Ok(existing);
        }
        transaction.execute(
            "INSERT INTO freeze (singleton, reason, frozen_by, frozen_at) VALUES (1, ?1, ?2, ?3)",
            params![reason_text, by, now],
        )?;
        let verdict = Verdict::hold(
            1,
            vec![reason(
                "approval.freeze",
                format!("frozen by `{by}`: {reason_text}"),
            )],
        );
        self.append(&system_record(
            "freeze",
            Risk::Write,
            verdict,
            vec![by.to_owned()],
            now,
        ))?;
        transaction.commit()?;
        Ok(FreezeStatus {
            reason: reason_text.to_owned(),
            frozen_by: by.to_owned(),
            frozen_at: now,
        })
    }

    /// Lifts the freeze; needs an approver's current code. A stale marker with no freeze in
    /// the database is removed (and still needs the code).
    pub fn thaw(&self, approver: &str, code: &str, now: i64) -> Result<(), ApprovalError> {
        let seed = self.approver_seed(approver)?;
        let was_frozen = self.counting_failures(approver, now, || {
            let mut connection = self.lock()?;
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            consume_code(&transaction, approver, &seed, code, now)?;
            let was_frozen =
                transaction.execute("DELETE FROM freeze WHERE singleton = 1", [])? == 1;
            if was_frozen {
                let verdict = Verdict::allow(vec![reason(
                    "approval.thaw",
                    format!("thawed by `{approver}`"),
                )]);
                self.append(&system_record(
                    "thaw",
                    Risk::Write,
                    verdict,
                    vec![approver.to_owned()],
                    now,
                ))?;
            }
            transaction.commit()?;
            Ok(was_frozen)
        })?;
        let marker_existed = self.paths.frozen_marker.exists();
        match std::fs::remove_file(&self.paths.frozen_marker) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(ApprovalError::Io {
                    action: "remove the freeze marker (the database is thawed; the hook still holds until it is gone)",
                    path: self.paths.frozen_marker.display().to_string(),
                    detail: error.to_string(),
                });
            }
        }
        if was_frozen || marker_existed {
            Ok(())
        } else {
            Err(ApprovalError::NotFrozen)
        }
    }

    /// Whether a freeze is in force, from the database. Callers treat an error as frozen.
    pub fn is_frozen(&self) -> Result<bool, ApprovalError> {
        Ok(self.freeze_status()?.is_some())
    }

    /// [`HoldStore::is_frozen`], failing closed: any error reads as frozen (for the gateway's
    /// `PolicyRequest { frozen, .. }`).
    pub fn is_frozen_or_fail_closed(&self) -> bool {
        self.is_frozen().unwrap_or(true)
    }

    /// The freeze in force, if any.
    pub fn freeze_status(&self) -> Result<Option<FreezeStatus>, ApprovalError> {
        let connection = self.lock()?;
        frozen_in(&connection)
    }

    /// Makes the marker match the database (for `serve` at start-up, say).
    pub fn sync_frozen_marker(&self) -> Result<bool, ApprovalError> {
        let status = self.freeze_status()?;
        let path = &self.paths.frozen_marker;
        let io = |action: &'static str, error: std::io::Error| ApprovalError::Io {
            action,
            path: path.display().to_string(),
            detail: error.to_string(),
        };
        match &status {
            Some(status) => std::fs::write(
                path,
                format!(
                    "frozen by {} at unix time {}: {}\n",
                    status.frozen_by, status.frozen_at, status.reason
                ),
            )
            .map_err(|error| io("write", error))?,
            None => match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(io("remove", error)),
            },
        }
        Ok(status.is_some())
    }

    /// Runs `attempt` (which checks a code of `approver`); when the code was wrong, counts the
    /// failure in its own transaction (the attempt's was rolled back), and after
    /// [`MAX_CODE_FAILURES`] in a row locks the approver out for [`LOCKOUT_SECS`]: six digits
    /// must not be guessable by trying them all.
    pub(crate) fn counting_failures<T>(
        &self,
        approver: &str,
        now: i64,
        attempt: impl FnOnce() -> Result<T, ApprovalError>,
    ) -> Result<T, ApprovalError> {
        let result = attempt();
        if matches!(result, Err(ApprovalError::InvalidCode)) {
            self.note_failed_code(approver, now)?;
        }
        result
    }

    fn note_failed_code(&self, approver: &str, now: i64) -> Result<(), ApprovalError> {
        let mut connection = self.lock()?;
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let failures: Option<i64> = transaction
            .query_row(
                "UPDATE approvers SET failures = failures + 1 WHERE name = ?1 RETURNING failures",
                [approver],
                |row| row.get(0),
            )
            .optional()?;
        if failures.is_some_and(|failures| failures >= MAX_CODE_FAILURES) {
            let until = now.saturating_add(LOCKOUT_SECS);
            transaction.execute(
                "UPDATE approvers SET failures = 0, locked_until = ?1 WHERE name = ?2",
                params![until, approver],
            )?;
            let verdict = Verdict::deny(vec![reason(
                "approval.approver-locked-out",
                format!(
                    "{MAX_CODE_FAILURES} wrong codes in a row for `{approver}`; locked until unix time {until}"
                ),
            )]);
            self.append(&system_record(
                &format!("approver lockout {approver}"),
                Risk::Escalate,
                verdict,
                vec![approver.to_owned()],
                now,
            ))?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// The decrypted seed of `approver`; [`ApprovalError::UnknownApprover`] when not enrolled.
    pub(crate) fn approver_seed(
        &self,
        approver: &str,
    ) -> Result<Zeroizing<Vec<u8>>, ApprovalError> {
        {
            let connection = self.lock()?;
            require_enrolled(&connection, approver)?;
        }
        let secrets = self.approver_secrets()?;
        let encoded = secrets
            .get(secret_name(approver)?.as_str())
            .map_err(|error| ApprovalError::ApproverSecrets(error.to_string()))?;
        totp::base32_decode(encoded.expose_secret())
            .map(Zeroizing::new)
            .ok_or_else(|| {
                ApprovalError::ApproverSecrets(format!("the seed of `{approver}` is not base32"))
            })
    }

    fn approver_secrets(&self) -> Result<SecretStore, ApprovalError> {
        SecretStore::open(&self.paths.keys_dir, &self.paths.approver_secrets)
            .map_err(|error| ApprovalError::ApproverSecrets(error.to_string()))
    }
}

fn secret_name(approver: &str) -> Result<SecretName, ApprovalError> {
    validate_approver_name(approver)?;
    SecretName::new(&format!("approver.{approver}"))
        .map_err(|_| ApprovalError::InvalidApproverName(approver.to_owned()))
}

/// Fails with [`ApprovalError::UnknownApprover`] unless `approver` is enrolled.
pub(crate) fn require_enrolled(
    connection: &rusqlite::Connection,
    approver: &str,
) -> Result<(), ApprovalError> {
    let found = connection
        .query_row(
            "SELECT 1 FROM approvers WHERE name = ?1",
            [approver],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(ApprovalError::UnknownApprover(approver.to_owned()))
    }
}

/// Verifies `code` against `seed` and the stored last step, then stores the new step, inside
/// the caller's transaction (nothing is kept if it rolls back).
pub(crate) fn consume_code(
    transaction: &Transaction<'_>,
    approver: &str,
    seed: &[u8],
    code: &str,
    now: i64,
) -> Result<(), ApprovalError> {
    let row: Option<(Option<i64>, Option<i64>)> = transaction
        .query_row(
            "SELECT last_step, locked_until FROM approvers WHERE name = ?1",
            [approver],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((last_step, locked_until)) = row else {
        return Err(ApprovalError::UnknownApprover(approver.to_owned()));
    };
    if let Some(until) = locked_until.filter(|until| now < *until) {
        return Err(ApprovalError::LockedOut {
            approver: approver.to_owned(),
            until,
        });
    }
    let step = totp::verify(seed, code, now, last_step)?;
    transaction.execute(
        "UPDATE approvers SET last_step = ?1, failures = 0, locked_until = NULL WHERE name = ?2",
        params![step, approver],
    )?;
    Ok(())
}

/// The freeze in force, read inside any connection or transaction.
pub(crate) fn frozen_in(
    connection: &rusqlite::Connection,
) -> Result<Option<FreezeStatus>, ApprovalError> {
    Ok(connection
        .query_row(
            "SELECT reason, frozen_by, frozen_at FROM freeze WHERE singleton = 1",
            [],
            |row| {
                Ok(FreezeStatus {
                    reason: row.get(0)?,
                    frozen_by: row.get(1)?,
                    frozen_at: row.get(2)?,
                })
            },
        )
        .optional()?)
}
