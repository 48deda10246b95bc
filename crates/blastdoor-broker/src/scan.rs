//! `blastdoor scan`: finds raw provider credentials an agent could read in a directory tree
//! (Railway, AWS, GCP service accounts, GitHub, Supabase, Fly, Stripe, private keys, DSNs with
//! passwords, `.env` files) and blastdoor's own scoped tokens. A finding carries the path,
//! line, kind and a fingerprint of the value, never the value.
//!
//! Speed: the walk respects `.gitignore` (even outside a git repository), runs on every core,
//! skips binaries (a NUL byte in the first 8 KiB) and files over a size cap, and each file is
//! first matched against one `RegexSet`; only files that match are searched per pattern.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use base64::Engine as _;
use blastdoor_core::Secret;
use regex::bytes::{Regex, RegexSet};
use serde::Serialize;

use crate::BrokerError;

/// Files larger than this are skipped (and counted) by default.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What kind of credential a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    RailwayToken,
    AwsAccessKeyId,
    AwsSecretAccessKey,
    GcpServiceAccountKey,
    GithubToken,
    SupabaseAccessToken,
    SupabaseServiceRoleKey,
    FlyToken,
    StripeLiveKey,
    PrivateKey,
    DsnWithPassword,
    BlastdoorToken,
    /// Last: a line that a specific kind matched is reported as that kind.
    EnvFileSecret,
}

impl CredentialKind {
    /// The stable name printed and used in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::RailwayToken => "railway-token",
            CredentialKind::AwsAccessKeyId => "aws-access-key-id",
            CredentialKind::AwsSecretAccessKey => "aws-secret-access-key",
            CredentialKind::GcpServiceAccountKey => "gcp-service-account-key",
            CredentialKind::GithubToken => "github-token",
            CredentialKind::SupabaseAccessToken => "supabase-access-token",
            CredentialKind::SupabaseServiceRoleKey => "supabase-service-role-key",
            CredentialKind::FlyToken => "fly-token",
            CredentialKind::StripeLiveKey => "stripe-live-key",
            CredentialKind::PrivateKey => "private-key",
            CredentialKind::DsnWithPassword => "dsn-with-password",
            CredentialKind::EnvFileSecret => "env-file-secret",
            CredentialKind::BlastdoorToken => "blastdoor-token",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            CredentialKind::BlastdoorToken => Severity::Low,
            _ => Severity::High,
        }
    }

    /// The upstream name to suggest in the replacement commands.
    fn upstream_hint(self) -> &'static str {
        match self {
            CredentialKind::RailwayToken => "railway",
            CredentialKind::AwsAccessKeyId | CredentialKind::AwsSecretAccessKey => "aws",
            CredentialKind::GcpServiceAccountKey => "gcp",
            CredentialKind::GithubToken => "github",
            CredentialKind::SupabaseAccessToken | CredentialKind::SupabaseServiceRoleKey => {
                "supabase"
            }
            CredentialKind::FlyToken => "fly",
            CredentialKind::StripeLiveKey => "stripe",
            CredentialKind::DsnWithPassword => "postgres",
            CredentialKind::PrivateKey
            | CredentialKind::EnvFileSecret
            | CredentialKind::BlastdoorToken => "UPSTREAM",
        }
    }

    /// How to replace this credential with a scoped blastdoor token.
    pub fn advice(self) -> String {
        if self == CredentialKind::BlastdoorToken {
            return "a blastdoor capability token is worth only its scope; check it is as narrow as the task needs (`blastdoor token list`) and revoke it when done (`blastdoor token revoke ID`)".to_owned();
        }
        let upstream = self.upstream_hint();
        format!(
            "move it into the gateway's encrypted store (`blastdoor secret set {upstream}-credential` reads it from stdin), rotate it at the provider, delete it here, and give the agent a scoped token instead: `blastdoor token mint --agent AGENT --upstream {upstream} --env staging --risk read,write --ttl 8h`"
        )
    }
}

/// How bad a finding is: a raw provider credential is high, a scoped blastdoor token low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    High,
}

/// One credential found. Never holds the credential itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    pub kind: CredentialKind,
    pub severity: Severity,
    /// `sha256:` and 12 hex digits of the credential.
    pub fingerprint: String,
}

/// Everything a scan found, and how much it read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub findings: Vec<Finding>,
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    /// Paths that could not be read, with why (the scan goes on).
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Options for [`scan_path`].
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub max_file_bytes: u64,
    /// Worker threads; 0 lets the walker choose.
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> ScanOptions {
        ScanOptions {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            threads: 0,
        }
    }
}

