//! The one redacted view of a held request, for every place a human or a script reads it (the
//! CLI's `holds`/`approve`, the web UI's page and JSON API).
//!
//! Holds store the request body exactly as sent (the approval digest covers it), so a held
//! `PGPASSWORD=… psql` or a `curl -H "Authorization: Bearer …"` is in the store in clear.
//! Nothing that shows a hold may print the stored body: it goes through [`redacted_body_text`]
//! (or [`redacted_request_json`]), which decodes it and removes what looks like a credential:
//! [`blastdoor_core::redact_known_secrets`] on every piece of text, and every JSON string value
//! under a key whose name says secret (`password`, `token`, `authorization`, ...). This is a
//! best-effort second line of defence; the label next to it must not promise more.

use base64::Engine as _;
use blastdoor_core::{REDACTED, redact_known_secrets};
use serde_json::Value;

use crate::{CanonicalBody, CanonicalRequest};

/// Parts of a JSON key that mark its value as a secret (compared lower-case, `-`/`_` kept).
const SENSITIVE_KEY_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "private_key",
    "private-key",
    "privatekey",
    "credential",
    "authorization",
    "cookie",
    "dsn",
];

/// The body as text a human may read, with credentials redacted: JSON pretty-printed (string
/// values under secret-named keys replaced, every other string scrubbed), text (a shell command
/// line) scrubbed, binary data summarised by its size and never shown.
pub fn redacted_body_text(body: &CanonicalBody) -> String {
    match body {
        CanonicalBody::Empty => String::new(),
        CanonicalBody::Json { text } => match serde_json::from_str::<Value>(text) {
            Ok(mut value) => {
                redact_json(&mut value);
                serde_json::to_string_pretty(&value).unwrap_or_else(|_| redact_known_secrets(text))
            }
            Err(_) => redact_known_secrets(text),
        },
        CanonicalBody::Bytes { base64 } => {
            match base64::engine::general_purpose::STANDARD.decode(base64) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) if !text.contains('\0') => redact_known_secrets(&text),
                    Ok(text) => binary_note(text.len()),
                    Err(error) => binary_note(error.as_bytes().len()),
                },
                Err(_) => "[stored body is not valid base64; not shown]".to_owned(),
            }
        }
    }
}

/// True when [`redacted_body_text`] shows a text (or JSON) body, false for none or binary.
pub fn body_is_text(body: &CanonicalBody) -> bool {
    match body {
        CanonicalBody::Empty => false,
        CanonicalBody::Json { .. } => true,
        CanonicalBody::Bytes { base64 } => base64::engine::general_purpose::STANDARD
            .decode(base64)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .is_some_and(|text| !text.contains('\0')),
    }
}

/// The request as JSON for scripts: `layer`, `method`, `upstream`, `path` (scrubbed) and
/// `body: {"kind", "text"}` where `text` is [`redacted_body_text`]. The stored body (`text` of
/// a JSON body, `base64` of bytes) never appears.
pub fn redacted_request_json(request: &CanonicalRequest) -> Value {
    let kind = match &request.body {
        CanonicalBody::Empty => "empty",
        CanonicalBody::Json { .. } => "json",
        CanonicalBody::Bytes { .. } => "bytes",
    };
    serde_json::json!({
        "layer": request.layer.as_str(),
        "method": request.method,
        "upstream": request.upstream,
        "path": redact_known_secrets(&request.path),
        "body": {
            "kind": kind,
            "text": redacted_body_text(&request.body),
            "redacted": true,
        },
    })
}

/// Redacts a JSON value in place: string values under secret-named keys become
/// [`REDACTED`] (objects and arrays under them are emptied of strings too), every other string
/// goes through [`redact_known_secrets`].
pub fn redact_json(value: &mut Value) {
    redact_json_at(value, false, 0);
}

/// How deep [`redact_json`] walks; anything deeper is replaced whole (input never recurses
/// without bound).
const MAX_JSON_DEPTH: usize = 64;

