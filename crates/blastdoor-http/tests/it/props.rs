//! Property tests: classification never panics and is deterministic, whatever the input.

use blastdoor_http::Method;
use blastdoor_http::railway::{classify_get_query, classify_request_body};
use proptest::prelude::*;

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
        let rest = blastdoor_http::rest::classify(&method, &path, &[]);
        prop_assert_eq!(rest.clone(), blastdoor_http::rest::classify(&method, &path, &[]));
        let namespaces = blastdoor_http::kubernetes::NamespaceMap::new([], blastdoor_core::Environment::Unknown);
        let kube = blastdoor_http::kubernetes::classify(&method, &path, Some(&path), &namespaces);
        prop_assert_eq!(kube, blastdoor_http::kubernetes::classify(&method, &path, Some(&path), &namespaces));
    }
}
