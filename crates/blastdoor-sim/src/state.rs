//! The simulator's in-memory Railway: projects, environments, services and volumes with their
//! per-environment instances, volume backups and variables; the fields it implements; and the
//! log of every request it received.
//!
//! Implemented queries: `project`, `projects`, `environment`, `environments`, `volumeInstance`,
//! `volumeInstanceBackupList`, `variables`, `variablesForServiceDeployment`, `me`. Implemented
//! mutations: `volumeDelete` (the volume, its instances and their backups, in every
//! environment), `volumeInstanceBackupCreate`, `serviceDelete` (the whole service, whatever
//! `environmentId` says), `environmentDelete` (with the instances and backups in it),
//! `projectScheduleDelete`. Any other field of the schema is accepted and answered generically
//! (`true`, a generated string or `{ id }`), and recorded, so tests can tell what reached the
//! upstream.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use blastdoor_core::Secret;
use serde_json::{Map, Value, json};

use crate::graphql::{Operation, Selection, project};
use crate::schema;

/// The account token of [`SimState::incident_scenario`] (`Authorization: Bearer`).
pub const INCIDENT_ACCOUNT_TOKEN: &str = "sim-account-token-7f3a9c2e5b1d";
/// The project token of [`SimState::incident_scenario`] (`Project-Access-Token`).
pub const INCIDENT_PROJECT_TOKEN: &str = "sim-project-token-4e8b2a6c9d0f";

/// Ids of the incident scenario's resources.
pub mod ids {
    pub const PROJECT: &str = "proj-pocketos";
    pub const PRODUCTION: &str = "env-production";
    pub const STAGING: &str = "env-staging";
    pub const POSTGRES: &str = "svc-postgres";
    pub const API: &str = "svc-api";
    pub const PG_DATA: &str = "vol-pg-data";
    pub const PG_DATA_PRODUCTION: &str = "vi-pg-data-production";
    pub const PG_DATA_STAGING: &str = "vi-pg-data-staging";
    pub const PRODUCTION_BACKUP: &str = "bak-production-nightly";
    pub const STAGING_BACKUP: &str = "bak-staging-nightly";
}

/// Which credential header a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthHeader {
    None,
    /// `Authorization: Bearer ...` (account or workspace token).
    Bearer,
    /// `Project-Access-Token: ...`.
    ProjectAccessToken,
}

/// One request as the simulator saw it. Never holds the credential itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub auth_header: AuthHeader,
    /// A credential was present in the header (whether or not it was right).
    pub credential_present: bool,
    /// The credential matched the configured one.
    pub authorized: bool,
    pub status: u16,
    /// One per operation of the request (several for a batch).
    pub operations: Vec<OperationRecord>,
}

/// One operation of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    /// `query`, `mutation` or `subscription`; empty when the document did not parse.
    pub operation_type: String,
    pub operation_name: Option<String>,
    /// Root field names (not aliases).
    pub fields: Vec<String>,
    /// True when the operation was executed (valid and authorized).
    pub executed: bool,
}

/// The simulator's state: cheap to clone, shared with the server.
#[derive(Debug, Clone)]
pub struct SimState {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    account_token: Secret<String>,
    project_token: Option<Secret<String>>,
    model: Model,
    requests: Vec<RequestRecord>,
}

#[derive(Debug, Default)]
struct Model {
    projects: Vec<ProjectRow>,
    environments: Vec<EnvironmentRow>,
    services: Vec<ServiceRow>,
    service_instances: Vec<InstanceRow>,
    volumes: Vec<VolumeRow>,
    volume_instances: Vec<VolumeInstanceRow>,
    backups: Vec<BackupRow>,
    /// (environment id, service id or none for shared) → name → value.
    variables: BTreeMap<(String, Option<String>), BTreeMap<String, String>>,
    next_id: u64,
}

#[derive(Debug, Clone)]
struct ProjectRow {
    id: String,
    name: String,
    deletion_scheduled: bool,
}

#[derive(Debug, Clone)]
struct EnvironmentRow {
    id: String,
    name: String,
    project_id: String,
}

#[derive(Debug, Clone)]
struct ServiceRow {
    id: String,
    name: String,
    project_id: String,
}

#[derive(Debug, Clone)]
struct InstanceRow {
    id: String,
    service_id: String,
    environment_id: String,
}

