//! Fuzzes `reader::read`, the gateway's one reading of a request: the first byte picks the
//! upstream kind, the rest is a request head as a client would send it. Never panics, and what
//! it lets through keeps its promises: no forwarded header holds a capability token or looks
//! like a credential or is off the kind's allow-list, a found credential's sender is a
//! capability token, and Railway's GraphQL endpoint only gets GET or POST with JSON within the
//! classifier's body limit.
#![no_main]

use std::time::Duration;

use blastdoor_gateway::reader::{self, Reading, Unreadable};
use blastdoor_gateway::{Limits, UpstreamKind};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((selector, head)) = data.split_first() else {
        return;
    };
    let kind = match selector % 3 {
        0 => UpstreamKind::Railway,
        1 => UpstreamKind::Rest,
        _ => UpstreamKind::Kubernetes,
    };
    let mut parsed_headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut parsed_headers);
    if request.parse(head).is_err() {
        return;
    }
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return;
    };
    let Ok(method) = Method::from_bytes(method.as_bytes()) else {
        return;
    };
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    for header in request.headers.iter() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_bytes(header.value),
        ) {
            headers.append(name, value);
        }
    }
    let limits = Limits {
        max_body_bytes: 10 << 20,
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
    };
    match reader::read(kind, &method, path, query, &headers, &limits) {
        Ok(reading) => check(kind, &method, path, &headers, &reading),
        Err(Unreadable::Credential(found)) => {
            if let Some(token) = found.token {
                assert!(token.expose_secret().starts_with(reader::TOKEN_PREFIX));
            }
            assert!(!found.header.is_empty());
        }
        Err(Unreadable::Refused(_)) => {}
    }
});

fn check(kind: UpstreamKind, method: &Method, path: &str, sent: &HeaderMap, reading: &Reading) {
    for (name, value) in &reading.headers {
        let text = String::from_utf8_lossy(value.as_bytes());
        assert!(!text.contains(reader::TOKEN_PREFIX), "{name} forwards a token");
        assert!(!reader::looks_like_credential(&text), "{name} forwards a credential");
        assert!(
            !name.as_str().starts_with("impersonate-")
                && name != http::header::AUTHORIZATION
                && name != http::header::COOKIE
                && name != http::header::HOST
                && name != http::header::CONTENT_ENCODING
                && !reader::METHOD_OVERRIDE_HEADERS.contains(&name.as_str()),
            "{name} is forwarded"
        );
    }
    assert_eq!(reader::forwardable(kind, &reading.headers), reading.headers);
    for name in reader::METHOD_OVERRIDE_HEADERS {
        assert!(!sent.contains_key(name));
    }
    if *method == Method::GET || *method == Method::HEAD {
        assert!(!sent.contains_key(http::header::TRANSFER_ENCODING));
    }
    if kind == UpstreamKind::Railway && reader::is_railway_graphql_path(path) {
        assert!(*method == Method::GET || *method == Method::POST, "{method}");
        assert!(reading.max_body_bytes <= blastdoor_http::railway::MAX_BODY_BYTES);
        if *method == Method::POST {
            assert!(reading.needs_body);
            assert_eq!(sent.get_all(http::header::CONTENT_TYPE).iter().count(), 1);
        }
    }
}
