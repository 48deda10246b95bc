//! `blastdoor snapshots list/verify/take` and `blastdoor restore ID --to DSN`: the isolated
//! snapshot store of `[snapshots]` in the config, by hand. Every take, verify and restore is
//! recorded in the ledger (layer `system`, with the snapshot id); a database URL given to
//! `restore` is never printed (only `host:port/database`) and never recorded.

use std::io::{IsTerminal as _, Read as _};
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_audit::{Ledger, Record};
use blastdoor_broker::SecretStore;
use blastdoor_config::Config;
use blastdoor_core::{
    Actor, Layer, Operation, OperationKind, Reason, Risk, RuleId, Secret, SnapshotId, Target,
    Verdict,
};
use blastdoor_snapshot::{
    LockMode, Manifest, ManifestSigner, ObjectLockPolicy, PgTarget, Progress, RestoreMode,
    Snapshotter,
};

use crate::home::Home;

/// Object Lock applied to snapshots in a bucket that has it: GOVERNANCE (only a principal with
/// the bypass permission, never an agent, can delete early) for 30 days.
const OBJECT_LOCK: ObjectLockPolicy = ObjectLockPolicy {
    mode: LockMode::Governance,
    retain_for_seconds: 30 * 86_400,
};

#[derive(Debug, clap::Args)]
pub struct SnapshotsArgs {
    #[command(subcommand)]
    command: SnapshotsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SnapshotsCommand {
    /// List the snapshots in the store (signatures checked, blobs not re-read).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Re-read a snapshot: signature, size, SHA-256, and `pg_restore --list` for dumps.
    Verify {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Take a snapshot of a `[[protect]]` entry now.
    Take {
        /// The protected resource's id, as in `[[protect]] resource`.
        #[arg(long)]
        resource: String,
        /// The upstream, when several entries protect resources with that id.
        #[arg(long)]
        upstream: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run_snapshots(args: SnapshotsArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let config = blastdoor_config::load_or_default(&home.config_file())?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let snapshotter = open_snapshotter(&home, &config).await?;
        match args.command {
            SnapshotsCommand::List { json } => list(&snapshotter, json).await,
            SnapshotsCommand::Verify { id, json } => {
                let id = SnapshotId::new(id)?;
                let result = snapshotter.verify(&id, Progress::Terminal).await;
                let (verdict, description) = match &result {
                    Ok(manifest) => (
                        allow("system.snapshot-verify", &manifest.summary())?,
                        format!("snapshot {id} verified"),
                    ),
                    Err(error) => (
                        deny("system.snapshot-verify", &error.to_string())?,
                        format!("snapshot {id} failed verification"),
                    ),
                };
                record(
                    &config,
                    Risk::Read,
                    &description,
                    vec![],
                    verdict,
                    Some(id.clone()),
                )?;
                let manifest = result?;
                print_manifest(&manifest, json)?;
                Ok(ExitCode::SUCCESS)
            }
            SnapshotsCommand::Take {
                resource,
                upstream,
                json,
            } => {
                let protect = protection(&config, &resource, upstream.as_deref())?;
                let target = Target::new("resource", resource.clone(), vec![])
                    .on_upstream(protect.upstream.as_str());
                let result = snapshotter
                    .take(
                        protect,
                        &secrets(&home),
                        blastdoor_snapshot::now_unix(),
                        Progress::Terminal,
                    )
                    .await;
                match result {
                    Ok(manifest) => {
                        record(
                            &config,
                            Risk::Read,
                            &format!("snapshot taken by hand of {resource}"),
                            vec![target],
                            allow("system.snapshot-take", &manifest.summary())?,
                            Some(manifest.id.clone()),
                        )?;
                        print_manifest(&manifest, json)?;
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(error) => {
                        record(
                            &config,
                            Risk::Read,
                            &format!("snapshot of {resource} failed"),
                            vec![target],
                            deny("system.snapshot-take", &error.to_string())?,
                            None,
                        )?;
                        Err(anyhow::Error::new(error)
                            .context(format!("no snapshot of `{resource}` was taken")))
                    }
                }
            }
        }
    })
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The snapshot to restore (a `pg_dump` snapshot).
    id: String,
    /// `-` to read the target database URL (`postgres://user:password@host:port/db`) from
    /// standard input, so it stays out of the process list. A URL given here must carry no
    /// password. Never printed.
    #[arg(long = "to", value_name = "DSN")]
    to: String,
    /// Restore even into a database that already holds tables (objects in the dump are dropped
    /// and recreated).
    #[arg(long)]
    force: bool,
}

pub fn run_restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let config = blastdoor_config::load_or_default(&home.config_file())?;
    let id = SnapshotId::new(args.id)?;
    let from_stdin = args.to == "-";
    let dsn = if from_stdin {
        read_dsn_from_stdin()?
    } else {
        Secret::new(args.to)
    };
    let target = PgTarget::parse(&dsn, "--to")?;
    if !from_stdin && target.has_password() {
        // The URL already sits in this process's argv (`/proc/PID/cmdline`); refusing keeps
        // the habit from spreading into scripts and shell history.
        anyhow::bail!(
            "refusing a database URL with a password on the command line, where other users can read it (`ps`); pipe the URL in with `--to -` instead"
        );
    }
    let mode = if args.force {
        RestoreMode::DangerouslyOverwrite
    } else {
        RestoreMode::RefuseNonEmpty
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let snapshotter = open_snapshotter(&home, &config).await?;
        let result = snapshotter
            .restore(&id, &target, mode, Progress::Terminal)
            .await;
        let database = Target::new("database", target.display_name(), vec![]);
        let description = format!("restore of snapshot {id} into {}", target.display_name());
        match result {
            Ok(report) => {
                record(
                    &config,
                    Risk::Write,
                    &description,
                    vec![database],
                    allow("system.snapshot-restore", &report.manifest.summary())?,
                    Some(id.clone()),
                )?;
                println!(
                    "restored snapshot {id} ({} bytes, {}) into {}",
                    report.bytes,
                    report.manifest.digest(),
                    report.target
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => {
                record(
                    &config,
                    Risk::Write,
                    &description,
                    vec![database],
                    deny("system.snapshot-restore", &error.to_string())?,
                    Some(id.clone()),
                )?;
                Err(anyhow::Error::new(error).context(format!("snapshot `{id}` was not restored")))
            }
        }
    })
}

async fn list(snapshotter: &Snapshotter, json: bool) -> anyhow::Result<ExitCode> {
    let listed = snapshotter.list().await?;
    if json {
        let values: Vec<serde_json::Value> = listed
            .iter()
            .map(|entry| match &entry.manifest {
                Ok(manifest) => {
                    serde_json::json!({ "id": entry.id, "valid": true, "manifest": manifest })
                }
                Err(why) => serde_json::json!({ "id": entry.id, "valid": false, "error": why }),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&values)?);
        return Ok(ExitCode::SUCCESS);
    }
    if listed.is_empty() {
        eprintln!("no snapshots in `{}`", snapshotter.store().describe());
        return Ok(ExitCode::SUCCESS);
    }
    for entry in &listed {
        match &entry.manifest {
            Ok(manifest) => println!(
                "{}  {}  {}/{}  {}  {} bytes  {}  sha256:{}",
                manifest.id,
                manifest.created,
                manifest.upstream,
                manifest.resource,
                manifest.method,
                manifest.size,
                if manifest.isolated {
                    "isolated"
                } else {
                    "NOT-ISOLATED"
                },
                manifest.sha256.get(..16).unwrap_or(&manifest.sha256)
            ),
            Err(why) => println!("{}  INVALID: {why}", entry.id),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_manifest(manifest: &Manifest, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(manifest)?);
    } else {
        println!("{}", manifest.summary());
    }
    Ok(())
}

/// The `[[protect]]` entry for `resource` (on `upstream`, when given).
fn protection<'a>(
    config: &'a Config,
    resource: &str,
    upstream: Option<&str>,
) -> anyhow::Result<&'a blastdoor_config::ProtectConfig> {
    let matching: Vec<_> = config
        .protect
        .iter()
        .filter(|entry| entry.resource == resource)
        .filter(|entry| upstream.is_none_or(|name| entry.upstream.as_str() == name))
        .collect();
    match matching.as_slice() {
        [entry] => Ok(entry),
        [] => {
            anyhow::bail!("no `[[protect]]` entry for resource `{resource}` in the configuration")
        }
        _ => anyhow::bail!(
            "several `[[protect]]` entries protect `{resource}`; name one with --upstream"
        ),
    }
}

async fn open_snapshotter(home: &Home, config: &Config) -> anyhow::Result<Snapshotter> {
    let store = Snapshotter::open_store(&config.snapshots, &secrets(home), OBJECT_LOCK)
        .await
        .context("cannot open the snapshot store")?;
    let signer = ManifestSigner::load_or_create(&home.keys_dir())?;
    Ok(Snapshotter::new(store, signer))
}

/// Secrets from the broker's store, opened only when one is needed.
fn secrets(home: &Home) -> impl Fn(&str) -> Result<Secret<String>, String> + use<> {
    let keys_dir = home.keys_dir();
    let store_path = home.root().join("secrets.json");
    move |name: &str| {
        let store = SecretStore::open(&keys_dir, &store_path).map_err(|error| error.to_string())?;
        store.get(name).map_err(|error| error.to_string())
    }
}

fn read_dsn_from_stdin() -> anyhow::Result<Secret<String>> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        anyhow::bail!(
            "refusing to read the database URL from a terminal, where it would be echoed; pipe it in"
        );
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text)?;
    Ok(Secret::new(text.trim().to_owned()))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn allow(rule: &str, text: &str) -> anyhow::Result<Verdict> {
    Ok(Verdict::allow(vec![Reason::new(
        RuleId::new(rule)?,
        text,
        None,
        "",
    )]))
}

fn deny(rule: &str, text: &str) -> anyhow::Result<Verdict> {
    Ok(Verdict::deny(vec![Reason::new(
        RuleId::new(rule)?,
        text,
        None,
        "",
    )]))
}

/// Appends a `system` entry to the ledger of `[ledger] path`.
fn record(
    config: &Config,
    risk: Risk,
    description: &str,
    targets: Vec<Target>,
    verdict: Verdict,
    snapshot_id: Option<SnapshotId>,
) -> anyhow::Result<u64> {
    let ledger = Ledger::open_or_create(&config.ledger.path)
        .with_context(|| format!("cannot open the ledger `{}`", config.ledger.path.display()))?;
    let record = Record {
        time_unix_ms: blastdoor_snapshot::now_unix().saturating_mul(1000),
        layer: Layer::System,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Internal, description, risk, targets),
        verdict,
        hold_id: None,
        approvers: vec![],
        snapshot_id,
        upstream_response: None,
    };
    ledger
        .append(&record)
        .context("cannot record this in the ledger")
}
