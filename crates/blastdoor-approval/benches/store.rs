//! Prints what the approval store costs on this machine: creating a hold, approving it,
//! claiming it (each one SQLite transaction with `synchronous=FULL` plus a durable ledger
//! append), and the freeze checks the gateway and the hook make per request.
//! Run with `cargo bench -p blastdoor-approval`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::num::NonZeroU8;
use std::time::{Duration, Instant};

use blastdoor_approval::{CanonicalRequest, HoldStore, NewHold, frozen_marker_present, totp};
use blastdoor_core::{Environment, Layer, OperationKind, Risk, Target};

const T0: i64 = 1_900_000_000;

fn report(what: &str, count: u32, elapsed: Duration) {
    let each = elapsed / count;
    let per_second = f64::from(count) / elapsed.as_secs_f64();
    println!("{what:<44} {each:>12.2?} each  {per_second:>10.0}/s  ({count} runs)");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    blastdoor_broker::init(&dir.path().join("keys")).unwrap();
    let store = HoldStore::open_in_home(dir.path()).unwrap();
    let enrolment = store.add_approver("alice", &[], T0).unwrap();
    let seed = totp::seed_from_uri(enrolment.otpauth_uri.expose_secret()).unwrap();
    let body = br#"{"query":"mutation { volumeDelete(volumeId: \"vol-1\") }"}"#;
    let new_hold = || NewHold {
        request: CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", body),
        kind: OperationKind::Graphql,
        risk: Risk::Destroy,
        targets: vec![Target::new(
            "volume",
            "pg-data",
            vec![Environment::production()],
        )],
        description: "mutation volumeDelete".to_owned(),
        summary: None,
        agent: None,
        token_id: None,
        session: None,
        task: None,
        reasons: vec![],
        approvals_required: NonZeroU8::MIN,
        ttl_secs: 1_000_000,
        not_before: None,
        cooling_off_secs: 0,
    };
    const N: u32 = 200;

    let started = Instant::now();
    let ids: Vec<String> = (0..N)
        .map(|_| store.create(new_hold(), T0).unwrap().id.to_string())
        .collect();
    report("create (state txn + ledger append)", N, started.elapsed());

    let started = Instant::now();
    for (index, id) in ids.iter().enumerate() {
        let now = T0 + 30 * i64::try_from(index).unwrap();
        let code = totp::format_code(totp::code_at(&seed, now));
        store.approve(id, "alice", &code, now).unwrap();
    }
    report("approve with a TOTP code", N, started.elapsed());

    let digest =
        CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", body).digest();
    let started = Instant::now();
    for id in &ids {
        store
            .claim_for_execution(id, &digest, T0 + 100_000)
            .unwrap();
    }
    report("claim_for_execution", N, started.elapsed());

    let started = Instant::now();
    for _ in 0..N {
        std::hint::black_box(
            CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/graphql/v2", body).digest(),
        );
    }
    report(
        "canonicalise + digest a 60-byte JSON body",
        N,
        started.elapsed(),
    );

    let started = Instant::now();
    for _ in 0..10 * N {
        std::hint::black_box(store.is_frozen().unwrap());
    }
    report("is_frozen (database)", 10 * N, started.elapsed());

    let started = Instant::now();
    for _ in 0..10 * N {
        std::hint::black_box(frozen_marker_present(dir.path()));
    }
    report(
        "frozen_marker_present (one stat)",
        10 * N,
        started.elapsed(),
    );
}
