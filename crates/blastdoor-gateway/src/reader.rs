//! One reading of each request, before anything is decided: what the gateway judges is exactly
//! what the upstream will be sent. [`read`] takes a routed request's method, path and headers
//! and either refuses it outright or returns a [`Reading`]: the capability token, the hold id,
//! the largest body to accept, and the only headers that will be forwarded.
//!
//! What is refused, never held and never forwarded (a well-meaning client does not send it):
//! - a credential that is not a capability token, in any header ([`Unreadable::Credential`],
//!   403; the server records it in the ledger): the agent found a real credential;
//! - a method override header (`X-HTTP-Method-Override`, `X-HTTP-Method`,
//!   `X-Method-Override`), a body on a GET or HEAD, and a `Content-Encoding` other than
//!   `identity` (the gateway would read one body and the upstream another), for every kind;
//! - on Railway, a path that is not in normal form (empty or dot segments, `%`, `\`), and on its
//!   GraphQL endpoint (a path whose first segment starts with `graphql`) anything Railway's
//!   server would not read as GraphQL: a method other than GET or POST (405), a POST whose
//!   `Content-Type` is not `application/json` (charset UTF-8 allowed, 415) or whose body is
//!   empty, a GET without a query string. Its body limit is at most
//!   [`blastdoor_http::railway::MAX_BODY_BYTES`], the most the classifier reads (413 past it).
//!
//! Headers are forwarded from an allow-list per [`UpstreamKind`] ([`forwardable`]); everything
//! else is dropped, as is any allowed header whose value holds a capability token. The real
//! credential is added by [`crate::forward`] alone.

use blastdoor_core::Secret;
use http::{HeaderMap, HeaderName, HeaderValue, Method, header};

use crate::forward::{HOLD_HEADER, PROJECT_ACCESS_TOKEN};
use crate::{GatewayError, Limits, UpstreamKind};

/// The prefix of every blastdoor capability token.
pub const TOKEN_PREFIX: &str = "bd1_";

/// Headers that ask a server to run another method than the request line's.
pub const METHOD_OVERRIDE_HEADERS: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// What Railway's clients send that Railway reads: the official CLI (`railwayapp/cli`) sends
/// `user-agent` and `x-source` (`CLI <version>`), `content-type`, `accept`, and on `railway up`
/// `x-railway-caller` and `x-railway-agent-session`.
const RAILWAY_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "content-type",
    "user-agent",
    "x-source",
    "x-railway-caller",
    "x-railway-agent-session",
];

/// A REST API: content negotiation, conditional requests and idempotency keys.
const REST_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "content-type",
    "user-agent",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "idempotency-key",
];

/// A Kubernetes API server: content negotiation and kubectl's own telemetry headers. Never
/// `Impersonate-*`, which would act as another user with the gateway's credential.
const KUBERNETES_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "content-type",
    "user-agent",
    "kubectl-command",
    "kubectl-session",
];

/// Headers whose value is a credential by position: anything in them that is not a capability
/// token is a credential the agent should not have.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "project-access-token",
    "team-access-token",
    "x-api-key",
    "api-key",
    "apikey",
    "private-token",
];

/// Parts of a header name that say its value is a credential (`X-Auth-Token`, `X-Railway-Token`,
/// `X-Client-Secret`, ...).
const CREDENTIAL_NAME_PARTS: &[&str] = &[
    "token",
    "auth",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api-key",
    "api_key",
    "access-key",
    "access_key",
    "private-key",
    "credential",
];

/// Beginnings of well-known credential formats not covered by
/// [`blastdoor_core::redact_known_secrets`] (which the ledger applies too).
const EXTRA_SECRET_PREFIXES: &[&str] = &[
    "AIza",
    "sk-ant-",
    "sk-proj-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "rk_test_",
    "npm_",
    "pypi-",
    "-----BEGIN",
];

/// The Railway GraphQL endpoint accepts these methods.
const RAILWAY_GRAPHQL_METHODS: &str = "GET, POST";

