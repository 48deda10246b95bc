//! Tests of `blastdoor init`: what it creates, with which permissions, that it is idempotent,
//! that it never replaces keys, and that it records itself in the ledger.

use std::os::unix::fs::PermissionsExt as _;

use crate::support::{TestHome, stderr, stdout};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_creates_home_keys_and_ledger_with_tight_permissions() {
    let home = TestHome::empty();
    let output = home.run(&["init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("created") && out.contains("ledger.key") && out.contains("ledger.sqlite"),
        "{out}"
    );
    assert_eq!(mode(&home.path()), 0o700);
    assert_eq!(mode(&home.path().join("keys")), 0o700);
    assert_eq!(mode(&home.path().join("keys/ledger.key")), 0o600);
    assert_eq!(mode(&home.path().join("ledger.sqlite")), 0o600);

    let log = home.run(&["audit", "log", "--json"]);
    let lines: Vec<serde_json::Value> = stdout(&log)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[0]["layer"], "system");
    assert!(
        lines[0]["operation"]["description"]
            .as_str()
            .unwrap()
            .contains("blastdoor init")
    );
    let verify = home.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn a_second_init_changes_nothing_and_says_so() {
    let home = TestHome::initialised();
    let key = std::fs::read(home.path().join("keys/ledger.key")).unwrap();
    let output = home.run(&["init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("nothing changed"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(home.path().join("keys/ledger.key")).unwrap(),
        key
    );
    let log = stdout(&home.run(&["audit", "log", "--json"]));
    assert_eq!(log.lines().count(), 1, "a second init appends nothing");
}

#[test]
fn init_refuses_to_replace_a_surviving_key() {
    let home = TestHome::initialised();
    let private_key = home.path().join("keys/ledger.key");
    let key = std::fs::read(&private_key).unwrap();
    std::fs::remove_file(home.path().join("keys/ledger.pub")).unwrap();
    let output = home.run(&["init"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("refusing to overwrite"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read(&private_key).unwrap(), key);
    assert!(!home.path().join("keys/ledger.pub").exists());
}

#[test]
fn init_adopts_a_ledger_the_hook_created_first() {
    let home = TestHome::empty();
    // Appenders (the hook) create the ledger on first use, before anyone ran init.
    let append = home.run(&["audit", "append-loop", "--count", "2"]);
    assert!(append.status.success(), "{}", stderr(&append));
    let output = home.run(&["init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("entry 3"), "{}", stdout(&output));
    let checkpoint = home.run(&["audit", "checkpoint"]);
    assert!(checkpoint.status.success(), "{}", stderr(&checkpoint));
    assert!(stdout(&checkpoint).contains("\n3\n"));
    let verify = home.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn init_tightens_a_home_others_can_read_and_warns() {
    // A home made by hand (`mkdir`, umask 022) before init.
    let home = TestHome::empty();
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = home.run(&["init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&home.path()), 0o700);
    assert!(stderr(&output).contains("0755"), "{}", stderr(&output));

    // Loosened after init: the next init tightens it again, and says so.
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o750)).unwrap();
    let output = home.run(&["init"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode(&home.path()), 0o700);
    assert!(stderr(&output).contains("0750"), "{}", stderr(&output));

    // A private home draws no warning.
    let output = home.run(&["init"]);
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}
