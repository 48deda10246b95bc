//! Every document Railway's own CLI sends (`test_data/railway-cli`) is classified, and
//! the mutation table covers exactly the mutation fields of Railway's published schema.

use std::collections::BTreeSet;
use std::path::PathBuf;

use blastdoor_core::Risk;
use blastdoor_http::railway::{classify_request_body, table};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli")
}

fn documents(kind: &str) -> Vec<(String, String)> {
    let mut documents: Vec<(String, String)> = std::fs::read_dir(fixtures_dir().join(kind))
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .filter(|(name, _)| name.ends_with(".graphql"))
        .collect();
    documents.sort();
    documents
}

fn body(document: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "query": document })).unwrap()
}

fn schema_fields(type_name: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(fixtures_dir().join("schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let types = schema["data"]["__schema"]["types"].as_array().unwrap();
    let mutation = types.iter().find(|t| t["name"] == type_name).unwrap();
    mutation["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_table_covers_exactly_the_schema_mutations() {
    let schema = schema_fields("Mutation");
    let table: BTreeSet<String> = table::mutation_rules()
        .iter()
        .map(|rule| rule.field.to_owned())
        .collect();
    let missing: Vec<_> = schema.difference(&table).collect();
    let extra: Vec<_> = table.difference(&schema).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "review the table: missing {missing:?}, no longer in the schema {extra:?}"
    );
    assert!(
        schema.len() >= 200,
        "the schema lost its mutations: {}",
        schema.len()
    );
}

#[test]
fn the_table_is_sorted_and_every_rule_id_is_valid_and_no_row_is_unknown() {
    let rules = table::mutation_rules();
    for pair in rules.windows(2) {
        assert!(
            pair[0].field < pair[1].field,
            "not sorted at {}",
            pair[1].field
        );
    }
    for rule in rules {
        assert!(
            blastdoor_core::RuleId::new(rule.rule_id).is_ok(),
            "{}",
            rule.rule_id
        );
        assert_ne!(
            rule.risk,
            Risk::Unknown,
            "{} must have a decided risk",
            rule.field
        );
        assert!(rule.rule_id.starts_with("railway."), "{}", rule.rule_id);
        assert_eq!(table::mutation_rule(rule.field), Some(rule));
    }
}

/// The CLI's queries that reveal secrets (variable values, storage credentials, a staged
/// patch with the values it sets); every other query is a plain read.
const SECRET_QUERIES: &[&str] = &[
    "BucketS3Credentials.graphql",
    "EnvironmentStagedChanges.graphql",
    "VariablesForServiceDeployment.graphql",
];

#[test]
fn every_cli_query_is_a_read_or_a_read_of_secrets() {
    let documents = documents("queries");
    assert!(documents.len() >= 50);
    for (name, document) in documents {
        let classification = classify_request_body(&body(&document));
        assert_eq!(classification.malformed, None, "{name}");
        let expected = if SECRET_QUERIES.contains(&name.as_str()) {
            Risk::ReadSecrets
        } else {
            Risk::Read
        };
        assert_eq!(classification.risk, expected, "{name}");
        assert!(!classification.fields.is_empty(), "{name}");
    }
}

#[test]
fn every_cli_mutation_gets_its_table_risk() {
    let documents = documents("mutations");
    assert!(documents.len() >= 70);
    for (name, document) in documents {
        let classification = classify_request_body(&body(&document));
        assert_eq!(classification.malformed, None, "{name}");
        assert!(!classification.fields.is_empty(), "{name}");
        let mut expected = Risk::Read;
        for field in &classification.fields {
            let rule = table::mutation_rule(&field.field)
                .unwrap_or_else(|| panic!("{name}: `{}` not in the table", field.field));
            assert_eq!(field.risk, rule.risk, "{name}: {}", field.field);
            assert_eq!(field.rule_id.as_str(), rule.rule_id, "{name}");
            expected = expected.max(rule.risk);
        }
        assert_eq!(classification.risk, expected, "{name}");
        assert_ne!(classification.risk, Risk::Unknown, "{name}");
    }
}

#[test]
fn the_cli_volume_delete_document_is_a_destroy_with_its_volume_id() {
    let document =
        std::fs::read_to_string(fixtures_dir().join("mutations/VolumeDelete.graphql")).unwrap();
    let request = serde_json::json!({
        "query": document,
        "variables": {"id": "vol-prod-1"},
        "operationName": "VolumeDelete",
    });
    let classification = classify_request_body(&serde_json::to_vec(&request).unwrap());
    assert_eq!(classification.risk, Risk::Destroy);
    assert_eq!(
        classification.rule_ids()[0].as_str(),
        "railway.volume-delete"
    );
    assert_eq!(
        classification.fields[0].ids,
        vec![("volumeId".to_owned(), "vol-prod-1".to_owned())]
    );
}

/// `data/railway-schema.json`, which the classifier walks, is exactly the vendored
/// introspection result in compact form (as `scripts/railway-schema.py` writes it).
#[test]
fn the_embedded_schema_is_the_vendored_schema() {
    fn type_ref(value: &serde_json::Value) -> String {
        match value["kind"].as_str().unwrap() {
            "NON_NULL" => format!("{}!", type_ref(&value["ofType"])),
            "LIST" => format!("[{}]", type_ref(&value["ofType"])),
            _ => value["name"].as_str().unwrap().to_owned(),
        }
    }
    let introspection: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures_dir().join("schema.json")).unwrap())
            .unwrap();
    let schema = &introspection["data"]["__schema"];
    let mut types = serde_json::Map::new();
    for definition in schema["types"].as_array().unwrap() {
        let name = definition["name"].as_str().unwrap();
        if name.starts_with("__") {
            continue;
        }
        let mut fields = serde_json::Map::new();
        for field in definition["fields"].as_array().into_iter().flatten() {
            let mut args = serde_json::Map::new();
            for arg in field["args"].as_array().into_iter().flatten() {
                args.insert(
                    arg["name"].as_str().unwrap().to_owned(),
                    serde_json::json!({"type": type_ref(&arg["type"]), "default": arg["defaultValue"]}),
                );
            }
            fields.insert(
                field["name"].as_str().unwrap().to_owned(),
                serde_json::json!({"type": type_ref(&field["type"]), "args": args}),
            );
        }
        for field in definition["inputFields"].as_array().into_iter().flatten() {
            fields.insert(
                field["name"].as_str().unwrap().to_owned(),
                serde_json::json!({"type": type_ref(&field["type"]), "args": {}, "default": field["defaultValue"]}),
            );
        }
        let mut entry = serde_json::json!({"kind": definition["kind"], "fields": fields});
        if let Some(possible) = definition["possibleTypes"]
            .as_array()
            .filter(|p| !p.is_empty())
        {
            let mut names: Vec<&str> = possible
                .iter()
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            names.sort_unstable();
            entry["possible"] = serde_json::json!(names);
        }
        types.insert(name.to_owned(), entry);
    }
    let expected = serde_json::json!({
        "query": schema["queryType"]["name"],
        "mutation": schema["mutationType"]["name"],
        "subscription": schema["subscriptionType"]["name"],
        "types": types,
    });
    let embedded: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/railway-schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        embedded == expected,
        "data/railway-schema.json is stale: run scripts/railway-schema.py"
    );
}
