//! `blastdoor-hook HARNESS`: the agent hook alone, the same runner as `blastdoor hook HARNESS`
//! (same answers, same ledger entries) in a binary that links only what the hook needs.
//!
//! A harness starts the hook once per tool call, so process start-up is its whole budget: the
//! full `blastdoor` binary also carries the gateway, the policy engine, TLS and an async
//! runtime, and loading and relocating all of that costs more than the hook's own work. This
//! binary must not grow an argument parser or anything the hook does not run; `blastdoor
//! install` registers it when it sits beside `blastdoor`.

use std::process::ExitCode;

const USAGE: &str = "usage: blastdoor-hook HARNESS (claude, codex, cursor, gemini or copilot)\n\
    The agent hook: the harness's JSON on stdin, its verdict JSON on stdout (the same as \
    `blastdoor hook HARNESS`). Register it with `blastdoor install HARNESS`.";

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let harness = match (args.next(), args.next()) {
        (Some(name), None) => name.to_str().and_then(blastdoor::harness_named),
        _ => None,
    };
    match harness {
        Some(harness) => blastdoor::run_hook(harness),
        None => {
            // Like `blastdoor hook` with a bad argument: a usage error, not an answer.
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
