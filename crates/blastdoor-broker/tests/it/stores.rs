//! `tokens.json` and the secret store under concurrent writers: every change made by every
//! writer survives (read-modify-write happens under a lock, re-reading the file).

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use blastdoor_broker::{SecretName, SecretStore, TokenId, TokenRecord, TokenRegistry, init};
use blastdoor_core::{AgentName, Secret};

fn record(n: usize) -> TokenRecord {
    TokenRecord {
        id: TokenId::new(format!("tok_{n:024x}")).unwrap(),
        agent: AgentName::new("claude").unwrap(),
        upstreams: BTreeSet::new(),
        environments: BTreeSet::new(),
        risks: BTreeSet::new(),
        task: None,
        minted_at: 1,
        expires_at: 2,
        revocation_id: format!("{n:02x}"),
        revoked_at: None,
    }
}

#[test]
fn concurrent_mints_never_undo_a_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("tokens.json"));
    TokenRegistry::open(&path)
        .unwrap()
        .record(record(0))
        .unwrap();
    const WRITERS: usize = 8;
    const MINTS_EACH: usize = 10;
    for _round in 0..5 {
        let barrier = Arc::new(Barrier::new(WRITERS + 1));
        let mut threads = Vec::new();
        for writer in 0..WRITERS {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            threads.push(std::thread::spawn(move || {
                barrier.wait();
                for mint in 0..MINTS_EACH {
                    let n = 1 + writer * 1000 + mint;
                    // Open, then record: the window a lock-free writer would lose others in.
                    let mut registry = TokenRegistry::open(&path).unwrap();
                    if registry
                        .records()
                        .iter()
                        .all(|known| known.id != record(n).id)
                    {
                        registry.record(record(n)).unwrap();
                    }
                }
            }));
        }
        let (revoke_path, revoke_barrier) = (Arc::clone(&path), Arc::clone(&barrier));
        let revoker = std::thread::spawn(move || {
            let mut registry = TokenRegistry::open(&revoke_path).unwrap();
            revoke_barrier.wait();
            registry.revoke(&record(0).id, 77).unwrap();
        });
        for thread in threads {
            thread.join().unwrap();
        }
        revoker.join().unwrap();
        let registry = TokenRegistry::open(&path).unwrap();
        let revoked = registry
            .records()
            .iter()
            .find(|known| known.id == record(0).id)
            .unwrap();
        assert_eq!(revoked.revoked_at, Some(77), "the revocation was undone");
        assert!(registry.revocations().contains_token(&record(0).id));
        for writer in 0..WRITERS {
            for mint in 0..MINTS_EACH {
                let id = record(1 + writer * 1000 + mint).id;
                assert!(
                    registry.records().iter().any(|known| known.id == id),
                    "{id} was lost"
                );
            }
        }
        assert_eq!(registry.records().len(), 1 + WRITERS * MINTS_EACH);
    }
}

#[test]
fn concurrent_secret_writes_all_survive() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    init(&keys).unwrap();
    let store_path = Arc::new(dir.path().join("secrets.json"));
    let keys = Arc::new(keys);
    let mut store = SecretStore::open(&keys, &store_path).unwrap();
    store
        .set(
            &SecretName::new("doomed").unwrap(),
            &Secret::new("x".to_owned()),
        )
        .unwrap();
    const WRITERS: usize = 6;
    let barrier = Arc::new(Barrier::new(WRITERS + 1));
    let mut threads = Vec::new();
    for writer in 0..WRITERS {
        let (keys, store_path, barrier) = (
            Arc::clone(&keys),
            Arc::clone(&store_path),
            Arc::clone(&barrier),
        );
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            for n in 0..5 {
                let mut store = SecretStore::open(&keys, &store_path).unwrap();
                let name = SecretName::new(&format!("s{writer}-{n}")).unwrap();
                store
                    .set(&name, &Secret::new(format!("v{writer}-{n}")))
                    .unwrap();
            }
        }));
    }
    let (remove_keys, remove_path, remove_barrier) = (
        Arc::clone(&keys),
        Arc::clone(&store_path),
        Arc::clone(&barrier),
    );
    let remover = std::thread::spawn(move || {
        let mut store = SecretStore::open(&remove_keys, &remove_path).unwrap();
        remove_barrier.wait();
        store.remove("doomed").unwrap();
    });
    for thread in threads {
        thread.join().unwrap();
    }
    remover.join().unwrap();
    let store = SecretStore::open(&keys, &store_path).unwrap();
    assert!(store.get("doomed").is_err(), "the removal was undone");
    for writer in 0..WRITERS {
        for n in 0..5 {
            assert_eq!(
                store
                    .get(&format!("s{writer}-{n}"))
                    .unwrap()
                    .expose_secret(),
                &format!("v{writer}-{n}")
            );
        }
    }
}
