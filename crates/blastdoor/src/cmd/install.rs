//! `blastdoor install` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {}

pub fn run(_args: InstallArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor install` is not built yet")
}
