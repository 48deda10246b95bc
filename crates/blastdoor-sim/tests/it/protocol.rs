//! Authentication, schema validation, the request log, and the topology queries that the
//! gateway sends (parsed with `blastdoor-http`'s parser).

use blastdoor_http::railway::topology::{
    ALL_PROJECTS_TOPOLOGY_QUERY, STAGED_CHANGES_QUERY, TOPOLOGY_QUERY, parse_topology_response,
};
use blastdoor_sim::schema::{TypeKind, TypeRef, schema};
use blastdoor_sim::{AuthHeader, INCIDENT_ACCOUNT_TOKEN, INCIDENT_PROJECT_TOKEN, SimState, ids};
use serde_json::json;

use crate::client::{Auth, fixture, post, send, start};

const DELETE: &str = "mutation { volumeDelete(volumeId: \"vol-pg-data\") }";

#[tokio::test]
async fn requests_without_the_credential_are_refused_and_logged_without_it() {
    let sim = start(SimState::incident_scenario()).await;
    for auth in [
        Auth::None,
        Auth::Bearer("wrong-token"),
        Auth::Project(INCIDENT_ACCOUNT_TOKEN),
        Auth::Bearer(INCIDENT_PROJECT_TOKEN),
    ] {
        let reply = post(sim.addr, auth, json!({"query": DELETE})).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.body["errors"][0]["message"], "Not Authorized");
    }
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert!(sim.state.executed_mutations().is_empty());
    let log = sim.state.requests();
    assert_eq!(log.len(), 4);
    assert_eq!(
        log.iter()
            .map(|r| (r.auth_header, r.credential_present, r.authorized))
            .collect::<Vec<_>>(),
        vec![
            (AuthHeader::None, false, false),
            (AuthHeader::Bearer, true, false),
            (AuthHeader::ProjectAccessToken, true, false),
            (AuthHeader::Bearer, true, false)
        ]
    );
    assert!(
        log.iter()
            .all(|r| r.operations[0].fields == ["volumeDelete"] && !r.operations[0].executed)
    );
    let debug = format!("{log:?}");
    assert!(!debug.contains(INCIDENT_ACCOUNT_TOKEN) && !debug.contains("wrong-token"));
    assert!(!format!("{:?}", sim.state).contains(INCIDENT_ACCOUNT_TOKEN));
}

#[tokio::test]
async fn documents_are_validated_against_the_schema() {
    let sim = start(SimState::incident_scenario()).await;
    let token = || Auth::Bearer(INCIDENT_ACCOUNT_TOKEN);
    let check = |reply: crate::client::Reply, status: u16, code: &str, message: &str| {
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.body["errors"][0]["extensions"]["code"], code);
        assert!(
            reply.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{}",
            reply.body
        );
    };
    check(
        post(
            sim.addr,
            token(),
            json!({"query": "mutation { volumeNuke(volumeId: \"v\") }"}),
        )
        .await,
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Cannot query field \"volumeNuke\" on type \"Mutation\".",
    );
    check(
        post(
            sim.addr,
            token(),
            json!({"query": "mutation { volumeDelete(id: \"v\") }"}),
        )
        .await,
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "Unknown argument \"id\"",
    );
    check(
        post(
            sim.addr,
            token(),
            json!({"query": "mutation { volumeDelete }"}),
        )
        .await,
        400,
        "GRAPHQL_VALIDATION_FAILED",
        "is required",
    );
    check(
        post(
            sim.addr,
            token(),
            json!({"query": "mutation { volumeDelete("}),
        )
        .await,
        400,
        "GRAPHQL_PARSE_FAILED",
        "Syntax Error",
    );
    check(
        post(
            sim.addr,
            token(),
            json!({"query": "query A { me { id } } query B { me { id } }"}),
        )
        .await,
        400,
        "BAD_USER_INPUT",
        "operation name",
    );
    check(
        send(sim.addr, "POST", "/graphql/v1", token(), b"{}").await,
        404,
        "NOT_FOUND",
        "Not Found",
    );
    assert!(sim.state.has_volume(ids::PG_DATA));
    assert!(sim.state.executed_mutations().is_empty());
}