/// A request as the gateway will judge and forward it.
#[derive(Debug)]
pub struct Reading {
    /// The capability token the agent presented, if any.
    pub token: Option<Secret<String>>,
    /// The `Blastdoor-Hold` header of a re-sent held request.
    pub hold: Option<String>,
    /// The only headers forwarded (and shown to the pipeline): the allow-list of the kind.
    pub headers: HeaderMap,
    /// The largest body accepted for this request.
    pub max_body_bytes: usize,
    /// The body must not be empty (a GraphQL POST).
    pub needs_body: bool,
}

/// Why a request is not read.
#[derive(Debug)]
pub enum Unreadable {
    /// Refused outright: malformed (400), wrong method (405), unreadable body (415), too
    /// large (413), or a token header the gateway cannot read (401).
    Refused(GatewayError),
    /// A credential that is not a capability token: refused with 403 and recorded.
    Credential(FoundCredential),
}

/// A credential found in a request. Holds where it was, never the value.
#[derive(Debug)]
pub struct FoundCredential {
    /// The lowercase name of the header that carried it.
    pub header: String,
    /// The capability token presented beside it, if exactly one: who sent it.
    pub token: Option<Secret<String>>,
}

/// Reads one routed request: `path` is the path below the upstream's name (`/graphql/v2`),
/// `query` its query string.
pub fn read(
    kind: UpstreamKind,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    limits: &Limits,
) -> Result<Reading, Unreadable> {
    if let Some(header) = find_credential(headers) {
        let mut rest = headers.clone();
        let token = take_token(kind, &mut rest)
            .ok()
            .flatten()
            .filter(|token| token.expose_secret().starts_with(TOKEN_PREFIX));
        return Err(Unreadable::Credential(FoundCredential { header, token }));
    }
    check_http(kind, method, path, query, headers).map_err(Unreadable::Refused)?;
    let mut headers = headers.clone();
    let token = take_token(kind, &mut headers).map_err(Unreadable::Refused)?;
    let hold = take_hold(&mut headers).map_err(Unreadable::Refused)?;
    let graphql = kind == UpstreamKind::Railway && is_railway_graphql_path(path);
    let max_body_bytes = if graphql {
        limits
            .max_body_bytes
            .min(blastdoor_http::railway::MAX_BODY_BYTES)
    } else {
        limits.max_body_bytes
    };
    Ok(Reading {
        token,
        hold,
        headers: forwardable(kind, &headers),
        max_body_bytes,
        needs_body: graphql && method == Method::POST,
    })
}

/// Whether `path` (below the upstream's name) is Railway's GraphQL endpoint: its first segment
/// starts with `graphql`, in any case (`/graphql/v2`, `/graphql/internal`, `/GraphQL`). Other
/// paths (`/project/<id>/environment/<id>/up`, the CLI's deploy upload) are left to the
/// classifier.
pub fn is_railway_graphql_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    first
        .get(..7)
        .is_some_and(|start| start.eq_ignore_ascii_case("graphql"))
}

