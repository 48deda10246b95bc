//! The approvers' queue is protected: an agent's identical pending request maps to the hold it
//! already has (also when the requests race, also from separate connections), an agent with
//! `max_pending` pending holds gets no new one, and the counts per agent are what approvers see.

use std::num::NonZeroU32;
use std::sync::Arc;

use blastdoor_approval::*;
use blastdoor_core::AgentName;

use crate::{Approver, Fixture, T0, incident_body, new_hold, request};

const CAP: NonZeroU32 = NonZeroU32::new(3).unwrap();

/// The incident's hold for volume `volume`, asked for by `agent`.
fn held(agent: &str, volume: &str, ttl_secs: i64) -> NewHold {
    NewHold {
        request: request(&incident_body(volume)),
        agent: Some(AgentName::new(agent).unwrap()),
        ..new_hold(1, ttl_secs)
    }
}

fn created(queued: Queued) -> Hold {
    match queued {
        Queued::Created(hold) => hold,
        Queued::Pending(hold) => panic!("expected a new hold, got pending {}", hold.id),
    }
}

fn joined(queued: Queued) -> Hold {
    match queued {
        Queued::Pending(hold) => hold,
        Queued::Created(hold) => panic!("expected the pending hold, got new {}", hold.id),
    }
}

#[test]
fn an_identical_pending_request_of_the_same_agent_is_the_same_hold() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let first = created(
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0)
            .unwrap(),
    );
    let entries = fixture.ledger_entries().len();
    let again = joined(
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0 + 5)
            .unwrap(),
    );
    assert_eq!(again, first, "the same hold, unchanged (its expiry too)");
    assert_eq!(
        fixture.ledger_entries().len(),
        entries,
        "joining changes nothing the store records"
    );
    // JSON key order and whitespace do not make a request different.
    let reordered = NewHold {
        request: request(br#"{ "query" : "mutation { volumeDelete(volumeId: \"vol-1\") }" }"#),
        ..held("claude", "vol-1", 3600)
    };
    assert_eq!(
        joined(store.create_or_join(reordered, CAP, T0 + 6).unwrap()).id,
        first.id
    );
    // Another operation, or another agent's identical one, is a hold of its own.
    let other_volume = created(
        store
            .create_or_join(held("claude", "vol-2", 3600), CAP, T0)
            .unwrap(),
    );
    let other_agent = created(
        store
            .create_or_join(held("codex", "vol-1", 3600), CAP, T0)
            .unwrap(),
    );
    assert_ne!(other_volume.id, first.id);
    assert_ne!(other_agent.id, first.id);
    assert_eq!(store.holds(false).unwrap().len(), 3);
}

#[test]
fn only_a_pending_hold_is_joined() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let alice = Approver::enrol(&store, "alice");
    // Approved: the identical request is a new hold (the approved one is for a re-send).
    let approved = created(
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0)
            .unwrap(),
    );
    store
        .approve(approved.id.as_str(), "alice", &alice.code(T0), T0)
        .unwrap();
    let after_approval = created(
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0 + 1)
            .unwrap(),
    );
    assert_ne!(after_approval.id, approved.id);
    // Denied or cancelled: new.
    store
        .deny(
            after_approval.id.as_str(),
            "alice",
            &alice.code(T0 + 30),
            "no",
            T0 + 30,
        )
        .unwrap();
    let after_denial = created(
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0 + 31)
            .unwrap(),
    );
    assert_ne!(after_denial.id, after_approval.id);
    store
        .cancel(after_denial.id.as_str(), "operator", T0 + 32)
        .unwrap();
    let after_cancel = created(
        store
            .create_or_join(held("claude", "vol-1", 60), CAP, T0 + 33)
            .unwrap(),
    );
    // Past its expiry (even before anything marked it expired): new.
    let after_expiry = created(
        store
            .create_or_join(held("claude", "vol-1", 60), CAP, T0 + 93)
            .unwrap(),
    );
    assert_ne!(after_expiry.id, after_cancel.id);
}

#[test]
fn past_the_cap_no_hold_is_created_for_that_agent() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let mut ids = Vec::new();
    for (index, volume) in ["vol-1", "vol-2", "vol-3"].into_iter().enumerate() {
        let now = T0 + i64::try_from(index).unwrap();
        ids.push(
            created(
                store
                    .create_or_join(held("claude", volume, 3600), CAP, now)
                    .unwrap(),
            )
            .id,
        );
    }
    let entries = fixture.ledger_entries().len();
    let refused = store
        .create_or_join(held("claude", "vol-4", 3600), CAP, T0 + 10)
        .unwrap_err();
    assert_eq!(
        refused,
        ApprovalError::QueueFull {
            agent: Some(AgentName::new("claude").unwrap()),
            pending: 3,
            cap: 3,
            frees_at: Some(T0 + 3600),
        }
    );
    assert_eq!(refused.code(), "hold_queue_full");
    assert!(!refused.is_refusal(), "not an answer to a re-send");
    assert!(
        refused
            .to_string()
            .contains("agent `claude` already has 3 holds")
    );
    assert_eq!(store.holds(true).unwrap().len(), 3, "nothing stored");
    assert_eq!(
        fixture.ledger_entries().len(),
        entries,
        "the caller records it"
    );
    // At the cap, the identical request still names its hold.
    assert_eq!(
        joined(
            store
                .create_or_join(held("claude", "vol-2", 3600), CAP, T0 + 11)
                .unwrap()
        )
        .id,
        ids[1]
    );
    // Another agent has a queue of its own.
    created(
        store
            .create_or_join(held("codex", "vol-4", 3600), CAP, T0 + 12)
            .unwrap(),
    );
    // A human clears one: a place frees up.
    store.cancel(ids[0].as_str(), "operator", T0 + 20).unwrap();
    created(
        store
            .create_or_join(held("claude", "vol-4", 3600), CAP, T0 + 21)
            .unwrap(),
    );
    assert!(matches!(
        store.create_or_join(held("claude", "vol-5", 3600), CAP, T0 + 22),
        Err(ApprovalError::QueueFull { pending: 3, .. })
    ));
    // Approved holds do not wait for a human any more and do not count.
    let alice = Approver::enrol(&store, "alice");
    store
        .approve(ids[1].as_str(), "alice", &alice.code(T0 + 30), T0 + 30)
        .unwrap();
    created(
        store
            .create_or_join(held("claude", "vol-5", 3600), CAP, T0 + 31)
            .unwrap(),
    );
    // Holds past their expiry do not count, even before they are marked expired.
    assert!(
        store
            .create_or_join(held("claude", "vol-6", 3600), CAP, T0 + 32)
            .is_err()
    );
    created(
        store
            .create_or_join(held("claude", "vol-6", 3600), CAP, T0 + 3602)
            .unwrap(),
    );
}

