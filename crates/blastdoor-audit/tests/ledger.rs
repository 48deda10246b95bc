//! Tests of the `Ledger` store: group commit under many threads, secret hygiene in the raw
//! database files, opening errors, proofs, and a property test that random tampering with the
//! real SQLite file is always detected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

use std::path::Path;
use std::sync::Arc;

use blastdoor_audit::{
    AuditError, Durability, Ledger, LedgerSigner, Record, UpstreamResponse,
    WAL_AUTOCHECKPOINT_PAGES,
};
use blastdoor_core::{
    Actor, AgentName, Environment, Layer, Operation, OperationKind, Reason, Risk, RuleId, Secret,
    Target, Verdict,
};
use proptest::prelude::*;

fn record(description: &str) -> Record {
    Record {
        time_unix_ms: 1_764_000_000_000,
        layer: Layer::Gateway,
        actor: Actor {
            agent: Some(AgentName::new("claude-staging-fix").unwrap()),
            session: None,
        },
        operation: Operation::new(
            OperationKind::Graphql,
            description,
            Risk::Destroy,
            vec![
                Target::new("volume", "vol-1", vec![Environment::production()])
                    .on_upstream("railway"),
            ],
        ),
        verdict: Verdict::hold(
            2,
            vec![Reason::new(
                RuleId::new("railway.volume-delete").unwrap(),
                "deletes a volume",
                None,
                "held",
            )],
        ),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    }
}

fn file_contains(path: &Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|window| window == needle))
        .unwrap_or(false)
}

#[test]
fn many_threads_get_contiguous_numbers_through_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    let ledger =
        Arc::new(Ledger::open_or_create(&dir.path().join("nested/ledger.sqlite")).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| ledger.append(&record(&format!("t{thread} #{i}"))).unwrap())
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    // Verify from a second connection while the appends run: it must always see a
    // consistent snapshot, never a half-committed batch.
    let path = ledger.path().to_owned();
    let verifier = std::thread::spawn(move || {
        let reader = Ledger::open_existing(&path).unwrap();
        (0..20)
            .map(|_| reader.verify(None, None).unwrap().entries)
            .collect::<Vec<u64>>()
    });
    let mut seqs: Vec<u64> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    let sizes = verifier.join().unwrap();
    assert!(sizes.windows(2).all(|pair| pair[0] <= pair[1]), "{sizes:?}");
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(entries.len(), 200);
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(i, entry)| entry.seq == i as u64 + 1)
    );
    assert_eq!(ledger.verify(None, None).unwrap().entries, 200);
}

/// The hook's pattern: open, append one entry, drop, many times over. Opening writes nothing to
/// the database or its WAL; closing does not fold the WAL in; the WAL stays short however many
/// one-shot appends there were; every entry is there and the chain verifies.
#[test]
fn one_shot_appends_keep_the_wal_short_and_opening_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let wal = dir.path().join("ledger.sqlite-wal");
    drop(Ledger::open_or_create_with(&path, Durability::OsBuffered).unwrap());
    let mut longest_wal = 0;
    for i in 1..=300u64 {
        let ledger = Ledger::open_existing_with(&path, Durability::OsBuffered).unwrap();
        assert_eq!(ledger.durability(), Durability::OsBuffered);
        assert_eq!(ledger.append(&record(&format!("one-shot {i}"))).unwrap(), i);
        drop(ledger);
        longest_wal = longest_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    let frame = 4096 + 24;
    assert!(
        longest_wal <= 32 + (u64::from(WAL_AUTOCHECKPOINT_PAGES) + 8) * frame,
        "the WAL grew to {longest_wal} bytes"
    );
    let bytes = |file: &Path| std::fs::read(file).unwrap_or_default();
    let (db_before, wal_before) = (bytes(&path), bytes(&wal));
    let reader = Ledger::open_existing_with(&path, Durability::Fsync).unwrap();
    assert_eq!(reader.tree_head().unwrap().0, 300);
    assert_eq!(reader.verify(None, None).unwrap().entries, 300);
    drop(reader);
    assert!(
        bytes(&path) == db_before,
        "opening and reading changed the database"
    );
    assert!(
        bytes(&wal) == wal_before,
        "opening and reading changed the WAL"
    );
}

