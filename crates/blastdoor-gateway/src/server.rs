//! The gateway's server: accepts connections on a listener it is given, runs each through the
//! [`FramingGuard`], routes `/<upstream>/<path>` requests, reads each one once
//! ([`crate::reader`]) and its body within the limits, asks the [`Pipeline`], and forwards only
//! what it allowed. Also answers `/metrics`, and hands
//! requests under a mounted prefix (the approval UI at `/ui`) to their [`Mounted`] handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::forward::{self, UpstreamClient};
use crate::framing::{FramingGuard, Limits, VIOLATION_HEADER, Violation};
use crate::metrics::{Counted, Metrics};
use crate::reader::{self, Unreadable};
use crate::response::{self, GatewayBody};
use crate::{
    GatewayError, InboundRequest, Outcome, Pipeline, RefusedRequest, UpstreamKind, UpstreamOutcome,
    UpstreamRoute,
};

/// How long in-flight connections get to finish after shutdown is signalled.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The future a [`Mounted`] handler returns.
pub type MountedFuture = Pin<Box<dyn Future<Output = Response<GatewayBody>> + Send>>;

/// Another HTTP application served by the gateway under a path prefix (the approval UI at
/// `/ui`). It gets the request with its whole body, read within the gateway's limits and
/// framing checks; it is never given an upstream's credential.
pub trait Mounted: Send + Sync + 'static {
    fn handle(&self, request: Request<Bytes>) -> MountedFuture;
}

/// Everything a running gateway needs: its routes, limits, pipeline, client and metrics.
pub struct Gateway<P> {
    routes: HashMap<String, Arc<UpstreamRoute>>,
    pipeline: P,
    limits: Limits,
    client: UpstreamClient,
    metrics: Metrics,
    mounts: Vec<(String, Arc<dyn Mounted>)>,
    /// Terminate TLS on the gateway's listeners (`None`: plain HTTP).
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// Follow-ups still being recorded after their response went out (see
    /// [`record_in_background`]); shutdown waits for them.
    background: Arc<Background>,
}

