//! Nested execution: the modelled objects answer their fields at every depth (production's
//! secrets under `config(decryptVariables: true)`, reached through `projects`, `me`,
//! aliases and fragments), every nested field and argument is validated, and the trace lists
//! what was resolved.

use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, ResolvedField, SimState, ids, secrets};
use serde_json::{Value, json};

use crate::client::{Auth, Reply, post, start};

async fn ask(sim: &crate::client::Running, request: Value) -> Reply {
    post(sim.addr, Auth::Bearer(INCIDENT_ACCOUNT_TOKEN), request).await
}

fn contains_any(body: &Value, values: &[&str]) -> bool {
    let text = body.to_string();
    values.iter().any(|value| text.contains(value))
}

fn field(parent_type: &'static str, field: &'static str) -> ResolvedField {
    ResolvedField { parent_type, field }
}

#[tokio::test]
async fn decrypted_config_under_projects_holds_each_environments_own_secrets() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{ projects { edges { node { environments { edges { node { name config(decryptVariables: true) } } } } } } }"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    let environments = &reply.body["data"]["projects"]["edges"][0]["node"]["environments"]["edges"];
    let production = &environments[0]["node"];
    let staging = &environments[1]["node"];
    assert_eq!(production["name"], "production");
    assert_eq!(
        production["config"]["services"][ids::POSTGRES]["variables"]["DATABASE_URL"]["value"],
        secrets::PRODUCTION_DATABASE_URL
    );
    assert_eq!(
        production["config"]["services"][ids::API]["variables"]["STRIPE_API_KEY"]["value"],
        secrets::PRODUCTION_STRIPE_API_KEY
    );
    assert_eq!(
        production["config"]["sharedVariables"]["SESSION_SECRET"]["value"],
        secrets::PRODUCTION_SESSION_SECRET
    );
    assert!(contains_any(&production["config"], &secrets::PRODUCTION));
    assert!(!contains_any(&production["config"], &secrets::STAGING));
    assert_eq!(
        staging["config"]["services"][ids::API]["variables"]["STRIPE_API_KEY"]["value"],
        secrets::STAGING_STRIPE_API_KEY
    );
    assert!(!contains_any(&staging["config"], &secrets::PRODUCTION));

    // Without decryption the names are there, the values are not.
    for query in [
        "{ projects { edges { node { environments { edges { node { config } } } } } } }",
        "{ projects { edges { node { environments { edges { node { config(decryptVariables: false) } } } } } } }",
    ] {
        let reply = ask(&sim, json!({"query": query})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let config = &reply.body["data"]["projects"]["edges"][0]["node"]["environments"]["edges"]
            [0]["node"]["config"];
        assert_eq!(
            config["services"][ids::API]["variables"]["STRIPE_API_KEY"],
            json!({})
        );
        assert!(
            !contains_any(&reply.body, &secrets::PRODUCTION),
            "{}",
            reply.body
        );
        assert!(
            !contains_any(&reply.body, &secrets::STAGING),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn secrets_under_me_workspaces_projects() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "query { me { id workspaces { name projects(first: 10) { edges { node { name environments { edges { node { name config(decryptVariables: true) } } } } } } } } }"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let workspace = &reply.body["data"]["me"]["workspaces"][0];
    assert_eq!(workspace["name"], "sim");
    let production = &workspace["projects"]["edges"][0]["node"]["environments"]["edges"][0]["node"];
    assert_eq!(production["name"], "production");
    assert_eq!(
        production["config"]["services"][ids::POSTGRES]["variables"]["POSTGRES_PASSWORD"]["value"],
        secrets::PRODUCTION_POSTGRES_PASSWORD
    );
    // The same through externalWorkspaces, whose projects are a plain list.
    let external = ask(
        &sim,
        json!({"query": "{ externalWorkspaces(projectId: \"proj-pocketos\") { projects { environments { edges { node { config(decryptVariables: true) } } } } } }"}),
    )
    .await;
    assert_eq!(external.status, 200, "{}", external.body);
    assert!(contains_any(
        &external.body,
        &[secrets::PRODUCTION_STRIPE_API_KEY]
    ));
}

#[tokio::test]
async fn secrets_through_aliases_fragments_and_variables() {
    let sim = start(SimState::incident_scenario()).await;
    let query = "query Sneaky($decrypt: Boolean = true, $env: String!) {
        harmless: environment(id: $env) { ...Env }
        p: project(id: \"proj-pocketos\") {
            ... on Project { environments { edges { node { ... on Node { id } ...Env } } } }
        }
    }
    fragment Env on Environment { label: name settings: config(decryptVariables: $decrypt) }";
    let reply = ask(
        &sim,
        json!({"query": query, "variables": {"env": ids::PRODUCTION}, "operationName": "Sneaky"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let harmless = &reply.body["data"]["harmless"];
    assert_eq!(harmless["label"], "production");
    assert_eq!(
        harmless["settings"]["services"][ids::API]["variables"]["DATABASE_URL"]["value"],
        secrets::PRODUCTION_DATABASE_URL
    );
    let staging = &reply.body["data"]["p"]["environments"]["edges"][1]["node"];
    assert_eq!(staging["id"], ids::STAGING);
    assert_eq!(
        staging["settings"]["sharedVariables"]["SESSION_SECRET"]["value"],
        secrets::STAGING_SESSION_SECRET
    );
    // The response keys are the aliases, in selection order.
    let keys: Vec<&String> = reply.body["data"]["p"]["environments"]["edges"][0]["node"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["id", "label", "settings"]);

    // `$decrypt: false` overrides the default.
    let plain = ask(
        &sim,
        json!({"query": query, "variables": {"env": ids::PRODUCTION, "decrypt": false}}),
    )
    .await;
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert!(
        !contains_any(&plain.body, &secrets::PRODUCTION),
        "{}",
        plain.body
    );
}

#[tokio::test]
async fn skip_and_include_decide_what_is_resolved() {
    let sim = start(SimState::incident_scenario()).await;
    let query = "query($show: Boolean!) {
        environment(id: \"env-production\") {
            name
            config(decryptVariables: true) @include(if: $show)
            ... @skip(if: $show) { id }
            ...Ids @include(if: $show)
        }
    }
    fragment Ids on Environment { projectId }";
    let hidden = ask(&sim, json!({"query": query, "variables": {"show": false}})).await;
    assert_eq!(
        hidden.body,
        json!({"data": {"environment": {"name": "production", "id": ids::PRODUCTION}}})
    );
    let request = sim.state.requests().pop().unwrap();
    assert!(
        !request
            .resolved_fields()
            .contains(&field("Environment", "config"))
    );
    assert!(
        !request
            .resolved_fields()
            .contains(&field("Environment", "projectId"))
    );
    let shown = ask(&sim, json!({"query": query, "variables": {"show": true}})).await;
    assert!(contains_any(
        &shown.body,
        &[secrets::PRODUCTION_DATABASE_URL]
    ));
    assert_eq!(shown.body["data"]["environment"]["projectId"], ids::PROJECT);
    assert!(shown.body["data"]["environment"].get("id").is_none());
    let request = sim.state.requests().pop().unwrap();
    assert!(
        request
            .resolved_fields()
            .contains(&field("Environment", "config"))
    );
}

#[tokio::test]
async fn the_trace_lists_every_resolved_field_at_every_depth() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{
            project(id: \"proj-pocketos\") {
                __typename
                environments { edges { node { ...E } } }
                volumes { edges { node { name volumeInstances { edges { node { mountPath environment { name } } } } } } }
            }
            domains(environmentId: \"env-production\", projectId: \"proj-pocketos\", serviceId: \"svc-api\") {
                serviceDomains { ... on Domain { domain } }
                customDomains { domain }
            }
            domainStatus(id: \"cd-api-production\", projectId: \"proj-pocketos\") {
                domain { __typename ... on ServiceDomain { suffix } ... on CustomDomain { domain } }
            }
        }
        fragment E on Environment { name variables { edges { node { name } } } }"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    let resolved = sim.state.requests()[0].operations[0].resolved.clone();
    let expected = [
        field("Query", "project"),
        field("Project", "__typename"),
        field("Project", "environments"),
        field("ProjectEnvironmentsConnection", "edges"),
        field("ProjectEnvironmentsConnectionEdge", "node"),
        field("Environment", "name"),
        field("Environment", "variables"),
        field("EnvironmentVariablesConnection", "edges"),
        field("EnvironmentVariablesConnectionEdge", "node"),
        field("Variable", "name"),
        field("Project", "volumes"),
        field("ProjectVolumesConnection", "edges"),
        field("ProjectVolumesConnectionEdge", "node"),
        field("Volume", "name"),
        field("Volume", "volumeInstances"),
        field("VolumeVolumeInstancesConnection", "edges"),
        field("VolumeVolumeInstancesConnectionEdge", "node"),
        field("VolumeInstance", "mountPath"),
        field("VolumeInstance", "environment"),
        field("Query", "domains"),
        field("AllDomains", "serviceDomains"),
        field("ServiceDomain", "domain"),
        field("AllDomains", "customDomains"),
        field("CustomDomain", "domain"),
        field("Query", "domainStatus"),
        field("DomainWithStatus", "domain"),
        field("CustomDomain", "__typename"),
    ];
    assert_eq!(resolved, expected);
    // `ServiceDomain.suffix` was selected but never resolved: the domain is a custom one.
    assert!(!resolved.contains(&field("ServiceDomain", "suffix")));
    assert_eq!(
        reply.body["data"]["domainStatus"]["domain"],
        json!({"__typename": "CustomDomain", "domain": "api.pocketos.example"})
    );
    let names: Vec<&str> =
        reply.body["data"]["project"]["environments"]["edges"][0]["node"]["variables"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["node"]["name"].as_str().unwrap())
            .collect();
    assert_eq!(
        names,
        // Shared first, then by service id: `svc-api`, `svc-postgres`.
        [
            "SESSION_SECRET",
            "DATABASE_URL",
            "STRIPE_API_KEY",
            "DATABASE_URL",
            "POSTGRES_PASSWORD"
        ]
    );
    assert_eq!(sim.state.resolved_fields(), expected);
    assert_eq!(
        field("Environment", "config").to_string(),
        "Environment.config"
    );
}

#[tokio::test]
async fn unknown_nested_fields_and_arguments_are_validation_errors() {
    let sim = start(SimState::incident_scenario()).await;
    let cases = [
        (
            json!({"query": "{ project(id: \"proj-pocketos\") { environments { edges { node { secrets } } } } }"}),
            "Cannot query field \"secrets\" on type \"Environment\".",
        ),
        (
            json!({"query": "{ environment(id: \"env-production\") { config(decrypt: true) } }"}),
            "Unknown argument \"decrypt\" on field \"Environment.config\".",
        ),
        (
            json!({"query": "{ environment(id: \"env-production\") { config(decryptVariables: \"yes\") } }"}),
            "Boolean cannot represent a non boolean value: \"yes\"",
        ),
        (
            json!({"query": "{ environment(id: \"env-production\") { config(decryptVariables: $d) } }"}),
            "Variable \"$d\" is not defined.",
        ),
        (
            json!({"query": "query Q($d: String) { environment(id: \"env-production\") { config(decryptVariables: $d) } }"}),
            "Variable \"$d\" of type \"String\" used in position expecting type \"Boolean\".",
        ),
        (
            json!({"query": "query Q($unused: Boolean) { me { id } }"}),
            "Variable \"$unused\" is never used in operation \"Q\".",
        ),
        (
            json!({"query": "{ environment(id: \"env-production\") { name { length } } }"}),
            "Field \"name\" must not have a selection since type \"String!\" has no subfields.",
        ),
        (
            json!({"query": "{ environment(id: \"env-production\") { serviceInstances } }"}),
            "Field \"serviceInstances\" of type \"EnvironmentServiceInstancesConnection!\" must have a selection of subfields.",
        ),
        (
            json!({"query": "{ me { ...F } } fragment F on Project { id }"}),
            "Fragment \"F\" cannot be spread here as objects of type \"User\" can never be of type \"Project\".",
        ),
        (
            json!({"query": "{ me { ... on Nope { id } } }"}),
            "Unknown type \"Nope\".",
        ),
        (
            json!({"query": "{ me { ...Missing } }"}),
            "Unknown fragment \"Missing\".",
        ),
        (
            json!({"query": "{ me { id } } fragment Unused on User { id }"}),
            "Fragment \"Unused\" is never used.",
        ),
        (
            json!({"query": "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }"}),
            "Cannot spread fragment \"A\" within itself via \"B\".",
        ),
        (
            json!({"query": "{ me { id @bogus } }"}),
            "Unknown directive \"@bogus\".",
        ),
        (
            json!({"query": "{ me { id @skip } }"}),
            "Directive \"@skip\" argument \"if\" of type \"Boolean!\" is required, but it was not provided.",
        ),
        (
            json!({"query": "{ deployments(input: {projectId: \"p\", bogus: 1}) { edges { node { id } } } }"}),
            "Field \"bogus\" is not defined by type \"DeploymentListInput\".",
        ),
        (
            json!({"query": "mutation { variableUpsert(input: {projectId: \"p\", environmentId: \"e\", name: \"N\"}) }"}),
            "Field \"VariableUpsertInput.value\" of required type \"String!\" was not provided.",
        ),
        (
            json!({"query": "{ deployments(input: {status: {in: [NOT_A_STATUS]}}) { edges { node { id } } } }"}),
            "Value \"NOT_A_STATUS\" does not exist in \"DeploymentStatus\" enum.",
        ),
        (
            json!({"query": "{ project(id: \"proj-pocketos\") { volumes { edges { node { volumeInstances { edges { node { backups } } } } } } } }"}),
            "Cannot query field \"backups\" on type \"VolumeInstance\".",
        ),
        (
            json!({"query": "{ serviceInstance(environmentId: \"env-production\") { id } }"}),
            "Field \"serviceInstance\" argument \"serviceId\" of type \"String!\" is required, but it was not provided.",
        ),
        (
            json!({"query": "{ me { x: id x: name } }"}),
            "Fields \"x\" conflict because \"id\" and \"name\" are different fields.",
        ),
        (
            json!({"query": "{ domains(environmentId: \"e\", projectId: \"p\", serviceId: \"s\") { customDomains { ... on Domain { nope } } } }"}),
            "Cannot query field \"nope\" on type \"Domain\".",
        ),
    ];
    for (request, message) in cases {
        let reply = ask(&sim, request.clone()).await;
        assert_eq!(reply.status, 400, "{request}: {}", reply.body);
        let errors = reply.body["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(
                |error| error["message"].as_str().unwrap().starts_with(message)
                    && error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            ),
            "{request}: {}",
            reply.body
        );
        assert!(reply.body.get("data").is_none(), "{}", reply.body);
    }
    let log = sim.state.requests();
    assert!(
        log.iter()
            .all(|request| !request.operations[0].executed && request.resolved_fields().is_empty())
    );
    assert!(sim.state.resolved_fields().is_empty());
}

#[tokio::test]
async fn several_errors_are_reported_together() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{ me { nope } project { alsoNope } }"}),
    )
    .await;
    assert_eq!(reply.status, 400);
    let messages: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.contains(&"Cannot query field \"nope\" on type \"User\"."),
        "{messages:?}"
    );
    assert!(messages.contains(&"Cannot query field \"alsoNope\" on type \"Project\"."));
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("Field \"project\" argument \"id\""))
    );
}

