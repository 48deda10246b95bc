//! `blastdoor.toml`: the configuration every blastdoor command, the hook and the server read.
//!
//! Parsing happens in two steps (parse, don't validate): [`raw`] mirrors the file with serde and
//! `deny_unknown_fields`, and [`parse`] converts it once into the validated [`Config`] the rest of
//! blastdoor consumes. Every key has a documented default, applied during that conversion, so a
//! file holding only the sections a user needs is complete; [`DEFAULT_CONFIG_TOML`] is that
//! documentation. Errors name the file, the line and the key.
//!
//! This crate must not open sockets, start threads, read secrets (it holds secret *names*; the
//! broker resolves them) or depend on any blastdoor crate but `blastdoor-core`. Its only IO is
//! reading the one file [`load`] is given. Security settings have no `Default` impl: defaults live
//! in the validation step, next to their documentation.

mod duration;
mod error;
mod raw;
mod types;
mod url;
mod validate;

use std::path::Path;

pub use duration::parse_duration;
pub use error::ConfigError;
pub use types::{
    ApprovalsConfig, Config, GatewayConfig, HookConfig, LedgerConfig, LedgerSync, PathPattern,
    ProtectConfig, ProtectMethod, RestRule, RuleMethod, SecretName, SnapshotStore, SnapshotsConfig,
    StateConfig, TlsConfig, UpstreamConfig, UpstreamKind, UpstreamName,
};
pub use url::HttpUrl;

/// The commented default `blastdoor.toml` that `blastdoor init` writes. Every key is documented
/// in it; every setting is commented out, so it parses to the same [`Config`] as an empty file.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../blastdoor.default.toml");

/// Reads and validates the configuration file at `path`; a missing file is an error.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Like [`load`], but a file that does not exist gives the documented defaults (as an empty file
/// would), with relative paths resolved beside where the file would be.
pub fn load_or_default(path: &Path) -> Result<Config, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => parse("", path),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Parses and validates configuration `text`. `origin` is the file it came from: it labels
/// errors, and relative paths in the file are resolved against its directory.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig =
        toml::from_str(text).map_err(|error| ConfigError::from_toml(origin, text, &error))?;
    validate::validate(raw, text, origin)
}
