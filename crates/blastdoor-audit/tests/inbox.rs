//! Tests of the ledger's inbox (how the hook hands records over without opening SQLite):
//! delivered records become entries exactly once and in order, whoever folds them and however
//! a fold is interrupted; torn or altered bytes are kept and reported, never silently dropped
//! or folded; the file is private, bounded and never follows a symlink.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use blastdoor_audit::inbox::{self, INBOX_LIMIT_BYTES};
use blastdoor_audit::{Durability, EncodedRecord, Entry, Ledger, Record};
use blastdoor_core::{
    Actor, Decision, Layer, Operation, OperationKind, Reason, Risk, RuleId, Verdict,
};

fn record(description: &str) -> Record {
    Record {
        time_unix_ms: 1_764_000_000_000,
        layer: Layer::Hook,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Shell, description, Risk::Read, vec![]),
        verdict: Verdict::allow(vec![Reason::new(
            RuleId::new("shell.read-only").unwrap(),
            "reads",
            None,
            "",
        )]),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    }
}

fn deliver(ledger: &Path, description: &str) -> u64 {
    inbox::deliver(
        ledger,
        &EncodedRecord::new(&record(description)).unwrap(),
        Durability::OsBuffered,
    )
    .unwrap()
}

fn descriptions(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| entry.record.operation.description().to_owned())
        .collect()
}

/// A fresh ledger (created, so that deliveries have somewhere to go) and its path.
fn ledger() -> (tempfile::TempDir, PathBuf, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.sqlite");
    let ledger = Ledger::open_or_create(&path).unwrap();
    (dir, path, ledger)
}

#[test]
fn delivered_records_become_entries_in_order_when_a_handle_reads_or_appends() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "hook one");
    deliver(&path, "hook two");
    // A handle opened before the deliveries sees them on its next read.
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries), ["hook one", "hook two"]);
    assert_eq!(inbox::pending_bytes(&path), 0, "the inbox is emptied");
    // An append folds what was delivered before it, first.
    deliver(&path, "hook three");
    assert_eq!(ledger.append(&record("gateway four")).unwrap(), 4);
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(
        descriptions(&entries),
        ["hook one", "hook two", "hook three", "gateway four"]
    );
    assert_eq!(entries[2].record, record("hook three").redacted());
    assert_eq!(ledger.verify(None, None).unwrap().entries, 4);
    // Opening folds too.
    deliver(&path, "hook five");
    let reopened = Ledger::open_existing(&path).unwrap();
    assert_eq!(reopened.tree_head().unwrap().0, 5);
}

#[test]
fn a_fold_interrupted_before_the_inbox_is_emptied_adds_nothing_twice() {
    let (_dir, path, ledger) = ledger();
    for i in 0..3 {
        deliver(&path, &format!("before crash {i}"));
    }
    let inbox_file = inbox::inbox_path(&path);
    let delivered = std::fs::read(&inbox_file).unwrap();
    assert_eq!(ledger.fold_inbox().unwrap(), 3);
    // As if the process died after its commit but before truncating the inbox.
    std::fs::write(&inbox_file, &delivered).unwrap();
    assert_eq!(ledger.fold_inbox().unwrap(), 0);
    assert_eq!(ledger.tree_head().unwrap().0, 3);
    // A later delivery to that same inbox (same generation) is folded, alone.
    deliver(&path, "after crash");
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
    assert_eq!(
        descriptions(&ledger.entries(1, None).unwrap()),
        [
            "before crash 0",
            "before crash 1",
            "before crash 2",
            "after crash"
        ]
    );
    assert_eq!(ledger.verify(None, None).unwrap().entries, 4);
}

/// The files `<inbox>.damaged-*` beside the inbox.
fn damaged_files(path: &Path) -> Vec<PathBuf> {
    let name = format!(
        "{}.damaged-",
        inbox::inbox_path(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
    );
    let mut found: Vec<PathBuf> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|file| {
            file.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&name)
        })
        .collect();
    found.sort();
    found
}

#[track_caller]
fn assert_damage_entry(entry: &Entry, bytes: usize) {
    assert_eq!(entry.record.layer, Layer::System);
    assert_eq!(entry.record.verdict.decision, Decision::Deny);
    assert_eq!(
        entry.record.verdict.reasons[0].rule_id.as_str(),
        "ledger.inbox-damaged"
    );
    let description = entry.record.operation.description();
    assert!(
        description.starts_with(&format!("{bytes} bytes of the ledger's inbox")),
        "{description}"
    );
}

#[test]
fn a_torn_tail_is_kept_aside_and_reported_not_folded() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "whole one");
    deliver(&path, "whole two");
    // A frame cut short, as a power failure in the middle of a write could leave it.
    let torn = {
        let dir = tempfile::tempdir().unwrap();
        let scratch = dir.path().join("scratch.sqlite");
        deliver(&scratch, "torn three");
        let bytes = std::fs::read(inbox::inbox_path(&scratch)).unwrap();
        bytes[32..bytes.len() - 10].to_vec()
    };
    std::fs::OpenOptions::new()
        .append(true)
        .open(inbox::inbox_path(&path))
        .unwrap()
        .write_all(&torn)
        .unwrap();
    assert_eq!(ledger.fold_inbox().unwrap(), 3);
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..2]), ["whole one", "whole two"]);
    assert_damage_entry(&entries[2], torn.len());
    let kept = damaged_files(&path);
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), torn, "kept byte for byte");
    assert!(
        entries[2]
            .record
            .operation
            .description()
            .contains(&kept[0].display().to_string())
    );
    assert_eq!(inbox::pending_bytes(&path), 0);
    assert_eq!(ledger.verify(None, None).unwrap().entries, 3);
    // Deliveries go on as normal afterwards.
    deliver(&path, "after");
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
}

