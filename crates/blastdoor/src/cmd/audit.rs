//! `blastdoor audit` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn run(_args: AuditArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor audit` is not built yet")
}
