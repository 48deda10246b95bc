//! REST classification: method defaults, collections, configured rules (first match wins),
//! paths that try to dodge a rule, and bodies on reads.

use blastdoor_core::Risk;
use blastdoor_http::Method;
use blastdoor_http::rest::{RULES, RestRule, classify};

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
    let classification = classify(&Method::parse(method), path, b"", &rules()).unwrap();
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
    let classification = classify(&Method::Get, "/v1/databases", b"", &rules()).unwrap();
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

/// Runs a table of cases, one a line: `METHOD PATH BODY EXPECTED`, BODY `-` for none.
/// EXPECTED is the built-in rule that decides (its risk is the rule's, from [`RULES`]), or
/// `400:CODE` when the request is malformed.
fn check_table(table: &str) {
    for line in table.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let [method, path, body, expected] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("not a case: {line}");
        };
        let body = if body == "-" { "" } else { body };
        let outcome = classify(&Method::parse(method), path, body.as_bytes(), &rules());
        match (expected.strip_prefix("400:"), outcome) {
            (Some(code), Err(error)) => assert_eq!(error.code(), code, "{line}"),
            (None, Ok(classified)) => {
                let rule = RULES.iter().find(|rule| rule.id == expected).unwrap();
                assert_eq!(
                    (classified.rule_id.as_str(), classified.risk),
                    (expected, rule.risk),
                    "{line}: {classified:?}"
                );
            }
            (_, outcome) => panic!("{line}: {outcome:?}"),
        }
    }
}

#[test]
fn collections_are_deleted_and_patched_at_destroy() {
    check_table(
        r#"
DELETE /v1/projects                      -  rest.collection-delete
DELETE /v1/projects/                     -  rest.collection-delete
DELETE /v1/projects?all=true             -  rest.collection-delete
DELETE /v1/projects/42/members           -  rest.collection-delete
DELETE /api/v2/volumes                   -  rest.collection-delete
DELETE /                                 -  rest.collection-delete
DELETE /v1/projects/42                   -  rest.delete
DELETE /v1/apps/my-app                   -  rest.delete
DELETE /v1/projects/web/members/bob      -  rest.delete
DELETE /report.pdf                       -  rest.delete
DELETE /v1/projects/42  {"cascade":true}    rest.delete
PATCH  /v1/users        {"role":"viewer"}   rest.collection-patch
PATCH  /v1/projects/42/members  -           rest.collection-patch
PATCH  /v1/users/42     {"role":"viewer"}   rest.write
PATCH  /v1/apps/my-app  -                   rest.write
PATCH  /v1/users/a@example.com/x/y  -       rest.write
PUT    /v1/users        -                   rest.write
POST   /v1/users        {"name":"a"}        rest.write
"#,
    );
    // A configured rule still comes first.
    check("DELETE", "/v1/cache", Risk::Write, "rest.config-rule");
}

#[test]
fn a_body_on_a_read_is_malformed() {
    check_table(
        r#"
GET     /v1/projects   {}     400:body-on-safe-method
HEAD    /v1/projects   x      400:body-on-safe-method
OPTIONS /v1/projects   x      400:body-on-safe-method
GET     /v1/databases  {}     400:body-on-safe-method
GET     /v1/projects   -      rest.read
"#,
    );
}
