//! `blastdoor token mint/list/revoke/attenuate/verify`: capability tokens for agents.
//!
//! Minting needs the root key (`BLASTDOOR_HOME/keys/token-root.key`, created on first use);
//! the registry (`BLASTDOOR_HOME/tokens.json`) records ids and scopes, never tokens.
//! Attenuation is offline: it needs no key. Verification needs only the public key.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use blastdoor_broker::{
    Narrowing, RootKey, RootPublicKey, Scope, TokenId, TokenRecord, TokenRegistry, TokenVerifier,
    UnverifiedToken, UpstreamName, attenuate, format_rfc3339, mint,
};
use blastdoor_core::{AgentName, Environment, EnvironmentName, Risk};
use serde::Serialize;

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Mint a token and print it alone on stdout.
    Mint {
        /// The agent's name, as it will appear in policy and the ledger.
        #[arg(long)]
        agent: String,
        /// Upstreams it may call (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        upstream: Vec<String>,
        /// Environments it may touch (comma-separated); `unknown` is never allowed.
        #[arg(long = "env", value_delimiter = ',', required = true)]
        environments: Vec<String>,
        /// Risk classes: read, read-secrets, write, execute, escalate, destroy (comma-separated).
        /// `read` never includes `read-secrets` (decrypted variables, credentials, tokens).
        #[arg(long, value_delimiter = ',', required = true)]
        risk: Vec<String>,
        /// Lifetime: a number and s, m, h or d (`8h`, `30m`, `2d`).
        #[arg(long)]
        ttl: String,
        /// The task the agent declared, carried in the token for the gateway and the ledger.
        #[arg(long)]
        task: Option<String>,
    },
    /// List minted tokens: id, agent, scope, expiry, status.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token (and every token attenuated from it) at once.
    Revoke {
        /// The token id, `tok_...`, from `blastdoor token list`.
        id: String,
    },
    /// Narrow a token offline and print the narrower token; it can never widen.
    Attenuate {
        /// The token, or `-` to read it from stdin.
        token: String,
        #[arg(long, value_delimiter = ',')]
        upstream: Option<Vec<String>>,
        #[arg(long = "env", value_delimiter = ',')]
        environments: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        risk: Option<Vec<String>>,
        #[arg(long)]
        ttl: Option<String>,
    },
    /// Verify a token (signature, revocation, expiry) and, given an operation, authorise it.
    /// Exit 0 when valid (and allowed), 1 otherwise.
    Verify {
        /// The token, or `-` to read it from stdin.
        token: String,
        #[arg(long, requires_all = ["environments", "risk"])]
        upstream: Option<String>,
        #[arg(long = "env", value_delimiter = ',')]
        environments: Option<Vec<String>>,
        #[arg(long)]
        risk: Option<String>,
    },
}

pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let now = unix_now()?;
    match args.command {
        TokenCommand::Mint {
            agent,
            upstream,
            environments,
            risk,
            ttl,
            task,
        } => {
            let agent = AgentName::new(agent)?;
            let ttl = parse_ttl(&ttl)?;
            let expires_at = now.checked_add(ttl).context("`--ttl` is too long")?;
            let scope = Scope::new(
                parse_upstreams(&upstream)?,
                parse_environments(&environments)?,
                parse_risks(&risk)?,
                expires_at,
            )?;
            blastdoor_broker::init(&home.keys_dir())?;
            let root = RootKey::load(&home.keys_dir())?;
            let minted = mint(&root, &agent, &scope, task.as_deref())?;
            let mut registry = TokenRegistry::open(&registry_path(&home))?;
            registry.record(TokenRecord {
                id: minted.token_id.clone(),
                agent: agent.clone(),
                upstreams: scope.upstreams().clone(),
                environments: scope.environments().clone(),
                risks: scope.risks().clone(),
                task,
                minted_at: now,
                expires_at,
                revocation_id: minted.revocation_id.clone(),
                revoked_at: None,
            })?;
            println!("{}", minted.text.expose_secret());
            eprintln!(
                "minted {} for agent `{agent}`, expires {}",
                minted.token_id,
                format_rfc3339(expires_at)
            );
        }
        TokenCommand::List { json } => {
            let registry = TokenRegistry::open(&registry_path(&home))?;
            let rows: Vec<ListedToken<'_>> = registry
                .records()
                .iter()
                .map(|record| ListedToken {
                    status: if record.revoked_at.is_some() {
                        "revoked"
                    } else if now > record.expires_at {
                        "expired"
                    } else {
                        "live"
                    },
                    expires: format_rfc3339(record.expires_at),
                    record,
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for row in &rows {
                    let record = row.record;
                    println!(
                        "{}\t{}\tupstream={}\tenv={}\trisk={}\texpires={}\t{}",
                        record.id,
                        record.agent,
                        join(record.upstreams.iter().map(UpstreamName::as_str)),
                        join(record.environments.iter().map(EnvironmentName::as_str)),
                        join(record.risks.iter().map(|risk| risk.as_str())),
                        row.expires,
                        row.status
                    );
                }
            }
        }
        TokenCommand::Revoke { id } => {
            let id = TokenId::new(id)?;
            let mut registry = TokenRegistry::open(&registry_path(&home))?;
            registry.revoke(&id, now)?;
            eprintln!("revoked {id} and every token attenuated from it");
        }
        TokenCommand::Attenuate {
            token,
            upstream,
            environments,
            risk,
            ttl,
        } => {
            let token = UnverifiedToken::parse(&read_token(&token)?)?;
            let expires_at = match ttl {
                Some(ttl) => Some(
                    now.checked_add(parse_ttl(&ttl)?)
                        .context("`--ttl` is too long")?,
                ),
                None => None,
            };
            let narrowing = Narrowing {
                upstreams: upstream.as_deref().map(parse_upstreams).transpose()?,
                environments: environments
                    .as_deref()
                    .map(parse_environments)
                    .transpose()?,
                risks: risk.as_deref().map(parse_risks).transpose()?,
                expires_at,
            };
            let attenuated = attenuate(&token, &narrowing)?;
            println!("{}", attenuated.expose_secret());
        }
        TokenCommand::Verify {
            token,
            upstream,
            environments,
            risk,
        } => {
            let token = UnverifiedToken::parse(&read_token(&token)?)?;
            let registry = TokenRegistry::open(&registry_path(&home))?;
            let verifier = TokenVerifier::new(
                RootPublicKey::load(&home.keys_dir())?,
                registry.revocations(),
            );
            let verified = match verifier.verify(&token, now) {
                Ok(verified) => verified,
                Err(error) => {
                    eprintln!("refused: {error}");
                    return Ok(ExitCode::from(1));
                }
            };
            if let (Some(upstream), Some(environments), Some(risk)) = (upstream, environments, risk)
            {
                let environments = environments
                    .iter()
                    .map(|name| Environment::parse(name))
                    .collect::<Result<Vec<_>, _>>()?;
                let risk: Risk = risk.parse()?;
                if let Err(error) =
                    verifier.authorize(&verified, &upstream, &environments, risk, now)
                {
                    eprintln!("refused: {error}");
                    return Ok(ExitCode::from(1));
                }
                println!(
                    "allowed: {} ({}) may {risk} on {upstream}",
                    verified.token_id(),
                    verified.agent()
                );
            } else {
                println!(
                    "valid: {} for agent `{}`, expires {}",
                    verified.token_id(),
                    verified.agent(),
                    format_rfc3339(verified.expires_at())
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ListedToken<'a> {
    #[serde(flatten)]
    record: &'a TokenRecord,
    expires: String,
    status: &'static str,
}

/// `BLASTDOOR_HOME/tokens.json`.
fn registry_path(home: &Home) -> PathBuf {
    home.root().join("tokens.json")
}

fn unix_now() -> anyhow::Result<u64> {
    Ok(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs())
}

fn read_token(argument: &str) -> anyhow::Result<String> {
    if argument != "-" {
        return Ok(argument.to_owned());
    }
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("cannot read the token from stdin")?;
    Ok(text)
}

/// `90s`, `30m`, `8h`, `2d` → seconds; at least one second, at most a year.
fn parse_ttl(text: &str) -> anyhow::Result<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        anyhow::anyhow!("invalid `--ttl` `{text}`: expected a number and s, m, h or d (`8h`)")
    })?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => anyhow::bail!("invalid `--ttl` `{text}`: the unit must be s, m, h or d (`8h`)"),
    };
    let seconds = number.saturating_mul(unit_seconds);
    if seconds == 0 || seconds > 366 * 86_400 {
        anyhow::bail!("invalid `--ttl` `{text}`: must be between 1s and 366d");
    }
    Ok(seconds)
}

fn parse_upstreams(names: &[String]) -> anyhow::Result<BTreeSet<UpstreamName>> {
    Ok(names
        .iter()
        .map(|name| UpstreamName::new(name.trim()))
        .collect::<Result<_, _>>()?)
}

fn parse_environments(names: &[String]) -> anyhow::Result<BTreeSet<EnvironmentName>> {
    Ok(names
        .iter()
        .map(|name| EnvironmentName::new(name.trim()))
        .collect::<Result<_, _>>()?)
}

fn parse_risks(names: &[String]) -> anyhow::Result<BTreeSet<Risk>> {
    Ok(names
        .iter()
        .map(|name| name.trim().parse::<Risk>())
        .collect::<Result<_, _>>()?)
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}
