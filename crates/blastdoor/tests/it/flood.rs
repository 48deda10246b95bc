//! The humans' queue is protected, through `blastdoor serve` in front of the Railway simulator:
//! one agent's flood of distinct held requests stops at `[approvals] max_pending_per_agent`
//! (429, each refusal in the ledger, no hold), identical requests sent at once make one hold,
//! `blastdoor holds` shows the counts and narrows to one agent, and a hold that several
//! identical requests share is approved and runs exactly once.

use std::sync::Arc;
use std::time::Duration;

use blastdoor_sim::ids;

use crate::serve::{
    Served, Sim, approve, enrol, find_key, graphql, hold_code, hold_id_of, hold_state, home_with,
    incident, incident_numbered, ledger_entries, mint, resend, volume_deletes,
};
use crate::support::{TestHome, stderr, stdout};

/// A token for `agent` that policy holds the incident's delete for.
fn mint_for(home: &TestHome, agent: &str) -> String {
    let output = home.run(&[
        "token",
        "mint",
        "--agent",
        agent,
        "--upstream",
        "railway",
        "--env",
        "staging,production",
        "--risk",
        "read,write,destroy",
        "--ttl",
        "1h",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output).trim().to_owned()
}

fn holds_json(home: &TestHome, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["holds", "--json"];
    all.extend_from_slice(args);
    let output = home.run(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// Gateway entries in the ledger whose text contains `needle`.
fn gateway_entries_with(home: &TestHome, needle: &str) -> Vec<serde_json::Value> {
    ledger_entries(home)
        .into_iter()
        .filter(|entry| {
            find_key(entry, "layer").and_then(|layer| layer.as_str()) == Some("gateway")
                && entry.to_string().contains(needle)
        })
        .collect()
}

#[test]
fn a_flood_of_held_requests_stops_at_the_cap_with_429s_in_the_ledger() {
    const SENT: usize = 60;
    const CAP: usize = 20; // the default
    let sim = Sim::start();
    let home = home_with(&sim, "");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let replies: Vec<_> = (0..SENT)
        .map(|n| graphql(served.address, &token, incident_numbered(n)))
        .collect();
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(statuses[..CAP], [428; CAP], "{statuses:?}");
    assert_eq!(statuses[CAP..], [429; SENT - CAP], "{statuses:?}");
    let refused = &replies[CAP];
    assert_eq!(refused.code(), "BLASTDOOR_HOLD_QUEUE_FULL", "{refused:?}");
    let message = refused.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("20 operations waiting for a human decision"),
        "{message}"
    );
    assert!(message.contains("A human must"), "{message}");
    assert!(message.contains("other credentials"), "{message}");
    assert!(refused.json()["errors"][0]["extensions"]["hold_id"].is_null());
    // Retry-After: when the oldest pending hold expires (the default expiry is one hour).
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(volume_deletes(&sim), 0);
    assert!(sim.state.has_volume(ids::PG_DATA));

    // Exactly CAP holds; every refusal is in the ledger, naming no hold.
    assert_eq!(holds_json(&home, &[]).as_array().unwrap().len(), CAP);
    let refusals = gateway_entries_with(&home, "approval.queue-full");
    assert_eq!(refusals.len(), SENT - CAP);
    for entry in &refusals {
        assert!(find_key(entry, "hold_id").is_none_or(serde_json::Value::is_null));
        assert_eq!(
            find_key(entry, "decision").and_then(|value| value.as_str()),
            Some("deny"),
            "{entry}"
        );
        assert!(entry.to_string().contains("claude-staging-fix"), "{entry}");
    }

    // The same request as a pending one still names its hold, even at the cap.
    let again = graphql(served.address, &token, incident_numbered(3));
    assert_eq!(hold_id_of(&again), hold_id_of(&replies[3]));
    // Another token of the same agent shares the cap; another agent has a queue of its own.
    let same_agent = mint(&home, "staging,production", "read,write,destroy");
    let shared = graphql(served.address, &same_agent, incident_numbered(SENT));
    assert_eq!(shared.status, 429, "{shared:?}");
    let other = mint_for(&home, "nightly-cleanup");
    let other_hold = hold_id_of(&graphql(served.address, &other, incident()));

    // The approvers see the counts, and can narrow the list to one agent.
    let listing = home.run(&["holds"]);
    assert!(listing.status.success(), "{}", stderr(&listing));
    let text = stdout(&listing);
    assert!(text.contains("waiting for a decision: 21 in all"), "{text}");
    assert!(
        text.contains("20  claude-staging-fix  (full: its new holds are refused"),
        "{text}"
    );
    assert!(text.contains("1  nightly-cleanup\n"), "{text}");
    let narrowed = stdout(&home.run(&["holds", "--agent", "nightly-cleanup"]));
    assert!(narrowed.contains(&other_hold), "{narrowed}");
    assert!(
        narrowed.contains("holds of nightly-cleanup only"),
        "{narrowed}"
    );
    assert!(!narrowed.contains(&hold_id_of(&replies[0])), "{narrowed}");
    let narrowed = holds_json(&home, &["--agent", "nightly-cleanup"]);
    assert_eq!(narrowed.as_array().unwrap().len(), 1);
    assert_eq!(narrowed[0]["id"], other_hold.as_str());
    assert_eq!(
        holds_json(&home, &["--agent", "claude-staging-fix"])
            .as_array()
            .unwrap()
            .len(),
        CAP
    );
    let counts = holds_json(&home, &["--counts"]);
    assert_eq!(counts["pending"], 21);
    assert_eq!(counts["max_pending_per_agent"], 20);
    assert_eq!(counts["agents"][0]["agent"], "claude-staging-fix");
    assert_eq!(counts["agents"][0]["pending"], 20);
    assert_eq!(counts["agents"][1]["agent"], "nightly-cleanup");
    let bad = home.run(&["holds", "--agent", "not an agent"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("not an agent name"),
        "{}",
        stderr(&bad)
    );

    // A human clears one: the agent may ask for one more, and no more.
    let first = hold_id_of(&replies[0]);
    let cancelled = home.run(&["cancel", &first, "--as", "operator"]);
    assert!(cancelled.status.success(), "{}", stderr(&cancelled));
    assert_eq!(
        graphql(served.address, &token, incident_numbered(SENT + 1)).status,
        428
    );
    assert_eq!(
        graphql(served.address, &token, incident_numbered(SENT + 2)).status,
        429
    );
    assert_eq!(volume_deletes(&sim), 0);
}

#[test]
fn identical_requests_sent_at_once_make_one_hold_that_runs_once() {
    const SENDERS: usize = 20;
    let sim = Sim::start();
    let home = home_with(&sim, "[approvals]\ncooling_off = \"0s\"\n");
    let served = Served::start(&home, None);
    let token = mint(&home, "staging,production", "read,write,destroy");
    let address = served.address;
    let barrier = Arc::new(std::sync::Barrier::new(SENDERS));
    let threads: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (token, barrier) = (token.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                graphql(address, &token, incident())
            })
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .map(|thread| hold_id_of(&thread.join().unwrap()))
        .collect();
    let id = ids[0].clone();
    assert!(ids.iter().all(|other| *other == id), "{ids:?}");
    let holds = holds_json(&home, &["--all"]);
    assert_eq!(holds.as_array().unwrap().len(), 1, "{holds}");
    assert_eq!(holds[0]["id"], id.as_str());
    // One decision entry per request, each naming the one hold.
    let decisions: Vec<_> = gateway_entries_with(&home, "volumeDelete")
        .into_iter()
        .filter(|entry| {
            find_key(entry, "decision").and_then(|value| value.as_str()) == Some("hold")
        })
        .collect();
    assert_eq!(decisions.len(), SENDERS);
    for entry in &decisions {
        assert_eq!(
            find_key(entry, "hold_id").and_then(|value| value.as_str()),
            Some(id.as_str())
        );
    }
    let text = stdout(&home.run(&["holds"]));
    assert!(text.contains("waiting for a decision: 1 in all"), "{text}");

    // Approved by two humans, the shared hold runs once, for any of the agent's re-sends.
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");
    approve(&home, &id, "alice", &alice);
    approve(&home, &id, "bob", &bob);
    let ran = resend(served.address, &token, &id, &incident());
    assert_eq!(ran.status, 200, "{ran:?}");
    let again = resend(served.address, &token, &id, &incident());
    assert_eq!(again.status, 403, "{again:?}");
    assert_eq!(hold_code(&again), "hold_already_executed");
    assert_eq!(volume_deletes(&sim), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(hold_state(&home, &id), "executed");
    // Once executed, the same request is a new question for the humans.
    let new = hold_id_of(&graphql(served.address, &token, incident()));
    assert_ne!(new, id);
    assert_eq!(volume_deletes(&sim), 1);
}
