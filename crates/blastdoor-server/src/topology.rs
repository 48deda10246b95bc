//! [`RailwayResolver`]: which environments a Railway request touches. Configured environment
//! ids come first; volumes, services, projects and unconfigured environments are looked up in
//! Railway's own topology, fetched with the real credential through read-only queries, cached,
//! and refreshed when a request names an id the cache does not know (at most once per
//! configured interval, so an agent cannot turn the gateway into a query amplifier).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use blastdoor_core::{EnvironmentName, Secret};
use blastdoor_gateway::forward::{UpstreamClient, post_json};
use blastdoor_gateway::{GatewayError, UpstreamRoute};
use blastdoor_http::railway::topology::{
    ALL_PROJECTS_TOPOLOGY_QUERY, DEPLOYMENT_QUERY, parse_deployment_response,
    parse_topology_response, unresolved_resources,
};
use blastdoor_http::railway::{EnvironmentMap, RailwayClassification, Topology};
use bytes::Bytes;

use crate::ServerError;

/// The path of Railway's GraphQL endpoint below the upstream's base URL.
pub const GRAPHQL_PATH: &str = "/graphql/v2";

/// Largest topology answer accepted.
const MAX_TOPOLOGY_BYTES: usize = 16 << 20;

/// What is known about the upstream's resources right now.
#[derive(Debug, Default)]
pub struct Resolved {
    pub topology: Topology,
    /// Configured ids, then the names Railway gives the environments it reports.
    pub environments: EnvironmentMap,
}

/// The cached topology of one Railway upstream.
#[derive(Debug)]
pub struct RailwayResolver {
    configured: Vec<(EnvironmentName, Vec<String>)>,
    configured_ids: Vec<String>,
    resolved: RwLock<Arc<Resolved>>,
    last_refresh: Mutex<Option<Instant>>,
    refreshing: tokio::sync::Mutex<()>,
    min_refresh: Duration,
    /// Deployments looked up in vain, and when: not asked again within `min_refresh`.
    failed_lookups: Mutex<HashMap<String, Instant>>,
}

/// The most deployments looked up for one request.
pub const MAX_LOOKUPS: usize = 8;
/// The most failed lookups remembered (the memory is cleared past it).
const MAX_FAILED_LOOKUPS: usize = 4096;

impl RailwayResolver {
    pub fn new(
        configured: Vec<(EnvironmentName, Vec<String>)>,
        min_refresh: Duration,
    ) -> Result<RailwayResolver, ServerError> {
        let environments = EnvironmentMap::new(configured.clone())
            .map_err(|error| ServerError::Config(error.to_string()))?;
        let configured_ids = configured
            .iter()
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect();
        Ok(RailwayResolver {
            configured,
            configured_ids,
            resolved: RwLock::new(Arc::new(Resolved {
                topology: Topology::default(),
                environments,
            })),
            last_refresh: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            min_refresh,
            failed_lookups: Mutex::new(HashMap::new()),
        })
    }