#[test]
fn a_long_lived_writer_folds_the_wal_at_its_own_limit_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let wal = dir.path().join("ledger.sqlite-wal");
    let frame = 4096 + 24;
    let limit_pages = WAL_AUTOCHECKPOINT_PAGES * 8;
    let ledger = Ledger::open_or_create(&path).unwrap();
    ledger.set_wal_limit(limit_pages).unwrap();
    let mut longest_wal = 0;
    let mut shortest_after_fold = u64::MAX;
    let mut seq = 0;
    for batch in 0..60 {
        let records: Vec<Record> = (0..50)
            .map(|i| record(&format!("gateway batch {batch} entry {i}")))
            .collect();
        let seqs = ledger.append_batch(&records).unwrap();
        assert_eq!(seqs.first(), Some(&(seq + 1)));
        seq += 50;
        let length = std::fs::metadata(&wal).map_or(0, |m| m.len());
        if length < longest_wal {
            shortest_after_fold = shortest_after_fold.min(length);
        }
        longest_wal = longest_wal.max(length);
    }
    // It grew past the one-shot default (so commits did not fold every time), folded at its
    // own limit, and never grew far past it.
    let default_fold = u64::from(WAL_AUTOCHECKPOINT_PAGES) * frame;
    assert!(
        longest_wal > 2 * default_fold,
        "the WAL peaked at {longest_wal} bytes"
    );
    assert!(
        longest_wal <= u64::from(limit_pages + 64) * frame,
        "the WAL grew to {longest_wal} bytes"
    );
    assert!(
        shortest_after_fold < default_fold,
        "the WAL was never folded"
    );
    // Dropped without a final checkpoint (as a killed process would be): every entry is there.
    drop(ledger);
    let reader = Ledger::open_existing(&path).unwrap();
    assert_eq!(reader.verify(None, None).unwrap().entries, 3000);
}

#[test]
fn records_encoded_by_the_caller_give_the_same_ledger_and_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let plain = Ledger::open_or_create(&dir.path().join("plain.sqlite")).unwrap();
    let encoded = Ledger::open_or_create(&dir.path().join("encoded.sqlite")).unwrap();
    let records: Vec<Record> = (0..20)
        .map(|i| record(&format!("entry {i} with Authorization: Bearer hunter2-{i}")))
        .collect();
    assert_eq!(
        plain.append_batch(&records).unwrap(),
        (1..=20).collect::<Vec<_>>()
    );
    let bytes: Vec<_> = records
        .iter()
        .map(|record| blastdoor_audit::EncodedRecord::new(record).unwrap())
        .collect();
    assert_eq!(
        encoded.append_encoded_batch(&bytes).unwrap(),
        (1..=20).collect::<Vec<_>>()
    );
    assert_eq!(
        plain.tree_head().unwrap().1,
        encoded.tree_head().unwrap().1,
        "the same records give the same tree either way"
    );
    assert_eq!(encoded.verify(None, None).unwrap().entries, 20);
    for seq in 1..=20 {
        let stored = String::from_utf8(encoded.entry_bytes(seq).unwrap()).unwrap();
        assert!(stored.contains("Bearer [redacted]"), "{stored}");
        assert!(!stored.contains("hunter2"), "{stored}");
    }
}

#[test]
fn credentials_never_reach_the_database_or_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let ledger = Ledger::open_or_create(&path).unwrap();
    let token = "rw_live_9f8e7d6c5b4a39281706";
    let password = "Tr0ub4dor-and-3";
    let secret = Secret::new(format!("postgres://app:{password}@db.internal:5432/prod"));
    let mut record = record(&format!(
        "curl -H 'Authorization: Bearer {token}' -d '{{\"password\": \"{password}\"}}' dsn={secret}"
    ));
    record.verdict.reasons[0].explanation = format!("found RAILWAY_TOKEN={token} in .env");
    record.operation = Operation::new(
        OperationKind::Sql,
        "DROP TABLE users",
        Risk::Destroy,
        vec![Target::new(
            "database",
            format!("postgres://app:{password}@db:5432/prod"),
            vec![],
        )],
    );
    record.upstream_response = Some(UpstreamResponse {
        status: 401,
        summary: format!("rejected token={token}"),
    });
    record.approvers = vec![format!("alice --password={password}")];
    ledger.append(&record).unwrap();
    // Read the files while the ledger is still open, so the WAL holds the fresh pages.
    let wal = dir.path().join("ledger.sqlite-wal");
    assert!(wal.exists());
    for file in [&path, &wal] {
        assert!(
            !file_contains(file, token.as_bytes()),
            "{} holds the token",
            file.display()
        );
        assert!(
            !file_contains(file, password.as_bytes()),
            "{} holds the password",
            file.display()
        );
    }
    assert!(file_contains(&wal, b"[redacted]"));
    assert!(file_contains(&wal, b"DROP TABLE users"));
}

#[test]
fn opening_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    assert!(matches!(
        Ledger::open_existing(&missing),
        Err(AuditError::Missing { .. })
    ));
    assert!(!missing.exists());
    let garbage = dir.path().join("garbage.sqlite");
    std::fs::write(&garbage, vec![0x5a; 4096]).unwrap();
    assert!(matches!(
        Ledger::open_existing(&garbage),
        Err(AuditError::NotALedger { .. })
    ));
    assert!(matches!(
        Ledger::open_or_create(&garbage),
        Err(AuditError::NotALedger { .. })
    ));
    let other_db = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other_db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER)")
        .unwrap();
    let error = Ledger::open_existing(&other_db).unwrap_err();
    assert!(
        error.to_string().contains("not a blastdoor ledger"),
        "{error}"
    );
}