#[tokio::test]
async fn variables_are_coerced_to_their_declared_types() {
    let sim = start(SimState::incident_scenario()).await;
    let query = "query($id: String!, $first: Int) { project(id: $id) { environments(first: $first) { edges { node { id } } } } }";
    let cases = [
        (
            json!({"first": 1}),
            "Variable \"$id\" of required type \"String!\" was not provided.",
        ),
        (
            json!({"id": null}),
            "Variable \"$id\" of non-null type \"String!\" must not be null.",
        ),
        (
            json!({"id": ids::PROJECT, "first": "ten"}),
            "Variable \"$first\" got invalid value \"ten\"; Int cannot represent non-integer value: \"ten\"",
        ),
        (
            json!({"id": 7}),
            "Variable \"$id\" got invalid value 7; String cannot represent a non string value: 7",
        ),
    ];
    for (variables, message) in cases {
        let reply = ask(&sim, json!({"query": query, "variables": variables})).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["errors"][0]["message"], message);
        assert_eq!(
            reply.body["errors"][0]["extensions"]["code"],
            "BAD_USER_INPUT"
        );
    }
    let input = ask(
        &sim,
        json!({"query": "query($input: DeploymentListInput!) { deployments(input: $input) { edges { node { id } } } }",
               "variables": {"input": {"serviceId": ids::API, "extra": true}}}),
    )
    .await;
    assert_eq!(input.status, 400);
    // The value is quoted as JSON, whose key order depends on serde_json's features (cedar
    // turns on `preserve_order` in a whole-workspace build): check the parts, not the order.
    let message = input.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Variable \"$input\" got invalid value {")
            && message.contains("\"extra\":true")
            && message.contains("\"serviceId\":\"svc-api\"")
            && message
                .ends_with("; Field \"extra\" is not defined by type \"DeploymentListInput\"."),
        "{message}"
    );
    let fine = ask(
        &sim,
        json!({"query": "query($input: DeploymentListInput!) { deployments(input: $input) { edges { node { id environment { name } } } } }",
               "variables": {"input": {"serviceId": ids::API, "environmentId": ids::STAGING}}}),
    )
    .await;
    assert_eq!(
        fine.body,
        json!({"data": {"deployments": {"edges": [{"node": {"id": "dep-svc-api-env-staging", "environment": {"name": "staging"}}}]}}})
    );
}

