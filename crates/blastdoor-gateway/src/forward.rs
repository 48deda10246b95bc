//! Building the request that leaves for the upstream: the agent's headers on the allow-list of
//! the upstream's kind (see [`crate::reader`]), plus the real credential, which is set here and
//! nowhere else. Also the upstream HTTP client (plain HTTP or TLS through rustls, with Mozilla's roots
//! plus an upstream's own CA file) and a small helper for the read-only lookups the server
//! makes with the real credential (Railway topology queries).

use std::path::Path;
use std::sync::Arc;

use blastdoor_core::Secret;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{GatewayError, UpstreamRoute};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type PooledClient = Client<Connector, Full<Bytes>>;

/// The client upstream requests go through: HTTP/1.1, `http://` or `https://`, with one
/// connection pool per thread. The gateway serves each connection on one worker thread (see
/// [`crate::serve`]); a pool shared between threads would hand a request to an upstream
/// connection driven by another thread, and the cross-thread wake-ups cost more than the
/// proxying itself. Clones share the configuration and, on each thread, the pool.
#[derive(Clone)]
pub struct UpstreamClient {
    /// Tells this client's per-thread pools apart from other clients' (another CA file).
    id: u64,
    connector: Connector,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// This thread's pool for each [`UpstreamClient`] used on it.
    static POOLS: std::cell::RefCell<Vec<(u64, PooledClient)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl UpstreamClient {
    fn new(connector: Connector) -> UpstreamClient {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        UpstreamClient {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            connector,
        }
    }

    /// Sends `request` through this thread's pool.
    pub fn request(
        &self,
        request: Request<Full<Bytes>>,
    ) -> hyper_util::client::legacy::ResponseFuture {
        let pooled = POOLS
            .try_with(|pools| {
                let mut pools = pools.try_borrow_mut().ok()?;
                if let Some((_, pooled)) = pools.iter().find(|(id, _)| *id == self.id) {
                    return Some(pooled.clone());
                }
                let pooled = self.pool();
                pools.push((self.id, pooled.clone()));
                Some(pooled)
            })
            .ok()
            .flatten()
            // A thread that is exiting (or a re-entrant call) gets a pool of its own.
            .unwrap_or_else(|| self.pool());
        pooled.request(request)
    }

    fn pool(&self) -> PooledClient {
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build(self.connector.clone())
    }
}

/// Railway's project-token header, which may carry the agent's capability token.
pub const PROJECT_ACCESS_TOKEN: &str = "project-access-token";

/// The header that will carry a hold id on re-sends (approvals issue); never forwarded.
pub const HOLD_HEADER: &str = "blastdoor-hold";

/// A pooled client for upstream requests that trusts Mozilla's web roots.
pub fn new_client() -> Result<UpstreamClient, GatewayError> {
    build_client(web_roots())
}

/// A pooled client that trusts Mozilla's web roots and the PEM certificates in `ca_file`
/// (for an upstream behind a private CA). An unreadable file, or one without a usable
/// certificate, is an error: the upstream is not reachable rather than reached unverified.
pub fn new_client_with_ca(name: &str, ca_file: &Path) -> Result<UpstreamClient, GatewayError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let invalid = |why: String| GatewayError::InvalidUpstream {
        name: name.to_owned(),
        why,
    };
    let mut roots = web_roots();
    let mut added = 0usize;
    let certificates = CertificateDer::pem_file_iter(ca_file).map_err(|error| {
        invalid(format!(
            "cannot read ca_file `{}`: {error}",
            ca_file.display()
        ))
    })?;
    for certificate in certificates {
        let certificate = certificate.map_err(|error| {
            invalid(format!(
                "ca_file `{}` is not PEM: {error}",
                ca_file.display()
            ))
        })?;
        roots.add(certificate).map_err(|error| {
            invalid(format!(
                "ca_file `{}` holds an unusable certificate: {error}",
                ca_file.display()
            ))
        })?;
        added += 1;
    }
    if added == 0 {
        return Err(invalid(format!(
            "ca_file `{}` holds no certificate",
            ca_file.display()
        )));
    }
    build_client(roots)
}

