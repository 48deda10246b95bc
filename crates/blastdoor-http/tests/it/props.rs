//! Property tests: classification never panics and is deterministic, whatever the input.

use blastdoor_core::{Environment, Risk};
use blastdoor_http::kubernetes::{self, KubernetesRequest, NamespaceMap};
use blastdoor_http::railway::{classify_get_query, classify_request_body};
use blastdoor_http::{MalformedRequest, Method, strict_json};
use proptest::prelude::*;
use serde_json::Value;

fn namespaces() -> NamespaceMap {
    NamespaceMap::new([], Environment::Unknown)
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "TRACE"];
const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/yaml"),
    Some("application/merge-patch+json"),
    Some("application/strategic-merge-patch+json"),
    Some("application/json-patch+json"),
    Some("application/apply-patch+yaml"),
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
];
const PATHS: &[&str] = &[
    "/apis/apps/v1/namespaces/prod/deployments/web",
    "/apis/apps/v1/namespaces/prod/deployments/web/scale",
    "/api/v1/namespaces/prod/secrets/db",
    "/api/v1/namespaces/prod/configmaps",
    "/api/v1/namespaces/prod/pods/pg-0",
    "/api/v1/namespaces/prod/finalize",
    "/api/v1/persistentvolumes/pv-1",
    "/api/v1/namespaces/prod/pods/web/exec",
    "/version",
];

