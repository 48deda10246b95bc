//! `blastdoor init`: creates `BLASTDOOR_HOME` (0700) with the ledger, its signing key, the
//! default config and policies, and the broker's keys, and records the initialisation in the
//! ledger. Idempotent: a second run changes nothing, says so on stderr, and never replaces a key
//! or a file the user may have edited. An existing home that group or others can access is
//! made 0700, with a warning.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt as _;
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_audit::{Ledger, Record, keys};
use blastdoor_core::{Actor, Layer, Operation, OperationKind, Reason, Risk, RuleId, Verdict};

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct InitArgs {}

pub fn run(_args: InitArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let mut created: Vec<String> = Vec::new();

    if !home.root().exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home.root())
            .with_context(|| format!("cannot create `{}`", home.root().display()))?;
        created.push(format!("{} (BLASTDOOR_HOME)", home.root().display()));
    } else {
        tighten_home(home.root())?;
    }

    // The ledger first: its origin names the signing key. The hook may have created it already.
    let ledger_file = home.ledger_file();
    let ledger_existed = ledger_file.exists();
    let ledger = Ledger::open_or_create(&ledger_file)?;
    if !ledger_existed {
        created.push(format!("{} (audit ledger)", ledger_file.display()));
    }

    let keys_dir = home.keys_dir();
    let private_key = keys::private_key_path(&keys_dir);
    let public_key = keys::public_key_path(&keys_dir);
    match (private_key.exists(), public_key.exists()) {
        (false, false) => {
            keys::create_key_files(&keys_dir, ledger.origin())?;
            created.push(format!(
                "{} (ledger signing key, private)",
                private_key.display()
            ));
            created.push(format!(
                "{} (ledger verifier key, give it to witnesses)",
                public_key.display()
            ));
        }
        (true, true) => {
            let signer = keys::load_signer(&keys_dir)?;
            let verifier = keys::load_verifier(&keys_dir)?;
            anyhow::ensure!(
                signer.verifier() == verifier,
                "`{}` and `{}` are not a key pair; refusing to touch them",
                private_key.display(),
                public_key.display()
            );
        }
        (true, false) | (false, true) => anyhow::bail!(
            "only one of `{}` and `{}` exists; refusing to overwrite keys (restore the missing file)",
            private_key.display(),
            public_key.display()
        ),
    }

    init_other_layers(&home, &mut created)?;

    if created.is_empty() {
        eprintln!(
            "blastdoor is already initialised in `{}`; nothing changed",
            home.root().display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let seq = ledger
        .append(&init_record(&created)?)
        .context("cannot record the initialisation in the ledger")?;
    for item in &created {
        println!("created {item}");
    }
    println!("recorded the initialisation as ledger entry {seq}");
    Ok(ExitCode::SUCCESS)
}

/// An existing home that its group or others can read, write or enter (made by hand with a
/// loose umask, or loosened since) holds the ledger, keys and secrets: warn and make it 0700.
fn tighten_home(root: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let metadata =
        std::fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
    anyhow::ensure!(
        metadata.is_dir(),
        "`{}` (BLASTDOOR_HOME) is not a directory",
        root.display()
    );
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        eprintln!(
            "warning: `{}` (BLASTDOOR_HOME) had mode {mode:04o}, so other users could read or enter it; changing it to 0700",
            root.display()
        );
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make `{}` private (chmod 0700)", root.display()))?;
    }
    Ok(())
}

/// Writes the default config and policies and the broker's keys, each only where it is missing:
/// an edited config or policy file is the user's, and a key is never replaced.
fn init_other_layers(home: &Home, created: &mut Vec<String>) -> anyhow::Result<()> {
    let config_file = home.config_file();
    if write_if_missing(&config_file, blastdoor_config::DEFAULT_CONFIG_TOML, 0o600)? {
        created.push(format!("{} (configuration)", config_file.display()));
    }
    let policies_dir = home.policies_dir();
    if !policies_dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&policies_dir)
            .with_context(|| format!("cannot create `{}`", policies_dir.display()))?;
        // Only a new directory gets the defaults: a user who deleted a policy file meant it.
        for (name, text) in blastdoor_policy::DEFAULT_POLICIES {
            let path = policies_dir.join(name);
            if write_if_missing(&path, text, 0o600)? {
                created.push(format!("{} (default policy)", path.display()));
            }
        }
    }
    let report = blastdoor_broker::init(&home.keys_dir())?;
    for path in report.created {
        created.push(format!("{} (broker key)", path.display()));
    }
    Ok(())
}

/// Creates `path` with `contents` unless it exists; true when it wrote the file.
fn write_if_missing(path: &std::path::Path, contents: &str, mode: u32) -> anyhow::Result<bool> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot create `{}`", path.display()));
        }
    };
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(true)
}

fn init_record(created: &[String]) -> anyhow::Result<Record> {
    let description = format!("blastdoor init created: {}", created.join(", "));
    Ok(Record {
        time_unix_ms: now_unix_ms(),
        layer: Layer::System,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Internal, &description, Risk::Write, vec![]),
        verdict: Verdict::allow(vec![Reason::new(
            RuleId::new("system.init")?,
            "an operator ran `blastdoor init`",
            None,
            "",
        )]),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    })
}

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}
