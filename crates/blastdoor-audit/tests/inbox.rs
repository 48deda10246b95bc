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
use blastdoor_audit::{AuditError, Durability, EncodedRecord, Entry, Ledger, Record};
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

const NOW: i64 = 1_764_000_000_000;

fn try_deliver(
    ledger: &Path,
    description: &str,
    durability: Durability,
) -> Result<inbox::Delivered, AuditError> {
    inbox::deliver(
        ledger,
        &EncodedRecord::new(&record(description)).unwrap(),
        durability,
        NOW,
    )
}

fn deliver(ledger: &Path, description: &str) -> u64 {
    try_deliver(ledger, description, Durability::OsBuffered)
        .unwrap()
        .bytes
}

/// A frame as the inbox stores one, around any payload (to inject what no hook would write).
fn raw_frame(payload: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut bytes = b"bdR\x01".to_vec();
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&sha2::Sha256::digest(payload));
    bytes
}

fn append_to_inbox(ledger: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(inbox::inbox_path(ledger))
        .unwrap()
        .write_all(bytes)
        .unwrap();
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
        bytes[40..bytes.len() - 10].to_vec()
    };
    append_to_inbox(&path, &torn);
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
fn an_altered_record_is_kept_aside_and_the_ones_after_it_folded() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "first");
    let after_first = inbox::pending_bytes(&path) as usize;
    deliver(&path, "second-aaaa");
    let after_second = inbox::pending_bytes(&path) as usize;
    deliver(&path, "third");
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    let at = after_first
        + bytes[after_first..]
            .windows(11)
            .position(|window| window == b"second-aaaa")
            .unwrap();
    // An edit that keeps the frame's length, as an agent rewriting its own record would.
    bytes[at..at + 11].copy_from_slice(b"second-bbbb");
    std::fs::write(&inbox_file, &bytes).unwrap();
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..2]), ["first", "third"]);
    assert_eq!(entries.len(), 3);
    assert_damage_entry(&entries[2], after_second - after_first);
    let kept = damaged_files(&path);
    assert_eq!(
        std::fs::read(&kept[0]).unwrap(),
        &bytes[after_first..after_second]
    );
}

#[test]
fn a_damaged_header_is_kept_aside_and_the_records_after_it_folded() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "one");
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&inbox_file, &bytes).unwrap();
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..1]), ["one"]);
    assert_damage_entry(&entries[1], 40);
    assert_eq!(
        std::fs::read(&damaged_files(&path)[0]).unwrap(),
        bytes[..40]
    );
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
    let error = try_deliver(&path, "x", Durability::Fsync).unwrap_err();
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
    let error = try_deliver(&path, "two", Durability::OsBuffered).unwrap_err();
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

#[test]
fn records_after_a_torn_one_are_still_folded() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "before");
    let start = inbox::pending_bytes(&path) as usize;
    deliver(&path, "torn");
    // Cut the last frame short, as a crash in the middle of its write would.
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    bytes.truncate(bytes.len() - 7);
    std::fs::write(&inbox_file, &bytes).unwrap();
    let torn = bytes[start..].to_vec();
    deliver(&path, "after one");
    deliver(&path, "after two");
    assert_eq!(ledger.fold_inbox().unwrap(), 4);
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..1]), ["before"]);
    assert_eq!(descriptions(&entries[1..3]), ["after one", "after two"]);
    assert_damage_entry(&entries[3], torn.len());
    assert_eq!(std::fs::read(&damaged_files(&path)[0]).unwrap(), torn);
}

#[test]
fn each_damage_is_kept_in_a_file_of_its_own() {
    let (_dir, path, ledger) = ledger();
    for round in 0..2 {
        deliver(&path, &format!("round {round}"));
        let inbox_file = inbox::inbox_path(&path);
        let mut bytes = std::fs::read(&inbox_file).unwrap();
        bytes[0] ^= 0xff;
        std::fs::write(&inbox_file, &bytes).unwrap();
        ledger.fold_inbox().unwrap();
    }
    // Two headers (two generations), each in its own file; both records reached the ledger.
    let kept = damaged_files(&path);
    assert_eq!(kept.len(), 2, "{kept:?}");
    let contents: Vec<Vec<u8>> = kept
        .iter()
        .map(|file| std::fs::read(file).unwrap())
        .collect();
    assert_ne!(contents[0], contents[1]);
    let described = descriptions(&ledger.entries(1, None).unwrap());
    assert!(described.contains(&"round 0".to_owned()), "{described:?}");
    assert!(described.contains(&"round 1".to_owned()), "{described:?}");
}

