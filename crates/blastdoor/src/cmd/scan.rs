//! `blastdoor scan [PATH] [--json]`: finds raw provider credentials an agent could read and
//! says how to replace each with a scoped blastdoor token. Prints fingerprints, never values.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use blastdoor_broker::scan::{CredentialKind, Finding, ScanOptions, scan_path};
use serde::Serialize;

/// Exit status: 0 when nothing was found, 1 when any credential was found, 2 on error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 nothing found, 1 credentials found, 2 error.\n\
Respects .gitignore; skips .git, binary files and files over --max-file-mb."
)]
pub struct ScanArgs {
    /// The directory (or file) to scan; the current directory by default.
    path: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Skip files larger than this many MiB.
    #[arg(long, default_value_t = 8)]
    max_file_mb: u64,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    advice: String,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    files_scanned: u64,
    bytes_scanned: u64,
    skipped_binary: u64,
    skipped_large: u64,
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    // Exit status 1 means "credentials found": an error must never look like it (nor like the
    // 0 of a clean tree), so every error is reported here and exits 2.
    match scan(args) {
        Ok(code) => Ok(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            Ok(ExitCode::from(2))
        }
    }
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let root = args.path.unwrap_or_else(|| PathBuf::from("."));
    let options = ScanOptions {
        max_file_bytes: args.max_file_mb.saturating_mul(1024 * 1024),
        threads: 0,
    };
    let report = scan_path(&root, &options)?;
    for (path, why) in &report.unreadable {
        eprintln!("warning: cannot read `{}`: {why}", path.display());
    }
    if args.json {
        let json = JsonReport {
            findings: report
                .findings
                .iter()
                .map(|finding| JsonFinding {
                    finding,
                    advice: finding.kind.advice(),
                })
                .collect(),
            files_scanned: report.files_scanned,
            bytes_scanned: report.bytes_scanned,
            skipped_binary: report.skipped_binary,
            skipped_large: report.skipped_large,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        for finding in &report.findings {
            writeln!(
                out,
                "{}:{}: {} {} ({})",
                finding.path.display(),
                finding.line,
                finding.kind.as_str(),
                finding.fingerprint,
                match finding.severity {
                    blastdoor_broker::scan::Severity::High => "raw credential",
                    blastdoor_broker::scan::Severity::Low => "scoped blastdoor token, low severity",
                }
            )?;
        }
        let kinds: BTreeSet<CredentialKind> =
            report.findings.iter().map(|finding| finding.kind).collect();
        if !kinds.is_empty() {
            writeln!(out)?;
            writeln!(out, "how to fix:")?;
            for kind in kinds {
                writeln!(out, "  {}: {}", kind.as_str(), kind.advice())?;
            }
        }
        eprintln!(
            "scanned {} files ({} bytes); {} finding(s)",
            report.files_scanned,
            report.bytes_scanned,
            report.findings.len()
        );
    }
    out.flush()?;
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
