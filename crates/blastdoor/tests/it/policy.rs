//! Tests of `blastdoor policy`: `validate` on good, broken and missing policy directories, and
//! `test` explaining decisions with the exit codes of `blastdoor check`.

use std::path::PathBuf;

use crate::support::{TestHome, stderr, stdout};

/// A home with `files` written into its `policies/` directory.
fn home_with_policies(files: &[(&str, &str)]) -> TestHome {
    let home = TestHome::empty();
    let dir: PathBuf = home.path().join("policies");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    home
}

/// Runs `blastdoor policy test ARGS` in a home without policies (the defaults apply) and checks
/// the exit code and that stdout mentions `expected`.
#[track_caller]
fn check_test(args: &[&str], expected_code: i32, expected: &str) {
    let home = TestHome::empty();
    let mut full = vec!["policy", "test"];
    full.extend_from_slice(args);
    let output = home.run(&full);
    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "{args:?}\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains(expected),
        "{args:?}: `{expected}` not in\n{}",
        stdout(&output)
    );
}

#[test]
fn test_explains_the_default_decisions_with_check_exit_codes() {
    check_test(
        &["--risk", "read", "--env", "production"],
        0,
        "verdict: allow",
    );
    check_test(&["--risk", "write", "--env", "staging"], 0, "default.write");
    check_test(
        &["--risk", "write", "--env", "production"],
        3,
        "hold (1 approval)",
    );
    check_test(
        &["--risk", "destroy", "--env", "production"],
        3,
        "hold (2 approvals)",
    );
    check_test(&["--risk", "destroy"], 3, "decided as `unknown`");
    check_test(
        &["--risk", "write", "--env", "staging", "--frozen"],
        3,
        "freeze.hold",
    );
}

#[test]
fn test_prints_one_line_per_environment_and_the_strictest_wins() {
    let home = TestHome::empty();
    let output = home.run(&[
        "policy",
        "test",
        "--agent",
        "claude-staging-fix",
        "--risk",
        "destroy",
        "--env",
        "staging,production",
        "--kind",
        "volume",
        "--id",
        "vol-pg-data",
        "--upstream",
        "railway",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("verdict: hold (2 approvals) for destroy on volume `vol-pg-data`"),
        "{text}"
    );
    let staging = text
        .lines()
        .find(|line| line.trim_start().starts_with("staging"))
        .unwrap();
    assert!(
        staging.contains("hold (1 approval)") && staging.contains("default.destroy"),
        "{staging}"
    );
    let production = text
        .lines()
        .find(|line| line.trim_start().starts_with("production"))
        .unwrap();
    assert!(
        production.contains("default.destroy-production"),
        "{production}"
    );
    assert!(text.contains("safer: take a snapshot first"), "{text}");
    assert!(
        stderr(&output).contains("built-in default policies"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn test_reads_the_operation_from_a_json_file_and_prints_json() {
    let home = TestHome::empty();
    let file = home.scratch().join("operation.json");
    std::fs::write(
        &file,
        r#"{"agent": "claude", "risk": "destroy", "environments": ["staging", "production"],
            "kind": "volume", "id": "vol-1", "upstream": "railway", "rule_ids": ["railway.volume-delete"]}"#,
    )
    .unwrap();
    let output = home.run(&[
        "policy",
        "test",
        "--input",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["verdict"]["decision"], "hold");
    assert_eq!(json["verdict"]["approvals"], 2);
    assert_eq!(json["determining"][0], "default.destroy-production");
    assert_eq!(json["environments"][0]["environment"], "staging");
    assert_eq!(json["environments"][1]["verdict"]["approvals"], 2);
}

#[test]
fn test_refuses_bad_operations_clearly() {
    let home = TestHome::empty();
    let output = home.run(&["policy", "test", "--env", "staging"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--risk"), "{}", stderr(&output));
    let output = home.run(&["policy", "test", "--risk", "obliterate"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("`obliterate`"),
        "{}",
        stderr(&output)
    );
    let output = home.run(&["policy", "test", "--risk", "read", "--env", "Prod uction"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("environment name"),
        "{}",
        stderr(&output)
    );
    let file = home.scratch().join("bad.json");
    std::fs::write(&file, r#"{"risk": "read", "enviroments": ["production"]}"#).unwrap();
    let output = home.run(&["policy", "test", "--input", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("enviroments"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn test_uses_the_policies_in_home() {
    let home = home_with_policies(&[(
        "only-reads.cedar",
        "@id(\"team.reads\") permit (principal, action == Action::\"read\", resource);",
    )]);
    let output = home.run(&["policy", "test", "--risk", "write", "--env", "staging"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("policy.no-permit"),
        "{}",
        stdout(&output)
    );
    let output = home.run(&["policy", "test", "--risk", "read", "--env", "staging"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("team.reads"));
}

#[test]
fn validate_accepts_the_defaults_and_a_good_directory() {
    let home = TestHome::empty();
    let output = home.run(&["policy", "validate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("default.destroy-production"));
    assert!(
        stderr(&output).contains("does not exist"),
        "{}",
        stderr(&output)
    );

    let home = home_with_policies(&[(
        "a.cedar",
        "@id(\"team.a\") permit (principal, action, resource);",
    )]);
    let output = home.run(&["policy", "validate", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["valid"], true);
    assert_eq!(json["policies"][0], "team.a");
}

#[test]
fn validate_names_the_file_and_line_of_each_problem() {
    let home = home_with_policies(&[
        (
            "good.cedar",
            "@id(\"team.good\") permit (principal, action, resource);",
        ),
        (
            "bad.cedar",
            "// a comment\n@id(\"team.bad\")\npermit (principal, action, resource)\nwhen { resource.owner == \"me\" };\n",
        ),
    ]);
    let output = home.run(&["policy", "validate"]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert!(error.contains("bad.cedar:4:"), "{error}");
    assert!(error.contains("team.bad"), "{error}");
    assert!(!error.contains("panicked"), "{error}");

    let output = home.run(&["policy", "validate", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["valid"], false);
    assert!(
        json["problems"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("bad.cedar")
    );
    assert_eq!(json["problems"][0]["line"], 4);
}

#[test]
fn validate_refuses_a_syntax_error_and_an_empty_directory() {
    let home = home_with_policies(&[(
        "x.cedar",
        "@id(\"team.x\")\npermit (principal, action resource);",
    )]);
    let output = home.run(&["policy", "validate"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("x.cedar:2:"),
        "{}",
        stderr(&output)
    );

    let home = home_with_policies(&[]);
    let output = home.run(&["policy", "validate"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no policy files"),
        "{}",
        stderr(&output)
    );
}
