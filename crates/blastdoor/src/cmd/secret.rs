//! `blastdoor secret set/list/rm`: upstream credentials in the encrypted store
//! (`BLASTDOOR_HOME/secrets.json`, key in `BLASTDOOR_HOME/keys/secrets.key`).
//!
//! A value is read from stdin only (never argv, never echoed); listings show fingerprints only.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_broker::{SecretName, SecretStore};
use blastdoor_core::Secret;

use crate::home::Home;

/// The most a secret value may be; anything larger is not a credential.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

#[derive(Debug, clap::Args)]
pub struct SecretArgs {
    #[command(subcommand)]
    command: SecretCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SecretCommand {
    /// Store NAME; the value is read from stdin (one trailing newline is dropped), e.g.
    /// `printf %s "$TOKEN" | blastdoor secret set railway-prod`.
    Set {
        /// Letters, digits, `-`, `_`, `.` (1 to 128).
        name: String,
    },
    /// List stored secrets: names and fingerprints, never values.
    List {
        /// Print JSON: `[{"name": ..., "fingerprint": ...}]`.
        #[arg(long)]
        json: bool,
    },
    /// Delete NAME.
    Rm { name: String },
}

pub fn run(args: SecretArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    let store_path = store_path(&home);
    match args.command {
        SecretCommand::Set { name } => {
            let name = SecretName::new(&name)?;
            let value = read_value_from_stdin(&name)?;
            blastdoor_broker::init(&home.keys_dir())?;
            let mut store = SecretStore::open(&home.keys_dir(), &store_path)?;
            store.set(&name, &value)?;
            eprintln!("stored secret `{name}` ({})", value.fingerprint());
        }
        SecretCommand::List { json } => {
            let listing = if store_path.exists() {
                SecretStore::open(&home.keys_dir(), &store_path)?.list()?
            } else {
                Vec::new()
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&listing)?);
            } else {
                for entry in &listing {
                    println!("{}\t{}", entry.name, entry.fingerprint);
                }
            }
        }
        SecretCommand::Rm { name } => {
            let mut store = SecretStore::open(&home.keys_dir(), &store_path)?;
            store.remove(&name)?;
            eprintln!("removed secret `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `BLASTDOOR_HOME/secrets.json`.
pub fn store_path(home: &Home) -> PathBuf {
    home.root().join("secrets.json")
}

fn read_value_from_stdin(name: &SecretName) -> anyhow::Result<Secret<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        anyhow::bail!(
            "refusing to read secret `{name}` from a terminal, where it would be echoed; pipe it in: `printf %s \"$VALUE\" | blastdoor secret set {name}` or `blastdoor secret set {name} < FILE`"
        );
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .context("cannot read the secret from stdin")?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        anyhow::bail!("secret `{name}` is longer than {MAX_SECRET_BYTES} bytes");
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("secret `{name}` is not UTF-8 text"))?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        anyhow::bail!("refusing to store an empty secret `{name}` (nothing on stdin)");
    }
    Ok(Secret::new(text))
}