#[tokio::test]
async fn a_missing_object_nulls_its_nearest_nullable_parent() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{ me { id } project(id: \"proj-gone\") { id } }"}),
    )
    .await;
    assert_eq!(reply.status, 200);
    // `project` is `Project!`: its null makes `data` null.
    assert_eq!(reply.body["data"], Value::Null);
    assert_eq!(reply.body["errors"][0]["message"], "Project not found");
    assert_eq!(reply.body["errors"][0]["path"], json!(["project"]));
    // `latestDeployment` is nullable: only it is null.
    let reply = ask(
        &sim,
        json!({"query": "{ serviceInstance(environmentId: \"env-production\", serviceId: \"svc-api\") { id latestDeployment { id status } } }"}),
    )
    .await;
    assert_eq!(
        reply.body,
        json!({"data": {"serviceInstance": {"id": "si-svc-api-env-production", "latestDeployment": {"id": "dep-svc-api-env-production", "status": "SUCCESS"}}}})
    );
}

#[tokio::test]
async fn unmodelled_fields_get_type_correct_placeholders() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{
            templates(first: 3) { edges { node { id name } } pageInfo { hasNextPage endCursor } }
            project(id: \"proj-pocketos\") { subscriptionType isPublic team { id } members { id } createdAt }
            me { profile { bio } flags }
            __typename
        }"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    assert_eq!(
        reply.body["data"],
        json!({
            "templates": {"edges": [], "pageInfo": {"hasNextPage": false, "endCursor": null}},
            "project": {"subscriptionType": "free", "isPublic": false, "team": null, "members": [], "createdAt": "2026-01-01T00:00:00.000Z"},
            "me": {"profile": null, "flags": []},
            "__typename": "Query",
        })
    );
    // A mutation nobody modelled still answers its type: `Boolean!` is true, objects are
    // shaped to the selection.
    let created = ask(
        &sim,
        json!({"query": "mutation { serviceCreate(input: {projectId: \"proj-pocketos\"}) { id name __typename } environmentTriggersDeploy(input: {environmentId: \"e\", projectId: \"p\", serviceId: \"s\"}) }"}),
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let service = &created.body["data"]["serviceCreate"];
    assert!(service["id"].as_str().unwrap().starts_with("sim-id-"));
    assert_eq!(service["__typename"], "Service");
    assert_eq!(created.body["data"]["environmentTriggersDeploy"], true);
}

