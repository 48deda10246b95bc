//! [`CanonicalRequest`]: the exact operation a hold covers, normalised so that phrasing that
//! cannot change its meaning (JSON key order, whitespace) does not change its [`Digest`], and
//! anything that could does.
//!
//! # The digest
//!
//! `SHA-256` over, in order, each field as an 8-byte big-endian length then its bytes:
//! `"blastdoor-hold-v1"`, the layer (`gateway`, `hook`, ...), the method upper-cased (`POST`;
//! `SHELL` for a command line), the upstream name (or session, for the hook), the path with its
//! query (the working directory, for the hook), the body's kind (`empty`, `json`, `bytes`) and
//! the body's canonical bytes.
//!
//! # Canonical bodies
//!
//! A body that parses as JSON becomes compact JSON with object keys sorted by their UTF-8 bytes,
//! strings re-escaped minimally and integers written plainly. It stays byte-exact (`bytes`)
//! when canonicalising could merge two requests that an upstream might read differently: an
//! object with a duplicate key (parsers disagree on which one wins), a number with a fraction
//! or exponent, or an integer outside 64 bits (these go through floating point). Any other body
//! is kept byte-exact.

use std::fmt;

use base64::Engine as _;
use blastdoor_core::Layer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest of a [`CanonicalRequest`], shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest([u8; 32]);

impl Digest {
    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Digest> {
        let bytes = hex::decode(text).ok()?;
        let array: [u8; 32] = bytes.try_into().ok()?;
        Some(Digest(array))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl TryFrom<String> for Digest {
    type Error = String;
    fn try_from(text: String) -> Result<Digest, String> {
        Digest::from_hex(&text).ok_or_else(|| format!("`{text}` is not a SHA-256 digest"))
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> String {
        digest.to_hex()
    }
}

/// A request body after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum CanonicalBody {
    Empty,
    /// Canonical JSON text.
    Json {
        text: String,
    },
    /// The exact bytes, base64 (standard alphabet, padded).
    Bytes {
        base64: String,
    },
}

impl CanonicalBody {
    /// Normalises `body` as described in the module documentation.
    pub fn of(body: &[u8]) -> CanonicalBody {
        if body.is_empty() {
            return CanonicalBody::Empty;
        }
        match canonical_json(body) {
            Some(text) => CanonicalBody::Json { text },
            None => CanonicalBody::Bytes {
                base64: base64::engine::general_purpose::STANDARD.encode(body),
            },
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            CanonicalBody::Empty => "empty",
            CanonicalBody::Json { .. } => "json",
            CanonicalBody::Bytes { .. } => "bytes",
        }
    }

    /// The bytes the digest covers. A stored `Bytes` body whose base64 does not decode (only
    /// possible if the database was edited) digests as its base64 text, which never equals a
    /// real request's digest, so a claim fails rather than matching something else.
    fn digest_bytes(&self) -> Vec<u8> {
        match self {
            CanonicalBody::Empty => Vec::new(),
            CanonicalBody::Json { text } => text.as_bytes().to_vec(),
            CanonicalBody::Bytes { base64 } => base64::engine::general_purpose::STANDARD
                .decode(base64)
                .unwrap_or_else(|_| base64.as_bytes().to_vec()),
        }
    }
}

/// The exact operation a hold covers, as the gateway (or hook) saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalRequest {
    pub layer: Layer,
    /// Upper-cased HTTP method, or `SHELL` for a command line.
    pub method: String,
    /// The upstream's configured name (`railway`), or the session id for the hook.
    pub upstream: String,
    /// The path below the upstream with its query (`/graphql/v2`), or the working directory.
    pub path: String,
    pub body: CanonicalBody,
}

impl CanonicalRequest {
    /// Builds the canonical form of one request.
    pub fn new(
        layer: Layer,
        method: &str,
        upstream: &str,
        path: &str,
        body: &[u8],
    ) -> CanonicalRequest {
        CanonicalRequest {
            layer,
            method: method.to_ascii_uppercase(),
            upstream: upstream.to_owned(),
            path: path.to_owned(),
            body: CanonicalBody::of(body),
        }
    }

    /// A shell command for the hook: `session` plays the upstream, `cwd` the path, the command
    /// line the body (kept byte-exact).
    pub fn shell(session: &str, cwd: &str, command: &str) -> CanonicalRequest {
        CanonicalRequest {
            layer: Layer::Hook,
            method: "SHELL".to_owned(),
            upstream: session.to_owned(),
            path: cwd.to_owned(),
            body: CanonicalBody::Bytes {
                base64: base64::engine::general_purpose::STANDARD.encode(command.as_bytes()),
            },
        }
    }

