//! The validated configuration: what the rest of blastdoor consumes. Every value here has been
//! checked and every default applied; no type has a `Default` impl.

use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use blastdoor_core::{Environment, EnvironmentName, Risk, Secret};

use crate::HttpUrl;

/// The whole of `blastdoor.toml`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file this came from (or would have, for defaults).
    pub origin: PathBuf,
    pub gateway: GatewayConfig,
    /// `[[upstream]]`, in file order; names are unique.
    pub upstreams: Vec<UpstreamConfig>,
    pub approvals: ApprovalsConfig,
    pub snapshots: SnapshotsConfig,
    /// `[[protect]]`: resources snapshotted before an approved destroy.
    pub protect: Vec<ProtectConfig>,
    pub ledger: LedgerConfig,
    pub state: StateConfig,
    pub hook: HookConfig,
}

impl Config {
    /// The upstream called `name`.
    pub fn upstream(&self, name: &str) -> Option<&UpstreamConfig> {
        self.upstreams
            .iter()
            .find(|upstream| upstream.name.as_str() == name)
    }

    /// The approval UI's base URL for links: `approvals.ui_base_url`, or else the gateway's own
    /// address (`https://` when TLS is configured) followed by `/ui`; an unspecified listen
    /// address (`0.0.0.0`, `::`) is shown as loopback, so set `ui_base_url` for remote approvers.
    pub fn ui_base_url(&self) -> String {
        if let Some(url) = &self.approvals.ui_base_url {
            return url.as_str().to_owned();
        }
        let scheme = if self.gateway.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let mut address = self.gateway.listen;
        if address.ip().is_unspecified() {
            address.set_ip(match address {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("{scheme}://{address}/ui")
    }

    /// The protection entry for `resource` on `upstream`, if any.
    pub fn protection(&self, upstream: &str, resource: &str) -> Option<&ProtectConfig> {
        self.protect
            .iter()
            .find(|entry| entry.upstream.as_str() == upstream && entry.resource == resource)
    }
}

/// `[gateway]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// Both `tls_cert` and `tls_key`, or neither.
    pub tls: Option<TlsConfig>,
    pub max_body_bytes: u64,
    pub request_timeout: Duration,
}

/// A PEM certificate chain and private key for the gateway's TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The name of an upstream: a lowercase slug, the first path segment of gateway URLs
/// (`/railway/graphql/v2`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpstreamName(pub(crate) String);

impl UpstreamName {
    /// Path segments the gateway keeps for itself.
    pub const RESERVED: &'static [&'static str] =
        &["ui", "api", "metrics", "healthz", "_blastdoor"];

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UpstreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a secret in blastdoor's secret store (`railway-main`): never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretName(pub(crate) String);

impl SecretName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How blastdoor understands an upstream's API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamKind {
    /// Railway's GraphQL API; `environments` maps environment names to Railway environment ids.
    Railway,
    /// A REST API; `environments` maps names to path prefixes, `[[upstream.rule]]` classifies.
    Rest,
    /// A Kubernetes API server; `environments` maps names to namespaces.
    Kubernetes,
}

impl UpstreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Railway => "railway",
            UpstreamKind::Rest => "rest",
            UpstreamKind::Kubernetes => "kubernetes",
        }
    }
}

/// `[[upstream]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    pub name: UpstreamName,
    pub kind: UpstreamKind,
    pub url: HttpUrl,
    /// The secret injected into forwarded requests; `None` forwards without a credential.
    pub credential: Option<SecretName>,
    /// Extra PEM CA certificates trusted for this upstream's `https://` URL, besides the
    /// built-in web roots (resolved against the config file's directory when relative).
    pub ca_file: Option<PathBuf>,
    /// The environment of everything on this upstream that `environments` does not place.
    pub environment: Option<EnvironmentName>,
    /// Environment name → ids (railway: environment ids; kubernetes: namespaces; rest: path
    /// prefixes), sorted by name. An id appears under one environment only.
    pub environments: Vec<(EnvironmentName, Vec<String>)>,
    /// `[[upstream.rule]]` (rest only), in file order: the first match classifies a request.
    pub rules: Vec<RestRule>,
}

impl UpstreamConfig {
    /// The environment of `id` (a Railway environment id, a namespace, or a request path for
    /// rest, matched by longest prefix). What is not configured falls back to `environment`,
    /// then to [`Environment::Unknown`]: never to a guess.
    pub fn environment_of(&self, id: &str) -> Environment {
        let configured = match self.kind {
            UpstreamKind::Railway | UpstreamKind::Kubernetes => self
                .environments
                .iter()
                .find(|(_, ids)| ids.iter().any(|known| known == id))
                .map(|(name, _)| name),
            UpstreamKind::Rest => self
                .environments
                .iter()
                .flat_map(|(name, prefixes)| prefixes.iter().map(move |prefix| (name, prefix)))
                .filter(|(_, prefix)| id.starts_with(prefix.as_str()))
                .max_by_key(|(_, prefix)| prefix.len())
                .map(|(name, _)| name),
        };
        match configured.or(self.environment.as_ref()) {
            Some(name) => Environment::Named(name.clone()),
            None => Environment::Unknown,
        }
    }
}