/// A value of `ty` for a request: `"x"` for strings and ids, the first value of an enum, an
/// input object with its required fields, and so on.
fn sample(ty: &TypeRef, depth: usize) -> serde_json::Value {
    match ty {
        TypeRef::NonNull(inner) => sample(inner, depth),
        TypeRef::List(inner) => json!([sample(inner, depth)]),
        TypeRef::Named(name) => {
            let definition = schema().type_def(name).unwrap();
            match definition.kind {
                TypeKind::Enum => json!(definition.enum_values[0]),
                TypeKind::InputObject => {
                    let mut object = serde_json::Map::new();
                    for field in &definition.input_fields {
                        if field.ty.is_non_null() && field.default.is_none() && depth < 8 {
                            object.insert(field.name.to_owned(), sample(&field.ty, depth + 1));
                        }
                    }
                    serde_json::Value::Object(object)
                }
                _ => match *name {
                    "String" | "ID" => json!("x"),
                    "Int" => json!(1),
                    "Float" => json!(1.5),
                    "Boolean" => json!(true),
                    "DateTime" => json!("2026-01-01T00:00:00.000Z"),
                    _ => json!({}),
                },
            }
        }
    }
}

/// A value of its declared type for every variable the document declares.
fn sample_variables(document: &str) -> serde_json::Value {
    let header = &document[..document.find('{').unwrap()];
    let mut variables = serde_json::Map::new();
    if let Some(open) = header.find('(') {
        let declarations = &header[open + 1..header.rfind(')').unwrap()];
        for declaration in declarations.split('$').skip(1) {
            let (name, rest) = declaration.split_once(':').unwrap();
            let ty: String = rest
                .split('=')
                .next()
                .unwrap()
                .chars()
                .filter(|c| !c.is_whitespace() && *c != ',')
                .collect();
            let ty = TypeRef::parse(Box::leak(ty.into_boxed_str())).unwrap();
            variables.insert(name.trim().to_owned(), sample(&ty, 0));
        }
    }
    serde_json::Value::Object(variables)
}

#[tokio::test]
async fn every_cli_document_validates_and_executes() {
    let sim = start(SimState::new(blastdoor_core::Secret::new("t".to_owned()))).await;
    let root =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test_data/railway-cli");
    let mut count = 0;
    for kind in ["queries", "mutations"] {
        for entry in std::fs::read_dir(root.join(kind)).unwrap() {
            let path = entry.unwrap().path();
            let document = std::fs::read_to_string(&path).unwrap();
            let reply = post(
                sim.addr,
                Auth::Bearer("t"),
                json!({"query": document, "variables": sample_variables(&document)}),
            )
            .await;
            assert_eq!(reply.status, 200, "{}: {}", path.display(), reply.body);
            assert!(
                reply.body.get("data").is_some(),
                "{}: {}",
                path.display(),
                reply.body
            );
            // The only errors an empty Railway may answer: what it does not have.
            for error in reply.body["errors"].as_array().into_iter().flatten() {
                assert_eq!(
                    error["extensions"]["code"],
                    "NOT_FOUND",
                    "{}: {}",
                    path.display(),
                    reply.body
                );
            }
            count += 1;
        }
    }
    assert!(count > 120);
    let log = sim.state.requests();
    assert!(log.iter().all(|r| r.operations[0].executed));
    let kinds: Vec<String> = log
        .iter()
        .map(|r| r.operations[0].operation_type.clone())
        .collect();
    assert!(kinds.contains(&"mutation".to_owned()) && kinds.contains(&"query".to_owned()));
}

