//! Which environments a Railway operation touches: the [`Topology`] of projects (environments,
//! volumes with their per-environment instances, services with theirs), the read-only queries
//! that fetch it from Railway, the parser of their responses, and [`targets_for`].
//!
//! The gateway does the IO: it sends [`TOPOLOGY_QUERY`] (or [`ALL_PROJECTS_TOPOLOGY_QUERY`])
//! upstream with the real credential, parses the answer with [`parse_topology_response`],
//! caches it, and refreshes on a miss. Environment names come only from the configured
//! [`EnvironmentMap`]; an id that is not configured, or a resource the topology does not know,
//! resolves to [`Environment::Unknown`], which policy never treats as production-safe.

use std::collections::BTreeMap;

use blastdoor_core::{Environment, EnvironmentName, Target};
use serde::Deserialize;

use crate::HttpError;
use crate::railway::ClassifiedField;

/// Fetches one project's topology. Variables: `{"projectId": "<id>"}`.
pub const TOPOLOGY_QUERY: &str = "query BlastdoorTopology($projectId: String!) {
  project(id: $projectId) { ...BlastdoorProject }
}
fragment BlastdoorProject on Project {
  id
  name
  environments { edges { node { id name } } }
  volumes { edges { node { id name volumeInstances { edges { node { id environmentId serviceId } } } } } }
  services { edges { node { id name serviceInstances { edges { node { id environmentId } } } } } }
}";

/// Fetches the topology of every project the credential can see: for a volume or service id
/// whose project is not configured (Railway has no `volume(id)` query).
pub const ALL_PROJECTS_TOPOLOGY_QUERY: &str = "query BlastdoorAllTopology {
  projects { edges { node { ...BlastdoorProject } } }
}
fragment BlastdoorProject on Project {
  id
  name
  environments { edges { node { id name } } }
  volumes { edges { node { id name volumeInstances { edges { node { id environmentId serviceId } } } } } }
  services { edges { node { id name serviceInstances { edges { node { id environmentId } } } } } }
}";

/// Fetches the changes staged in an environment (the patch `environmentPatchCommitStaged` would
/// commit). Variables: `{"environmentId": "<id>"}`; pass `data.environmentStagedChanges.patch`
/// to [`crate::railway::hidden::inspect_patch`].
pub const STAGED_CHANGES_QUERY: &str = "query BlastdoorStagedChanges($environmentId: String!) {
  environmentStagedChanges(environmentId: $environmentId) { id patch }
}";

/// Projects as Railway reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub projects: Vec<TopologyProject>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyProject {
    pub id: String,
    pub name: String,
    pub environments: Vec<TopologyEnvironment>,
    pub volumes: Vec<TopologyVolume>,
    pub services: Vec<TopologyService>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyEnvironment {
    pub id: String,
    pub name: String,
}

/// A volume and its instances, one per environment it exists in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyVolume {
    pub id: String,
    pub name: String,
    pub instances: Vec<TopologyInstance>,
}

/// A service and its instances, one per environment it exists in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyService {
    pub id: String,
    pub name: String,
    pub instances: Vec<TopologyInstance>,
}

/// A volume instance or service instance: the resource in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyInstance {
    pub id: String,
    pub environment_id: String,
}

impl Topology {
    /// Adds or replaces projects (by id), for a cache refreshed one project at a time.
    pub fn merge(&mut self, other: Topology) {
        for project in other.projects {
            self.projects.retain(|known| known.id != project.id);
            self.projects.push(project);
        }
    }

    pub fn project(&self, id: &str) -> Option<&TopologyProject> {
        self.projects.iter().find(|project| project.id == id)
    }

    pub fn volume(&self, id: &str) -> Option<&TopologyVolume> {
        self.projects
            .iter()
            .flat_map(|project| &project.volumes)
            .find(|volume| volume.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&TopologyService> {
        self.projects
            .iter()
            .flat_map(|project| &project.services)
            .find(|service| service.id == id)
    }

    /// The environment id of a volume instance.
    pub fn volume_instance_environment(&self, instance_id: &str) -> Option<&str> {
        self.projects
            .iter()
            .flat_map(|project| &project.volumes)
            .flat_map(|volume| &volume.instances)
            .find(|instance| instance.id == instance_id)
            .map(|instance| instance.environment_id.as_str())
    }

    /// True when the topology knows `id` as a volume, service, environment, project or
    /// volume instance: the gateway refreshes the topology when an id is unknown.
    pub fn knows(&self, id: &str) -> bool {
        self.projects.iter().any(|project| {
            project.id == id
                || project
                    .environments
                    .iter()
                    .any(|environment| environment.id == id)
                || project.volumes.iter().any(|volume| {
                    volume.id == id || volume.instances.iter().any(|instance| instance.id == id)
                })
                || project.services.iter().any(|service| service.id == id)
        })
    }
}

/// Configured environment names for Railway environment ids (`production = ["<env id>"]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentMap {
    by_id: BTreeMap<String, EnvironmentName>,
}

impl EnvironmentMap {
    /// Builds the map from configuration. An id listed under two names is refused: which
    /// environment it is would be ambiguous.
    pub fn new(
        names: impl IntoIterator<Item = (EnvironmentName, Vec<String>)>,
    ) -> Result<EnvironmentMap, HttpError> {
        let mut by_id = BTreeMap::new();
        for (name, ids) in names {
            for id in ids {
                if let Some(previous) = by_id.insert(id.clone(), name.clone())
                    && previous != name
                {
                    return Err(HttpError::InvalidTopology(format!(
                        "environment id `{id}` is configured as both `{}` and `{}`",
                        previous.as_str(),
                        name.as_str()
                    )));
                }
            }
        }
        Ok(EnvironmentMap { by_id })
    }

