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
use crate::railway::{ClassifiedField, Reach};

/// Fetches one project's topology. Variables: `{"projectId": "<id>"}`.
pub const TOPOLOGY_QUERY: &str = "query BlastdoorTopology($projectId: String!) {
  project(id: $projectId) { ...BlastdoorProject }
}
fragment BlastdoorProject on Project {
  id
  name
  environments { edges { node { id name } } }
  volumes { edges { node { id name volumeInstances { edges { node { id environmentId serviceId } } } } } }
  services { edges { node { id name serviceInstances { edges { node { id environmentId domains { serviceDomains { id } customDomains { id } } } } } } } }
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
  services { edges { node { id name serviceInstances { edges { node { id environmentId domains { serviceDomains { id } customDomains { id } } } } } } } }
}";

/// Fetches the environment of one deployment (deployments are too many to list with the
/// topology). Variables: `{"id": "<deployment id>"}`; parse with [`parse_deployment_response`].
pub const DEPLOYMENT_QUERY: &str = "query BlastdoorDeployment($id: String!) {
  deployment(id: $id) { id environmentId }
}";

/// Fetches the changes staged in an environment (the patch `environmentPatchCommitStaged` would
/// commit). Variables: `{"environmentId": "<id>"}`; pass `data.environmentStagedChanges.patch`
/// to [`crate::railway::hidden::inspect_patch`].
pub const STAGED_CHANGES_QUERY: &str = "query BlastdoorStagedChanges($environmentId: String!) {
  environmentStagedChanges(environmentId: $environmentId) { id patch }
}";

/// Projects as Railway reports them, and the environments of single-environment resources
/// (domains, deployments) learnt from it or looked up one by one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    pub projects: Vec<TopologyProject>,
    /// `(kind, id)` → environment id, for resources that live in one environment and that the
    /// project lists do not hold (`("deployment", "dep-1")` → `"env-prod"`).
    pub resources: BTreeMap<(String, String), String>,
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
    /// Adds or replaces projects (by id), for a cache refreshed one project at a time, and
    /// adds the other's resources.
    pub fn merge(&mut self, other: Topology) {
        for project in other.projects {
            self.projects.retain(|known| known.id != project.id);
            self.projects.push(project);
        }
        self.resources.extend(other.resources);
    }

    /// Records the environment of a single-environment resource (a looked-up deployment).
    pub fn record_resource(&mut self, kind: &str, id: &str, environment_id: &str) {
        self.resources
            .insert((kind.to_owned(), id.to_owned()), environment_id.to_owned());
    }

    /// The environment a single-environment resource lives in, when known.
    pub fn resource_environment(&self, kind: &str, id: &str) -> Option<&str> {
        if kind == "serviceInstance" {
            return self
                .projects
                .iter()
                .flat_map(|project| &project.services)
                .flat_map(|service| &service.instances)
                .find(|instance| instance.id == id)
                .map(|instance| instance.environment_id.as_str());
        }
        if kind == "volumeInstance" {
            return self.volume_instance_environment(id);
        }
        self.resources
            .get(&(kind.to_owned(), id.to_owned()))
            .map(String::as_str)
    }

    /// The project an environment, service, volume, volume instance or recorded resource
    /// belongs to.
    fn project_of(&self, id: &str) -> Option<&TopologyProject> {
        let direct = self.projects.iter().find(|project| {
            project.id == id
                || project
                    .environments
                    .iter()
                    .any(|environment| environment.id == id)
                || project.volumes.iter().any(|volume| {
                    volume.id == id || volume.instances.iter().any(|instance| instance.id == id)
                })
                || project.services.iter().any(|service| {
                    service.id == id || service.instances.iter().any(|instance| instance.id == id)
                })
        });
        direct.or_else(|| {
            let (_, environment) = self
                .resources
                .iter()
                .find(|((_, resource), _)| resource == id)?;
            self.projects.iter().find(|project| {
                project
                    .environments
                    .iter()
                    .any(|known| &known.id == environment)
            })
        })
    }

    /// Every environment id of every project.
    fn all_environment_ids(&self) -> Vec<&str> {
        self.projects
            .iter()
            .flat_map(|project| &project.environments)
            .map(|environment| environment.id.as_str())
            .collect()
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
                || project.services.iter().any(|service| {
                    service.id == id || service.instances.iter().any(|instance| instance.id == id)
                })
        }) || self.resources.keys().any(|(_, resource)| resource == id)
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
    "projectDelete",
    "projectScheduleDelete",
    "projectScheduleDeleteForce",
    "projectTransfer",
    "projectTransferConfirm",
    "projectTransferInitiate",
    "projectTransferToTeam",
    "projectUpdate",
    "serviceConnect",
    "serviceDelete",
    "serviceDisconnect",
    "serviceUpdate",
    "templateVolumeUpdate",
    "volumeDelete",
    "volumeUpdate",
];

