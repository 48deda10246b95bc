//! Tests of `blastdoor scan`: exit codes, text and JSON output, never the secret, `.gitignore`.

use std::fs;

use crate::support::{TestHome, stderr, stdout};

fn fake_github_token() -> String {
    format!("ghp_{}", "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7")
}

#[test]
fn finds_credentials_exits_1_and_never_prints_them() {
    let home = TestHome::empty();
    let workspace = home.scratch();
    let github = fake_github_token();
    let dsn_password = "pw-9s8d7f6g5h";
    fs::write(
        workspace.join("deploy.sh"),
        format!("#!/bin/sh\ngit push https://x:{github}@github.com/o/r\n"),
    )
    .unwrap();
    fs::write(
        workspace.join(".env"),
        format!("DATABASE_URL=postgres://app:{dsn_password}@db:5432/app\n"),
    )
    .unwrap();
    let output = home.run(&["scan", workspace.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("deploy.sh:2: github-token sha256:"), "{text}");
    assert!(text.contains(".env:1: dsn-with-password sha256:"), "{text}");
    assert!(
        text.contains("blastdoor secret set") && text.contains("blastdoor token mint"),
        "{text}"
    );
    for leaked in [github.as_str(), dsn_password] {
        assert!(
            !text.contains(leaked) && !stderr(&output).contains(leaked),
            "leaked {leaked}"
        );
    }

    let json = home.run(&["scan", "--json", workspace.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(1));
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let findings = parsed["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{parsed:#}");
    assert!(
        findings
            .iter()
            .all(|f| f["fingerprint"].as_str().unwrap().starts_with("sha256:"))
    );
    assert!(findings.iter().all(|f| {
        f["advice"]
            .as_str()
            .unwrap()
            .contains("blastdoor token mint")
    }));
    assert!(!stdout(&json).contains(&github));
}

#[test]
fn a_clean_tree_exits_0_and_gitignored_files_are_skipped() {
    let home = TestHome::empty();
    let workspace = home.scratch();
    fs::write(workspace.join(".gitignore"), "secrets/\n").unwrap();
    fs::create_dir_all(workspace.join("secrets")).unwrap();
    fs::write(workspace.join("secrets/token.txt"), fake_github_token()).unwrap();
    fs::write(workspace.join("main.rs"), "fn main() {}\n").unwrap();
    let output = home.run(&["scan", workspace.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn a_scoped_blastdoor_token_is_reported_as_low_severity() {
    let home = TestHome::empty();
    let minted = home.run(&[
        "token",
        "mint",
        "--agent",
        "a",
        "--upstream",
        "railway",
        "--env",
        "staging",
        "--risk",
        "read",
        "--ttl",
        "1h",
    ]);
    let token = stdout(&minted).trim().to_owned();
    let workspace = home.scratch();
    fs::write(
        workspace.join("agent.env"),
        format!("BLASTDOOR_TOKEN={token}\n"),
    )
    .unwrap();
    let output = home.run(&["scan", "--json", workspace.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let parsed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(parsed["findings"][0]["kind"], "blastdoor-token");
    let text = stdout(&home.run(&["scan", workspace.to_str().unwrap()]));
    assert!(
        text.contains("scoped blastdoor token, low severity"),
        "{text}"
    );
    assert_eq!(parsed["findings"][0]["severity"], "low");
    assert_eq!(parsed["findings"].as_array().unwrap().len(), 1);
    assert!(!stdout(&output).contains(&token));
}

#[test]
fn a_missing_path_exits_2() {
    let home = TestHome::empty();
    let missing = home.scratch().join("does-not-exist");
    let output = home.run(&["scan", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("does-not-exist"),
        "{}",
        stderr(&output)
    );
}

/// An error after the scan (here, the report cannot be written: stdout is `/dev/full`) exits 2,
/// never 1 (which means "credentials found") nor a panic's 101; with and without findings.
#[test]
fn an_error_writing_the_report_exits_2() {
    let home = TestHome::empty();
    let workspace = home.scratch();
    fs::write(workspace.join("main.rs"), "fn main() {}\n").unwrap();
    for with_finding in [false, true] {
        if with_finding {
            fs::write(
                workspace.join("deploy.sh"),
                format!(
                    "git push https://x:{}@github.com/o/r\n",
                    fake_github_token()
                ),
            )
            .unwrap();
        }
        for json in [false, true] {
            let mut args = vec!["scan", workspace.to_str().unwrap()];
            if json {
                args.push("--json");
            }
            let output = home
                .command(&args)
                .stdout(fs::File::create("/dev/full").unwrap())
                .output()
                .unwrap();
            if !with_finding && !json {
                // A clean text scan writes nothing to stdout: nothing fails.
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                continue;
            }
            assert_eq!(
                output.status.code(),
                Some(2),
                "finding {with_finding}, json {json}: {}",
                stderr(&output)
            );
            assert!(stderr(&output).contains("error"), "{}", stderr(&output));
            assert!(!stderr(&output).contains(&fake_github_token()));
        }
    }
}