#[test]
fn an_altered_record_and_everything_after_it_are_kept_aside() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "first");
    let after_first = inbox::pending_bytes(&path) as usize;
    deliver(&path, "second-aaaa");
    deliver(&path, "third");
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    let at = after_first
        + bytes[after_first..]
            .windows(11)
            .position(|window| window == b"second-aaaa")
            .unwrap();
    // An edit that keeps the frame's length: allow → something else the agent prefers.
    bytes[at..at + 11].copy_from_slice(b"second-bbbb");
    std::fs::write(&inbox_file, &bytes).unwrap();
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(descriptions(&entries[..1]), ["first"]);
    assert_damage_entry(&entries[1], bytes.len() - after_first);
    let kept = damaged_files(&path);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), &bytes[after_first..]);
}

#[test]
fn a_damaged_header_keeps_the_whole_inbox_aside() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "one");
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&inbox_file, &bytes).unwrap();
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(entries.len(), 1);
    assert_damage_entry(&entries[0], bytes.len());
    assert_eq!(std::fs::read(&damaged_files(&path)[0]).unwrap(), bytes);
}

#[test]
fn many_deliverers_and_an_appender_at_once_lose_and_repeat_nothing() {
    let (_dir, path, ledger) = ledger();
    let ledger = Arc::new(ledger);
    let mut threads = Vec::new();
    for thread in 0..4 {
        let path = path.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0..50 {
                deliver(&path, &format!("hook {thread}/{i}"));
            }
        }));
    }
    {
        let ledger = Arc::clone(&ledger);
        threads.push(std::thread::spawn(move || {
            for i in 0..50 {
                ledger.append(&record(&format!("gateway {i}"))).unwrap();
            }
        }));
    }
    // A second handle (another process, in effect) folding while they run.
    let other = Ledger::open_existing(&path).unwrap();
    for _ in 0..20 {
        other.fold_inbox().unwrap();
    }
    for thread in threads {
        thread.join().unwrap();
    }
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    let mut seen = descriptions(&entries);
    assert_eq!(seen.len(), 250);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 250, "no entry twice");
    // Each deliverer's records keep their order.
    for thread in 0..4 {
        let mine: Vec<String> = descriptions(&entries)
            .into_iter()
            .filter(|description| description.starts_with(&format!("hook {thread}/")))
            .collect();
        let expected: Vec<String> = (0..50).map(|i| format!("hook {thread}/{i}")).collect();
        assert_eq!(mine, expected);
    }
    assert_eq!(ledger.verify(None, None).unwrap().entries, 250);
}

#[test]
fn the_inbox_is_private_and_created_with_its_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("home/ledger.sqlite");
    deliver(&path, "before any ledger");
    let mode = std::fs::metadata(inbox::inbox_path(&path))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "inbox mode {mode:o}");
    let mode = std::fs::metadata(dir.path().join("home"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "directory mode {mode:o}");
    // Creating the ledger afterwards takes in what was delivered before it existed.
    let ledger = Ledger::open_or_create(&path).unwrap();
    assert_eq!(
        descriptions(&ledger.entries(1, None).unwrap()),
        ["before any ledger"]
    );
}

#[test]
fn a_symlinked_inbox_is_refused() {
    let (dir, path, _ledger) = ledger();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, b"").unwrap();
    std::os::unix::fs::symlink(&elsewhere, inbox::inbox_path(&path)).unwrap();
    let error = inbox::deliver(
        &path,
        &EncodedRecord::new(&record("x")).unwrap(),
        Durability::Fsync,
    )
    .unwrap_err();
    assert!(error.to_string().contains("-inbox"), "{error}");
    assert!(std::fs::read(&elsewhere).unwrap().is_empty());
}

#[test]
fn a_full_inbox_refuses_more() {
    let (_dir, path, _ledger) = ledger();
    deliver(&path, "one");
    // Folds have been failing for a long while: the inbox has grown past its limit.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(inbox::inbox_path(&path))
        .unwrap();
    file.set_len(INBOX_LIMIT_BYTES + 1).unwrap();
    let error = inbox::deliver(
        &path,
        &EncodedRecord::new(&record("two")).unwrap(),
        Durability::OsBuffered,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("have not reached the ledger"),
        "{error}"
    );
    assert_eq!(inbox::pending_bytes(&path), INBOX_LIMIT_BYTES + 1);
}

#[test]
fn secrets_are_redacted_before_they_reach_the_inbox() {
    let (_dir, path, _ledger) = ledger();
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    deliver(&path, &format!("curl -H 'Authorization: token {token}'"));
    assert!(inbox::pending_bytes(&path) > 0);
    let bytes = std::fs::read(inbox::inbox_path(&path)).unwrap();
    assert!(
        !bytes
            .windows(token.len())
            .any(|window| window == token.as_bytes()),
        "the inbox holds the token"
    );
}
