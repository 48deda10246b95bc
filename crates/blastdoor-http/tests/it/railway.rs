//! The incident request (`volumeDelete`) in every shape a client can send it, the hidden
//! deletes, unknown mutations and garbage.

use blastdoor_core::Risk;
use blastdoor_http::railway::{RailwayClassification, classify_get_query, classify_request_body};
use serde_json::json;

fn classify(request: serde_json::Value) -> RailwayClassification {
    classify_request_body(&serde_json::to_vec(&request).unwrap())
}

/// Classifies `request` and checks the overall risk and the rule ids (in order).
fn check(request: serde_json::Value, risk: Risk, rules: &[&str]) {
    let classification = classify(request.clone());
    let found: Vec<String> = classification
        .rule_ids()
        .iter()
        .map(|id| id.as_str().to_owned())
        .collect();
    assert_eq!(
        (
            classification.risk,
            found.iter().map(String::as_str).collect::<Vec<_>>()
        ),
        (risk, rules.to_vec()),
        "{request} -> {classification:?}"
    );
}

fn check_error(body: &[u8], message_part: &str) {
    let classification = classify_request_body(body);
    assert_eq!(classification.risk, Risk::Unknown, "{classification:?}");
    let error = classification.malformed.unwrap_or_default();
    assert!(
        error.contains(message_part),
        "{error:?} lacks {message_part:?}"
    );
}

const DESTROY: Risk = Risk::Destroy;
const VOLUME_DELETE: &str = "railway.volume-delete";

