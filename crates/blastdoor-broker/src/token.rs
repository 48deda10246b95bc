//! Capability tokens: minting with the root key, offline attenuation, and verification.
//!
//! A token is a biscuit (`bd1_` + base64url) whose authority block names the agent and the
//! token id and whose every block carries a [`Scope`] as Datalog checks. Text from outside is
//! an [`UnverifiedToken`]; only [`TokenVerifier::verify`] turns it into a [`VerifiedToken`],
//! and [`TokenVerifier::authorize`] then decides one operation against every block's scope.
//! Verification (signatures, ~tens of µs) and authorisation (set look-ups, sub-µs) are separate
//! so that a gateway can cache the verified token and still check revocation each time.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use biscuit_auth::builder::{AuthorizerBuilder, BlockBuilder};
use biscuit_auth::{Algorithm, Biscuit, KeyPair, PrivateKey, PublicKey, UnverifiedBiscuit};
use blastdoor_core::{AgentName, Environment, Risk, Secret};
use rand_core::{OsRng, RngCore as _};

use crate::BrokerError;
use crate::keys::{self, TOKEN_ROOT_KEY_FILE, TOKEN_ROOT_PUBLIC_FILE};
use crate::scope::{BlockSource, Narrowing, Scope};

/// Every blastdoor capability token starts with this, so scanners can tell it from a raw
/// provider credential.
pub const TOKEN_PREFIX: &str = "bd1_";

/// The time a Datalog authorisation may take before it is refused.
const DATALOG_MAX_MILLIS: u64 = 50;

/// Tokens longer than this are refused before decoding (a real one is about 1 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// A token's id, `tok_` and 24 hex digits; shared by a token and everything attenuated from it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct TokenId(String);

impl TokenId {
    pub fn new(id: impl Into<String>) -> Result<TokenId, BrokerError> {
        let id = id.into();
        let valid = id.strip_prefix("tok_").is_some_and(|hex| {
            hex.len() == 24
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if valid {
            Ok(TokenId(id))
        } else {
            Err(BrokerError::MalformedToken(format!(
                "token id `{id}` is not `tok_` followed by 24 lowercase hex digits"
            )))
        }
    }

    fn random() -> TokenId {
        let mut bytes = [0u8; 12];
        OsRng.fill_bytes(&mut bytes);
        TokenId(format!("tok_{}", hex::encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TokenId {
    type Error = BrokerError;
    fn try_from(id: String) -> Result<TokenId, BrokerError> {
        TokenId::new(id)
    }
}

impl From<TokenId> for String {
    fn from(id: TokenId) -> String {
        id.0
    }
}

/// The root private key that signs authority blocks (`keys/token-root.key`).
pub struct RootKey(KeyPair);

impl RootKey {
    /// Loads `keys/token-root.key`, refusing it when group or other can read it.
    pub fn load(keys_dir: &Path) -> Result<RootKey, BrokerError> {
        let path = keys_dir.join(TOKEN_ROOT_KEY_FILE);
        let bytes = keys::read_key_file(&path, "blastdoor token mint")?;
        let private =
            PrivateKey::from_bytes(bytes.as_ref(), Algorithm::Ed25519).map_err(|error| {
                BrokerError::MalformedKey {
                    path: path.clone(),
                    why: error.to_string(),
                }
            })?;
        Ok(RootKey(KeyPair::from(&private)))
    }

    pub fn public(&self) -> RootPublicKey {
        RootPublicKey(self.0.public())
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RootKey").field(&self.public()).finish()
    }
}

/// The root public key: all a verifier needs (`keys/token-root.pub`).
#[derive(Clone, PartialEq)]
pub struct RootPublicKey(PublicKey);

impl RootPublicKey {
    /// Loads `keys/token-root.pub`.
    pub fn load(keys_dir: &Path) -> Result<RootPublicKey, BrokerError> {
        let path = keys_dir.join(TOKEN_ROOT_PUBLIC_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(BrokerError::MissingKey {
                    path,
                    hint: "blastdoor token mint",
                });
            }
            Err(error) => return Err(BrokerError::io("read", path, error)),
        };
        let bytes = keys::parse_hex_key(&path, text.trim())?;
        PublicKey::from_bytes(bytes.as_ref(), Algorithm::Ed25519)
            .map(RootPublicKey)
            .map_err(|error| BrokerError::MalformedKey {
                path,
                why: error.to_string(),
            })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }
}

impl fmt::Debug for RootPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootPublicKey({})", self.to_hex())
    }
}

/// Token text as received: prefix checked and base64 decoded, nothing else trusted.
#[derive(Clone)]
pub struct UnverifiedToken {
    bytes: Vec<u8>,
}

impl UnverifiedToken {
    /// Checks the `bd1_` prefix, the length and the base64url encoding.
    pub fn parse(text: &str) -> Result<UnverifiedToken, BrokerError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(BrokerError::MalformedToken("empty token".to_owned()));
        }
        if text.len() > MAX_TOKEN_LEN {
            return Err(BrokerError::MalformedToken(format!(
                "token is {} bytes, more than the {MAX_TOKEN_LEN} allowed",
                text.len()
            )));
        }
        let Some(body) = text.strip_prefix(TOKEN_PREFIX) else {
            return Err(BrokerError::MalformedToken(format!(
                "a blastdoor token starts with `{TOKEN_PREFIX}`"
            )));
        };
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE
            .decode(body)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body))
            .map_err(|error| {
                BrokerError::MalformedToken(format!("body is not base64url: {error}"))
            })?;
        Ok(UnverifiedToken { bytes })
    }

    /// SHA-256 of the decoded token: the key a gateway caches a [`VerifiedToken`] under.
    pub fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(&self.bytes).into()
    }
}