#[derive(Debug, Clone)]
struct VolumeRow {
    id: String,
    name: String,
    project_id: String,
}

#[derive(Debug, Clone)]
struct VolumeInstanceRow {
    id: String,
    volume_id: String,
    environment_id: String,
    service_id: Option<String>,
    mount_path: String,
}

#[derive(Debug, Clone)]
struct BackupRow {
    id: String,
    name: String,
    volume_instance_id: String,
}

impl SimState {
    /// An empty Railway that accepts `account_token` as `Authorization: Bearer`.
    pub fn new(account_token: Secret<String>) -> SimState {
        SimState {
            inner: Arc::new(Mutex::new(Inner {
                account_token,
                project_token: None,
                model: Model::default(),
                requests: Vec::new(),
            })),
        }
    }

    /// Also accepts `token` as `Project-Access-Token`.
    pub fn with_project_token(self, token: Secret<String>) -> SimState {
        self.lock().project_token = Some(token);
        self
    }

    /// The incident: project `pocketos` with `production` and `staging`, a Postgres service
    /// with volume `pg-data` instanced (and backed up) in both, and an API service. Tokens:
    /// [`INCIDENT_ACCOUNT_TOKEN`] and [`INCIDENT_PROJECT_TOKEN`]; ids in [`ids`].
    pub fn incident_scenario() -> SimState {
        let state = SimState::new(Secret::new(INCIDENT_ACCOUNT_TOKEN.to_owned()))
            .with_project_token(Secret::new(INCIDENT_PROJECT_TOKEN.to_owned()));
        {
            let mut inner = state.lock();
            let model = &mut inner.model;
            model.projects.push(ProjectRow {
                id: ids::PROJECT.into(),
                name: "pocketos".into(),
                deletion_scheduled: false,
            });
            for (id, name) in [(ids::PRODUCTION, "production"), (ids::STAGING, "staging")] {
                model.environments.push(EnvironmentRow {
                    id: id.into(),
                    name: name.into(),
                    project_id: ids::PROJECT.into(),
                });
            }
            for (id, name) in [(ids::POSTGRES, "Postgres"), (ids::API, "api")] {
                model.services.push(ServiceRow {
                    id: id.into(),
                    name: name.into(),
                    project_id: ids::PROJECT.into(),
                });
                for environment in [ids::PRODUCTION, ids::STAGING] {
                    model.service_instances.push(InstanceRow {
                        id: format!("si-{id}-{environment}"),
                        service_id: id.into(),
                        environment_id: environment.into(),
                    });
                }
            }
            model.volumes.push(VolumeRow {
                id: ids::PG_DATA.into(),
                name: "pg-data".into(),
                project_id: ids::PROJECT.into(),
            });
            for (instance, environment, backup) in [
                (
                    ids::PG_DATA_PRODUCTION,
                    ids::PRODUCTION,
                    ids::PRODUCTION_BACKUP,
                ),
                (ids::PG_DATA_STAGING, ids::STAGING, ids::STAGING_BACKUP),
            ] {
                model.volume_instances.push(VolumeInstanceRow {
                    id: instance.into(),
                    volume_id: ids::PG_DATA.into(),
                    environment_id: environment.into(),
                    service_id: Some(ids::POSTGRES.into()),
                    mount_path: "/var/lib/postgresql/data".into(),
                });
                model.backups.push(BackupRow {
                    id: backup.into(),
                    name: "nightly".into(),
                    volume_instance_id: instance.into(),
                });
            }
            for (environment, password) in
                [(ids::PRODUCTION, "prod-pw"), (ids::STAGING, "stage-pw")]
            {
                model.variables.insert(
                    (environment.into(), Some(ids::POSTGRES.into())),
                    BTreeMap::from([(
                        "DATABASE_URL".to_owned(),
                        format!("postgres://app:{password}@postgres.railway.internal/app"),
                    )]),
                );
            }
        }
        state
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    /// The root fields of every executed mutation, in order.
    pub fn executed_mutations(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .flat_map(|request| &request.operations)
            .filter(|operation| operation.executed && operation.operation_type == "mutation")
            .flat_map(|operation| operation.fields.clone())
            .collect()
    }

    pub fn has_volume(&self, volume_id: &str) -> bool {
        self.lock()
            .model
            .volumes
            .iter()
            .any(|volume| volume.id == volume_id)
    }

    pub fn has_service(&self, service_id: &str) -> bool {
        self.lock()
            .model
            .services
            .iter()
            .any(|service| service.id == service_id)
    }

    pub fn has_environment(&self, environment_id: &str) -> bool {
        self.lock()
            .model
            .environments
            .iter()
            .any(|environment| environment.id == environment_id)
    }

    /// The number of backups of every instance of `volume_id`.
    pub fn backup_count(&self, volume_id: &str) -> usize {
        let inner = self.lock();
        let instances: Vec<&str> = inner
            .model
            .volume_instances
            .iter()
            .filter(|instance| instance.volume_id == volume_id)
            .map(|instance| instance.id.as_str())
            .collect();
        inner
            .model
            .backups
            .iter()
            .filter(|backup| instances.contains(&backup.volume_instance_id.as_str()))
            .count()
    }

    pub fn project_deletion_scheduled(&self, project_id: &str) -> bool {
        self.lock()
            .model
            .projects
            .iter()
            .any(|project| project.id == project_id && project.deletion_scheduled)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the model half-updated in a way that
        // matters to a test peer; keep serving.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Which header carried a credential and whether it matches. Compares without logging.
    pub(crate) fn authorize(
        &self,
        bearer: Option<&str>,
        project_token: Option<&str>,
    ) -> (AuthHeader, bool, bool) {
        let inner = self.lock();
        match (bearer, project_token) {
            (Some(token), _) => (
                AuthHeader::Bearer,
                !token.is_empty(),
                constant_time_eq(
                    token.as_bytes(),
                    inner.account_token.expose_secret().as_bytes(),
                ),
            ),
            (None, Some(token)) => (
                AuthHeader::ProjectAccessToken,
                !token.is_empty(),
                inner.project_token.as_ref().is_some_and(|expected| {
                    constant_time_eq(token.as_bytes(), expected.expose_secret().as_bytes())
                }),
            ),
            (None, None) => (AuthHeader::None, false, false),
        }
    }

    pub(crate) fn record(&self, record: RequestRecord) {
        self.lock().requests.push(record);
    }

    /// Executes a validated operation: `data` and field errors.
    pub(crate) fn execute(&self, operation: &Operation) -> (Value, Vec<Value>) {
        let mut inner = self.lock();
        let mut data = Map::new();
        let mut errors = Vec::new();
        for field in &operation.fields {
            match inner.model.resolve(operation.root_type, field) {
                Ok(value) => {
                    data.insert(field.key.clone(), project(&value, &field.children));
                }
                Err(message) => {
                    data.insert(field.key.clone(), Value::Null);
                    errors.push(json!({
                        "message": message,
                        "path": [field.key],
                        "extensions": {"code": "NOT_FOUND"},
                    }));
                }
            }
        }
        (Value::Object(data), errors)
    }
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len()
        && left
            .iter()
            .zip(right)
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

fn argument<'a>(field: &'a Selection, name: &str) -> Option<&'a str> {
    field.arguments.get(name).and_then(Value::as_str)
}

fn edges(nodes: Vec<Value>) -> Value {
    json!({
        "edges": nodes.into_iter().map(|node| json!({"node": node})).collect::<Vec<_>>(),
        "pageInfo": {"hasNextPage": false, "endCursor": null},
    })
}

impl Model {
    fn resolve(&mut self, root_type: &str, field: &Selection) -> Result<Value, String> {
        let not_found = |what: &str| format!("{what} not found");
        match (root_type, field.name.as_str()) {
            (_, "__typename") => Ok(Value::String(root_type.to_owned())),
            ("Query", "me") => Ok(
                json!({"__typename": "User", "id": "user-sim", "name": "Sim User", "email": "sim@example.com"}),
            ),
            ("Query", "project") => {
                let id = argument(field, "id").unwrap_or_default();
                self.project_json(id).ok_or_else(|| not_found("Project"))
            }
            ("Query", "projects") => Ok(edges(
                self.projects
                    .iter()
                    .filter_map(|project| self.project_json(&project.id))
                    .collect(),
            )),
            ("Query", "environment") => {
                let id = argument(field, "id").unwrap_or_default();
                self.environments
                    .iter()
                    .find(|environment| environment.id == id)
                    .map(|environment| self.environment_json(environment))
                    .ok_or_else(|| not_found("Environment"))
            }
            ("Query", "environments") => {
                let project_id = argument(field, "projectId").unwrap_or_default();
                Ok(edges(
                    self.environments
                        .iter()
                        .filter(|environment| environment.project_id == project_id)
                        .map(|environment| self.environment_json(environment))
                        .collect(),
                ))
            }
            ("Query", "volumeInstance") => {
                let id = argument(field, "id").unwrap_or_default();
                self.volume_instances
                    .iter()
                    .find(|instance| instance.id == id)
                    .map(volume_instance_json)
                    .ok_or_else(|| not_found("VolumeInstance"))
            }
            ("Query", "volumeInstanceBackupList") => {
                let id = argument(field, "volumeInstanceId").unwrap_or_default();
                if !self
                    .volume_instances
                    .iter()
                    .any(|instance| instance.id == id)
                {
                    return Err(not_found("VolumeInstance"));
                }
                Ok(Value::Array(
                    self.backups
                        .iter()
                        .filter(|backup| backup.volume_instance_id == id)
                        .map(|backup| json!({"__typename": "VolumeInstanceBackup", "id": backup.id, "name": backup.name, "createdAt": "2026-01-01T00:00:00Z", "usedMB": 512, "referencedMB": 512}))
                        .collect(),
                ))
            }
            ("Query", "variables" | "variablesForServiceDeployment") => {
                let environment = argument(field, "environmentId")
                    .unwrap_or_default()
                    .to_owned();
                let service = argument(field, "serviceId").map(str::to_owned);
                let mut merged: BTreeMap<String, String> = self
                    .variables
                    .get(&(environment.clone(), None))
                    .cloned()
                    .unwrap_or_default();
                if let Some(values) = self.variables.get(&(environment, service)) {
                    merged.extend(values.clone());
                }
                Ok(json!(merged))
            }
            ("Mutation", "volumeDelete") => {
                let id = argument(field, "volumeId").unwrap_or_default().to_owned();
                if !self.volumes.iter().any(|volume| volume.id == id) {
                    return Err(not_found("Volume"));
                }
                self.volumes.retain(|volume| volume.id != id);
                let instances: Vec<String> = self
                    .volume_instances
                    .iter()
                    .filter(|instance| instance.volume_id == id)
                    .map(|instance| instance.id.clone())
                    .collect();
                self.volume_instances
                    .retain(|instance| instance.volume_id != id);
                self.backups
                    .retain(|backup| !instances.contains(&backup.volume_instance_id));
                Ok(Value::Bool(true))
            }
            ("Mutation", "volumeInstanceBackupCreate") => {
                let id = argument(field, "volumeInstanceId")
                    .unwrap_or_default()
                    .to_owned();
                if !self
                    .volume_instances
                    .iter()
                    .any(|instance| instance.id == id)
                {
                    return Err(not_found("VolumeInstance"));
                }
                let backup_id = self.fresh_id("bak");
                let name = argument(field, "name").unwrap_or("manual").to_owned();
                self.backups.push(BackupRow {
                    id: backup_id.clone(),
                    name,
                    volume_instance_id: id,
                });
                Ok(json!({"__typename": "WorkflowId", "workflowId": format!("wf-{backup_id}")}))
            }
            ("Mutation", "serviceDelete") => {
                let id = argument(field, "id").unwrap_or_default().to_owned();
                if !self.services.iter().any(|service| service.id == id) {
                    return Err(not_found("Service"));
                }
                self.services.retain(|service| service.id != id);
                self.service_instances
                    .retain(|instance| instance.service_id != id);
                self.variables
                    .retain(|(_, service), _| service.as_deref() != Some(id.as_str()));
                Ok(Value::Bool(true))
            }
            ("Mutation", "environmentDelete") => {
                let id = argument(field, "id").unwrap_or_default().to_owned();
                if !self
                    .environments
                    .iter()
                    .any(|environment| environment.id == id)
                {
                    return Err(not_found("Environment"));
                }
                self.environments.retain(|environment| environment.id != id);
                self.service_instances
                    .retain(|instance| instance.environment_id != id);
                let instances: Vec<String> = self
                    .volume_instances
                    .iter()
                    .filter(|instance| instance.environment_id == id)
                    .map(|instance| instance.id.clone())
                    .collect();
                self.volume_instances
                    .retain(|instance| instance.environment_id != id);
                self.backups
                    .retain(|backup| !instances.contains(&backup.volume_instance_id));
                self.variables
                    .retain(|(environment, _), _| *environment != id);
                Ok(Value::Bool(true))
            }
            ("Mutation", "projectScheduleDelete") => {
                let id = argument(field, "id").unwrap_or_default();
                let project = self
                    .projects
                    .iter_mut()
                    .find(|project| project.id == id)
                    .ok_or_else(|| not_found("Project"))?;
                project.deletion_scheduled = true;
                Ok(Value::Bool(true))
            }
            (root_type, name) => Ok(self.generic(root_type, name)),
        }
    }

