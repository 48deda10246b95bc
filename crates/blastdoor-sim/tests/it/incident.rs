//! The incident replayed against the simulator: the CLI's `volumeDelete` removes the volume,
//! its instances and its backups in every environment; safer alternatives do not.

use blastdoor_sim::{INCIDENT_ACCOUNT_TOKEN, INCIDENT_PROJECT_TOKEN, SimState, ids};
use serde_json::json;

use crate::client::{Auth, fixture, post, send, start};

#[tokio::test]
async fn the_cli_volume_delete_wipes_the_volume_and_its_backups_everywhere() {
    let sim = start(SimState::incident_scenario()).await;
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 2);
    let reply = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({
            "query": fixture("mutations/VolumeDelete.graphql"),
            "variables": {"id": ids::PG_DATA},
            "operationName": "VolumeDelete",
        }),
    )
    .await;
    assert_eq!(
        (reply.status, &reply.body),
        (200, &json!({"data": {"volumeDelete": true}}))
    );
    assert!(!sim.state.has_volume(ids::PG_DATA));
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 0);
    let backups = post(
        sim.addr,
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        json!({
            "query": fixture("queries/VolumeInstanceBackupList.graphql"),
            "variables": {"volumeInstanceId": ids::PG_DATA_PRODUCTION},
        }),
    )
    .await;
    assert_eq!(
        backups.body["errors"][0]["message"],
        "VolumeInstance not found"
    );
    assert_eq!(sim.state.executed_mutations(), vec!["volumeDelete"]);
}

#[tokio::test]
async fn every_shape_of_the_delete_reaches_a_plain_upstream() {
    let shapes = [
        json!({"query": "mutation { keep: volumeDelete(volumeId: \"vol-pg-data\") }"}),
        json!([{"query": "{ me { id } }"}, {"query": "mutation { volumeDelete(volumeId: \"vol-pg-data\") }"}]),
        json!({"query": "mutation { ...F } fragment F on Mutation { volumeDelete(volumeId: \"vol-pg-data\") }"}),
        json!({"query": "query A { me { id } } mutation B { volumeDelete(volumeId: \"vol-pg-data\") }", "operationName": "B"}),
    ];
    for shape in shapes {
        let sim = start(SimState::incident_scenario()).await;
        let reply = post(
            sim.addr,
            Auth::Project(INCIDENT_PROJECT_TOKEN),
            shape.clone(),
        )
        .await;
        assert_eq!(reply.status, 200, "{shape}: {}", reply.body);
        assert!(!sim.state.has_volume(ids::PG_DATA), "{shape}");
    }
    let sim = start(SimState::incident_scenario()).await;
    let reply = send(
        sim.addr,
        "GET",
        "/graphql/v2?query=mutation%7BvolumeDelete(volumeId%3A%22vol-pg-data%22)%7D",
        Auth::Bearer(INCIDENT_ACCOUNT_TOKEN),
        b"",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(!sim.state.has_volume(ids::PG_DATA));
}

#[tokio::test]
async fn backups_services_environments_and_scheduled_deletes() {
    let sim = start(SimState::incident_scenario()).await;
    let token = || Auth::Bearer(INCIDENT_ACCOUNT_TOKEN);
    let created = post(
        sim.addr,
        token(),
        json!({
            "query": fixture("mutations/VolumeInstanceBackupCreate.graphql"),
            "variables": {"volumeInstanceId": ids::PG_DATA_PRODUCTION, "name": "before-fix"},
        }),
    )
    .await;
    assert!(
        created.body["data"]["volumeInstanceBackupCreate"]["workflowId"].is_string(),
        "{}",
        created.body
    );
    assert_eq!(sim.state.backup_count(ids::PG_DATA), 3);
    let listed = post(
        sim.addr,
        token(),
        json!({
            "query": fixture("queries/VolumeInstanceBackupList.graphql"),
            "variables": {"volumeInstanceId": ids::PG_DATA_PRODUCTION},
        }),
    )
    .await;
    assert_eq!(
        listed.body["data"]["volumeInstanceBackupList"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    post(sim.addr, token(), json!({"query": fixture("mutations/ServiceDelete.graphql"), "variables": {"environmentId": ids::STAGING, "serviceId": ids::API}})).await;
    assert!(!sim.state.has_service(ids::API) && sim.state.has_service(ids::POSTGRES));

    post(sim.addr, token(), json!({"query": fixture("mutations/EnvironmentDelete.graphql"), "variables": {"id": ids::STAGING}})).await;
    assert!(!sim.state.has_environment(ids::STAGING));
    assert!(
        sim.state.has_volume(ids::PG_DATA),
        "the volume keeps its production instance"
    );
    assert_eq!(
        sim.state.backup_count(ids::PG_DATA),
        2,
        "staging's backup went with staging"
    );

    post(sim.addr, token(), json!({"query": fixture("mutations/ProjectScheduleDelete.graphql"), "variables": {"id": ids::PROJECT}})).await;
    assert!(sim.state.project_deletion_scheduled(ids::PROJECT));
}

#[tokio::test]
async fn secrets_are_readable_with_the_credential() {
    let sim = start(SimState::incident_scenario()).await;
    let reply = post(sim.addr, Auth::Bearer(INCIDENT_ACCOUNT_TOKEN), json!({
        "query": fixture("queries/VariablesForServiceDeployment.graphql"),
        "variables": {"projectId": ids::PROJECT, "environmentId": ids::PRODUCTION, "serviceId": ids::POSTGRES},
    })).await;
    let url = reply.body["data"]["variablesForServiceDeployment"]["DATABASE_URL"]
        .as_str()
        .unwrap();
    assert!(url.starts_with("postgres://"));
}
