//! `blastdoor-approval` through its public API against a real SQLite state database and a real
//! ledger: every refusal of the issue's "Must show", restart, and concurrent claims.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

use std::num::NonZeroU8;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use blastdoor_approval::*;
use blastdoor_audit::{Ledger, Record};
use blastdoor_core::{AgentName, Environment, Layer, OperationKind, Risk, Target};

mod queue;

const T0: i64 = 1_900_000_000;

/// A temporary `BLASTDOOR_HOME` with keys, a ledger and a state database.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        blastdoor_broker::init(&dir.path().join("keys")).unwrap();
        Fixture { dir }
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn ledger_path(&self) -> PathBuf {
        self.home().join("ledger.sqlite")
    }

    fn store(&self) -> HoldStore {
        HoldStore::open_in_home(self.home()).unwrap()
    }

    fn store_with(&self, ledger: Arc<dyn ApprovalLog>) -> HoldStore {
        HoldStore::open(StorePaths::in_home(self.home()), ledger).unwrap()
    }

    fn ledger_entries(&self) -> Vec<Record> {
        let ledger = Ledger::open_existing(&self.ledger_path()).unwrap();
        ledger
            .entries(1, None)
            .unwrap()
            .into_iter()
            .map(|entry| entry.record)
            .collect()
    }
}

/// An enrolled approver and their seed, to compute codes.
struct Approver {
    seed: Vec<u8>,
}

impl Approver {
    fn enrol(store: &HoldStore, name: &str) -> Approver {
        let enrolment = store.add_approver(name, &[], T0).unwrap();
        let seed = totp::seed_from_uri(enrolment.otpauth_uri.expose_secret()).unwrap();
        Approver { seed }
    }

    fn code(&self, now: i64) -> String {
        totp::format_code(totp::code_at(&self.seed, now))
    }

    /// A code valid for none of the steps accepted at `now`.
    fn wrong_code(&self, now: i64) -> String {
        let valid: Vec<u32> = [-30, 0, 30]
            .iter()
            .map(|skew| totp::code_at(&self.seed, now + skew))
            .collect();
        let wrong = (0..).find(|candidate| !valid.contains(candidate)).unwrap();
        totp::format_code(wrong)
    }
}

fn incident_body(volume: &str) -> Vec<u8> {
    format!(r#"{{"query":"mutation {{ volumeDelete(volumeId: \"{volume}\") }}"}}"#).into_bytes()
}

fn request(body: &[u8]) -> CanonicalRequest {
    CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", body)
}

fn new_hold(required: u8, ttl_secs: i64) -> NewHold {
    NewHold {
        request: request(&incident_body("vol-1")),
        kind: OperationKind::Graphql,
        risk: Risk::Destroy,
        targets: vec![
            Target::new(
                "volume",
                "pg-data",
                vec![
                    Environment::production(),
                    Environment::parse("staging").unwrap(),
                ],
            )
            .on_upstream("railway"),
        ],
        description: "mutation volumeDelete".to_owned(),
        summary: None,
        agent: Some(AgentName::new("claude-staging-fix").unwrap()),
        token_id: Some("tok_1".to_owned()),
        session: None,
        task: Some("fix the staging deploy".to_owned()),
        reasons: vec![],
        approvals_required: NonZeroU8::new(required).unwrap(),
        ttl_secs,
        not_before: None,
        cooling_off_secs: 0,
    }
}

fn digest_of(body: &[u8]) -> Digest {
    request(body).digest()
}

#[test]
fn approved_hold_runs_exactly_once_and_every_change_is_in_the_ledger() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    assert_eq!(hold.state, HoldState::Pending);
    assert_eq!(
        hold.summary,
        "DELETE volume pg-data in production and staging — irreversible"
    );
    assert!(hold.id.as_str().starts_with("hold_") && hold.id.as_str().len() == 37);

    let (approved, progress) = store
        .approve(hold.id.as_str(), "alice", &alice.code(T0 + 10), T0 + 10)
        .unwrap();
    assert_eq!(progress, ApprovalProgress::Approved);
    assert_eq!(approved.approvers(), vec!["alice"]);

    let digest =
        digest_of(b"{ \"query\" : \"mutation { volumeDelete(volumeId: \\\"vol-1\\\") }\" }");
    let claimed = store
        .claim_for_execution(hold.id.as_str(), &digest, T0 + 20)
        .unwrap();
    assert_eq!(claimed.hold.state, HoldState::Executed);
    // Replay: the identical request a second time.
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &digest, T0 + 21),
        Err(ApprovalError::AlreadyExecuted { .. })
    ));
    let done = store
        .mark_executed(hold.id.as_str(), 200, "volume deleted", T0 + 22)
        .unwrap();
    assert_eq!(done.outcome.unwrap().status, 200);
    assert!(
        store
            .mark_executed(hold.id.as_str(), 200, "again", T0 + 23)
            .is_err()
    );

    let entries = fixture.ledger_entries();
    let for_hold: Vec<&Record> = entries
        .iter()
        .filter(|record| record.hold_id.as_ref() == Some(&hold.id))
        .collect();
    let rules: Vec<String> = for_hold
        .iter()
        .map(|record| record.verdict.reasons[0].rule_id.to_string())
        .collect();
    assert_eq!(
        rules,
        [
            "approval.hold-created",
            "approval.approved",
            "approval.executed",
            "approval.outcome"
        ]
    );
    assert!(
        for_hold
            .iter()
            .all(|record| record.layer == Layer::Approval)
    );
    assert_eq!(for_hold[1].approvers, vec!["alice"]);
    // The seed never reaches the ledger.
    let seed_base32 = totp::base32_encode(&alice.seed);
    assert!(
        !std::fs::read(fixture.ledger_path())
            .unwrap()
            .windows(seed_base32.len())
            .any(|w| w == seed_base32.as_bytes())
    );
}

