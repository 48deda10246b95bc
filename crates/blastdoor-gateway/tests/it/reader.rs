//! The request reader on the wire: malformed shapes are refused with the status that says what
//! was wrong and never reach the upstream; found credentials are refused and handed to the
//! pipeline to record; only the allow-listed headers are forwarded.

use std::collections::HashMap;

use super::*;

/// A Railway account token's shape (a UUID), as an agent might find one in a file.
const RAILWAY_TOKEN: &str = "3f6c1a2e-8b4d-4c9e-a1f7-2d5e8b9c0a41";
const GITHUB_TOKEN: &str = "ghp_Zq3v8XkP2mN7rT5wY1uB4cD6eF9gH0jK2lM3";

/// Writes `raw` (tolerating a gateway that closes early) and reads the answer to its end.
async fn exchange(address: SocketAddr, raw: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let _ = stream.write_all(raw).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// A request to the upstream `up` with the test token: `head` is the request line's method and
/// path, `headers` extra header lines, and the body sent with its Content-Length.
fn shaped(head: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{head} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer bd1_test\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The same without a Content-Length (for shapes that set their own framing).
fn framed(head: &str, headers: &str, rest: &str) -> Vec<u8> {
    format!(
        "{head} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer bd1_test\r\n{headers}\r\n{rest}"
    )
    .into_bytes()
}

const JSON: &str = "Content-Type: application/json\r\n";
const MUTATION: &str = r#"{"query":"mutation { volumeDelete(volumeId: \"v\") }"}"#;
const READ: &str = r#"{"query":"query { me { id } }"}"#;

struct Case {
    name: &'static str,
    kind: UpstreamKind,
    raw: Vec<u8>,
    status: u16,
    /// A phrase the agent's answer must contain (what was wrong).
    says: &'static str,
}

fn case(name: &'static str, raw: Vec<u8>, status: u16, says: &'static str) -> Case {
    Case {
        name,
        kind: UpstreamKind::Railway,
        raw,
        status,
        says,
    }
}

fn malformed_shapes() -> Vec<Case> {
    let padded = format!(
        "POST /up/graphql/v2 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer bd1_test\r\n{JSON}Content-Length: {}\r\n\r\n",
        blastdoor_http::railway::MAX_BODY_BYTES + 1
    )
    .into_bytes();
    let mut cases = vec![
        case(
            "GET with a mutation in its body",
            shaped(
                "GET /up/graphql/v2?query=query%7Bme%7Bid%7D%7D",
                JSON,
                MUTATION,
            ),
            400,
            "must not have a body",
        ),
        case(
            "GET with a chunked body",
            framed(
                "GET /up/graphql/v2?query=query%7Bme%7Bid%7D%7D",
                "Transfer-Encoding: chunked\r\n",
                "2\r\n{}\r\n0\r\n\r\n",
            ),
            400,
            "must not have a body",
        ),
        case(
            "GET without a query string",
            shaped("GET /up/graphql/v2", "", ""),
            400,
            "query string",
        ),
        case(
            "PUT to the GraphQL endpoint",
            shaped("PUT /up/graphql/v2", JSON, MUTATION),
            405,
            "GET, POST",
        ),
        case(
            "PATCH to the GraphQL endpoint",
            shaped("PATCH /up/graphql/v2", JSON, MUTATION),
            405,
            "GET, POST",
        ),
        case(
            "DELETE to the GraphQL endpoint",
            shaped("DELETE /up/graphql/v2", "", ""),
            405,
            "GET, POST",
        ),
        case(
            "HEAD to the GraphQL endpoint",
            shaped("HEAD /up/graphql/v2?query=x", "", ""),
            405,
            "GET, POST",
        ),
        case(
            "OPTIONS to the GraphQL endpoint",
            shaped("OPTIONS /up/graphql/v2", "", ""),
            405,
            "GET, POST",
        ),
        case(
            "a form body",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                "query=mutation+%7B+volumeDelete%28volumeId%3A+%22v%22%29+%7D",
            ),
            415,
            "application/x-www-form-urlencoded",
        ),
        case(
            "a multipart body",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: multipart/form-data; boundary=x\r\n",
                "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n",
            ),
            415,
            "multipart/form-data",
        ),
        case(
            "text/plain",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: text/plain\r\n",
                MUTATION,
            ),
            415,
            "text/plain",
        ),
        case(
            "application/graphql",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/graphql\r\n",
                "mutation { volumeDelete(volumeId: \"v\") }",
            ),
            415,
            "application/graphql",
        ),
        case(
            "no content type",
            shaped("POST /up/graphql/v2", "", MUTATION),
            415,
            "application/json",
        ),
        case(
            "two content types",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/json\r\nContent-Type: text/plain\r\n",
                MUTATION,
            ),
            415,
            "exactly one",
        ),
        case(
            "JSON in another charset",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/json; charset=utf-16\r\n",
                MUTATION,
            ),
            415,
            "charset utf-8",
        ),
        case(
            "JSON with another parameter",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/json; boundary=x\r\n",
                MUTATION,
            ),
            415,
            "application/json",
        ),
        case(
            "a gzip content encoding",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/json\r\nContent-Encoding: gzip\r\n",
                MUTATION,
            ),
            415,
            "content-encoding `gzip`",
        ),
        case(
            "identity then deflate",
            shaped(
                "POST /up/graphql/v2",
                "Content-Type: application/json\r\nContent-Encoding: identity, deflate\r\n",
                MUTATION,
            ),
            415,
            "content-encoding `deflate`",
        ),
        case(
            "a body padded past the classifier's limit",
            padded,
            413,
            "larger than 1048576 bytes",
        ),
        case(
            "an empty GraphQL POST",
            shaped("POST /up/graphql/v2", JSON, ""),
            400,
            "JSON body",
        ),
        case(
            "an empty path segment",
            shaped("POST /up//graphql/v2", JSON, MUTATION),
            400,
            "normal form",
        ),
        case(
            "a dot segment",
            shaped("POST /up/graphql/./v2", JSON, MUTATION),
            400,
            "normal form",
        ),
        case(
            "a percent-encoded path",
            shaped("POST /up/%67raphql/v2", JSON, MUTATION),
            400,
            "normal form",
        ),
    ];
    for name in METHOD_OVERRIDES {
        for kind in [
            UpstreamKind::Railway,
            UpstreamKind::Rest,
            UpstreamKind::Kubernetes,
        ] {
            cases.push(Case {
                name,
                kind,
                raw: shaped(
                    "POST /up/graphql/v2",
                    &format!("{JSON}{name}: DELETE\r\n"),
                    READ,
                ),
                status: 400,
                says: "send the method you mean",
            });
        }
    }
    for kind in [UpstreamKind::Rest, UpstreamKind::Kubernetes] {
        cases.push(Case {
            name: "GET with a body (rest, kubernetes)",
            kind,
            raw: shaped("GET /up/api/v1/namespaces", JSON, "{}"),
            status: 400,
            says: "must not have a body",
        });
        cases.push(Case {
            name: "a gzip content encoding (rest, kubernetes)",
            kind,
            raw: shaped(
                "POST /up/api/v1/namespaces",
                "Content-Encoding: gzip\r\n",
                "{}",
            ),
            status: 415,
            says: "content-encoding",
        });
        cases.push(Case {
            name: "TRACE (rest, kubernetes)",
            kind,
            raw: shaped("TRACE /up/x", "", ""),
            status: 405,
            says: "",
        });
    }
    cases
}