#[test]
fn volume_delete_in_every_shape() {
    check(
        json!({"query": "mutation { volumeDelete(volumeId: \"v1\") }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { keep: volumeDelete(volumeId: \"v1\") }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation($v: String!) { volumeDelete(volumeId: $v) }", "variables": {"v": "v1"}}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation($v: String! = \"v1\") { volumeDelete(volumeId: $v) }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { volumeDelete(volumeId: \"v1\") }", "variables": "{}"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { a: cliEventTrack(input: {}) volumeDelete(volumeId: \"v1\") }"}),
        DESTROY,
        &["railway.write", VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { ...F } fragment F on Mutation { volumeDelete(volumeId: \"v1\") }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { ... on Mutation { volumeDelete(volumeId: \"v1\") } }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { x: volumeDelete(volumeId: \"v1\") }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { volumeDelete(volumeId: \"v1\") @skip(if: true) }"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "query Q { me { id } } mutation M { volumeDelete(volumeId: \"v1\") }", "operationName": "M"}),
        DESTROY,
        &[VOLUME_DELETE],
    );
    check(
        json!({"query": "query Q { me { id } } mutation M { volumeDelete(volumeId: \"v1\") }", "operationName": "Q"}),
        Risk::Read,
        &["railway.read"],
    );
    check(
        json!([{"query": "{ me { id } }"}, {"query": "mutation { volumeDelete(volumeId: \"v1\") }"}]),
        DESTROY,
        &["railway.read", VOLUME_DELETE],
    );
    check(
        json!({"query": "mutation { volumeDelete(volumeId: \"v1\") }", "extensions": {}}),
        DESTROY,
        &[VOLUME_DELETE],
    );
}

#[test]
fn volume_delete_ids_come_from_literals_variables_and_aliases() {
    let classification = classify(
        json!({"query": "mutation($v: String!) { gone: volumeDelete(volumeId: $v) }", "variables": {"v": "vol-9"}}),
    );
    let field = &classification.fields[0];
    assert_eq!(field.field, "volumeDelete");
    assert_eq!(field.alias.as_deref(), Some("gone"));
    assert_eq!(field.operation_type, "mutation");
    assert_eq!(field.ids, vec![("volumeId".to_owned(), "vol-9".to_owned())]);
    let classification = classify(
        json!({"query": "mutation { variableDelete(input: {projectId: \"p\", environmentId: \"e\", name: \"DB\"}) }"}),
    );
    assert_eq!(
        classification.fields[0].ids,
        vec![
            ("input.environmentId".to_owned(), "e".to_owned()),
            ("input.projectId".to_owned(), "p".to_owned())
        ]
    );
}

#[test]
fn get_requests_run_queries_only() {
    let get = |query: &str| classify_get_query(query);
    // A mutation sent as GET is malformed, however it is spelled (GraphQL over HTTP: GET is
    // for queries); it is refused, never held.
    for mutation in [
        "query=mutation%20%7B%20volumeDelete(volumeId%3A%20%22v1%22)%20%7D",
        "query=mutation+%7B+x%3A+volumeDelete%28volumeId%3A+%22v1%22%29+%7D",
        "query=mutation(%24v%3AString!)%7BvolumeDelete(volumeId%3A%24v)%7D&variables=%7B%22v%22%3A%22v7%22%7D",
        "query=query+Q%7Bme%7Bid%7D%7Dmutation+M%7BvolumeDelete(volumeId%3A%22v%22)%7D&operationName=M",
    ] {
        let classification = get(mutation);
        assert_eq!(classification.risk, Risk::Unknown, "{mutation}");
        assert!(
            classification
                .malformed
                .as_deref()
                .is_some_and(|why| why.contains("GET request can only run a query")),
            "{classification:?}"
        );
    }
    assert_eq!(get("query=%7Bme%7Bid%7D%7D").risk, Risk::Read);
    let with_variables = get(
        "query=query(%24p%3AString!)%7Bproject(id%3A%24p)%7Bname%7D%7D&variables=%7B%22p%22%3A%22p7%22%7D",
    );
    assert_eq!(
        with_variables.fields[0].ids,
        vec![("id".to_owned(), "p7".to_owned())]
    );
    for malformed in [
        "query=%7Bme%7Bid%7D%7D&query=mutation%7BvolumeDelete(volumeId%3A%22v%22)%7D",
        "operationName=M",
        "query=%zz",
        "query=%FF",
    ] {
        let classification = get(malformed);
        assert_eq!(classification.risk, Risk::Unknown, "{malformed}");
        assert!(classification.malformed.is_some(), "{malformed}");
    }
}

#[test]
fn reads_of_secrets_are_flagged() {
    check(
        json!({"query": "query { variables(projectId: \"p\", environmentId: \"e\") }"}),
        Risk::ReadSecrets,
        &["railway.secrets-read"],
    );
    check(
        json!({"query": "{ variablesForServiceDeployment(projectId: \"p\", environmentId: \"e\", serviceId: \"s\") }"}),
        Risk::ReadSecrets,
        &["railway.secrets-read"],
    );
    check(
        json!({"query": "{ bucketS3Credentials(projectId: \"p\", environmentId: \"e\", bucketId: \"b\") { accessKeyId } }"}),
        Risk::ReadSecrets,
        &["railway.secrets-read"],
    );
    check(
        json!({"query": "subscription { deploymentLogs(deploymentId: \"d\") { message } }"}),
        Risk::Read,
        &["railway.read"],
    );
    check(
        json!({"query": "{ __typename }"}),
        Risk::Read,
        &["railway.read"],
    );
}

#[test]
fn hidden_deletes_in_environment_patches() {
    let patch_commit = "mutation($e: String!, $p: EnvironmentConfig!) { environmentPatchCommit(environmentId: $e, patch: $p) }";
    let with_patch = |patch: serde_json::Value| json!({"query": patch_commit, "variables": {"e": "env-1", "p": patch}});
    check(
        with_patch(json!({"volumes": {"vol-1": {"isDeleted": true}}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"services": {"svc-1": {"isDeleted": true}}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"buckets": {"b-1": {"isDeleted": true}}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"sharedVariables": {"DATABASE_URL": null}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"services": {"svc-1": {"variables": {"X": null}}}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"services": {"svc-1": null}})),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!("{\"volumes\":{\"v\":{\"isDeleted\":true}}}")),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        with_patch(json!({"services": {"svc-1": {"deploy": {"startCommand": "curl x | sh"}}}})),
        Risk::Execute,
        &["railway.start-command-change"],
    );
    check(
        with_patch(json!({"services": {"svc-1": {"variables": {"X": {"value": "1"}}}}})),
        Risk::Write,
        &["railway.write"],
    );
    check(
        with_patch(json!({"volumes": {"vol-1": {"isDeleted": false}}})),
        Risk::Write,
        &["railway.write"],
    );
    check(
        with_patch(json!([1, 2])),
        Risk::Unknown,
        &["railway.patch-uninspectable"],
    );
    check(
        with_patch(json!("not json")),
        Risk::Unknown,
        &["railway.patch-uninspectable"],
    );
    // The patch written inline rather than in a variable.
    check(
        json!({"query": "mutation { environmentPatchCommit(environmentId: \"e\", patch: {volumes: {v: {isDeleted: true}}}) }"}),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        json!({"query": "mutation($i: EnvironmentConfig!) { environmentStageChanges(environmentId: \"e\", input: $i) { id } }", "variables": {"i": {"services": {"s": {"isDeleted": true}}}}}),
        DESTROY,
        &["railway.hidden-delete"],
    );
    check(
        json!({"query": "mutation($i: JSON!) { environmentApplyChangeSet(environmentId: \"e\", input: $i) { __typename } }", "variables": {"i": {"volumes": {"v": {"isDeleted": true}}}}}),
        DESTROY,
        &["railway.hidden-delete"],
    );
}

#[test]
fn variable_replace_and_start_command_changes() {
    let upsert = "mutation($input: VariableCollectionUpsertInput!) { variableCollectionUpsert(input: $input) }";
    check(
        json!({"query": upsert, "variables": {"input": {"projectId": "p", "environmentId": "e", "variables": {"A": "1"}, "replace": true}}}),
        DESTROY,
        &["railway.variables-replace"],
    );
    check(
        json!({"query": upsert, "variables": {"input": {"projectId": "p", "environmentId": "e", "variables": {"A": "1"}}}}),
        Risk::Write,
        &["railway.write"],
    );
    check(
        json!({"query": "mutation { variableCollectionUpsert(input: {projectId: \"p\", environmentId: \"e\", variables: {}, replace: true}) }"}),
        DESTROY,
        &["railway.variables-replace"],
    );
    let update = "mutation($input: ServiceInstanceUpdateInput!) { serviceInstanceUpdate(serviceId: \"s\", environmentId: \"e\", input: $input) }";
    check(
        json!({"query": update, "variables": {"input": {"startCommand": "sh -c evil"}}}),
        Risk::Execute,
        &["railway.start-command-change"],
    );
    check(
        json!({"query": update, "variables": {"input": {"preDeployCommand": ["x"]}}}),
        Risk::Execute,
        &["railway.start-command-change"],
    );
    check(
        json!({"query": update, "variables": {"input": {"source": {"image": "evil/image"}}}}),
        Risk::Execute,
        &["railway.build-config-change"],
    );
    check(
        json!({"query": update, "variables": {"input": {"numReplicas": 2}}}),
        Risk::Write,
        &["railway.write"],
    );
}

#[test]
fn table_risks_for_the_reference_mutations() {
    let one = |field: &str, args: &str, risk: Risk, rule: &str| {
        check(
            json!({"query": format!("mutation {{ {field}{args} }}")}),
            risk,
            &[rule],
        );
    };
    one(
        "serviceDelete",
        "(id: \"s\")",
        DESTROY,
        "railway.service-delete",
    );
    one(
        "environmentDelete",
        "(id: \"e\")",
        DESTROY,
        "railway.environment-delete",
    );
    one(
        "projectDelete",
        "(id: \"p\")",
        DESTROY,
        "railway.project-delete",
    );
    one(
        "volumeInstanceBackupRestore",
        "(volumeInstanceId: \"vi\", volumeInstanceBackupId: \"b\") { workflowId }",
        DESTROY,
        "railway.volume-instance-backup-restore",
    );
    one(
        "volumeInstanceBackupScheduleUpdate",
        "(volumeInstanceId: \"vi\", kinds: [])",
        Risk::Escalate,
        "railway.protection-off",
    );
    one(
        "disablePitrForHaCluster",
        "(input: {}) { __typename }",
        Risk::Escalate,
        "railway.protection-off",
    );
    one(
        "apiTokenCreate",
        "(input: {name: \"x\"})",
        Risk::Escalate,
        "railway.api-token-create",
    );
    one(
        "sandboxExec",
        "(id: \"s\", environmentId: \"e\", command: \"ls\") { __typename }",
        Risk::Execute,
        "railway.sandbox-exec",
    );
    one(
        "generateShellToken",
        "(input: {})",
        Risk::Execute,
        "railway.generate-shell-token",
    );
    one(
        "volumeInstanceBackupCreate",
        "(volumeInstanceId: \"vi\", name: \"n\") { workflowId }",
        Risk::Write,
        "railway.write",
    );
    one(
        "projectScheduleDelete",
        "(id: \"p\")",
        DESTROY,
        "railway.project-schedule-delete",
    );
    one(
        "environmentPreviewChangeSet",
        "(environmentId: \"e\", input: {}) { __typename }",
        Risk::Read,
        "railway.read",
    );
}

#[test]
fn unknown_mutations_are_unknown() {
    check(
        json!({"query": "mutation { volumeDeleteEverything(volumeId: \"v\") }"}),
        Risk::Unknown,
        &["railway.mutation-unknown"],
    );
    check(
        // `__typename` is valid on every object type, the mutation root included, and names
        // only the type: it changes nothing.
        json!({"query": "mutation { __typename volumeCreate(input: {}) { id } }"}),
        Risk::Write,
        &["railway.read", "railway.write"],
    );
}

#[test]
fn garbage_and_ambiguity_are_unknown_with_an_error() {
    check_error(b"", "not valid JSON");
    check_error(b"not json", "not valid JSON");
    check_error(b"{}", "no `query`");
    check_error(b"[]", "batch is empty");
    check_error(b"42", "not a GraphQL request");
    check_error(
        br#"{"query": "mutation { volumeDelete(volumeId: "}"#,
        "does not parse",
    );
    check_error(
        br#"{"query": "query A { me { id } } mutation B { volumeDelete(volumeId: \"v\") }"}"#,
        "several operations",
    );
    check_error(
        br#"{"query": "mutation B { volumeDelete(volumeId: \"v\") }", "operationName": "C"}"#,
        "no operation named `C`",
    );
    check_error(
        br#"{"query": "mutation { ...A } fragment A on Mutation { ...A }"}"#,
        "spreads itself",
    );
    check_error(br#"{"query": "mutation { ...A } fragment A on Mutation { ...B } fragment B on Mutation { ...A }"}"#, "spreads itself");
    check_error(br#"{"query": "mutation { ...Missing }"}"#, "not defined");
    check_error(
        br#"{"query": "mutation { volumeDelete(volumeId: \"v\") }", "query": "{ me { id } }"}"#,
        "the key `query` twice in one object",
    );
    check_error(
        br#"{"query": "mutation { volumeDelete(volumeId: \"v\") }", "documentId": "x"}"#,
        "unknown field",
    );
    check_error(
        br#"{"query": "mutation { volumeDelete(volumeId: \"v\") }", "variables": [1]}"#,
        "variables",
    );
    check_error(br#"{"query": "type Mutation { x: Int }"}"#, "not allowed");
    check_error(
        br#"{"query": "mutation { volumeDelete(volumeId: \"a\", volumeId: \"b\") }"}"#,
        "given twice",
    );
    check_error(
        br#"[{"query": "{ me { id } }"}, {"nope": 1}]"#,
        "unknown field",
    );
}

#[test]
fn hostile_sizes_are_bounded() {
    let big = vec![b' '; blastdoor_http::railway::MAX_BODY_BYTES + 1];
    check_error(&big, "more than");
    let batch: Vec<_> = (0..=blastdoor_http::railway::MAX_BATCH)
        .map(|_| json!({"query": "{ me { id } }"}))
        .collect();
    check_error(&serde_json::to_vec(&batch).unwrap(), "batch has");
    // A fragment spread twice per level, twenty levels deep: 2^20 expansions if unbounded.
    let mut document = String::from("mutation { ...F0 }");
    for level in 0..20 {
        document.push_str(&format!(
            " fragment F{level} on Mutation {{ ...F{next} ...F{next} }}",
            next = level + 1
        ));
    }
    document.push_str(" fragment F20 on Mutation { volumeDelete(volumeId: \"v\") }");
    check_error(
        &serde_json::to_vec(&json!({"query": document})).unwrap(),
        "more than 10000 selections",
    );
    let deep = format!(
        "mutation {{ volumeCreate(input: {}1{}) {{ id }} }}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let classification =
        classify_request_body(&serde_json::to_vec(&json!({"query": deep})).unwrap());
    assert_eq!(classification.risk, Risk::Unknown);
}

#[test]
fn http_requests_by_method() {
    use blastdoor_http::Method;
    use blastdoor_http::railway::classify_http;
    let delete = br#"{"query": "mutation { volumeDelete(volumeId: \"v\") }"}"#;
    assert_eq!(classify_http(&Method::Post, None, delete).risk, DESTROY);
    assert_eq!(
        classify_http(&Method::Post, Some("trace=1"), delete).risk,
        DESTROY
    );
    let read = br#"{"query": "{ me { id } }"}"#;
    assert_eq!(classify_http(&Method::Post, None, read).risk, Risk::Read);
    // The body says read, the query string says delete: refuse to guess.
    let both = classify_http(
        &Method::Post,
        Some("query=mutation%7BvolumeDelete(volumeId%3A%22v%22)%7D"),
        read,
    );
    assert_eq!(both.risk, Risk::Unknown);
    assert_eq!(
        classify_http(&Method::Post, Some("%71uery=x"), read).risk,
        Risk::Unknown
    );
    assert_eq!(
        classify_http(&Method::Get, Some("query=%7Bme%7Bid%7D%7D"), b"").risk,
        Risk::Read
    );
    assert_eq!(classify_http(&Method::Get, None, b"").risk, Risk::Unknown);
    assert_eq!(classify_http(&Method::Put, None, read).risk, Risk::Unknown);
}

#[test]
fn summaries_name_fields_ids_and_rules_but_not_values() {
    let classification = classify(json!({
        "query": "mutation($v: String!, $i: VariableCollectionUpsertInput!) { gone: volumeDelete(volumeId: $v) variableCollectionUpsert(input: $i) }",
        "variables": {"v": "vol-1", "i": {"projectId": "p", "environmentId": "e", "variables": {"DATABASE_URL": "postgres://u:hunter2@db/x"}}},
    }));
    assert_eq!(
        classification.summary(),
        "mutation gone: volumeDelete(volumeId: vol-1) → destroy [railway.volume-delete]; \
         mutation variableCollectionUpsert(input.environmentId: e, input.projectId: p) → write [railway.write]"
    );
    assert!(!format!("{classification:?}").contains("hunter2"));
    assert!(
        classify_request_body(b"nope")
            .summary()
            .starts_with("malformed GraphQL request: ")
    );
}

/// 64 staging service ids then a production one: an id list longer than the extraction limit
/// must not hide the ids past the limit. The request is malformed (refused outright), so a
/// staging-scoped token cannot pass and policy cannot under-count approvers.
#[test]
fn id_lists_over_the_limit_are_malformed() {
    let limit = blastdoor_http::railway::MAX_IDS_PER_FIELD;
    let mut ids: Vec<String> = (0..limit).map(|n| format!("svc-staging-{n}")).collect();
    ids.push("svc-prod".to_owned());
    let request = json!({
        "query": "mutation($ids: [String!]!) { volumeInstanceBackupRestore(volumeInstanceId: \"vi-staging\", volumeInstanceBackupId: \"b\", wipeServiceIds: $ids) { workflowId } }",
        "variables": {"ids": ids},
    });
    let classification = classify(request);
    assert_eq!(classification.risk, Risk::Unknown, "{classification:?}");
    let error = classification.malformed.clone().unwrap_or_default();
    assert!(error.contains("more than 64 ids"), "{error:?}");
    assert!(classification.summary().contains("more than 64 ids"));

    // Exactly at the limit (62 services, the volume instance and the backup) every id is
    // extracted and the table's risk stands.
    ids.truncate(limit - 2);
    let request = json!({
        "query": "mutation($ids: [String!]!) { volumeInstanceBackupRestore(volumeInstanceId: \"vi-staging\", volumeInstanceBackupId: \"b\", wipeServiceIds: $ids) { workflowId } }",
        "variables": {"ids": ids},
    });
    let classification = classify(request);
    assert_eq!(classification.risk, DESTROY, "{classification:?}");
    assert_eq!(classification.malformed, None);
}