#[test]
fn frames_no_hook_wrote_are_kept_aside_and_later_ones_folded() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "first");
    // A whole frame whose payload a strict reader would refuse (trailing newline), and a
    // record claiming to come from the gateway: neither becomes an entry.
    let mut forged = record("forged gateway entry");
    forged.layer = Layer::Gateway;
    let injected = [
        raw_frame(b"{\"time_unix_ms\":1}\n"),
        raw_frame(&serde_json::to_vec(&forged).unwrap()),
    ]
    .concat();
    append_to_inbox(&path, &injected);
    deliver(&path, "second");
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..2]), ["first", "second"]);
    assert_eq!(entries.len(), 3);
    assert_damage_entry(&entries[2], injected.len());
    // Folds go on working afterwards.
    deliver(&path, "third");
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
    ledger
        .checkpoint(
            &blastdoor_audit::LedgerSigner::generate(ledger.origin()).unwrap(),
            NOW,
        )
        .unwrap();
}

#[test]
fn a_fold_redacts_records_again() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "created");
    let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    // Written around `EncodedRecord` (which would have redacted it).
    let leaky = record(&format!("curl -H 'Authorization: token {token}'"));
    append_to_inbox(&path, &raw_frame(&serde_json::to_vec(&leaky).unwrap()));
    assert_eq!(ledger.fold_inbox().unwrap(), 2);
    let entries = ledger.entries(1, None).unwrap();
    assert!(!entries[1].record.operation.description().contains(token));
    for suffix in ["", "-wal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes
                .windows(token.len())
                .any(|window| window == token.as_bytes())
        );
    }
}

#[test]
fn a_hard_linked_inbox_is_refused_and_never_emptied() {
    let (dir, path, ledger) = ledger();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"someone else's data").unwrap();
    std::fs::hard_link(&victim, inbox::inbox_path(&path)).unwrap();
    let error = try_deliver(&path, "x", Durability::OsBuffered).unwrap_err();
    assert!(error.to_string().contains("single link"), "{error}");
    assert!(ledger.fold_inbox().is_err());
    assert_eq!(std::fs::read(&victim).unwrap(), b"someone else's data");
}

#[test]
fn a_fifo_at_the_inbox_path_is_refused_without_blocking() {
    let (_dir, path, _ledger) = ledger();
    let status = std::process::Command::new("mkfifo")
        .arg(inbox::inbox_path(&path))
        .status()
        .unwrap();
    assert!(status.success());
    let error = try_deliver(&path, "x", Durability::OsBuffered).unwrap_err();
    assert!(error.to_string().contains("regular file"), "{error}");
}

#[test]
fn a_lock_held_too_long_makes_delivery_fail_not_hang() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "one");
    let holder = std::fs::File::open(inbox::inbox_path(&path)).unwrap();
    holder.lock().unwrap();
    let started = std::time::Instant::now();
    let error = try_deliver(&path, "two", Durability::OsBuffered).unwrap_err();
    assert!(
        error.to_string().contains("held the inbox's lock"),
        "{error}"
    );
    assert!(started.elapsed() < inbox::LOCK_WAIT * 3);
    // A fold that must happen fails the same way; one that is upkeep just skips.
    assert!(ledger.fold_inbox().is_err());
    assert_eq!(ledger.tree_head().unwrap().0, 0);
    drop(holder);
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
}

#[test]
fn a_fold_is_due_by_size_or_by_the_age_of_the_first_record() {
    let (_dir, path, _ledger) = ledger();
    let encoded = EncodedRecord::new(&record("x")).unwrap();
    let first = inbox::deliver(&path, &encoded, Durability::OsBuffered, NOW).unwrap();
    assert_eq!(first.first_unix_ms, NOW);
    assert!(!first.fold_due(NOW));
    let later = NOW + inbox::FOLD_AFTER_MS - 1;
    let second = inbox::deliver(&path, &encoded, Durability::OsBuffered, later).unwrap();
    assert_eq!(
        second.first_unix_ms, NOW,
        "the header keeps the first delivery's time"
    );
    assert!(!second.fold_due(later));
    assert!(second.fold_due(NOW + inbox::FOLD_AFTER_MS));
    // A first delivery after "now" (a clock stepped back, a forged header) is due at once.
    assert!(second.fold_due(NOW - 1));
    let big = inbox::Delivered {
        bytes: inbox::FOLD_AT_BYTES,
        first_unix_ms: NOW,
    };
    assert!(big.fold_due(NOW));
}

