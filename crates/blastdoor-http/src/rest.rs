//! REST upstreams: risk from the method and per-upstream path rules.
//!
//! Defaults: GET, HEAD and OPTIONS read (`rest.read`); POST, PUT and PATCH write
//! (`rest.write`); DELETE destroys (`rest.delete`); any other method is `Unknown`
//! (`rest.method-unknown`). Rules from the upstream's configuration come first, in order, and
//! the first that matches wins (`rest.config-rule`).
//!
//! Paths are normalised before matching, so that a rule on `/v1/databases` cannot be dodged
//! with `//v1/./databases` or `/v1/%64atabases`: percent-escapes are decoded, empty and `.`
//! segments dropped and `..` resolved. A path that cannot be normalised without ambiguity (an
//! encoded `/`, `..` above the root, invalid UTF-8, a NUL) is `Unknown` (`rest.path-ambiguous`).
//! Prefixes match whole segments: `/v1/db` matches `/v1/db` and `/v1/db/x`, not `/v1/dbx`.
//! Paths longer than [`MAX_PATH_BYTES`] are `Unknown`.

use blastdoor_core::{Risk, RuleId};

use crate::Method;

/// Paths longer than this are not classified.
pub const MAX_PATH_BYTES: usize = 8 * 1024;

/// One configured rule: requests with this method (any, if `None`) whose normalised path
/// starts with `path_prefix` (on a segment boundary) have `risk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestRule {
    pub method: Option<Method>,
    pub path_prefix: String,
    pub risk: Risk,
}

/// What a REST request would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestClassification {
    pub risk: Risk,
    pub rule_id: RuleId,
    /// The index of the configured rule that matched, if one did.
    pub matched_rule: Option<usize>,
    /// The path as matched (normalised), if it could be normalised.
    pub normalized_path: Option<String>,
    pub explanation: String,
}

/// Classifies `method` on `path` (the query string, if any, is ignored) with the upstream's
/// `rules`, first match wins.
pub fn classify(method: &Method, path: &str, rules: &[RestRule]) -> RestClassification {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let normalized = match normalize_path(path) {
        Ok(normalized) => normalized,
        Err(why) => {
            return RestClassification {
                risk: Risk::Unknown,
                rule_id: crate::rule_id("rest.path-ambiguous"),
                matched_rule: None,
                normalized_path: None,
                explanation: format!("the path cannot be read unambiguously: {why}"),
            };
        }
    };
    for (index, rule) in rules.iter().enumerate() {
        let method_matches = rule.method.as_ref().is_none_or(|wanted| wanted == method);
        if method_matches && prefix_matches(&rule.path_prefix, &normalized) {
            return RestClassification {
                risk: rule.risk,
                rule_id: crate::rule_id("rest.config-rule"),
                matched_rule: Some(index),
                explanation: format!(
                    "{method} {prefix}: configured as {risk}",
                    prefix = rule.path_prefix,
                    risk = rule.risk
                ),
                normalized_path: Some(normalized),
            };
        }
    }
    let (risk, rule) = match method {
        Method::Get | Method::Head | Method::Options => (Risk::Read, "rest.read"),
        Method::Post | Method::Put | Method::Patch => (Risk::Write, "rest.write"),
        Method::Delete => (Risk::Destroy, "rest.delete"),
        Method::Other(_) => (Risk::Unknown, "rest.method-unknown"),
    };
    RestClassification {
        risk,
        rule_id: crate::rule_id(rule),
        matched_rule: None,
        explanation: format!("{method} defaults to {risk}"),
        normalized_path: Some(normalized),
    }
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = match normalize_path(prefix) {
        Ok(prefix) => prefix,
        Err(_) => return false,
    };
    if prefix == "/" {
        return true;
    }
    match path.strip_prefix(prefix.as_str()) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Decodes percent-escapes, drops empty and `.` segments and resolves `..`. The result starts
/// with `/` and has no trailing `/` (except the root itself).
pub fn normalize_path(path: &str) -> Result<String, &'static str> {
    if path.len() > MAX_PATH_BYTES {
        return Err("the path is too long");
    }
    let mut segments: Vec<String> = Vec::new();
    for raw in path.split('/') {
        let segment = percent_decode_segment(raw)?;
        match segment.as_str() {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err("`..` above the root");
                }
            }
            _ => segments.push(segment),
        }
    }
    Ok(format!("/{}", segments.join("/")))
}

fn percent_decode_segment(segment: &str) -> Result<String, &'static str> {
    let mut bytes = Vec::with_capacity(segment.len());
    let mut input = segment.bytes();
    while let Some(byte) = input.next() {
        if byte == b'%' {
            let high = input.next().and_then(hex_value);
            let low = input.next().and_then(hex_value);
            match (high, low) {
                (Some(high), Some(low)) => bytes.push(high * 16 + low),
                _ => return Err("a bad percent-escape"),
            }
        } else {
            bytes.push(byte);
        }
    }
    if bytes.contains(&b'/') || bytes.contains(&b'\\') {
        return Err("an encoded `/` or `\\`");
    }
    if bytes.contains(&0) {
        return Err("a NUL byte");
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 after decoding")
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}
