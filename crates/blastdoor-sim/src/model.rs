//! The simulator's in-memory Railway and how it answers fields: the rows (projects,
//! environments, services and their per-environment instances, volumes and volume instances
//! with backups, deployments, domains, TCP proxies, variables), the [`Node`]s the executor
//! resolves fields on, and the root fields and mutations that read and change the rows.
//!
//! Modelled reads (at any depth): `me` (`workspaces`, `workspace`, `projects`),
//! `externalWorkspaces`, `workspace`, `projects`, `projectsByIds`, `project` (`environments`,
//! `services`, `volumes`, `deployments`, `workspace`), `environment`/`environments`
//! (`config(decryptVariables:)`, `variables`, `serviceInstances`, `volumeInstances`,
//! `deployments`), `service`, `serviceInstance` (`latestDeployment`, `activeDeployments`,
//! `domains`, `service`), `deployment`/`deployments`, `deploymentSnapshot` (`variables`, in
//! clear), `domains`, `customDomain`, `domainStatus` (`domain`, of the `Domain` interface),
//! `tcpProxies`, `volumeInstance` (`volume`, `environment`, `service`),
//! `volumeInstanceBackupList`, `variables`, `variablesForServiceDeployment`,
//! `environmentStagedChanges`/`environmentPatch`/`environmentPatches`
//! (`patch(decryptVariables:)`); Relay connections (`edges`, `node`, `cursor`, `pageInfo`)
//! over all of them. Railway's `Variable` type has no value: `Environment.variables` lists
//! names only.
//!
//! Modelled mutations: `volumeDelete` (the volume, its instances and their backups, in every
//! environment), `volumeInstanceBackupCreate`, `serviceDelete` (the whole service, whatever
//! `environmentId` says), `environmentDelete` (with the instances, backups and variables in
//! it), `projectScheduleDelete`, `variableUpsert`, `variableCollectionUpsert`,
//! `variableDelete`, `environmentStageChanges` (`merge` or replace), `environmentPatchCommit`
//! and `environmentPatchCommitStaged` (a patch sets or deletes variables, and removes a
//! service or volume from the environment where it maps it to `null` or sets `isDeleted:
//! true`). Any other field is generic: a mutation returning `Boolean!` answers `true`, one
//! returning `String!`/`ID!` a fresh id; everything else completes to a type-correct
//! placeholder.
//!
//! `Environment.config` is shaped roughly like Railway's `EnvironmentConfig`:
//! `{"services": {"<serviceId>": {"variables": {"NAME": {"value": "…"}}, "volumeMounts":
//! {…}}}, "sharedVariables": {"NAME": {"value": "…"}}, "volumes": {…}}`; the values are there
//! only with `decryptVariables: true` (without, each variable is `{}`); the same holds for a
//! patch's `patch`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::execute::{FieldError, Resolved, Resolver};
use crate::schema::TypeRef;

/// Timestamps the simulator reports for everything it did not create itself.
const CREATED_AT: &str = "2026-01-01T00:00:00.000Z";

#[derive(Debug, Default)]
pub(crate) struct Model {
    pub(crate) user: UserRow,
    pub(crate) workspaces: Vec<WorkspaceRow>,
    pub(crate) projects: Vec<ProjectRow>,
    pub(crate) environments: Vec<EnvironmentRow>,
    pub(crate) services: Vec<ServiceRow>,
    pub(crate) service_instances: Vec<InstanceRow>,
    pub(crate) volumes: Vec<VolumeRow>,
    pub(crate) volume_instances: Vec<VolumeInstanceRow>,
    pub(crate) backups: Vec<BackupRow>,
    pub(crate) deployments: Vec<DeploymentRow>,
    pub(crate) domains: Vec<DomainRow>,
    pub(crate) tcp_proxies: Vec<TcpProxyRow>,
    /// (environment id, service id or none for shared) → name → value.
    pub(crate) variables: BTreeMap<(String, Option<String>), BTreeMap<String, String>>,
    /// Environment id → the patch staged there (`environmentStageChanges`), not yet committed.
    pub(crate) staged: BTreeMap<String, Value>,
    /// Patches committed (`environmentPatchCommit`, `environmentPatchCommitStaged`).
    pub(crate) committed: Vec<PatchRow>,
    pub(crate) next_id: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct PatchRow {
    pub(crate) id: String,
    pub(crate) environment_id: String,
    pub(crate) patch: Value,
    pub(crate) message: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
}

#[derive(Debug, Clone)]
pub(crate) struct WorkspaceRow {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ProjectRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) workspace_id: String,
    pub(crate) deletion_scheduled: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct EnvironmentRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) project_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) project_id: String,
    pub(crate) image: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct InstanceRow {
    pub(crate) id: String,
    pub(crate) service_id: String,
    pub(crate) environment_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct VolumeRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) project_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct VolumeInstanceRow {
    pub(crate) id: String,
    pub(crate) volume_id: String,
    pub(crate) environment_id: String,
    pub(crate) service_id: Option<String>,
    pub(crate) mount_path: String,
}

