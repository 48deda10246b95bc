//! The S3 store against a real S3-compatible server (moto) on loopback: Object Lock retention
//! on a bucket that has it, a plain bucket, and an `https://` endpoint (a TLS-terminating proxy
//! in front of moto) trusted through `[snapshots] ca_file` or refused without it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use blastdoor_core::Secret;
use blastdoor_snapshot::{
    LockMode, ManifestSigner, ObjectLockPolicy, PgTarget, Progress, RestoreMode, S3Credentials,
    S3Location, S3Store, Snapshotter, Store, now_unix,
};

use crate::support::*;

const LOCK: ObjectLockPolicy = ObjectLockPolicy {
    mode: LockMode::Compliance,
    retain_for_seconds: 86_400,
};

async fn bucket(object_lock: bool) -> String {
    let bucket = unique("bd-snap-").replace('x', "-");
    let location = S3Location {
        endpoint: s3_endpoint(),
        region: "us-east-1".into(),
        bucket: bucket.clone(),
        prefix: String::new(),
        ca_file: None,
    };
    let credentials = S3Credentials {
        access_key_id: "test".into(),
        secret_access_key: Secret::new("test".into()),
    };
    S3Store::create_bucket(&location, &credentials, object_lock)
        .await
        .unwrap();
    bucket
}

async fn s3_snapshotter(
    dir: &std::path::Path,
    bucket: &str,
    protect: &str,
) -> (Snapshotter, blastdoor_config::Config) {
    let config = config(
        dir,
        &format!(
            "[snapshots]\nstore = \"s3://{bucket}/prod/snapshots\"\ncredential = \"s3-creds\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\n{protect}",
            s3_endpoint()
        ),
    );
    let store = Snapshotter::open_store(&config.snapshots, &secrets(String::new()), LOCK)
        .await
        .unwrap();
    let signer = ManifestSigner::load_or_create(&dir.join("keys")).unwrap();
    (Snapshotter::new(store, signer), config)
}

#[tokio::test]
async fn object_lock_bucket_holds_snapshots_under_retention() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket(true).await;
    let source = create_database("s3src");
    fill_sample(&source);
    let (snapshotter, config) = s3_snapshotter(dir.path(), &bucket, PROTECT_PG).await;
    let Store::S3(store) = snapshotter.store() else {
        panic!("expected an S3 store")
    };
    assert_eq!(store.object_lock(), Some(LOCK));

    let now = now_unix();
    let manifest = snapshotter
        .take(
            &config.protect[0],
            &secrets(source.clone()),
            now,
            Progress::Quiet,
        )
        .await
        .unwrap();
    for key in [
        format!("prod/snapshots/blobs/{}", manifest.sha256),
        format!("prod/snapshots/manifests/{}", manifest.id),
    ] {
        let retention = store.retention(&key).await.unwrap().unwrap();
        assert_eq!(retention.mode, "COMPLIANCE");
        // One day after `now`, as the store reports it.
        let expected_day = std::process::Command::new("date")
            .args(["-u", "-d", &format!("@{}", now + 86_400), "+%Y-%m-%dT%H:%M"])
            .output()
            .unwrap();
        let expected_day = String::from_utf8(expected_day.stdout).unwrap();
        assert!(
            retention.retain_until.starts_with(expected_day.trim()),
            "{retention:?} vs {expected_day}"
        );
    }
    // Reads are pinned to the version stored: overwriting the key or hiding it behind a delete
    // marker (what someone holding the store's credentials could do) changes nothing.
    assert!(manifest.blob_version.is_some());
    let blob_path = format!("/{bucket}/prod/snapshots/blobs/{}", manifest.sha256);
    assert_eq!(raw_request("PUT", &blob_path, b"overwritten"), 200);
    assert_eq!(
        snapshotter
            .verify(&manifest.id, Progress::Quiet)
            .await
            .unwrap(),
        manifest
    );
    assert_eq!(raw_request("DELETE", &blob_path, b""), 204);
    assert_eq!(
        snapshotter
            .verify(&manifest.id, Progress::Quiet)
            .await
            .unwrap(),
        manifest
    );

    let listed = snapshotter.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    let stored = serde_json::to_string(listed[0].manifest.as_ref().unwrap()).unwrap();
    assert!(stored.contains(&manifest.sha256));
    assert!(!stored.contains(&pg_password()));

    // Restored from the bucket into a fresh database, every row comes back.
    let fresh = create_database("s3restored");
    snapshotter
        .restore(
            &manifest.id,
            &PgTarget::parse(&Secret::new(fresh.clone()), "--to").unwrap(),
            RestoreMode::RefuseNonEmpty,
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(sample_fingerprint(&fresh), sample_fingerprint(&source));
}