#[test]
fn an_inbox_larger_than_any_deliverer_writes_is_moved_aside_unread() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "one");
    let inbox_file = inbox::inbox_path(&path);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&inbox_file)
        .unwrap();
    let huge = INBOX_LIMIT_BYTES * 4;
    file.set_len(huge).unwrap();
    drop(file);
    ledger.fold_inbox().unwrap();
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(entries.len(), 1);
    assert_damage_entry(&entries[0], huge as usize);
    assert_eq!(
        std::fs::metadata(&damaged_files(&path)[0]).unwrap().len(),
        huge
    );
    // A new inbox starts at the old path.
    deliver(&path, "two");
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
}

#[test]
fn an_inbox_with_a_bad_header_is_not_folded_twice_after_a_crash() {
    let (_dir, path, ledger) = ledger();
    deliver(&path, "one");
    deliver(&path, "two");
    let inbox_file = inbox::inbox_path(&path);
    let mut bytes = std::fs::read(&inbox_file).unwrap();
    bytes[3] ^= 0xff;
    std::fs::write(&inbox_file, &bytes).unwrap();
    assert_eq!(
        ledger.fold_inbox().unwrap(),
        3,
        "two records and the damage"
    );
    // As if the fold died after its commit, before emptying the inbox.
    std::fs::write(&inbox_file, &bytes).unwrap();
    assert_eq!(ledger.fold_inbox().unwrap(), 0);
    assert_eq!(ledger.tree_head().unwrap().0, 3);
}

#[test]
fn an_inbox_full_of_fake_frame_markers_folds_in_bounded_time() {
    // Every few bytes a marker whose length field claims half a megabyte and whose payload
    // starts like a record: without a bound, resynchronising would hash each candidate.
    let (_dir, path, ledger) = ledger();
    deliver(&path, "real");
    let mut junk = Vec::new();
    while junk.len() < 1024 * 1024 {
        junk.extend_from_slice(b"bdR\x01");
        junk.extend_from_slice(&(512 * 1024u32).to_le_bytes());
        junk.extend_from_slice(b"{\"");
    }
    append_to_inbox(&path, &junk);
    let started = std::time::Instant::now();
    ledger.fold_inbox().unwrap();
    // A liveness bound, not a benchmark: harnesses give a hook 5-10 s before they give up.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let entries = ledger.entries(1, None).unwrap();
    assert_eq!(descriptions(&entries[..1]), ["real"]);
    assert_damage_entry(&entries[1], junk.len());
}

#[test]
fn a_wider_inbox_is_made_private_again() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_dir, path, _ledger) = ledger();
    deliver(&path, "one");
    let inbox_file = inbox::inbox_path(&path);
    std::fs::set_permissions(&inbox_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    deliver(&path, "two");
    let mode = std::fs::metadata(&inbox_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[test]
fn a_delivery_waiting_while_the_inbox_is_moved_aside_goes_to_the_new_one() {
    let (dir, path, ledger) = ledger();
    deliver(&path, "one");
    let inbox_file = inbox::inbox_path(&path);
    let holder = std::fs::File::open(&inbox_file).unwrap();
    holder.lock().unwrap();
    let waiting = {
        let path = path.clone();
        std::thread::spawn(move || deliver(&path, "two"))
    };
    // Let the deliverer open the file and wait for its lock, then move the file away.
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::rename(&inbox_file, dir.path().join("moved")).unwrap();
    drop(holder);
    waiting.join().unwrap();
    let moved = std::fs::read(dir.path().join("moved")).unwrap();
    assert!(!moved.windows(3).any(|window| window == b"two"));
    assert_eq!(descriptions(&ledger.entries(1, None).unwrap()), ["two"]);
}

#[test]
fn a_header_cut_short_refuses_deliveries_until_a_fold_keeps_it_aside() {
    let (_dir, path, ledger) = ledger();
    let inbox_file = inbox::inbox_path(&path);
    // What a power failure during the very first delivery can leave.
    std::fs::write(&inbox_file, b"blastdoor-inbox2\x01\x02\x03").unwrap();
    let encoded = EncodedRecord::new(&record("x")).unwrap();
    let error = inbox::deliver(&path, &encoded, Durability::OsBuffered, NOW).unwrap_err();
    assert!(error.to_string().contains("cut short"), "{error}");
    assert!(inbox::needs_fold_to_deliver(inbox::pending_bytes(&path)));
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
    let entries = ledger.entries(1, None).unwrap();
    assert_damage_entry(&entries[0], 19);
    assert_eq!(
        std::fs::read(&damaged_files(&path)[0]).unwrap(),
        b"blastdoor-inbox2\x01\x02\x03"
    );
    inbox::deliver(&path, &encoded, Durability::OsBuffered, NOW).unwrap();
    assert_eq!(ledger.fold_inbox().unwrap(), 1);
}