#[derive(Debug, Clone)]
pub(crate) struct BackupRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) volume_instance_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct DeploymentRow {
    pub(crate) id: String,
    pub(crate) service_id: String,
    pub(crate) environment_id: String,
    pub(crate) project_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct DomainRow {
    pub(crate) id: String,
    pub(crate) domain: String,
    /// A custom domain (`CustomDomain`) rather than a `*.up.railway.app` one.
    pub(crate) custom: bool,
    pub(crate) service_id: String,
    pub(crate) environment_id: String,
    pub(crate) project_id: String,
    pub(crate) target_port: u16,
}

#[derive(Debug, Clone)]
pub(crate) struct TcpProxyRow {
    pub(crate) id: String,
    pub(crate) domain: String,
    pub(crate) proxy_port: u16,
    pub(crate) application_port: u16,
    pub(crate) service_id: String,
    pub(crate) environment_id: String,
}

/// What the executor resolves fields on: a modelled object by id, or a piece of structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// `Query`, `Mutation`, `Subscription`.
    Root,
    User,
    Workspace(String),
    ExternalWorkspace(String),
    Project(String),
    Environment(String),
    Service(String),
    ServiceInstance(String),
    Volume(String),
    VolumeInstance(String),
    Backup(String),
    Deployment(String),
    Domain(String),
    /// `AllDomains` of one service instance: (service id, environment id).
    AllDomains(String, String),
    /// `DomainWithStatus` of one domain.
    DomainStatus(String),
    TcpProxy(String),
    /// The deployment snapshot of a deployment (by the deployment's id).
    Snapshot(String),
    /// The patch staged in an environment (by the environment's id).
    StagedPatch(String),
    /// A committed patch (by its id).
    CommittedPatch(String),
    Variable {
        environment: String,
        service: Option<String>,
        name: String,
    },
    /// A Relay connection over these nodes.
    Connection(Vec<Node>),
    /// One edge: its node and position.
    Edge(Box<Node>, usize),
}

fn value(value: impl Into<Value>) -> Result<Resolved<Node>, FieldError> {
    Ok(Resolved::Value(value.into()))
}

fn object(node: Node) -> Result<Resolved<Node>, FieldError> {
    Ok(Resolved::Object(node))
}

fn list(nodes: Vec<Node>) -> Result<Resolved<Node>, FieldError> {
    Ok(Resolved::List(
        nodes.into_iter().map(Resolved::Object).collect(),
    ))
}

fn connection(nodes: Vec<Node>) -> Result<Resolved<Node>, FieldError> {
    Ok(Resolved::Object(Node::Connection(nodes)))
}

fn generic() -> Result<Resolved<Node>, FieldError> {
    Ok(Resolved::Generic)
}

fn string_argument<'a>(arguments: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    arguments.get(name).and_then(Value::as_str)
}

impl Resolver for Model {
    type Source = Node;

    fn root(&self) -> Node {
        Node::Root
    }

    fn type_name(&self, source: &Node) -> Option<&'static str> {
        Some(match source {
            Node::User => "User",
            Node::Workspace(_) => "Workspace",
            Node::ExternalWorkspace(_) => "ExternalWorkspace",
            Node::Project(_) => "Project",
            Node::Environment(_) => "Environment",
            Node::Service(_) => "Service",
            Node::ServiceInstance(_) => "ServiceInstance",
            Node::Volume(_) => "Volume",
            Node::VolumeInstance(_) => "VolumeInstance",
            Node::Backup(_) => "VolumeInstanceBackup",
            Node::Deployment(_) => "Deployment",
            Node::Domain(id) => {
                if self
                    .domains
                    .iter()
                    .any(|domain| domain.id == *id && domain.custom)
                {
                    "CustomDomain"
                } else {
                    "ServiceDomain"
                }
            }
            Node::AllDomains(..) => "AllDomains",
            Node::DomainStatus(_) => "DomainWithStatus",
            Node::TcpProxy(_) => "TCPProxy",
            Node::Snapshot(_) => "DeploymentSnapshot",
            Node::StagedPatch(_) | Node::CommittedPatch(_) => "EnvironmentPatch",
            Node::Variable { .. } => "Variable",
            Node::Root | Node::Connection(_) | Node::Edge(..) => return None,
        })
    }

    fn resolve(
        &mut self,
        parent: &'static str,
        source: &Node,
        field: &'static str,
        arguments: &Map<String, Value>,
        returns: &TypeRef,
    ) -> Result<Resolved<Node>, FieldError> {
        match source {
            Node::Root => match parent {
                "Query" => self.query(field, arguments),
                "Mutation" => self.mutation(field, arguments, returns),
                _ => generic(),
            },
            Node::Connection(nodes) => match field {
                "edges" => Ok(Resolved::List(
                    nodes
                        .iter()
                        .enumerate()
                        .map(|(at, node)| Resolved::Object(Node::Edge(Box::new(node.clone()), at)))
                        .collect(),
                )),
                "pageInfo" => value(json!({
                    "hasNextPage": false,
                    "hasPreviousPage": false,
                    "startCursor": if nodes.is_empty() { Value::Null } else { json!("0") },
                    "endCursor": nodes.len().checked_sub(1).map_or(Value::Null, |last| json!(last.to_string())),
                })),
                _ => generic(),
            },
            Node::Edge(node, at) => match field {
                "node" => object((**node).clone()),
                "cursor" => value(at.to_string()),
                _ => generic(),
            },
            Node::User => self.user_field(field),
            Node::Workspace(id) => self.workspace_field(id, field, false),
            Node::ExternalWorkspace(id) => self.workspace_field(id, field, true),
            Node::Project(id) => self.project_field(id, field, arguments),
            Node::Environment(id) => self.environment_field(id, field, arguments),
            Node::Service(id) => self.service_field(id, field),
            Node::ServiceInstance(id) => self.instance_field(id, field),
            Node::Volume(id) => self.volume_field(id, field),
            Node::VolumeInstance(id) => self.volume_instance_field(id, field),
            Node::Backup(id) => self.backup_field(id, field),
            Node::Deployment(id) => self.deployment_field(id, field),
            Node::Domain(id) => self.domain_field(id, field),
            Node::AllDomains(service, environment) => {
                let custom = match field {
                    "customDomains" => true,
                    "serviceDomains" => false,
                    _ => return generic(),
                };
                list(
                    self.domains
                        .iter()
                        .filter(|domain| {
                            domain.custom == custom
                                && domain.service_id == *service
                                && domain.environment_id == *environment
                        })
                        .map(|domain| Node::Domain(domain.id.clone()))
                        .collect(),
                )
            }
            Node::DomainStatus(id) => match field {
                "domain" => object(Node::Domain(id.clone())),
                "certificateStatus" => value("VALID"),
                _ => generic(),
            },
            Node::TcpProxy(id) => self.tcp_proxy_field(id, field),
            Node::Snapshot(id) => self.snapshot_field(id, field),
            Node::StagedPatch(environment) => {
                let patch = self.staged.get(environment).cloned().unwrap_or(json!({}));
                patch_field(
                    &format!("staged-{environment}"),
                    environment,
                    &patch,
                    None,
                    true,
                    field,
                    arguments,
                )
            }
            Node::CommittedPatch(id) => match self.committed.iter().find(|row| row.id == *id) {
                Some(row) => patch_field(
                    &row.id,
                    &row.environment_id,
                    &row.patch,
                    row.message.as_deref(),
                    false,
                    field,
                    arguments,
                ),
                None => Ok(Resolved::Null),
            },
            Node::Variable {
                environment,
                service,
                name,
            } => self.variable_field(environment, service.as_deref(), name, field),
        }
    }
}

