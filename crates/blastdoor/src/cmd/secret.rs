//! `blastdoor secret` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SecretArgs {}

pub fn run(_args: SecretArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`blastdoor secret` is not built yet")
}
