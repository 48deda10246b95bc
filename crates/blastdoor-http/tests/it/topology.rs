//! The topology queries, the parser of their answers, and the environments each field touches.

use blastdoor_core::{Environment, EnvironmentName};
use blastdoor_http::railway::topology::{
    ALL_PROJECTS_TOPOLOGY_QUERY, DEPLOYMENT_QUERY, STAGED_CHANGES_QUERY, TOPOLOGY_QUERY,
    parse_topology_response,
};
use blastdoor_http::railway::{EnvironmentMap, Topology, classify_request_body, targets_for};
use serde_json::json;

fn project_json() -> serde_json::Value {
    json!({
        "id": "proj-1", "name": "pocketos",
        "environments": {"edges": [
            {"node": {"id": "env-prod", "name": "production"}},
            {"node": {"id": "env-stage", "name": "staging"}},
            {"node": {"id": "env-pr", "name": "pr-7"}}
        ]},
        "volumes": {"edges": [
            {"node": {"id": "vol-pg", "name": "pg-data", "volumeInstances": {"edges": [
                {"node": {"id": "vi-prod", "environmentId": "env-prod", "serviceId": "svc-pg"}},
                {"node": {"id": "vi-stage", "environmentId": "env-stage", "serviceId": "svc-pg"}}
            ]}}},
            {"node": {"id": "vol-scratch", "name": "scratch", "volumeInstances": {"edges": [
                {"node": {"id": "vi-scratch", "environmentId": "env-stage", "serviceId": null}}
            ]}}}
        ]},
        "services": {"edges": [
            {"node": {"id": "svc-pg", "name": "Postgres", "serviceInstances": {"edges": [
                {"node": {"id": "si-prod", "environmentId": "env-prod"}},
                {"node": {"id": "si-stage", "environmentId": "env-stage"}}
            ]}}}
        ]}
    })
}

fn topology() -> Topology {
    let body = serde_json::to_vec(&json!({"data": {"project": project_json()}})).unwrap();
    parse_topology_response(&body).unwrap()
}

fn environments() -> EnvironmentMap {
    EnvironmentMap::new([
        (
            EnvironmentName::new("production").unwrap(),
            vec!["env-prod".to_owned()],
        ),
        (
            EnvironmentName::new("staging").unwrap(),
            vec!["env-stage".to_owned()],
        ),
    ])
    .unwrap()
}

/// The environments of every target of the request's first field, as `kind:id=env,env`.
fn check(document: &str, expected: &[&str]) {
    let body = serde_json::to_vec(&json!({"query": document})).unwrap();
    let classification = classify_request_body(&body);
    assert_eq!(classification.malformed, None);
    let field = &classification.fields[0];
    let found: Vec<String> = targets_for(field, &topology(), &environments())
        .iter()
        .map(|target| {
            let names: Vec<&str> = target
                .environments
                .iter()
                .map(Environment::as_str)
                .collect();
            format!("{}:{}={}", target.kind, target.id, names.join(","))
        })
        .collect();
    assert_eq!(found, expected, "{document}");
}

#[test]
fn volume_delete_touches_every_environment_with_an_instance() {
    check(
        "mutation { volumeDelete(volumeId: \"vol-pg\") }",
        &["volume:vol-pg=production,staging"],
    );
    check(
        "mutation { volumeDelete(volumeId: \"vol-scratch\") }",
        &["volume:vol-scratch=staging"],
    );
    check(
        "mutation { volumeDelete(volumeId: \"vol-unseen\") }",
        &["volume:vol-unseen=unknown"],
    );
}

#[test]
fn environment_ids_map_through_the_configuration_only() {
    check(
        "mutation { environmentDelete(id: \"env-stage\") }",
        &["environment:env-stage=staging"],
    );
    check(
        "mutation { environmentDelete(id: \"env-pr\") }",
        &["environment:env-pr=unknown"],
    );
    check(
        "mutation { projectDelete(id: \"proj-1\") }",
        &["project:proj-1=production,staging,unknown"],
    );
}

#[test]
fn scoped_mutations_use_their_environment_and_project_wide_ones_do_not() {
    check(
        "mutation { serviceInstanceUpdate(serviceId: \"svc-pg\", environmentId: \"env-stage\", input: {numReplicas: 1}) }",
        &["environment:env-stage=staging", "service:svc-pg=staging"],
    );
    check(
        "mutation { serviceDelete(id: \"svc-pg\", environmentId: \"env-stage\") }",
        &[
            "environment:env-stage=staging",
            "service:svc-pg=production,staging",
        ],
    );
    check(
        "mutation { volumeInstanceBackupCreate(volumeInstanceId: \"vi-prod\", name: \"b\") { workflowId } }",
        &["volumeInstance:vi-prod=production"],
    );
    check(
        "mutation { apiTokenCreate(input: {name: \"t\"}) }",
        &["account:apiTokenCreate=production,staging,unknown"],
    );
    check(
        "mutation { deploymentRemove(id: \"dep-1\") }",
        &["deployment:dep-1=unknown"],
    );
}

#[test]
fn responses_parse_and_errors_fail() {
    let all =
        serde_json::to_vec(&json!({"data": {"projects": {"edges": [{"node": project_json()}]}}}))
            .unwrap();
    let parsed = parse_topology_response(&all).unwrap();
    assert_eq!(parsed, topology());
    assert_eq!(parsed.volume("vol-pg").unwrap().instances.len(), 2);
    assert!(parsed.knows("vi-stage") && parsed.knows("env-pr") && !parsed.knows("nope"));
    let refused = br#"{"data": null, "errors": [{"message": "Not Authorized"}]}"#;
    assert!(
        parse_topology_response(refused)
            .unwrap_err()
            .to_string()
            .contains("Not Authorized")
    );
    assert!(parse_topology_response(b"{}").is_err());
    assert!(parse_topology_response(b"garbage").is_err());
    let mut merged = Topology::default();
    merged.merge(topology());
    merged.merge(topology());
    assert_eq!(merged.projects.len(), 1);
}

#[test]
fn an_id_configured_under_two_names_is_refused() {
    let clash = EnvironmentMap::new([
        (
            EnvironmentName::new("production").unwrap(),
            vec!["env-1".to_owned()],
        ),
        (
            EnvironmentName::new("staging").unwrap(),
            vec!["env-1".to_owned()],
        ),
    ]);
    assert!(clash.is_err());
}

#[test]
fn the_topology_queries_are_reads_that_parse() {
    for (query, risk) in [
        (TOPOLOGY_QUERY, blastdoor_core::Risk::Read),
        (ALL_PROJECTS_TOPOLOGY_QUERY, blastdoor_core::Risk::Read),
        (DEPLOYMENT_QUERY, blastdoor_core::Risk::Read),
        // The staged patch carries the values it sets, secrets included.
        (STAGED_CHANGES_QUERY, blastdoor_core::Risk::ReadSecrets),
    ] {
        let body = serde_json::to_vec(&json!({"query": query})).unwrap();
        let classification = classify_request_body(&body);
        assert_eq!(classification.malformed, None, "{query}");
        assert_eq!(classification.risk, risk, "{classification:?}");
    }
}