impl fmt::Debug for UnverifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnverifiedToken([redacted])")
    }
}

/// A freshly minted token and what the registry records about it (never the token itself).
#[derive(Debug)]
pub struct MintedToken {
    pub text: Secret<String>,
    pub token_id: TokenId,
    /// Hex of the authority block's biscuit revocation id.
    pub revocation_id: String,
}

/// Signs a new token for `agent` with `scope`; `task` rides along in the authority block's
/// context for the gateway and the ledger.
pub fn mint(
    root: &RootKey,
    agent: &AgentName,
    scope: &Scope,
    task: Option<&str>,
) -> Result<MintedToken, BrokerError> {
    let token_id = TokenId::random();
    let source = BlockSource::render(Some((agent.as_str(), token_id.as_str())), scope);
    let mut builder = Biscuit::builder()
        .code(&source)
        .map_err(|error| BrokerError::Mint(error.to_string()))?;
    if let Some(task) = task {
        builder = builder.context(task.to_owned());
    }
    let biscuit = builder
        .build(&root.0)
        .map_err(|error| BrokerError::Mint(error.to_string()))?;
    let revocation_id = biscuit
        .revocation_identifiers()
        .first()
        .map(hex::encode)
        .unwrap_or_default();
    Ok(MintedToken {
        text: Secret::new(encode(
            &biscuit
                .to_vec()
                .map_err(|error| BrokerError::Mint(error.to_string()))?,
        )),
        token_id,
        revocation_id,
    })
}

/// Appends a block narrowing `token` offline (no key needed). The new block carries the whole
/// narrowed scope, so the result is never wider than any block before it; asking for anything
/// outside the current scope is an error rather than a silent no-op.
pub fn attenuate(
    token: &UnverifiedToken,
    narrowing: &Narrowing,
) -> Result<Secret<String>, BrokerError> {
    let biscuit = UnverifiedBiscuit::from(&token.bytes).map_err(token_error)?;
    let mut effective: Option<Scope> = None;
    for index in 0..biscuit.block_count() {
        let source = biscuit.print_block_source(index).map_err(token_error)?;
        let block = BlockSource::parse(&source, index == 0)
            .map_err(|why| BrokerError::MalformedToken(format!("block {index}: {why}")))?;
        effective = Some(match effective {
            None => block.scope,
            Some(current) => current.intersect(&block.scope)?,
        });
    }
    let effective = effective.ok_or_else(|| BrokerError::MalformedToken("no blocks".to_owned()))?;
    let narrowed = effective.narrow(narrowing)?;
    let block = BlockBuilder::new()
        .code(narrowed.to_datalog_checks())
        .map_err(|error| BrokerError::Attenuate(error.to_string()))?;
    let attenuated = biscuit
        .append(block)
        .map_err(|error| BrokerError::Attenuate(error.to_string()))?;
    let bytes = attenuated
        .to_vec()
        .map_err(|error| BrokerError::Attenuate(error.to_string()))?;
    Ok(Secret::new(encode(&bytes)))
}