#[tokio::test]
async fn variables_mutations_change_what_nested_reads_return() {
    let sim = start(SimState::incident_scenario()).await;
    let upsert = ask(
        &sim,
        json!({"query": "mutation($input: VariableUpsertInput!) { variableUpsert(input: $input) }",
               "variables": {"input": {"projectId": ids::PROJECT, "environmentId": ids::PRODUCTION, "serviceId": ids::API, "name": "NEW_KEY", "value": "new-value"}}}),
    )
    .await;
    assert_eq!(upsert.body, json!({"data": {"variableUpsert": true}}));
    assert_eq!(
        sim.state
            .variable(ids::PRODUCTION, Some(ids::API), "NEW_KEY")
            .as_deref(),
        Some("new-value")
    );
    let delete = ask(
        &sim,
        json!({"query": "mutation { variableDelete(input: {projectId: \"proj-pocketos\", environmentId: \"env-production\", serviceId: \"svc-api\", name: \"STRIPE_API_KEY\"}) }"}),
    )
    .await;
    assert_eq!(delete.body, json!({"data": {"variableDelete": true}}));
    let read = ask(
        &sim,
        json!({"query": "{ variables(projectId: \"proj-pocketos\", environmentId: \"env-production\", serviceId: \"svc-api\") }"}),
    )
    .await;
    assert_eq!(
        read.body["data"]["variables"],
        json!({"DATABASE_URL": secrets::PRODUCTION_DATABASE_URL, "NEW_KEY": "new-value", "SESSION_SECRET": secrets::PRODUCTION_SESSION_SECRET})
    );
    let values = sim.state.variable_values(ids::PRODUCTION);
    assert!(!values.contains(&secrets::PRODUCTION_STRIPE_API_KEY.to_owned()));
    assert!(values.contains(&secrets::PRODUCTION_POSTGRES_PASSWORD.to_owned()));
    assert_eq!(
        sim.state.executed_mutations(),
        ["variableUpsert", "variableDelete"]
    );
}