/// Each CLI document that reads the modelled objects answers without any error when given
/// the incident's ids.
#[tokio::test]
async fn cli_documents_about_modelled_objects_answer_in_full() {
    let sim = start(SimState::incident_scenario()).await;
    let cases = [
        ("queries/Project.graphql", json!({"id": ids::PROJECT})),
        ("queries/Projects.graphql", json!({})),
        ("queries/UserProjects.graphql", json!({})),
        ("queries/UserMeta.graphql", json!({})),
        (
            "queries/Environments.graphql",
            json!({"projectId": ids::PROJECT}),
        ),
        (
            "queries/EnvironmentConfig.graphql",
            json!({"id": ids::PRODUCTION, "decryptVariables": true}),
        ),
        (
            "queries/EnvironmentInstances.graphql",
            json!({"environmentId": ids::PRODUCTION, "projectId": ids::PROJECT}),
        ),
        (
            "queries/ServiceInstance.graphql",
            json!({"environmentId": ids::PRODUCTION, "serviceId": ids::API}),
        ),
        (
            "queries/LatestDeployment.graphql",
            json!({"environmentId": ids::PRODUCTION, "serviceId": ids::API}),
        ),
        (
            "queries/DeploymentStatus.graphql",
            json!({"id": "dep-svc-api-env-production"}),
        ),
        (
            "queries/Deployments.graphql",
            json!({"input": {"projectId": ids::PROJECT, "serviceId": ids::API}}),
        ),
        (
            "queries/Domains.graphql",
            json!({"environmentId": ids::PRODUCTION, "projectId": ids::PROJECT, "serviceId": ids::API}),
        ),
        (
            "queries/TcpProxies.graphql",
            json!({"environmentId": ids::PRODUCTION, "serviceId": ids::POSTGRES}),
        ),
        (
            "queries/VariablesForServiceDeployment.graphql",
            json!({"projectId": ids::PROJECT, "environmentId": ids::PRODUCTION, "serviceId": ids::API}),
        ),
        (
            "queries/VolumeInstanceBackupList.graphql",
            json!({"volumeInstanceId": ids::PG_DATA_PRODUCTION}),
        ),
    ];
    for (path, variables) in cases {
        let reply = post(
            sim.addr,
            Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
            json!({"query": fixture(path), "variables": variables}),
        )
        .await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert!(reply.body.get("errors").is_none(), "{path}: {}", reply.body);
        assert!(reply.body["data"].is_object(), "{path}: {}", reply.body);
    }
    let projects = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": fixture("queries/UserProjects.graphql")}),
    )
    .await;
    assert_eq!(
        projects.body["data"]["me"]["workspaces"][0]["projects"]["edges"][0]["node"]["environments"]
            ["edges"][1]["node"]["name"],
        "staging"
    );
    assert_eq!(
        projects.body["data"]["externalWorkspaces"][0]["projects"][0]["services"]["edges"][0]["node"]
            ["id"],
        ids::POSTGRES
    );
    let instances = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": fixture("queries/EnvironmentInstances.graphql"), "variables": {"environmentId": ids::STAGING, "projectId": ids::PROJECT}}),
    )
    .await;
    let api = &instances.body["data"]["environment"]["serviceInstances"]["edges"][1]["node"];
    assert_eq!(api["latestDeployment"]["status"], "SUCCESS");
    assert_eq!(
        api["domains"]["serviceDomains"][0]["domain"],
        "api-staging.up.railway.app"
    );
}

#[tokio::test]
async fn the_gateway_topology_query_answers_with_every_instance() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": TOPOLOGY_QUERY, "variables": {"projectId": ids::PROJECT}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let topology = parse_topology_response(&serde_json::to_vec(&reply.body).unwrap()).unwrap();
    let volume = topology.volume(ids::PG_DATA).unwrap();
    let mut environments: Vec<&str> = volume
        .instances
        .iter()
        .map(|i| i.environment_id.as_str())
        .collect();
    environments.sort();
    assert_eq!(environments, [ids::PRODUCTION, ids::STAGING]);
    assert_eq!(topology.service(ids::POSTGRES).unwrap().instances.len(), 2);
    // The real CLI's project query gets the shape it asks for, aliases and all.
    let cli = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": fixture("queries/Project.graphql"), "variables": {"id": ids::PROJECT}}),
    )
    .await;
    assert_eq!(
        cli.body["data"]["project"]["environments"]["edges"][0]["node"]["name"],
        "production"
    );
    let aliased = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": "{ p: project(id: \"proj-pocketos\") { n: name __typename } }"}),
    )
    .await;
    assert_eq!(
        aliased.body,
        json!({"data": {"p": {"n": "pocketos", "__typename": "Project"}}})
    );
}

#[test]
fn the_root_field_table_matches_the_published_schema() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test_data/railway-cli/schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
    let types = schema["data"]["__schema"]["types"].as_array().unwrap();
    for root_type in ["Query", "Mutation", "Subscription"] {
        let definition = types.iter().find(|t| t["name"] == root_type).unwrap();
        let mut expected: Vec<(String, Vec<String>)> = definition["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|field| {
                let mut arguments: Vec<String> = field["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap().to_owned())
                    .collect();
                arguments.sort();
                (field["name"].as_str().unwrap().to_owned(), arguments)
            })
            .collect();
        expected.sort();
        let found: Vec<(String, Vec<String>)> = blastdoor_sim::schema::root_fields(root_type)
            .iter()
            .map(|field| {
                let mut arguments: Vec<String> = field
                    .arguments
                    .iter()
                    .map(|(name, _)| (*name).to_owned())
                    .collect();
                arguments.sort();
                (field.name.to_owned(), arguments)
            })
            .collect();
        assert_eq!(
            found, expected,
            "regenerate data/railway-schema.tsv with scripts/schema-table.py"
        );
    }
}