/// Revoked token ids and biscuit revocation ids, from the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    token_ids: HashSet<TokenId>,
    revocation_ids: HashSet<Vec<u8>>,
}

impl RevocationSet {
    pub fn new() -> RevocationSet {
        RevocationSet::default()
    }

    pub fn revoke_token(&mut self, token_id: TokenId) {
        self.token_ids.insert(token_id);
    }

    pub fn revoke_revocation_id(&mut self, revocation_id: Vec<u8>) {
        self.revocation_ids.insert(revocation_id);
    }

    pub fn contains_token(&self, token_id: &TokenId) -> bool {
        self.token_ids.contains(token_id)
    }
}

/// Verifies tokens against the root public key and the revocation set.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    root: RootPublicKey,
    revoked: RevocationSet,
}

impl TokenVerifier {
    pub fn new(root: RootPublicKey, revoked: RevocationSet) -> TokenVerifier {
        TokenVerifier { root, revoked }
    }

    /// Replaces the revocation set (a gateway reloads it when the registry changes).
    pub fn set_revocations(&mut self, revoked: RevocationSet) {
        self.revoked = revoked;
    }

    /// One hash-set look-up: for a gateway that cached a [`VerifiedToken`].
    pub fn is_revoked(&self, token_id: &TokenId) -> bool {
        self.revoked.contains_token(token_id)
    }

    /// Checks the signature chain, that every block is a scope block blastdoor wrote, that the
    /// token is not revoked and not expired at `now` (unix seconds).
    pub fn verify(&self, token: &UnverifiedToken, now: u64) -> Result<VerifiedToken, BrokerError> {
        let biscuit = Biscuit::from(&token.bytes, self.root.0).map_err(token_error)?;
        let mut identity = None;
        let mut scopes = Vec::with_capacity(biscuit.block_count());
        for index in 0..biscuit.block_count() {
            if biscuit
                .block_external_key(index)
                .map_err(token_error)?
                .is_some()
            {
                return Err(BrokerError::MalformedToken(format!(
                    "block {index} is a third-party block, which blastdoor does not accept"
                )));
            }
            let source = biscuit.print_block_source(index).map_err(token_error)?;
            let block = BlockSource::parse(&source, index == 0)
                .map_err(|why| BrokerError::MalformedToken(format!("block {index}: {why}")))?;
            if index == 0 {
                identity = block.identity;
            }
            scopes.push(block.scope);
        }
        let (agent, token_id) =
            identity.ok_or_else(|| BrokerError::MalformedToken("no authority block".to_owned()))?;
        let agent = AgentName::new(agent)
            .map_err(|error| BrokerError::MalformedToken(error.to_string()))?;
        let token_id = TokenId::new(token_id)?;
        if self.revoked.token_ids.contains(&token_id)
            || biscuit
                .revocation_identifiers()
                .iter()
                .any(|id| self.revoked.revocation_ids.contains(id))
        {
            return Err(BrokerError::Revoked(token_id.0));
        }
        let expires_at = scopes.iter().map(Scope::expires_at).min().unwrap_or(0);
        if now > expires_at {
            return Err(BrokerError::Expired {
                token_id: token_id.0,
                expired_at: expires_at,
            });
        }
        let task = biscuit.context().into_iter().next().flatten();
        Ok(VerifiedToken {
            agent,
            token_id,
            task,
            scopes,
            expires_at,
            biscuit,
        })
    }

