//! blastdoor's server (layer 3 of DESIGN.md): wires the configuration, the secret store, the
//! capability-token verifier, the classifiers, the policy engine and the audit ledger into a
//! running [`blastdoor_gateway`], with the approval state (`blastdoor-approval`) behind holds
//! and snapshots (`blastdoor-snapshot`) before approved destroys. [`App::open`] loads
//! everything once; [`run`] serves the gateway on the listeners it is given until the shutdown
//! future completes, expiring overdue holds and polling the freeze in the background.
//!
//! This crate must not parse command-line arguments or read `BLASTDOOR_HOME` itself (the
//! binary does, and passes [`Paths`]), and must not classify or decide anything itself: it
//! calls `blastdoor-http`, `blastdoor-broker` and `blastdoor-policy`, and it never lets a
//! request be forwarded before its ledger entry is durable.

mod approvals;
mod error;
mod guard;
mod ledger;
mod release;
mod settings;
mod tokens;
mod topology;
mod web;
mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use blastdoor_approval::{ApprovalLog, HoldStore, StorePaths};

use blastdoor_broker::SecretStore;
use blastdoor_core::Environment;
use blastdoor_gateway::forward::{new_client, new_client_with_ca};
use blastdoor_gateway::{Gateway, UpstreamKind, UpstreamRoute};
use blastdoor_http::kubernetes::NamespaceMap;
use blastdoor_policy::{CachedPolicyEngine, PolicyEngine};
use tokio::net::TcpListener;

pub use approvals::{ApprovalSettings, schedule_project_deletes};
pub use error::ServerError;
pub use guard::{GuardPipeline, Receipt};
pub use ledger::DecisionLog;
pub use settings::{Paths, Settings};

use crate::guard::{Classifier, UpstreamGuard};
use crate::tokens::TokenGate;
use crate::topology::RailwayResolver;

/// A loaded, ready-to-serve gateway.
#[derive(Debug)]
pub struct App {
    gateway: Gateway<GuardPipeline>,
    holds: Arc<HoldStore>,
    frozen: Arc<AtomicBool>,
}

/// Lets the approval store append to the same ledger as the decisions.
struct SharedLog(Arc<dyn DecisionLog>);

impl ApprovalLog for SharedLog {
    fn append(&self, record: &blastdoor_audit::Record) -> Result<u64, String> {
        self.0.append(record)
    }
}

/// How often overdue holds are expired.
const EXPIRY_SWEEP: Duration = Duration::from_secs(10);
/// How often the freeze is re-read from the state database.
const FREEZE_POLL: Duration = Duration::from_secs(1);

/// WAL pages the gateway's ledger grows to before a commit folds them into the database
/// (16 MiB; about 20,000 gateway entries).
const GATEWAY_WAL_PAGES: u32 = 4096;

impl App {
    /// Loads keys, token registry, secret store, policies and the ledger from `paths`.
    pub fn open(settings: &Settings, paths: &Paths) -> Result<App, ServerError> {
        let ledger_error = |error: blastdoor_audit::AuditError| ServerError::Ledger {
            path: paths.ledger_file.clone(),
            why: error.to_string(),
        };
        let ledger =
            blastdoor_audit::Ledger::open_or_create(&paths.ledger_file).map_err(ledger_error)?;
        // The gateway commits batches of hundreds of entries: fold the WAL every few
        // megabytes, not after nearly every commit (see `Ledger::set_wal_limit`).
        ledger
            .set_wal_limit(GATEWAY_WAL_PAGES)
            .map_err(ledger_error)?;
        App::with_ledger(settings, paths, Arc::new(ledger))
    }

