//! Tests of `blastdoor check`: exit status 0 allow, 2 deny, 3 hold, 1 error; prose or JSON on
//! stdout; the decision in the ledger.

use serde_json::Value;

use crate::support::{TestHome, stderr, stdout};

fn check(home: &TestHome, args: &[&str]) -> (Option<i32>, String) {
    let mut full = vec!["check"];
    full.extend_from_slice(args);
    let output = home
        .command(&full)
        .current_dir(home.scratch())
        .output()
        .unwrap();
    (output.status.code(), stdout(&output) + &stderr(&output))
}

#[test]
fn exit_status_follows_the_decision() {
    let home = TestHome::empty();
    assert_eq!(check(&home, &["--", "git", "status"]).0, Some(0));
    assert_eq!(check(&home, &["--", "$TOOL -rf ./build"]).0, Some(3));
    let (code, _) = check(
        &home,
        &[
            "--",
            r#"curl -X POST https://backboard.railway.app/graphql/v2 -d '{"query":"mutation { volumeDelete(volumeId: \"v\") }"}'"#,
        ],
    );
    assert!(
        matches!(code, Some(2 | 3)),
        "the incident is never allowed: {code:?}"
    );
}

#[test]
fn prose_names_the_decision_and_rule() {
    let home = TestHome::empty();
    let (code, text) = check(&home, &["--", "$TOOL -rf ./build"]);
    assert_eq!(code, Some(3));
    assert!(text.starts_with("hold"), "{text}");
    assert!(
        text.contains("  ["),
        "lists each reason with its rule id: {text}"
    );
}

#[test]
fn json_output_has_command_operation_and_verdict() {
    let home = TestHome::empty();
    let output = home
        .command(&["check", "--json", "--", "ls", "-la"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["command"], "ls -la", "words are joined with spaces");
    assert_eq!(value["operation"]["kind"], "shell");
    assert_eq!(value["verdict"]["decision"], "allow");
    assert!(!value["verdict"]["reasons"].as_array().unwrap().is_empty());
}

#[test]
fn a_single_argument_is_taken_verbatim() {
    let home = TestHome::empty();
    let output = home
        .command(&["check", "--json", "--", "ls | wc -l"])
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["command"], "ls | wc -l");
}

#[test]
fn each_check_is_recorded_in_the_ledger() {
    let home = TestHome::empty();
    check(&home, &["--", "git", "status"]);
    check(&home, &["--", "$TOOL -rf ./build"]);
    let output = home.run(&["audit", "log", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let entries: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|entry| entry["layer"] == "hook"));
    assert_eq!(entries[1]["verdict"]["decision"], "hold");
}

#[test]
fn an_unwritable_ledger_turns_a_hold_into_a_deny() {
    let home = TestHome::empty();
    std::fs::write(home.path(), "a file, not a directory").unwrap();
    let (code, text) = check(&home, &["--", "$TOOL -rf ./build"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("hook.ledger-unavailable"), "{text}");
}

#[test]
fn errors_exit_1() {
    let home = TestHome::empty();
    let missing = home.scratch().join("no-such-dir");
    let (code, text) = check(&home, &["--cwd", missing.to_str().unwrap(), "--", "ls"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not a directory"), "{text}");
}

#[test]
fn while_frozen_a_write_is_held_with_the_frozen_rule() {
    let home = TestHome::initialised();
    assert_eq!(check(&home, &["--", "touch", "notes.txt"]).0, Some(0));
    let frozen = home.run(&["freeze", "--reason", "incident", "--as", "alice"]);
    assert!(frozen.status.success(), "{}", stderr(&frozen));
    let (code, text) = check(&home, &["--", "touch", "notes.txt"]);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("policy.frozen"), "{text}");
    assert_eq!(
        check(&home, &["--", "git", "status"]).0,
        Some(0),
        "reads still run"
    );
}
