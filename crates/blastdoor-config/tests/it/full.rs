//! A full configuration, as the issues' examples write it, and the lookups the gateway uses.

use std::path::PathBuf;
use std::time::Duration;

use blastdoor_config::{ProtectMethod, RuleMethod, SnapshotStore, UpstreamKind};
use blastdoor_core::{Environment, Risk};

use crate::parse;

const FULL: &str = r#"
[gateway]
listen = "0.0.0.0:8443"
tls_cert = "/etc/blastdoor/cert.pem"
tls_key = "tls/key.pem"
max_body_bytes = 1048576
request_timeout = "1m30s"

[[upstream]]
name = "railway"
kind = "railway"
url = "https://backboard.railway.com"
credential = "railway-main"
[upstream.environments]
production = ["env-prod-1"]
staging = ["env-stg-1", "env-stg-2"]

[[upstream]]
name = "billing"
kind = "rest"
url = "https://api.billing.example.com/"
environment = "staging"
[upstream.environments]
production = ["/v1/live/"]
production-eu = ["/v1/live/eu/"]
[[upstream.rule]]
method = "post"
path = "/v1/*/accounts/*/close"
risk = "destroy"
[[upstream.rule]]
method = "*"
path = "/v1/admin/**"
risk = "escalate"

[[upstream]]
name = "k8s"
kind = "kubernetes"
url = "https://10.0.0.1:6443"
[upstream.environments]
production = ["prod", "payments"]

[approvals]
expiry = "2h"
cooling_off = "0s"
ui_base_url = "https://blastdoor.example.com/ui"
max_pending_per_agent = 50

[snapshots]
store = "s3://pocketos-snapshots/blastdoor/"
credential = "snapshot-store"
endpoint = "http://127.0.0.1:9000"
region = "eu-west-1"

[[protect]]
upstream = "railway"
resource = "vol-pg-data"
method = "pg_dump"
dsn = "pocketos-prod-db"

[[protect]]
upstream = "k8s"
resource = "pvc/mysql"
method = "command"
argv = ["mysqldump", "--all-databases"]

[ledger]
path = "/var/lib/blastdoor/ledger.sqlite"

[hook]
gateway = "http://127.0.0.1:7878"
timeout = "500ms"
"#;

#[test]
fn a_full_configuration_is_understood() {
    let config = parse(FULL).unwrap();
    assert_eq!(config.gateway.listen.to_string(), "0.0.0.0:8443");
    let tls = config.gateway.tls.as_ref().unwrap();
    assert_eq!(tls.cert, PathBuf::from("/etc/blastdoor/cert.pem"));
    assert_eq!(tls.key, PathBuf::from("/home/me/.blastdoor/tls/key.pem"));
    assert_eq!(config.gateway.request_timeout, Duration::from_secs(90));
    assert_eq!(config.approvals.cooling_off, Duration::ZERO);
    assert_eq!(config.approvals.max_pending_per_agent.get(), 50);
    assert_eq!(
        config.snapshots.store,
        SnapshotStore::S3 {
            bucket: "pocketos-snapshots".to_owned(),
            prefix: "blastdoor".to_owned()
        }
    );
    assert_eq!(config.hook.timeout, Duration::from_millis(500));
    assert_eq!(
        config.hook.gateway.as_ref().unwrap().as_str(),
        "http://127.0.0.1:7878"
    );
    let billing = config.upstream("billing").unwrap();
    assert_eq!(billing.url.as_str(), "https://api.billing.example.com");
    assert_eq!(
        billing.rules[0].method,
        RuleMethod::Exactly("POST".to_owned())
    );
    assert_eq!(billing.rules[1].risk, Risk::Escalate);
    assert!(matches!(
        config.protection("railway", "vol-pg-data").unwrap().method,
        ProtectMethod::PgDump { .. }
    ));
    assert!(config.protection("railway", "vol-other").is_none());
    assert_eq!(
        config.upstream("k8s").unwrap().kind,
        UpstreamKind::Kubernetes
    );
}