/// Kinds of resource that live in exactly one environment and that an id names on its own
/// (`deploymentRedeploy(id)`): their environment is looked up, never taken from an
/// `environmentId` the request states beside them.
pub const SINGLE_ENVIRONMENT_KINDS: &[&str] = &[
    "customDomain",
    "deployment",
    "deploymentInstance",
    "deploymentTrigger",
    "plugin",
    "serviceDomain",
    "serviceInstance",
    "tcpProxy",
    "volumeInstance",
    "volumeInstanceBackup",
];

/// The resources `field` acts on, each with every environment it touches (sorted, no
/// duplicates):
/// - a read that names no environment-bound record (`project(id)`, `projects`, `me`) reads
///   metadata that belongs to no one environment: one `metadata` target with no environment
///   (what it selects beneath is judged by its [`NestedFinding`](crate::railway::NestedFinding)s);
/// - an environment id is that environment; a volume instance, service instance or looked-up
///   resource (deployment, domain ...) is the environment it really lives in, unknown until
///   resolved; a volume, service or project is every environment it has an instance in,
///   narrowed to the request's own `environmentId` unless the mutation is project-wide or
///   applies to every environment;
/// - another resource (a bucket, a template) is the environment the request acts in (its
///   `environmentId`), else every environment of the project it names, else unknown.
///
/// Ids like `baseEnvironmentId` or `sourceEnvironmentId` are environments the field touches;
/// they never narrow it.
pub fn targets_for(
    field: &ClassifiedField,
    topology: &Topology,
    environments: &EnvironmentMap,
) -> Vec<Target> {
    let kinds: Vec<(String, &str, &str)> = field
        .ids
        .iter()
        .map(|(path, id)| (kind_of(path, &field.field), last_key(path), id.as_str()))
        .collect();
    if is_metadata_read(field, &kinds) {
        return vec![
            Target::new("metadata", field.field.clone(), Vec::new()).on_upstream("railway"),
        ];
    }
    let acting_in: Vec<&str> = kinds
        .iter()
        .filter(|(kind, key, _)| kind == "environment" && is_primary_environment_key(key))
        .map(|(_, _, id)| *id)
        .collect();
    let narrows = !acting_in.is_empty()
        && !field.all_environments
        && !PROJECT_WIDE_FIELDS.contains(&field.field.as_str());
    let scope = |ids: Vec<&str>| -> Vec<String> {
        let ids = if narrows {
            ids.into_iter()
                .filter(|id| acting_in.contains(id))
                .collect()
        } else {
            ids
        };
        ids.into_iter().map(str::to_owned).collect()
    };
    let project_of_field: Option<&TopologyProject> =
        kinds.iter().find_map(|(_, _, id)| topology.project_of(id));
    let volume_instance_context: Vec<&str> = kinds
        .iter()
        .filter(|(kind, _, _)| kind == "volumeInstance")
        .filter_map(|(_, _, id)| topology.volume_instance_environment(id))
        .collect();

    let mut targets = Vec::new();
    for (kind, _, id) in &kinds {
        let environment_ids: Option<Vec<String>> = match kind.as_str() {
            "environment" => Some(vec![(*id).to_owned()]),
            "volume" => topology
                .volume(id)
                .map(|volume| scope(instance_environments(&volume.instances))),
            "service" => topology
                .service(id)
                .map(|service| scope(instance_environments(&service.instances))),
            "project" => topology
                .project(id)
                .map(|project| scope(project_environments(project))),
            "volumeInstanceBackup" if !volume_instance_context.is_empty() => Some(
                volume_instance_context
                    .iter()
                    .map(|id| (*id).to_owned())
                    .collect(),
            ),
            single if SINGLE_ENVIRONMENT_KINDS.contains(&single) => topology
                .resource_environment(single, id)
                .map(|environment| vec![environment.to_owned()]),
            _ if field.all_environments => project_of_field
                .map(|project| project.environments.iter().map(|e| e.id.clone()).collect()),
            _ if !acting_in.is_empty() => {
                Some(acting_in.iter().map(|id| (*id).to_owned()).collect())
            }
            _ => project_of_field
                .map(|project| project.environments.iter().map(|e| e.id.clone()).collect()),
        };
        targets.push(
            Target::new(
                kind.as_str(),
                *id,
                resolve(environment_ids.unwrap_or_default(), environments),
            )
            .on_upstream("railway"),
        );
    }
    if targets.is_empty() {
        // A field that names nothing acts on the account: every environment it can see.
        let everything: Vec<String> = topology
            .all_environment_ids()
            .into_iter()
            .map(str::to_owned)
            .collect();
        targets.push(
            Target::new(
                "account",
                field.field.clone(),
                resolve(everything, environments),
            )
            .on_upstream("railway"),
        );
    }
    targets
}

