//! The S3-compatible object store, with Object Lock retention when the bucket has it enabled.
//!
//! This is a minimal S3 client of our own (SigV4 in [`crate::sigv4`], hyper 1 for transport)
//! rather than `object_store`: `object_store`'s `PutOptions` can set content attributes, user
//! metadata and tags, but not the `x-amz-object-lock-mode` / `x-amz-object-lock-retain-until-date`
//! headers that make a snapshot immutable, and its AWS backend would add reqwest and a TLS stack
//! to the build. The calls used are few: PUT/GET/HEAD object, ListObjectsV2, GET `?object-lock`,
//! and CreateBucket (for setup and tests).
//!
//! Transport: `https://` endpoints (AWS itself) go through rustls with the `ring` provider,
//! trusting Mozilla's roots plus the PEM certificates of an optional CA file (`[snapshots]
//! ca_file`, for an S3-compatible server behind a private CA); a certificate that does not
//! verify is an error, never a fallback. Plain `http://` stays allowed for an S3-compatible
//! server on a private network or loopback. Objects go up in one PUT, so a snapshot is at most
//! 5 GiB.
//!
//! Every object is written with `x-amz-checksum-sha256` (the store checks the bytes it received)
//! and, when the bucket has Object Lock, with the configured mode and a retain-until date, so
//! not even the store's own credentials can delete it early (COMPLIANCE) or only with the
//! bypass permission (GOVERNANCE). Such a bucket keeps versions, and the blob's version id goes
//! into the signed manifest: verify and restore read that version, so a later overwrite of the
//! key or a delete marker hiding it changes nothing.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWriteExt as _, ReadBuf};

use crate::SnapshotError;
use crate::sigv4::{S3Credentials, SigningInput, authorization, canonical_query, uri_encode};
use crate::time::{now_unix, rfc3339};

/// SHA-256 of the empty payload.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Object Lock retention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Nobody, including the bucket's root account, can delete or shorten it before the date.
    Compliance,
    /// Only principals with `s3:BypassGovernanceRetention` can.
    Governance,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Compliance => "COMPLIANCE",
            LockMode::Governance => "GOVERNANCE",
        }
    }
}

/// How long snapshots are locked, when the bucket supports Object Lock. No `Default`: the
/// caller chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectLockPolicy {
    pub mode: LockMode,
    pub retain_for_seconds: i64,
}

/// Where an S3 store is and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Location {
    /// `https://host[:port]` (AWS, or any S3-compatible server) or `http://host:port` (one on a
    /// private network).
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// PEM CA certificates trusted for an `https://` endpoint in addition to Mozilla's roots.
    pub ca_file: Option<PathBuf>,
}

/// The retention an object was stored with, as the store reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRetention {
    pub mode: String,
    pub retain_until: String,
}

/// The client requests go through: HTTP/1.1, `http://` or `https://`.
type S3Client = Client<hyper_rustls::HttpsConnector<HttpConnector>, RequestBody>;

/// An S3 bucket (and prefix) holding snapshots.
#[derive(Debug)]
pub struct S3Store {
    client: S3Client,
    scheme: &'static str,
    authority: String,
    location: S3Location,
    credentials: S3Credentials,
    lock: Option<ObjectLockPolicy>,
}

impl S3Store {
    /// Connects and asks the bucket whether Object Lock is enabled; `lock` is applied only if
    /// it is. A bucket that cannot be reached or refuses the credentials is an error.
    pub async fn connect(
        location: S3Location,
        credentials: S3Credentials,
        lock: ObjectLockPolicy,
    ) -> Result<S3Store, SnapshotError> {
        let (scheme, authority) = endpoint_authority(&location.endpoint)?;
        let mut store = S3Store {
            client: new_client(location.ca_file.as_deref())?,
            scheme,
            authority,
            location,
            credentials,
            lock: None,
        };
        let (status, body) = store
            .request_bytes(
                "GET",
                None,
                &[("object-lock".into(), String::new())],
                &[],
                None,
            )
            .await?;
        let text = String::from_utf8_lossy(&body);
        store.lock = match status {
            200 if xml_values(&text, "ObjectLockEnabled")
                .iter()
                .any(|value| value == "Enabled") =>
            {
                Some(lock)
            }
            200 => None,
            404 if text.contains("ObjectLockConfigurationNotFound") => None,
            _ => return Err(s3_error("GET ?object-lock", status, &body)),
        };
        Ok(store)
    }