/// Scans `root` (a directory or one file). Findings are sorted by path and line.
pub fn scan_path(root: &Path, options: &ScanOptions) -> Result<ScanReport, BrokerError> {
    if !root.exists() {
        return Err(BrokerError::Scan {
            path: root.to_owned(),
            why: "no such file or directory".to_owned(),
        });
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .git_ignore(true)
        .git_exclude(true)
        .ignore(true)
        .parents(true)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build_parallel();
    let report = Mutex::new(ScanReport::default());
    walker.run(|| {
        let report = &report;
        let max = options.max_file_bytes;
        Box::new(move |entry| {
            let mut local = ScanReport::default();
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|kind| kind.is_file()) => {
                    scan_entry(entry.path(), max, &mut local);
                }
                Ok(_) => {}
                Err(error) => local.unreadable.push((PathBuf::new(), error.to_string())),
            }
            if let Ok(mut shared) = report.lock() {
                shared.findings.append(&mut local.findings);
                shared.files_scanned += local.files_scanned;
                shared.bytes_scanned += local.bytes_scanned;
                shared.skipped_binary += local.skipped_binary;
                shared.skipped_large += local.skipped_large;
                shared.unreadable.append(&mut local.unreadable);
            }
            ignore::WalkState::Continue
        })
    });
    let mut report = report.into_inner().map_err(|_| BrokerError::Scan {
        path: root.to_owned(),
        why: "a scanning thread failed".to_owned(),
    })?;
    report
        .findings
        .sort_by(|a, b| (&a.path, a.line, a.kind).cmp(&(&b.path, b.line, b.kind)));
    Ok(report)
}

fn scan_entry(path: &Path, max_file_bytes: u64, report: &mut ScanReport) {
    let size = match std::fs::metadata(path) {
        Ok(metadata) => metadata.len(),
        Err(error) => {
            report.unreadable.push((path.to_owned(), error.to_string()));
            return;
        }
    };
    if size > max_file_bytes {
        report.skipped_large += 1;
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            report.unreadable.push((path.to_owned(), error.to_string()));
            return;
        }
    };
    let head = bytes.get(..bytes.len().min(8192)).unwrap_or_default();
    if memchr::memchr(0, head).is_some() {
        report.skipped_binary += 1;
        return;
    }
    report.files_scanned += 1;
    report.bytes_scanned += bytes.len() as u64;
    for (line, kind, fingerprint) in scan_bytes(path, &bytes) {
        report.findings.push(Finding {
            path: path.to_owned(),
            line,
            kind,
            severity: kind.severity(),
            fingerprint,
        });
    }
}

/// The credentials in one file's contents: (1-based line, kind, fingerprint). `path` decides
/// the path-specific checks (`.env` files, `~/.railway/config.json`).
pub fn scan_bytes(path: &Path, bytes: &[u8]) -> Vec<(usize, CredentialKind, String)> {
    let matchers = matchers();
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let is_env_file = is_env_file(file_name);
    let is_railway_config = file_name == "config.json"
        && path
            .parent()
            .and_then(|parent| parent.file_name())
            .is_some_and(|parent| parent == ".railway");
    let hits = matchers.set.matches(bytes);
    if !hits.matched_any() && !is_env_file {
        return Vec::new();
    }
    let mut found: Vec<(usize, CredentialKind, String)> = Vec::new();
    for index in hits.iter() {
        let Some(pattern) = matchers.patterns.get(index) else {
            continue;
        };
        if pattern.kind == CredentialKind::GcpServiceAccountKey
            && !contains(bytes, b"service_account")
        {
            continue;
        }
        if pattern.railway_config_only && !is_railway_config {
            continue;
        }
        for captures in pattern.regex.captures_iter(bytes) {
            let Some(secret) = captures.get(1) else {
                continue;
            };
            let value = secret.as_bytes();
            if !(pattern.accept)(value) {
                continue;
            }
            found.push((
                line_of(bytes, secret.start()),
                pattern.kind,
                Secret::new(value).fingerprint(),
            ));
        }
    }
    if let (true, Some(env_assignment)) = (is_env_file, matchers.env_assignment.as_ref()) {
        for captures in env_assignment.captures_iter(bytes) {
            let (Some(key), Some(value)) = (captures.get(1), captures.get(2)) else {
                continue;
            };
            let key = String::from_utf8_lossy(key.as_bytes()).to_ascii_lowercase();
            let sensitive = [
                "token",
                "secret",
                "password",
                "passwd",
                "api_key",
                "apikey",
                "access_key",
                "private_key",
                "credential",
                "dsn",
                "database_url",
            ]
            .iter()
            .any(|part| key.contains(part));
            if sensitive && looks_like_a_value(value.as_bytes()) {
                found.push((
                    line_of(bytes, value.start()),
                    CredentialKind::EnvFileSecret,
                    Secret::new(value.as_bytes()).fingerprint(),
                ));
            }
        }
    }
    // One finding per line and value: the most specific kind (lowest enum order) wins.
    found.sort_by(|a, b| (a.0, &a.2, a.1).cmp(&(b.0, &b.2, b.1)));
    found.dedup_by(|later, earlier| later.0 == earlier.0 && later.2 == earlier.2);
    // A `.env` line that a specific kind already matched is not reported again.
    let specific_lines: Vec<usize> = found
        .iter()
        .filter(|finding| finding.1 != CredentialKind::EnvFileSecret)
        .map(|finding| finding.0)
        .collect();
    found.retain(|finding| {
        finding.1 != CredentialKind::EnvFileSecret || !specific_lines.contains(&finding.0)
    });
    // A GCP key's PEM is reported as the service-account key, not again as a private key.
    let gcp_lines: Vec<usize> = found
        .iter()
        .filter(|finding| finding.1 == CredentialKind::GcpServiceAccountKey)
        .map(|finding| finding.0)
        .collect();
    found.retain(|finding| {
        !(finding.1 == CredentialKind::PrivateKey && gcp_lines.contains(&finding.0))
    });
    found
}