/// SDL for an introspection type reference.
fn render(ty: &serde_json::Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", render(&ty["ofType"])),
        "LIST" => format!("[{}]", render(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_owned(),
    }
}

fn names(items: &serde_json::Value) -> Vec<String> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

/// (name, type, default) of each input value.
fn json_values(items: &serde_json::Value) -> Vec<(String, String, Option<String>)> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            (
                item["name"].as_str().unwrap().to_owned(),
                render(&item["type"]),
                item["defaultValue"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn table_values(
    items: &[blastdoor_sim::schema::InputValueDef],
) -> Vec<(String, String, Option<String>)> {
    items
        .iter()
        .map(|item| {
            (
                item.name.to_owned(),
                item.ty.to_string(),
                item.default.map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn the_type_table_matches_the_published_schema() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../test_data/railway-cli/schema.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
    let published = &json["data"]["__schema"];
    let table = schema();
    let hint = "regenerate data/railway-schema.tsv with scripts/schema-table.py";
    assert_eq!(
        table.query_type,
        published["queryType"]["name"].as_str(),
        "{hint}"
    );
    assert_eq!(
        table.mutation_type,
        published["mutationType"]["name"].as_str(),
        "{hint}"
    );
    assert_eq!(
        table.subscription_type,
        published["subscriptionType"]["name"].as_str(),
        "{hint}"
    );
    let types = published["types"].as_array().unwrap();
    assert_eq!(table.types().len(), types.len(), "{hint}");
    let mut fields = 0;
    for expected in types {
        let name = expected["name"].as_str().unwrap();
        let found = table
            .type_def(name)
            .unwrap_or_else(|| panic!("{name}: {hint}"));
        assert_eq!(found.kind.as_str(), expected["kind"], "{name}: {hint}");
        assert_eq!(
            found.interfaces,
            names(&expected["interfaces"]),
            "{name}: {hint}"
        );
        assert_eq!(
            found.possible_types,
            names(&expected["possibleTypes"]),
            "{name}: {hint}"
        );
        assert_eq!(
            found.enum_values,
            names(&expected["enumValues"]),
            "{name}: {hint}"
        );
        assert_eq!(
            table_values(&found.input_fields),
            json_values(&expected["inputFields"]),
            "{name}: {hint}"
        );
        let expected_fields: Vec<_> = expected["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|field| {
                (
                    field["name"].as_str().unwrap().to_owned(),
                    render(&field["type"]),
                    json_values(&field["args"]),
                )
            })
            .collect();
        let found_fields: Vec<_> = found
            .fields
            .iter()
            .map(|field| {
                (
                    field.name.to_owned(),
                    field.ty.to_string(),
                    table_values(&field.arguments),
                )
            })
            .collect();
        assert_eq!(found_fields, expected_fields, "{name}: {hint}");
        fields += found_fields.len();
    }
    assert!(fields > 2000);
    let directives = published["directives"].as_array().unwrap();
    assert_eq!(table.directives().len(), directives.len(), "{hint}");
    for expected in directives {
        let name = expected["name"].as_str().unwrap();
        let found = table.directive(name).unwrap();
        let locations: Vec<&str> = expected["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|location| location.as_str().unwrap())
            .collect();
        assert_eq!(found.locations, locations, "{name}: {hint}");
        assert_eq!(
            table_values(&found.arguments),
            json_values(&expected["args"]),
            "{name}: {hint}"
        );
    }
}

/// The documents the gateway sends on its own account are valid; a mutation returning an
/// object must select its fields, as on Railway.
#[tokio::test]
async fn the_gateways_own_documents_validate() {
    let sim = start(SimState::incident_scenario()).await;
    for (query, variables) in [
        (TOPOLOGY_QUERY, json!({"projectId": ids::PROJECT})),
        (ALL_PROJECTS_TOPOLOGY_QUERY, json!({})),
        (
            STAGED_CHANGES_QUERY,
            json!({"environmentId": ids::PRODUCTION}),
        ),
    ] {
        let reply = post(
            sim.addr,
            Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
            json!({"query": query, "variables": variables}),
        )
        .await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert!(
            reply.body.get("errors").is_none(),
            "{query}: {}",
            reply.body
        );
    }
    // `volumeInstanceBackupCreate` returns `WorkflowId!`: without `{ workflowId }` Railway
    // refuses the document, and so does the simulator.
    let bare = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": "mutation BlastdoorBackupBeforeDestroy { volumeInstanceBackupCreate(volumeInstanceId: \"vi-pg-data-production\") }"}),
    )
    .await;
    assert_eq!(bare.status, 400, "{}", bare.body);
    assert_eq!(
        bare.body["errors"][0]["message"],
        "Field \"volumeInstanceBackupCreate\" of type \"WorkflowId!\" must have a selection of subfields. Did you mean \"volumeInstanceBackupCreate { ... }\"?"
    );
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 2);
    let selected = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({"query": "mutation BlastdoorBackupBeforeDestroy { volumeInstanceBackupCreate(volumeInstanceId: \"vi-pg-data-production\") { workflowId } }"}),
    )
    .await;
    assert_eq!(selected.status, 200, "{}", selected.body);
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 3);
}