/// One thing a field would do, with the resources and environments it touches: what the
/// gateway asks the token and policy about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedPart {
    pub risk: blastdoor_core::Risk,
    pub rule_id: blastdoor_core::RuleId,
    pub explanation: String,
    pub targets: Vec<Target>,
}

/// The parts of one classified field: the root field on its targets ([`targets_for`]), then
/// each nested finding on the environments its data lives in ([`reach_environments`]).
pub fn judged_parts(
    field: &ClassifiedField,
    topology: &Topology,
    environments: &EnvironmentMap,
) -> Vec<JudgedPart> {
    let mut parts = vec![JudgedPart {
        risk: field.risk,
        rule_id: field.rule_id.clone(),
        explanation: field.explanation.clone(),
        targets: targets_for(field, topology, environments),
    }];
    for finding in &field.nested {
        parts.push(JudgedPart {
            risk: finding.risk,
            rule_id: finding.rule_id.clone(),
            explanation: finding.explanation.clone(),
            targets: vec![
                Target::new(
                    "field",
                    format!("{}.{}", field.field, finding.path),
                    reach_environments(field, &finding.reach, topology, environments),
                )
                .on_upstream("railway"),
            ],
        });
    }
    parts
}

/// The environments that a nested finding's data lives in (see [`Reach`]), resolved.
pub fn reach_environments(
    field: &ClassifiedField,
    reach: &Reach,
    topology: &Topology,
    environments: &EnvironmentMap,
) -> Vec<Environment> {
    match reach {
        Reach::Environments(ids) => resolve(ids.clone(), environments),
        Reach::Root if pins_environment(field) => {
            let mut resolved: Vec<Environment> = targets_for(field, topology, environments)
                .into_iter()
                .flat_map(|target| target.environments)
                .collect();
            resolved.sort();
            resolved.dedup();
            if resolved.is_empty() {
                vec![Environment::Unknown]
            } else {
                resolved
            }
        }
        Reach::Root | Reach::Spanning => {
            let mut ids: Vec<String> = Vec::new();
            let mut unresolved = false;
            for (_, id) in &field.ids {
                match topology.project_of(id) {
                    Some(project) => {
                        ids.extend(project.environments.iter().map(|e| e.id.clone()));
                    }
                    None => unresolved = true,
                }
            }
            if field.ids.is_empty() {
                ids.extend(
                    topology
                        .all_environment_ids()
                        .into_iter()
                        .map(str::to_owned),
                );
            }
            let mut resolved = resolve(ids, environments);
            if unresolved {
                resolved.push(Environment::Unknown);
                resolved.sort();
                resolved.dedup();
            }
            resolved
        }
    }
}