#[test]
fn checkpoints_and_proofs_agree() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open_or_create(&dir.path().join("ledger.sqlite")).unwrap();
    let signer = LedgerSigner::generate(ledger.origin()).unwrap();
    let records: Vec<Record> = (0..13).map(|i| record(&format!("op {i}"))).collect();
    assert_eq!(
        ledger.append_batch(&records).unwrap(),
        (1..=13).collect::<Vec<u64>>()
    );
    let stored = ledger.checkpoint(&signer, 5).unwrap();
    let checkpoint = signer.verifier().open(&stored.note).unwrap();
    assert_eq!(checkpoint.size, 13);
    for seq in 1..=13 {
        let proof = ledger.prove(seq, 13).unwrap();
        assert_eq!(proof.root, checkpoint.root);
        assert!(proof.verifies());
    }
    // A receipt (checkpoint + entry bytes + path) checks offline and fails when altered.
    let proof = ledger.prove(7, 13).unwrap();
    let entry = ledger.entry_bytes(7).unwrap();
    let verifier = signer.verifier();
    assert!(
        blastdoor_audit::check_receipt(&verifier, &stored.note, 7, &entry, &proof.path).is_ok()
    );
    let mut altered = entry.clone();
    *altered.last_mut().unwrap() = b' ';
    assert!(
        blastdoor_audit::check_receipt(&verifier, &stored.note, 7, &altered, &proof.path).is_err()
    );
    assert!(
        blastdoor_audit::check_receipt(&verifier, &stored.note, 8, &entry, &proof.path).is_err()
    );
    ledger.append(&record("later")).unwrap();
    let report = ledger
        .verify(Some(&signer.verifier()), Some(&stored.note))
        .unwrap();
    assert_eq!(
        (report.entries, report.checkpoints, report.witness_size),
        (14, 1, Some(13))
    );
    assert!(matches!(
        ledger.verify(None, None),
        Err(AuditError::BadCheckpoint { .. })
    ));
    let stranger = LedgerSigner::generate(ledger.origin()).unwrap();
    assert!(ledger.verify(Some(&stranger.verifier()), None).is_err());
}

#[derive(Debug, Clone, Copy)]
enum Tamper {
    FlipByte { seq: u64, offset: usize },
    Delete { seq: u64 },
    Swap { seq: u64 },
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_tampering_with_the_sqlite_file_is_detected(
        size in 2u64..40,
        victim in any::<prop::sample::Index>(),
        offset in 0usize..400,
        kind in 0u8..3,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let ledger = Ledger::open_or_create(&path).unwrap();
        let records: Vec<Record> = (0..size).map(|i| record(&format!("operation number {i}"))).collect();
        ledger.append_batch(&records).unwrap();
        prop_assert!(ledger.verify(None, None).is_ok());
        let seq = victim.index(size as usize) as u64 + 1;
        let tamper = match kind {
            0 => Tamper::FlipByte { seq, offset },
            1 => Tamper::Delete { seq },
            _ => Tamper::Swap { seq: seq.min(size - 1) },
        };
        let first_bad = match tamper {
            Tamper::FlipByte { seq, .. } | Tamper::Delete { seq } | Tamper::Swap { seq } => seq,
        };
        let connection = rusqlite::Connection::open(&path).unwrap();
        match tamper {
            Tamper::FlipByte { seq, offset } => {
                let mut entry: Vec<u8> = connection.query_row("SELECT entry FROM entries WHERE seq = ?1", [seq as i64], |row| row.get(0)).unwrap();
                let at = offset % entry.len();
                entry[at] ^= 0x01;
                connection.execute("UPDATE entries SET entry = ?1 WHERE seq = ?2", rusqlite::params![entry, seq as i64]).unwrap();
            }
            Tamper::Delete { seq } => {
                connection.execute("DELETE FROM entries WHERE seq = ?1", [seq as i64]).unwrap();
            }
            Tamper::Swap { seq } => {
                connection.execute_batch(&format!(
                    "UPDATE entries SET seq = -1 WHERE seq = {seq};
                     UPDATE entries SET seq = {seq} WHERE seq = {next};
                     UPDATE entries SET seq = {next} WHERE seq = -1;",
                    next = seq + 1
                )).unwrap();
            }
        }
        drop(connection);
        let result = ledger.verify(None, None);
        match result {
            Err(AuditError::BadEntry { seq: bad, .. }) => prop_assert_eq!(bad, first_bad),
            Err(AuditError::SizeMismatch { .. }) => {
                prop_assert!(matches!(tamper, Tamper::Delete { seq } if seq == size), "only a deleted last entry shows as a size mismatch");
            }
            other => prop_assert!(false, "tampering went unnoticed or was misreported: {:?}", other),
        }
    }
}
