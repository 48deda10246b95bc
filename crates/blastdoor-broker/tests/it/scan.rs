//! The credential scanner on a generated tree: every kind found, values never reported,
//! `.gitignore` respected, binaries skipped.
//!
//! Fake credentials are assembled at run time so that this file itself holds none.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use blastdoor_broker::scan::{CredentialKind, ScanOptions, Severity, scan_path};

/// (relative path, contents, the kind expected, the secret value that must never be printed).
pub fn credential_cases() -> Vec<(&'static str, String, CredentialKind, String)> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let railway = format!("{}-{}", "7f3c9a1e", "b2d4-4c6e-8f0a-1b3c5d7e9f20");
    let aws_id = format!("AKIA{}", "QWERTYUIOPASDFGH");
    let aws_secret = format!("{}{}", "wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY");
    let pem_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".to_owned();
    let github = format!("ghp_{}", "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5");
    let github_pat = format!(
        "github_pat_{}",
        "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH"
    );
    let supabase = format!("sbp_{}", "0123456789abcdef0123456789abcdef01234567");
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = b64
        .encode(br#"{"iss":"supabase","ref":"abcdefgh","role":"service_role","iat":1700000000}"#);
    let jwt = format!("{header}.{claims}.{}", "c2lnbmF0dXJlLXNpZ25hdHVyZQ");
    let fly = format!("fo1_{}", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe");
    let fly_v1 = format!("FlyV1 fm2_{}", "lJPECAAAAAAAAMXcxBBnZmJmODk2NmE0YmY2ZTQ5");
    let stripe = format!("sk_live_{}", "51HxYzAbCdEfGhIjKlMnOpQrStUv");
    let dsn_password = "s3cr3t-Pa55w0rd".to_owned();
    let env_secret = "f00dfacecafe1234beef".to_owned();
    let bd1 = format!(
        "bd1_{}",
        "En8KFQoGYWdlbnQKEHRva2VuX2lkCgRyZWFkEgU".repeat(2)
    );
    vec![
        (
            "deploy.sh",
            format!("export RAILWAY_TOKEN={railway}\nrailway up\n"),
            CredentialKind::RailwayToken,
            railway.clone(),
        ),
        (
            ".railway/config.json",
            format!("{{\n  \"user\": {{\n    \"token\": \"{railway}x\"\n  }}\n}}\n"),
            CredentialKind::RailwayToken,
            format!("{railway}x"),
        ),
        (
            "infra/aws.py",
            format!("KEY_ID = \"{aws_id}\"\n"),
            CredentialKind::AwsAccessKeyId,
            aws_id,
        ),
        (
            "infra/credentials",
            format!("[default]\naws_secret_access_key = {aws_secret}\n"),
            CredentialKind::AwsSecretAccessKey,
            aws_secret,
        ),
        (
            "gcp/sa.json",
            format!(
                "{{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{pem_body}\\n-----END PRIVATE KEY-----\\n\"\n}}\n"
            ),
            CredentialKind::GcpServiceAccountKey,
            format!("-----BEGIN PRIVATE KEY-----\\n{pem_body}\\n-----END PRIVATE KEY-----\\n"),
        ),
        (
            "src/ci.yml",
            format!("token: {github}\n"),
            CredentialKind::GithubToken,
            github,
        ),
        (
            "src/pat.txt",
            format!("use {github_pat} here\n"),
            CredentialKind::GithubToken,
            github_pat,
        ),
        (
            "supabase/admin.ts",
            format!("const t = '{supabase}';\n"),
            CredentialKind::SupabaseAccessToken,
            supabase,
        ),
        (
            "supabase/client.ts",
            format!("const key = \"{jwt}\";\n"),
            CredentialKind::SupabaseServiceRoleKey,
            jwt,
        ),
        (
            "fly/token.txt",
            format!("{fly}\n"),
            CredentialKind::FlyToken,
            fly,
        ),
        (
            "fly/auth",
            format!("Authorization: {fly_v1}\n"),
            CredentialKind::FlyToken,
            fly_v1,
        ),
        (
            "billing/stripe.rb",
            format!("Stripe.api_key = '{stripe}'\n"),
            CredentialKind::StripeLiveKey,
            stripe,
        ),
        (
            "keys/id_ed25519",
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{pem_body}\n-----END OPENSSH PRIVATE KEY-----\n"
            ),
            CredentialKind::PrivateKey,
            pem_body,
        ),
        (
            "config/db.toml",
            format!("url = \"postgres://app:{dsn_password}@db.internal:5432/app\"\n"),
            CredentialKind::DsnWithPassword,
            dsn_password,
        ),
        (
            "service/.env",
            format!("# settings\nLOG_LEVEL=debug\nSESSION_SECRET={env_secret}\n"),
            CredentialKind::EnvFileSecret,
            env_secret,
        ),
        (
            "agent/token",
            format!("{bd1}\n"),
            CredentialKind::BlastdoorToken,
            bd1,
        ),
    ]
}

fn write(root: &Path, relative: &str, contents: &[u8]) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

#[test]
fn finds_every_kind_with_its_line_and_never_reports_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let cases = credential_cases();
    for (path, contents, _, _) in &cases {
        write(dir.path(), path, contents.as_bytes());
    }
    write(
        dir.path(),
        "README.md",
        b"Set RAILWAY_TOKEN in your environment.\npostgres://user:${PASSWORD}@host/db\n",
    );
    write(
        dir.path(),
        ".env.example",
        b"SESSION_SECRET=changeme-please\n",
    );
    let report = scan_path(dir.path(), &ScanOptions::default()).unwrap();
    for (path, contents, kind, secret) in &cases {
        let finding = report
            .findings
            .iter()
            .find(|finding| finding.path.ends_with(path) && finding.kind == *kind)
            .unwrap_or_else(|| panic!("{kind:?} not found in {path}: {:#?}", report.findings));
        let line = contents
            .lines()
            .position(|line| line.contains(secret.as_str()))
            .unwrap()
            + 1;
        assert_eq!(finding.line, line, "{path}");
        assert_eq!(
            finding.fingerprint,
            blastdoor_core::Secret::new(secret.as_bytes()).fingerprint(),
            "{path}"
        );
        let json = serde_json::to_string(finding).unwrap();
        assert!(
            !json.contains(secret.as_str()),
            "{path}: the value leaked into {json}"
        );
    }
    assert_eq!(report.findings.len(), cases.len(), "{:#?}", report.findings);
    let bd1 = report
        .findings
        .iter()
        .find(|f| f.kind == CredentialKind::BlastdoorToken)
        .unwrap();
    assert_eq!(bd1.severity, Severity::Low);
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.path.ends_with("README.md") && !f.path.ends_with(".env.example"))
    );
}

