//! Fuzzes the Kubernetes body reader through `kubernetes::classify`: the first line is the
//! method, the second the `Content-Type` (empty: none), the third the path with an optional
//! query string, the rest the body. Classification never panics, is deterministic, refuses a
//! body on a read, and a body can only raise the risk of an update or a patch above a write.
#![no_main]

use blastdoor_core::{Environment, Risk};
use blastdoor_http::kubernetes::{KubernetesRequest, NamespaceMap, classify};
use blastdoor_http::{MalformedRequest, Method};
use libfuzzer_sys::fuzz_target;

fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[]),
    }
}

fuzz_target!(|data: &[u8]| {
    let (method, rest) = line(data);
    let (content_type, rest) = line(rest);
    let (target, body) = line(rest);
    let method = Method::parse(&String::from_utf8_lossy(method));
    let target = String::from_utf8_lossy(target);
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (&*target, None),
    };
    let request = KubernetesRequest {
        method: &method,
        path,
        query,
        content_type: (!content_type.is_empty()).then_some(content_type),
        body,
    };
    let namespaces = NamespaceMap::new([], Environment::Unknown);
    let first = classify(&request, &namespaces);
    assert_eq!(first, classify(&request, &namespaces));
    if method.is_safe() && !body.is_empty() {
        assert!(matches!(first, Err(MalformedRequest::BodyOnSafeMethod { .. })));
    }
    if let Ok(classified) = &first
        && matches!(classified.verb.as_str(), "update" | "patch")
        && classified.resource.is_some()
    {
        assert!(classified.risk >= Risk::Write);
    }
    // The reader alone, for every verb that reads a body.
    for verb in ["create", "update", "patch", "delete"] {
        let read = blastdoor_http::kubernetes::body::read(verb, request.content_type, body);
        assert_eq!(read, blastdoor_http::kubernetes::body::read(verb, request.content_type, body));
    }
});
