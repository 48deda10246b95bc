//! The one conversion from [`crate::raw`] to [`Config`]: every check, every default. The
//! defaults here are the ones documented in `blastdoor.default.toml`; a test keeps them equal.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::num::NonZeroU32;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use blastdoor_core::Secret;
use toml::Spanned;

use crate::raw::{RawApprovals, RawConfig, RawGateway, RawHook, RawLedger, RawSnapshots, RawState};
use crate::types::{
    ApprovalsConfig, Config, GatewayConfig, HookConfig, LedgerConfig, LedgerSync, SecretName,
    SnapshotStore, SnapshotsConfig, StateConfig, TlsConfig, UpstreamConfig,
};
use crate::{ConfigError, HttpUrl, parse_duration};

mod protect;
mod upstream;

use protect::protect;

const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 7878));
const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
const MAX_MAX_BODY_BYTES: u64 = 1024 * 1024 * 1024;
const DEFAULT_REQUEST_TIMEOUT: &str = "30s";
const DEFAULT_EXPIRY: &str = "1h";
const DEFAULT_COOLING_OFF: &str = "10m";
const DEFAULT_MAX_PENDING_PER_AGENT: NonZeroU32 = match NonZeroU32::new(20) {
    Some(cap) => cap,
    None => NonZeroU32::MIN,
};
const DEFAULT_SNAPSHOT_STORE: &str = "snapshots";
const DEFAULT_LEDGER_PATH: &str = "ledger.sqlite";
const DEFAULT_STATE_PATH: &str = "state.sqlite";
const DEFAULT_HOOK_TIMEOUT: &str = "2s";

/// Where errors point: the text, the file, and the directory relative paths are resolved in.
pub(super) struct Context<'a> {
    text: &'a str,
    origin: &'a Path,
    base_dir: PathBuf,
}

impl Context<'_> {
    fn error(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::at(
            self.origin,
            self.text,
            span.start,
            Some(key.into()),
            message,
        )
    }

    fn duration(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: &str,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => parse_duration(default).map_err(|message| self.error(0..0, key, message)),
            Some(value) => parse_duration(value.get_ref())
                .map_err(|message| self.error(value.span(), key, message)),
        }
    }

    fn url(&self, value: &Spanned<String>, key: &str) -> Result<HttpUrl, ConfigError> {
        HttpUrl::parse(value.get_ref()).map_err(|message| self.error(value.span(), key, message))
    }

    fn path(
        &self,
        value: Option<&Spanned<String>>,
        key: &str,
        default: &str,
    ) -> Result<PathBuf, ConfigError> {
        let (text, span) = match value {
            Some(value) => (value.get_ref().as_str(), value.span()),
            None => (default, 0..0),
        };
        if text.trim().is_empty() {
            return Err(self.error(span, key, "a path must not be empty"));
        }
        let path = Path::new(text);
        Ok(if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        })
    }

    fn secret_name(&self, value: &Spanned<String>, key: &str) -> Result<SecretName, ConfigError> {
        let name = value.get_ref();
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(SecretName(name.clone()))
        } else {
            Err(self.error(
                value.span(),
                key,
                "expected the name of a secret stored with `blastdoor secret set NAME` (letters, digits, `-`, `_`, `.`), never the secret itself",
            ))
        }
    }
}

pub(crate) fn validate(raw: RawConfig, text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let base_dir = origin.parent().map(Path::to_owned).unwrap_or_default();
    let context = Context {
        text,
        origin,
        base_dir,
    };
    let gateway = gateway(&context, raw.gateway)?;
    let mut upstreams = Vec::with_capacity(raw.upstream.len());
    for (index, upstream) in raw.upstream.into_iter().enumerate() {
        let name_span = upstream.name.span();
        let validated = upstream::upstream(&context, index, upstream)?;
        if let Some(earlier) = upstreams
            .iter()
            .position(|earlier: &UpstreamConfig| earlier.name == validated.name)
        {
            return Err(context.error(
                name_span,
                format!("upstream[{}].name", index + 1),
                format!(
                    "`{}` is already the name of upstream[{}]; upstream names must be unique",
                    validated.name,
                    earlier + 1
                ),
            ));
        }
        upstreams.push(validated);
    }
    let protect = protect(&context, raw.protect, &upstreams)?;
    Ok(Config {
        origin: origin.to_owned(),
        gateway,
        upstreams,
        approvals: approvals(&context, raw.approvals)?,
        snapshots: snapshots(&context, raw.snapshots)?,
        protect,
        ledger: ledger(&context, raw.ledger)?,
        state: state(&context, raw.state)?,
        hook: hook(&context, raw.hook)?,
    })
}

