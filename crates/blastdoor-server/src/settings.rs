//! [`Settings`] and [`Paths`]: what the server runs from. [`Settings::from_config`] takes the
//! validated `blastdoor.toml` ([`blastdoor_config::Config`]); the binary supplies [`Paths`]
//! from `BLASTDOOR_HOME`.

use std::path::PathBuf;
use std::time::Duration;

use blastdoor_config::{Config, TlsConfig, UpstreamConfig};
use blastdoor_gateway::Limits;

use crate::approvals::ApprovalSettings;

/// Everything the server needs besides files.
#[derive(Debug, Clone)]
pub struct Settings {
    pub upstreams: Vec<UpstreamConfig>,
    pub limits: Limits,
    /// Verified tokens kept in memory, and for how long before full re-verification.
    pub token_cache_capacity: usize,
    pub token_cache_ttl: Duration,
    /// A Railway topology refresh on an unknown id happens at most this often.
    pub topology_min_refresh: Duration,
    /// Holds, cooling-off, notifications and snapshots.
    pub approvals: ApprovalSettings,
    /// `[gateway] tls_cert` / `tls_key`: serve HTTPS (`None`: plain HTTP).
    pub tls: Option<TlsConfig>,
}

impl Settings {
    /// The settings `blastdoor serve` uses for `config`: its upstreams, its body limit and
    /// request timeout (for the head and for the body each), a cache of 10 000 verified tokens
    /// re-verified every 5 minutes, topology refreshes at most once a second.
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            upstreams: config.upstreams.clone(),
            limits: Limits {
                max_body_bytes: usize::try_from(config.gateway.max_body_bytes)
                    .unwrap_or(usize::MAX),
                header_read_timeout: config.gateway.request_timeout,
                body_read_timeout: config.gateway.request_timeout,
            },
            token_cache_capacity: 10_000,
            token_cache_ttl: Duration::from_secs(300),
            topology_min_refresh: Duration::from_secs(1),
            approvals: ApprovalSettings {
                expiry: config.approvals.expiry,
                cooling_off: config.approvals.cooling_off,
                webhook_url: config.approvals.webhook_url.clone(),
                ui_base_url: config.ui_base_url(),
                schedule_project_deletes: config.approvals.schedule_project_deletes,
                snapshots: config.snapshots.clone(),
                protect: config.protect.clone(),
                max_pending_per_agent: config.approvals.max_pending_per_agent,
            },
            tls: config.gateway.tls.clone(),
        }
    }
}

/// The files the server reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `BLASTDOOR_HOME/keys`: the secret-store key and the token root public key.
    pub keys_dir: PathBuf,
    /// The encrypted secret store.
    pub secrets_file: PathBuf,
    /// The token registry (revocations).
    pub token_registry: PathBuf,
    /// `*.cedar` policies; when the directory does not exist, the default policies are used.
    pub policies_dir: PathBuf,
    pub ledger_file: PathBuf,
    /// `BLASTDOOR_HOME`: the approval state's other files (approver seeds, freeze marker).
    pub home: PathBuf,
    /// The approval state database (`[state] path`).
    pub state_db: PathBuf,
}
