//! `blastdoor hook HARNESS`: the agent hook. Reads the harness's JSON from stdin, classifies
//! the tool call, appends the decision to the ledger, and prints the harness's answer.
//!
//! The runner lives in the package's library (`src/lib.rs`, [`blastdoor::run_hook`]) so that
//! the lean `blastdoor-hook HARNESS` binary, which `blastdoor install` registers when it sits
//! beside this one, answers byte for byte the same. This module holds the command-line side:
//! the clap arguments, and the harness names `blastdoor install` shares.

use std::process::ExitCode;

use blastdoor_hook::Harness;

pub use blastdoor::{apply_freeze, hook_durability, record_decision};

#[derive(Debug, clap::Args)]
pub struct HookArgs {
    /// The harness whose protocol to speak.
    #[arg(value_enum)]
    harness: HarnessArg,
}

impl HookArgs {
    /// The arguments of `blastdoor hook HARNESS`, for the fast path that skips clap.
    pub fn new(harness: HarnessArg) -> HookArgs {
        HookArgs { harness }
    }
}

/// The harnesses `blastdoor hook` and `blastdoor install` speak to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HarnessArg {
    /// Claude Code (PreToolUse).
    Claude,
    /// OpenAI Codex CLI (PreToolUse).
    Codex,
    /// Cursor (beforeShellExecution, beforeReadFile, beforeMCPExecution, preToolUse).
    Cursor,
    /// Gemini CLI (BeforeTool).
    Gemini,
    /// GitHub Copilot CLI (preToolUse).
    Copilot,
}

impl From<HarnessArg> for Harness {
    fn from(value: HarnessArg) -> Harness {
        match value {
            HarnessArg::Claude => Harness::Claude,
            HarnessArg::Codex => Harness::Codex,
            HarnessArg::Cursor => Harness::Cursor,
            HarnessArg::Gemini => Harness::Gemini,
            HarnessArg::Copilot => Harness::Copilot,
        }
    }
}

/// Runs the hook; always exits 0 with an answer in the harness's format.
pub fn run(args: HookArgs) -> ExitCode {
    blastdoor::run_hook(Harness::from(args.harness))
}
