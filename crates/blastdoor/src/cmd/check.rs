//! `blastdoor check` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {}

pub fn run(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor check` is not built yet")
}