    /// As [`App::open`], recording decisions in `ledger` instead of the file in `paths`.
    pub fn with_ledger(
        settings: &Settings,
        paths: &Paths,
        ledger: Arc<dyn DecisionLog>,
    ) -> Result<App, ServerError> {
        let tokens = TokenGate::open(
            &paths.keys_dir,
            &paths.token_registry,
            settings.token_cache_capacity,
            settings.token_cache_ttl,
        )?;
        let secrets = SecretStore::open(&paths.keys_dir, &paths.secrets_file).map_err(|error| {
            ServerError::SecretStore {
                path: paths.secrets_file.clone(),
                why: error.to_string(),
            }
        })?;
        let policy = if paths.policies_dir.is_dir() {
            PolicyEngine::from_dir(&paths.policies_dir)
        } else {
            PolicyEngine::default_policies()
        }
        .map_err(|error| ServerError::Policies {
            path: paths.policies_dir.clone(),
            why: error.to_string(),
        })?;
        let mut routes = Vec::new();
        let mut upstreams = HashMap::new();
        for upstream in &settings.upstreams {
            let name = upstream.name.as_str();
            let kind = match upstream.kind {
                blastdoor_config::UpstreamKind::Railway => UpstreamKind::Railway,
                blastdoor_config::UpstreamKind::Rest => UpstreamKind::Rest,
                blastdoor_config::UpstreamKind::Kubernetes => UpstreamKind::Kubernetes,
            };
            let mut route = UpstreamRoute::new(name, kind, upstream.url.as_str())?;
            if let Some(ca_file) = &upstream.ca_file {
                route = route.with_client(new_client_with_ca(name, ca_file)?);
            }
            routes.push(route);
            let classifier = match kind {
                UpstreamKind::Railway => Classifier::Railway(RailwayResolver::new(
                    upstream.environments.clone(),
                    settings.topology_min_refresh,
                )?),
                UpstreamKind::Rest => Classifier::Rest(upstream.clone()),
                UpstreamKind::Kubernetes => Classifier::Kubernetes(NamespaceMap::new(
                    upstream
                        .environments
                        .iter()
                        .flat_map(|(environment, namespaces)| {
                            namespaces
                                .iter()
                                .map(move |namespace| (namespace.clone(), environment.clone()))
                        }),
                    upstream
                        .environment
                        .clone()
                        .map_or(Environment::Unknown, Environment::Named),
                )),
            };
            let guard = UpstreamGuard {
                credential: upstream
                    .credential
                    .as_ref()
                    .map(|name| name.as_str().to_owned()),
                classifier,
            };
            if upstreams.insert(name.to_owned(), guard).is_some() {
                return Err(ServerError::Config(format!(
                    "upstream `{name}` is configured twice"
                )));
            }
        }
        let client = new_client()?;
        let store_paths = StorePaths {
            state_db: paths.state_db.clone(),
            ..StorePaths::in_home(&paths.home)
        };
        let frozen_marker = store_paths.frozen_marker.clone();
        let holds = HoldStore::open(store_paths, Arc::new(SharedLog(Arc::clone(&ledger))))
            .map_err(|error| ServerError::State {
                path: paths.state_db.clone(),
                why: error.to_string(),
            })?;
        let holds = Arc::new(holds);
        let frozen = Arc::new(AtomicBool::new(holds.is_frozen_or_fail_closed()));
        if let Err(error) = holds.sync_frozen_marker() {
            tracing::warn!(%error, "could not bring the freeze marker in line with the state");
        }
        let ledger = ledger::LedgerWriter::start(ledger)?;
        let pipeline = GuardPipeline {
            upstreams,
            tokens,
            secrets,
            decrypted: std::sync::Mutex::default(),
            policy: CachedPolicyEngine::new(policy),
            ledger,
            holds: Arc::clone(&holds),
            approvals: settings.approvals.clone(),
            frozen: Arc::clone(&frozen),
            frozen_marker,
            in_flight: approvals::InFlight::default(),
            snapshots: approvals::Snapshots::new(paths.keys_dir.clone()),
            client: client.clone(),
        };
        let mut gateway = Gateway::new(routes, pipeline, settings.limits, client);
        if let Some(tls) = &settings.tls {
            gateway = gateway.with_tls(blastdoor_gateway::tls::acceptor(&tls.cert, &tls.key)?);
        }
        Ok(App {
            gateway,
            holds,
            frozen,
        })
    }

