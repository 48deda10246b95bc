//! A strict reading of JSON request bodies: no object may carry the same key twice.
//!
//! `serde_json` keeps the last of two equal keys and other parsers keep the first, so a body
//! such as `{"variables": {"id": "staging", "id": "production"}}` could be judged with one
//! value and executed with the other. The gateway refuses such bodies outright; this check
//! walks the whole document once, without building it, within `serde_json`'s own recursion
//! limit.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Fails with the JSON error (syntax, or "duplicate key") if `body` is not valid JSON whose
/// objects all have distinct keys.
pub(crate) fn reject_duplicate_keys(body: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<Distinct>(body).map(|_| ())
}

/// A JSON value checked for distinct keys and then thrown away.
struct Distinct;

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Distinct, D::Error> {
        deserializer.deserialize_any(DistinctVisitor)
    }
}

struct DistinctVisitor;

impl<'de> Visitor<'de> for DistinctVisitor {
    type Value = Distinct;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Distinct, A::Error> {
        let mut keys: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                let shown: String = key.chars().take(60).collect();
                return Err(de::Error::custom(format!("duplicate key `{shown}`")));
            }
            keys.insert(key);
            map.next_value::<Distinct>()?;
        }
        Ok(Distinct)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Distinct, A::Error> {
        while seq.next_element::<Distinct>()?.is_some() {}
        Ok(Distinct)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Distinct, E> {
        Ok(Distinct)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Distinct, E> {
        Ok(Distinct)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Distinct, E> {
        Ok(Distinct)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Distinct, E> {
        Ok(Distinct)
    }
    fn visit_str<E>(self, _: &str) -> Result<Distinct, E> {
        Ok(Distinct)
    }
    fn visit_unit<E>(self) -> Result<Distinct, E> {
        Ok(Distinct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(reject_duplicate_keys(br#"{"a":1,"b":{"c":[{"d":1}]}}"#).is_ok());
        for body in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"variables":{"id":"s","id":"p"}}"#,
            br#"[{"q":{"x":[{"k":1,"k":1}]}}]"#,
            br#"{"a":1,"\u0061":2}"#,
        ] {
            let error = reject_duplicate_keys(body).unwrap_err();
            assert!(error.to_string().contains("duplicate key"), "{error}");
        }
    }

    #[test]
    fn invalid_json_and_a_byte_order_mark_are_refused() {
        assert!(reject_duplicate_keys(b"\xef\xbb\xbf{}").is_err());
        assert!(reject_duplicate_keys(b"{} {}").is_err());
        assert!(reject_duplicate_keys(b"{\"a\":\"\xff\"}").is_err());
    }
}