#[test]
fn environments_resolve_per_kind_and_never_guess() {
    let config = parse(FULL).unwrap();
    let railway = config.upstream("railway").unwrap();
    assert_eq!(
        railway.environment_of("env-prod-1"),
        Environment::production()
    );
    assert_eq!(railway.environment_of("env-stg-2").as_str(), "staging");
    assert_eq!(railway.environment_of("env-new"), Environment::Unknown);
    let billing = config.upstream("billing").unwrap();
    assert_eq!(
        billing.environment_of("/v1/live/accounts/1").as_str(),
        "production"
    );
    assert_eq!(
        billing.environment_of("/v1/live/eu/accounts/1").as_str(),
        "production-eu"
    );
    assert_eq!(
        billing.environment_of("/v1/test/accounts/1").as_str(),
        "staging"
    );
    let k8s = config.upstream("k8s").unwrap();
    assert_eq!(k8s.environment_of("payments"), Environment::production());
    assert_eq!(k8s.environment_of("default"), Environment::Unknown);
}

#[test]
fn rest_path_patterns() {
    let config = parse(FULL).unwrap();
    let billing = config.upstream("billing").unwrap();
    let close = &billing.rules[0].path;
    assert!(close.matches("/v1/live/accounts/42/close"));
    assert!(close.matches("/v1/live/accounts/42/close?force=1"));
    assert!(!close.matches("/v1/live/accounts/42/close/extra"));
    assert!(!close.matches("/v1/live/accounts//close"));
    let admin = &billing.rules[1].path;
    assert!(admin.matches("/v1/admin"));
    assert!(admin.matches("/v1/admin/keys/new"));
    assert!(!admin.matches("/v1/adminx"));
    assert!(billing.rules[1].method.matches("DELETE"));
    assert!(billing.rules[0].method.matches("post"));
}

#[test]
fn the_ui_base_url_is_configured_or_derived() {
    assert_eq!(
        parse(FULL).unwrap().ui_base_url(),
        "https://blastdoor.example.com/ui"
    );
    assert_eq!(parse("").unwrap().ui_base_url(), "http://127.0.0.1:7878/ui");
    let config =
        parse("[gateway]\nlisten = \"0.0.0.0:8443\"\ntls_cert = \"c\"\ntls_key = \"k\"\n").unwrap();
    assert_eq!(config.ui_base_url(), "https://127.0.0.1:8443/ui");
}

#[test]
fn an_s3_snapshot_store_may_trust_an_extra_ca_file() {
    let config = parse(
        "[snapshots]\nstore = \"s3://bucket/x\"\nendpoint = \"https://s3.internal:9000\"\nca_file = \"certs/s3-ca.pem\"\n",
    )
    .unwrap();
    assert_eq!(
        config.snapshots.ca_file,
        Some(PathBuf::from("/home/me/.blastdoor/certs/s3-ca.pem"))
    );
    assert_eq!(
        parse("[snapshots]\nstore = \"s3://bucket/x\"\n")
            .unwrap()
            .snapshots
            .ca_file,
        None
    );
}

#[test]
fn an_upstream_may_trust_an_extra_ca_file() {
    let config = parse(
        "[[upstream]]\nname = \"private\"\nkind = \"rest\"\nurl = \"https://api.internal\"\nca_file = \"certs/internal-ca.pem\"\n\n[[upstream]]\nname = \"public\"\nkind = \"rest\"\nurl = \"https://api.example.com\"\n",
    )
    .unwrap();
    assert_eq!(
        config.upstream("private").unwrap().ca_file,
        Some(PathBuf::from("/home/me/.blastdoor/certs/internal-ca.pem"))
    );
    assert_eq!(config.upstream("public").unwrap().ca_file, None);
    assert!(
        parse(
            "[[upstream]]\nname = \"x\"\nkind = \"rest\"\nurl = \"https://a.b\"\nca_file = \"\"\n"
        )
        .is_err()
    );
}