    /// Passes only when the token is not revoked, and the upstream, every environment and the
    /// risk are inside the scope of every block at `now`.
    pub fn authorize(
        &self,
        verified: &VerifiedToken,
        upstream: &str,
        environments: &[Environment],
        risk: Risk,
        now: u64,
    ) -> Result<(), BrokerError> {
        if self.is_revoked(&verified.token_id) {
            return Err(BrokerError::Revoked(verified.token_id.0.clone()));
        }
        for (index, scope) in verified.scopes.iter().enumerate() {
            if let Err(what) = scope.check(upstream, environments, risk, now) {
                let what = if index == 0 {
                    what
                } else {
                    format!("{what} (narrowed by block {index})")
                };
                return Err(BrokerError::OutOfScope {
                    token_id: verified.token_id.0.clone(),
                    what,
                });
            }
        }
        Ok(())
    }

    /// The same decision as [`TokenVerifier::authorize`], made by biscuit's own Datalog
    /// authorizer over the token's checks: slower (~tens of µs), for defence in depth and to
    /// show that the Datalog in the token means what blastdoor enforces.
    pub fn authorize_with_datalog(
        &self,
        verified: &VerifiedToken,
        upstream: &str,
        environments: &[Environment],
        risk: Risk,
        now: u64,
    ) -> Result<(), BrokerError> {
        if self.is_revoked(&verified.token_id) {
            return Err(BrokerError::Revoked(verified.token_id.0.clone()));
        }
        let refused = |why: String| BrokerError::OutOfScope {
            token_id: verified.token_id.0.clone(),
            what: why,
        };
        let mut builder = AuthorizerBuilder::new()
            .code(format!(
                "operation_upstream(\"{}\");\noperation_risk(\"{}\");\ntime({});\nallow if true;",
                upstream.replace(['"', '\\'], ""),
                risk.as_str(),
                crate::scope::format_rfc3339(now)
            ))
            .map_err(|error| refused(error.to_string()))?;
        for environment in environments {
            builder = builder
                .code(format!(
                    "operation_environment(\"{}\");",
                    environment.as_str()
                ))
                .map_err(|error| refused(error.to_string()))?;
        }
        // Biscuit's default run-time limit (1 ms) refuses spuriously on a loaded machine; our
        // blocks hold a handful of facts and no rules, so a looser time limit costs nothing.
        let limits = biscuit_auth::AuthorizerLimits {
            max_time: std::time::Duration::from_millis(DATALOG_MAX_MILLIS),
            ..biscuit_auth::AuthorizerLimits::default()
        };
        let mut authorizer = builder
            .set_limits(limits)
            .build(&verified.biscuit)
            .map_err(|error| refused(error.to_string()))?;
        authorizer
            .authorize()
            .map(|_| ())
            .map_err(|error| refused(format!("this operation ({error})")))
    }
}

/// A token whose signatures, form, revocation and expiry have been checked.
#[derive(Clone)]
pub struct VerifiedToken {
    agent: AgentName,
    token_id: TokenId,
    task: Option<String>,
    scopes: Vec<Scope>,
    expires_at: u64,
    biscuit: Biscuit,
}

impl VerifiedToken {
    pub fn agent(&self) -> &AgentName {
        &self.agent
    }

    pub fn token_id(&self) -> &TokenId {
        &self.token_id
    }

    /// The task declared when the token was minted, if any.
    pub fn task(&self) -> Option<&str> {
        self.task.as_deref()
    }

    /// The scope of each block, authority first. An operation must fit all of them.
    pub fn block_scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// The earliest expiry of any block (unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
}

impl fmt::Debug for VerifiedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedToken")
            .field("agent", &self.agent)
            .field("token_id", &self.token_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn token_error(error: biscuit_auth::error::Token) -> BrokerError {
    use biscuit_auth::error::{Format, Token};
    match error {
        Token::Format(
            format @ (Format::Signature(_) | Format::SealedSignature | Format::UnknownPublicKey),
        ) => BrokerError::BadSignature(format.to_string()),
        Token::Format(format) => {
            BrokerError::MalformedToken(format!("not a valid biscuit ({format})"))
        }
        other => BrokerError::MalformedToken(other.to_string()),
    }
}