struct Pattern {
    kind: CredentialKind,
    regex: Regex,
    accept: fn(&[u8]) -> bool,
    railway_config_only: bool,
}

struct Matchers {
    set: RegexSet,
    patterns: Vec<Pattern>,
    /// `None` only if the constant pattern failed to compile (a test proves it does not).
    env_assignment: Option<Regex>,
}

/// The patterns: group 1 is the credential. Compiled once per process, ASCII-only (`(?-u)`
/// is prepended: the bytes are not necessarily UTF-8, and `regex` is built without Unicode).
const PATTERNS: &[(CredentialKind, &str)] = &[
    (
        CredentialKind::RailwayToken,
        r#"\b(?:RAILWAY_TOKEN|RAILWAY_API_TOKEN)["']?\s*[=:]\s*["']?([A-Za-z0-9_\-]{16,})"#,
    ),
    (
        CredentialKind::AwsAccessKeyId,
        r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b",
    ),
    (
        CredentialKind::AwsSecretAccessKey,
        r#"(?i)aws_?secret_?access_?key["']?\s*[=:]\s*["']?([A-Za-z0-9/+=]{40})\b"#,
    ),
    (
        CredentialKind::GcpServiceAccountKey,
        r#""private_key"\s*:\s*"(-----BEGIN[^"]{40,})""#,
    ),
    (
        CredentialKind::GithubToken,
        r"\b((?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36,})\b",
    ),
    (
        CredentialKind::GithubToken,
        r"\b(github_pat_[A-Za-z0-9_]{40,})\b",
    ),
    (
        CredentialKind::SupabaseAccessToken,
        r"\b(sbp_[a-f0-9]{40})\b",
    ),
    (
        CredentialKind::SupabaseServiceRoleKey,
        r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})",
    ),
    (
        CredentialKind::FlyToken,
        r"(FlyV1 fm\d_[A-Za-z0-9_+/=,\-]{20,})",
    ),
    (CredentialKind::FlyToken, r"\b(fo1_[A-Za-z0-9_\-]{20,})"),
    (
        CredentialKind::StripeLiveKey,
        r"\b((?:sk|rk)_live_[A-Za-z0-9]{20,})\b",
    ),
    (
        CredentialKind::PrivateKey,
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:\\n|\s)*([A-Za-z0-9+/=]{32,})",
    ),
    (
        CredentialKind::DsnWithPassword,
        r#"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)://[^:@/\s"'`]+:([^@/\s"'`]+)@[A-Za-z0-9]"#,
    ),
    (
        CredentialKind::BlastdoorToken,
        r"\b(bd1_[A-Za-z0-9_\-]{40,})",
    ),
];

/// `"token": "..."` in `~/.railway/config.json`.
const RAILWAY_CONFIG_PATTERN: &str =
    r#""(?:token|accessToken|apiToken)"\s*:\s*"([A-Za-z0-9_\-\.]{16,})""#;