impl<P: std::fmt::Debug> std::fmt::Debug for Gateway<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("routes", &self.routes.keys())
            .field("pipeline", &self.pipeline)
            .field(
                "mounts",
                &self
                    .mounts
                    .iter()
                    .map(|(prefix, _)| prefix)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<P: Pipeline> Gateway<P> {
    pub fn new(
        routes: Vec<UpstreamRoute>,
        pipeline: P,
        limits: Limits,
        client: UpstreamClient,
    ) -> Gateway<P> {
        let metrics = Metrics::new(routes.iter().map(UpstreamRoute::name));
        let routes = routes
            .into_iter()
            .map(|route| (route.name().to_owned(), Arc::new(route)))
            .collect();
        Gateway {
            routes,
            pipeline,
            limits,
            client,
            metrics,
            mounts: Vec::new(),
            tls: None,
            background: Arc::default(),
        }
    }

    /// Serves HTTPS with `acceptor` (see [`crate::tls::acceptor`]) instead of plain HTTP.
    pub fn with_tls(mut self, acceptor: tokio_rustls::TlsAcceptor) -> Gateway<P> {
        self.tls = Some(acceptor);
        self
    }

    /// Serves `handler` for `prefix` and every path below it (`/ui`, `/ui/...`). An upstream
    /// with the same name as the prefix would be shadowed: the configuration reserves `ui`.
    pub fn mount(mut self, prefix: &str, handler: Arc<dyn Mounted>) -> Gateway<P> {
        self.mounts
            .push((prefix.trim_end_matches('/').to_owned(), handler));
        self
    }

    pub fn pipeline(&self) -> &P {
        &self.pipeline
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// Serves the gateway on `listener`, on the caller's runtime, until `shutdown` completes, then
/// lets in-flight requests finish (up to ten seconds).
pub async fn serve<P: Pipeline>(
    listener: TcpListener,
    gateway: Arc<Gateway<P>>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    serve_on(listener, gateway, 0, shutdown).await
}

/// [`serve`], with connections served by `workers` threads of their own, each running a
/// single-threaded runtime (thread per core, as nginx runs one event loop per worker). The
/// caller's runtime only accepts and hands each connection to the next worker in turn; the
/// connection, its requests, their decisions and their upstream connections (pooled per thread,
/// see [`UpstreamClient`]) then stay on that worker, so a request never waits on a wake-up from
/// another thread except for the ledger's commit. Measured with `scripts/bench-gateway` (see
/// `docs/benchmarks.md`), this is most of the difference between a work-stealing runtime and
/// nginx on the same machine. `workers = 0` serves on the caller's runtime.
pub async fn serve_on<P: Pipeline>(
    listener: TcpListener,
    gateway: Arc<Gateway<P>>,
    workers: usize,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let (stop_sender, stop_receiver) = watch::channel(false);
    let mut pool = WorkerPool::start(workers, &gateway, &stop_receiver)?;
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let stream = match pool.hand_over(stream, peer) {
            None => continue,
            Some(stream) => stream,
        };
        connections.spawn(connection_task(
            stream,
            Arc::clone(&gateway),
            peer,
            stop_receiver.clone(),
        ));
    }
    let _ = stop_sender.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
        gateway.background.idle().await;
        pool.drain().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!("connections still open after the drain timeout; closing them");
        connections.abort_all();
        pool.abort().await;
    }
    Ok(())
}

/// Counts the background tasks of [`record_in_background`], so that shutdown can wait for them
/// (they record ledger follow-ups and mark held operations executed).
#[derive(Debug, Default)]
struct Background {
    running: std::sync::atomic::AtomicUsize,
    finished: tokio::sync::Notify,
}

/// One running background task; finishing (or being dropped) counts it out.
struct BackgroundTask(Arc<Background>);

impl Drop for BackgroundTask {
    fn drop(&mut self) {
        let before = self
            .0
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        if before == 1 {
            self.0.finished.notify_waiters();
        }
    }
}

impl Background {
    fn start(self: &Arc<Background>) -> BackgroundTask {
        self.running
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        BackgroundTask(Arc::clone(self))
    }

    /// Returns once no background task is running.
    async fn idle(&self) {
        loop {
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            if self.running.load(std::sync::atomic::Ordering::Acquire) == 0 {
                return;
            }
            finished.await;
        }
    }
}

/// One connection, plain or TLS, until it ends or the gateway stops.
async fn connection_task<P: Pipeline>(
    stream: tokio::net::TcpStream,
    gateway: Arc<Gateway<P>>,
    peer: std::net::SocketAddr,
    stop: watch::Receiver<bool>,
) {
    match gateway.tls.clone() {
        None => serve_connection(stream, gateway, peer, stop).await,
        Some(acceptor) => {
            // The handshake counts against the header read timeout: a client that opens a
            // connection and stalls is dropped.
            let timeout = gateway.limits.header_read_timeout;
            match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_connection(tls, gateway, peer, stop).await,
                Ok(Err(error)) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                }
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }
}

type Handover = (std::net::TcpStream, std::net::SocketAddr);

/// The worker threads of [`serve_on`], each with its own single-threaded runtime.
struct WorkerPool {
    queues: Vec<tokio::sync::mpsc::UnboundedSender<Handover>>,
    /// One per worker still running (`None` once it has stopped).
    finished: Vec<Option<tokio::sync::oneshot::Receiver<()>>>,
    /// Tells the workers to drop what is still open (the drain timeout has passed).
    abort: watch::Sender<bool>,
    next: usize,
}

impl WorkerPool {
    fn start<P: Pipeline>(
        workers: usize,
        gateway: &Arc<Gateway<P>>,
        stop: &watch::Receiver<bool>,
    ) -> std::io::Result<WorkerPool> {
        let (abort, aborted) = watch::channel(false);
        let mut pool = WorkerPool {
            queues: Vec::with_capacity(workers),
            finished: Vec::with_capacity(workers),
            abort,
            next: 0,
        };
        for index in 0..workers {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (queue, mut handed) = tokio::sync::mpsc::unbounded_channel::<Handover>();
            let (finished, finished_receiver) = tokio::sync::oneshot::channel();
            let gateway = Arc::clone(gateway);
            let stop = stop.clone();
            let mut aborted = aborted.clone();
            std::thread::Builder::new()
                .name(format!("blastdoor-worker-{index}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        let mut connections = JoinSet::new();
                        // Ends when the acceptor stops and drops its sender.
                        while let Some((stream, peer)) = handed.recv().await {
                            while connections.try_join_next().is_some() {}
                            match tokio::net::TcpStream::from_std(stream) {
                                Ok(stream) => {
                                    connections.spawn(connection_task(
                                        stream,
                                        Arc::clone(&gateway),
                                        peer,
                                        stop.clone(),
                                    ));
                                }
                                Err(error) => {
                                    tracing::warn!(%peer, %error, "cannot serve a connection");
                                }
                            }
                        }
                        // Wait for the connections and the follow-ups they started, unless the
                        // drain timeout passes first.
                        let drain = async {
                            while connections.join_next().await.is_some() {}
                            gateway.background.idle().await;
                        };
                        tokio::select! {
                            () = drain => {}
                            _ = aborted.wait_for(|aborted| *aborted) => {}
                        }
                    });
                    let _ = finished.send(());
                })?;
            pool.queues.push(queue);
            pool.finished.push(Some(finished_receiver));
        }
        Ok(pool)
    }

    /// Gives `stream` to the next worker; returns it when there are no workers (serve it
    /// here). A connection that cannot be handed over is dropped (closed) with a warning.
    fn hand_over(
        &mut self,
        stream: tokio::net::TcpStream,
        peer: std::net::SocketAddr,
    ) -> Option<tokio::net::TcpStream> {
        if self.queues.is_empty() {
            return Some(stream);
        }
        self.next = self.next.wrapping_add(1) % self.queues.len();
        let handed = stream
            .into_std()
            .map_err(|error| error.to_string())
            .and_then(|stream| {
                self.queues
                    .get(self.next)
                    .ok_or_else(|| "no such worker".to_owned())?
                    .send((stream, peer))
                    .map_err(|_| "the worker has stopped".to_owned())
            });
        if let Err(why) = handed {
            tracing::warn!(%peer, why, "cannot hand a connection to a worker");
        }
        None
    }

    /// Drops every worker's remaining connections and background tasks, and waits (at most a
    /// second) for the workers to stop.
    async fn abort(&mut self) {
        let _ = self.abort.send(true);
        self.queues.clear();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.drain()).await;
    }

    /// Stops handing out connections and waits until every worker's connections have ended.
    async fn drain(&mut self) {
        self.queues.clear();
        // Each worker is crossed off only once it has stopped, so a wait cut short (by the
        // drain timeout) can be taken up again.
        for slot in &mut self.finished {
            if let Some(finished) = slot.as_mut() {
                let _ = finished.await;
                *slot = None;
            }
        }
    }
}

