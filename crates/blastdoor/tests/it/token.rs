//! Tests of `blastdoor token`: mint, verify, attenuate, list, revoke through the real binary.

use crate::support::{TestHome, stderr, stdout};

fn mint(home: &TestHome, args: &[&str]) -> String {
    let mut full = vec!["token", "mint", "--agent", "claude-staging-fix"];
    full.extend_from_slice(args);
    let output = home.run(&full);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "the token alone on stdout: {text}");
    text.trim().to_owned()
}

fn verify(home: &TestHome, token: &str, operation: &[&str]) -> std::process::Output {
    let mut args = vec!["token", "verify", token];
    args.extend_from_slice(operation);
    home.run(&args)
}

#[test]
fn a_staging_read_write_token_cannot_reach_production_or_destroy() {
    let home = TestHome::empty();
    let token = mint(
        &home,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "read,write",
            "--ttl",
            "8h",
        ],
    );
    assert!(token.starts_with("bd1_"));
    let allowed = verify(
        &home,
        &token,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "write",
        ],
    );
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    for operation in [
        [
            "--upstream",
            "railway",
            "--env",
            "production",
            "--risk",
            "read",
        ],
        [
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "destroy",
        ],
        [
            "--upstream",
            "railway",
            "--env",
            "unknown",
            "--risk",
            "read",
        ],
        ["--upstream", "github", "--env", "staging", "--risk", "read"],
    ] {
        let refused = verify(&home, &token, &operation);
        assert_eq!(refused.status.code(), Some(1), "{operation:?}");
        assert!(
            stderr(&refused).contains("does not allow"),
            "{operation:?}: {}",
            stderr(&refused)
        );
    }
}

#[test]
fn attenuate_narrows_and_refuses_to_widen() {
    let home = TestHome::empty();
    let token = mint(
        &home,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging,dev",
            "--risk",
            "read,write",
            "--ttl",
            "1h",
        ],
    );
    let output = home.run(&[
        "token",
        "attenuate",
        &token,
        "--env",
        "dev",
        "--risk",
        "read",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let child = stdout(&output).trim().to_owned();
    assert!(
        verify(
            &home,
            &child,
            &["--upstream", "railway", "--env", "dev", "--risk", "read"]
        )
        .status
        .success()
    );
    assert!(
        !verify(
            &home,
            &child,
            &[
                "--upstream",
                "railway",
                "--env",
                "staging",
                "--risk",
                "read"
            ]
        )
        .status
        .success()
    );
    assert!(
        !verify(
            &home,
            &child,
            &["--upstream", "railway", "--env", "dev", "--risk", "write"]
        )
        .status
        .success()
    );

    let wider = home.run(&["token", "attenuate", &child, "--env", "production"]);
    assert!(!wider.status.success());
    assert!(
        stderr(&wider).contains("`production` is not in the token's scope"),
        "{}",
        stderr(&wider)
    );
}

#[test]
fn list_shows_metadata_and_revoke_takes_effect_at_once() {
    let home = TestHome::empty();
    let token = mint(
        &home,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "read",
            "--ttl",
            "30m",
            "--task",
            "fix deploy",
        ],
    );
    let child = stdout(&home.run(&["token", "attenuate", &token, "--ttl", "5m"]))
        .trim()
        .to_owned();
    assert!(verify(&home, &token, &[]).status.success());

    let list = home.run(&["token", "list", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    let record = &parsed[0];
    assert_eq!(record["agent"], "claude-staging-fix");
    assert_eq!(record["environments"][0], "staging");
    assert_eq!(record["status"], "live");
    assert_eq!(record["task"], "fix deploy");
    let registry = std::fs::read_to_string(home.path().join("tokens.json")).unwrap();
    assert!(
        !registry.contains(&token[4..40]),
        "the registry holds the token itself"
    );
    let id = record["id"].as_str().unwrap().to_owned();

    let revoke = home.run(&["token", "revoke", &id]);
    assert!(revoke.status.success(), "{}", stderr(&revoke));
    for text in [&token, &child] {
        let refused = verify(&home, text, &[]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains("revoked"), "{}", stderr(&refused));
    }
    assert!(stdout(&home.run(&["token", "list"])).contains("\trevoked"));
    let unknown = home.run(&["token", "revoke", "tok_000000000000000000000000"]);
    assert!(!unknown.status.success());
}

#[test]
fn malformed_tokens_and_bad_flags_are_clear_errors() {
    let home = TestHome::empty();
    mint(
        &home,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "read",
            "--ttl",
            "1h",
        ],
    );
    for (token, expected) in [
        ("ghp_notours", "starts with `bd1_`"),
        ("bd1_%%%", "not base64url"),
        ("bd1_AAAAAAAA", "not a valid biscuit"),
    ] {
        let output = verify(&home, token, &[]);
        assert_eq!(output.status.code(), Some(1), "{token}");
        assert!(
            stderr(&output).contains(expected),
            "{token}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
    for (args, expected) in [
        (
            vec![
                "--upstream",
                "railway",
                "--env",
                "staging",
                "--risk",
                "unknown",
                "--ttl",
                "1h",
            ],
            "`unknown` can never be granted",
        ),
        (
            vec![
                "--upstream",
                "railway",
                "--env",
                "unknown",
                "--risk",
                "read",
                "--ttl",
                "1h",
            ],
            "reserved",
        ),
        (
            vec![
                "--upstream",
                "railway",
                "--env",
                "staging",
                "--risk",
                "read",
                "--ttl",
                "8 hours",
            ],
            "--ttl",
        ),
        (
            vec![
                "--upstream",
                "Rail Way",
                "--env",
                "staging",
                "--risk",
                "read",
                "--ttl",
                "1h",
            ],
            "upstream `Rail Way`",
        ),
    ] {
        let mut full = vec!["token", "mint", "--agent", "a"];
        full.extend_from_slice(&args);
        let output = home.run(&full);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

/// `token mint` processes racing a `token revoke` process: afterwards the revocation and every
/// minted record are in the registry (the registry is rewritten under a lock, re-read first).
#[test]
fn concurrent_mints_and_a_revoke_from_several_processes_lose_nothing() {
    let home = TestHome::empty();
    mint(
        &home,
        &[
            "--upstream",
            "railway",
            "--env",
            "staging",
            "--risk",
            "read",
            "--ttl",
            "30m",
        ],
    );
    let list = home.run(&["token", "list", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    let first = parsed[0]["id"].as_str().unwrap().to_owned();

    const MINTERS: usize = 6;
    let mut children = Vec::new();
    for _ in 0..MINTS_PER_ROUND {
        for _ in 0..MINTERS {
            children.push(
                home.command(&[
                    "token",
                    "mint",
                    "--agent",
                    "racer",
                    "--upstream",
                    "railway",
                    "--env",
                    "staging",
                    "--risk",
                    "read",
                    "--ttl",
                    "30m",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
            );
        }
    }
    let revoke = home.run(&["token", "revoke", &first]);
    assert!(revoke.status.success(), "{}", stderr(&revoke));
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let list = home.run(&["token", "list", "--json"]);
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    let records = parsed.as_array().unwrap();
    assert_eq!(records.len(), 1 + MINTERS * MINTS_PER_ROUND, "{parsed:#}");
    let revoked = records
        .iter()
        .find(|record| record["id"] == first.as_str())
        .unwrap();
    assert_eq!(
        revoked["status"], "revoked",
        "the revocation was undone: {parsed:#}"
    );
}

const MINTS_PER_ROUND: usize = 2;
