//! `blastdoor token` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {}

pub fn run(_args: TokenArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor token` is not built yet")
}
