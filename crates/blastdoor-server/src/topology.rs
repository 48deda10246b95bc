//! [`RailwayResolver`]: which environments a Railway request touches. Configured environment
//! ids come first; volumes, services, projects and unconfigured environments are looked up in
//! Railway's own topology, fetched with the real credential through read-only queries, cached,
//! and refreshed when a request names an id the cache does not know (at most once per
//! configured interval, so an agent cannot turn the gateway into a query amplifier).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use blastdoor_core::{EnvironmentName, Secret};
use blastdoor_gateway::forward::{UpstreamClient, post_json};
use blastdoor_gateway::{GatewayError, UpstreamRoute};
use blastdoor_http::railway::topology::{ALL_PROJECTS_TOPOLOGY_QUERY, parse_topology_response};
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
}

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
        })
    }

    /// The current view.
    pub fn current(&self) -> Arc<Resolved> {
        match self.resolved.read() {
            Ok(resolved) => Arc::clone(&resolved),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// True when `classification` names an id that neither configuration nor the cached
    /// topology knows, and the last refresh is old enough to try again.
    pub fn wants_refresh(&self, classification: &RailwayClassification, now: Instant) -> bool {
        let resolved = self.current();
        let unknown = classification
            .fields
            .iter()
            .flat_map(|field| &field.ids)
            .any(|(_, id)| {
                !self.configured_ids.iter().any(|known| known == id) && !resolved.topology.knows(id)
            });
        if !unknown {
            return false;
        }
        match self.last_refresh.lock() {
            Ok(last) => {
                last.is_none_or(|last| now.saturating_duration_since(last) >= self.min_refresh)
            }
            Err(_) => true,
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
        let topology = parse_topology_response(&answer)
            .map_err(|error| GatewayError::ResolutionFailed(error.to_string()))?;
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
