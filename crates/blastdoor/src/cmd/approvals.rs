//! `blastdoor approver add/list/rm`, `holds`, `approve`, `deny`, `cancel`, `freeze`, `thaw`:
//! the human side of approvals, over `blastdoor-approval`'s store in `BLASTDOOR_HOME`.
//!
//! Decisions taken here:
//! - `approver add` prints the enrolment secret (the `otpauth://` URI and its QR code) once, on
//!   stdout, and only when stdout is a terminal or `--show-secret` is given; otherwise it
//!   refuses before enrolling, so a seed never lands in a pipe or log by accident.
//! - `approve`, `deny` and `thaw` need the approver's current code: from `--code`, or asked for
//!   on the terminal; with neither they refuse. `deny` needs a code because it is recorded under
//!   an approver's name; `cancel` is the code-free way for anyone with access to
//!   `BLASTDOOR_HOME` to stop a hold, and `freeze` needs no code either: both only make things
//!   safer.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use blastdoor_approval::{
    ApprovalProgress, Hold, HoldState, HoldStore, PendingCount, StorePaths, validate_approver_name,
};
use blastdoor_broker::TokenRegistry;
use blastdoor_core::{AgentName, redact_known_secrets};

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct ApproverArgs {
    #[command(subcommand)]
    command: ApproverCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ApproverCommand {
    /// Enrol a human approver with TOTP; prints the otpauth:// URI and a QR code, once.
    Add {
        /// 1 to 64 letters, digits, `-`, `_`, `.`; must not be an agent's name.
        name: String,
        /// Print the enrolment secret even when stdout is not a terminal.
        #[arg(long)]
        show_secret: bool,
    },
    /// List approvers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an approver (their past approvals stay in the ledger).
    Rm { name: String },
}

pub fn run_approver(args: ApproverArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    match args.command {
        ApproverCommand::Add { name, show_secret } => {
            validate_approver_name(&name)?;
            if !show_secret && !std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "stdout is not a terminal: the enrolment secret would go into a pipe or a file; \
                     run on a terminal, or pass --show-secret if that is what you want (nothing was enrolled)"
                );
            }
            let agents = agent_names(&home)?;
            blastdoor_broker::init(&home.keys_dir())?;
            let store = open_store(&home)?;
            let enrolment = store.add_approver(&name, &agents, now_unix())?;
            let uri = enrolment.otpauth_uri.expose_secret();
            let qr = qrcode::QrCode::new(uri.as_bytes())
                .map(|code| {
                    code.render::<qrcode::render::unicode::Dense1x2>()
                        .dark_color(qrcode::render::unicode::Dense1x2::Light)
                        .light_color(qrcode::render::unicode::Dense1x2::Dark)
                        .build()
                })
                .unwrap_or_default();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "Enrolled approver `{name}`. Scan this with an authenticator app."
            )?;
            writeln!(
                out,
                "This is the enrolment secret: it is shown now and never again.\n"
            )?;
            writeln!(out, "{qr}")?;
            writeln!(out, "{uri}")?;
            eprintln!("approver `{name}` enrolled (recorded in the ledger)");
        }
        ApproverCommand::List { json } => {
            let store = open_store(&home)?;
            let approvers = store.approvers()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&approvers)?);
            } else if approvers.is_empty() {
                println!("no approvers (add one with `blastdoor approver add NAME`)");
            } else {
                for approver in approvers {
                    let last = approver
                        .last_code_at
                        .map(|at| format!("last code used {} ago", duration_words(now_unix() - at)))
                        .unwrap_or_else(|| "no code used yet".to_owned());
                    println!(
                        "{}\tenrolled {} ago\t{last}",
                        approver.name,
                        duration_words(now_unix() - approver.created_at)
                    );
                }
            }
        }
        ApproverCommand::Rm { name } => {
            let store = open_store(&home)?;
            store.remove_approver(&name, now_unix())?;
            eprintln!("approver `{name}` removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct HoldsArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Include holds that are finished (denied, expired, executed, cancelled).
    #[arg(long)]
    all: bool,
    /// Only the holds this agent asked for.
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Only how many holds wait for a decision, per agent and in all (every agent's).
    #[arg(long)]
    counts: bool,
}

pub fn run_holds(args: HoldsArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let (store, config) = open_store_and_config(&home)?;
    let cap = config.approvals.max_pending_per_agent.get();
    let now = now_unix();
    let agent = args
        .agent
        .as_deref()
        .map(|name| {
            AgentName::new(name).map_err(|_| {
                anyhow::anyhow!(
                    "`--agent {name}` is not an agent name (letters, digits, `-`, `_`, `.`, `@`)"
                )
            })
        })
        .transpose()?;
    let counts = store.pending_counts(now)?;
    if args.counts {
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&counts_json(&counts, cap))?
            );
        } else {
            print!("{}", counts_text(&counts, cap));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut holds = store.holds(args.all)?;
    if let Some(agent) = &agent {
        holds.retain(|hold| hold.agent.as_ref() == Some(agent));
    }
    if args.json {
        let views: Vec<serde_json::Value> = holds
            .iter()
            .map(|hold| hold_json(hold, now))
            .collect::<anyhow::Result<_>>()?;
        println!("{}", serde_json::to_string_pretty(&views)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(freeze) = store.freeze_status()? {
        println!(
            "FROZEN by {} {} ago: {} (every non-read operation is held; `blastdoor thaw` lifts it)\n",
            freeze.frozen_by,
            duration_words(now - freeze.frozen_at),
            freeze.reason
        );
    }
    if !counts.is_empty() {
        println!("{}", counts_text(&counts, cap));
    }
    if let Some(agent) = &agent {
        println!("holds of {agent} only (`blastdoor holds` shows every agent's)\n");
    }
    if holds.is_empty() {
        println!(
            "{}",
            match (args.all, &agent) {
                (true, None) => "no holds".to_owned(),
                (false, None) => "no holds waiting for approval".to_owned(),
                (true, Some(agent)) => format!("no holds of {agent}"),
                (false, Some(agent)) => format!("no holds of {agent} waiting for approval"),
            }
        );
    }
    for hold in &holds {
        print!("{}", hold_text(hold, now));
    }
    Ok(ExitCode::SUCCESS)
}

/// How many holds wait for a decision, in all and per agent (most first), with the agents at
/// the gateway's cap marked.
fn counts_text(counts: &[PendingCount], cap: u32) -> String {
    let total: u64 = counts.iter().map(|count| count.pending).sum();
    let mut text = format!(
        "waiting for a decision: {total} in all ({cap} per agent at most; `--agent NAME` shows one agent's)\n"
    );
    for count in counts {
        let agent = count
            .agent
            .as_ref()
            .map(|agent| agent.as_str())
            .unwrap_or("unknown agent");
        let full = if count.pending >= u64::from(cap) {
            "  (full: its new holds are refused until some are decided)"
        } else {
            ""
        };
        text.push_str(&format!("  {:>5}  {agent}{full}\n", count.pending));
    }
    text
}

/// [`counts_text`] as JSON: `{"pending": N, "max_pending_per_agent": CAP, "agents":
/// [{"agent": NAME or null, "pending": N}, ...]}`.
fn counts_json(counts: &[PendingCount], cap: u32) -> serde_json::Value {
    let total: u64 = counts.iter().map(|count| count.pending).sum();
    serde_json::json!({
        "pending": total,
        "max_pending_per_agent": cap,
        "agents": counts,
    })
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The hold id (`hold_...`).
    id: String,
    /// The approver's name.
    #[arg(long = "as", value_name = "NAME")]
    approver: String,
    /// The current code from the approver's authenticator; `-` reads it from standard input
    /// (keeps it out of `ps`); asked for on a terminal if absent.
    #[arg(long)]
    code: Option<String>,
}

pub fn run_approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store = open_store(&home)?;
    let hold = store.hold(&args.id)?;
    // The approver sees exactly what they approve (redacted) before giving a code.
    eprint!("{}", hold_text(&hold, now_unix()));
    let code = code_from(args.code, &args.approver)?;
    let (hold, progress) = store.approve(&args.id, &args.approver, &code, now_unix())?;
    match progress {
        ApprovalProgress::Approved => println!(
            "approved {}: it may now run once, when the agent re-sends the identical request",
            hold.id
        ),
        ApprovalProgress::StillPending { given, required } => {
            println!(
                "approval recorded for {}: {given} of {required}; still pending",
                hold.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct DenyArgs {
    id: String,
    #[arg(long = "as", value_name = "NAME")]
    approver: String,
    /// Why; recorded in the hold and the ledger, shown to whoever asked.
    #[arg(long)]
    reason: String,
    /// The approver's current code; `-` reads it from standard input; asked for on a terminal
    /// if absent.
    #[arg(long)]
    code: Option<String>,
}

pub fn run_deny(args: DenyArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store = open_store(&home)?;
    let hold = store.hold(&args.id)?;
    eprint!("{}", hold_text(&hold, now_unix()));
    let code = code_from(args.code, &args.approver)?;
    let hold = store.deny(&args.id, &args.approver, &code, &args.reason, now_unix())?;
    println!("denied {}: it will never run", hold.id);
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    id: String,
    /// Who is cancelling, for the ledger (default: $USER).
    #[arg(long = "as", value_name = "NAME")]
    by: Option<String>,
}

pub fn run_cancel(args: CancelArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store = open_store(&home)?;
    let hold = store.cancel(&args.id, &who(args.by), now_unix())?;
    println!("cancelled {}: it will never run", hold.id);
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct FreezeArgs {
    /// Why; shown in `blastdoor holds` and recorded in the ledger.
    #[arg(long, default_value = "no reason given")]
    reason: String,
    /// Who is freezing, for the ledger (default: $USER).
    #[arg(long = "as", value_name = "NAME")]
    by: Option<String>,
}

pub fn run_freeze(args: FreezeArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store = open_store(&home)?;
    let status = store.freeze(&who(args.by), &args.reason, now_unix())?;
    println!(
        "frozen (by {}): every non-read operation of every layer is held until `blastdoor thaw --as NAME`",
        status.frozen_by
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct ThawArgs {
    #[arg(long = "as", value_name = "NAME")]
    approver: String,
    /// The approver's current code; `-` reads it from standard input; asked for on a terminal
    /// if absent.
    #[arg(long)]
    code: Option<String>,
}

pub fn run_thaw(args: ThawArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store = open_store(&home)?;
    let code = code_from(args.code, &args.approver)?;
    store.thaw(&args.approver, &code, now_unix())?;
    println!("thawed by {}", args.approver);
    Ok(ExitCode::SUCCESS)
}

/// The store at the paths the gateway uses: `[state] path` and `[ledger] path` of the config
/// (by default `BLASTDOOR_HOME/state.sqlite` and `BLASTDOOR_HOME/ledger.sqlite`).
fn open_store(home: &Home) -> anyhow::Result<HoldStore> {
    open_store_and_config(home).map(|(store, _)| store)
}

/// [`open_store`], and the configuration it was opened from.
fn open_store_and_config(home: &Home) -> anyhow::Result<(HoldStore, blastdoor_config::Config)> {
    let config = blastdoor_config::load_or_default(&home.config_file())?;
    let ledger = blastdoor_audit::Ledger::open_or_create(&config.ledger.path)
        .with_context(|| format!("cannot open the ledger `{}`", config.ledger.path.display()))?;
    let paths = StorePaths {
        state_db: config.state.path.clone(),
        ..StorePaths::in_home(home.root())
    };
    let store = HoldStore::open(paths, Arc::new(ledger)).with_context(|| {
        format!(
            "cannot open the approval state `{}`",
            config.state.path.display()
        )
    })?;
    Ok((store, config))
}

fn now_unix() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

fn who(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var("USER").ok())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Agent names from the token registry; approvers may not share them.
fn agent_names(home: &Home) -> anyhow::Result<Vec<String>> {
    let registry = TokenRegistry::open(&home.root().join("tokens.json"))?;
    Ok(registry
        .records()
        .iter()
        .map(|record| record.agent.as_str().to_owned())
        .collect())
}

/// The code from `--code`, from standard input with `--code -` (so it stays out of `ps`), or
/// asked for on the terminal; refuses when none is possible.
fn code_from(given: Option<String>, approver: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    match given.as_deref() {
        Some("-") => {
            let mut line = String::new();
            stdin.lock().read_line(&mut line)?;
            let code = line.trim().to_owned();
            if code.is_empty() {
                anyhow::bail!("no code: `--code -` read nothing from standard input");
            }
            return Ok(code);
        }
        Some(code) => return Ok(code.to_owned()),
        None => {}
    }
    if !stdin.is_terminal() {
        anyhow::bail!("no code: pass --code CODE, or run on a terminal to be asked for it");
    }
    eprint!("code from {approver}'s authenticator: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// A hold for people, several lines.
fn hold_text(hold: &Hold, now: i64) -> String {
    let mut text = String::new();
    let state = match hold.state {
        HoldState::Pending | HoldState::Approved if hold.is_due_to_expire(now) => {
            "EXPIRED".to_owned()
        }
        state => state.as_str().to_uppercase(),
    };
    let approvers = if hold.approvals.is_empty() {
        String::new()
    } else {
        format!(" ({})", hold.approvers().join(", "))
    };
    let timing = if hold.state.is_final() || hold.is_due_to_expire(now) {
        format!("created {} ago", duration_words(now - hold.created_at))
    } else {
        format!("expires in {}", duration_words(hold.expires_at - now))
    };
    text.push_str(&format!(
        "{}  {state}  approvals {}/{}{approvers}  {timing}\n",
        hold.id,
        hold.approvals.len(),
        hold.approvals_required
    ));
    text.push_str(&format!("  {}\n", hold.summary));
    let live = !hold.state.is_final() && !hold.is_due_to_expire(now);
    match hold.not_before.filter(|opens_at| *opens_at > now) {
        Some(opens_at) if live && hold.state == HoldState::Approved => {
            text.push_str(&format!(
                "  cooling off: approved — executable in {} (at {}); `blastdoor cancel {}` stops it\n",
                duration_words(opens_at - now),
                utc_clock(opens_at),
                hold.id
            ));
        }
        Some(opens_at) if live => {
            text.push_str(&format!(
                "  not before: {} (in {})\n",
                utc_clock(opens_at),
                duration_words(opens_at - now)
            ));
        }
        _ => {}
    }
    if live && hold.state == HoldState::Pending && hold.cooling_off_secs > 0 {
        text.push_str(&format!(
            "  cooling off: executable {} after the last approval\n",
            duration_words(hold.cooling_off_secs)
        ));
    }
    let agent = hold
        .agent
        .as_ref()
        .map(|agent| agent.as_str())
        .unwrap_or("unknown agent");
    let task = hold
        .task
        .as_deref()
        .map(|task| format!(", declared task \"{}\"", redact_known_secrets(task)))
        .unwrap_or_default();
    text.push_str(&format!("  asked by {agent}{task}\n"));
    text.push_str(&format!(
        "  request: {} {} {} ({})\n",
        hold.request.method,
        hold.request.upstream,
        redact_known_secrets(&hold.request.path),
        redact_known_secrets(&hold.description)
    ));
    for target in &hold.targets {
        let environments = if target.environments.is_empty() {
            "unknown environment".to_owned()
        } else {
            target
                .environments
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        text.push_str(&format!(
            "  target: {} {} ({environments})\n",
            target.kind,
            redact_known_secrets(&target.id)
        ));
    }
    let body = blastdoor_approval::redacted_body_text(&hold.request.body);
    if !body.is_empty() {
        let label = if hold.request.method == "SHELL" {
            "command"
        } else {
            "body"
        };
        text.push_str(&format!(
            "  {label} (credentials it is known to carry are redacted):\n"
        ));
        for line in body.lines() {
            text.push_str(&format!("    {line}\n"));
        }
    }
    for reason in &hold.reasons {
        text.push_str(&format!(
            "  why: {} — {}\n",
            reason.rule_id,
            redact_known_secrets(&reason.explanation)
        ));
    }
    if let Some(denial) = &hold.denial {
        text.push_str(&format!(
            "  denied by {}: {}\n",
            denial.approver, denial.reason
        ));
    }
    if let Some(outcome) = &hold.outcome {
        text.push_str(&format!(
            "  upstream answered {}: {}\n",
            outcome.status, outcome.summary
        ));
    }
    text.push('\n');
    text
}

/// A hold as JSON, with its body redacted and the countdown computed.
fn hold_json(hold: &Hold, now: i64) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(hold)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("approvals_given".to_owned(), hold.approvals.len().into());
        object.insert(
            "expires_in_secs".to_owned(),
            (hold.expires_at - now).max(0).into(),
        );
        object.insert("overdue".to_owned(), hold.is_due_to_expire(now).into());
        // Seconds until an approved hold may run (0: now; null: not approved or finished).
        let executable_in = (hold.state == HoldState::Approved && !hold.is_due_to_expire(now))
            .then(|| {
                hold.not_before
                    .map_or(0, |opens_at| (opens_at - now).max(0))
            });
        object.insert("executable_in_secs".to_owned(), executable_in.into());
    }
    // The stored request holds the body in clear (JSON text or base64 bytes): replace it
    // whole with the redacted view.
    if let Some(request) = value.pointer_mut("/request") {
        *request = blastdoor_approval::redacted_request_json(&hold.request);
    }
    Ok(value)
}

/// "HH:MM:SS UTC" of a unix time, with its date ("2026-11-25 10:14:03 UTC") when that is
/// not today.
fn utc_clock(unix: i64) -> String {
    let (days, seconds) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let clock = format!(
        "{:02}:{:02}:{:02} UTC",
        seconds / 3600,
        (seconds % 3600) / 60,
        seconds % 60
    );
    if days == now_unix().div_euclid(86_400) {
        return clock;
    }
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {clock}")
}

/// "42m 10s", "3h 2m", "5s".
fn duration_words(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (hours, minutes, secs) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {secs}s")
    } else {
        format!("{secs}s")
    }
}
