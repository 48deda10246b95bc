//! Integration tests of the gateway's HTTP path with a real listener on port 0, a real (tiny)
//! upstream that echoes what it received, and a pipeline that decides by a request header,
//! so that forwarding, refusals and framing are tested without the deciding crates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdoor_core::{Decision, HoldId, RuleId, Secret};
use blastdoor_gateway::{
    ForwardPlan, Gateway, GatewayError, InboundRequest, Limits, Outcome, Pipeline, Refusal,
    RefusedRequest, UpstreamKind, UpstreamOutcome, UpstreamRoute,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod reader;

/// What the echo upstream saw: headers (lowercased `name: value` lines) and the body.
type Seen = Arc<Mutex<Vec<String>>>;

async fn start_upstream() -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        let log = Arc::clone(&log);
                        async move {
                            let mut lines: Vec<String> = request
                                .headers()
                                .iter()
                                .map(|(name, value)| {
                                    format!("{name}: {}", value.to_str().unwrap_or("?"))
                                })
                                .collect();
                            lines.push(format!("path: {}", request.uri()));
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            lines.push(format!("body: {}", String::from_utf8_lossy(&body)));
                            log.lock().unwrap().push(lines.join("\n"));
                            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(
                                b"{\"data\":{}}",
                            ))))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, seen)
}

/// Decides by the `user-agent` header (one of the headers the pipeline is shown): `test-hold`,
/// `test-deny`, `test-fail`, or allow. Remembers the refusals the gateway asked it to record.
#[derive(Debug, Default)]
struct HeaderPipeline {
    recorded: Mutex<Vec<UpstreamOutcome>>,
    /// How long recording an upstream's answer takes (a slow ledger).
    record_delay: Duration,
    /// Each recorded refusal: the credential's header and the capability token beside it.
    refused: Mutex<Vec<(String, Option<String>)>>,
}

impl Pipeline for HeaderPipeline {
    type Receipt = ();

    async fn decide(&self, request: &InboundRequest) -> Result<Outcome<()>, GatewayError> {
        if request
            .token
            .as_ref()
            .map(|token| token.expose_secret().as_str())
            != Some("bd1_test")
        {
            return Err(GatewayError::TokenRefused("not the test token".to_owned()));
        }
        let refusal = |decision| {
            Outcome::Refuse(Refusal::new(
                decision,
                vec![RuleId::new("test.rule").unwrap()],
                Some(HoldId::new("hold_test").unwrap()),
                "test refusal".to_owned(),
            ))
        };
        match request
            .headers
            .get("user-agent")
            .map(|value| value.as_bytes())
        {
            Some(b"test-hold") => Ok(refusal(Decision::hold(2))),
            Some(b"test-deny") => Ok(refusal(Decision::Deny)),
            Some(b"test-fail") => Err(GatewayError::LedgerUnavailable(
                "/var/x: disk full".to_owned(),
            )),
            _ => Ok(Outcome::Forward(ForwardPlan {
                credential: Some(Secret::new("real-credential".to_owned())),
                body: None,
                receipt: (),
            })),
        }
    }

    async fn record_response(&self, _receipt: (), outcome: UpstreamOutcome) {
        tokio::time::sleep(self.record_delay).await;
        self.recorded.lock().unwrap().push(outcome);
    }

    async fn record_refusal(&self, refused: &RefusedRequest) -> Result<(), GatewayError> {
        self.refused.lock().unwrap().push((
            refused.credential_header.clone(),
            refused
                .token
                .as_ref()
                .map(|token| token.expose_secret().clone()),
        ));
        Ok(())
    }
}

async fn start_gateway(
    upstream: SocketAddr,
    kind: UpstreamKind,
) -> (SocketAddr, Arc<Gateway<HeaderPipeline>>) {
    start_gateway_limited(upstream, kind, 1024).await
}