/// The headers forwarded to an upstream of `kind`: the kind's allow-list, minus any value that
/// holds a capability token. Hop-by-hop headers, `Host`, `Content-Length`, cookies and every
/// credential header are never on an allow-list.
pub fn forwardable(kind: UpstreamKind, headers: &HeaderMap) -> HeaderMap {
    let allowed = match kind {
        UpstreamKind::Railway => RAILWAY_HEADERS,
        UpstreamKind::Rest => REST_HEADERS,
        UpstreamKind::Kubernetes => KUBERNETES_HEADERS,
    };
    let mut kept = HeaderMap::new();
    for (name, value) in headers {
        if allowed.contains(&name.as_str()) && !holds_token(value) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// The first header that carries a credential which is not a capability token, by name.
fn find_credential(headers: &HeaderMap) -> Option<String> {
    headers.iter().find_map(|(name, value)| {
        is_credential(name, value).then(|| name.as_str().chars().take(64).collect())
    })
}

fn is_credential(name: &HeaderName, value: &HeaderValue) -> bool {
    let text = String::from_utf8_lossy(value.as_bytes());
    let text = text.trim();
    if credential_named(name.as_str()) {
        if text.is_empty() {
            return false;
        }
        // `Authorization: Bearer bd1_...`, `Project-Access-Token: bd1_...`: the agent's own.
        let credential = match text.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if text.eq_ignore_ascii_case("bearer") => "",
            _ => text,
        };
        return !credential.is_empty() && !credential.starts_with(TOKEN_PREFIX);
    }
    looks_like_credential(text)
}

/// Whether a header of this (lowercase) name holds a credential by its name.
fn credential_named(name: &str) -> bool {
    CREDENTIAL_HEADERS.contains(&name)
        || CREDENTIAL_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// Whether free text holds a credential: what the ledger's redaction would hide (bearer and
/// basic credentials, `token=...`, well-known token prefixes, passwords in URLs), a JSON Web
/// Token, or another well-known prefix. The agent's own capability tokens are not counted.
pub fn looks_like_credential(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\''))
        .filter(|word| !word.is_empty())
        .collect();
    if words
        .iter()
        .any(|word| is_jwt(word) || has_extra_prefix(word))
    {
        return true;
    }
    let without_tokens: Vec<&str> = words
        .into_iter()
        .filter(|word| !word.starts_with(TOKEN_PREFIX))
        .collect();
    let cleaned = without_tokens.join(" ");
    blastdoor_core::redact_known_secrets(&cleaned) != cleaned
}

fn is_jwt(word: &str) -> bool {
    let mut parts = word.split('.');
    let (Some(header), Some(claims), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    header.starts_with("eyJ") && header.len() >= 10 && claims.len() >= 10
}

fn has_extra_prefix(word: &str) -> bool {
    EXTRA_SECRET_PREFIXES
        .iter()
        .any(|prefix| word.starts_with(prefix) && word.len() >= prefix.len() + 8)
}

fn holds_token(value: &HeaderValue) -> bool {
    value
        .as_bytes()
        .windows(TOKEN_PREFIX.len())
        .any(|window| window == TOKEN_PREFIX.as_bytes())
}

/// The HTTP-level checks: method overrides, bodies on GET/HEAD, content encodings, and
/// Railway's paths and GraphQL endpoint.
fn check_http(
    kind: UpstreamKind,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), GatewayError> {
    if let Some(name) = METHOD_OVERRIDE_HEADERS
        .iter()
        .find(|name| headers.contains_key(**name))
    {
        return Err(GatewayError::BadRequest(format!(
            "the `{name}` header asks for another method than the request's; send the method you mean"
        )));
    }
    if matches!(*method, Method::CONNECT | Method::TRACE) {
        return Err(GatewayError::MethodNotAllowed {
            method: method.as_str().chars().take(32).collect(),
            allow: match kind {
                UpstreamKind::Railway if is_railway_graphql_path(path) => RAILWAY_GRAPHQL_METHODS,
                _ => "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            },
        });
    }
    if (*method == Method::GET || *method == Method::HEAD) && has_body(headers) {
        return Err(GatewayError::BadRequest(format!(
            "a {method} request must not have a body (a Content-Length above 0 or \
             Transfer-Encoding); send parameters in the query string"
        )));
    }
    check_content_encoding(headers)?;
    if kind == UpstreamKind::Railway {
        check_railway_path(path)?;
        if is_railway_graphql_path(path) {
            check_railway_graphql(method, query, headers)?;
        }
    }
    Ok(())
}

/// A declared body: `Content-Length` above 0, or any `Transfer-Encoding`.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get_all(header::CONTENT_LENGTH).iter().any(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                != Some(0)
        })
}

/// Only `identity` (or no `Content-Encoding` at all): a compressed body would be read by the
/// classifier as bytes and by the upstream as what they decompress to.
fn check_content_encoding(headers: &HeaderMap) -> Result<(), GatewayError> {
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = value.to_str().map_err(|_| {
            GatewayError::UnsupportedMediaType("the content-encoding header is not text".to_owned())
        })?;
        for coding in text
            .split(',')
            .map(str::trim)
            .filter(|coding| !coding.is_empty())
        {
            if !coding.eq_ignore_ascii_case("identity") {
                return Err(GatewayError::UnsupportedMediaType(format!(
                    "content-encoding `{}` is not accepted; send the body uncompressed",
                    coding.chars().take(32).collect::<String>()
                )));
            }
        }
    }
    Ok(())
}