#[test]
fn an_altered_request_is_refused_and_does_not_consume_the_approval() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    let altered = digest_of(&incident_body("vol-2"));
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &altered, T0 + 1),
        Err(ApprovalError::DigestMismatch { .. })
    ));
    store
        .claim_for_execution(
            hold.id.as_str(),
            &digest_of(&incident_body("vol-1")),
            T0 + 2,
        )
        .unwrap();
}

#[test]
fn expired_holds_cannot_be_approved_or_claimed() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 60), T0).unwrap();
    let late = T0 + 60;
    assert!(matches!(
        store.approve(hold.id.as_str(), "alice", &alice.code(late), late),
        Err(ApprovalError::Expired { .. })
    ));
    assert_eq!(
        store.hold(hold.id.as_str()).unwrap().state,
        HoldState::Expired
    );
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, late),
        Err(ApprovalError::Expired { .. })
    ));

    // Approved in time but not re-sent in time.
    let second = store.create(new_hold(1, 60), T0).unwrap();
    store
        .approve(second.id.as_str(), "alice", &alice.code(T0 + 30), T0 + 30)
        .unwrap();
    assert!(matches!(
        store.claim_for_execution(second.id.as_str(), &second.digest, T0 + 61),
        Err(ApprovalError::Expired { .. })
    ));
    // The sweep finds nothing left to expire, then expires a fresh overdue one.
    let third = store.create(new_hold(1, 60), T0).unwrap();
    assert_eq!(store.expire_due(T0 + 120).unwrap(), vec![third.id]);
}

#[test]
fn denied_holds_are_refused_and_denial_needs_a_code() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let bob = Approver::enrol(&store, "bob");
    let hold = store.create(new_hold(2, 3600), T0).unwrap();
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    assert_eq!(
        store.deny(
            hold.id.as_str(),
            "bob",
            &bob.wrong_code(T0 + 1),
            "no",
            T0 + 1
        ),
        Err(ApprovalError::InvalidCode)
    );
    let denied = store
        .deny(
            hold.id.as_str(),
            "bob",
            &bob.code(T0 + 1),
            "wrong volume",
            T0 + 1,
        )
        .unwrap();
    assert_eq!(denied.denial.unwrap().reason, "wrong volume");
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 2),
        Err(ApprovalError::Denied { by, .. }) if by == "bob"
    ));
    assert!(matches!(
        store.approve(hold.id.as_str(), "alice", &alice.code(T0 + 60), T0 + 60),
        Err(ApprovalError::Denied { .. })
    ));
}