#[tokio::test]
async fn a_plain_bucket_works_without_object_lock() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket(false).await;
    let (snapshotter, config) = s3_snapshotter(
        dir.path(),
        &bucket,
        &protect_command(r#"["sh", "-c", "seq 1 200000"]"#),
    )
    .await;
    let Store::S3(store) = snapshotter.store() else {
        panic!("expected an S3 store")
    };
    assert_eq!(store.object_lock(), None);
    let first = snapshotter
        .take(
            &config.protect[0],
            &secrets(String::new()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap();
    let second = snapshotter
        .take(
            &config.protect[0],
            &secrets(String::new()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(first.sha256, second.sha256);
    assert_eq!(
        snapshotter
            .verify(&first.id, Progress::Quiet)
            .await
            .unwrap(),
        first
    );
    let retention = store
        .retention(&format!("prod/snapshots/blobs/{}", first.sha256))
        .await
        .unwrap();
    assert_eq!(retention, None);
    // Without versions, an overwritten blob is caught by its digest.
    let blob_path = format!("/{bucket}/prod/snapshots/blobs/{}", first.sha256);
    assert_eq!(raw_request("PUT", &blob_path, b"tampered bytes"), 200);
    let error = snapshotter
        .verify(&first.id, Progress::Quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            blastdoor_snapshot::SnapshotError::Verification { .. }
        ),
        "{error}"
    );

    let mut ids: Vec<_> = snapshotter
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|listed| listed.id)
        .collect();
    ids.sort();
    let mut expected = vec![first.id, second.id];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_missing_bucket_or_wrong_endpoint_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        &format!(
            "[snapshots]\nstore = \"s3://no-such-bucket-{}/x\"\ncredential = \"s3-creds\"\nendpoint = \"{}\"\n",
            std::process::id(),
            s3_endpoint()
        ),
    );
    assert!(
        Snapshotter::open_store(&config.snapshots, &secrets(String::new()), LOCK)
            .await
            .is_err()
    );
    let no_credential = config_without_credential(dir.path());
    let error = Snapshotter::open_store(&no_credential.snapshots, &secrets(String::new()), LOCK)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("credential"), "{error}");
}

fn config_without_credential(dir: &std::path::Path) -> blastdoor_config::Config {
    config(
        dir,
        &format!(
            "[snapshots]\nstore = \"s3://bucket/x\"\nendpoint = \"{}\"\n",
            s3_endpoint()
        ),
    )
}

/// A request straight to the S3 server with the store's access key but no real signature
/// (moto does not check signatures): what someone holding
/// the store's credentials could do behind blastdoor's back. The status code.
fn raw_request(method: &str, path: &str, body: &[u8]) -> u16 {
    use std::io::{Read as _, Write as _};
    let endpoint = s3_endpoint();
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: blastdoor-test\r\nContent-Type: application/octet-stream\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

/// A CA and a certificate for `127.0.0.1` signed by it: (CA PEM, leaf DER, leaf key DER).
fn test_pki() -> (String, Vec<u8>, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "blastdoor snapshot test ca");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    (ca.pem(), leaf.der().to_vec(), leaf_key.serialize_der())
}