    /// Creates `bucket`, with Object Lock enabled when `object_lock`. For setup and tests.
    pub async fn create_bucket(
        location: &S3Location,
        credentials: &S3Credentials,
        object_lock: bool,
    ) -> Result<(), SnapshotError> {
        let (scheme, authority) = endpoint_authority(&location.endpoint)?;
        let store = S3Store {
            client: new_client(location.ca_file.as_deref())?,
            scheme,
            authority,
            location: location.clone(),
            credentials: credentials.clone(),
            lock: None,
        };
        let headers: Vec<(String, String)> = if object_lock {
            vec![("x-amz-bucket-object-lock-enabled".into(), "true".into())]
        } else {
            Vec::new()
        };
        let (status, body) = store
            .request_bytes("PUT", None, &[], &headers, None)
            .await?;
        if status != 200 {
            return Err(s3_error("CreateBucket", status, &body));
        }
        Ok(())
    }

    /// The lock applied to new objects: `None` when the bucket has no Object Lock.
    pub fn object_lock(&self) -> Option<ObjectLockPolicy> {
        self.lock
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }

    /// The full key of `name` under the prefix.
    pub(crate) fn key(&self, name: &str) -> String {
        if self.location.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}/{name}", self.location.prefix)
        }
    }

    /// Uploads the file at `path` (of `size` bytes and SHA-256 `sha256_hex`) as `key`; the
    /// version id when the bucket keeps versions (always, with Object Lock).
    pub(crate) async fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
        size: u64,
        sha256_hex: &str,
        now: i64,
    ) -> Result<Option<String>, SnapshotError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|source| SnapshotError::io("open", path, source))?;
        let body = RequestBody::File {
            file,
            remaining: size,
            buffer: vec![0; 256 * 1024],
        };
        self.put(key, body, size, sha256_hex, now).await
    }

    /// Uploads `bytes` as `key`; the version id when the bucket keeps versions.
    pub(crate) async fn put_bytes(
        &self,
        key: &str,
        bytes: Vec<u8>,
        now: i64,
    ) -> Result<Option<String>, SnapshotError> {
        let sha256_hex = hex::encode(Sha256::digest(&bytes));
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.put(
            key,
            RequestBody::Bytes(Some(Bytes::from(bytes))),
            size,
            &sha256_hex,
            now,
        )
        .await
    }

    async fn put(
        &self,
        key: &str,
        body: RequestBody,
        size: u64,
        sha256_hex: &str,
        now: i64,
    ) -> Result<Option<String>, SnapshotError> {
        let digest =
            hex::decode(sha256_hex).map_err(|_| SnapshotError::ObjectStore("bad digest".into()))?;
        let mut headers = vec![
            ("content-length".to_owned(), size.to_string()),
            (
                "x-amz-sdk-checksum-algorithm".to_owned(),
                "SHA256".to_owned(),
            ),
            ("x-amz-checksum-sha256".to_owned(), BASE64.encode(digest)),
        ];
        if let Some(lock) = self.lock {
            headers.push(("x-amz-object-lock-mode".into(), lock.mode.as_str().into()));
            headers.push((
                "x-amz-object-lock-retain-until-date".into(),
                rfc3339(now.saturating_add(lock.retain_for_seconds)),
            ));
        }
        let response = self
            .request("PUT", Some(key), &[], &headers, body, sha256_hex)
            .await?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = read_limited(response.into_body(), 8 * 1024).await;
            return Err(s3_error(&format!("PUT `{key}`"), status, &body));
        }
        Ok(response
            .headers()
            .get("x-amz-version-id")
            .and_then(|value| value.to_str().ok())
            .filter(|version| !version.is_empty() && *version != "null")
            .map(str::to_owned))
    }

    /// The object `key` in memory; `None` if it does not exist. For small objects (manifests).
    pub(crate) async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, SnapshotError> {
        let (status, body) = self.request_bytes("GET", Some(key), &[], &[], None).await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(s3_error(&format!("GET `{key}`"), status, &body)),
        }
    }

    /// Streams the object `key` (at `version`, when given) into `file`, returning its size and
    /// SHA-256 (hex); `None` if it does not exist.
    pub(crate) async fn get_to_file(
        &self,
        key: &str,
        version: Option<&str>,
        file: &mut tokio::fs::File,
        mut progress: impl FnMut(u64),
    ) -> Result<Option<(u64, String)>, SnapshotError> {
        let query: Vec<(String, String)> = version
            .map(|version| vec![("versionId".to_owned(), version.to_owned())])
            .unwrap_or_default();
        let response = self
            .request(
                "GET",
                Some(key),
                &query,
                &[],
                RequestBody::Bytes(None),
                EMPTY_SHA256,
            )
            .await?;
        let status = response.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            let body = read_limited(response.into_body(), 8 * 1024).await;
            return Err(s3_error(&format!("GET `{key}`"), status, &body));
        }
        let mut body = response.into_body();
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|error| SnapshotError::ObjectStore(format!("GET `{key}`: {error}")))?;
            if let Ok(data) = frame.into_data() {
                hasher.update(&data);
                size += u64::try_from(data.len()).unwrap_or(0);
                file.write_all(&data)
                    .await
                    .map_err(|source| SnapshotError::io("write", "downloaded blob", source))?;
                progress(size);
            }
        }
        file.flush()
            .await
            .map_err(|source| SnapshotError::io("write", "downloaded blob", source))?;
        Ok(Some((size, hex::encode(hasher.finalize()))))
    }

    /// Keys under `prefix` (full keys), following continuation tokens.
    pub(crate) async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, SnapshotError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type".to_owned(), "2".to_owned()),
                ("prefix".to_owned(), prefix.to_owned()),
            ];
            if let Some(token) = &token {
                query.push(("continuation-token".to_owned(), token.clone()));
            }
            let (status, body) = self.request_bytes("GET", None, &query, &[], None).await?;
            if status != 200 {
                return Err(s3_error("ListObjectsV2", status, &body));
            }
            let text = String::from_utf8_lossy(&body);
            keys.extend(xml_values(&text, "Key"));
            let truncated = xml_values(&text, "IsTruncated")
                .iter()
                .any(|value| value == "true");
            token = xml_values(&text, "NextContinuationToken")
                .into_iter()
                .next();
            if !truncated || token.is_none() {
                return Ok(keys);
            }
        }
    }

    /// The Object Lock retention the store reports for `key` (HEAD object).
    pub async fn retention(&self, key: &str) -> Result<Option<ObjectRetention>, SnapshotError> {
        let response = self
            .request(
                "HEAD",
                Some(key),
                &[],
                &[],
                RequestBody::Bytes(None),
                EMPTY_SHA256,
            )
            .await?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(s3_error(&format!("HEAD `{key}`"), status, &[]));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Ok(
            match (
                header("x-amz-object-lock-mode"),
                header("x-amz-object-lock-retain-until-date"),
            ) {
                (Some(mode), Some(retain_until)) => Some(ObjectRetention { mode, retain_until }),
                _ => None,
            },
        )
    }

    async fn request_bytes(
        &self,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>), SnapshotError> {
        let (payload, hash) = match body {
            Some(bytes) => {
                let hash = hex::encode(Sha256::digest(&bytes));
                (RequestBody::Bytes(Some(Bytes::from(bytes))), hash)
            }
            None => (RequestBody::Bytes(None), EMPTY_SHA256.to_owned()),
        };
        let response = self
            .request(method, key, query, headers, payload, &hash)
            .await?;
        let status = response.status().as_u16();
        let body = read_limited(response.into_body(), 64 * 1024 * 1024).await;
        Ok((status, body))
    }

    async fn request(
        &self,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        extra_headers: &[(String, String)],
        body: RequestBody,
        payload_sha256_hex: &str,
    ) -> Result<hyper::Response<Incoming>, SnapshotError> {
        let mut path = format!("/{}", uri_encode(&self.location.bucket, true));
        if let Some(key) = key {
            path.push('/');
            path.push_str(&uri_encode(key, false));
        }
        let now = now_unix();
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.authority.clone()),
            ("x-amz-content-sha256".into(), payload_sha256_hex.to_owned()),
            ("x-amz-date".into(), crate::time::amz_date(now)),
        ];
        headers.extend(extra_headers.iter().cloned());
        let signed: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| name != "content-length")
            .cloned()
            .collect();
        let authorization = authorization(
            &SigningInput {
                method,
                canonical_path: &path,
                query,
                headers: &signed,
                payload_sha256_hex,
                region: &self.location.region,
                now_unix: now,
            },
            &self.credentials,
        );
        let query_string = canonical_query(query);
        let uri = if query_string.is_empty() {
            format!("{}://{}{path}", self.scheme, self.authority)
        } else {
            format!("{}://{}{path}?{query_string}", self.scheme, self.authority)
        };
        let mut builder = hyper::Request::builder().method(method).uri(uri);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder = builder.header("authorization", authorization);
        let request = builder.body(body).map_err(|error| {
            SnapshotError::ObjectStore(format!("cannot build the request: {error}"))
        })?;
        self.client.request(request).await.map_err(|error| {
            SnapshotError::ObjectStore(format!(
                "{method} {} at `{}://{}`: {}",
                self.describe(),
                self.scheme,
                self.authority,
                error_chain(&error)
            ))
        })
    }
}