#[test]
fn the_requesting_agent_cannot_approve() {
    let fixture = Fixture::new();
    let store = fixture.store();
    // Refused at enrolment when the name is a known agent ...
    assert!(matches!(
        store.add_approver("claude-staging-fix", &["claude-staging-fix".to_owned()], T0),
        Err(ApprovalError::ApproverIsAgent(_))
    ));
    // ... and at approval even if enrolment did not know.
    let agent = Approver::enrol(&store, "claude-staging-fix");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    assert!(matches!(
        store.approve(hold.id.as_str(), "claude-staging-fix", &agent.code(T0), T0),
        Err(ApprovalError::SelfApproval { .. })
    ));
    assert_eq!(
        store.hold(hold.id.as_str()).unwrap().state,
        HoldState::Pending
    );
}

#[test]
fn wrong_and_reused_codes_are_refused_alike() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let first = store.create(new_hold(1, 3600), T0).unwrap();
    let second = store.create(new_hold(1, 3600), T0).unwrap();
    let code = alice.code(T0);
    let wrong = alice.wrong_code(T0);
    let refused = store
        .approve(first.id.as_str(), "alice", &wrong, T0)
        .unwrap_err();
    assert_eq!(refused, ApprovalError::InvalidCode);
    assert_eq!(refused.to_string(), "invalid or already used code");
    store
        .approve(first.id.as_str(), "alice", &code, T0)
        .unwrap();
    // The same code again, on another hold, in the same step: refused.
    assert_eq!(
        store.approve(second.id.as_str(), "alice", &code, T0 + 5),
        Err(ApprovalError::InvalidCode)
    );
    // The previous step's code (still within skew) is refused too: steps only move forward.
    assert_eq!(
        store.approve(second.id.as_str(), "alice", &alice.code(T0 - 30), T0),
        Err(ApprovalError::InvalidCode)
    );
    assert!(matches!(
        store.approve(second.id.as_str(), "nobody", &code, T0 + 30),
        Err(ApprovalError::UnknownApprover(_))
    ));
    store
        .approve(second.id.as_str(), "alice", &alice.code(T0 + 30), T0 + 30)
        .unwrap();
}

#[test]
fn guessing_codes_locks_the_approver_out() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    let wrong = alice.wrong_code(T0);
    for attempt in 0..MAX_CODE_FAILURES {
        assert_eq!(
            store.approve(hold.id.as_str(), "alice", &wrong, T0 + attempt),
            Err(ApprovalError::InvalidCode)
        );
    }
    // Locked: even the right code is refused until the lockout ends.
    let now = T0 + 10;
    assert!(matches!(
        store.approve(hold.id.as_str(), "alice", &alice.code(now), now),
        Err(ApprovalError::LockedOut { .. })
    ));
    assert!(matches!(
        store.verify_approver("alice", &alice.code(now), now),
        Err(ApprovalError::LockedOut { .. })
    ));
    let later = T0 + MAX_CODE_FAILURES + LOCKOUT_SECS;
    store
        .approve(hold.id.as_str(), "alice", &alice.code(later), later)
        .unwrap();
    let locked_entries = fixture
        .ledger_entries()
        .iter()
        .filter(|record| {
            record.verdict.reasons[0].rule_id.as_str() == "approval.approver-locked-out"
        })
        .count();
    assert_eq!(locked_entries, 1);
}

#[test]
fn a_verified_session_approves_without_a_new_code() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    let session = store.verify_approver("alice", &alice.code(T0), T0).unwrap();
    assert_eq!(session.name(), "alice");
    // The login consumed the code.
    assert_eq!(
        store.verify_approver("alice", &alice.code(T0), T0),
        Err(ApprovalError::InvalidCode)
    );
    let (approved, progress) = store
        .approve_as(hold.id.as_str(), &session, T0 + 5)
        .unwrap();
    assert_eq!(progress, ApprovalProgress::Approved);
    assert_eq!(approved.approvers(), vec!["alice"]);
    // A removed approver's session no longer counts.
    let second = store.create(new_hold(1, 3600), T0).unwrap();
    store.remove_approver("alice", T0 + 6).unwrap();
    assert!(matches!(
        store.approve_as(second.id.as_str(), &session, T0 + 7),
        Err(ApprovalError::UnknownApprover(_))
    ));
}

