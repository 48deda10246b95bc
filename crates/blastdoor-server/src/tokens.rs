//! [`TokenGate`]: capability-token checks for every request. Biscuit verification costs
//! 50–100 µs, so verified tokens are cached (bounded, by digest); revocation is honoured at
//! once because every request re-reads the registry when its file changed (one `stat`) and
//! every cache hit is checked against the revocation set.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use blastdoor_broker::{
    BrokerError, RootPublicKey, TokenRegistry, TokenVerifier, UnverifiedToken, VerifiedToken,
};
use blastdoor_gateway::GatewayError;
use blastdoor_gateway::token_cache::TokenCache;

use crate::ServerError;

/// Verifies, caches and re-checks capability tokens.
#[derive(Debug)]
pub struct TokenGate {
    verifier: RwLock<TokenVerifier>,
    cache: TokenCache<Arc<VerifiedToken>>,
    registry_path: PathBuf,
    /// Modification time and length of the registry file when it was last loaded.
    registry_stamp: Mutex<Option<(SystemTime, u64)>>,
}

impl TokenGate {
    /// Loads the root public key from `keys_dir` and the revocations from `registry_path`.
    pub fn open(
        keys_dir: &Path,
        registry_path: &Path,
        capacity: usize,
        ttl: Duration,
    ) -> Result<TokenGate, ServerError> {
        let root = RootPublicKey::load(keys_dir).map_err(|error| ServerError::TokenKeys {
            path: keys_dir.to_owned(),
            why: error.to_string(),
        })?;
        let gate = TokenGate {
            verifier: RwLock::new(TokenVerifier::new(
                root,
                blastdoor_broker::RevocationSet::new(),
            )),
            cache: TokenCache::new(capacity, ttl),
            registry_path: registry_path.to_owned(),
            registry_stamp: Mutex::new(None),
        };
        gate.refresh_revocations()
            .map_err(|error| ServerError::TokenRegistry {
                path: registry_path.to_owned(),
                why: error.to_string(),
            })?;
        Ok(gate)
    }

    /// The verified token for `token` at `now_unix`, from the cache when possible.
    pub fn check(
        &self,
        token: &str,
        now_unix: u64,
        now: Instant,
    ) -> Result<Arc<VerifiedToken>, GatewayError> {
        self.refresh_revocations()?;
        let unverified = UnverifiedToken::parse(token)
            .map_err(|error| GatewayError::TokenRefused(error.to_string()))?;
        let digest = unverified.digest();
        let verifier = self
            .verifier
            .read()
            .map_err(|_| GatewayError::Internal("token verifier lock poisoned".to_owned()))?;
        if let Some(verified) = self.cache.get(&digest, now) {
            if verifier.is_revoked(verified.token_id()) {
                self.cache.remove(&digest);
                return Err(GatewayError::TokenRevoked);
            }
            if now_unix > verified.expires_at() {
                self.cache.remove(&digest);
                return Err(GatewayError::TokenRefused(format!(
                    "token `{}` expired",
                    verified.token_id().as_str()
                )));
            }
            return Ok(verified);
        }
        let verified = match verifier.verify(&unverified, now_unix) {
            Ok(verified) => Arc::new(verified),
            Err(BrokerError::Revoked(_)) => return Err(GatewayError::TokenRevoked),
            Err(error) => return Err(GatewayError::TokenRefused(error.to_string())),
        };
        self.cache.insert(digest, Arc::clone(&verified), now);
        Ok(verified)
    }

    /// Reloads the revocations when the registry file changed. An unreadable registry fails
    /// the request (closed): a revocation might be in it.
    fn refresh_revocations(&self) -> Result<(), GatewayError> {
        let stamp = match std::fs::metadata(&self.registry_path) {
            Ok(metadata) => Some((
                metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                metadata.len(),
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(GatewayError::Internal(format!("token registry: {error}"))),
        };
        let mut known = self
            .registry_stamp
            .lock()
            .map_err(|_| GatewayError::Internal("token registry lock poisoned".to_owned()))?;
        if known.is_some() && *known == stamp {
            return Ok(());
        }
        let registry = TokenRegistry::open(&self.registry_path)
            .map_err(|error| GatewayError::Internal(format!("token registry: {error}")))?;
        let mut verifier = self
            .verifier
            .write()
            .map_err(|_| GatewayError::Internal("token verifier lock poisoned".to_owned()))?;
        verifier.set_revocations(registry.revocations());
        *known = stamp;
        Ok(())
    }
}