/// A Railway path is read as written: no empty or dot segments, no percent-encoding and no
/// backslash, which a server could resolve to another path than the one judged.
fn check_railway_path(path: &str) -> Result<(), GatewayError> {
    let inner = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = inner.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let odd = path.contains(['%', '\\'])
        || segments.iter().enumerate().any(|(index, segment)| {
            matches!(*segment, "." | "..") || (segment.is_empty() && index != last)
        });
    if odd {
        return Err(GatewayError::BadRequest(
            "the path is not in normal form (empty or dot segments, `%` or `\\`); send the plain path"
                .to_owned(),
        ));
    }
    Ok(())
}

/// What Railway's GraphQL server reads: POST with a JSON body, or GET with a query string.
fn check_railway_graphql(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), GatewayError> {
    if *method == Method::GET {
        if query.is_none_or(str::is_empty) {
            return Err(GatewayError::BadRequest(
                "a GraphQL GET carries its operation in the query string (`?query=...`)".to_owned(),
            ));
        }
        return Ok(());
    }
    if *method != Method::POST {
        return Err(GatewayError::MethodNotAllowed {
            method: method.as_str().chars().take(32).collect(),
            allow: RAILWAY_GRAPHQL_METHODS,
        });
    }
    let mut content_types = headers.get_all(header::CONTENT_TYPE).iter();
    let (Some(content_type), None) = (content_types.next(), content_types.next()) else {
        return Err(GatewayError::UnsupportedMediaType(
            "a GraphQL POST is sent with exactly one `Content-Type: application/json`".to_owned(),
        ));
    };
    if !is_json_utf8(content_type) {
        return Err(GatewayError::UnsupportedMediaType(format!(
            "content-type `{}` is not accepted; a GraphQL POST is sent as `application/json` \
             (charset utf-8)",
            String::from_utf8_lossy(content_type.as_bytes())
                .chars()
                .take(64)
                .collect::<String>()
        )));
    }
    Ok(())
}

/// `application/json`, optionally with `charset=utf-8` and nothing else.
fn is_json_utf8(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else {
        return false;
    };
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    let mut charset = false;
    for parameter in parts
        .map(str::trim)
        .filter(|parameter| !parameter.is_empty())
    {
        let Some((name, value)) = parameter.split_once('=') else {
            return false;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(value);
        if charset || !name.trim().eq_ignore_ascii_case("charset") {
            return false;
        }
        if !value.eq_ignore_ascii_case("utf-8") {
            return false;
        }
        charset = true;
    }
    true
}

/// Takes the capability token out of the headers: `Authorization: Bearer`, or for Railway
/// also `Project-Access-Token`. Both are removed whatever they hold.
fn take_token(
    kind: UpstreamKind,
    headers: &mut HeaderMap,
) -> Result<Option<Secret<String>>, GatewayError> {
    let authorization: Vec<HeaderValue> = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .cloned()
        .collect();
    let project: Vec<HeaderValue> = headers
        .get_all(PROJECT_ACCESS_TOKEN)
        .iter()
        .cloned()
        .collect();
    headers.remove(header::AUTHORIZATION);
    headers.remove(PROJECT_ACCESS_TOKEN);
    if authorization.len() + project.len() > 1 {
        return Err(GatewayError::BadRequest(
            "send exactly one capability token".to_owned(),
        ));
    }
    if let Some(value) = authorization.first() {
        let text = value.to_str().map_err(|_| {
            GatewayError::TokenRefused("the authorization header is not text".to_owned())
        })?;
        let token = match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(GatewayError::TokenRefused(
                    "the authorization scheme is not Bearer".to_owned(),
                ));
            }
        };
        return Ok(Some(Secret::new(token.to_owned())));
    }
    match (project.first(), kind) {
        (Some(value), UpstreamKind::Railway) => {
            let token = value.to_str().map_err(|_| {
                GatewayError::TokenRefused("the project-access-token header is not text".to_owned())
            })?;
            Ok(Some(Secret::new(token.trim().to_owned())))
        }
        (Some(_), UpstreamKind::Rest | UpstreamKind::Kubernetes) => {
            Err(GatewayError::TokenRefused(
                "project-access-token is only read for railway upstreams".to_owned(),
            ))
        }
        (None, _) => Ok(None),
    }
}

