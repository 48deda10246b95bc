//! The simulator's state: the in-memory Railway (see `model`), the credentials it accepts, the
//! incident scenario, and the log of every request it received, with, for each executed
//! operation, the trace of the fields it resolved.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use blastdoor_core::Secret;

use crate::execute::{Execution, Prepared};
use crate::model::{
    BackupRow, DeploymentRow, DomainRow, EnvironmentRow, InstanceRow, Model, ProjectRow,
    ServiceRow, TcpProxyRow, UserRow, VolumeInstanceRow, VolumeRow, WorkspaceRow,
};

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
    pub const WORKSPACE: &str = "ws-sim";
    pub const USER: &str = "user-sim";
    /// The API's custom domain in production.
    pub const API_CUSTOM_DOMAIN: &str = "cd-api-production";
}

/// The incident scenario's variable values. Production's and staging's differ, and none is a
/// part of another, so a test can tell which environment's secret reached an agent.
pub mod secrets {
    /// Postgres's and the API's `DATABASE_URL` in production.
    pub const PRODUCTION_DATABASE_URL: &str =
        "postgres://app:prod-secret-9f4c2a7e@postgres.railway.internal:5432/pocketos";
    /// Postgres's `POSTGRES_PASSWORD` in production.
    pub const PRODUCTION_POSTGRES_PASSWORD: &str = "prod-secret-9f4c2a7e";
    /// The API's `STRIPE_API_KEY` in production.
    pub const PRODUCTION_STRIPE_API_KEY: &str = "sk_live_51PocketosProdSecret7d3e";
    /// The shared `SESSION_SECRET` in production.
    pub const PRODUCTION_SESSION_SECRET: &str = "prod-session-secret-b81d0c55";
    pub const STAGING_DATABASE_URL: &str =
        "postgres://app:staging-pw-31c6@postgres.railway.internal:5432/pocketos";
    pub const STAGING_POSTGRES_PASSWORD: &str = "staging-pw-31c6";
    pub const STAGING_STRIPE_API_KEY: &str = "sk_test_51PocketosStagingKey2a9b";
    pub const STAGING_SESSION_SECRET: &str = "staging-session-secret-44e7";
    /// Every production value.
    pub const PRODUCTION: [&str; 4] = [
        PRODUCTION_DATABASE_URL,
        PRODUCTION_POSTGRES_PASSWORD,
        PRODUCTION_STRIPE_API_KEY,
        PRODUCTION_SESSION_SECRET,
    ];
    /// Every staging value.
    pub const STAGING: [&str; 4] = [
        STAGING_DATABASE_URL,
        STAGING_POSTGRES_PASSWORD,
        STAGING_STRIPE_API_KEY,
        STAGING_SESSION_SECRET,
    ];
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
    /// The names of the headers the request carried, lowercase, in order; never their values.
    pub header_names: Vec<String>,
    /// The names of the headers whose value holds a blastdoor capability token (`bd1_…`),
    /// which a gateway must never forward; never the values.
    pub headers_with_capability_token: Vec<String>,
    /// The names of the headers, other than `Authorization` and `Project-Access-Token`, whose
    /// value holds one of the credentials this simulator accepts; never the values.
    pub headers_with_credential: Vec<String>,
    pub status: u16,
    /// One per operation of the request (several for a batch).
    pub operations: Vec<OperationRecord>,
}

impl RequestRecord {
    /// The fields resolved by every operation of the request, each once, in order.
    pub fn resolved_fields(&self) -> Vec<ResolvedField> {
        let mut fields = Vec::new();
        for field in self
            .operations
            .iter()
            .flat_map(|operation| &operation.resolved)
        {
            if !fields.contains(field) {
                fields.push(*field);
            }
        }
        fields
    }
}

/// One operation of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    /// `query`, `mutation` or `subscription`; empty when the document did not parse or was
    /// invalid.
    pub operation_type: String,
    pub operation_name: Option<String>,
    /// Root field names as sent (not aliases; fragments expanded, `@skip`/`@include` not
    /// applied).
    pub fields: Vec<String>,
    /// True when the operation was executed (valid and authorized).
    pub executed: bool,
    /// Every field the executor resolved, at every depth, after fragments and directives:
    /// each (parent type, field) pair once, in the order first resolved. Empty when the
    /// operation was not executed.
    pub resolved: Vec<ResolvedField>,
}