    /// Serves the approval UI (`blastdoor-web`) at `/ui` on the gateway's listeners, over the
    /// same approval state, for browsers reaching it at `public_origin` (`scheme://host:port`).
    pub fn with_approval_ui(self, paths: &Paths, public_origin: &str) -> Result<App, ServerError> {
        let ui = web::WebUi::new(Arc::clone(&self.holds), &paths.ledger_file, public_origin)
            .map_err(ServerError::Ui)?;
        Ok(App {
            gateway: self.gateway.mount("/ui", Arc::new(ui)),
            ..self
        })
    }

    /// The approval state the gateway uses (for the web UI).
    pub fn hold_store(&self) -> Arc<HoldStore> {
        Arc::clone(&self.holds)
    }

    /// The running gateway's metrics in Prometheus text format.
    pub fn metrics_text(&self) -> String {
        self.gateway.metrics().render()
    }
}

/// Serves `app` on every listener until `shutdown` completes; in-flight requests finish.
pub async fn run(
    listeners: Vec<TcpListener>,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let housekeeping = tokio::spawn(housekeeping(
        Arc::clone(&app.holds),
        Arc::clone(&app.frozen),
    ));
    let gateway = Arc::new(app.gateway);
    // Connection workers (see `serve_on`): one thread per core in all, split between the
    // listeners (usually one; a second when TLS and plain HTTP are both configured).
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .div_ceil(listeners.len().max(1));
    let mut servers = tokio::task::JoinSet::new();
    for listener in listeners {
        let gateway = Arc::clone(&gateway);
        let mut stopped = stopped.clone();
        servers.spawn(async move {
            let signal = async move {
                while !*stopped.borrow_and_update() {
                    if stopped.changed().await.is_err() {
                        return;
                    }
                }
            };
            blastdoor_gateway::serve_on(listener, gateway, workers, signal).await
        });
    }
    let mut result = Ok(());
    while let Some(joined) = servers.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => result = Err(ServerError::Io(error)),
            Err(error) => result = Err(ServerError::Io(std::io::Error::other(error.to_string()))),
        }
    }
    housekeeping.abort();
    result
}

/// Re-reads the freeze every second (an error reads as frozen) and expires overdue holds
/// every ten seconds, each with its ledger entry.
async fn housekeeping(holds: Arc<HoldStore>, frozen: Arc<AtomicBool>) {
    let mut ticks = tokio::time::interval(FREEZE_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let sweep_every = (EXPIRY_SWEEP.as_secs() / FREEZE_POLL.as_secs()).max(1);
    let mut tick: u64 = 0;
    loop {
        ticks.tick().await;
        let sweep = tick.is_multiple_of(sweep_every);
        tick = tick.wrapping_add(1);
        let store = Arc::clone(&holds);
        let checked = tokio::task::spawn_blocking(move || {
            let frozen = store.is_frozen_or_fail_closed();
            let expired = if sweep {
                let now = i64::try_from(guard::now_unix().0).unwrap_or(i64::MAX);
                Some(store.expire_due(now))
            } else {
                None
            };
            (frozen, expired)
        })
        .await;
        match checked {
            Ok((is_frozen, expired)) => {
                frozen.store(is_frozen, Ordering::Relaxed);
                match expired {
                    Some(Ok(ids)) if !ids.is_empty() => {
                        tracing::info!(count = ids.len(), "holds expired");
                    }
                    Some(Err(error)) => tracing::warn!(%error, "could not expire overdue holds"),
                    Some(Ok(_)) | None => {}
                }
            }
            Err(error) => {
                frozen.store(true, Ordering::Relaxed);
                tracing::warn!(%error, "the approval housekeeping task failed; treating as frozen");
            }
        }
    }
}