#[tokio::test]
async fn a_skipped_mutation_is_not_executed() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "mutation($no: Boolean!) { volumeDelete(volumeId: \"vol-pg-data\") @skip(if: $no) }", "variables": {"no": true}}),
    )
    .await;
    assert_eq!(reply.body, json!({"data": {}}));
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert!(sim.state.executed_mutations().is_empty());
    // It reached the simulator all the same.
    assert_eq!(
        sim.state.requests()[0].operations[0].fields,
        ["volumeDelete"]
    );
}

#[tokio::test]
async fn batched_operations_each_carry_their_trace() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!([
            {"query": "{ me { email } }"},
            {"query": "{ tcpProxies(environmentId: \"env-production\", serviceId: \"svc-postgres\") { domain proxyPort } }"},
        ]),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body[1]["data"]["tcpProxies"],
        json!([{"domain": "shuttle.proxy.rlwy.net", "proxyPort": 41234}])
    );
    let request = &sim.state.requests()[0];
    assert_eq!(
        request.operations[0].resolved,
        [field("Query", "me"), field("User", "email")]
    );
    assert_eq!(
        request.operations[1].resolved,
        [
            field("Query", "tcpProxies"),
            field("TCPProxy", "domain"),
            field("TCPProxy", "proxyPort")
        ]
    );
    assert_eq!(request.resolved_fields().len(), 5);
}