    /// The configured environment of a Railway environment id, or `Unknown`.
    pub fn environment(&self, environment_id: &str) -> Environment {
        match self.by_id.get(environment_id) {
            Some(name) => Environment::Named(name.clone()),
            None => Environment::Unknown,
        }
    }
}

/// Mutations that act on a whole project-level resource whatever `environmentId` they carry:
/// their targets span every environment the resource has an instance in.
const PROJECT_WIDE_FIELDS: &[&str] = &[
    "serviceConnect",
    "serviceDelete",
    "serviceDisconnect",
    "serviceUpdate",
    "templateVolumeUpdate",
    "volumeDelete",
    "volumeUpdate",
];

/// The resources `field` acts on, each with every environment it touches (sorted, no
/// duplicates). A field with no id gives one `account` target in an unknown environment.
pub fn targets_for<'a>(
    field: &'a ClassifiedField,
    topology: &'a Topology,
    environments: &EnvironmentMap,
) -> Vec<Target> {
    let kinds: Vec<(String, &str)> = field
        .ids
        .iter()
        .map(|(path, id)| (kind_of(path, &field.field), id.as_str()))
        .collect();
    let explicit_environments: Vec<&str> = kinds
        .iter()
        .filter(|(kind, _)| kind == "environment")
        .map(|(_, id)| *id)
        .collect();
    let scoped =
        !explicit_environments.is_empty() && !PROJECT_WIDE_FIELDS.contains(&field.field.as_str());
    let scope = |ids: Vec<&'a str>| -> Vec<&'a str> {
        if scoped {
            explicit_environments.clone()
        } else {
            ids
        }
    };
    // Resources the topology does not track (backups, deployments, domains) live where the
    // field says: its explicit environments, else those of its volume instances.
    let context: Vec<&str> = if explicit_environments.is_empty() {
        kinds
            .iter()
            .filter(|(kind, _)| kind == "volumeInstance")
            .filter_map(|(_, id)| topology.volume_instance_environment(id))
            .collect()
    } else {
        explicit_environments.clone()
    };

    let mut targets = Vec::new();
    for (kind, id) in &kinds {
        let environment_ids: Option<Vec<&str>> = match kind.as_str() {
            "environment" => Some(vec![*id]),
            "volume" => topology.volume(id).map(|volume| {
                scope(
                    volume
                        .instances
                        .iter()
                        .map(|i| i.environment_id.as_str())
                        .collect(),
                )
            }),
            "service" => topology.service(id).map(|service| {
                scope(
                    service
                        .instances
                        .iter()
                        .map(|i| i.environment_id.as_str())
                        .collect(),
                )
            }),
            "volumeInstance" => topology
                .volume_instance_environment(id)
                .map(|environment| vec![environment]),
            "project" => topology
                .project(id)
                .map(|project| scope(project.environments.iter().map(|e| e.id.as_str()).collect())),
            _ if !context.is_empty() => Some(context.clone()),
            _ => None,
        };
        let mut resolved: Vec<Environment> = match environment_ids {
            Some(ids) if !ids.is_empty() => ids
                .into_iter()
                .map(|environment_id| environments.environment(environment_id))
                .collect(),
            _ => vec![Environment::Unknown],
        };
        resolved.sort();
        resolved.dedup();
        targets.push(Target::new(kind.as_str(), *id, resolved).on_upstream("railway"));
    }
    if targets.is_empty() {
        targets.push(
            Target::new("account", field.field.clone(), vec![Environment::Unknown])
                .on_upstream("railway"),
        );
    }
    targets
}