#[test]
fn too_few_approvers_leaves_the_hold_pending() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let bob = Approver::enrol(&store, "bob");
    let hold = store.create(new_hold(2, 3600), T0).unwrap();
    let (_, progress) = store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    assert_eq!(
        progress,
        ApprovalProgress::StillPending {
            given: 1,
            required: 2
        }
    );
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 1),
        Err(ApprovalError::NotApproved {
            given: 1,
            required: 2,
            ..
        })
    ));
    // The same approver twice does not count twice.
    assert!(matches!(
        store.approve(hold.id.as_str(), "alice", &alice.code(T0 + 30), T0 + 30),
        Err(ApprovalError::AlreadyApprovedBy { .. })
    ));
    let (_, progress) = store
        .approve(hold.id.as_str(), "bob", &bob.code(T0 + 31), T0 + 31)
        .unwrap();
    assert_eq!(progress, ApprovalProgress::Approved);
    store
        .claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 32)
        .unwrap();
}

#[test]
fn a_restart_in_the_middle_of_a_hold_loses_nothing() {
    let fixture = Fixture::new();
    let (id, alice, bob) = {
        let store = fixture.store();
        let alice = Approver::enrol(&store, "alice");
        let bob = Approver::enrol(&store, "bob");
        let hold = store.create(new_hold(2, 3600), T0).unwrap();
        store
            .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
            .unwrap();
        (hold.id, alice, bob)
    };
    let store = fixture.store();
    let reopened = store.hold(id.as_str()).unwrap();
    assert_eq!(reopened.state, HoldState::Pending);
    assert_eq!(reopened.approvers(), vec!["alice"]);
    // Alice's used code stays used across the restart.
    assert_eq!(
        store.approve(id.as_str(), "alice", &alice.code(T0), T0 + 1),
        Err(ApprovalError::InvalidCode)
    );
    store
        .approve(id.as_str(), "bob", &bob.code(T0 + 2), T0 + 2)
        .unwrap();
    drop(store);
    let store = fixture.store();
    store
        .claim_for_execution(id.as_str(), &reopened.digest, T0 + 3)
        .unwrap();
    assert_eq!(store.hold(id.as_str()).unwrap().state, HoldState::Executed);
}

#[test]
fn cancelled_holds_never_run() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    store.cancel(hold.id.as_str(), "operator", T0 + 1).unwrap();
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 2),
        Err(ApprovalError::Cancelled { .. })
    ));
    assert!(matches!(
        store.cancel(hold.id.as_str(), "operator", T0 + 3),
        Err(ApprovalError::Cancelled { .. })
    ));
    assert!(matches!(
        store.cancel("hold_nope", "operator", T0),
        Err(ApprovalError::UnknownHold(_))
    ));
}

#[test]
fn the_last_approval_opens_the_cooling_off_window_and_it_is_stored() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let bob = Approver::enrol(&store, "bob");
    let new = NewHold {
        cooling_off_secs: 600,
        ..new_hold(2, 3600)
    };
    let hold = store.create(new, T0).unwrap();
    assert_eq!(hold.cooling_off_secs, 600);
    assert_eq!(hold.not_before, None);
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0 + 10), T0 + 10)
        .unwrap();
    assert_eq!(store.hold(hold.id.as_str()).unwrap().not_before, None);
    let (approved, progress) = store
        .approve(hold.id.as_str(), "bob", &bob.code(T0 + 40), T0 + 40)
        .unwrap();
    assert_eq!(progress, ApprovalProgress::Approved);
    assert_eq!(approved.not_before, Some(T0 + 640));
    // Another process (a fresh connection) sees the window, in the record and the column.
    drop(store);
    let store = fixture.store();
    let listed = store.holds(false).unwrap();
    assert_eq!(listed[0].not_before, Some(T0 + 640));
    let column: Option<i64> = rusqlite::Connection::open(fixture.home().join(STATE_FILE))
        .unwrap()
        .query_row(
            "SELECT not_before FROM holds WHERE id = ?1",
            [hold.id.as_str()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(column, Some(T0 + 640));
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 639),
        Err(ApprovalError::CoolingOff { opens_at, .. }) if opens_at == T0 + 640
    ));
    store
        .claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 640)
        .unwrap();
}

#[test]
fn a_hold_in_its_cooling_off_window_can_be_cancelled() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let new = NewHold {
        cooling_off_secs: 600,
        ..new_hold(1, 3600)
    };
    let hold = store.create(new, T0).unwrap();
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    let cancelled = store.cancel(hold.id.as_str(), "operator", T0 + 5).unwrap();
    assert_eq!(cancelled.state, HoldState::Cancelled);
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 601),
        Err(ApprovalError::Cancelled { .. })
    ));
}