fn web_roots() -> rustls::RootCertStore {
    rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

fn build_client(roots: rustls::RootCertStore) -> Result<UpstreamClient, GatewayError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| GatewayError::Internal(format!("no usable TLS configuration: {error}")))?
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
    Ok(UpstreamClient::new(https))
}

/// Hop-by-hop headers (RFC 9110 §7.6.1), which apply to one connection only.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Removes hop-by-hop headers, including every header named in `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// The request sent upstream for an allowed agent request: only the headers on the allow-list
/// of the upstream's kind ([`crate::reader::forwardable`]; never a token, a credential, a
/// hop-by-hop header or `Host`), plus the real credential.
pub fn upstream_request(
    route: &UpstreamRoute,
    method: Method,
    path_and_query: &str,
    agent_headers: &HeaderMap,
    body: Bytes,
    credential: Option<&Secret<String>>,
) -> Result<Request<Full<Bytes>>, GatewayError> {
    let mut headers = crate::reader::forwardable(route.kind(), agent_headers);
    if let Some(credential) = credential {
        headers.insert(header::AUTHORIZATION, bearer(route, credential)?);
    }
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = method;
    *request.uri_mut() = route.uri_for(path_and_query)?;
    *request.headers_mut() = headers;
    Ok(request)
}

/// `Bearer <credential>`, marked sensitive so hyper never logs it.
fn bearer(route: &UpstreamRoute, credential: &Secret<String>) -> Result<HeaderValue, GatewayError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", credential.expose_secret()))
        .map_err(|_| GatewayError::CredentialUnavailable {
            upstream: route.name().to_owned(),
            why: "the stored credential is not a valid header value".to_owned(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// POSTs a JSON body to the upstream with the real credential and returns the status and the
/// whole answer (at most `max_bytes`). For the server's read-only lookups, never for agent
/// requests.
pub async fn post_json(
    client: &UpstreamClient,
    route: &UpstreamRoute,
    path: &str,
    body: Bytes,
    credential: &Secret<String>,
    max_bytes: usize,
) -> Result<(StatusCode, Bytes), GatewayError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let request = upstream_request(route, Method::POST, path, &headers, body, Some(credential))?;
    let response = client
        .request(request)
        .await
        .map_err(|error| GatewayError::UpstreamUnreachable(format!("{}: {error}", route.name())))?;
    let status = response.status();
    let limited = http_body_util::Limited::new(response.into_body(), max_bytes);
    let bytes = limited
        .collect()
        .await
        .map_err(|error| {
            GatewayError::UpstreamUnreachable(format!(
                "{}: reading the answer: {error}",
                route.name()
            ))
        })?
        .to_bytes();
    Ok((status, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UpstreamKind;

    #[test]
    fn the_upstream_request_carries_the_real_credential_and_nothing_of_the_agent() {
        let route =
            UpstreamRoute::new("railway", UpstreamKind::Railway, "http://127.0.0.1:1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-private"),
        );
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert(
            PROJECT_ACCESS_TOKEN,
            HeaderValue::from_static("bd1_leftover"),
        );
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        let credential = Secret::new("real-railway-token".to_owned());
        let request = upstream_request(
            &route,
            Method::POST,
            "/graphql/v2",
            &headers,
            Bytes::new(),
            Some(&credential),
        )
        .unwrap();
        let headers = request.headers();
        assert_eq!(headers[header::AUTHORIZATION], "Bearer real-railway-token");
        assert!(headers[header::AUTHORIZATION].is_sensitive());
        assert!(!headers.contains_key("x-private"));
        assert!(!headers.contains_key(PROJECT_ACCESS_TOKEN));
        assert!(!headers.contains_key(header::TRANSFER_ENCODING));
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(request.uri().to_string(), "http://127.0.0.1:1/graphql/v2");
    }
}
