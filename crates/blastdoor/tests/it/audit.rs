//! Tests of `blastdoor audit`: the ledger's tamper evidence, crash safety, concurrency and
//! secret hygiene, each through the real binary and the real SQLite file.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::Stdio;

use blastdoor_audit::merkle::{self, Frontier};

use crate::support::{TestHome, file_contains, stderr, stdout};

/// Appends one entry described by `description` through the hidden test appender.
fn append(home: &TestHome, description: &str) -> u64 {
    let output = home.run(&[
        "audit",
        "append-loop",
        "--count",
        "1",
        "--description",
        description,
    ]);
    assert!(
        output.status.success(),
        "append failed: {}",
        stderr(&output)
    );
    stdout(&output).trim().parse().unwrap()
}

fn ledger_file(home: &TestHome) -> PathBuf {
    home.path().join("ledger.sqlite")
}

fn sql(home: &TestHome) -> rusqlite::Connection {
    rusqlite::Connection::open(ledger_file(home)).unwrap()
}

/// Runs `audit verify ARGS`; returns (success, stdout, stderr).
fn verify(home: &TestHome, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["audit", "verify"];
    all.extend_from_slice(args);
    let output = home.run(&all);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    (output.status.success(), stdout(&output), stderr(&output))
}

#[track_caller]
fn assert_verify_fails(home: &TestHome, args: &[&str], expected: &str) {
    let (ok, out, err) = verify(home, args);
    assert!(!ok, "verify passed but should have failed: {out}");
    assert!(err.contains(expected), "expected `{expected}` in: {err}");
}

/// A home with the init entry and entries 2..=5 described `marker-entry-N`.
fn home_with_entries() -> TestHome {
    let home = TestHome::initialised();
    for seq in 2..=5 {
        assert_eq!(append(&home, &format!("marker-entry-{seq}")), seq);
    }
    home
}

