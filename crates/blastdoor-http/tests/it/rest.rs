//! REST classification: method defaults, configured rules (first match wins), and paths that
//! try to dodge a rule.

use blastdoor_core::Risk;
use blastdoor_http::Method;
use blastdoor_http::rest::{RestRule, classify};

fn rules() -> Vec<RestRule> {
    vec![
        RestRule {
            method: Some(Method::Post),
            path_prefix: "/v1/search".into(),
            risk: Risk::Read,
        },
        RestRule {
            method: None,
            path_prefix: "/v1/databases".into(),
            risk: Risk::Destroy,
        },
        RestRule {
            method: Some(Method::Delete),
            path_prefix: "/v1/cache".into(),
            risk: Risk::Write,
        },
    ]
}

fn check(method: &str, path: &str, risk: Risk, rule: &str) {
    let classification = classify(&Method::parse(method), path, &rules());
    assert_eq!(
        (classification.risk, classification.rule_id.as_str()),
        (risk, rule),
        "{method} {path}: {classification:?}"
    );
}

#[test]
fn method_defaults() {
    check("GET", "/v1/projects", Risk::Read, "rest.read");
    check("HEAD", "/v1/projects", Risk::Read, "rest.read");
    check("OPTIONS", "/", Risk::Read, "rest.read");
    check("POST", "/v1/projects", Risk::Write, "rest.write");
    check("PUT", "/v1/projects/1", Risk::Write, "rest.write");
    check("PATCH", "/v1/projects/1", Risk::Write, "rest.write");
    check("DELETE", "/v1/projects/1", Risk::Destroy, "rest.delete");
    check(
        "TRACE",
        "/v1/projects",
        Risk::Unknown,
        "rest.method-unknown",
    );
    check(
        "delete",
        "/v1/projects/1",
        Risk::Unknown,
        "rest.method-unknown",
    );
}

#[test]
fn configured_rules_come_first_in_order() {
    check("POST", "/v1/search", Risk::Read, "rest.config-rule");
    check(
        "POST",
        "/v1/search/deep?q=1",
        Risk::Read,
        "rest.config-rule",
    );
    check(
        "GET",
        "/v1/databases/main",
        Risk::Destroy,
        "rest.config-rule",
    );
    check("DELETE", "/v1/cache/key", Risk::Write, "rest.config-rule");
    check("PUT", "/v1/cache/key", Risk::Write, "rest.write");
    // Prefixes match whole segments.
    check("POST", "/v1/searchAndDestroy", Risk::Write, "rest.write");
    let classification = classify(&Method::Get, "/v1/databases", &rules());
    assert_eq!(classification.matched_rule, Some(1));
}

#[test]
fn paths_are_normalised_before_matching() {
    check(
        "GET",
        "//v1/./databases/x",
        Risk::Destroy,
        "rest.config-rule",
    );
    check("GET", "/v1/%64atabases", Risk::Destroy, "rest.config-rule");
    check(
        "POST",
        "/v1/other/../search",
        Risk::Read,
        "rest.config-rule",
    );
    check(
        "DELETE",
        "/v1/x/../cache/k",
        Risk::Write,
        "rest.config-rule",
    );
    check(
        "GET",
        "/v1/databases%2Fx",
        Risk::Unknown,
        "rest.path-ambiguous",
    );
    check("GET", "/../etc", Risk::Unknown, "rest.path-ambiguous");
    check("GET", "/v1/%zz", Risk::Unknown, "rest.path-ambiguous");
    check("GET", "/v1/%00", Risk::Unknown, "rest.path-ambiguous");
    check(
        "GET",
        &format!("/{}", "a".repeat(10_000)),
        Risk::Unknown,
        "rest.path-ambiguous",
    );
    assert_eq!(
        blastdoor_http::rest::normalize_path("/a//b/./c/"),
        Ok("/a/b/c".to_owned())
    );
}
