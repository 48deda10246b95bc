//! Fuzzes the Railway walk through `railway::classify_request_body` and
//! `railway::classify_get_query` with structured requests: a document, an `operationName` and
//! `variables` taken from the input (a JSON request object, as the seeds are, or arbitrary bytes
//! split on NUL into document, operation name and variables). Each request is sent as a POST
//! body, as a GET query string and as a batch of two, and each is classified twice.
//!
//! Asserts: nothing panics; the same input gives the same classification; a request that is
//! malformed is `Unknown`; a batch of a request twice is that request's fields twice (or
//! malformed when it is); a query's GET classification is its POST classification.
#![no_main]

use blastdoor_core::Risk;
use blastdoor_http::railway::{RailwayClassification, classify_get_query, classify_request_body};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// The parts of one GraphQL request.
struct Parts {
    query: String,
    operation_name: Option<String>,
    variables: Option<Value>,
}

fn parts(data: &[u8]) -> Parts {
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(data) {
        return Parts {
            query: object
                .get("query")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            operation_name: object
                .get("operationName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            variables: object.get("variables").cloned(),
        };
    }
    let mut pieces = data.splitn(3, |byte| *byte == 0);
    let query = String::from_utf8_lossy(pieces.next().unwrap_or_default()).into_owned();
    let operation_name = pieces
        .next()
        .map(|name| String::from_utf8_lossy(name).into_owned());
    let variables = pieces.next().map(|raw| {
        serde_json::from_slice::<Value>(raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()))
    });
    Parts {
        query,
        operation_name,
        variables,
    }
}

fn request_object(parts: &Parts) -> Value {
    let mut object = Map::new();
    object.insert("query".into(), Value::String(parts.query.clone()));
    if let Some(name) = &parts.operation_name {
        object.insert("operationName".into(), Value::String(name.clone()));
    }
    if let Some(variables) = &parts.variables {
        object.insert("variables".into(), variables.clone());
    }
    Value::Object(object)
}

fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn query_string(parts: &Parts) -> String {
    let mut pairs = vec![format!("query={}", encode(&parts.query))];
    if let Some(name) = &parts.operation_name {
        pairs.push(format!("operationName={}", encode(name)));
    }
    match &parts.variables {
        Some(Value::String(text)) => pairs.push(format!("variables={}", encode(text))),
        Some(other) => pairs.push(format!("variables={}", encode(&other.to_string()))),
        None => {}
    }
    pairs.join("&")
}

/// Classifies twice and checks that both agree and that a malformed request is `Unknown`.
fn twice(classify: impl Fn() -> RailwayClassification) -> RailwayClassification {
    let first = classify();
    assert_eq!(first, classify(), "the same input classified twice differs");
    if first.malformed.is_some() {
        assert_eq!(first.risk, Risk::Unknown);
        assert!(first.fields.is_empty());
    }
    first
}

fuzz_target!(|data: &[u8]| {
    // The raw bytes as a body, whatever they are.
    twice(|| classify_request_body(data));

    let parts = parts(data);
    let object = request_object(&parts);
    let body = serde_json::to_vec(&object).unwrap_or_default();
    let single = twice(|| classify_request_body(&body));

    let batch_body =
        serde_json::to_vec(&Value::Array(vec![object.clone(), object])).unwrap_or_default();
    let batch = twice(|| classify_request_body(&batch_body));
    match &single.malformed {
        Some(_) => assert!(
            batch.malformed.is_some(),
            "a malformed request is fine in a batch"
        ),
        None => {
            assert!(batch.malformed.is_none(), "{:?}", batch.malformed);
            assert_eq!(batch.risk, single.risk);
            let expected: Vec<_> = [0, 1]
                .iter()
                .flat_map(|&index| {
                    single.fields.iter().map(move |field| {
                        let mut field = field.clone();
                        field.batch_index = index;
                        field
                    })
                })
                .collect();
            assert_eq!(batch.fields, expected);
        }
    }

    let query = query_string(&parts);
    let get = twice(|| classify_get_query(&query));
    // A GET runs the same operation as a POST when it is a query and names it the same way
    // (a GET's empty `operationName` means none; a POST's names no operation there is).
    if parts.operation_name.as_deref() != Some("")
        && single.malformed.is_none()
        && single
            .fields
            .iter()
            .all(|field| field.operation_type == "query")
    {
        assert_eq!(
            get, single,
            "GET and POST classify the same query differently"
        );
    }
});