fn matchers() -> &'static Matchers {
    static MATCHERS: OnceLock<Matchers> = OnceLock::new();
    MATCHERS.get_or_init(|| {
        let mut patterns: Vec<Pattern> = PATTERNS
            .iter()
            .filter_map(|(kind, source)| {
                Some(Pattern {
                    kind: *kind,
                    regex: Regex::new(&format!("(?-u){source}")).ok()?,
                    accept: accept_for(*kind),
                    railway_config_only: false,
                })
            })
            .collect();
        if let Ok(regex) = Regex::new(&format!("(?-u){RAILWAY_CONFIG_PATTERN}")) {
            patterns.push(Pattern {
                kind: CredentialKind::RailwayToken,
                regex,
                accept: |_| true,
                railway_config_only: true,
            });
        }
        let set = RegexSet::new(patterns.iter().map(|pattern| pattern.regex.as_str()))
            .unwrap_or_else(|_| RegexSet::empty());
        let env_assignment = Regex::new(
            r#"(?m)^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*["']?([^\s"'#]+)"#,
        )
        .ok();
        Matchers {
            set,
            patterns,
            env_assignment,
        }
    })
}

fn accept_for(kind: CredentialKind) -> fn(&[u8]) -> bool {
    match kind {
        CredentialKind::SupabaseServiceRoleKey => is_service_role_jwt,
        CredentialKind::DsnWithPassword => looks_like_a_value,
        // AWS's documentation key, `AKIAIOSFODNN7EXAMPLE`, and its kind.
        CredentialKind::AwsAccessKeyId => |value| !value.ends_with(b"EXAMPLE"),
        _ => |_| true,
    }
}

/// A JWT whose payload says `"role": "service_role"`.
fn is_service_role_jwt(jwt: &[u8]) -> bool {
    let Some(payload) = jwt.split(|b| *b == b'.').nth(1) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    let compact: Vec<u8> = decoded
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    contains(&compact, b"\"role\":\"service_role\"")
}

/// Not empty, not a placeholder (`${VAR}`, `<password>`, `changeme`, `xxx`).
fn looks_like_a_value(value: &[u8]) -> bool {
    if value.len() < 6 {
        return false;
    }
    if matches!(value.first(), Some(b'$' | b'<' | b'{' | b'*' | b'%')) {
        return false;
    }
    let lower = String::from_utf8_lossy(value).to_ascii_lowercase();
    let placeholders = [
        "password",
        "changeme",
        "example",
        "placeholder",
        "your_",
        "your-",
        "xxxx",
        "dummy",
        "redacted",
    ];
    !placeholders
        .iter()
        .any(|placeholder| lower.contains(placeholder))
}

fn is_env_file(file_name: &str) -> bool {
    let is_env =
        file_name == ".env" || file_name.starts_with(".env.") || file_name.ends_with(".env");
    let is_template = [".example", ".sample", ".template", ".dist"]
        .iter()
        .any(|suffix| file_name.ends_with(suffix));
    is_env && !is_template
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    memchr::memchr_iter(b'\n', bytes.get(..offset).unwrap_or_default()).count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        let matchers = matchers();
        assert_eq!(matchers.patterns.len(), PATTERNS.len() + 1);
        assert_eq!(matchers.set.len(), matchers.patterns.len());
        assert!(matchers.env_assignment.is_some());
    }

    #[track_caller]
    fn check(path: &str, text: &str, expected: &[(usize, CredentialKind)]) {
        let found: Vec<(usize, CredentialKind)> = scan_bytes(Path::new(path), text.as_bytes())
            .into_iter()
            .map(|(line, kind, _)| (line, kind))
            .collect();
        assert_eq!(found, expected, "{path}: {text}");
    }

    #[test]
    fn placeholders_and_templates_are_not_findings() {
        check("a.md", "postgres://user:${DB_PASSWORD}@host/db", &[]);
        check("a.md", "postgres://user:password@localhost/db", &[]);
        check(".env.example", "API_TOKEN=abcdef123456", &[]);
        check(".env", "API_TOKEN=\n", &[]);
        check("a.md", "-----BEGIN PRIVATE KEY-----\n...\n", &[]);
        check("a.json", "{\"token\": \"abcdefghijklmnopqrstuv\"}", &[]);
        check("aws.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE", &[]);
    }

    #[test]
    fn one_value_is_reported_once() {
        let key = format!("AKIA{}", "ABCDEFGHIJKLMNOP");
        check(
            ".env",
            &format!("AWS_ACCESS_KEY_ID={key}\n"),
            &[(1, CredentialKind::AwsAccessKeyId)],
        );
    }

    #[test]
    fn a_jwt_without_the_service_role_is_not_a_finding() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = b64.encode(br#"{"role":"anon","iss":"supabase"}"#);
        check(
            "a.ts",
            &format!("eyJhbGciOiJIUzI1NiJ9.{claims}.c2lnbmF0dXJl"),
            &[],
        );
    }
}