/// The kind of resource an id argument names: `volumeId` → `volume`, `wipeServiceIds` →
/// `service`, `sourceEnvironmentId` → `environment`, `volumeInstanceBackupId` →
/// `volumeInstanceBackup`, a bare `id` from the mutation's name.
fn kind_of(path: &str, field: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("volumeinstanceid", "volumeInstance"),
        ("environmentid", "environment"),
        ("serviceid", "service"),
        ("volumeid", "volume"),
        ("projectid", "project"),
    ];
    let key = last_key(path);
    if key == "id" {
        return kind_of_bare_id(field).to_owned();
    }
    let singular = key
        .strip_suffix('s')
        .filter(|stem| stem.ends_with("Id"))
        .unwrap_or(key);
    let lowercase = singular.to_ascii_lowercase();
    match KNOWN.iter().find(|(suffix, _)| lowercase.ends_with(suffix)) {
        Some((_, kind)) => (*kind).to_owned(),
        None => singular.strip_suffix("Id").unwrap_or(singular).to_owned(),
    }
}

fn last_key(path: &str) -> &str {
    let without_index = path.split('[').next().unwrap_or(path);
    without_index.rsplit('.').next().unwrap_or(without_index)
}

/// The resource an argument named plain `id` refers to, from the mutation's name
/// (`serviceDelete(id)` → `service`).
fn kind_of_bare_id(field: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("environment", "environment"),
        ("projectToken", "projectToken"),
        ("project", "project"),
        ("serviceDomain", "serviceDomain"),
        ("service", "service"),
        ("volume", "volume"),
        ("deployment", "deployment"),
        ("customDomain", "customDomain"),
        ("workspace", "workspace"),
        ("bucket", "bucket"),
        ("sandbox", "sandbox"),
        ("template", "template"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| field.starts_with(prefix))
        .map_or("resource", |(_, kind)| kind)
}

/// Parses Railway's answer to [`TOPOLOGY_QUERY`] or [`ALL_PROJECTS_TOPOLOGY_QUERY`]. A response
/// with GraphQL `errors`, or without the expected data, is an error (the caller fails closed).
pub fn parse_topology_response(body: &[u8]) -> Result<Topology, HttpError> {
    let response: RawResponse = serde_json::from_slice(body)
        .map_err(|error| HttpError::InvalidTopology(error.to_string()))?;
    if let Some(errors) = response.errors
        && !errors.is_empty()
    {
        let message = errors
            .first()
            .and_then(|error| error.get("message"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or("upstream returned errors");
        return Err(HttpError::InvalidTopology(format!(
            "upstream error: {}",
            crate::railway::document::shorten(message)
        )));
    }
    let data = response
        .data
        .ok_or_else(|| HttpError::InvalidTopology("response has no data".into()))?;
    let raw_projects: Vec<RawProject> = match (data.project, data.projects) {
        (Some(project), _) => vec![project],
        (None, Some(projects)) => projects.edges.into_iter().map(|edge| edge.node).collect(),
        (None, None) => {
            return Err(HttpError::InvalidTopology(
                "response has neither `project` nor `projects`".into(),
            ));
        }
    };
    let projects = raw_projects
        .into_iter()
        .map(|project| TopologyProject {
            id: project.id,
            name: project.name,
            environments: project
                .environments
                .edges
                .into_iter()
                .map(|edge| TopologyEnvironment {
                    id: edge.node.id,
                    name: edge.node.name,
                })
                .collect(),
            volumes: project
                .volumes
                .edges
                .into_iter()
                .map(|edge| TopologyVolume {
                    id: edge.node.id,
                    name: edge.node.name,
                    instances: edge
                        .node
                        .volume_instances
                        .edges
                        .into_iter()
                        .map(|edge| TopologyInstance {
                            id: edge.node.id,
                            environment_id: edge.node.environment_id,
                        })
                        .collect(),
                })
                .collect(),
            services: project
                .services
                .edges
                .into_iter()
                .map(|edge| TopologyService {
                    id: edge.node.id,
                    name: edge.node.name,
                    instances: edge
                        .node
                        .service_instances
                        .edges
                        .into_iter()
                        .map(|edge| TopologyInstance {
                            id: edge.node.id,
                            environment_id: edge.node.environment_id,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(Topology { projects })
}

#[derive(Deserialize)]
struct RawResponse {
    data: Option<RawData>,
    errors: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawData {
    project: Option<RawProject>,
    projects: Option<Connection<RawProject>>,
}

#[derive(Deserialize)]
struct Connection<T> {
    edges: Vec<Edge<T>>,
}

#[derive(Deserialize)]
struct Edge<T> {
    node: T,
}

#[derive(Deserialize)]
struct RawProject {
    id: String,
    name: String,
    environments: Connection<RawNamed>,
    volumes: Connection<RawVolume>,
    services: Connection<RawService>,
}

#[derive(Deserialize)]
struct RawNamed {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVolume {
    id: String,
    name: String,
    volume_instances: Connection<RawInstance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawService {
    id: String,
    name: String,
    service_instances: Connection<RawInstance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInstance {
    id: String,
    environment_id: String,
}
