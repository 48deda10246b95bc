//! Authentication, schema validation, the request log, and the topology queries that the
//! gateway sends (parsed with `blastdoor-http`'s parser).

use blastdoor_http::railway::topology::{TOPOLOGY_QUERY, parse_topology_response};
use blastdoor_sim::schema::schema;
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

/// `{"a": "x", ...}` for every `$a` the document declares: enough for required arguments.
fn dummy_variables(document: &str) -> serde_json::Value {
    let mut variables = serde_json::Map::new();
    for piece in document.split('$').skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        variables.insert(name, json!("x"));
    }
    serde_json::Value::Object(variables)
}

#[tokio::test]
async fn every_cli_document_is_valid_against_the_simulated_schema() {
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
                json!({"query": document, "variables": dummy_variables(&document)}),
            )
            .await;
            assert_eq!(reply.status, 200, "{}: {}", path.display(), reply.body);
            count += 1;
        }
    }
    assert!(count > 120);
    let kinds: Vec<String> = sim
        .state
        .requests()
        .iter()
        .map(|r| r.operations[0].operation_type.clone())
        .collect();
    assert!(kinds.contains(&"mutation".to_owned()) && kinds.contains(&"query".to_owned()));
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