    /// The answer to a valid field the simulator does not model.
    fn generic(&mut self, root_type: &str, name: &str) -> Value {
        let returns =
            schema::root_field(root_type, name).map_or("", |field| field.returns.as_str());
        let bare = returns.trim_end_matches('!');
        if root_type == "Query" {
            return if bare.starts_with('[') {
                json!([])
            } else {
                Value::Null
            };
        }
        match bare {
            "Boolean" => Value::Bool(true),
            "String" | "ID" => Value::String(self.fresh_id(name)),
            _ if bare.starts_with('[') => json!([]),
            _ => json!({"id": self.fresh_id(name)}),
        }
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-sim-{}", self.next_id)
    }

    fn environment_json(&self, environment: &EnvironmentRow) -> Value {
        let instances: Vec<Value> = self
            .service_instances
            .iter()
            .filter(|instance| instance.environment_id == environment.id)
            .map(|instance| json!({"__typename": "ServiceInstance", "id": instance.id, "serviceId": instance.service_id, "environmentId": instance.environment_id}))
            .collect();
        json!({
            "__typename": "Environment",
            "id": environment.id,
            "name": environment.name,
            "projectId": environment.project_id,
            "canAccess": true,
            "isEphemeral": false,
            "deletedAt": null,
            "unmergedChangesCount": 0,
            "serviceInstances": edges(instances),
        })
    }

