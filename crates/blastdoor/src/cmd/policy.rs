//! `blastdoor policy validate` (check the policy set against the schema) and `blastdoor policy
//! test` (explain the decision for a described operation, one line per environment). The
//! decision itself is `blastdoor-policy`'s; this module only reads arguments and prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_core::{AgentName, Decision, Environment, Layer, Risk, RuleId, Target};
use blastdoor_policy::{PolicyDecision, PolicyEngine, PolicyError, PolicyRequest};
use serde::{Deserialize, Serialize};

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Check BLASTDOOR_HOME/policies/*.cedar against the schema; exit 0 when valid, 1 otherwise.
    Validate(ValidateArgs),
    /// Decide a described operation and explain the verdict; exit 0 allow, 2 deny, 3 hold.
    Test(Box<TestArgs>),
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// The policy directory (default: BLASTDOOR_HOME/policies).
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// The agent asking (as named in its capability token).
    #[arg(long)]
    agent: Option<String>,
    /// The risk class: read, write, destroy, execute, escalate or unknown.
    #[arg(long)]
    risk: Option<String>,
    /// An environment the target lives in (repeat, or separate with commas); none means unknown.
    #[arg(long = "env", value_name = "ENV", value_delimiter = ',')]
    environments: Vec<String>,
    /// What sort of resource (`volume`, `service`, `database`, ...).
    #[arg(long)]
    kind: Option<String>,
    /// The resource's id as the upstream names it.
    #[arg(long)]
    id: Option<String>,
    /// The upstream the resource belongs to (`railway`).
    #[arg(long)]
    upstream: Option<String>,
    /// The task the agent declared.
    #[arg(long)]
    task: Option<String>,
    /// Decide as if `blastdoor freeze` were in force.
    #[arg(long)]
    frozen: bool,
    /// A classifier rule id that fired (repeat, or separate with commas).
    #[arg(long = "rule", value_name = "RULE_ID", value_delimiter = ',')]
    rule_ids: Vec<String>,
    /// The layer asking: hook, gateway, sql, approval or system (default: gateway).
    #[arg(long)]
    layer: Option<String>,
    /// The time of the request in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<i64>,
    /// Read the operation from a JSON file (`-` for stdin) with the same fields as the flags:
    /// {"agent", "risk", "environments", "kind", "id", "upstream", "task", "frozen", "rule_ids",
    /// "layer", "now"}; flags given as well override the file.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The policy directory (default: BLASTDOOR_HOME/policies).
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: PolicyArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PolicyCommand::Validate(args) => validate(args),
        PolicyCommand::Test(args) => test(*args),
    }
}

/// Where the policies came from, for the user.
enum Source {
    Directory(PathBuf),
    /// The directory does not exist: the built-in defaults are used.
    Defaults(PathBuf),
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::Directory(dir) => dir.display().to_string(),
            Source::Defaults(_) => "the built-in default policies".to_owned(),
        }
    }
}

fn policy_source(explicit: Option<PathBuf>) -> anyhow::Result<Source> {
    if let Some(dir) = explicit {
        return Ok(Source::Directory(dir));
    }
    let dir = Home::from_env()?.policies_dir();
    if dir.exists() {
        Ok(Source::Directory(dir))
    } else {
        Ok(Source::Defaults(dir))
    }
}

fn load(source: &Source) -> Result<PolicyEngine, PolicyError> {
    match source {
        Source::Directory(dir) => PolicyEngine::from_dir(dir),
        Source::Defaults(dir) => {
            eprintln!(
                "note: `{}` does not exist; using the built-in default policies (`blastdoor init` writes them)",
                dir.display()
            );
            PolicyEngine::default_policies()
        }
    }
}

#[derive(Serialize)]
struct ValidateReport {
    valid: bool,
    source: String,
    policies: Vec<String>,
    problems: Vec<ProblemReport>,
}

#[derive(Serialize)]
struct ProblemReport {
    file: String,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let source = policy_source(args.policies)?;
    let result = load(&source);
    if args.json {
        let report = match &result {
            Ok(engine) => ValidateReport {
                valid: true,
                source: source.describe(),
                policies: engine
                    .policy_ids()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                problems: Vec::new(),
            },
            Err(error) => ValidateReport {
                valid: false,
                source: source.describe(),
                policies: Vec::new(),
                problems: problem_reports(error),
            },
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(if result.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    match result {
        Ok(engine) => {
            println!(
                "ok: {} policies in {} match the schema",
                engine.policy_ids().len(),
                source.describe()
            );
            for id in engine.policy_ids() {
                println!("  {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

fn problem_reports(error: &PolicyError) -> Vec<ProblemReport> {
    match error {
        PolicyError::Invalid(problems) => problems
            .iter()
            .map(|problem| ProblemReport {
                file: problem.file.clone(),
                line: problem.position.map(|(line, _)| line),
                column: problem.position.map(|(_, column)| column),
                message: problem.message.clone(),
            })
            .collect(),
        other => vec![ProblemReport {
            file: String::new(),
            line: None,
            column: None,
            message: other.to_string(),
        }],
    }
}

/// The operation as a JSON file describes it (`--input`); every field optional but `risk`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperation {
    agent: Option<String>,
    risk: Option<String>,
    #[serde(default)]
    environments: Vec<String>,
    kind: Option<String>,
    id: Option<String>,
    upstream: Option<String>,
    task: Option<String>,
    #[serde(default)]
    frozen: bool,
    #[serde(default)]
    rule_ids: Vec<String>,
    layer: Option<String>,
    now: Option<i64>,
}

#[derive(Serialize)]
struct TestReport<'a> {
    policies: String,
    risk: Risk,
    frozen: bool,
    #[serde(flatten)]
    decision: &'a PolicyDecision,
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let raw = match &args.input {
        Some(path) => read_operation(path)?,
        None => RawOperation::default(),
    };
    let request = build_request(&args, raw)?;
    let source = policy_source(args.policies.clone())?;
    let engine = load(&source)?;
    let decision = engine.decide(&request);
    if args.json {
        let report = TestReport {
            policies: source.describe(),
            risk: request.risk,
            frozen: request.frozen,
            decision: &decision,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_decision(&request, &decision);
    }
    Ok(exit_code(decision.verdict.decision))
}

fn read_operation(path: &Path) -> anyhow::Result<RawOperation> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read the operation from stdin")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read `{}`", path.display()))?
    };
    serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not a valid operation", path.display()))
}

/// Flags override the file; the result is checked field by field with clear errors.
fn build_request(args: &TestArgs, raw: RawOperation) -> anyhow::Result<PolicyRequest> {
    let risk_text = args
        .risk
        .clone()
        .or(raw.risk)
        .context("say what the operation risks with `--risk` (read, write, destroy, execute, escalate or unknown)")?;
    let risk: Risk = risk_text.parse()?;
    let agent = args
        .agent
        .clone()
        .or(raw.agent)
        .map(AgentName::new)
        .transpose()?;
    let environment_names = if args.environments.is_empty() {
        raw.environments
    } else {
        args.environments.clone()
    };
    let environments = environment_names
        .iter()
        .map(|name| Environment::parse(name.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let rule_names = if args.rule_ids.is_empty() {
        raw.rule_ids
    } else {
        args.rule_ids.clone()
    };
    let rule_ids = rule_names
        .iter()
        .map(|name| RuleId::new(name.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let layer = match args.layer.clone().or(raw.layer).as_deref() {
        None | Some("gateway") => Layer::Gateway,
        Some("hook") => Layer::Hook,
        Some("sql") => Layer::Sql,
        Some("approval") => Layer::Approval,
        Some("system") => Layer::System,
        Some(other) => anyhow::bail!(
            "unknown layer `{other}` (expected hook, gateway, sql, approval or system)"
        ),
    };
    let now_unix = match args.now.or(raw.now) {
        Some(now) => now,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0),
    };
    let mut target = Target::new(
        args.kind
            .clone()
            .or(raw.kind)
            .unwrap_or_else(|| "resource".to_owned()),
        args.id.clone().or(raw.id).unwrap_or_default(),
        environments,
    );
    if let Some(upstream) = args.upstream.clone().or(raw.upstream) {
        target = target.on_upstream(upstream);
    }
    Ok(PolicyRequest {
        agent,
        risk,
        target,
        task: args.task.clone().or(raw.task),
        now_unix,
        rule_ids,
        frozen: args.frozen || raw.frozen,
        layer,
    })
}

fn describe(decision: Decision) -> String {
    match decision {
        Decision::Allow => "allow".to_owned(),
        Decision::Deny => "deny".to_owned(),
        Decision::Hold { approvals } if approvals.get() == 1 => "hold (1 approval)".to_owned(),
        Decision::Hold { approvals } => format!("hold ({approvals} approvals)"),
    }
}

fn print_decision(request: &PolicyRequest, decision: &PolicyDecision) {
    let frozen = if request.frozen { ", frozen" } else { "" };
    let target = if request.target.id.is_empty() {
        request.target.kind.clone()
    } else {
        format!("{} `{}`", request.target.kind, request.target.id)
    };
    println!(
        "verdict: {} for {} on {target}{frozen}",
        describe(decision.verdict.decision),
        request.risk,
    );
    if request.target.environments.is_empty() {
        println!("  (no environment given: decided as `unknown`, never looser than production)");
    }
    for answer in &decision.environments {
        let policies: Vec<&str> = answer.determining.iter().map(RuleId::as_str).collect();
        let policies = if policies.is_empty() {
            answer
                .verdict
                .reasons
                .iter()
                .map(|reason| reason.rule_id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            policies.join(", ")
        };
        println!(
            "  {:<14} {:<20} {policies}",
            answer.environment.as_str(),
            describe(answer.verdict.decision)
        );
    }
    println!("reasons:");
    for reason in &decision.verdict.reasons {
        println!("  {}: {}", reason.rule_id, reason.explanation);
        if let Some(alternative) = &reason.alternative {
            println!("    safer: {alternative}");
        }
        println!("    the agent is told: {}", reason.agent_message);
    }
}

/// The same exit codes as `blastdoor check`: 0 allow, 2 deny, 3 hold.
fn exit_code(decision: Decision) -> ExitCode {
    match decision {
        Decision::Allow => ExitCode::SUCCESS,
        Decision::Deny => ExitCode::from(2),
        Decision::Hold { .. } => ExitCode::from(3),
    }
}
