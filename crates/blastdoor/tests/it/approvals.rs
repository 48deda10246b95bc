//! `blastdoor approver`, `holds`, `approve`, `deny`, `cancel`, `freeze`, `thaw` through the real
//! binary. Holds are created, and re-sent requests claimed, through `blastdoor-approval`'s API,
//! as the gateway does; each binary run is a separate process sharing the state database, so
//! every step is also a restart.

use std::num::NonZeroU8;
use std::time::{SystemTime, UNIX_EPOCH};

use blastdoor_approval::{
    ApprovalError, CanonicalRequest, Hold, HoldState, HoldStore, NewHold, totp,
};
use blastdoor_core::{AgentName, Environment, Layer, OperationKind, Risk, Target};

use crate::support::{TestHome, stderr, stdout};

const INCIDENT: &[u8] = br#"{"query":"mutation { volumeDelete(volumeId: \"vol-pg-data\") }"}"#;

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn store(home: &TestHome) -> HoldStore {
    HoldStore::open_in_home(&home.path()).unwrap()
}

fn request(body: &[u8]) -> CanonicalRequest {
    CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", body)
}

/// Holds the incident's request, as the gateway would.
fn hold(home: &TestHome, required: u8) -> Hold {
    hold_cooling_off(home, required, 0)
}

/// Holds the incident's request with a cooling-off window, as the gateway does for a
/// production destroy.
fn hold_cooling_off(home: &TestHome, required: u8, cooling_off_secs: i64) -> Hold {
    let new = NewHold {
        request: request(INCIDENT),
        kind: OperationKind::Graphql,
        risk: Risk::Destroy,
        targets: vec![Target::new(
            "volume",
            "pg-data",
            vec![
                Environment::parse("staging").unwrap(),
                Environment::production(),
            ],
        )],
        description: "mutation volumeDelete".to_owned(),
        summary: None,
        agent: Some(AgentName::new("claude-staging-fix").unwrap()),
        token_id: None,
        session: None,
        task: Some("fix the staging deploy".to_owned()),
        reasons: vec![],
        approvals_required: NonZeroU8::new(required).unwrap(),
        ttl_secs: 3600,
        not_before: None,
        cooling_off_secs,
    };
    store(home).create(new, now()).unwrap()
}

