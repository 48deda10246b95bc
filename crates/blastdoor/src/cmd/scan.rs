//! `blastdoor scan` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ScanArgs {}

pub fn run(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor scan` is not built yet")
}
