//! blastdoor's API gateway (layer 3 of DESIGN.md): an HTTP/1.1 reverse proxy that agents call
//! as `http://HOST:PORT/<upstream>/<path>` with their capability token. It checks framing
//! (rejecting the smuggling shapes hyper tolerates), limits body size and read time, routes to
//! the upstream, reads the request once ([`reader`]: refuses what is malformed or carries a
//! found credential, and keeps only the headers allowed for the upstream's kind), asks a
//! [`Pipeline`] for the decision, and only on an allow injects the real
//! credential and forwards, streaming the answer back. It exposes Prometheus `/metrics`, serves
//! other applications under a prefix ([`Mounted`]: the approval UI at `/ui`), terminates TLS on
//! its listener when given a certificate ([`tls`]), and reaches `https://` upstreams through
//! rustls (Mozilla's roots, plus an upstream's own CA file).
//!
//! This crate must not decide anything itself: classification, environments, token scope,
//! policy and the ledger sit behind [`Pipeline`] (implemented by `blastdoor-server`). It must
//! never forward a request the pipeline did not allow, never forward the agent's capability
//! token, and never put the real credential anywhere but the forwarded request.

mod error;
pub mod forward;
pub mod framing;
pub mod metrics;
mod pipeline;
pub mod reader;
pub mod response;
mod server;
pub mod tls;
pub mod token_cache;
mod upstream;

pub use error::GatewayError;
pub use framing::Limits;
pub use pipeline::{
    ForwardPlan, InboundRequest, Outcome, Pipeline, Refusal, RefusedRequest, UpstreamOutcome,
    new_hold_id,
};
pub use server::{Gateway, Mounted, MountedFuture, serve, serve_on};
pub use upstream::{UpstreamKind, UpstreamRoute};
