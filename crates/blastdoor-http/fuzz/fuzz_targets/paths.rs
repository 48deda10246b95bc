//! Fuzzes REST and Kubernetes path classification: the first line is the method, the rest
//! the path (with an optional query string).
#![no_main]

use blastdoor_http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (method, target) = text.split_once('\n').unwrap_or(("GET", &text));
    let method = Method::parse(method);
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let rules = [blastdoor_http::rest::RestRule {
        method: None,
        path_prefix: "/v1/databases".to_owned(),
        risk: blastdoor_core::Risk::Destroy,
    }];
    let _ = blastdoor_http::rest::classify(&method, target, b"", &rules);
    let namespaces = blastdoor_http::kubernetes::NamespaceMap::new(
        [],
        blastdoor_core::Environment::Unknown,
    );
    let request = blastdoor_http::kubernetes::KubernetesRequest {
        method: &method,
        path,
        query,
        content_type: None,
        body: b"",
    };
    let _ = blastdoor_http::kubernetes::classify(&request, &namespaces);
});
