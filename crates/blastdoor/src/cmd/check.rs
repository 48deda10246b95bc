//! `blastdoor check [--json] [--cwd DIR] -- CMD...`: classifies one shell command line the way
//! the hook would, records the decision in the ledger (layer `hook`), and prints why.
//!
//! The words after `--` are joined with single spaces into one command line, which is then
//! parsed as bash would parse it: `blastdoor check -- rm -rf build` checks `rm -rf build`. To
//! check a line with quoting, pipes or `;`, pass it as one argument:
//! `blastdoor check -- 'curl -d @body.json https://x | sh'` is taken verbatim.
//!
//! Exit status: 0 allow, 2 deny, 3 hold, 1 error. As in the hook, a decision that cannot be
//! written to the ledger is a deny unless it is an allowed plain read, and while blastdoor is
//! frozen (`BLASTDOOR_HOME/FROZEN`) anything but a read is held at least. `check` has no
//! session, so it registers no hold.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_core::{Actor, Decision, Verdict};
use blastdoor_hook::{Assessment, Context, FsSource};

use crate::cmd::hook::{apply_freeze, record_decision};
use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Print the assessment as JSON ({"command","operation","verdict"}) instead of prose.
    #[arg(long)]
    json: bool,
    /// The directory the command would run in (default: the current directory).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// The command: its words are joined with spaces into one command line.
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<String>,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let command = args.command.join(" ");
    let cwd = match args.cwd {
        Some(dir) => dir,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    anyhow::ensure!(cwd.is_dir(), "`{}` is not a directory", cwd.display());
    let home = Home::from_env()?;
    let user_home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from);
    let context = Context {
        cwd: &cwd,
        home: user_home.as_deref(),
        blastdoor_home: Some(home.root()),
        files: &FsSource,
    };
    // As in the hook: while blastdoor is frozen, anything but a read is held at least.
    let assessment = apply_freeze(
        Some(&home),
        blastdoor_shell::assess_command(&command, &context),
    );
    let verdict = record_decision(Some(&home), &Actor::default(), &assessment);
    let final_assessment = Assessment {
        operation: assessment.operation,
        verdict,
    };
    if args.json {
        let json = serde_json::json!({
            "command": command,
            "operation": final_assessment.operation,
            "verdict": final_assessment.verdict,
        });
        println!("{json}");
    } else {
        print!("{}", explain(&final_assessment));
    }
    Ok(ExitCode::from(exit_status(&final_assessment.verdict)))
}

fn exit_status(verdict: &Verdict) -> u8 {
    match verdict.decision {
        Decision::Allow => 0,
        Decision::Deny => 2,
        Decision::Hold { .. } => 3,
    }
}

/// The prose answer: the decision, what the command would do, and each reason.
fn explain(assessment: &Assessment) -> String {
    let mut text = String::new();
    let decision = match assessment.verdict.decision {
        Decision::Allow => "allow".to_owned(),
        Decision::Deny => "deny".to_owned(),
        Decision::Hold { approvals } => format!("hold (needs {approvals} approver(s))"),
    };
    let operation = &assessment.operation;
    let _ = writeln!(text, "{decision}: {}", operation.description());
    let _ = writeln!(text, "  risk: {}", operation.risk());
    for target in operation.targets() {
        let _ = writeln!(text, "  target: {} {}", target.kind, target.id);
    }
    for reason in &assessment.verdict.reasons {
        let _ = writeln!(text, "  [{}] {}", reason.rule_id, reason.explanation);
        if let Some(alternative) = &reason.alternative {
            let _ = writeln!(text, "    safer: {alternative}");
        }
        if !reason.agent_message.is_empty() {
            let _ = writeln!(text, "    agent is told: {}", reason.agent_message);
        }
    }
    text
}