fn gateway(context: &Context<'_>, raw: Option<RawGateway>) -> Result<GatewayConfig, ConfigError> {
    let raw = raw.unwrap_or(RawGateway {
        listen: None,
        tls_cert: None,
        tls_key: None,
        max_body_bytes: None,
        request_timeout: None,
    });
    let listen = match &raw.listen {
        None => DEFAULT_LISTEN,
        Some(listen) => listen.get_ref().parse::<SocketAddr>().map_err(|_| {
            context.error(
                listen.span(),
                "gateway.listen",
                format!("`{}` is not an address; expected an IP address and port such as \"127.0.0.1:7878\"", listen.get_ref()),
            )
        })?,
    };
    let tls = match (&raw.tls_cert, &raw.tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(TlsConfig {
            cert: context.path(Some(cert), "gateway.tls_cert", "")?,
            key: context.path(Some(key), "gateway.tls_key", "")?,
        }),
        (Some(cert), None) => {
            return Err(context.error(
                cert.span(),
                "gateway.tls_cert",
                "`tls_cert` needs `tls_key` as well",
            ));
        }
        (None, Some(key)) => {
            return Err(context.error(
                key.span(),
                "gateway.tls_key",
                "`tls_key` needs `tls_cert` as well",
            ));
        }
    };
    let max_body_bytes = match &raw.max_body_bytes {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(bytes) => u64::try_from(*bytes.get_ref())
            .ok()
            .filter(|bytes| (1..=MAX_MAX_BODY_BYTES).contains(bytes))
            .ok_or_else(|| {
                context.error(
                    bytes.span(),
                    "gateway.max_body_bytes",
                    format!("expected a size from 1 to {MAX_MAX_BODY_BYTES} bytes"),
                )
            })?,
    };
    let request_timeout = context.duration(
        raw.request_timeout.as_ref(),
        "gateway.request_timeout",
        DEFAULT_REQUEST_TIMEOUT,
    )?;
    if request_timeout.is_zero() {
        let span = raw.request_timeout.as_ref().map_or(0..0, Spanned::span);
        return Err(context.error(span, "gateway.request_timeout", "must be longer than zero"));
    }
    Ok(GatewayConfig {
        listen,
        tls,
        max_body_bytes,
        request_timeout,
    })
}

fn approvals(
    context: &Context<'_>,
    raw: Option<RawApprovals>,
) -> Result<ApprovalsConfig, ConfigError> {
    let raw = raw.unwrap_or(RawApprovals {
        expiry: None,
        cooling_off: None,
        webhook_url: None,
        ui_base_url: None,
        schedule_project_deletes: None,
        max_pending_per_agent: None,
    });
    let expiry = context.duration(raw.expiry.as_ref(), "approvals.expiry", DEFAULT_EXPIRY)?;
    if expiry.is_zero() {
        let span = raw.expiry.as_ref().map_or(0..0, Spanned::span);
        return Err(context.error(
            span,
            "approvals.expiry",
            "a hold must live longer than zero",
        ));
    }
    let cooling_off = context.duration(
        raw.cooling_off.as_ref(),
        "approvals.cooling_off",
        DEFAULT_COOLING_OFF,
    )?;
    let webhook_url = match raw.webhook_url {
        None => None,
        Some(url) => {
            // The URL embeds a secret: the message must not repeat it.
            let parsed = HttpUrl::parse(url.get_ref()).map_err(|_| {
                context.error(
                    url.span(),
                    "approvals.webhook_url",
                    "expected an https:// webhook URL (the value is not shown: it holds a secret)",
                )
            })?;
            if !parsed.is_https() {
                return Err(context.error(
                    url.span(),
                    "approvals.webhook_url",
                    "the webhook URL must use https:// (it carries a secret)",
                ));
            }
            Some(Secret::new(url.into_inner()))
        }
    };
    let max_pending_per_agent = match &raw.max_pending_per_agent {
        None => DEFAULT_MAX_PENDING_PER_AGENT,
        Some(count) => u32::try_from(*count.get_ref())
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| {
                context.error(
                    count.span(),
                    "approvals.max_pending_per_agent",
                    format!("expected a number of holds from 1 to {}", u32::MAX),
                )
            })?,
    };
    let ui_base_url = raw
        .ui_base_url
        .as_ref()
        .map(|url| context.url(url, "approvals.ui_base_url"))
        .transpose()?;
    Ok(ApprovalsConfig {
        expiry,
        cooling_off,
        webhook_url,
        ui_base_url,
        schedule_project_deletes: raw.schedule_project_deletes.unwrap_or(true),
        max_pending_per_agent,
    })
}