/// Where the request states an environment that the resources it names do not live in: a
/// deployment or domain of production named with staging's `environmentId`, or a service
/// without an instance in the stated environment. `None` when everything agrees or cannot be
/// checked yet (an unresolved resource is judged unknown anyway).
pub fn environment_mismatch(field: &ClassifiedField, topology: &Topology) -> Option<String> {
    let stated: Vec<&str> = field
        .ids
        .iter()
        .filter(|(path, _)| {
            kind_of(path, &field.field) == "environment"
                && is_primary_environment_key(last_key(path))
        })
        .map(|(_, id)| id.as_str())
        .collect();
    if stated.is_empty() {
        return None;
    }
    for (path, id) in &field.ids {
        let kind = kind_of(path, &field.field);
        let lives_in: Option<Vec<&str>> = match kind.as_str() {
            "service" => topology
                .service(id)
                .map(|service| instance_environments(&service.instances)),
            "volume" => topology
                .volume(id)
                .map(|volume| instance_environments(&volume.instances)),
            "project" => topology.project(id).map(project_environments),
            single if SINGLE_ENVIRONMENT_KINDS.contains(&single) => topology
                .resource_environment(single, id)
                .map(|environment| vec![environment]),
            _ => None,
        };
        // A project the topology does not know, named beside an environment it knows to be
        // another project's.
        if kind == "project"
            && lives_in.is_none()
            && let Some(other) = stated
                .iter()
                .find_map(|environment| topology.project_of(environment))
            && other.id != *id
        {
            return Some(format!(
                "environment `{}` belongs to project `{}`, not `{}`",
                crate::railway::document::shorten(stated.first().copied().unwrap_or_default()),
                crate::railway::document::shorten(&other.id),
                crate::railway::document::shorten(id)
            ));
        }
        let Some(lives_in) = lives_in else { continue };
        // A service or volume with no instances yet (just created) cannot disagree.
        if lives_in.is_empty() {
            continue;
        }
        if let Some(wrong) = stated
            .iter()
            .find(|environment| !lives_in.contains(environment))
        {
            return Some(format!(
                "`{}` says environment `{}`, but {kind} `{}` does not live there",
                crate::railway::document::shorten(path),
                crate::railway::document::shorten(wrong),
                crate::railway::document::shorten(id)
            ));
        }
    }
    None
}

/// The ids of single-environment resources (deployments, domains ...) whose environment the
/// topology does not know yet: the gateway looks them up.
pub fn unresolved_resources(field: &ClassifiedField, topology: &Topology) -> Vec<(String, String)> {
    field
        .ids
        .iter()
        .map(|(path, id)| (kind_of(path, &field.field), id.clone()))
        .filter(|(kind, id)| {
            SINGLE_ENVIRONMENT_KINDS.contains(&kind.as_str())
                && kind != "volumeInstanceBackup"
                && topology.resource_environment(kind, id).is_none()
        })
        .collect()
}

/// True when the field's own arguments pin it to single environments (an environment id, or
/// a resource that lives in one).
fn pins_environment(field: &ClassifiedField) -> bool {
    field.ids.iter().any(|(path, _)| {
        let kind = kind_of(path, &field.field);
        (kind == "environment" && is_primary_environment_key(last_key(path)))
            || SINGLE_ENVIRONMENT_KINDS.contains(&kind.as_str())
    })
}

/// A read whose arguments pin no environment and whose result is not itself an
/// environment-bound record: project, service or account metadata.
fn is_metadata_read(field: &ClassifiedField, kinds: &[(String, &str, &str)]) -> bool {
    let returns_environment_data = field.returns.is_none_or(|returns| {
        returns == "Environment"
            || crate::railway::schema::railway()
                .map_or(true, |schema| schema.is_environment_bound(returns))
    });
    field.risk == blastdoor_core::Risk::Read
        && !returns_environment_data
        && !kinds.iter().any(|(kind, key, _)| {
            (kind == "environment" && is_primary_environment_key(key))
                || SINGLE_ENVIRONMENT_KINDS.contains(&kind.as_str())
        })
}

