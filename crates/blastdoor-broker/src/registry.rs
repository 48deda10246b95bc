//! The token registry (`BLASTDOOR_HOME/tokens.json`): one record per minted token — id, agent,
//! scope, expiry, revocation — so `token list` and `token revoke` work. It never holds a token.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use blastdoor_core::{AgentName, EnvironmentName, Risk};
use serde::{Deserialize, Serialize};

use crate::BrokerError;
use crate::keys::{lock_beside, write_atomic};
use crate::scope::UpstreamName;
use crate::token::{RevocationSet, TokenId};

/// What the registry knows about one minted token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    pub id: TokenId,
    pub agent: AgentName,
    pub upstreams: BTreeSet<UpstreamName>,
    pub environments: BTreeSet<EnvironmentName>,
    pub risks: BTreeSet<Risk>,
    pub task: Option<String>,
    /// Unix seconds.
    pub minted_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// Hex of the authority block's biscuit revocation id.
    pub revocation_id: String,
    /// Unix seconds; `None` while the token is live.
    pub revoked_at: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    version: u32,
    tokens: Vec<TokenRecord>,
}

/// The registry file, loaded. Changes are written atomically at once.
#[derive(Debug)]
pub struct TokenRegistry {
    path: PathBuf,
    file: RegistryFile,
}

impl TokenRegistry {
    /// Loads `path`; a missing file is an empty registry.
    pub fn open(path: &Path) -> Result<TokenRegistry, BrokerError> {
        Ok(TokenRegistry {
            path: path.to_owned(),
            file: read_registry(path)?,
        })
    }

    pub fn records(&self) -> &[TokenRecord] {
        &self.file.tokens
    }

    /// Adds a record and saves. The file is re-read under the store's lock first, so records
    /// and revocations written by other processes since [`TokenRegistry::open`] are kept.
    pub fn record(&mut self, record: TokenRecord) -> Result<(), BrokerError> {
        self.modify(|file| {
            file.tokens.push(record);
            Ok(())
        })
    }

    /// Marks `id` revoked at `now` and saves (under the lock, on a fresh read, like
    /// [`TokenRegistry::record`]); revoking twice keeps the first time.
    pub fn revoke(&mut self, id: &TokenId, now: u64) -> Result<&TokenRecord, BrokerError> {
        let index = self.modify(|file| {
            let record = file
                .tokens
                .iter_mut()
                .enumerate()
                .find(|(_, record)| &record.id == id);
            match record {
                Some((index, record)) => {
                    record.revoked_at.get_or_insert(now);
                    Ok(index)
                }
                None => Err(BrokerError::NoSuchToken(id.to_string())),
            }
        })?;
        self.file
            .tokens
            .get(index)
            .ok_or_else(|| BrokerError::NoSuchToken(id.to_string()))
    }

    /// Every revoked token id and revocation id, for a [`crate::TokenVerifier`].
    pub fn revocations(&self) -> RevocationSet {
        let mut set = RevocationSet::new();
        for record in self
            .file
            .tokens
            .iter()
            .filter(|record| record.revoked_at.is_some())
        {
            set.revoke_token(record.id.clone());
            if let Ok(bytes) = hex::decode(&record.revocation_id) {
                set.revoke_revocation_id(bytes);
            }
        }
        set
    }

    /// Read → `change` → write, holding the lock beside the file throughout; on success the
    /// in-memory copy is the file as written.
    fn modify<T>(
        &mut self,
        change: impl FnOnce(&mut RegistryFile) -> Result<T, BrokerError>,
    ) -> Result<T, BrokerError> {
        let _lock = lock_beside(&self.path)?;
        let mut file = read_registry(&self.path)?;
        let result = change(&mut file)?;
        let json =
            serde_json::to_vec_pretty(&file).map_err(|error| BrokerError::CorruptRegistry {
                path: self.path.clone(),
                why: error.to_string(),
            })?;
        write_atomic(&self.path, &json, 0o600)?;
        self.file = file;
        Ok(result)
    }
}

/// The registry file at `path`; a missing file is an empty registry.
fn read_registry(path: &Path) -> Result<RegistryFile, BrokerError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: RegistryFile =
                serde_json::from_slice(&bytes).map_err(|error| BrokerError::CorruptRegistry {
                    path: path.to_owned(),
                    why: error.to_string(),
                })?;
            if file.version != 1 {
                return Err(BrokerError::CorruptRegistry {
                    path: path.to_owned(),
                    why: format!("unsupported version {}", file.version),
                });
            }
            Ok(file)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(RegistryFile {
            version: 1,
            tokens: Vec::new(),
        }),
        Err(error) => Err(BrokerError::io("read", path, error)),
    }
}