/// Enrols `name` through the binary and returns the seed read from the printed URI.
fn enrol(home: &TestHome, name: &str) -> Vec<u8> {
    let output = home.run(&["approver", "add", name, "--show-secret"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let uri = text
        .lines()
        .find(|line| line.starts_with("otpauth://totp/blastdoor:"))
        .unwrap();
    assert!(uri.contains("issuer=blastdoor"));
    totp::seed_from_uri(uri).unwrap()
}

fn code(seed: &[u8]) -> String {
    totp::format_code(totp::code_at(seed, now()))
}

/// A code that is valid for no step near now.
fn wrong_code(seed: &[u8]) -> String {
    let valid: Vec<u32> = (-2..=2)
        .map(|step| totp::code_at(seed, now() + step * 30))
        .collect();
    totp::format_code((0..).find(|candidate| !valid.contains(candidate)).unwrap())
}

#[test]
fn enrolment_prints_the_secret_only_where_asked() {
    let home = TestHome::empty();
    let refused = home.run(&["approver", "add", "alice"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("not a terminal"),
        "{}",
        stderr(&refused)
    );
    assert!(!stdout(&refused).contains("otpauth"));
    let listed = home.run(&["approver", "list", "--json"]);
    assert_eq!(stdout(&listed).trim(), "[]", "nothing was enrolled");

    let seed = enrol(&home, "alice");
    assert_eq!(seed.len(), totp::SEED_BYTES);
    let again = home.run(&["approver", "add", "alice", "--show-secret"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already exists"));
    let bad = home.run(&["approver", "add", "al ice", "--show-secret"]);
    assert_eq!(bad.status.code(), Some(1));
    // The seed is encrypted at rest and never in the ledger.
    let encoded = totp::base32_encode(&seed);
    for file in ["approvers.json", "state.sqlite", "ledger.sqlite"] {
        assert!(
            !crate::support::file_contains(&home.path().join(file), encoded.as_bytes()),
            "{file}"
        );
    }
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["approver", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["name"], "alice");
    assert!(home.run(&["approver", "rm", "alice"]).status.success());
    assert_eq!(
        home.run(&["approver", "rm", "alice"]).status.code(),
        Some(1)
    );
}

#[test]
fn two_approvers_then_exactly_one_execution() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    let held = hold(&home, 2);
    let id = held.id.as_str();

    let listing = home.run(&["holds"]);
    let text = stdout(&listing);
    assert!(text.contains(id), "{text}");
    assert!(
        text.contains("DELETE volume pg-data in production and staging — irreversible"),
        "{text}"
    );
    assert!(text.contains("approvals 0/2"), "{text}");
    assert!(
        text.contains("expires in 59m") || text.contains("expires in 1h"),
        "{text}"
    );
    assert!(
        text.contains("claude-staging-fix") && text.contains("fix the staging deploy"),
        "{text}"
    );

    let first = home.run(&["approve", id, "--as", "alice", "--code", &code(&alice)]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("1 of 2"));
    // Too few approvers: still pending, and a re-send is refused.
    assert!(matches!(
        store(&home).claim_for_execution(id, &request(INCIDENT).digest(), now()),
        Err(ApprovalError::NotApproved {
            given: 1,
            required: 2,
            ..
        })
    ));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["holds", "--json"]))).unwrap();
    assert_eq!(json[0]["state"], "pending");
    assert_eq!(json[0]["approvals_given"], 1);
    assert_eq!(json[0]["approvals"][0]["approver"], "alice");
    assert!(json[0]["expires_in_secs"].as_i64().unwrap() > 3500);

    let second = home.run(&["approve", id, "--as", "bob", "--code", &code(&bob)]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(stdout(&second).contains("approved"));

    // An altered request under the same id is refused; the identical one runs once.
    let altered = br#"{"query":"mutation { volumeDelete(volumeId: \"vol-other\") }"}"#;
    assert!(matches!(
        store(&home).claim_for_execution(id, &request(altered).digest(), now()),
        Err(ApprovalError::DigestMismatch { .. })
    ));
    store(&home)
        .claim_for_execution(id, &request(INCIDENT).digest(), now())
        .unwrap();
    assert!(matches!(
        store(&home).claim_for_execution(id, &request(INCIDENT).digest(), now()),
        Err(ApprovalError::AlreadyExecuted { .. })
    ));
    assert!(stdout(&home.run(&["holds"])).contains("no holds waiting"));
    assert!(stdout(&home.run(&["holds", "--all"])).contains("EXECUTED"));
}

#[test]
fn wrong_reused_and_missing_codes_and_self_approval_are_refused() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let agent = enrol(&home, "claude-staging-fix");
    let first = hold(&home, 1);
    let second = hold(&home, 1);

    let wrong = home.run(&[
        "approve",
        first.id.as_str(),
        "--as",
        "alice",
        "--code",
        &wrong_code(&alice),
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        stderr(&wrong).contains("invalid or already used code"),
        "{}",
        stderr(&wrong)
    );

    let no_code = home.run(&["approve", first.id.as_str(), "--as", "alice"]);
    assert_eq!(no_code.status.code(), Some(1));
    assert!(stderr(&no_code).contains("no code"), "{}", stderr(&no_code));

    let selfish = home.run(&[
        "approve",
        first.id.as_str(),
        "--as",
        "claude-staging-fix",
        "--code",
        &code(&agent),
    ]);
    assert_eq!(selfish.status.code(), Some(1));
    assert!(
        stderr(&selfish).contains("cannot approve"),
        "{}",
        stderr(&selfish)
    );

    let used = code(&alice);
    assert!(
        home.run(&[
            "approve",
            first.id.as_str(),
            "--as",
            "alice",
            "--code",
            &used
        ])
        .status
        .success()
    );
    let replayed = home.run(&[
        "approve",
        second.id.as_str(),
        "--as",
        "alice",
        "--code",
        &used,
    ]);
    assert_eq!(replayed.status.code(), Some(1));
    assert!(stderr(&replayed).contains("invalid or already used code"));
    assert_eq!(
        store(&home).hold(second.id.as_str()).unwrap().state,
        HoldState::Pending
    );

    let unknown = home.run(&["approve", "hold_0000", "--as", "alice", "--code", "123456"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no hold `hold_0000`"));
}

#[test]
fn deny_and_cancel_end_a_hold_for_good() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let denied = hold(&home, 1);
    let cancelled = hold(&home, 1);

    let no_reason = home.run(&[
        "deny",
        denied.id.as_str(),
        "--as",
        "alice",
        "--code",
        &code(&alice),
    ]);
    // A usage error (clap exits 2), before anything is touched.
    assert!(!no_reason.status.success(), "--reason is required");
    assert!(stderr(&no_reason).contains("--reason"));
    let deny = home.run(&[
        "deny",
        denied.id.as_str(),
        "--as",
        "alice",
        "--reason",
        "that volume holds production data",
        "--code",
        &code(&alice),
    ]);
    assert!(deny.status.success(), "{}", stderr(&deny));
    assert!(matches!(
        store(&home).claim_for_execution(denied.id.as_str(), &denied.digest, now()),
        Err(ApprovalError::Denied { .. })
    ));

    let cancel = home.run(&["cancel", cancelled.id.as_str()]);
    assert!(cancel.status.success(), "{}", stderr(&cancel));
    assert!(matches!(
        store(&home).claim_for_execution(cancelled.id.as_str(), &cancelled.digest, now()),
        Err(ApprovalError::Cancelled { .. })
    ));
    assert_eq!(
        home.run(&["cancel", cancelled.id.as_str()]).status.code(),
        Some(1)
    );
    let all = stdout(&home.run(&["holds", "--all"]));
    assert!(all.contains("DENIED") && all.contains("CANCELLED"), "{all}");
    assert!(all.contains("that volume holds production data"), "{all}");
}

#[test]
fn holds_show_when_a_cooling_off_window_opens_and_cancel_works_inside_it() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let held = hold_cooling_off(&home, 1, 600);
    let id = held.id.as_str();

    let pending = stdout(&home.run(&["holds"]));
    assert!(
        pending.contains("executable 10m 0s after the last approval"),
        "{pending}"
    );
    let approve = home.run(&["approve", id, "--as", "alice", "--code", &code(&alice)]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    let approved_at = now();

    let text = stdout(&home.run(&["holds"]));
    assert!(text.contains("APPROVED"), "{text}");
    assert!(
        text.contains("approved — executable in 10m 0s")
            || text.contains("approved — executable in 9m"),
        "{text}"
    );
    let opens_at = store(&home).hold(id).unwrap().not_before.unwrap();
    assert!((approved_at - 2..=approved_at).contains(&(opens_at - 600)));
    let (hours, minutes, seconds) = (
        opens_at.rem_euclid(86_400) / 3600,
        opens_at.rem_euclid(3600) / 60,
        opens_at.rem_euclid(60),
    );
    assert!(
        text.contains(&format!("{hours:02}:{minutes:02}:{seconds:02} UTC")),
        "{text}"
    );
    assert!(text.contains(&format!("blastdoor cancel {id}")), "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["holds", "--json"]))).unwrap();
    assert_eq!(json[0]["state"], "approved");
    assert_eq!(json[0]["not_before"], opens_at);
    assert_eq!(json[0]["cooling_off_secs"], 600);
    let executable_in = json[0]["executable_in_secs"].as_i64().unwrap();
    assert!((590..=600).contains(&executable_in), "{executable_in}");

    // The re-send is refused until then; a human can still stop it.
    assert!(matches!(
        store(&home).claim_for_execution(id, &held.digest, now()),
        Err(ApprovalError::CoolingOff { opens_at: at, .. }) if at == opens_at
    ));
    let cancel = home.run(&["cancel", id, "--as", "operator"]);
    assert!(cancel.status.success(), "{}", stderr(&cancel));
    assert!(stdout(&cancel).contains("it will never run"));
    assert!(matches!(
        store(&home).claim_for_execution(id, &held.digest, opens_at + 1),
        Err(ApprovalError::Cancelled { .. })
    ));
    let all = stdout(&home.run(&["holds", "--all"]));
    assert!(
        all.contains("CANCELLED") && !all.contains("executable in"),
        "{all}"
    );
}

#[test]
fn an_approved_hold_without_a_window_is_executable_at_once() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let held = hold(&home, 1);
    let approve = home.run(&[
        "approve",
        held.id.as_str(),
        "--as",
        "alice",
        "--code",
        &code(&alice),
    ]);
    assert!(approve.status.success(), "{}", stderr(&approve));
    let text = stdout(&home.run(&["holds"]));
    assert!(!text.contains("cooling off"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&home.run(&["holds", "--json"]))).unwrap();
    assert_eq!(json[0]["executable_in_secs"], 0);
    assert!(json[0]["not_before"].is_null());
}

#[test]
fn freeze_holds_everything_until_an_approver_thaws() {
    let home = TestHome::empty();
    let alice = enrol(&home, "alice");
    let approved = hold(&home, 1);
    assert!(
        home.run(&[
            "approve",
            approved.id.as_str(),
            "--as",
            "alice",
            "--code",
            &code(&alice)
        ])
        .status
        .success()
    );

    let freeze = home.run(&["freeze", "--reason", "incident in progress"]);
    assert!(freeze.status.success(), "{}", stderr(&freeze));
    assert!(home.path().join("FROZEN").exists());
    assert!(stdout(&home.run(&["holds"])).contains("FROZEN"));
    assert!(store(&home).is_frozen().unwrap());
    assert!(matches!(
        store(&home).claim_for_execution(approved.id.as_str(), &approved.digest, now()),
        Err(ApprovalError::Frozen { .. })
    ));

    let no_code = home.run(&["thaw", "--as", "alice"]);
    assert_eq!(no_code.status.code(), Some(1));
    let wrong = home.run(&["thaw", "--as", "alice", "--code", &wrong_code(&alice)]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(home.path().join("FROZEN").exists());

    // Alice used this step's code to approve; thaw with another approver's code.
    let bob = enrol(&home, "bob");
    let thaw = home.run(&["thaw", "--as", "bob", "--code", &code(&bob)]);
    assert!(thaw.status.success(), "{}", stderr(&thaw));
    assert!(!home.path().join("FROZEN").exists());
    assert!(!store(&home).is_frozen().unwrap());
    store(&home)
        .claim_for_execution(approved.id.as_str(), &approved.digest, now())
        .unwrap();
}

const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg";
const PGPASSWORD: &str = "pg-hunter2-secret";

/// Holds a shell command carrying a PGPASSWORD and a bearer token, as the hook does (the
/// command is stored as base64).
fn secret_shell_hold(home: &TestHome) -> Hold {
    let command = format!(
        "PGPASSWORD={PGPASSWORD} psql -h db.prod -c 'DROP TABLE bookings' && curl -H 'Authorization: Bearer {BEARER}' https://api.example.com/deploy"
    );
    let new = NewHold {
        request: CanonicalRequest::shell("session-1", "/home/u/proj", &command),
        kind: OperationKind::Shell,
        risk: Risk::Destroy,
        targets: vec![Target::new(
            "database",
            "db.prod",
            vec![Environment::production()],
        )],
        description: "psql DROP TABLE".to_owned(),
        summary: None,
        agent: None,
        token_id: None,
        session: None,
        task: None,
        reasons: vec![blastdoor_core::Reason::new(
            blastdoor_core::RuleId::new("db.psql-destructive").unwrap(),
            "psql runs DROP TABLE".to_owned(),
            None,
            "held".to_owned(),
        )],
        approvals_required: NonZeroU8::new(1).unwrap(),
        ttl_secs: 3600,
        not_before: None,
        cooling_off_secs: 0,
    };
    store(home).create(new, now()).unwrap()
}

#[test]
fn held_bodies_are_shown_redacted_in_text_and_json() {
    let home = TestHome::initialised();
    secret_shell_hold(&home);
    for args in [
        &["holds"][..],
        &["holds", "--json"][..],
        &["holds", "--all", "--json"][..],
    ] {
        let output = home.run(args);
        assert!(output.status.success(), "{}", stderr(&output));
        let printed = format!("{}{}", stdout(&output), stderr(&output));
        assert!(printed.contains("psql -h db.prod"), "{args:?}: {printed}");
        for secret in [BEARER, PGPASSWORD] {
            assert!(
                !printed.contains(secret),
                "{args:?} printed {secret}: {printed}"
            );
        }
        // Nor the stored base64 of the command, which decodes to the secrets.
        assert!(!printed.contains("UEdQQVNTV09SRD"), "{args:?}: {printed}");
    }
}

#[test]
fn approve_shows_the_whole_redacted_hold_and_reads_the_code_from_stdin() {
    let home = TestHome::initialised();
    let seed = enrol(&home, "alice");
    let hold = secret_shell_hold(&home);
    let output = home.run_with_stdin(
        &["approve", hold.id.as_str(), "--as", "alice", "--code", "-"],
        format!("{}\n", code(&seed)).as_bytes(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stderr(&output);
    for expected in [
        "SHELL",
        "session-1",
        "/home/u/proj",
        "psql -h db.prod",
        "PGPASSWORD=[redacted]",
        "production",
        "db.psql-destructive",
        "psql runs DROP TABLE",
    ] {
        assert!(shown.contains(expected), "missing {expected:?}: {shown}");
    }
    for secret in [BEARER, PGPASSWORD] {
        assert!(!shown.contains(secret) && !stdout(&output).contains(secret));
    }
    assert_eq!(
        store(&home).hold(hold.id.as_str()).unwrap().state,
        HoldState::Approved
    );

    // `--code -` with nothing on stdin is refused, not taken as an empty code.
    let second = secret_shell_hold(&home);
    let output = home.run_with_stdin(
        &[
            "deny",
            second.id.as_str(),
            "--as",
            "alice",
            "--reason",
            "no",
            "--code",
            "-",
        ],
        b"",
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("no code"), "{}", stderr(&output));
}
