//! `BLASTDOOR_HOME`: where config, policies, keys and state live, and the paths inside it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// The resolved `BLASTDOOR_HOME` directory. It may not exist yet (before `blastdoor init`).
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `$BLASTDOOR_HOME`, or `~/.blastdoor` when it is unset or empty.
    pub fn from_env() -> anyhow::Result<Home> {
        match std::env::var_os("BLASTDOOR_HOME") {
            Some(path) if !path.is_empty() => Ok(Home {
                root: PathBuf::from(path),
            }),
            _ => {
                let home = std::env::var_os("HOME")
                    .filter(|home| !home.is_empty())
                    .context("neither BLASTDOOR_HOME nor HOME is set")?;
                Ok(Home {
                    root: PathBuf::from(home).join(".blastdoor"),
                })
            }
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `blastdoor.toml`: the configuration.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("blastdoor.toml")
    }

    /// `policies/`: the Cedar policy set, one or more `*.cedar` files.
    pub fn policies_dir(&self) -> PathBuf {
        self.root.join("policies")
    }

    /// `keys/`: private keys, mode 0700, each file 0600.
    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// `ledger.sqlite`: the audit ledger.
    pub fn ledger_file(&self) -> PathBuf {
        self.root.join("ledger.sqlite")
    }
}