#[test]
fn a_state_database_from_before_the_cooling_off_column_still_opens() {
    let fixture = Fixture::new();
    let old = {
        let store = fixture.store();
        store.create(new_hold(1, 3600), T0).unwrap()
    };
    // Make it look like an earlier version's: no column, no field in the record.
    let connection = rusqlite::Connection::open(fixture.home().join(STATE_FILE)).unwrap();
    connection
        .execute_batch(
            "ALTER TABLE holds DROP COLUMN cooling_off_secs;
             UPDATE holds SET hold_json = json_remove(hold_json, '$.cooling_off_secs');",
        )
        .unwrap();
    drop(connection);
    let store = fixture.store();
    let read = store.hold(old.id.as_str()).unwrap();
    assert_eq!(read.cooling_off_secs, 0);
    assert_eq!(read.digest, old.digest);
    let new = NewHold {
        cooling_off_secs: 60,
        ..new_hold(1, 3600)
    };
    let hold = store.create(new, T0).unwrap();
    assert_eq!(store.hold(hold.id.as_str()).unwrap().cooling_off_secs, 60);
    // Opening it again (the column now there) changes nothing.
    drop(store);
    assert_eq!(fixture.store().holds(false).unwrap().len(), 2);
}

#[test]
fn freeze_stops_approved_holds_and_thaw_needs_a_code() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    store
        .approve(hold.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    assert!(!store.is_frozen().unwrap());
    assert!(!frozen_marker_present(fixture.home()));
    store
        .freeze("operator", "incident in progress", T0 + 1)
        .unwrap();
    assert!(store.is_frozen().unwrap());
    assert!(frozen_marker_present(fixture.home()));
    assert!(matches!(
        store.claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 2),
        Err(ApprovalError::Frozen { .. })
    ));
    assert_eq!(
        store.thaw("alice", &alice.wrong_code(T0 + 30), T0 + 30),
        Err(ApprovalError::InvalidCode)
    );
    assert!(store.is_frozen().unwrap());
    store.thaw("alice", &alice.code(T0 + 60), T0 + 60).unwrap();
    assert!(!store.is_frozen().unwrap());
    assert!(!frozen_marker_present(fixture.home()));
    store
        .claim_for_execution(hold.id.as_str(), &hold.digest, T0 + 61)
        .unwrap();
}

/// A ledger that can be made to refuse appends.
struct SwitchableLedger {
    inner: Ledger,
    failing: AtomicBool,
}

impl ApprovalLog for SwitchableLedger {
    fn append(&self, record: &Record) -> Result<u64, String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("disk full".to_owned());
        }
        self.inner.append(record).map_err(|error| error.to_string())
    }
}

#[test]
fn a_change_the_ledger_refuses_is_not_made() {
    let fixture = Fixture::new();
    let ledger = Arc::new(SwitchableLedger {
        inner: Ledger::open_or_create(&fixture.ledger_path()).unwrap(),
        failing: AtomicBool::new(false),
    });
    let store = fixture.store_with(ledger.clone());
    let alice = Approver::enrol(&store, "alice");
    let hold = store.create(new_hold(1, 3600), T0).unwrap();
    ledger.failing.store(true, Ordering::SeqCst);
    let code = alice.code(T0);
    assert!(matches!(
        store.approve(hold.id.as_str(), "alice", &code, T0),
        Err(ApprovalError::Ledger(_))
    ));
    assert_eq!(
        store.hold(hold.id.as_str()).unwrap().state,
        HoldState::Pending
    );
    assert!(matches!(
        store.create(new_hold(1, 3600), T0),
        Err(ApprovalError::Ledger(_))
    ));
    assert_eq!(store.holds(true).unwrap().len(), 1);
    assert!(matches!(
        store.freeze("operator", "x", T0),
        Err(ApprovalError::Ledger(_))
    ));
    assert!(!store.is_frozen().unwrap());
    ledger.failing.store(false, Ordering::SeqCst);
    // The code was not consumed by the refused approval.
    store.approve(hold.id.as_str(), "alice", &code, T0).unwrap();
}