/// Keys and strings that the Kubernetes body rules look at, and some that they do not.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("spec".to_owned()),
        Just("replicas".to_owned()),
        Just("maxReplicas".to_owned()),
        Just("metadata".to_owned()),
        Just("finalizers".to_owned()),
        Just("deletionTimestamp".to_owned()),
        Just("data".to_owned()),
        Just("persistentVolumeReclaimPolicy".to_owned()),
        Just("Delete".to_owned()),
        Just("$patch".to_owned()),
        Just("$retainKeys".to_owned()),
        Just("$deleteFromPrimitiveList/finalizers".to_owned()),
        Just("replace".to_owned()),
        Just("delete".to_owned()),
        Just("op".to_owned()),
        Just("path".to_owned()),
        Just("from".to_owned()),
        Just("value".to_owned()),
        Just("add".to_owned()),
        Just("remove".to_owned()),
        Just("move".to_owned()),
        Just("copy".to_owned()),
        Just("/spec/replicas".to_owned()),
        Just("/metadata/finalizers/0".to_owned()),
        Just("/data".to_owned()),
        Just("".to_owned()),
        "[a-z~/]{1,6}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-2i64..3).prop_map(Value::from),
        Just(Value::from(0.0)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map(word(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// JSON-ish text: tokens that make valid, nearly valid and duplicate-keyed bodies.
fn jsonish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("0".to_owned()),
        Just("null".to_owned()),
        Just("\"\\u0061\"".to_owned()),
        Just("\"a\"".to_owned()),
        word().prop_map(|word| format!("\"{word}\"")),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

/// Classifies a body with every method and content type on one path; checks determinism and
/// the promises of the signature.
fn classify_everywhere(path: &str, body: &[u8]) -> Result<(), TestCaseError> {
    for method in METHODS {
        let method = Method::parse(method);
        for content_type in CONTENT_TYPES {
            let request = KubernetesRequest {
                method: &method,
                path,
                query: Some("gracePeriodSeconds=0"),
                content_type: content_type.map(str::as_bytes),
                body,
            };
            let first = kubernetes::classify(&request, &namespaces());
            prop_assert_eq!(&first, &kubernetes::classify(&request, &namespaces()));
            if method.is_safe() && !body.is_empty() {
                let refused = matches!(first, Err(MalformedRequest::BodyOnSafeMethod { .. }));
                prop_assert!(refused, "{first:?}");
            }
            if let (Ok(classified), Method::Patch | Method::Put) = (&first, &method)
                && classified.resource.is_some()
            {
                prop_assert!(classified.risk >= Risk::Write, "{classified:?}");
            }
        }
    }
    Ok(())
}

fn graphqlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("mutation".to_owned()),
        Just("query".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("...".to_owned()),
        Just("fragment F on Mutation".to_owned()),
        Just("...F".to_owned()),
        Just("on".to_owned()),
        Just("volumeDelete".to_owned()),
        Just("volumeId:".to_owned()),
        Just("$v".to_owned()),
        Just("\"x\"".to_owned()),
        Just("a:".to_owned()),
        Just("@skip(if: true)".to_owned()),
        "[a-zA-Z_]{1,8}",
        Just("[".to_owned()),
        Just("]".to_owned()),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.join(" "))
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let first = classify_request_body(&body);
        prop_assert_eq!(first.clone(), classify_request_body(&body));
        if first.malformed.is_some() {
            prop_assert_eq!(first.risk, blastdoor_core::Risk::Unknown);
        }
    }

    #[test]
    fn graphql_like_documents_never_panic(document in graphqlish(), variable in "[ -~]{0,12}") {
        let body = serde_json::to_vec(&serde_json::json!({"query": document, "variables": {"v": variable}})).unwrap();
        let first = classify_request_body(&body);
        prop_assert_eq!(first.clone(), classify_request_body(&body));
        let batch = serde_json::to_vec(&serde_json::json!([{"query": document}, {"query": document}])).unwrap();
        let batched = classify_request_body(&batch);
        prop_assert!(batched.risk >= first.risk || first.malformed.is_some());
        if first.fields.iter().any(|field| field.field == "volumeDelete" && field.operation_type == "mutation") {
            prop_assert_eq!(first.risk, blastdoor_core::Risk::Destroy);
        }
    }

    #[test]
    fn query_strings_never_panic(query in "[ -~]{0,200}") {
        prop_assert_eq!(classify_get_query(&query), classify_get_query(&query));
    }

    #[test]
    fn paths_never_panic(method in "[A-Z]{1,8}", path in "[ -~]{0,120}") {
        let method = Method::parse(&method);
        let rest = blastdoor_http::rest::classify(&method, &path, b"", &[]);
        prop_assert!(rest.is_ok());
        prop_assert_eq!(rest, blastdoor_http::rest::classify(&method, &path, b"", &[]));
        let request = KubernetesRequest {
            method: &method,
            path: &path,
            query: Some(&path),
            content_type: None,
            body: b"",
        };
        let kube = kubernetes::classify(&request, &namespaces());
        prop_assert_eq!(kube, kubernetes::classify(&request, &namespaces()));
    }

    #[test]
    fn kubernetes_bodies_never_panic(
        path in proptest::sample::select(PATHS),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        classify_everywhere(path, &body)?;
    }

    #[test]
    fn kubernetes_json_like_bodies_never_panic(
        path in proptest::sample::select(PATHS),
        body in jsonish(),
    ) {
        classify_everywhere(path, body.as_bytes())?;
    }

    #[test]
    fn kubernetes_objects_and_patches_never_panic(
        path in proptest::sample::select(PATHS),
        value in json_value(),
        operations in proptest::collection::vec(
            (word(), word(), word(), json_value()).prop_map(|(op, path, from, value)| {
                serde_json::json!({"op": op, "path": path, "from": from, "value": value})
            }),
            0..4,
        ),
    ) {
        classify_everywhere(path, &serde_json::to_vec(&value).unwrap())?;
        classify_everywhere(path, &serde_json::to_vec(&operations).unwrap())?;
    }

    #[test]
    fn strict_json_reads_what_serde_json_reads_without_duplicates(value in json_value()) {
        let text = serde_json::to_vec(&value).unwrap();
        prop_assert_eq!(strict_json::parse(&text), Ok(value));
    }

    #[test]
    fn strict_json_refuses_only_what_serde_json_refuses_or_duplicates(body in jsonish()) {
        let strict = strict_json::parse(body.as_bytes());
        let lax = serde_json::from_slice::<Value>(body.as_bytes());
        match (strict, lax) {
            (Ok(strict), Ok(lax)) => prop_assert_eq!(strict, lax),
            (Err(MalformedRequest::DuplicateKey { .. }), _) | (Err(_), Err(_)) => {}
            (strict, lax) => prop_assert!(false, "strict {strict:?}, serde_json {lax:?}"),
        }
    }
}
