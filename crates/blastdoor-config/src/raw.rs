//! The file as written: serde structs mirroring `blastdoor.toml`, every table with
//! `deny_unknown_fields`, every value that is checked later kept with its [`Spanned`] position so
//! that validation errors can name the line. Nothing here is trusted; [`crate::validate`] turns it
//! into [`crate::Config`].

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub gateway: Option<RawGateway>,
    #[serde(default)]
    pub upstream: Vec<RawUpstream>,
    pub approvals: Option<RawApprovals>,
    pub snapshots: Option<RawSnapshots>,
    #[serde(default)]
    pub protect: Vec<RawProtect>,
    pub ledger: Option<RawLedger>,
    pub state: Option<RawState>,
    pub hook: Option<RawHook>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGateway {
    pub listen: Option<Spanned<String>>,
    pub tls_cert: Option<Spanned<String>>,
    pub tls_key: Option<Spanned<String>>,
    pub max_body_bytes: Option<Spanned<i64>>,
    pub request_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstream {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub url: Spanned<String>,
    pub credential: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
    pub environment: Option<Spanned<String>>,
    #[serde(default)]
    pub environments: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub method: Spanned<String>,
    pub path: Spanned<String>,
    pub risk: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawApprovals {
    pub expiry: Option<Spanned<String>>,
    pub cooling_off: Option<Spanned<String>>,
    pub webhook_url: Option<Spanned<String>>,
    pub ui_base_url: Option<Spanned<String>>,
    pub schedule_project_deletes: Option<bool>,
    pub max_pending_per_agent: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnapshots {
    pub store: Option<Spanned<String>>,
    pub credential: Option<Spanned<String>>,
    pub endpoint: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub ca_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProtect {
    pub upstream: Spanned<String>,
    pub resource: Spanned<String>,
    pub method: Spanned<String>,
    pub dsn: Option<Spanned<String>>,
    pub argv: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLedger {
    pub path: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawState {
    pub path: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHook {
    pub gateway: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub ledger_sync: Option<Spanned<String>>,
}