#[test]
fn pending_counts_per_agent_and_in_all() {
    let fixture = Fixture::new();
    let store = fixture.store();
    let cap = NonZeroU32::new(20).unwrap();
    for volume in ["vol-1", "vol-2", "vol-3"] {
        store
            .create_or_join(held("claude", volume, 3600), cap, T0)
            .unwrap();
    }
    store
        .create_or_join(held("codex", "vol-1", 60), cap, T0)
        .unwrap();
    // `create` counts too; an agent-less hold counts under `None`.
    store
        .create(
            NewHold {
                agent: None,
                ..new_hold(1, 3600)
            },
            T0,
        )
        .unwrap();
    let count = |agent: Option<&str>, pending: u64| PendingCount {
        agent: agent.map(|name| AgentName::new(name).unwrap()),
        pending,
    };
    assert_eq!(
        store.pending_counts(T0 + 1).unwrap(),
        vec![
            count(Some("claude"), 3),
            count(None, 1),
            count(Some("codex"), 1)
        ]
    );
    // codex's hold is past its expiry at T0 + 60.
    assert_eq!(
        store.pending_counts(T0 + 60).unwrap(),
        vec![count(Some("claude"), 3), count(None, 1)]
    );
}

#[test]
fn identical_requests_racing_from_many_connections_make_one_hold() {
    const SENDERS: usize = 20;
    let fixture = Fixture::new();
    drop(fixture.store());
    let barrier = Arc::new(std::sync::Barrier::new(SENDERS));
    let threads: Vec<_> = (0..SENDERS)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let home = fixture.home().to_owned();
            std::thread::spawn(move || {
                // Its own connection, as another process would have.
                let store = HoldStore::open_in_home(&home).unwrap();
                barrier.wait();
                store
                    .create_or_join(held("claude", "vol-1", 3600), CAP, T0)
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<Queued> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let new = results
        .iter()
        .filter(|queued| matches!(queued, Queued::Created(_)))
        .count();
    assert_eq!(new, 1, "exactly one hold created");
    let first = results[0].hold().id.clone();
    assert!(results.iter().all(|queued| queued.hold().id == first));
    assert_eq!(fixture.store().holds(true).unwrap().len(), 1);
}

#[test]
fn distinct_requests_racing_stop_at_the_cap() {
    const SENDERS: usize = 12;
    let fixture = Fixture::new();
    drop(fixture.store());
    let barrier = Arc::new(std::sync::Barrier::new(SENDERS));
    let threads: Vec<_> = (0..SENDERS)
        .map(|index| {
            let barrier = Arc::clone(&barrier);
            let home = fixture.home().to_owned();
            std::thread::spawn(move || {
                let store = HoldStore::open_in_home(&home).unwrap();
                barrier.wait();
                store.create_or_join(held("claude", &format!("vol-{index}"), 3600), CAP, T0)
            })
        })
        .collect();
    let results: Vec<Result<Queued, ApprovalError>> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();
    let new = results
        .iter()
        .filter(|result| matches!(result, Ok(Queued::Created(_))))
        .count();
    let full = results
        .iter()
        .filter(|result| matches!(result, Err(ApprovalError::QueueFull { .. })))
        .count();
    assert_eq!((new, full), (3, SENDERS - 3), "{results:?}");
    assert_eq!(fixture.store().holds(true).unwrap().len(), 3);
}

#[test]
fn a_state_database_from_before_the_agent_column_still_counts_its_holds() {
    let fixture = Fixture::new();
    let old = {
        let store = fixture.store();
        store
            .create_or_join(held("claude", "vol-1", 3600), CAP, T0)
            .unwrap()
            .into_hold()
    };
    // Make it look like an earlier version's: no agent column, no index.
    let connection = rusqlite::Connection::open(fixture.home().join(STATE_FILE)).unwrap();
    connection
        .execute_batch(
            "DROP INDEX holds_by_agent;
             ALTER TABLE holds DROP COLUMN agent;",
        )
        .unwrap();
    drop(connection);
    let store = fixture.store();
    assert_eq!(
        store.pending_counts(T0).unwrap(),
        vec![PendingCount {
            agent: Some(AgentName::new("claude").unwrap()),
            pending: 1
        }]
    );
    assert_eq!(
        joined(
            store
                .create_or_join(held("claude", "vol-1", 3600), CAP, T0 + 1)
                .unwrap()
        )
        .id,
        old.id
    );
    drop(store);
    assert_eq!(fixture.store().holds(false).unwrap().len(), 1);
}
