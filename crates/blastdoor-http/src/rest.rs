//! REST upstreams: risk from the method and per-upstream path rules.
//!
//! Defaults ([`RULES`] documents each): GET, HEAD and OPTIONS read (`rest.read`); POST, PUT
//! and PATCH write (`rest.write`); DELETE destroys (`rest.delete`), and so do a DELETE and a
//! PATCH on a collection (`rest.collection-delete`, `rest.collection-patch`); any other method
//! is `Unknown` (`rest.method-unknown`). Rules from the upstream's configuration come first,
//! in order, and the first that matches wins (`rest.config-rule`).
//!
//! A collection is a path that does not end in an item: after the leading API and version
//! segments (`api`, `rest`, `v1`, `v2beta1`), an odd number of segments whose last one does not
//! look like an id (no digit, no `.`, `@` or `:`). `/v1/projects` and `/v1/projects/42/members`
//! are collections; `/v1/projects/42`, `/v1/projects/web` and `/v1/dns/example.com` are not.
//! The guess errs towards collections (`PATCH /v1/user` is held as a collection patch); a
//! configured rule settles such a path.
//!
//! A GET, HEAD or OPTIONS with a body is malformed ([`MalformedRequest`]): a read carries
//! none, and an upstream that reads it anyway could do something other than read. The gateway
//! answers it with 400. Other bodies are not read: REST rules are about method and path.
//!
//! Paths are normalised before matching, so that a rule on `/v1/databases` cannot be dodged
//! with `//v1/./databases` or `/v1/%64atabases`: percent-escapes are decoded, empty and `.`
//! segments dropped and `..` resolved. A path that cannot be normalised without ambiguity (an
//! encoded `/`, `..` above the root, invalid UTF-8, a NUL) is `Unknown` (`rest.path-ambiguous`).
//! Prefixes match whole segments: `/v1/db` matches `/v1/db` and `/v1/db/x`, not `/v1/dbx`.
//! Paths longer than [`MAX_PATH_BYTES`] are `Unknown`.

use blastdoor_core::{Risk, RuleId};

use crate::Method;
use crate::malformed::MalformedRequest;
use crate::rule::Rule;

/// Paths longer than this are not classified.
pub const MAX_PATH_BYTES: usize = 8 * 1024;

/// `rest.read`: GET, HEAD and OPTIONS.
pub static READ: Rule = Rule {
    id: "rest.read",
    risk: Risk::Read,
    summary: "a safe method, which must not change state",
    example: "GET /v1/projects",
    alternative: "",
};

/// `rest.write`: POST, PUT, and PATCH of one item.
pub static WRITE: Rule = Rule {
    id: "rest.write",
    risk: Risk::Write,
    summary: "creates or changes a resource",
    example: "PATCH /v1/projects/42",
    alternative: "",
};

/// `rest.delete`: DELETE of one item. Whatever it names is gone, and REST APIs rarely keep a
/// way back.
pub static DELETE: Rule = Rule {
    id: "rest.delete",
    risk: Risk::Destroy,
    summary: "deletes a resource",
    example: "DELETE /v1/volumes/vol-1",
    alternative: "take a backup or snapshot first, and let a human approve the delete",
};

/// `rest.collection-delete`: DELETE of a collection (a path with no trailing id): many APIs
/// read it as "delete every item", often filtered by a query string that is easy to get wrong.
pub static COLLECTION_DELETE: Rule = Rule {
    id: "rest.collection-delete",
    risk: Risk::Destroy,
    summary: "deletes a whole collection, or every item a filter matches",
    example: "DELETE /v1/projects/42/volumes?status=detached",
    alternative: "list the items and delete them one by one, by id",
};

/// `rest.collection-patch`: PATCH of a collection (a path with no trailing id): a bulk change
/// to every item, which can overwrite or blank fields everywhere at once (and some APIs take
/// deletions in it).
pub static COLLECTION_PATCH: Rule = Rule {
    id: "rest.collection-patch",
    risk: Risk::Destroy,
    summary: "changes every item of a collection at once",
    example: "PATCH /v1/users {\"role\": \"viewer\"}",
    alternative: "patch the items one by one, by id, or configure a rule for this path",
};

/// `rest.method-unknown`: a method blastdoor has no rule for (`TRACE`, `PROPFIND`, a lowercase
/// `delete`): what the upstream does with it is unknown.
pub static METHOD_UNKNOWN: Rule = Rule {
    id: "rest.method-unknown",
    risk: Risk::Unknown,
    summary: "a method blastdoor does not know",
    example: "PURGE /v1/cache",
    alternative: "use GET, POST, PUT, PATCH or DELETE",
};