const METHOD_OVERRIDES: [&str; 3] = [
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
];

/// One gateway per kind, in front of one counting upstream; the configured limit (4 MiB) is
/// above the Railway classifier's, so the padded body tests that the two agree.
async fn gateways(upstream: SocketAddr) -> HashMap<UpstreamKind, SocketAddr> {
    let mut gateways = HashMap::new();
    for kind in [
        UpstreamKind::Railway,
        UpstreamKind::Rest,
        UpstreamKind::Kubernetes,
    ] {
        let (address, _gateway) = start_gateway_limited(upstream, kind, 4 << 20).await;
        gateways.insert(kind, address);
    }
    gateways
}

#[tokio::test]
async fn malformed_requests_are_refused_with_what_was_wrong_and_never_forwarded() {
    let (upstream, seen) = start_upstream().await;
    let gateways = gateways(upstream).await;
    for case in malformed_shapes() {
        let answer = exchange(gateways[&case.kind], &case.raw).await;
        assert_eq!(
            status_of(&answer),
            case.status,
            "{} ({:?}): {answer}",
            case.name,
            case.kind
        );
        // A HEAD request's answer has no body to read.
        let has_body = !case.raw.starts_with(b"HEAD ");
        assert!(
            !has_body || answer.contains(case.says),
            "{} ({:?}) does not say `{}`: {answer}",
            case.name,
            case.kind,
            case.says
        );
        assert!(
            !has_body || answer.contains("Nothing was forwarded"),
            "{}: {answer}",
            case.name
        );
        if case.status == 405 {
            assert!(
                answer.to_ascii_lowercase().contains("\r\nallow: "),
                "{}: {answer}",
                case.name
            );
        }
        assert!(
            seen.lock().unwrap().is_empty(),
            "{} ({:?}) reached the upstream: {:?}",
            case.name,
            case.kind,
            seen.lock().unwrap()
        );
    }
}