fn snapshots(
    context: &Context<'_>,
    raw: Option<RawSnapshots>,
) -> Result<SnapshotsConfig, ConfigError> {
    let raw = raw.unwrap_or(RawSnapshots {
        store: None,
        credential: None,
        endpoint: None,
        region: None,
        ca_file: None,
    });
    let store = match &raw.store {
        Some(store) if store.get_ref().starts_with("s3://") => {
            let rest = store.get_ref().trim_start_matches("s3://");
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let bucket_ok = (3..=63).contains(&bucket.len())
                && bucket
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !bucket_ok {
                return Err(context.error(
                    store.span(),
                    "snapshots.store",
                    format!("`{bucket}` is not an S3 bucket name; expected s3://bucket/prefix"),
                ));
            }
            SnapshotStore::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            }
        }
        Some(store) if store.get_ref().contains("://") => {
            return Err(context.error(
                store.span(),
                "snapshots.store",
                "expected a directory or s3://bucket/prefix",
            ));
        }
        store => SnapshotStore::Directory(context.path(
            store.as_ref(),
            "snapshots.store",
            DEFAULT_SNAPSHOT_STORE,
        )?),
    };
    let is_s3 = matches!(store, SnapshotStore::S3 { .. });
    for (value, key) in [
        (&raw.credential, "snapshots.credential"),
        (&raw.endpoint, "snapshots.endpoint"),
        (&raw.region, "snapshots.region"),
        (&raw.ca_file, "snapshots.ca_file"),
    ] {
        if let Some(value) = value
            && !is_s3
        {
            return Err(context.error(value.span(), key, "only applies to an s3:// store"));
        }
    }
    Ok(SnapshotsConfig {
        store,
        credential: raw
            .credential
            .as_ref()
            .map(|name| context.secret_name(name, "snapshots.credential"))
            .transpose()?,
        endpoint: raw
            .endpoint
            .as_ref()
            .map(|url| context.url(url, "snapshots.endpoint"))
            .transpose()?,
        region: raw.region.map(Spanned::into_inner),
        ca_file: match &raw.ca_file {
            Some(path) => Some(context.path(Some(path), "snapshots.ca_file", "")?),
            None => None,
        },
    })
}

fn ledger(context: &Context<'_>, raw: Option<RawLedger>) -> Result<LedgerConfig, ConfigError> {
    let path = raw.and_then(|raw| raw.path);
    Ok(LedgerConfig {
        path: context.path(path.as_ref(), "ledger.path", DEFAULT_LEDGER_PATH)?,
    })
}

fn state(context: &Context<'_>, raw: Option<RawState>) -> Result<StateConfig, ConfigError> {
    let path = raw.and_then(|raw| raw.path);
    Ok(StateConfig {
        path: context.path(path.as_ref(), "state.path", DEFAULT_STATE_PATH)?,
    })
}

fn hook(context: &Context<'_>, raw: Option<RawHook>) -> Result<HookConfig, ConfigError> {
    let raw = raw.unwrap_or(RawHook {
        gateway: None,
        timeout: None,
        ledger_sync: None,
    });
    let ledger_sync = match raw.ledger_sync.as_ref() {
        None => LedgerSync::HOOK_DEFAULT,
        Some(value) => LedgerSync::parse(value.get_ref()).ok_or_else(|| {
            context.error(
                value.span(),
                "hook.ledger_sync",
                format!(
                    "unknown ledger sync `{}` (expected full or os-buffered)",
                    value.get_ref()
                ),
            )
        })?,
    };
    let timeout = context.duration(raw.timeout.as_ref(), "hook.timeout", DEFAULT_HOOK_TIMEOUT)?;
    if timeout.is_zero() {
        let span = raw.timeout.as_ref().map_or(0..0, Spanned::span);
        return Err(context.error(span, "hook.timeout", "must be longer than zero"));
    }
    Ok(HookConfig {
        gateway: raw
            .gateway
            .as_ref()
            .map(|url| context.url(url, "hook.gateway"))
            .transpose()?,
        timeout,
        ledger_sync,
    })
}