/// `environmentId` (or `environmentIds`, or the bare `id` of a field on an environment): the
/// environment a field acts in. Other keys that name environments (`baseEnvironmentId`,
/// `sourceEnvironmentId`) are environments touched, never the scope.
fn is_primary_environment_key(key: &str) -> bool {
    matches!(key, "environmentId" | "environmentIds" | "id")
}

/// The environment ids of a volume's or service's instances.
fn instance_environments(instances: &[TopologyInstance]) -> Vec<&str> {
    instances
        .iter()
        .map(|instance| instance.environment_id.as_str())
        .collect()
}

/// The environment ids of a project.
fn project_environments(project: &TopologyProject) -> Vec<&str> {
    project
        .environments
        .iter()
        .map(|environment| environment.id.as_str())
        .collect()
}

/// Configured names for environment ids, sorted and deduplicated; nothing resolved is
/// `Unknown`.
fn resolve(ids: Vec<String>, environments: &EnvironmentMap) -> Vec<Environment> {
    let mut resolved: Vec<Environment> = ids
        .iter()
        .map(|environment_id| environments.environment(environment_id))
        .collect();
    resolved.sort();
    resolved.dedup();
    if resolved.is_empty() {
        resolved.push(Environment::Unknown);
    }
    resolved
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
        ("volumeInstance", "volumeInstance"),
        ("volume", "volume"),
        ("deploymentTrigger", "deploymentTrigger"),
        ("deploymentInstance", "deploymentInstance"),
        ("deployment", "deployment"),
        ("tcpProxy", "tcpProxy"),
        ("plugin", "plugin"),
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
    let mut raw_projects: Vec<RawProject> = match (data.project, data.projects) {
        (Some(project), _) => vec![project],
        (None, Some(projects)) => projects.edges.into_iter().map(|edge| edge.node).collect(),
        (None, None) => {
            return Err(HttpError::InvalidTopology(
                "response has neither `project` nor `projects`".into(),
            ));
        }
    };
    // Domains live in the environment of the service instance that lists them.
    let domains: Vec<(String, RawDomains)> = raw_projects
        .iter_mut()
        .flat_map(|project| project.services.edges.iter_mut())
        .flat_map(|edge| edge.node.service_instances.edges.iter_mut())
        .filter_map(|edge| {
            edge.node
                .domains
                .take()
                .map(|domains| (edge.node.environment_id.clone(), domains))
        })
        .collect();
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
    let mut topology = Topology {
        projects,
        resources: BTreeMap::new(),
    };
    for (environment_id, domains) in domains {
        for domain in domains.service_domains {
            topology.record_resource("serviceDomain", &domain.id, &environment_id);
        }
        for domain in domains.custom_domains {
            topology.record_resource("customDomain", &domain.id, &environment_id);
        }
    }
    Ok(topology)
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
    /// Only service instances list domains (absent from older answers).
    #[serde(default)]
    domains: Option<RawDomains>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDomains {
    #[serde(default)]
    service_domains: Vec<RawId>,
    #[serde(default)]
    custom_domains: Vec<RawId>,
}

#[derive(Deserialize)]
struct RawId {
    id: String,
}

/// Parses Railway's answer to [`DEPLOYMENT_QUERY`]: the deployment's id and environment id.
pub fn parse_deployment_response(body: &[u8]) -> Result<(String, String), HttpError> {
    #[derive(Deserialize)]
    struct Answer {
        data: Option<Data>,
        errors: Option<Vec<serde_json::Value>>,
    }
    #[derive(Deserialize)]
    struct Data {
        deployment: Option<Deployment>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Deployment {
        id: String,
        environment_id: String,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|error| HttpError::InvalidTopology(error.to_string()))?;
    if answer.errors.is_some_and(|errors| !errors.is_empty()) {
        return Err(HttpError::InvalidTopology(
            "the deployment lookup answered with errors".into(),
        ));
    }
    let deployment = answer
        .data
        .and_then(|data| data.deployment)
        .ok_or_else(|| HttpError::InvalidTopology("the deployment lookup found nothing".into()))?;
    Ok((deployment.id, deployment.environment_id))
}