#[test]
fn respects_gitignore_and_skips_binaries_and_git() {
    let dir = tempfile::tempdir().unwrap();
    let github = format!("ghp_{}", "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5");
    write(dir.path(), ".gitignore", b"ignored/\n*.log\n");
    write(dir.path(), "ignored/creds.txt", github.as_bytes());
    write(dir.path(), "debug.log", github.as_bytes());
    write(dir.path(), ".git/config", github.as_bytes());
    let mut binary = b"\x7fELF\0\0\0".to_vec();
    binary.extend_from_slice(github.as_bytes());
    write(dir.path(), "tool.bin", &binary);
    write(dir.path(), "kept.txt", github.as_bytes());
    let report = scan_path(dir.path(), &ScanOptions::default()).unwrap();
    let paths: Vec<_> = report
        .findings
        .iter()
        .map(|f| f.path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(paths, vec!["kept.txt"]);
    assert_eq!(report.skipped_binary, 1);
}

#[test]
fn a_clean_tree_has_no_findings_and_a_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/main.rs",
        b"fn main() { let token = std::env::var(\"RAILWAY_TOKEN\"); }\n",
    );
    let report = scan_path(dir.path(), &ScanOptions::default()).unwrap();
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.files_scanned, 1);
    let error = scan_path(&dir.path().join("nope"), &ScanOptions::default()).unwrap_err();
    assert!(error.to_string().contains("nope"), "{error}");
}

#[test]
fn files_over_the_size_cap_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "big.txt",
        format!("{}\nghp_{}", "x".repeat(2048), "a".repeat(36)).as_bytes(),
    );
    let options = ScanOptions {
        max_file_bytes: 1024,
        threads: 1,
    };
    let report = scan_path(dir.path(), &options).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(report.skipped_large, 1);
}