#[tokio::test]
async fn what_railways_clients_send_is_forwarded() {
    let (upstream, seen) = start_upstream().await;
    let gateways = gateways(upstream).await;
    let railway = gateways[&UpstreamKind::Railway];
    let accepted = [
        shaped(
            "POST /up/graphql/v2",
            "Content-Type: application/json; charset=UTF-8\r\nUser-Agent: CLI 4.0.0\r\nX-Source: CLI 4.0.0\r\nAccept: */*\r\n",
            READ,
        ),
        shaped("GET /up/graphql/v2?query=query%7Bme%7Bid%7D%7D", "", ""),
        // `railway up`: a gzipped tarball to the upload path, with the agent attribution.
        shaped(
            "POST /up/project/p-1/environment/e-1/up?serviceId=s-1",
            "Content-Type: application/gzip\r\nX-Railway-Caller: claude-code\r\nX-Railway-Agent-Session: 0198f0c2-6d7e-7c51-9b0e-3a2f1d4c5b6a\r\n",
            "\u{1f}\u{8b}tarball",
        ),
    ];
    for raw in &accepted {
        let answer = exchange(railway, raw).await;
        assert_eq!(status_of(&answer), 200, "{answer}");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[0].contains("x-source: CLI 4.0.0"), "{seen:?}");
    assert!(
        seen[2].contains("x-railway-caller: claude-code")
            && seen[2].contains("content-type: application/gzip")
            && seen[2].contains("path: /project/p-1/environment/e-1/up?serviceId=s-1"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn found_credentials_are_refused_recorded_and_never_forwarded() {
    let (upstream, seen) = start_upstream().await;
    let (railway, gateway) = start_gateway(upstream, UpstreamKind::Railway).await;
    let raw_bearer = format!(
        "POST /up/graphql/v2 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nAuthorization: Bearer {RAILWAY_TOKEN}\r\n{JSON}Content-Length: {}\r\n\r\n{READ}",
        READ.len()
    );
    let cases: Vec<(Vec<u8>, &str, Option<&str>)> = vec![
        (raw_bearer.into_bytes(), "authorization", None),
        (
            shaped(
                "POST /up/graphql/v2",
                &format!("{JSON}Team-Access-Token: {RAILWAY_TOKEN}\r\n"),
                READ,
            ),
            "team-access-token",
            Some("bd1_test"),
        ),
        (
            shaped(
                "POST /up/graphql/v2",
                &format!("{JSON}X-Api-Key: {RAILWAY_TOKEN}\r\n"),
                READ,
            ),
            "x-api-key",
            Some("bd1_test"),
        ),
        (
            shaped(
                "POST /up/graphql/v2",
                &format!("{JSON}X-Railway-Token: {RAILWAY_TOKEN}\r\n"),
                READ,
            ),
            "x-railway-token",
            Some("bd1_test"),
        ),
        // A well-known token format in a header allowed through.
        (
            shaped(
                "POST /up/graphql/v2",
                &format!("{JSON}User-Agent: agent {GITHUB_TOKEN}\r\n"),
                READ,
            ),
            "user-agent",
            Some("bd1_test"),
        ),
        // A credential also beats a malformed shape: it is recorded, not just refused.
        (
            shaped(
                "PUT /up/graphql/v2",
                &format!("Project-Access-Token: {RAILWAY_TOKEN}\r\n"),
                READ,
            ),
            "project-access-token",
            None,
        ),
    ];
    for (raw, header, token) in &cases {
        let answer = exchange(railway, raw).await;
        assert_eq!(status_of(&answer), 403, "{header}: {answer}");
        assert!(
            answer.contains("BLASTDOOR_FOUND_CREDENTIAL")
                && answer.contains("Do not use credentials you found")
                && answer.contains(&format!("`{header}`")),
            "{answer}"
        );
        assert!(
            !answer.contains(RAILWAY_TOKEN) && !answer.contains(GITHUB_TOKEN),
            "{answer}"
        );
        let recorded = gateway.pipeline().refused.lock().unwrap().clone();
        assert_eq!(
            recorded.last(),
            Some(&((*header).to_owned(), token.map(str::to_owned))),
            "{recorded:?}"
        );
    }
    assert_eq!(
        gateway.pipeline().refused.lock().unwrap().len(),
        cases.len()
    );
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn the_capability_token_and_unlisted_headers_never_reach_the_upstream() {
    let (upstream, seen) = start_upstream().await;
    let gateways = gateways(upstream).await;
    let smuggling = "X-Api-Key: bd1_test\r\nTeam-Access-Token: bd1_test\r\nX-Forwarded-Token: bd1_test\r\nAccept-Language: bd1_test\r\nCookie: session=abc\r\nImpersonate-User: system:admin\r\nImpersonate-Group: system:masters\r\nX-Forwarded-For: 10.0.0.1\r\nX-Unlisted: 1\r\nAccept: application/json\r\n";
    for kind in [
        UpstreamKind::Railway,
        UpstreamKind::Rest,
        UpstreamKind::Kubernetes,
    ] {
        let answer = exchange(
            gateways[&kind],
            &shaped("POST /up/graphql/v2", &format!("{JSON}{smuggling}"), READ),
        )
        .await;
        assert_eq!(status_of(&answer), 200, "{kind:?}: {answer}");
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert!(!request.contains("bd1_"), "{request}");
        for absent in [
            "x-api-key",
            "team-access-token",
            "x-forwarded-token",
            "accept-language",
            "cookie",
            "impersonate-",
            "x-forwarded-for",
            "x-unlisted",
        ] {
            assert!(!request.contains(absent), "{absent}: {request}");
        }
        assert!(
            request.contains("authorization: Bearer real-credential"),
            "{request}"
        );
        assert!(request.contains("accept: application/json"), "{request}");
    }
}