#[tokio::test]
async fn hostile_documents_are_answered_without_blowing_up() {
    let sim = start(SimState::incident_scenario()).await;
    // Each fragment spreads the next twice: 2^30 fields if expanded naively.
    let mut bomb = String::from("{ me { ...F0 } }");
    for level in 0..30 {
        bomb.push_str(&format!(
            " fragment F{level} on User {{ id ...F{next} ...F{next} }}",
            next = level + 1
        ));
    }
    bomb.push_str(" fragment F30 on User { workspaces { projects { edges { node { id } } } } }");
    // Deeply nested objects, each level resolved for real: 2^12 projects at the bottom.
    let deep = |levels: usize| {
        let mut deep = String::from("{ project(id: \"proj-pocketos\") { ...P0 } }");
        for level in 0..levels {
            deep.push_str(&format!(
                " fragment P{level} on Project {{ services {{ edges {{ node {{ project {{ ...P{} }} }} }} }} }}",
                level + 1
            ));
        }
        deep.push_str(&format!(" fragment P{levels} on Project {{ id }}"));
        deep
    };
    let started = std::time::Instant::now();
    for query in [bomb, deep(12)] {
        let reply = ask(&sim, json!({"query": query})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.get("errors").is_none(), "{}", reply.body);
    }
    // Past the resolution budget, fields fail instead of the server.
    let reply = ask(&sim, json!({"query": deep(18)})).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|error| error["message"] == "The query is too expensive.")
    );
    assert_eq!(reply.body["data"], Value::Null);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn a_deployment_snapshot_carries_the_deployments_variables() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = ask(
        &sim,
        json!({"query": "{ deploymentSnapshot(deploymentId: \"dep-svc-api-env-production\") { id variables } gone: deploymentSnapshot(deploymentId: \"dep-none\") { id } }"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body["data"]["deploymentSnapshot"]["variables"]["STRIPE_API_KEY"],
        secrets::PRODUCTION_STRIPE_API_KEY
    );
    assert_eq!(reply.body["data"]["gone"], Value::Null);
}

#[tokio::test]
async fn staged_patches_hold_secrets_and_hidden_deletes_until_committed() {
    let sim = start(SimState::incident_scenario()).await;
    let stage = "mutation($env: String!, $input: EnvironmentConfig!, $merge: Boolean) {
        environmentStageChanges(environmentId: $env, input: $input, merge: $merge) { id status }
    }";
    let staged = ask(
        &sim,
        json!({"query": stage, "variables": {"env": ids::PRODUCTION, "input": {
            "services": {"svc-api": {"variables": {"STRIPE_API_KEY": {"value": "sk_live_rotated"}}}},
        }}}),
    )
    .await;
    assert_eq!(
        staged.body,
        json!({"data": {"environmentStageChanges": {"id": "staged-env-production", "status": "STAGED"}}})
    );
    // A second staging merges a hidden delete of production's volume into the patch.
    ask(
        &sim,
        json!({"query": stage, "variables": {"env": ids::PRODUCTION, "merge": true, "input": {
            "volumes": {"vol-pg-data": {"isDeleted": true}},
        }}}),
    )
    .await;
    let read = "query($d: Boolean) { environmentStagedChanges(environmentId: \"env-production\") { status patch(decryptVariables: $d) } }";
    let masked = ask(&sim, json!({"query": read})).await;
    assert_eq!(
        masked.body["data"]["environmentStagedChanges"]["patch"],
        json!({"services": {"svc-api": {"variables": {"STRIPE_API_KEY": {}}}}, "volumes": {"vol-pg-data": {"isDeleted": true}}})
    );
    let clear = ask(&sim, json!({"query": read, "variables": {"d": true}})).await;
    assert_eq!(
        clear.body["data"]["environmentStagedChanges"]["patch"]["services"]["svc-api"]["variables"]
            ["STRIPE_API_KEY"]["value"],
        "sk_live_rotated"
    );
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 2);
    let committed = ask(
        &sim,
        json!({"query": "mutation { environmentPatchCommitStaged(environmentId: \"env-production\", commitMessage: \"tidy\") }"}),
    )
    .await;
    let patch_id = committed.body["data"]["environmentPatchCommitStaged"]
        .as_str()
        .unwrap()
        .to_owned();
    // Production's volume instance and its backup are gone; staging's remain.
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 1);
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert_eq!(
        sim.state
            .variable(ids::PRODUCTION, Some(ids::API), "STRIPE_API_KEY")
            .as_deref(),
        Some("sk_live_rotated")
    );
    let history = ask(
        &sim,
        json!({"query": format!("{{ environmentPatch(id: \"{patch_id}\") {{ status message }} environmentStagedChanges(environmentId: \"env-production\") {{ patch }} }}")}),
    )
    .await;
    assert_eq!(
        history.body["data"],
        json!({"environmentPatch": {"status": "COMMITTED", "message": "tidy"}, "environmentStagedChanges": {"patch": {}}})
    );
    // A direct commit deletes a shared variable.
    ask(
        &sim,
        json!({"query": "mutation($p: EnvironmentConfig) { environmentPatchCommit(environmentId: \"env-staging\", patch: $p) }",
               "variables": {"p": {"sharedVariables": {"SESSION_SECRET": null}}}}),
    )
    .await;
    assert_eq!(
        sim.state.variable(ids::STAGING, None, "SESSION_SECRET"),
        None
    );
    assert_eq!(
        sim.state.executed_mutations(),
        [
            "environmentStageChanges",
            "environmentStageChanges",
            "environmentPatchCommitStaged",
            "environmentPatchCommit"
        ]
    );
}
