//! `blastdoor hook HARNESS` (placeholder until its issue lands; see ARCHITECTURE.md).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct HookArgs {}

pub fn run(_args: HookArgs) -> ExitCode {
    ExitCode::from(2)
}