#[test]
fn concurrent_claims_execute_each_hold_exactly_once() {
    const HOLDS: usize = 24;
    const CLAIMERS: usize = 8;
    let fixture = Fixture::new();
    let ids: Vec<(String, Digest)> = {
        let store = fixture.store();
        let alice = Approver::enrol(&store, "alice");
        (0..HOLDS)
            .map(|index| {
                let hold = store.create(new_hold(1, 7200), T0).unwrap();
                // One code per 30-second step: approve each hold in its own step.
                let now = T0 + 30 * i64::try_from(index).unwrap();
                store
                    .approve(hold.id.as_str(), "alice", &alice.code(now), now)
                    .unwrap();
                (hold.id.to_string(), hold.digest)
            })
            .collect()
    };
    let ids = Arc::new(ids);
    let now = T0 + 3600;
    let barrier = Arc::new(std::sync::Barrier::new(CLAIMERS));
    let threads: Vec<_> = (0..CLAIMERS)
        .map(|_| {
            let ids = Arc::clone(&ids);
            let barrier = Arc::clone(&barrier);
            let home = fixture.home().to_owned();
            std::thread::spawn(move || {
                // Its own connection, as another process would have.
                let store = HoldStore::open_in_home(&home).unwrap();
                barrier.wait();
                let mut won = Vec::new();
                for (id, digest) in ids.iter() {
                    match store.claim_for_execution(id, digest, now) {
                        Ok(_) => won.push(id.clone()),
                        Err(ApprovalError::AlreadyExecuted { .. }) => {}
                        Err(other) => panic!("unexpected refusal: {other}"),
                    }
                }
                won
            })
        })
        .collect();
    let mut winners: Vec<String> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    winners.sort();
    let mut expected: Vec<String> = ids.iter().map(|(id, _)| id.clone()).collect();
    expected.sort();
    assert_eq!(winners, expected, "each hold claimed exactly once");
}

/// Tells a re-executed copy of this test binary to act as one claiming process.
const CLAIMER_HOME: &str = "BLASTDOOR_APPROVAL_TEST_CLAIMER_HOME";
const CLAIM_NOW: i64 = T0 + 3600;

#[test]
fn claims_from_many_processes_execute_each_hold_once() {
    const HOLDS: usize = 16;
    const PROCESSES: usize = 4;
    let fixture = Fixture::new();
    let mut expected: Vec<String> = {
        let store = fixture.store();
        let alice = Approver::enrol(&store, "alice");
        let mut lines = String::new();
        let mut ids = Vec::new();
        for index in 0..HOLDS {
            let hold = store.create(new_hold(1, 7200), T0).unwrap();
            let now = T0 + 30 * i64::try_from(index).unwrap();
            store
                .approve(hold.id.as_str(), "alice", &alice.code(now), now)
                .unwrap();
            lines.push_str(&format!("{} {}\n", hold.id, hold.digest));
            ids.push(hold.id.to_string());
        }
        std::fs::write(fixture.home().join("claims.txt"), lines).unwrap();
        ids
    };
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "claimer_process",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CLAIMER_HOME, fixture.home())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Every process waits for this file, so that the claims really race.
    std::thread::sleep(std::time::Duration::from_millis(200));
    std::fs::write(fixture.home().join("go"), b"").unwrap();
    let mut winners = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        let text = String::from_utf8(output.stdout).unwrap();
        // libtest may print "test claimer_process ... " on the same line as the first result.
        winners.extend(
            text.split("WON ")
                .skip(1)
                .filter_map(|rest| rest.split_whitespace().next())
                .map(str::to_owned),
        );
    }
    winners.sort();
    expected.sort();
    assert_eq!(
        winners, expected,
        "each hold claimed exactly once across processes"
    );
}

/// The body of one claiming process of `claims_from_many_processes_execute_each_hold_once`
/// (run only when that test re-executes this binary with `--ignored`).
#[test]
#[ignore = "helper process of claims_from_many_processes_execute_each_hold_once"]
fn claimer_process() {
    let home = PathBuf::from(std::env::var_os(CLAIMER_HOME).expect("run by the parent test"));
    let claims = std::fs::read_to_string(home.join("claims.txt")).unwrap();
    let store = HoldStore::open_in_home(&home).unwrap();
    while !home.join("go").exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for line in claims.lines() {
        let (id, digest) = line.split_once(' ').unwrap();
        match store.claim_for_execution(id, &Digest::from_hex(digest).unwrap(), CLAIM_NOW) {
            Ok(_) => println!("WON {id}"),
            Err(ApprovalError::AlreadyExecuted { .. }) => {}
            Err(other) => panic!("unexpected refusal: {other}"),
        }
    }
}
