//! The defaults: an empty file is complete, and the commented default file documents exactly
//! the defaults the code applies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use blastdoor_config::{DEFAULT_CONFIG_TOML, SnapshotStore, UpstreamKind};

use crate::parse;

#[test]
fn an_empty_file_is_complete() {
    let config = parse("").unwrap();
    assert_eq!(config.gateway.listen.to_string(), "127.0.0.1:7878");
    assert_eq!(config.gateway.tls, None);
    assert_eq!(config.gateway.max_body_bytes, 10 * 1024 * 1024);
    assert_eq!(config.gateway.request_timeout, Duration::from_secs(30));
    assert!(config.upstreams.is_empty());
    assert_eq!(config.approvals.expiry, Duration::from_secs(3600));
    assert_eq!(config.approvals.cooling_off, Duration::from_secs(600));
    assert_eq!(config.approvals.webhook_url, None);
    assert_eq!(config.approvals.max_pending_per_agent.get(), 20);
    let five = parse("[approvals]\nmax_pending_per_agent = 5\n").unwrap();
    assert_eq!(five.approvals.max_pending_per_agent.get(), 5);
    assert_eq!(
        config.snapshots.store,
        SnapshotStore::Directory(PathBuf::from("/home/me/.blastdoor/snapshots"))
    );
    assert_eq!(
        config.ledger.path,
        Path::new("/home/me/.blastdoor/ledger.sqlite")
    );
    assert_eq!(
        config.state.path,
        Path::new("/home/me/.blastdoor/state.sqlite")
    );
    assert_eq!(config.hook.gateway, None);
    assert_eq!(config.hook.timeout, Duration::from_secs(2));
    assert_eq!(
        config.hook.ledger_sync,
        blastdoor_config::LedgerSync::OsBuffered
    );
    let full = parse("[hook]\nledger_sync = \"full\"\n").unwrap();
    assert_eq!(full.hook.ledger_sync, blastdoor_config::LedgerSync::Full);
}

#[test]
fn the_default_file_parses_to_the_same_config_as_an_empty_file() {
    assert_eq!(parse(DEFAULT_CONFIG_TOML).unwrap(), parse("").unwrap());
}

/// Uncommenting every setting of the default file (lines starting with a single `# `) gives a
/// valid file whose values are the defaults: the documentation cannot drift from the code.
#[test]
fn the_documented_defaults_are_the_real_defaults() {
    let uncommented: String = DEFAULT_CONFIG_TOML
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(setting) if !line.starts_with("##") => setting,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = parse(&uncommented).unwrap();
    let defaults = parse("").unwrap();
    assert_eq!(config.gateway.listen, defaults.gateway.listen);
    assert_eq!(
        config.gateway.max_body_bytes,
        defaults.gateway.max_body_bytes
    );
    assert_eq!(
        config.gateway.request_timeout,
        defaults.gateway.request_timeout
    );
    assert_eq!(config.approvals.expiry, defaults.approvals.expiry);
    assert_eq!(config.approvals.cooling_off, defaults.approvals.cooling_off);
    assert_eq!(
        config.approvals.schedule_project_deletes,
        defaults.approvals.schedule_project_deletes
    );
    assert!(defaults.approvals.schedule_project_deletes);
    assert_eq!(
        config.approvals.max_pending_per_agent,
        defaults.approvals.max_pending_per_agent
    );
    assert_eq!(config.ledger, defaults.ledger);
    assert_eq!(config.state, defaults.state);
    assert_eq!(config.hook.timeout, defaults.hook.timeout);
    // The examples are complete and valid too.
    assert_eq!(config.upstreams.len(), 2);
    assert_eq!(config.upstreams[0].kind, UpstreamKind::Railway);
    assert_eq!(config.upstreams[1].kind, UpstreamKind::Rest);
    assert_eq!(config.upstreams[1].rules.len(), 1);
    assert_eq!(config.protect.len(), 1);
}

#[test]
fn load_or_default_gives_defaults_for_a_missing_file_and_load_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blastdoor.toml");
    let config = blastdoor_config::load_or_default(&path).unwrap();
    assert_eq!(config.ledger.path, dir.path().join("ledger.sqlite"));
    let error = blastdoor_config::load(&path).unwrap_err().to_string();
    assert!(error.contains("blastdoor.toml"), "{error}");
    std::fs::write(&path, "[gateway]\nlisten = \"0.0.0.0:9000\"\n").unwrap();
    let config = blastdoor_config::load(&path).unwrap();
    assert_eq!(config.gateway.listen.port(), 9000);
}

#[test]
fn docs_config_md_shows_the_default_file_verbatim() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/config.md"))
            .unwrap();
    assert!(
        page.contains(DEFAULT_CONFIG_TOML),
        "docs/config.md is out of date: copy blastdoor.default.toml into it"
    );
}
