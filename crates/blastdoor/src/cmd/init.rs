//! `blastdoor init` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct InitArgs {}

pub fn run(_args: InitArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor init` is not built yet")
}