/// `[[upstream.rule]]`: requests matching `method` and `path` have risk `risk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRule {
    pub method: RuleMethod,
    pub path: PathPattern,
    pub risk: Risk,
}

/// An HTTP method in upper case, or any method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleMethod {
    Any,
    Exactly(String),
}

impl RuleMethod {
    pub fn matches(&self, method: &str) -> bool {
        match self {
            RuleMethod::Any => true,
            RuleMethod::Exactly(expected) => expected.eq_ignore_ascii_case(method),
        }
    }
}

/// A path pattern: segments separated by `/`, where `*` matches one whole segment and a final
/// `**` matches any rest (including nothing). `/v1/volumes/*` matches `/v1/volumes/abc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern(pub(crate) String);

impl PathPattern {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `path` (without its query string) matches.
    pub fn matches(&self, path: &str) -> bool {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut pattern_segments = self.0.split('/');
        let mut path_segments = path.split('/');
        loop {
            match (pattern_segments.next(), path_segments.next()) {
                (Some("**"), _) => return true,
                (None, None) => return true,
                (Some("*"), Some(segment)) => {
                    if segment.is_empty() {
                        return false;
                    }
                }
                (Some(expected), Some(segment)) => {
                    if expected != segment {
                        return false;
                    }
                }
                _ => return false,
            }
        }
    }
}

/// `[approvals]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalsConfig {
    /// How long a hold waits for approvals before it expires.
    pub expiry: Duration,
    /// How long an approved production destroy waits before it may run (zero: no wait).
    pub cooling_off: Duration,
    /// Slack-compatible webhook notified of new holds; the URL embeds a secret, hence `Secret`.
    pub webhook_url: Option<Secret<String>>,
    /// The public base URL of the approval UI, used in links; `None`: derived from the listener.
    pub ui_base_url: Option<HttpUrl>,
    /// An approved Railway `projectDelete` is forwarded as `projectScheduleDelete` (Railway's
    /// 48-hour grace) unless this is `false`.
    pub schedule_project_deletes: bool,
    /// The most holds one agent may have waiting for a decision; past it the gateway refuses
    /// (429) instead of queueing more. Counted per agent name: tokens of one agent share it.
    pub max_pending_per_agent: NonZeroU32,
}

/// `[snapshots]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotsConfig {
    pub store: SnapshotStore,
    /// The secret holding the object store's credentials (S3 only).
    pub credential: Option<SecretName>,
    /// An S3-compatible endpoint (S3 only); `None`: AWS.
    pub endpoint: Option<HttpUrl>,
    /// The S3 region (S3 only).
    pub region: Option<String>,
    /// PEM CA certificates trusted in addition to Mozilla's roots for an `https://` endpoint
    /// (S3 only; an S3-compatible server behind a private CA).
    pub ca_file: Option<PathBuf>,
}

/// Where snapshots go: somewhere outside every protected resource's failure domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStore {
    /// A local directory (resolved against the config file's directory when relative).
    Directory(PathBuf),
    /// `s3://bucket/prefix`.
    S3 { bucket: String, prefix: String },
}

/// `[[protect]]`: snapshot `resource` of `upstream` with `method` before it is destroyed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectConfig {
    pub upstream: UpstreamName,
    pub resource: String,
    pub method: ProtectMethod,
}

/// How a protected resource is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtectMethod {
    /// `pg_dump` of the database whose DSN is the secret `dsn`.
    PgDump { dsn: SecretName },
    /// Run `argv` (no shell) and store its standard output.
    Command { argv: Vec<String> },
    /// The upstream's own backup call (Railway `volumeInstanceBackupCreate`): *not isolated*,
    /// since it dies with the volume.
    RailwayBackup,
}

/// `[ledger]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    pub path: PathBuf,
}

/// `[state]`: the state database (holds, approvers, revocations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    pub path: PathBuf,
}

/// `[hook]`: how the agent hook reaches the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookConfig {
    /// The gateway's base URL; `None`: the hook decides on its own and cannot register holds.
    pub gateway: Option<HttpUrl>,
    /// How long the hook waits for the gateway before it fails closed.
    pub timeout: Duration,
    /// How durable the hook's ledger entry is before it answers the harness.
    pub ledger_sync: LedgerSync,
}

/// `hook.ledger_sync`: how durable a hook decision is in the ledger before the hook answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerSync {
    /// `"full"`: fsynced (survives a power failure); costs an fsync per tool call.
    Full,
    /// `"os-buffered"` (the hook's default): committed to the OS, so it survives the agent or
    /// the hook being killed, but a power failure may lose the latest entries (the chain stays
    /// consistent).
    OsBuffered,
}

impl LedgerSync {
    /// The default for the hook; the gateway always fsyncs.
    pub const HOOK_DEFAULT: LedgerSync = LedgerSync::OsBuffered;

    /// The spelling in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerSync::Full => "full",
            LedgerSync::OsBuffered => "os-buffered",
        }
    }

    /// Parses the spelling in the config file.
    pub fn parse(text: &str) -> Option<LedgerSync> {
        match text {
            "full" => Some(LedgerSync::Full),
            "os-buffered" => Some(LedgerSync::OsBuffered),
            _ => None,
        }
    }
}
