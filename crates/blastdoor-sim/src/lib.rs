//! A Railway GraphQL simulator: a test peer that speaks Railway's API (`/graphql/v2`),
//! validates requests against Railway's published schema, and keeps in-memory projects,
//! environments, services and volumes with per-environment instances, so that tests and the
//! demo can replay the incident (`volumeDelete` of a volume with a production instance) and
//! see whether it reached the upstream.
//!
//! Use: [`SimState::incident_scenario`], bind a `tokio::net::TcpListener` on port 0, run
//! [`serve`], point a client (or the gateway) at `http://ADDR/graphql/v2`, then inspect
//! [`SimState::requests`], [`SimState::executed_mutations`], [`SimState::has_volume`], and
//! the fields each request resolved ([`OperationRecord::resolved`],
//! [`RequestRecord::resolved_fields`], [`SimState::resolved_fields`]).
//!
//! Every request is validated against Railway's whole schema, at every depth (unknown fields,
//! arguments, types, fragments, variables: a `GRAPHQL_VALIDATION_FAILED` error, as a real
//! server answers), and executed as a GraphQL executor does: aliases, fragments, inline
//! fragments with type conditions, `@skip`/`@include`, variables and defaults, non-null
//! propagation. The modelled objects resolve their nested fields for real (see `model`),
//! including the variable values ([`secrets`] in the incident scenario) under
//! `Environment.config(decryptVariables: true)`, `EnvironmentPatch.patch(decryptVariables:
//! true)`, `DeploymentSnapshot.variables` and the root `variables` queries; every other field
//! gets a type-correct placeholder.
//!
//! This crate must not be used as a Railway in production, must not log or record a
//! credential, and must not share code with `blastdoor-http` (it is the peer that classifier
//! is tested against, not a mock of it). Not modelled: token scopes (a project token can do
//! what the account token can), pagination arguments (every connection is one whole page),
//! introspection (`__schema` and `__type` validate but answer placeholders), subscriptions
//! over WebSocket (a subscription sent over HTTP is executed once like a query).

mod error;
mod execute;
mod graphql;
mod model;
pub mod schema;
mod server;
mod state;
mod validate;

pub use error::SimError;
pub use server::{MAX_BODY_BYTES, serve};
pub use state::{
    AuthHeader, INCIDENT_ACCOUNT_TOKEN, INCIDENT_PROJECT_TOKEN, OperationRecord, RequestRecord,
    ResolvedField, SimState, ids, secrets,
};