/// A field the simulator resolved: `parent_type` is the object type it was resolved on (the
/// concrete type, also where the selection named an interface or union), `field` the
/// field's name (not its alias). `__typename` is included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResolvedField {
    pub parent_type: &'static str,
    pub field: &'static str,
}

impl std::fmt::Display for ResolvedField {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}.{}", self.parent_type, self.field)
    }
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

    /// The incident: project `pocketos` (workspace `ws-sim`) with `production` and
    /// `staging`, a Postgres service with volume `pg-data` instanced (and backed up) in both,
    /// and an API service; a deployment of each service in each environment, a
    /// `*.up.railway.app` domain for the API in each, a custom domain in production, a TCP
    /// proxy to Postgres in each; and variables whose values are [`secrets`] (production's
    /// and staging's differ). Tokens: [`INCIDENT_ACCOUNT_TOKEN`] and
    /// [`INCIDENT_PROJECT_TOKEN`]; ids in [`ids`].
    pub fn incident_scenario() -> SimState {
        let state = SimState::new(Secret::new(INCIDENT_ACCOUNT_TOKEN.to_owned()))
            .with_project_token(Secret::new(INCIDENT_PROJECT_TOKEN.to_owned()));
        {
            let mut inner = state.lock();
            let model = &mut inner.model;
            model.user = UserRow {
                id: ids::USER.into(),
                name: "Sim User".into(),
                email: "sim@example.com".into(),
            };
            model.workspaces.push(WorkspaceRow {
                id: ids::WORKSPACE.into(),
                name: "sim".into(),
            });
            model.projects.push(ProjectRow {
                id: ids::PROJECT.into(),
                name: "pocketos".into(),
                workspace_id: ids::WORKSPACE.into(),
                deletion_scheduled: false,
            });
            for (id, name) in [(ids::PRODUCTION, "production"), (ids::STAGING, "staging")] {
                model.environments.push(EnvironmentRow {
                    id: id.into(),
                    name: name.into(),
                    project_id: ids::PROJECT.into(),
                });
            }
            for (id, name, image) in [
                (
                    ids::POSTGRES,
                    "Postgres",
                    Some("ghcr.io/railwayapp-templates/postgres-ssl:16"),
                ),
                (ids::API, "api", None),
            ] {
                model.services.push(ServiceRow {
                    id: id.into(),
                    name: name.into(),
                    project_id: ids::PROJECT.into(),
                    image: image.map(str::to_owned),
                });
                for environment in [ids::PRODUCTION, ids::STAGING] {
                    model.service_instances.push(InstanceRow {
                        id: format!("si-{id}-{environment}"),
                        service_id: id.into(),
                        environment_id: environment.into(),
                    });
                    model.deployments.push(DeploymentRow {
                        id: format!("dep-{id}-{environment}"),
                        service_id: id.into(),
                        environment_id: environment.into(),
                        project_id: ids::PROJECT.into(),
                    });
                }
            }
            for (environment, short) in [(ids::PRODUCTION, "production"), (ids::STAGING, "staging")]
            {
                model.domains.push(DomainRow {
                    id: format!("sd-api-{short}"),
                    domain: format!("api-{short}.up.railway.app"),
                    custom: false,
                    service_id: ids::API.into(),
                    environment_id: environment.into(),
                    project_id: ids::PROJECT.into(),
                    target_port: 8080,
                });
                model.tcp_proxies.push(TcpProxyRow {
                    id: format!("tcp-postgres-{short}"),
                    domain: "shuttle.proxy.rlwy.net".into(),
                    proxy_port: if environment == ids::PRODUCTION {
                        41234
                    } else {
                        42345
                    },
                    application_port: 5432,
                    service_id: ids::POSTGRES.into(),
                    environment_id: environment.into(),
                });
            }
            model.domains.push(DomainRow {
                id: ids::API_CUSTOM_DOMAIN.into(),
                domain: "api.pocketos.example".into(),
                custom: true,
                service_id: ids::API.into(),
                environment_id: ids::PRODUCTION.into(),
                project_id: ids::PROJECT.into(),
                target_port: 8080,
            });
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
            for (environment, url, password, stripe, session) in [
                (
                    ids::PRODUCTION,
                    secrets::PRODUCTION_DATABASE_URL,
                    secrets::PRODUCTION_POSTGRES_PASSWORD,
                    secrets::PRODUCTION_STRIPE_API_KEY,
                    secrets::PRODUCTION_SESSION_SECRET,
                ),
                (
                    ids::STAGING,
                    secrets::STAGING_DATABASE_URL,
                    secrets::STAGING_POSTGRES_PASSWORD,
                    secrets::STAGING_STRIPE_API_KEY,
                    secrets::STAGING_SESSION_SECRET,
                ),
            ] {
                let pairs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
                    pairs
                        .iter()
                        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                        .collect()
                };
                model.variables.insert(
                    (environment.into(), Some(ids::POSTGRES.into())),
                    pairs(&[("DATABASE_URL", url), ("POSTGRES_PASSWORD", password)]),
                );
                model.variables.insert(
                    (environment.into(), Some(ids::API.into())),
                    pairs(&[("DATABASE_URL", url), ("STRIPE_API_KEY", stripe)]),
                );
                model.variables.insert(
                    (environment.into(), None),
                    pairs(&[("SESSION_SECRET", session)]),
                );
            }
        }
        state
    }

    /// Adds service `id` to the incident's project with an instance and a deployment in each
    /// of `environment_ids` only (a service that lives in production and nowhere else, say):
    /// instance `si-{id}-{environment}`, deployment `dep-{id}-{environment}`.
    pub fn add_service(&self, id: &str, name: &str, environment_ids: &[&str]) {
        let mut inner = self.lock();
        let model = &mut inner.model;
        model.services.push(ServiceRow {
            id: id.into(),
            name: name.into(),
            project_id: ids::PROJECT.into(),
            image: None,
        });
        for environment in environment_ids {
            model.service_instances.push(InstanceRow {
                id: format!("si-{id}-{environment}"),
                service_id: id.into(),
                environment_id: (*environment).into(),
            });
            model.deployments.push(DeploymentRow {
                id: format!("dep-{id}-{environment}"),
                service_id: id.into(),
                environment_id: (*environment).into(),
                project_id: ids::PROJECT.into(),
            });
        }
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    /// The root fields of every executed mutation, in order (a field an `@skip` or
    /// `@include` left out is not one).
    pub fn executed_mutations(&self) -> Vec<String> {
        self.lock()
            .requests
            .iter()
            .flat_map(|request| &request.operations)
            .filter(|operation| operation.executed && operation.operation_type == "mutation")
            .flat_map(|operation| {
                operation.fields.iter().filter(|name| {
                    operation.resolved.iter().any(|field| {
                        field.parent_type == "Mutation" && field.field == name.as_str()
                    })
                })
            })
            .cloned()
            .collect()
    }

    /// Every field resolved by every request so far, each (parent type, field) pair once, in
    /// the order first resolved. Per request: [`RequestRecord::resolved_fields`].
    pub fn resolved_fields(&self) -> Vec<ResolvedField> {
        let mut fields = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for request in &self.lock().requests {
            for field in request.resolved_fields() {
                if seen.insert(field) {
                    fields.push(field);
                }
            }
        }
        fields
    }

    /// The current value of variable `name` in `environment_id`: the service's
    /// (`service_id`) or a shared one (`None`).
    pub fn variable(
        &self,
        environment_id: &str,
        service_id: Option<&str>,
        name: &str,
    ) -> Option<String> {
        self.lock()
            .model
            .variables
            .get(&(environment_id.to_owned(), service_id.map(str::to_owned)))
            .and_then(|values| values.get(name))
            .cloned()
    }

    /// Every variable value of `environment_id` (shared and of every service), for checking
    /// that none reached an agent.
    pub fn variable_values(&self, environment_id: &str) -> Vec<String> {
        self.lock()
            .model
            .variables
            .iter()
            .filter(|((environment, _), _)| environment == environment_id)
            .flat_map(|(_, values)| values.values().cloned())
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

    /// Whether `value` holds the account token or the project token anywhere.
    pub(crate) fn holds_credential(&self, value: &[u8]) -> bool {
        let inner = self.lock();
        let contains = |needle: &str| {
            !needle.is_empty()
                && value
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes())
        };
        contains(inner.account_token.expose_secret())
            || inner
                .project_token
                .as_ref()
                .is_some_and(|token| contains(token.expose_secret()))
    }

    pub(crate) fn record(&self, record: RequestRecord) {
        self.lock().requests.push(record);
    }

    /// Executes a prepared operation against the model.
    pub(crate) fn execute(&self, operation: &Prepared<'_>) -> Execution {
        operation.execute(&mut self.lock().model)
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