/// Takes the `Blastdoor-Hold` header out of the headers: at most one, as text.
fn take_hold(headers: &mut HeaderMap) -> Result<Option<String>, GatewayError> {
    let values: Vec<HeaderValue> = headers.get_all(HOLD_HEADER).iter().cloned().collect();
    headers.remove(HOLD_HEADER);
    match values.as_slice() {
        [] => Ok(None),
        [value] => value
            .to_str()
            .map(|text| Some(text.trim().to_owned()))
            .map_err(|_| {
                GatewayError::BadRequest("the blastdoor-hold header is not text".to_owned())
            }),
        _ => Err(GatewayError::BadRequest(
            "send at most one blastdoor-hold header".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(max_body_bytes: usize) -> Limits {
        Limits {
            max_body_bytes,
            header_read_timeout: Duration::from_secs(1),
            body_read_timeout: Duration::from_secs(1),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_graphql_endpoint_is_every_path_under_graphql() {
        for path in [
            "/graphql/v2",
            "/graphql/internal",
            "/GraphQL/v2",
            "/graphql",
            "/graphqlx",
        ] {
            assert!(is_railway_graphql_path(path), "{path}");
        }
        for path in [
            "/project/p/environment/e/up",
            "/",
            "/api/v1/agent",
            "/graph",
        ] {
            assert!(!is_railway_graphql_path(path), "{path}");
        }
    }

    #[test]
    fn json_content_types() {
        for accepted in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/json;",
        ] {
            assert!(
                is_json_utf8(&HeaderValue::from_static(accepted)),
                "{accepted}"
            );
        }
        for refused in [
            "application/json; charset=latin1",
            "application/json; charset=utf-8; charset=utf-8",
            "application/json; boundary=x",
            "application/json-patch+json",
            "application/graphql",
            "text/json",
            "",
        ] {
            assert!(
                !is_json_utf8(&HeaderValue::from_static(refused)),
                "{refused}"
            );
        }
    }

    #[test]
    fn what_clients_send_is_not_taken_for_a_credential() {
        for text in [
            "CLI 4.0.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "*/*",
            "application/json, text/event-stream",
            "multipart/form-data; boundary=------------------------3f1c2e9d8b7a6c5d",
            "0198f0c2-6d7e-7c51-9b0e-3a2f1d4c5b6a",
            "kubectl get secrets",
            "en-GB,en;q=0.9",
            "W/\"5d41402abc4b2a76b9719d911017c592\"",
            "bd1_the-agents-own-token",
        ] {
            assert!(!looks_like_credential(text), "{text}");
        }
        for text in [
            "agent ghp_Zq3v8XkP2mN7rT5wY1uB4cD6eF9gH0jK2lM3",
            "Bearer 3f6c1a2e-8b4d-4c9e-a1f7-2d5e8b9c0a41",
            "token=3f6c1a2e8b4d4c9e",
            "AKIAIOSFODNN7EXAMPLE",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
            "postgres://user:hunter2@db.internal/app",
            "sk-ant-api03-abcdefghijkl",
        ] {
            assert!(looks_like_credential(text), "{text}");
        }
    }

    #[test]
    fn credential_headers_hold_only_capability_tokens() {
        let uuid = "3f6c1a2e-8b4d-4c9e-a1f7-2d5e8b9c0a41";
        for (name, value) in [
            ("authorization", format!("Bearer {uuid}")),
            ("authorization", "Basic dXNlcjpwYXNz".to_owned()),
            ("authorization", "token abc".to_owned()),
            ("project-access-token", uuid.to_owned()),
            ("team-access-token", uuid.to_owned()),
            ("x-api-key", uuid.to_owned()),
            ("x-client-secret", "s3cr3t".to_owned()),
            (
                "user-agent",
                "ghp_Zq3v8XkP2mN7rT5wY1uB4cD6eF9gH0jK2lM3".to_owned(),
            ),
        ] {
            let map = headers(&[(name, &value)]);
            assert_eq!(
                find_credential(&map).as_deref(),
                Some(name),
                "{name}: {value}"
            );
        }
        for (name, value) in [
            ("authorization", "Bearer bd1_x"),
            ("authorization", "Bearer"),
            ("project-access-token", "bd1_x"),
            ("x-api-key", "bd1_x"),
            ("x-api-key", ""),
            ("idempotency-key", "0198f0c2-6d7e-7c51-9b0e-3a2f1d4c5b6a"),
            (
                "x-railway-agent-session",
                "0198f0c2-6d7e-7c51-9b0e-3a2f1d4c5b6a",
            ),
        ] {
            let map = headers(&[(name, value)]);
            assert_eq!(find_credential(&map), None, "{name}: {value}");
        }
    }

    #[test]
    fn a_found_credential_keeps_only_a_capability_token_as_the_sender() {
        let uuid = "3f6c1a2e-8b4d-4c9e-a1f7-2d5e8b9c0a41";
        let raw = headers(&[("authorization", &format!("Bearer {uuid}"))]);
        let Err(Unreadable::Credential(found)) = read(
            UpstreamKind::Railway,
            &Method::POST,
            "/graphql/v2",
            None,
            &raw,
            &limits(1024),
        ) else {
            panic!("not refused as a credential");
        };
        assert_eq!(found.header, "authorization");
        assert!(found.token.is_none(), "the raw credential is not a sender");
        let beside = headers(&[("authorization", "Bearer bd1_x"), ("x-api-key", uuid)]);
        let Err(Unreadable::Credential(found)) = read(
            UpstreamKind::Rest,
            &Method::GET,
            "/",
            None,
            &beside,
            &limits(1024),
        ) else {
            panic!("not refused as a credential");
        };
        assert_eq!(found.header, "x-api-key");
        assert_eq!(found.token.unwrap().expose_secret(), "bd1_x");
    }

    #[test]
    fn the_body_limit_is_the_classifiers_on_railways_graphql_endpoint_only() {
        let json = headers(&[("content-type", "application/json")]);
        let read_limit = |kind, path| {
            read(kind, &Method::POST, path, None, &json, &limits(10 << 20))
                .unwrap()
                .max_body_bytes
        };
        assert_eq!(
            read_limit(UpstreamKind::Railway, "/graphql/v2"),
            blastdoor_http::railway::MAX_BODY_BYTES
        );
        assert_eq!(
            read_limit(UpstreamKind::Railway, "/project/p/environment/e/up"),
            10 << 20
        );
        assert_eq!(read_limit(UpstreamKind::Rest, "/graphql/v2"), 10 << 20);
        let small = read(
            UpstreamKind::Railway,
            &Method::POST,
            "/graphql/v2",
            None,
            &json,
            &limits(1000),
        )
        .unwrap();
        assert_eq!(small.max_body_bytes, 1000);
        assert!(small.needs_body);
    }

    #[test]
    fn only_allow_listed_headers_without_tokens_are_forwarded() {
        let map = headers(&[
            ("content-type", "application/json"),
            ("user-agent", "CLI 4.0.0"),
            ("accept", "bd1_leak"),
            ("impersonate-user", "system:admin"),
            ("kubectl-command", "kubectl get"),
            ("idempotency-key", "k-1"),
            ("x-source", "CLI 4.0.0"),
            ("connection", "close"),
            ("host", "gw"),
        ]);
        let names = |kind| {
            let kept = forwardable(kind, &map);
            let mut names: Vec<String> = kept.keys().map(|name| name.to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(
            names(UpstreamKind::Railway),
            ["content-type", "user-agent", "x-source"]
        );
        assert_eq!(
            names(UpstreamKind::Rest),
            ["content-type", "idempotency-key", "user-agent"]
        );
        assert_eq!(
            names(UpstreamKind::Kubernetes),
            ["content-type", "kubectl-command", "user-agent"]
        );
    }
}