    /// The current view.
    pub fn current(&self) -> Arc<Resolved> {
        match self.resolved.read() {
            Ok(resolved) => Arc::clone(&resolved),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// True when the topology was never fetched, or `classification` names an id that
    /// neither configuration nor the cached topology knows, and the last refresh is old enough
    /// to try again.
    pub fn wants_refresh(&self, classification: &RailwayClassification, now: Instant) -> bool {
        let resolved = self.current();
        // Never fetched, and the answer depends on it: data nested beneath a field, or a
        // field that names nothing and so acts on every environment.
        let never = self.last_refresh.lock().map_or(true, |last| last.is_none())
            && classification.fields.iter().any(|field| {
                !field.nested.is_empty()
                    || (field.ids.is_empty() && field.risk != blastdoor_core::Risk::Read)
            });
        // Deployments are looked up one by one (`wanted_lookups`), not by a refresh.
        let deployments: Vec<String> = classification
            .fields
            .iter()
            .flat_map(|field| unresolved_resources(field, &resolved.topology))
            .filter(|(kind, _)| kind == "deployment")
            .map(|(_, id)| id)
            .collect();
        let unknown = classification
            .fields
            .iter()
            .flat_map(|field| &field.ids)
            .any(|(_, id)| {
                !self.configured_ids.iter().any(|known| known == id)
                    && !resolved.topology.knows(id)
                    && !deployments.contains(id)
            });
        if !unknown && !never {
            return false;
        }
        match self.last_refresh.lock() {
            Ok(last) => {
                last.is_none_or(|last| now.saturating_duration_since(last) >= self.min_refresh)
            }
            Err(_) => true,
        }
    }

    /// The deployments `classification` names whose environment is not known, and that were
    /// not looked up in vain within the refresh interval: at most [`MAX_LOOKUPS`] a request.
    pub fn wanted_lookups(
        &self,
        classification: &RailwayClassification,
        now: Instant,
    ) -> Vec<String> {
        let resolved = self.current();
        let failed = self.failed_lookups.lock().ok();
        let mut wanted: Vec<String> = classification
            .fields
            .iter()
            .flat_map(|field| unresolved_resources(field, &resolved.topology))
            .filter(|(kind, _)| kind == "deployment")
            .map(|(_, id)| id)
            .filter(|id| {
                failed.as_ref().is_none_or(|failed| {
                    failed
                        .get(id)
                        .is_none_or(|when| now.saturating_duration_since(*when) >= self.min_refresh)
                })
            })
            .collect();
        wanted.sort();
        wanted.dedup();
        wanted.truncate(MAX_LOOKUPS);
        wanted
    }

    /// Looks up the environment of each deployment in `ids` and records it. A lookup that
    /// fails leaves the deployment unresolved (judged as an unknown environment) and is not
    /// repeated within the refresh interval.
    pub async fn look_up(
        &self,
        client: &UpstreamClient,
        route: &UpstreamRoute,
        credential: &Secret<String>,
        ids: &[String],
    ) {
        for id in ids {
            let body = serde_json::json!({ "query": DEPLOYMENT_QUERY, "variables": {"id": id} })
                .to_string();
            let answer = post_json(
                client,
                route,
                GRAPHQL_PATH,
                Bytes::from(body),
                credential,
                MAX_TOPOLOGY_BYTES,
            )
            .await;
            let found = match answer {
                Ok((status, answer)) if status.is_success() => {
                    parse_deployment_response(&answer).ok()
                }
                Ok(_) | Err(_) => None,
            };
            match found {
                Some((found_id, environment)) if &found_id == id => {
                    if let Ok(mut resolved) = self.resolved.write() {
                        let mut next = Resolved {
                            topology: resolved.topology.clone(),
                            environments: resolved.environments.clone(),
                        };
                        next.topology
                            .record_resource("deployment", id, &environment);
                        *resolved = Arc::new(next);
                    }
                }
                _ => {
                    tracing::debug!("a deployment lookup found nothing");
                    if let Ok(mut failed) = self.failed_lookups.lock() {
                        if failed.len() >= MAX_FAILED_LOOKUPS {
                            failed.clear();
                        }
                        failed.insert(id.clone(), Instant::now());
                    }
                }
            }
        }
    }

    /// Fetches the topology of every project the credential sees and replaces the cache.
    pub async fn refresh(
        &self,
        client: &UpstreamClient,
        route: &UpstreamRoute,
        credential: &Secret<String>,
    ) -> Result<(), GatewayError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let now = Instant::now();
        if let Ok(mut last) = self.last_refresh.lock() {
            if last.is_some_and(|last| now.saturating_duration_since(last) < self.min_refresh) {
                // Someone refreshed while we waited.
                return Ok(());
            }
            *last = Some(now);
        }
        let body = serde_json::json!({ "query": ALL_PROJECTS_TOPOLOGY_QUERY, "variables": {} })
            .to_string();
        let (status, answer) = post_json(
            client,
            route,
            GRAPHQL_PATH,
            Bytes::from(body),
            credential,
            MAX_TOPOLOGY_BYTES,
        )
        .await
        .map_err(|error| GatewayError::ResolutionFailed(error.to_string()))?;
        if !status.is_success() {
            return Err(GatewayError::ResolutionFailed(format!(
                "topology query answered {status}"
            )));
        }
        let mut topology = parse_topology_response(&answer)
            .map_err(|error| GatewayError::ResolutionFailed(error.to_string()))?;
        // Looked-up deployments stay where they are: a deployment never changes environment.
        for ((kind, id), environment) in &self.current().topology.resources {
            if !topology.resources.contains_key(&(kind.clone(), id.clone())) {
                topology.record_resource(kind, id, environment);
            }
        }
        let environments = self.environment_map(&topology)?;
        tracing::debug!(
            projects = topology.projects.len(),
            "railway topology refreshed"
        );
        if let Ok(mut resolved) = self.resolved.write() {
            *resolved = Arc::new(Resolved {
                topology,
                environments,
            });
        }
        Ok(())
    }

    /// Configured ids keep their configured names; other environments take the name Railway
    /// reports when it is a valid environment name, and stay unknown otherwise.
    fn environment_map(&self, topology: &Topology) -> Result<EnvironmentMap, GatewayError> {
        let mut names = self.configured.clone();
        for environment in topology
            .projects
            .iter()
            .flat_map(|project| &project.environments)
        {
            if self.configured_ids.contains(&environment.id) {
                continue;
            }
            let Ok(name) = EnvironmentName::new(environment.name.to_ascii_lowercase()) else {
                continue;
            };
            match names.iter_mut().find(|(known, _)| *known == name) {
                Some((_, ids)) => ids.push(environment.id.clone()),
                None => names.push((name, vec![environment.id.clone()])),
            }
        }
        EnvironmentMap::new(names)
            .map_err(|error| GatewayError::ResolutionFailed(error.to_string()))
    }
}