/// `rest.path-ambiguous`: a path that cannot be normalised without ambiguity, so a path rule
/// could be dodged or misapplied.
pub static PATH_AMBIGUOUS: Rule = Rule {
    id: "rest.path-ambiguous",
    risk: Risk::Unknown,
    summary: "a path that cannot be read unambiguously",
    example: "GET /v1/databases%2Fmain",
    alternative: "send the plain path, without encoded slashes, NULs or `..` above the root",
};

/// Every built-in REST rule, in a stable order. (`rest.config-rule`, a configured rule, has
/// the risk its configuration gives.)
pub static RULES: &[&Rule] = &[
    &READ,
    &WRITE,
    &DELETE,
    &COLLECTION_DELETE,
    &COLLECTION_PATCH,
    &METHOD_UNKNOWN,
    &PATH_AMBIGUOUS,
];

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
/// `rules`, first match wins. `body` is the request's whole body (empty when there is none):
/// on a GET, HEAD or OPTIONS it makes the request malformed, which the gateway answers with
/// 400; otherwise it is not read.
pub fn classify(
    method: &Method,
    path: &str,
    body: &[u8],
    rules: &[RestRule],
) -> Result<RestClassification, MalformedRequest> {
    if method.is_safe() && !body.is_empty() {
        return Err(MalformedRequest::BodyOnSafeMethod {
            method: method.as_str().to_owned(),
            size: body.len(),
        });
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let normalized = match normalize_path(path) {
        Ok(normalized) => normalized,
        Err(why) => {
            return Ok(RestClassification {
                risk: PATH_AMBIGUOUS.risk,
                rule_id: PATH_AMBIGUOUS.rule_id(),
                matched_rule: None,
                normalized_path: None,
                explanation: format!("the path cannot be read unambiguously: {why}"),
            });
        }
    };
    for (index, rule) in rules.iter().enumerate() {
        let method_matches = rule.method.as_ref().is_none_or(|wanted| wanted == method);
        if method_matches && prefix_matches(&rule.path_prefix, &normalized) {
            return Ok(RestClassification {
                risk: rule.risk,
                rule_id: crate::rule_id("rest.config-rule"),
                matched_rule: Some(index),
                explanation: format!(
                    "{method} {prefix}: configured as {risk}",
                    prefix = rule.path_prefix,
                    risk = rule.risk
                ),
                normalized_path: Some(normalized),
            });
        }
    }
    let rule = match method {
        Method::Get | Method::Head | Method::Options => &READ,
        Method::Delete if is_collection(&normalized) => &COLLECTION_DELETE,
        Method::Patch if is_collection(&normalized) => &COLLECTION_PATCH,
        Method::Post | Method::Put | Method::Patch => &WRITE,
        Method::Delete => &DELETE,
        Method::Other(_) => &METHOD_UNKNOWN,
    };
    let explanation = if matches!(rule.id, "rest.collection-delete" | "rest.collection-patch") {
        format!("{method} of the collection {normalized}: {}", rule.summary)
    } else {
        format!("{method} defaults to {}", rule.risk)
    };
    Ok(RestClassification {
        risk: rule.risk,
        rule_id: rule.rule_id(),
        matched_rule: None,
        explanation,
        normalized_path: Some(normalized),
    })
}

/// Whether a normalised path names a collection rather than one item (see the module docs):
/// after the leading API and version segments, an odd number of segments, the last of which
/// does not look like an id. The API root is a collection.
pub fn is_collection(normalized: &str) -> bool {
    let segments: Vec<&str> = normalized
        .split('/')
        .filter(|segment| !segment.is_empty())
        .skip_while(|segment| is_api_prefix(segment))
        .collect();
    match segments.last() {
        None => true,
        Some(last) => segments.len() % 2 == 1 && !looks_like_id(last),
    }
}

/// `api`, `rest`, or a version: `v` then a digit (`v1`, `v2beta1`).
fn is_api_prefix(segment: &str) -> bool {
    let mut chars = segment.chars();
    matches!(segment, "api" | "rest")
        || (chars.next() == Some('v')
            && chars.next().is_some_and(|c| c.is_ascii_digit())
            && chars.all(|c| c.is_ascii_alphanumeric()))
}

/// A digit (`42`, a UUID, `srv-1a2b`), or `.`, `@` or `:` (a domain, a file, an e-mail, a
/// `name:tag`): something that names an item, not a collection.
fn looks_like_id(segment: &str) -> bool {
    segment
        .chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '.' | '@' | ':'))
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