    fn project_json(&self, project_id: &str) -> Option<Value> {
        let project = self
            .projects
            .iter()
            .find(|project| project.id == project_id)?;
        let environments = self
            .environments
            .iter()
            .filter(|environment| environment.project_id == project.id)
            .map(|environment| self.environment_json(environment))
            .collect();
        let volumes = self
            .volumes
            .iter()
            .filter(|volume| volume.project_id == project.id)
            .map(|volume| {
                let instances = self
                    .volume_instances
                    .iter()
                    .filter(|instance| instance.volume_id == volume.id)
                    .map(volume_instance_json)
                    .collect();
                json!({"__typename": "Volume", "id": volume.id, "name": volume.name, "projectId": volume.project_id, "volumeInstances": edges(instances)})
            })
            .collect();
        let services = self
            .services
            .iter()
            .filter(|service| service.project_id == project.id)
            .map(|service| {
                let instances = self
                    .service_instances
                    .iter()
                    .filter(|instance| instance.service_id == service.id)
                    .map(|instance| json!({"__typename": "ServiceInstance", "id": instance.id, "serviceId": instance.service_id, "environmentId": instance.environment_id}))
                    .collect();
                json!({"__typename": "Service", "id": service.id, "name": service.name, "projectId": service.project_id, "serviceInstances": edges(instances)})
            })
            .collect();
        Some(json!({
            "__typename": "Project",
            "id": project.id,
            "name": project.name,
            "deletedAt": if project.deletion_scheduled { json!("2026-01-03T00:00:00Z") } else { Value::Null },
            "workspaceId": "ws-sim",
            "workspace": {"id": "ws-sim", "name": "sim"},
            "environments": edges(environments),
            "volumes": edges(volumes),
            "services": edges(services),
            "buckets": edges(Vec::new()),
        }))
    }
}

fn volume_instance_json(instance: &VolumeInstanceRow) -> Value {
    json!({
        "__typename": "VolumeInstance",
        "id": instance.id,
        "volumeId": instance.volume_id,
        "environmentId": instance.environment_id,
        "serviceId": instance.service_id,
        "mountPath": instance.mount_path,
    })
}
