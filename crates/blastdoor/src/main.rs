//! The `blastdoor` command line: one binary for every layer (see `docs/design.md`'s
//! command-line contract). stdout carries data only; logs and errors go to stderr.
//!
//! This crate parses arguments, resolves `BLASTDOOR_HOME` and calls into the library crates.
//! It must not hold decision logic of its own: classification, policy, the ledger and the
//! broker live in their crates, where they are tested without a process around them.

mod cmd;

// `crate::home` for the command modules: the library's, shared with the lean hook binary.
use blastdoor::home;

use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: the gateway's requests allocate and free on every
/// worker thread, and glibc's arenas cost it about a fifth of its throughput (measured with
/// `scripts/bench-gateway`, see `docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Keeps AI coding agents from doing irreversible damage to production.
#[derive(Debug, Parser)]
#[command(name = "blastdoor", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a working default config, policies and keys into BLASTDOOR_HOME (idempotent).
    Init(cmd::init::InitArgs),
    /// The tamper-evident audit ledger.
    Audit(cmd::audit::AuditArgs),
    /// Classify a shell command; exit 0 allow, 2 deny, 3 hold, 1 error.
    Check(cmd::check::CheckArgs),
    /// The agent hook: harness JSON on stdin, the harness's verdict JSON on stdout.
    Hook(cmd::hook::HookArgs),
    /// Register the hook in a harness's settings, with its fail-closed switch on.
    Install(cmd::install::InstallArgs),
    /// Check the deployment for hazards (hooks missing, raw credentials, readable state).
    Doctor(cmd::doctor::DoctorArgs),
    /// Upstream credentials, stored encrypted.
    Secret(cmd::secret::SecretArgs),
    /// Capability tokens for agents.
    Token(cmd::token::TokenArgs),
    /// Explain a decision, or check the policy set against the schema.
    Policy(cmd::policy::PolicyArgs),
    /// Find raw credentials an agent could read.
    Scan(cmd::scan::ScanArgs),
    /// Human approvers (TOTP).
    Approver(cmd::approvals::ApproverArgs),
    /// List the holds waiting for approval.
    Holds(cmd::approvals::HoldsArgs),
    /// Approve a held operation (needs the approver's current code).
    Approve(cmd::approvals::ApproveArgs),
    /// Refuse a held operation.
    Deny(cmd::approvals::DenyArgs),
    /// Cancel a held or approved operation before it runs.
    Cancel(cmd::approvals::CancelArgs),
    /// Kill switch: hold every non-read operation of every layer.
    Freeze(cmd::approvals::FreezeArgs),
    /// Lift a freeze (needs an approver's code).
    Thaw(cmd::approvals::ThawArgs),
    /// Isolated snapshots taken before destruction.
    Snapshots(cmd::snapshots::SnapshotsArgs),
    /// Restore a snapshot into a database.
    Restore(cmd::snapshots::RestoreArgs),
    /// Run the gateway, with the approval UI at /ui and metrics at /metrics, from the config.
    Serve(cmd::serve::ServeArgs),
}

fn main() -> ExitCode {
    if let Some(harness) = hook_fast_path() {
        return cmd::hook::run(cmd::hook::HookArgs::new(harness));
    }
    let cli = Cli::parse();
    // The hook answers on stdout in its harness's format whatever happens, so it runs before
    // any logging set-up and turns every failure into a deny itself.
    if let Command::Hook(args) = cli.command {
        return cmd::hook::run(args);
    }
    init_logging();
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(args),
        Command::Audit(args) => cmd::audit::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Hook(args) => Ok(cmd::hook::run(args)),
        Command::Install(args) => cmd::install::run(args),
        Command::Doctor(args) => cmd::doctor::run(args),
        Command::Secret(args) => cmd::secret::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Policy(args) => cmd::policy::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Snapshots(args) => cmd::snapshots::run_snapshots(args),
        Command::Restore(args) => cmd::snapshots::run_restore(args),
        Command::Approver(args) => cmd::approvals::run_approver(args),
        Command::Holds(args) => cmd::approvals::run_holds(args),
        Command::Approve(args) => cmd::approvals::run_approve(args),
        Command::Deny(args) => cmd::approvals::run_deny(args),
        Command::Cancel(args) => cmd::approvals::run_cancel(args),
        Command::Freeze(args) => cmd::approvals::run_freeze(args),
        Command::Thaw(args) => cmd::approvals::run_thaw(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// `blastdoor hook HARNESS` exactly: the harness, without building clap's whole command tree.
/// The hook runs once per agent tool call and process start-up is its whole budget; anything
/// else (help, a typo) goes through clap as usual.
fn hook_fast_path() -> Option<cmd::hook::HarnessArg> {
    use clap::ValueEnum as _;
    let mut args = std::env::args_os().skip(1);
    let (command, harness) = (args.next()?, args.next()?);
    if command != "hook" || args.next().is_some() {
        return None;
    }
    cmd::hook::HarnessArg::from_str(harness.to_str()?, false).ok()
}

/// Logs go to stderr; `BLASTDOOR_LOG=debug` (or `trace`, `info`, `warn`, `error`) sets the level.
fn init_logging() {
    let level = match std::env::var("BLASTDOOR_LOG").as_deref() {
        Ok("trace") => tracing::Level::TRACE,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("info") => tracing::Level::INFO,
        Ok("error") => tracing::Level::ERROR,
        _ => tracing::Level::WARN,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
}