/// A TLS-terminating proxy on `127.0.0.1:PORT` in front of moto: (port, CA PEM, number of
/// completed TLS handshakes).
async fn tls_proxy() -> (u16, String, Arc<AtomicUsize>) {
    use tokio_rustls::rustls;
    let (ca_pem, leaf, key) = test_pki();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![rustls::pki_types::CertificateDer::from(leaf)],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let moto = s3_endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let moto = moto.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&moto).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (port, ca_pem, handshakes)
}

fn https_config(
    dir: &std::path::Path,
    bucket: &str,
    port: u16,
    extra: &str,
) -> blastdoor_config::Config {
    config(
        dir,
        &format!(
            "[snapshots]\nstore = \"s3://{bucket}/prod/snapshots\"\ncredential = \"s3-creds\"\nendpoint = \"https://127.0.0.1:{port}\"\nregion = \"us-east-1\"\n{extra}\n{PROTECT_PG}"
        ),
    )
}

#[tokio::test]
async fn an_https_endpoint_works_when_its_ca_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket(true).await;
    let (port, ca_pem, handshakes) = tls_proxy().await;
    std::fs::write(dir.path().join("s3-ca.pem"), ca_pem).unwrap();
    let config = https_config(dir.path(), &bucket, port, "ca_file = \"s3-ca.pem\"");
    let store = Snapshotter::open_store(&config.snapshots, &secrets(String::new()), LOCK)
        .await
        .unwrap();
    let Store::S3(s3) = &store else {
        panic!("expected an S3 store")
    };
    // The bucket's Object Lock answer came back through TLS.
    assert_eq!(s3.object_lock(), Some(LOCK));
    assert!(handshakes.load(Ordering::SeqCst) >= 1);
    let signer = ManifestSigner::load_or_create(&dir.path().join("keys")).unwrap();
    let snapshotter = Snapshotter::new(store, signer);

    let source = create_database("s3tlssrc");
    fill_sample(&source);
    let manifest = snapshotter
        .take(
            &config.protect[0],
            &secrets(source.clone()),
            now_unix(),
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(
        snapshotter
            .verify(&manifest.id, Progress::Quiet)
            .await
            .unwrap(),
        manifest
    );
    let listed = snapshotter.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, manifest.id);

    let fresh = create_database("s3tlsrestored");
    snapshotter
        .restore(
            &manifest.id,
            &PgTarget::parse(&Secret::new(fresh.clone()), "--to").unwrap(),
            RestoreMode::RefuseNonEmpty,
            Progress::Quiet,
        )
        .await
        .unwrap();
    assert_eq!(sample_fingerprint(&fresh), sample_fingerprint(&source));
}

#[tokio::test]
async fn an_https_endpoint_with_an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = bucket(false).await;
    let (port, _ca_pem, handshakes) = tls_proxy().await;
    let config = https_config(dir.path(), &bucket, port, "");
    let error = Snapshotter::open_store(&config.snapshots, &secrets(String::new()), LOCK)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("certificate"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(
        message.contains(&format!("https://127.0.0.1:{port}")),
        "{message}"
    );
    assert_eq!(handshakes.load(Ordering::SeqCst), 0);

    // A CA file that is not the server's does not help either.
    let (_, other_ca, _) = tls_proxy().await;
    std::fs::write(dir.path().join("other-ca.pem"), other_ca).unwrap();
    let config = https_config(dir.path(), &bucket, port, "ca_file = \"other-ca.pem\"");
    let error = Snapshotter::open_store(&config.snapshots, &secrets(String::new()), LOCK)
        .await
        .unwrap_err();
    // (same CA name, another key: the signature does not verify)
    assert!(
        error.to_string().contains("invalid peer certificate"),
        "{error}"
    );
}