/// `error` and its sources, joined: hyper's own message ("client error (Connect)") says
/// nothing; the TLS or socket error under it (an unknown issuer, a refused connection) does.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    blastdoor_core::redact_known_secrets(&text)
}

/// The scheme (`http` or `https`) and `host[:port]` of an endpoint.
fn endpoint_authority(endpoint: &str) -> Result<(&'static str, String), SnapshotError> {
    let (scheme, rest) = if let Some(rest) = endpoint.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = endpoint.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err(SnapshotError::ObjectStore(format!(
            "`{endpoint}` is not an http:// or https:// URL"
        )));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(SnapshotError::ObjectStore(format!(
            "`{endpoint}` names no host"
        )));
    }
    Ok((scheme, authority.to_owned()))
}

/// A client for `http://` and `https://` endpoints; TLS trusts Mozilla's roots and the PEM
/// certificates in `ca_file`. An unreadable CA file, or one without a usable certificate, is
/// an error: the store is not reachable rather than reached unverified.
fn new_client(ca_file: Option<&Path>) -> Result<S3Client, SnapshotError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(ca_file) = ca_file {
        add_ca_file(&mut roots, ca_file)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| {
            SnapshotError::ObjectStore(format!("no usable TLS configuration: {error}"))
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

fn add_ca_file(roots: &mut rustls::RootCertStore, ca_file: &Path) -> Result<(), SnapshotError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let invalid = |why: String| {
        SnapshotError::ObjectStore(format!(
            "`[snapshots] ca_file` `{}` {why}",
            ca_file.display()
        ))
    };
    let certificates = CertificateDer::pem_file_iter(ca_file)
        .map_err(|error| invalid(format!("cannot be read: {error}")))?;
    let mut added = 0usize;
    for certificate in certificates {
        let certificate = certificate.map_err(|error| invalid(format!("is not PEM: {error}")))?;
        roots
            .add(certificate)
            .map_err(|error| invalid(format!("holds an unusable certificate: {error}")))?;
        added += 1;
    }
    if added == 0 {
        return Err(invalid("holds no certificate".into()));
    }
    Ok(())
}

async fn read_limited(mut body: Incoming, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data()
            && out.len() < limit
        {
            out.extend_from_slice(&data);
        }
    }
    out
}

