//! Strict JSON: the one reading of a JSON request body that every reader agrees on.
//!
//! [`parse`] reads exactly what `serde_json::from_slice::<Value>` reads (RFC 8259, UTF-8, no
//! trailing data, lone surrogates refused, nesting at most [`MAX_DEPTH`] levels), and refuses
//! one more thing: an object with the same key twice (after unescaping, so `"a"` and `"\u0061"`
//! are the same key). serde_json and Go's `encoding/json` keep the last of two duplicates and
//! other readers keep the first, so a body with a duplicate can mean one thing to blastdoor and
//! another to the upstream: `{"spec":{"replicas":0,"replicas":3}}`. Such a body is malformed.
//!
//! No IO; the work is linear in the input, and nesting is bounded, so hostile input can neither
//! panic nor overflow the stack.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::malformed::{MalformedRequest, quote};

/// serde_json's own nesting limit, which [`parse`] keeps: deeper arrays and objects are refused.
pub const MAX_DEPTH: usize = 128;

/// Reads `bytes` as one JSON value, refusing duplicate keys.
pub fn parse(bytes: &[u8]) -> Result<Value, MalformedRequest> {
    let duplicate = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(key)) => Err(MalformedRequest::DuplicateKey { key: quote(&key) }),
        (Ok(value), None) => Ok(value),
        (Err(error), None) => Err(MalformedRequest::InvalidJson(error.to_string())),
    }
}

/// A seed that builds a [`Value`] and records the first duplicate key it meets.
#[derive(Clone, Copy)]
struct StrictValue<'a> {
    duplicate: &'a Cell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                let message = format!("duplicate key `{}`", quote(&key));
                self.duplicate.set(Some(key));
                return Err(A::Error::custom(message));
            }
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}