impl Model {
    fn query(
        &mut self,
        field: &'static str,
        arguments: &Map<String, Value>,
    ) -> Result<Resolved<Node>, FieldError> {
        let argument = |name: &str| string_argument(arguments, name).unwrap_or_default();
        match field {
            "me" => object(Node::User),
            "workspace" => {
                let id = argument("workspaceId");
                self.workspaces
                    .iter()
                    .find(|workspace| workspace.id == id)
                    .map(|workspace| Resolved::Object(Node::Workspace(workspace.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Workspace"))
            }
            "externalWorkspaces" => {
                let project = string_argument(arguments, "projectId");
                list(
                    self.workspaces
                        .iter()
                        .filter(|workspace| {
                            project.is_none_or(|project| {
                                self.projects.iter().any(|row| {
                                    row.id == project && row.workspace_id == workspace.id
                                })
                            })
                        })
                        .map(|workspace| Node::ExternalWorkspace(workspace.id.clone()))
                        .collect(),
                )
            }
            "project" => self.find_project(argument("id")),
            "projects" => {
                let workspace = string_argument(arguments, "workspaceId");
                connection(
                    self.projects
                        .iter()
                        .filter(|project| workspace.is_none_or(|id| project.workspace_id == id))
                        .map(|project| Node::Project(project.id.clone()))
                        .collect(),
                )
            }
            "projectsByIds" => {
                let ids: Vec<&str> = arguments
                    .get("ids")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                list(
                    self.projects
                        .iter()
                        .filter(|project| ids.contains(&project.id.as_str()))
                        .map(|project| Node::Project(project.id.clone()))
                        .collect(),
                )
            }
            "environment" => {
                let id = argument("id");
                let project = string_argument(arguments, "projectId");
                self.environments
                    .iter()
                    .find(|environment| {
                        environment.id == id
                            && project.is_none_or(|project| environment.project_id == project)
                    })
                    .map(|environment| Resolved::Object(Node::Environment(environment.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Environment"))
            }
            "environments" => {
                let project = argument("projectId");
                if arguments.get("isEphemeral") == Some(&Value::Bool(true)) {
                    return connection(Vec::new());
                }
                connection(self.environment_nodes(project))
            }
            "service" => {
                let id = argument("id");
                self.services
                    .iter()
                    .find(|service| service.id == id)
                    .map(|service| Resolved::Object(Node::Service(service.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Service"))
            }
            "serviceInstance" => {
                let (environment, service) = (argument("environmentId"), argument("serviceId"));
                self.service_instances
                    .iter()
                    .find(|instance| {
                        instance.environment_id == environment && instance.service_id == service
                    })
                    .map(|instance| Resolved::Object(Node::ServiceInstance(instance.id.clone())))
                    .ok_or_else(|| FieldError::not_found("ServiceInstance"))
            }
            "deployment" => {
                let id = argument("id");
                self.deployments
                    .iter()
                    .find(|deployment| deployment.id == id)
                    .map(|deployment| Resolved::Object(Node::Deployment(deployment.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Deployment"))
            }
            "deploymentSnapshot" => {
                let id = argument("deploymentId");
                Ok(self
                    .deployments
                    .iter()
                    .find(|deployment| deployment.id == id)
                    .map_or(Resolved::Null, |deployment| {
                        Resolved::Object(Node::Snapshot(deployment.id.clone()))
                    }))
            }
            "environmentStagedChanges" => {
                let environment = argument("environmentId");
                if !self.environments.iter().any(|row| row.id == environment) {
                    return Err(FieldError::not_found("Environment"));
                }
                object(Node::StagedPatch(environment.to_owned()))
            }
            "environmentPatch" => {
                let id = argument("id");
                if let Some(environment) = id.strip_prefix("staged-")
                    && self.staged.contains_key(environment)
                {
                    return object(Node::StagedPatch(environment.to_owned()));
                }
                self.committed
                    .iter()
                    .find(|row| row.id == id)
                    .map(|row| Resolved::Object(Node::CommittedPatch(row.id.clone())))
                    .ok_or_else(|| FieldError::not_found("EnvironmentPatch"))
            }
            "environmentPatches" => {
                let environment = argument("environmentId");
                connection(
                    self.committed
                        .iter()
                        .filter(|row| row.environment_id == environment)
                        .map(|row| Node::CommittedPatch(row.id.clone()))
                        .collect(),
                )
            }
            "deployments" => {
                let input = arguments.get("input").and_then(Value::as_object);
                let wanted = |name: &str| input.and_then(|input| string_argument(input, name));
                let (project, environment, service) = (
                    wanted("projectId"),
                    wanted("environmentId"),
                    wanted("serviceId"),
                );
                connection(
                    self.deployments
                        .iter()
                        .filter(|deployment| {
                            project.is_none_or(|id| deployment.project_id == id)
                                && environment.is_none_or(|id| deployment.environment_id == id)
                                && service.is_none_or(|id| deployment.service_id == id)
                        })
                        .map(|deployment| Node::Deployment(deployment.id.clone()))
                        .collect(),
                )
            }
            "domains" => object(Node::AllDomains(
                argument("serviceId").to_owned(),
                argument("environmentId").to_owned(),
            )),
            "customDomain" => {
                let (id, project) = (argument("id"), argument("projectId"));
                self.domains
                    .iter()
                    .find(|domain| domain.custom && domain.id == id && domain.project_id == project)
                    .map(|domain| Resolved::Object(Node::Domain(domain.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Custom domain"))
            }
            "domainStatus" => {
                let (id, project) = (argument("id"), argument("projectId"));
                self.domains
                    .iter()
                    .find(|domain| domain.id == id && domain.project_id == project)
                    .map(|domain| Resolved::Object(Node::DomainStatus(domain.id.clone())))
                    .ok_or_else(|| FieldError::not_found("Domain"))
            }
            "tcpProxies" => {
                let (environment, service) = (argument("environmentId"), argument("serviceId"));
                list(
                    self.tcp_proxies
                        .iter()
                        .filter(|proxy| {
                            proxy.environment_id == environment && proxy.service_id == service
                        })
                        .map(|proxy| Node::TcpProxy(proxy.id.clone()))
                        .collect(),
                )
            }
            "volumeInstance" => {
                let id = argument("id");
                self.volume_instances
                    .iter()
                    .find(|instance| instance.id == id)
                    .map(|instance| Resolved::Object(Node::VolumeInstance(instance.id.clone())))
                    .ok_or_else(|| FieldError::not_found("VolumeInstance"))
            }
            "volumeInstanceBackupList" => {
                let id = argument("volumeInstanceId");
                if !self
                    .volume_instances
                    .iter()
                    .any(|instance| instance.id == id)
                {
                    return Err(FieldError::not_found("VolumeInstance"));
                }
                list(
                    self.backups
                        .iter()
                        .filter(|backup| backup.volume_instance_id == id)
                        .map(|backup| Node::Backup(backup.id.clone()))
                        .collect(),
                )
            }
            "variables" | "variablesForServiceDeployment" => {
                let environment = argument("environmentId");
                let service = string_argument(arguments, "serviceId");
                value(json!(self.merged_variables(environment, service)))
            }
            _ => generic(),
        }
    }

    /// Shared variables overlaid with the service's.
    fn merged_variables(
        &self,
        environment: &str,
        service: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut merged = self
            .variables
            .get(&(environment.to_owned(), None))
            .cloned()
            .unwrap_or_default();
        if let Some(service) = service
            && let Some(values) = self
                .variables
                .get(&(environment.to_owned(), Some(service.to_owned())))
        {
            merged.extend(values.clone());
        }
        merged
    }

    fn find_project(&self, id: &str) -> Result<Resolved<Node>, FieldError> {
        self.projects
            .iter()
            .find(|project| project.id == id)
            .map(|project| Resolved::Object(Node::Project(project.id.clone())))
            .ok_or_else(|| FieldError::not_found("Project"))
    }

    fn environment_nodes(&self, project: &str) -> Vec<Node> {
        self.environments
            .iter()
            .filter(|environment| environment.project_id == project)
            .map(|environment| Node::Environment(environment.id.clone()))
            .collect()
    }

    fn project_nodes(&self, workspace: Option<&str>) -> Vec<Node> {
        self.projects
            .iter()
            .filter(|project| workspace.is_none_or(|id| project.workspace_id == id))
            .map(|project| Node::Project(project.id.clone()))
            .collect()
    }

    fn user_field(&self, field: &str) -> Result<Resolved<Node>, FieldError> {
        match field {
            "id" => value(self.user.id.clone()),
            "name" => value(self.user.name.clone()),
            "email" => value(self.user.email.clone()),
            "username" => value("sim"),
            "workspaces" => list(
                self.workspaces
                    .iter()
                    .map(|workspace| Node::Workspace(workspace.id.clone()))
                    .collect(),
            ),
            "workspace" => match self.workspaces.first() {
                Some(workspace) => object(Node::Workspace(workspace.id.clone())),
                None => Ok(Resolved::Null),
            },
            "projects" => connection(self.project_nodes(None)),
            "has2FA" | "isAdmin" | "isConductor" => value(false),
            "isVerified" | "agreedFairUse" => value(true),
            _ => generic(),
        }
    }

    /// `Workspace` or (`external`) `ExternalWorkspace`.
    fn workspace_field(
        &self,
        id: &str,
        field: &str,
        external: bool,
    ) -> Result<Resolved<Node>, FieldError> {
        let Some(workspace) = self.workspaces.iter().find(|workspace| workspace.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(workspace.id.clone()),
            "name" => value(workspace.name.clone()),
            // `Workspace.projects` is a connection, `ExternalWorkspace.projects` a list.
            "projects" if external => list(self.project_nodes(Some(id))),
            "projects" => connection(self.project_nodes(Some(id))),
            "projectCount" => value(self.project_nodes(Some(id)).len()),
            "teamId" | "team" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn project_field(
        &self,
        id: &str,
        field: &str,
        arguments: &Map<String, Value>,
    ) -> Result<Resolved<Node>, FieldError> {
        let Some(project) = self.projects.iter().find(|project| project.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(project.id.clone()),
            "name" => value(project.name.clone()),
            "workspaceId" => value(project.workspace_id.clone()),
            "workspace" => object(Node::Workspace(project.workspace_id.clone())),
            "deletedAt" => value(if project.deletion_scheduled {
                json!("2026-01-03T00:00:00.000Z")
            } else {
                Value::Null
            }),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "description" | "teamId" | "team" | "baseEnvironment" | "baseEnvironmentId" => {
                Ok(Resolved::Null)
            }
            "isPublic" | "isTempProject" | "prDeploys" | "botPrEnvironments" => value(false),
            "primaryEnvironmentId" => Ok(self
                .environments
                .iter()
                .find(|environment| {
                    environment.project_id == id && environment.name == "production"
                })
                .map_or(Resolved::Null, |environment| {
                    Resolved::Value(json!(environment.id))
                })),
            "environments" => {
                if arguments.get("isEphemeral") == Some(&Value::Bool(true)) {
                    return connection(Vec::new());
                }
                connection(self.environment_nodes(id))
            }
            "services" => connection(
                self.services
                    .iter()
                    .filter(|service| service.project_id == id)
                    .map(|service| Node::Service(service.id.clone()))
                    .collect(),
            ),
            "volumes" => connection(
                self.volumes
                    .iter()
                    .filter(|volume| volume.project_id == id)
                    .map(|volume| Node::Volume(volume.id.clone()))
                    .collect(),
            ),
            "deployments" => connection(
                self.deployments
                    .iter()
                    .filter(|deployment| deployment.project_id == id)
                    .map(|deployment| Node::Deployment(deployment.id.clone()))
                    .collect(),
            ),
            _ => generic(),
        }
    }

    fn environment_field(
        &self,
        id: &str,
        field: &str,
        arguments: &Map<String, Value>,
    ) -> Result<Resolved<Node>, FieldError> {
        let Some(environment) = self
            .environments
            .iter()
            .find(|environment| environment.id == id)
        else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(environment.id.clone()),
            "name" => value(environment.name.clone()),
            "projectId" => value(environment.project_id.clone()),
            "canAccess" => value(true),
            "isEphemeral" => value(false),
            "deletedAt" | "sourceEnvironment" | "meta" => Ok(Resolved::Null),
            "unmergedChangesCount" => value(0),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "config" => {
                let decrypt = arguments.get("decryptVariables") == Some(&Value::Bool(true));
                value(self.environment_config(id, decrypt))
            }
            "configEtag" => value(format!("etag-{id}")),
            "serviceInstances" => connection(
                self.service_instances
                    .iter()
                    .filter(|instance| instance.environment_id == id)
                    .map(|instance| Node::ServiceInstance(instance.id.clone()))
                    .collect(),
            ),
            "volumeInstances" => connection(
                self.volume_instances
                    .iter()
                    .filter(|instance| instance.environment_id == id)
                    .map(|instance| Node::VolumeInstance(instance.id.clone()))
                    .collect(),
            ),
            "deployments" => connection(
                self.deployments
                    .iter()
                    .filter(|deployment| deployment.environment_id == id)
                    .map(|deployment| Node::Deployment(deployment.id.clone()))
                    .collect(),
            ),
            "variables" => connection(
                self.variables
                    .iter()
                    .filter(|((environment, _), _)| environment == id)
                    .flat_map(|((environment, service), values)| {
                        values.keys().map(|name| Node::Variable {
                            environment: environment.clone(),
                            service: service.clone(),
                            name: name.clone(),
                        })
                    })
                    .collect(),
            ),
            _ => generic(),
        }
    }

    /// The environment's config, roughly as Railway's `EnvironmentConfig` JSON.
    fn environment_config(&self, id: &str, decrypt: bool) -> Value {
        let variables = |values: Option<&BTreeMap<String, String>>| -> Value {
            Value::Object(
                values
                    .into_iter()
                    .flatten()
                    .map(|(name, secret)| {
                        let entry = if decrypt {
                            json!({"value": secret})
                        } else {
                            json!({})
                        };
                        (name.clone(), entry)
                    })
                    .collect(),
            )
        };
        let mut services = Map::new();
        for instance in self
            .service_instances
            .iter()
            .filter(|instance| instance.environment_id == id)
        {
            let mounts: Map<String, Value> = self
                .volume_instances
                .iter()
                .filter(|volume| {
                    volume.environment_id == id
                        && volume.service_id.as_deref() == Some(&instance.service_id)
                })
                .map(|volume| {
                    (
                        volume.volume_id.clone(),
                        json!({"mountPath": volume.mount_path}),
                    )
                })
                .collect();
            let image = self
                .services
                .iter()
                .find(|service| service.id == instance.service_id)
                .and_then(|service| service.image.clone());
            services.insert(
                instance.service_id.clone(),
                json!({
                    "source": {"image": image},
                    "deploy": {"numReplicas": 1},
                    "variables": variables(self.variables.get(&(id.to_owned(), Some(instance.service_id.clone())))),
                    "volumeMounts": mounts,
                }),
            );
        }
        let volumes: Map<String, Value> = self
            .volume_instances
            .iter()
            .filter(|volume| volume.environment_id == id)
            .map(|volume| (volume.volume_id.clone(), json!({"sizeMB": 5000})))
            .collect();
        json!({
            "services": services,
            "sharedVariables": variables(self.variables.get(&(id.to_owned(), None))),
            "volumes": volumes,
        })
    }

    fn service_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(service) = self.services.iter().find(|service| service.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(service.id.clone()),
            "name" => value(service.name.clone()),
            "projectId" => value(service.project_id.clone()),
            "project" => object(Node::Project(service.project_id.clone())),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "deletedAt" | "icon" | "groupId" | "templateId" | "templateServiceId" => {
                Ok(Resolved::Null)
            }
            "serviceInstances" => connection(
                self.service_instances
                    .iter()
                    .filter(|instance| instance.service_id == id)
                    .map(|instance| Node::ServiceInstance(instance.id.clone()))
                    .collect(),
            ),
            "deployments" => connection(
                self.deployments
                    .iter()
                    .filter(|deployment| deployment.service_id == id)
                    .map(|deployment| Node::Deployment(deployment.id.clone()))
                    .collect(),
            ),
            _ => generic(),
        }
    }

    fn instance_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(instance) = self
            .service_instances
            .iter()
            .find(|instance| instance.id == id)
        else {
            return Ok(Resolved::Null);
        };
        let service = self
            .services
            .iter()
            .find(|service| service.id == instance.service_id);
        let deployments: Vec<Node> = self
            .deployments
            .iter()
            .filter(|deployment| {
                deployment.service_id == instance.service_id
                    && deployment.environment_id == instance.environment_id
            })
            .map(|deployment| Node::Deployment(deployment.id.clone()))
            .collect();
        match field {
            "id" => value(instance.id.clone()),
            "serviceId" => value(instance.service_id.clone()),
            "environmentId" => value(instance.environment_id.clone()),
            "serviceName" => value(
                service
                    .map(|service| service.name.clone())
                    .unwrap_or_default(),
            ),
            "service" => object(Node::Service(instance.service_id.clone())),
            "latestDeployment" => Ok(deployments
                .last()
                .cloned()
                .map_or(Resolved::Null, Resolved::Object)),
            "activeDeployments" => list(deployments),
            "domains" => object(Node::AllDomains(
                instance.service_id.clone(),
                instance.environment_id.clone(),
            )),
            "source" => value(json!({
                "image": service.and_then(|service| service.image.clone()),
                "repo": if service.is_some_and(|service| service.image.is_none()) { json!("pocketos/api") } else { Value::Null },
            })),
            "numReplicas" => value(1),
            "region" => value("us-west2"),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "isUpdatable" => value(false),
            "restartPolicyMaxRetries" => value(10),
            "restartPolicyType" => value("ON_FAILURE"),
            "builder" => value("RAILPACK"),
            "deletedAt" | "cronSchedule" | "nextCronRunAt" | "startCommand" | "buildCommand"
            | "rootDirectory" | "healthcheckPath" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn volume_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(volume) = self.volumes.iter().find(|volume| volume.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(volume.id.clone()),
            "name" => value(volume.name.clone()),
            "projectId" => value(volume.project_id.clone()),
            "project" => object(Node::Project(volume.project_id.clone())),
            "createdAt" => value(CREATED_AT),
            "volumeInstances" => connection(
                self.volume_instances
                    .iter()
                    .filter(|instance| instance.volume_id == id)
                    .map(|instance| Node::VolumeInstance(instance.id.clone()))
                    .collect(),
            ),
            _ => generic(),
        }
    }

    fn volume_instance_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(instance) = self
            .volume_instances
            .iter()
            .find(|instance| instance.id == id)
        else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(instance.id.clone()),
            "volumeId" => value(instance.volume_id.clone()),
            "environmentId" => value(instance.environment_id.clone()),
            "serviceId" => value(instance.service_id.clone()),
            "mountPath" => value(instance.mount_path.clone()),
            "volume" => object(Node::Volume(instance.volume_id.clone())),
            "environment" => object(Node::Environment(instance.environment_id.clone())),
            "service" => Ok(instance
                .service_id
                .clone()
                .map_or(Resolved::Null, |service| {
                    Resolved::Object(Node::Service(service))
                })),
            "currentSizeMB" => value(512.0),
            "sizeMB" => value(5000),
            "state" => value("READY"),
            "isPendingDeletion" => value(false),
            "region" => value("us-west2"),
            "createdAt" => value(CREATED_AT),
            "deletedAt" | "externalId" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn backup_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(backup) = self.backups.iter().find(|backup| backup.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(backup.id.clone()),
            "name" => value(backup.name.clone()),
            "externalId" => value(format!("ext-{}", backup.id)),
            "createdAt" => value(CREATED_AT),
            "usedMB" | "referencedMB" | "volumeInstanceSizeMB" => value(512),
            "expiresAt" | "creatorId" | "scheduleId" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn deployment_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(deployment) = self
            .deployments
            .iter()
            .find(|deployment| deployment.id == id)
        else {
            return Ok(Resolved::Null);
        };
        let url = self
            .domains
            .iter()
            .find(|domain| {
                !domain.custom
                    && domain.service_id == deployment.service_id
                    && domain.environment_id == deployment.environment_id
            })
            .map(|domain| domain.domain.clone());
        match field {
            "id" => value(deployment.id.clone()),
            "status" => value("SUCCESS"),
            "serviceId" => value(deployment.service_id.clone()),
            "environmentId" => value(deployment.environment_id.clone()),
            "projectId" => value(deployment.project_id.clone()),
            "service" => object(Node::Service(deployment.service_id.clone())),
            "environment" => object(Node::Environment(deployment.environment_id.clone())),
            "createdAt" | "updatedAt" | "statusUpdatedAt" => value(CREATED_AT),
            "canRedeploy" | "canRollback" => value(true),
            "deploymentStopped" | "suggestAddServiceDomain" => value(false),
            "url" | "staticUrl" => {
                Ok(url.map_or(Resolved::Null, |url| Resolved::Value(json!(url))))
            }
            "meta" => value(json!({})),
            "snapshotId" | "diagnosis" | "creator" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn domain_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(domain) = self.domains.iter().find(|domain| domain.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(domain.id.clone()),
            "domain" => value(domain.domain.clone()),
            "serviceId" => value(domain.service_id.clone()),
            "environmentId" => value(domain.environment_id.clone()),
            "projectId" => value(domain.project_id.clone()),
            "targetPort" => value(domain.target_port),
            "suffix" if !domain.custom => value("up.railway.app"),
            "syncStatus" => value("ACTIVE"),
            "isRailwayDomain" => value(false),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "deletedAt" | "cdnMode" | "edgeId" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn tcp_proxy_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(proxy) = self.tcp_proxies.iter().find(|proxy| proxy.id == id) else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(proxy.id.clone()),
            "domain" => value(proxy.domain.clone()),
            "proxyPort" => value(proxy.proxy_port),
            "applicationPort" => value(proxy.application_port),
            "serviceId" => value(proxy.service_id.clone()),
            "environmentId" => value(proxy.environment_id.clone()),
            "syncStatus" => value("ACTIVE"),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "deletedAt" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn variable_field(
        &self,
        environment: &str,
        service: Option<&str>,
        name: &str,
        field: &str,
    ) -> Result<Resolved<Node>, FieldError> {
        match field {
            "id" => value(format!(
                "var-{environment}-{}-{name}",
                service.unwrap_or("shared")
            )),
            "name" => value(name),
            "environmentId" => value(environment),
            "serviceId" => value(service),
            "environment" => object(Node::Environment(environment.to_owned())),
            "service" => Ok(service.map_or(Resolved::Null, |service| {
                Resolved::Object(Node::Service(service.to_owned()))
            })),
            "isSealed" => value(false),
            "references" => value(json!([])),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            "pluginId" => Ok(Resolved::Null),
            _ => generic(),
        }
    }

    fn mutation(
        &mut self,
        field: &'static str,
        arguments: &Map<String, Value>,
        returns: &TypeRef,
    ) -> Result<Resolved<Node>, FieldError> {
        let argument = |name: &str| {
            string_argument(arguments, name)
                .unwrap_or_default()
                .to_owned()
        };
        let input = arguments
            .get("input")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let input_string = |name: &str| string_argument(&input, name).map(str::to_owned);
        match field {
            "volumeDelete" => {
                let id = argument("volumeId");
                if !self.volumes.iter().any(|volume| volume.id == id) {
                    return Err(FieldError::not_found("Volume"));
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
                value(true)
            }
            "volumeInstanceBackupCreate" => {
                let id = argument("volumeInstanceId");
                if !self
                    .volume_instances
                    .iter()
                    .any(|instance| instance.id == id)
                {
                    return Err(FieldError::not_found("VolumeInstance"));
                }
                let backup_id = self.fresh_id("bak");
                let name = string_argument(arguments, "name")
                    .unwrap_or("manual")
                    .to_owned();
                self.backups.push(BackupRow {
                    id: backup_id.clone(),
                    name,
                    volume_instance_id: id,
                });
                value(json!({"__typename": "WorkflowId", "workflowId": format!("wf-{backup_id}")}))
            }
            "serviceDelete" => {
                let id = argument("id");
                if !self.services.iter().any(|service| service.id == id) {
                    return Err(FieldError::not_found("Service"));
                }
                self.services.retain(|service| service.id != id);
                self.service_instances
                    .retain(|instance| instance.service_id != id);
                self.deployments
                    .retain(|deployment| deployment.service_id != id);
                self.domains.retain(|domain| domain.service_id != id);
                self.tcp_proxies.retain(|proxy| proxy.service_id != id);
                self.variables
                    .retain(|(_, service), _| service.as_deref() != Some(id.as_str()));
                value(true)
            }
            "environmentDelete" => {
                let id = argument("id");
                if !self
                    .environments
                    .iter()
                    .any(|environment| environment.id == id)
                {
                    return Err(FieldError::not_found("Environment"));
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
                self.deployments
                    .retain(|deployment| deployment.environment_id != id);
                self.domains.retain(|domain| domain.environment_id != id);
                self.tcp_proxies.retain(|proxy| proxy.environment_id != id);
                self.variables
                    .retain(|(environment, _), _| *environment != id);
                value(true)
            }
            "environmentStageChanges" => {
                let environment = argument("environmentId");
                if !self.environments.iter().any(|row| row.id == environment) {
                    return Err(FieldError::not_found("Environment"));
                }
                let input = parse_config(arguments.get("input"))?;
                let merge = arguments.get("merge") == Some(&Value::Bool(true));
                let staged = self.staged.entry(environment.clone()).or_insert(json!({}));
                if merge {
                    merge_patch(staged, &input);
                } else {
                    *staged = input;
                }
                object(Node::StagedPatch(environment))
            }
            "environmentPatchCommit" | "environmentPatchCommitStaged" => {
                let environment = argument("environmentId");
                if !self.environments.iter().any(|row| row.id == environment) {
                    return Err(FieldError::not_found("Environment"));
                }
                let patch = if field == "environmentPatchCommit" {
                    parse_config(arguments.get("patch"))?
                } else {
                    self.staged.remove(&environment).unwrap_or(json!({}))
                };
                self.apply_patch(&environment, &patch);
                let id = self.fresh_id("patch");
                self.committed.push(PatchRow {
                    id: id.clone(),
                    environment_id: environment,
                    patch,
                    message: string_argument(arguments, "commitMessage").map(str::to_owned),
                });
                value(id)
            }
            "projectScheduleDelete" => {
                let id = argument("id");
                let project = self
                    .projects
                    .iter_mut()
                    .find(|project| project.id == id)
                    .ok_or_else(|| FieldError::not_found("Project"))?;
                project.deletion_scheduled = true;
                value(true)
            }
            "variableUpsert" | "variableCollectionUpsert" | "variableDelete" => {
                let environment = input_string("environmentId").unwrap_or_default();
                if !self.environments.iter().any(|row| row.id == environment) {
                    return Err(FieldError::not_found("Environment"));
                }
                let key = (environment, input_string("serviceId"));
                match field {
                    "variableUpsert" => {
                        let (Some(name), Some(secret)) =
                            (input_string("name"), input_string("value"))
                        else {
                            return Err(FieldError::not_found("Variable"));
                        };
                        self.variables.entry(key).or_default().insert(name, secret);
                    }
                    "variableCollectionUpsert" => {
                        let values = self.variables.entry(key).or_default();
                        if input.get("replace") == Some(&Value::Bool(true)) {
                            values.clear();
                        }
                        for (name, secret) in input
                            .get("variables")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                        {
                            let secret = match secret {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            };
                            values.insert(name.clone(), secret);
                        }
                    }
                    _ => {
                        let name = input_string("name").unwrap_or_default();
                        let removed = self
                            .variables
                            .get_mut(&key)
                            .and_then(|values| values.remove(&name));
                        if removed.is_none() {
                            return Err(FieldError::not_found("Variable"));
                        }
                    }
                }
                value(true)
            }
            _ => match returns {
                TypeRef::NonNull(inner) => match inner.as_ref() {
                    TypeRef::Named("Boolean") => value(true),
                    TypeRef::Named("String" | "ID") => value(self.fresh_id(field)),
                    _ => generic(),
                },
                _ => generic(),
            },
        }
    }

    fn snapshot_field(&self, id: &str, field: &str) -> Result<Resolved<Node>, FieldError> {
        let Some(deployment) = self
            .deployments
            .iter()
            .find(|deployment| deployment.id == id)
        else {
            return Ok(Resolved::Null);
        };
        match field {
            "id" => value(format!("snap-{id}")),
            // The variables the deployment runs with, in clear.
            "variables" => value(json!(
                self.merged_variables(&deployment.environment_id, Some(&deployment.service_id))
            )),
            "createdAt" | "updatedAt" => value(CREATED_AT),
            _ => generic(),
        }
    }

    /// Applies an `EnvironmentConfig` patch to `environment`: variables set (`{"value": …}`)
    /// or deleted (`null`), services and volumes removed from the environment (`null` or
    /// `isDeleted: true`) with what belongs to them there.
    fn apply_patch(&mut self, environment: &str, patch: &Value) {
        let set_variables = |variables: &mut BTreeMap<String, String>, changes: &Value| {
            for (name, change) in changes.as_object().into_iter().flatten() {
                match change.get("value") {
                    _ if change.is_null() => {
                        variables.remove(name);
                    }
                    Some(Value::String(text)) => {
                        variables.insert(name.clone(), text.clone());
                    }
                    Some(other) if !other.is_null() => {
                        variables.insert(name.clone(), other.to_string());
                    }
                    _ => {}
                }
            }
        };
        if let Some(changes) = patch.get("sharedVariables") {
            let shared = self
                .variables
                .entry((environment.to_owned(), None))
                .or_default();
            set_variables(shared, changes);
        }
        for (service, change) in patch
            .get("services")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if change.is_null() || change.get("isDeleted") == Some(&Value::Bool(true)) {
                self.service_instances.retain(|instance| {
                    !(instance.service_id == *service && instance.environment_id == environment)
                });
                self.deployments.retain(|deployment| {
                    !(deployment.service_id == *service && deployment.environment_id == environment)
                });
                self.domains.retain(|domain| {
                    !(domain.service_id == *service && domain.environment_id == environment)
                });
                self.tcp_proxies.retain(|proxy| {
                    !(proxy.service_id == *service && proxy.environment_id == environment)
                });
                self.variables
                    .remove(&(environment.to_owned(), Some(service.clone())));
                continue;
            }
            if let Some(changes) = change.get("variables") {
                let variables = self
                    .variables
                    .entry((environment.to_owned(), Some(service.clone())))
                    .or_default();
                set_variables(variables, changes);
            }
        }
        for (volume, change) in patch
            .get("volumes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if change.is_null() || change.get("isDeleted") == Some(&Value::Bool(true)) {
                let instances: Vec<String> = self
                    .volume_instances
                    .iter()
                    .filter(|instance| {
                        instance.volume_id == *volume && instance.environment_id == environment
                    })
                    .map(|instance| instance.id.clone())
                    .collect();
                self.volume_instances
                    .retain(|instance| !instances.contains(&instance.id));
                self.backups
                    .retain(|backup| !instances.contains(&backup.volume_instance_id));
            }
        }
    }

    pub(crate) fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-sim-{}", self.next_id)
    }
}

/// An `EnvironmentConfig` argument: a JSON object, or a string holding one.
fn parse_config(value: Option<&Value>) -> Result<Value, FieldError> {
    let parsed = match value {
        Some(Value::String(text)) => serde_json::from_str(text).ok(),
        Some(other) => Some(other.clone()),
        None => Some(json!({})),
    };
    parsed.filter(Value::is_object).ok_or_else(|| FieldError {
        message: "Invalid environment config".into(),
        code: "BAD_USER_INPUT",
    })
}

/// Merges `changes` into `patch`, objects key by key.
fn merge_patch(patch: &mut Value, changes: &Value) {
    match (patch, changes) {
        (Value::Object(patch), Value::Object(changes)) => {
            for (key, change) in changes {
                match patch.get_mut(key) {
                    Some(existing) if existing.is_object() && change.is_object() => {
                        merge_patch(existing, change);
                    }
                    _ => {
                        patch.insert(key.clone(), change.clone());
                    }
                }
            }
        }
        (patch, changes) => *patch = changes.clone(),
    }
}

/// `patch` with every variable's value removed (what a patch shows without decryption).
fn masked(patch: &Value) -> Value {
    let mask = |variables: &Value| -> Value {
        match variables {
            Value::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(name, entry)| {
                        let entry = match entry {
                            Value::Object(fields) => Value::Object(
                                fields
                                    .iter()
                                    .filter(|(key, _)| *key != "value")
                                    .map(|(key, inner)| (key.clone(), inner.clone()))
                                    .collect(),
                            ),
                            other => other.clone(),
                        };
                        (name.clone(), entry)
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    };
    let mut patch = patch.clone();
    if let Some(shared) = patch.get_mut("sharedVariables") {
        *shared = mask(shared);
    }
    if let Some(Value::Object(services)) = patch.get_mut("services") {
        for service in services.values_mut() {
            if let Some(variables) = service.get_mut("variables") {
                *variables = mask(variables);
            }
        }
    }
    patch
}

/// A field of an `EnvironmentPatch`.
fn patch_field(
    id: &str,
    environment: &str,
    patch: &Value,
    message: Option<&str>,
    staged: bool,
    field: &str,
    arguments: &Map<String, Value>,
) -> Result<Resolved<Node>, FieldError> {
    match field {
        "id" => value(id),
        "environmentId" => value(environment),
        "environment" => object(Node::Environment(environment.to_owned())),
        "status" => value(if staged { "STAGED" } else { "COMMITTED" }),
        "message" => value(message),
        "patch" => {
            if arguments.get("decryptVariables") == Some(&Value::Bool(true)) {
                value(patch.clone())
            } else {
                value(masked(patch))
            }
        }
        "createdAt" | "updatedAt" => value(CREATED_AT),
        "appliedAt" => value(if staged {
            Value::Null
        } else {
            json!(CREATED_AT)
        }),
        "lastAppliedError" | "appliedBy" => Ok(Resolved::Null),
        _ => generic(),
    }
}