fn s3_error(what: &str, status: u16, body: &[u8]) -> SnapshotError {
    let text = String::from_utf8_lossy(body);
    let code = xml_values(&text, "Code")
        .into_iter()
        .next()
        .unwrap_or_default();
    let message = xml_values(&text, "Message")
        .into_iter()
        .next()
        .unwrap_or_default();
    let text = format!("{what}: HTTP {status} {code} {message}");
    SnapshotError::ObjectStore(blastdoor_core::redact_known_secrets(text.trim_end()))
}

/// The text of every `<tag>...</tag>` in `xml`, entities decoded. Enough for S3's flat answers.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = rest.get(start + open.len()..).unwrap_or_default();
        let Some(end) = after.find(&close) else { break };
        let value = after.get(..end).unwrap_or_default();
        values.push(
            value
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = after.get(end + close.len()..).unwrap_or_default();
    }
    values
}

/// A request body: bytes in memory, or a file streamed in chunks.
#[derive(Debug)]
pub(crate) enum RequestBody {
    Bytes(Option<Bytes>),
    File {
        file: tokio::fs::File,
        remaining: u64,
        buffer: Vec<u8>,
    },
}

impl hyper::body::Body for RequestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            RequestBody::Bytes(bytes) => {
                Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes))))
            }
            RequestBody::File {
                file,
                remaining,
                buffer,
            } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let want = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(buffer.len());
                let Some(window) = buffer.get_mut(..want) else {
                    return Poll::Ready(None);
                };
                let mut read_buf = ReadBuf::new(window);
                match Pin::new(file).poll_read(cx, &mut read_buf) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
                    Poll::Ready(Ok(())) => {
                        let filled = read_buf.filled();
                        if filled.is_empty() {
                            return Poll::Ready(Some(Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the snapshot file shrank while it was uploaded",
                            ))));
                        }
                        *remaining -= u64::try_from(filled.len()).unwrap_or(*remaining);
                        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(filled)))))
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Bytes(bytes) => bytes.is_none(),
            RequestBody::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Bytes(Some(bytes)) => {
                SizeHint::with_exact(u64::try_from(bytes.len()).unwrap_or(0))
            }
            RequestBody::Bytes(None) => SizeHint::with_exact(0),
            RequestBody::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_values_are_found_and_decoded() {
        let xml = "<ListBucketResult><Contents><Key>a&amp;b</Key></Contents><Contents><Key>c</Key></Contents></ListBucketResult>";
        assert_eq!(
            xml_values(xml, "Key"),
            vec!["a&b".to_owned(), "c".to_owned()]
        );
        assert!(xml_values("<Key>unterminated", "Key").is_empty());
    }

    #[test]
    fn http_and_https_endpoints_are_accepted() {
        assert_eq!(
            endpoint_authority("http://127.0.0.1:9000/").unwrap(),
            ("http", "127.0.0.1:9000".to_owned())
        );
        assert_eq!(
            endpoint_authority("https://s3.eu-west-1.amazonaws.com").unwrap(),
            ("https", "s3.eu-west-1.amazonaws.com".to_owned())
        );
        assert!(endpoint_authority("ftp://host").is_err());
        assert!(endpoint_authority("https://").is_err());
        assert!(endpoint_authority("http://user:pw@host").is_err());
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = new_client(Some(&missing)).unwrap_err().to_string();
        assert!(error.contains("cannot be read"), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = new_client(Some(&empty)).unwrap_err().to_string();
        assert!(error.contains("holds no certificate"), "{error}");
        assert!(new_client(None).is_ok());
    }
}