fn redact_json_at(value: &mut Value, under_sensitive_key: bool, depth: usize) {
    if depth > MAX_JSON_DEPTH {
        *value = Value::String(REDACTED.to_owned());
        return;
    }
    match value {
        Value::String(text) => {
            *text = if under_sensitive_key {
                REDACTED.to_owned()
            } else {
                redact_known_secrets(text)
            };
        }
        Value::Array(items) => {
            for item in items {
                redact_json_at(item, under_sensitive_key, depth + 1);
            }
        }
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let sensitive = under_sensitive_key || is_sensitive_key(key);
                redact_json_at(inner, sensitive, depth + 1);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SENSITIVE_KEY_PARTS.iter().any(|part| key.contains(part))
}

fn binary_note(size: usize) -> String {
    format!("[{size} bytes of binary data; not shown]")
}

#[cfg(test)]
mod tests {
    use blastdoor_core::Layer;

    use super::*;

    const BEARER: &str = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0";
    const PGPASSWORD: &str = "hunter2-pg";

    #[test]
    fn shell_commands_are_decoded_and_scrubbed() {
        let request = CanonicalRequest::shell(
            "session-1",
            "/home/u/proj",
            &format!(
                "PGPASSWORD={PGPASSWORD} psql -h db -c 'DROP TABLE x' && curl -H 'Authorization: Bearer {BEARER}' https://api"
            ),
        );
        let text = redacted_body_text(&request.body);
        assert!(text.contains("psql -h db"), "{text}");
        assert!(text.contains("PGPASSWORD=[redacted]"), "{text}");
        assert!(
            !text.contains(PGPASSWORD) && !text.contains(BEARER),
            "{text}"
        );
        let json = redacted_request_json(&request).to_string();
        assert!(
            !json.contains(PGPASSWORD) && !json.contains(BEARER),
            "{json}"
        );
        assert!(!json.contains("base64"), "{json}");
        let stored = serde_json::to_string(&request).unwrap();
        assert!(
            !stored.contains(PGPASSWORD),
            "the store keeps base64: {stored}"
        );
        // ...which is why printing the stored form is not enough: it decodes to the secret.
    }

    #[test]
    fn json_bodies_lose_values_under_secret_keys() {
        let body = serde_json::json!({
            "query": "mutation { variableUpsert(input: {name: \"DB\", value: $v}) }",
            "variables": {
                "input": {"apiToken": "plain-looking", "name": "DB"},
                "headers": {"Authorization": format!("Bearer {BEARER}")},
                "password": {"nested": ["a", "b"]},
                "note": format!("PGPASSWORD={PGPASSWORD}"),
                "count": 3,
            },
        });
        let request = CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v2?access_token=abcdef123",
            body.to_string().as_bytes(),
        );
        let text = redacted_body_text(&request.body);
        for secret in ["plain-looking", BEARER, PGPASSWORD, "\"a\""] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("variableUpsert") && text.contains("\"count\": 3"),
            "{text}"
        );
        let json = redacted_request_json(&request);
        assert_eq!(json["path"], "/graphql/v2?access_token=[redacted]");
        assert_eq!(json["body"]["kind"], "json");
    }

    #[test]
    fn binary_and_empty_bodies_show_no_bytes() {
        let request =
            CanonicalRequest::new(Layer::Gateway, "POST", "s3", "/b", &[0xff, 0x00, 0x41]);
        assert_eq!(
            redacted_body_text(&request.body),
            "[3 bytes of binary data; not shown]"
        );
        assert!(!body_is_text(&request.body));
        assert_eq!(redacted_body_text(&CanonicalBody::Empty), "");
        let garbage = CanonicalBody::Bytes {
            base64: "!!".to_owned(),
        };
        assert!(redacted_body_text(&garbage).contains("not shown"));
    }

    #[test]
    fn deep_json_is_bounded() {
        let deep = format!("{}\"x\"{}", "[".repeat(100), "]".repeat(100));
        let mut value: Value = serde_json::from_str(&deep).unwrap();
        redact_json(&mut value);
        assert!(!value.to_string().contains("\"x\""));
    }
}