/// Every sequence number `audit log --json` prints.
fn logged_seqs(home: &TestHome) -> Vec<u64> {
    let output = home.run(&["audit", "log", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_fresh_and_a_growing_ledger_verify() {
    let home = home_with_entries();
    let (ok, out, err) = verify(&home, &[]);
    assert!(ok, "{err}");
    assert!(out.starts_with("ok: 5 entries"), "{out}");
    assert_eq!(logged_seqs(&home), vec![1, 2, 3, 4, 5]);
}

#[test]
fn log_filters_and_prints_a_table() {
    let home = home_with_entries();
    let output = home.run(&["audit", "log", "--json", "--since", "3", "--limit", "2"]);
    let lines: Vec<&str> = std::str::from_utf8(&output.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("{\"seq\":3,") && lines[0].contains("marker-entry-3"));
    let table = stdout(&home.run(&["audit", "log"]));
    assert!(table.lines().next().unwrap().contains("seq"));
    assert!(table.contains("marker-entry-5") && table.contains("system"));
}

#[test]
fn a_modified_byte_in_the_database_file_is_detected() {
    let home = home_with_entries();
    // Writers close without checkpointing (it would cost an fsync per hook call); fold the WAL
    // into the main file the way an attacker editing the file would, then edit one byte.
    let path = ledger_file(&home);
    sql(&home)
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    assert_eq!(
        std::fs::metadata(path.with_extension("sqlite-wal"))
            .map(|metadata| metadata.len())
            .unwrap_or(0),
        0
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"marker-entry-3";
    let at = bytes
        .windows(needle.len())
        .position(|window| window == needle)
        .unwrap();
    bytes[at + needle.len() - 1] = b'9';
    std::fs::write(&path, bytes).unwrap();
    assert_verify_fails(&home, &[], "entry 3:");
}

#[test]
fn a_deleted_entry_is_detected() {
    let home = home_with_entries();
    sql(&home)
        .execute("DELETE FROM entries WHERE seq = 3", [])
        .unwrap();
    assert_verify_fails(&home, &[], "entry 3: missing");
    let (_, out, _) = verify(&home, &["--json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["first_bad_seq"], 3);
}

#[test]
fn a_deleted_last_entry_is_detected() {
    let home = home_with_entries();
    sql(&home)
        .execute("DELETE FROM entries WHERE seq = 5", [])
        .unwrap();
    assert_verify_fails(&home, &[], "has 4 entries but its tree state records 5");
}

#[test]
fn reordered_entries_are_detected() {
    let home = home_with_entries();
    let connection = sql(&home);
    connection
        .execute("UPDATE entries SET seq = -1 WHERE seq = 2", [])
        .unwrap();
    connection
        .execute("UPDATE entries SET seq = 2 WHERE seq = 3", [])
        .unwrap();
    connection
        .execute("UPDATE entries SET seq = 3 WHERE seq = -1", [])
        .unwrap();
    drop(connection);
    assert_verify_fails(&home, &[], "entry 2:");
}

#[test]
fn a_modified_entry_with_a_matching_leaf_hash_is_caught_by_the_tree_state() {
    let home = home_with_entries();
    let connection = sql(&home);
    let entry: Vec<u8> = connection
        .query_row("SELECT entry FROM entries WHERE seq = 4", [], |row| {
            row.get(0)
        })
        .unwrap();
    let forged = String::from_utf8(entry)
        .unwrap()
        .replace("marker-entry-4", "harmless-read");
    let leaf = merkle::leaf_hash(forged.as_bytes());
    connection
        .execute(
            "UPDATE entries SET entry = ?1, leaf_hash = ?2 WHERE seq = 4",
            rusqlite::params![forged.as_bytes(), leaf.as_slice()],
        )
        .unwrap();
    drop(connection);
    assert_verify_fails(&home, &[], "root does not match");
}

/// What an attacker with write access to the whole file can do: rewrite rows and recompute
/// every hash and the tree state, then drop the checkpoints it cannot re-sign.
fn rewrite_tree_state(home: &TestHome) {
    let connection = sql(home);
    let mut statement = connection
        .prepare("SELECT leaf_hash FROM entries ORDER BY seq")
        .unwrap();
    let leaves: Vec<Vec<u8>> = statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.push(leaf.try_into().unwrap());
    }
    connection
        .execute(
            "UPDATE tree SET size = ?1, frontier = ?2 WHERE id = 1",
            rusqlite::params![frontier.size() as i64, frontier.to_bytes()],
        )
        .unwrap();
    connection.execute("DELETE FROM checkpoints", []).unwrap();
}

#[test]
fn truncation_below_a_saved_checkpoint_is_detected() {
    let home = home_with_entries();
    let output = home.run(&["audit", "checkpoint"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let saved = home.scratch().join("witness.checkpoint");
    std::fs::write(&saved, &output.stdout).unwrap();
    let saved = saved.to_str().unwrap();
    append(&home, "after the checkpoint");
    let (ok, out, err) = verify(&home, &["--checkpoint", saved]);
    assert!(ok, "{err}");
    assert!(
        out.contains("consistent with the given checkpoint of size 5"),
        "{out}"
    );

    sql(&home)
        .execute("DELETE FROM entries WHERE seq > 3", [])
        .unwrap();
    rewrite_tree_state(&home);
    // Without the witness's copy the shortened log is self-consistent...
    assert!(verify(&home, &[]).0);
    // ...but the saved checkpoint proves it was longer.
    assert_verify_fails(
        &home,
        &["--checkpoint", saved],
        "checkpoint for tree size 5: the log has only 3 entries",
    );
}

#[test]
fn a_rewritten_history_fails_the_saved_checkpoint() {
    let home = home_with_entries();
    let output = home.run(&["audit", "checkpoint"]);
    let saved = home.scratch().join("witness.checkpoint");
    std::fs::write(&saved, &output.stdout).unwrap();
    // The stored checkpoint alone catches a rewrite that keeps it.
    let connection = sql(&home);
    let entry: Vec<u8> = connection
        .query_row("SELECT entry FROM entries WHERE seq = 2", [], |row| {
            row.get(0)
        })
        .unwrap();
    let forged = String::from_utf8(entry)
        .unwrap()
        .replace("marker-entry-2", "marker-entry-0");
    connection
        .execute(
            "UPDATE entries SET entry = ?1, leaf_hash = ?2 WHERE seq = 2",
            rusqlite::params![
                forged.as_bytes(),
                merkle::leaf_hash(forged.as_bytes()).as_slice()
            ],
        )
        .unwrap();
    drop(connection);
    let connection = sql(&home);
    let saved_checkpoints: Vec<String> = connection
        .prepare("SELECT note FROM checkpoints")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(connection);
    rewrite_tree_state(&home);
    let connection = sql(&home);
    for note in &saved_checkpoints {
        connection
            .execute(
                "INSERT INTO checkpoints (size, note, created_unix_ms) VALUES (5, ?1, 0)",
                [note],
            )
            .unwrap();
    }
    drop(connection);
    assert_verify_fails(&home, &[], "checkpoint for tree size 5");
    // And with every stored checkpoint gone, the witness's copy still catches it.
    sql(&home).execute("DELETE FROM checkpoints", []).unwrap();
    assert_verify_fails(
        &home,
        &["--checkpoint", saved.to_str().unwrap()],
        "checkpoint for tree size 5",
    );
}

#[test]
fn a_forged_checkpoint_file_is_refused() {
    let home = home_with_entries();
    let note = stdout(&home.run(&["audit", "checkpoint"]));
    let forged = note.replacen("\n5\n", "\n4\n", 1);
    let path = home.scratch().join("forged.checkpoint");
    std::fs::write(&path, forged).unwrap();
    assert_verify_fails(
        &home,
        &["--checkpoint", path.to_str().unwrap()],
        "does not verify",
    );
}

#[test]
fn prove_prints_a_proof_that_checks_against_its_checkpoint() {
    let home = home_with_entries();
    let output = home.run(&["audit", "prove", "3", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let proof: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(proof["tree_size"], 5);
    let leaf: [u8; 32] = hex::decode(proof["leaf_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let root: [u8; 32] = hex::decode(proof["root"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let path: Vec<[u8; 32]> = proof["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hash| {
            hex::decode(hash.as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect();
    assert!(merkle::verify_inclusion(2, 5, &leaf, &path, &root));
    assert!(!merkle::verify_inclusion(3, 5, &leaf, &path, &root));
    assert!(proof["checkpoint"].as_str().unwrap().contains("\n5\n"));
    // The receipt checks offline, and an edited entry in it does not.
    let receipt = home.scratch().join("receipt.json");
    std::fs::write(&receipt, &output.stdout).unwrap();
    let check = home.run(&["audit", "check-proof", receipt.to_str().unwrap()]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(stdout(&check).starts_with("ok: entry 3"));
    let forged = stdout(&output).replace("marker-entry-3", "marker-entry-0");
    let check = home.run_with_stdin(&["audit", "check-proof", "-"], forged.as_bytes());
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stderr(&check).contains("proof check failed"),
        "{}",
        stderr(&check)
    );
    let missing = home.run(&["audit", "prove", "99"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no entry 99"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_missing_or_corrupt_database_is_a_clear_error() {
    let home = TestHome::empty();
    for args in [
        &["audit", "log"][..],
        &["audit", "verify"],
        &["audit", "checkpoint"],
    ] {
        let output = home.run(args);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains("no ledger at"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
    let home = TestHome::initialised();
    // The whole ledger replaced by garbage (its WAL, which would still hold the pages, gone).
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(home.path().join(format!("ledger.sqlite{suffix}")));
    }
    std::fs::write(
        ledger_file(&home),
        b"this is not a database, just text that is long enough to be read as a header",
    )
    .unwrap();
    for args in [
        &["audit", "log"][..],
        &["audit", "verify"],
        &["audit", "prove", "1"],
    ] {
        let output = home.run(args);
        assert_eq!(output.status.code(), Some(1));
        assert!(
            stderr(&output).contains("not a blastdoor ledger or is corrupt"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
}

#[test]
fn acknowledged_entries_survive_sigkill() {
    sigkill_loses_no_acknowledged_entry(&["audit", "append-loop", "--threads", "2"]);
}

/// The hook's way of appending: `os-buffered` (no fsync per entry) and a fresh open per entry,
/// killed mid-stream: every entry it acknowledged is still there, and the chain verifies.
#[test]
fn hook_style_os_buffered_appends_survive_sigkill() {
    sigkill_loses_no_acknowledged_entry(&[
        "audit",
        "append-loop",
        "--threads",
        "2",
        "--sync",
        "os-buffered",
        "--reopen",
    ]);
}

fn sigkill_loses_no_acknowledged_entry(appender: &[&str]) {
    let home = TestHome::initialised();
    let mut child = home
        .command(appender)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut acknowledged = BTreeSet::new();
    let mut line = String::new();
    while acknowledged.len() < 150 {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the appender stopped early"
        );
        acknowledged.insert(line.trim().parse::<u64>().unwrap());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    // Only complete lines are acknowledgements; a line cut by the kill is not.
    let complete = rest.rsplit_once('\n').map_or("", |(complete, _)| complete);
    acknowledged.extend(complete.lines().map(|line| line.parse::<u64>().unwrap()));

    let (ok, out, err) = verify(&home, &[]);
    assert!(ok, "verify after SIGKILL failed: {err}");
    let logged: BTreeSet<u64> = logged_seqs(&home).into_iter().collect();
    let missing: Vec<&u64> = acknowledged.difference(&logged).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} ({out})"
    );
    // The ledger still takes appends after the crash.
    let next = append(&home, "after the crash");
    assert_eq!(next, *logged.iter().max().unwrap() + 1);
}

#[test]
fn concurrent_processes_and_threads_never_lose_or_interleave_entries() {
    let home = TestHome::initialised();
    let children: Vec<_> = (0..4)
        .map(|_| {
            home.command(&["audit", "append-loop", "--count", "40", "--threads", "3"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut acknowledged = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        acknowledged.extend(
            stdout(&output)
                .lines()
                .map(|line| line.parse::<u64>().unwrap()),
        );
    }
    acknowledged.sort_unstable();
    let expected: Vec<u64> = (2..=1 + 4 * 40 * 3).collect();
    assert_eq!(
        acknowledged, expected,
        "every append got its own number, none skipped"
    );
    let logged = logged_seqs(&home);
    assert_eq!(logged, (1..=1 + 4 * 40 * 3).collect::<Vec<u64>>());
    let (ok, _, err) = verify(&home, &[]);
    assert!(ok, "{err}");
}

#[test]
fn credentials_never_reach_the_database_file() {
    let home = TestHome::initialised();
    let credential = "sk_live_51HxQzLeakedStripeKey0123";
    let bearer = "rw_live_0123456789abcdef0123";
    append(
        &home,
        &format!(
            "curl -H 'Authorization: Bearer {bearer}' -d key={credential} https://api.example.com"
        ),
    );
    append(
        &home,
        &format!("RAILWAY_TOKEN={bearer} railway volume delete"),
    );
    let table = stdout(&home.run(&["audit", "log"]));
    assert!(table.contains("[redacted]"), "{table}");
    for path in [
        ledger_file(&home),
        ledger_file(&home).with_extension("sqlite-wal"),
    ] {
        if path.exists() {
            assert!(
                !file_contains(&path, credential.as_bytes()),
                "{} holds the credential",
                path.display()
            );
            assert!(
                !file_contains(&path, bearer.as_bytes()),
                "{} holds the token",
                path.display()
            );
        }
    }
}

#[test]
fn a_deleted_and_recreated_ledger_is_detected() {
    let home = home_with_entries();
    std::fs::remove_file(ledger_file(&home)).unwrap();
    // An appender recreates an empty ledger on its next call...
    assert_eq!(append(&home, "fresh start"), 1);
    // ...but it is not the log the key was made for.
    assert_verify_fails(&home, &[], "the ledger was replaced or recreated");
}

#[test]
fn verify_folds_the_inbox_and_fails_saying_why_when_it_cannot() {
    use blastdoor_audit::{Durability, inbox};
    let home = home_with_entries();
    let ledger = ledger_file(&home);
    inbox::deliver(
        &ledger,
        &crate::hook::filler_record("waiting"),
        Durability::OsBuffered,
        0,
    )
    .unwrap();
    // Another process holds the inbox: the tree still verifies, but the command fails.
    let holder = std::fs::File::open(inbox::inbox_path(&ledger)).unwrap();
    holder.lock().unwrap();
    let (ok, out, err) = verify(&home, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("ok: 5 entries"), "{out}");
    assert!(err.contains("cannot be folded in"), "{err}");
    assert!(err.contains("held the inbox's lock"), "{err}");
    drop(holder);
    let (ok, out, err) = verify(&home, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("ok: 6 entries"), "{out}");
}