    /// The digest described in the module documentation.
    pub fn digest(&self) -> Digest {
        let mut hasher = Sha256::new();
        let body = self.body.digest_bytes();
        let fields: [&[u8]; 7] = [
            b"blastdoor-hold-v1",
            self.layer.as_str().as_bytes(),
            self.method.as_bytes(),
            self.upstream.as_bytes(),
            self.path.as_bytes(),
            self.body.kind().as_bytes(),
            &body,
        ];
        for field in fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        Digest(hasher.finalize().into())
    }
}

/// The canonical JSON text of `body`, or `None` when it must stay byte-exact.
pub fn canonical_json(body: &[u8]) -> Option<String> {
    let value: CanonicalValue = serde_json::from_slice(body).ok()?;
    let mut out = String::with_capacity(body.len());
    value.write(&mut out);
    Some(out)
}

/// A JSON value that refuses, while parsing, whatever would make canonicalisation lossy.
enum CanonicalValue {
    Null,
    Bool(bool),
    Integer(String),
    String(String),
    Array(Vec<CanonicalValue>),
    /// Sorted by key (a `BTreeMap` orders `String`s by their UTF-8 bytes).
    Object(std::collections::BTreeMap<String, CanonicalValue>),
}

impl CanonicalValue {
    fn write(&self, out: &mut String) {
        match self {
            CanonicalValue::Null => out.push_str("null"),
            CanonicalValue::Bool(true) => out.push_str("true"),
            CanonicalValue::Bool(false) => out.push_str("false"),
            CanonicalValue::Integer(text) => out.push_str(text),
            CanonicalValue::String(text) => write_string(text, out),
            CanonicalValue::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            CanonicalValue::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    // serde_json's string escaping is minimal and deterministic; serialising a &str cannot fail.
    match serde_json::to_string(text) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

impl<'de> Deserialize<'de> for CanonicalValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CanonicalValue, D::Error> {
        deserializer.deserialize_any(CanonicalVisitor)
    }
}

struct CanonicalVisitor;

impl<'de> Visitor<'de> for CanonicalVisitor {
    type Value = CanonicalValue;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("JSON that canonicalises without loss")
    }

    fn visit_unit<E: de::Error>(self) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::Integer(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::Integer(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, _value: f64) -> Result<CanonicalValue, E> {
        Err(E::custom("fractional or out-of-range number"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<CanonicalValue, E> {
        Ok(CanonicalValue::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CanonicalValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<CanonicalValue>()? {
            items.push(item);
        }
        Ok(CanonicalValue::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CanonicalValue, A::Error> {
        let mut members = std::collections::BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<CanonicalValue>()?;
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom("duplicate key"));
            }
        }
        Ok(CanonicalValue::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(body: &str, expected: Option<&str>) {
        assert_eq!(
            canonical_json(body.as_bytes()).as_deref(),
            expected,
            "body: {body}"
        );
    }

    #[test]
    fn json_is_sorted_and_compact() {
        check(
            r#"{ "b": 1, "a": [true, null, "x"] }"#,
            Some(r#"{"a":[true,null,"x"],"b":1}"#),
        );
        check(
            r#"{"query":"mutation { volumeDelete(volumeId: \"v\") }"}"#,
            Some(r#"{"query":"mutation { volumeDelete(volumeId: \"v\") }"}"#),
        );
        check(r#"{"a":"\u0041"}"#, Some(r#"{"a":"A"}"#));
        check("-12", Some("-12"));
    }

    #[test]
    fn lossy_json_stays_byte_exact() {
        check(r#"{"query":"a","query":"b"}"#, None);
        check(r#"{"n":1.0}"#, None);
        check(r#"{"n":1e3}"#, None);
        check(r#"{"n":123456789012345678901234567890}"#, None);
        check("not json", None);
        check(r#"{"a":1} trailing"#, None);
    }

    #[test]
    fn digests_ignore_key_order_and_whitespace_but_nothing_else() {
        let a = CanonicalRequest::new(
            Layer::Gateway,
            "post",
            "railway",
            "/graphql/v2",
            br#"{"a":1,"b":2}"#,
        );
        let b = CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v2",
            b"{ \"b\":2,\n\"a\":1 }",
        );
        assert_eq!(a.digest(), b.digest());
        let other_body = CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v2",
            br#"{"a":1,"b":3}"#,
        );
        let other_path = CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "railway",
            "/graphql/v1",
            br#"{"a":1,"b":2}"#,
        );
        let other_upstream = CanonicalRequest::new(
            Layer::Gateway,
            "POST",
            "k8s",
            "/graphql/v2",
            br#"{"a":1,"b":2}"#,
        );
        let other_method = CanonicalRequest::new(
            Layer::Gateway,
            "PUT",
            "railway",
            "/graphql/v2",
            br#"{"a":1,"b":2}"#,
        );
        let other_layer = CanonicalRequest::new(
            Layer::Hook,
            "POST",
            "railway",
            "/graphql/v2",
            br#"{"a":1,"b":2}"#,
        );
        for other in [
            other_body,
            other_path,
            other_upstream,
            other_method,
            other_layer,
        ] {
            assert_ne!(a.digest(), other.digest(), "{other:?}");
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = CanonicalRequest::new(Layer::Gateway, "POST", "rail", "way/x", b"");
        let b = CanonicalRequest::new(Layer::Gateway, "POST", "railway", "/x", b"");
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn digest_round_trips_through_hex_and_serde() {
        let digest = CanonicalRequest::shell("s1", "/w", "rm -rf /").digest();
        assert_eq!(Digest::from_hex(&digest.to_hex()), Some(digest));
        let json = serde_json::to_string(&digest).unwrap();
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest);
        assert!(Digest::from_hex("zz").is_none());
    }
}