/// Serves HTTP/1.1 on one connection (plain or TLS), through the framing guard.
async fn serve_connection<P, S>(
    stream: S,
    gateway: Arc<Gateway<P>>,
    peer: std::net::SocketAddr,
    mut stop: watch::Receiver<bool>,
) where
    P: Pipeline,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_read_timeout = gateway.limits.header_read_timeout;
    let io = TokioIo::new(FramingGuard::new(stream));
    let service = service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        async move { Ok::<_, Infallible>(handle(gateway, request).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .max_buf_size(crate::framing::MAX_HEAD_BYTES.max(8192) * 2);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        }
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// One request, start to end. Never fails: every error becomes a response.
async fn handle<P: Pipeline>(
    gateway: Arc<Gateway<P>>,
    request: Request<Incoming>,
) -> Response<GatewayBody> {
    let started = Instant::now();
    // A chunked body's end is not tracked by the framing guard: close after answering.
    let close_after = request.headers().contains_key(header::TRANSFER_ENCODING);
    let mut response = match route(&gateway, request, started).await {
        Routed::Metrics => metrics_response(&gateway.metrics),
        Routed::Mounted(response) => response,
        Routed::Unrouted(kind, error) => {
            gateway.metrics.unrouted();
            response::error(kind, &error)
        }
        Routed::Handled {
            upstream,
            counted,
            decision_time,
            response,
        } => {
            gateway
                .metrics
                .record(&upstream, counted, decision_time, started.elapsed());
            response
        }
    };
    if close_after {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

enum Routed {
    Metrics,
    Mounted(Response<GatewayBody>),
    Unrouted(Option<UpstreamKind>, GatewayError),
    Handled {
        upstream: String,
        counted: Counted,
        decision_time: Option<Duration>,
        response: Response<GatewayBody>,
    },
}

async fn route<P: Pipeline>(
    gateway: &Arc<Gateway<P>>,
    request: Request<Incoming>,
    started: Instant,
) -> Routed {
    if let Some(marker) = request.headers().get(VIOLATION_HEADER) {
        return Routed::Unrouted(
            None,
            GatewayError::Framing(Violation::from_code(marker.as_bytes())),
        );
    }
    let path = request.uri().path();
    if path == "/metrics" && request.method() == Method::GET {
        return Routed::Metrics;
    }
    let mounted = gateway.mounts.iter().find(|(prefix, _)| {
        path == prefix
            || path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    });
    if let Some((_, handler)) = mounted {
        let handler = Arc::clone(handler);
        let (parts, body) = request.into_parts();
        return match read_body(&parts.headers, body, gateway.limits).await {
            Ok(body) => Routed::Mounted(handler.handle(Request::from_parts(parts, body)).await),
            Err(error) => Routed::Unrouted(None, error),
        };
    }
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (name, rest) = match trimmed.find('/') {
        Some(at) => (
            trimmed.get(..at).unwrap_or_default(),
            trimmed.get(at..).unwrap_or("/"),
        ),
        None => (trimmed, "/"),
    };
    let Some(upstream) = gateway.routes.get(name).cloned() else {
        return Routed::Unrouted(None, GatewayError::UnknownUpstream(name.to_owned()));
    };
    let query = request.uri().query().map(str::to_owned);
    let path_and_query = match &query {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let rest = rest.to_owned();
    let kind = upstream.kind();
    let upstream_name = upstream.name().to_owned();
    let handled = |counted, decision_time, response| Routed::Handled {
        upstream: upstream_name.clone(),
        counted,
        decision_time,
        response,
    };
    let (parts, body) = request.into_parts();
    let reading = match reader::read(
        kind,
        &parts.method,
        &rest,
        query.as_deref(),
        &parts.headers,
        &gateway.limits,
    ) {
        Ok(reading) => reading,
        Err(Unreadable::Refused(error)) => {
            return handled(Counted::Error, None, response::error(Some(kind), &error));
        }
        Err(Unreadable::Credential(found)) => {
            let refused = RefusedRequest {
                upstream: Arc::clone(&upstream),
                method: parts.method.clone(),
                path: rest,
                token: found.token,
                credential_header: found.header.clone(),
            };
            if let Err(error) = gateway.pipeline.record_refusal(&refused).await {
                tracing::error!(%error, header = found.header, "could not record a refused found credential");
            }
            let error = GatewayError::FoundCredential {
                header: found.header,
            };
            return handled(Counted::Deny, None, response::error(Some(kind), &error));
        }
    };
    let limits = Limits {
        max_body_bytes: reading.max_body_bytes,
        ..gateway.limits
    };
    let body = match read_body(&parts.headers, body, limits).await {
        Ok(body) => body,
        Err(error) => return handled(Counted::Error, None, response::error(Some(kind), &error)),
    };
    if reading.needs_body && body.is_empty() {
        let error = GatewayError::BadRequest("a GraphQL POST needs a JSON body".to_owned());
        return handled(Counted::Error, None, response::error(Some(kind), &error));
    }
    let inbound = InboundRequest {
        upstream: Arc::clone(&upstream),
        method: parts.method,
        path_and_query,
        query,
        headers: reading.headers,
        body,
        token: reading.token,
        hold: reading.hold,
    };
    let decision_started = Instant::now();
    let outcome = gateway.pipeline.decide(&inbound).await;
    let decision_time = Some(decision_started.elapsed());
    let plan = match outcome {
        Ok(Outcome::Forward(plan)) => plan,
        Ok(Outcome::Refuse(refusal)) => {
            let counted = match refusal.decision {
                blastdoor_core::Decision::Hold { .. } => Counted::Hold,
                blastdoor_core::Decision::Deny | blastdoor_core::Decision::Allow => Counted::Deny,
            };
            return handled(
                counted,
                decision_time,
                response::refusal(Some(kind), &refusal),
            );
        }
        Err(error) => {
            return handled(
                Counted::Error,
                decision_time,
                response::error(Some(kind), &error),
            );
        }
    };
    let upstream_request = match forward::upstream_request(
        &upstream,
        inbound.method,
        &inbound.path_and_query,
        &inbound.headers,
        plan.body.unwrap_or(inbound.body),
        plan.credential.as_ref(),
    ) {
        Ok(request) => request,
        Err(error) => {
            record_in_background(gateway, plan.receipt, UpstreamOutcome::Failed);
            return handled(
                Counted::Error,
                decision_time,
                response::error(Some(kind), &error),
            );
        }
    };
    drop(plan.credential);
    let _ = started;
    let client = upstream.client().unwrap_or(&gateway.client);
    match client.request(upstream_request).await {
        Ok(upstream_response) => {
            record_in_background(
                gateway,
                plan.receipt,
                UpstreamOutcome::Status(upstream_response.status().as_u16()),
            );
            let (mut parts, body) = upstream_response.into_parts();
            forward::strip_hop_by_hop(&mut parts.headers);
            handled(
                Counted::Allow,
                decision_time,
                Response::from_parts(parts, body.boxed()),
            )
        }
        Err(error) => {
            record_in_background(gateway, plan.receipt, UpstreamOutcome::Failed);
            let error = GatewayError::UpstreamUnreachable(format!("{upstream_name}: {error}"));
            handled(
                Counted::Allow,
                decision_time,
                response::error(Some(kind), &error),
            )
        }
    }
}

/// Records the upstream's answer without delaying the response to the agent.
fn record_in_background<P: Pipeline>(
    gateway: &Arc<Gateway<P>>,
    receipt: P::Receipt,
    outcome: UpstreamOutcome,
) {
    let task = gateway.background.start();
    let gateway = Arc::clone(gateway);
    tokio::spawn(async move {
        gateway.pipeline.record_response(receipt, outcome).await;
        drop(task);
    });
}

/// Reads the whole body within the size and time limits.
async fn read_body(
    headers: &HeaderMap,
    body: Incoming,
    limits: Limits,
) -> Result<Bytes, GatewayError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return Err(GatewayError::BodyTooLarge {
            limit: limits.max_body_bytes,
        });
    }
    let limited = Limited::new(body, limits.max_body_bytes);
    match tokio::time::timeout(limits.body_read_timeout, limited.collect()).await {
        Err(_) => Err(GatewayError::SlowClient),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(GatewayError::BodyTooLarge {
                limit: limits.max_body_bytes,
            })
        }
        Ok(Err(error)) => Err(GatewayError::BadRequest(format!(
            "the body could not be read: {error}"
        ))),
    }
}

fn metrics_response(metrics: &Metrics) -> Response<GatewayBody> {
    let mut response = Response::new(response::full_body(metrics.render()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
