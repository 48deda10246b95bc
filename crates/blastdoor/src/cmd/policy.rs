//! `blastdoor policy` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {}

pub fn run(_args: PolicyArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor policy` is not built yet")
}