/// [`start_gateway`] with `max_body_bytes` as the configured body limit.
async fn start_gateway_limited(
    upstream: SocketAddr,
    kind: UpstreamKind,
    max_body_bytes: usize,
) -> (SocketAddr, Arc<Gateway<HeaderPipeline>>) {
    let route = UpstreamRoute::new("up", kind, &format!("http://{upstream}")).unwrap();
    let limits = Limits {
        max_body_bytes,
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(1),
    };
    let gateway = Arc::new(Gateway::new(
        vec![route],
        HeaderPipeline::default(),
        limits,
        blastdoor_gateway::forward::new_client().unwrap(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let serving = Arc::clone(&gateway);
    tokio::spawn(async move {
        blastdoor_gateway::serve(listener, serving, std::future::pending()).await
    });
    (address, gateway)
}

async fn send(address: SocketAddr, raw: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn request(extra_headers: &str, body: &str) -> String {
    format!(
        "POST /up/graphql/v2?x=1 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer bd1_test\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn an_allowed_request_reaches_the_upstream_with_the_real_credential_only() {
    let (upstream, seen) = start_upstream().await;
    let (gateway_address, gateway) = start_gateway(upstream, UpstreamKind::Railway).await;
    let answer = send(
        gateway_address,
        &request(
            "Connection: x-private\r\nX-Private: hop\r\nProject-Access-Token: bd1_other\r\n",
            "{\"q\":1}",
        ),
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 400"),
        "two tokens are refused: {answer}"
    );
    let answer = send(
        gateway_address,
        &request(
            "Connection: x-hop\r\nX-Hop: gone\r\nKeep-Alive: timeout=5\r\nX-Custom: dropped\r\nUser-Agent: CLI 4.0.0\r\nX-Source: CLI 4.0.0\r\n",
            "{\"q\":1}",
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let headers = &seen[0];
    assert!(
        headers.contains("authorization: Bearer real-credential"),
        "{headers}"
    );
    assert!(!headers.contains("bd1_"), "{headers}");
    assert!(
        !headers.contains("keep-alive") && !headers.contains("x-hop"),
        "{headers}"
    );
    // Only the allow-list of Railway's headers is forwarded.
    assert!(!headers.contains("x-custom"), "{headers}");
    assert!(headers.contains("user-agent: CLI 4.0.0"), "{headers}");
    assert!(headers.contains("x-source: CLI 4.0.0"), "{headers}");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    assert!(headers.contains("path: /graphql/v2?x=1"), "{headers}");
    assert!(headers.contains("body: {\"q\":1}"), "{headers}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        *gateway.pipeline().recorded.lock().unwrap(),
        vec![UpstreamOutcome::Status(200)]
    );
    assert!(
        gateway
            .metrics()
            .render()
            .contains("blastdoor_gateway_requests_total{upstream=\"up\",decision=\"allow\"} 1")
    );
}

#[tokio::test]
async fn refusals_and_errors_never_reach_the_upstream() {
    let (upstream, seen) = start_upstream().await;
    let (gateway_address, _gateway) = start_gateway(upstream, UpstreamKind::Rest).await;
    let held = send(gateway_address, &request("User-Agent: test-hold\r\n", "{}")).await;
    assert!(held.starts_with("HTTP/1.1 428"), "{held}");
    assert!(
        held.contains("application/problem+json") && held.contains("hold_test"),
        "{held}"
    );
    let denied = send(gateway_address, &request("User-Agent: test-deny\r\n", "{}")).await;
    assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
    let failed = send(gateway_address, &request("User-Agent: test-fail\r\n", "{}")).await;
    assert!(
        failed.starts_with("HTTP/1.1 503") && !failed.contains("/var/x"),
        "{failed}"
    );
    let no_token = send(
        gateway_address,
        "GET /up/x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(no_token.starts_with("HTTP/1.1 401"), "{no_token}");
    let big = send(gateway_address, &request("", &"x".repeat(2000))).await;
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    let smuggled = send(
        gateway_address,
        "POST /up/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer bd1_test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /up/y HTTP/1.1\r\nHost: gw\r\n\r\n",
    )
    .await;
    assert!(smuggled.starts_with("HTTP/1.1 400"), "{smuggled}");
    assert_eq!(
        smuggled.matches("HTTP/1.1").count(),
        1,
        "the smuggled request was answered: {smuggled}"
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn keep_alive_requests_with_bodies_are_framed_correctly() {
    let (upstream, seen) = start_upstream().await;
    let (gateway_address, _gateway) = start_gateway(upstream, UpstreamKind::Rest).await;
    let one = "POST /up/a HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer bd1_test\r\nContent-Length: 3\r\n\r\nabc";
    let two = "POST /up/b HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer bd1_test\r\nContent-Length: 3\r\n\r\ndef";
    let answer = send(gateway_address, &format!("{one}{two}")).await;
    assert_eq!(answer.matches("HTTP/1.1 200").count(), 2, "{answer}");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen[0].contains("path: /a") && seen[0].contains("body: abc"),
        "{seen:?}"
    );
    assert!(
        seen[1].contains("path: /b") && seen[1].contains("body: def"),
        "{seen:?}"
    );
}

/// A CA and a certificate for `127.0.0.1` signed by it: (CA PEM, leaf DER, leaf key DER).
fn test_pki() -> (String, Vec<u8>, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "blastdoor test ca");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    (ca.pem(), leaf.der().to_vec(), leaf_key.serialize_der())
}

/// An upstream on `https://127.0.0.1:PORT` answering `{"tls":true}` with its certificate.
async fn start_tls_upstream(leaf: Vec<u8>, key: Vec<u8>) -> SocketAddr {
    use tokio_rustls::rustls;
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
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    |request: http::Request<hyper::body::Incoming>| async move {
                        let auth = request
                            .headers()
                            .get("authorization")
                            .map(|value| value.to_str().unwrap().to_owned())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                            "{{\"tls\":true,\"auth\":\"{auth}\"}}"
                        )))))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    address
}

async fn start_gateway_with_route(route: UpstreamRoute) -> SocketAddr {
    let limits = Limits {
        max_body_bytes: 1024,
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(1),
    };
    let gateway = Arc::new(Gateway::new(
        vec![route],
        HeaderPipeline::default(),
        limits,
        blastdoor_gateway::forward::new_client().unwrap(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        blastdoor_gateway::serve(listener, gateway, std::future::pending()).await
    });
    address
}

#[tokio::test]
async fn an_https_upstream_is_reached_over_tls_trusting_its_ca_file() {
    let (ca_pem, leaf, key) = test_pki();
    let upstream = start_tls_upstream(leaf, key).await;
    let directory = tempfile::tempdir().unwrap();
    let ca_file = directory.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let url = format!("https://{upstream}");
    let trusted = UpstreamRoute::new("up", UpstreamKind::Rest, &url)
        .unwrap()
        .with_client(blastdoor_gateway::forward::new_client_with_ca("up", &ca_file).unwrap());
    let gateway = start_gateway_with_route(trusted).await;
    let answer = send(gateway, &request("", "{}")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"tls\":true,\"auth\":\"Bearer real-credential\""),
        "{answer}"
    );
    // Without the CA file the certificate is not trusted: nothing is sent in clear or
    // unverified, and the agent gets a 502.
    let untrusted = UpstreamRoute::new("up", UpstreamKind::Rest, &url).unwrap();
    let gateway = start_gateway_with_route(untrusted).await;
    let answer = send(gateway, &request("", "{}")).await;
    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    // A CA file that is not a certificate is refused when the route is built.
    let junk = directory.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    assert!(blastdoor_gateway::forward::new_client_with_ca("up", &junk).is_err());
    assert!(
        blastdoor_gateway::forward::new_client_with_ca("up", &directory.path().join("absent"))
            .is_err()
    );
}

/// Through `serve_on` with worker threads: many connections, several requests each, spread
/// over the workers; every allowed request reaches the upstream once with the real credential,
/// every refused one never does, and shutdown waits for the workers' connections to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_workers_serve_every_request_once_and_drain_on_shutdown() {
    let (upstream, seen) = start_upstream().await;
    let route =
        UpstreamRoute::new("up", UpstreamKind::Railway, &format!("http://{upstream}")).unwrap();
    let limits = Limits {
        max_body_bytes: 1024,
        header_read_timeout: Duration::from_secs(2),
        body_read_timeout: Duration::from_secs(1),
    };
    // Recording each upstream answer takes a while, so some are still being recorded when the
    // gateway is told to stop.
    let pipeline = HeaderPipeline {
        record_delay: Duration::from_millis(300),
        ..HeaderPipeline::default()
    };
    let gateway = Arc::new(Gateway::new(
        vec![route],
        pipeline,
        limits,
        blastdoor_gateway::forward::new_client().unwrap(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(blastdoor_gateway::serve_on(
        listener,
        Arc::clone(&gateway),
        3,
        async move {
            let _ = stopped.await;
        },
    ));
    let mut clients = Vec::new();
    for client in 0..12 {
        clients.push(tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let mut statuses = Vec::new();
            for index in 0..5 {
                let decision = if index == 2 { "User-Agent: test-deny\r\n" } else { "" };
                let body = format!("{{\"client\":{client},\"index\":{index}}}");
                let raw = format!(
                    "POST /up/graphql/v2 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer bd1_test\r\nContent-Type: application/json\r\n{decision}Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(raw.as_bytes()).await.unwrap();
                statuses.push(read_one_response(&mut stream).await);
            }
            statuses
        }));
    }
    for client in clients {
        assert_eq!(client.await.unwrap(), vec![200, 200, 403, 200, 200]);
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        12 * 4,
        "each allowed request reached the upstream once"
    );
    assert!(
        seen.iter()
            .all(|request| request.contains("authorization: Bearer real-credential"))
    );
    assert!(!seen.iter().any(|request| request.contains("\"index\":2")));
    // An idle keep-alive connection is open while the gateway stops: it is closed, and the
    // server returns once every worker has finished.
    let mut idle = tokio::net::TcpStream::connect(address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(15), serving)
        .await
        .expect("serve_on returned after shutdown")
        .unwrap()
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle connection was closed");
    // Every upstream answer was recorded before the server returned, none lost with the workers.
    assert_eq!(
        gateway.pipeline().recorded.lock().unwrap().len(),
        12 * 4,
        "every forwarded request's answer was recorded before shutdown finished"
    );
}

/// Reads one HTTP/1.1 response with a Content-Length body from a keep-alive stream and returns
/// its status.
async fn read_one_response(stream: &mut tokio::net::TcpStream) -> u16 {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head.split(' ').nth(1).unwrap().parse().unwrap()
}
