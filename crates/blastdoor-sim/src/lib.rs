//! A Railway GraphQL simulator: a test peer that speaks Railway's API (`/graphql/v2`),
//! validates requests against Railway's published schema, and keeps in-memory projects,
//! environments, services and volumes with per-environment instances, so that tests and the
//! demo can replay the incident (`volumeDelete` of a volume with a production instance) and
//! see whether it reached the upstream.
//!
//! Use: [`SimState::incident_scenario`], bind a `tokio::net::TcpListener` on port 0, run
//! [`serve`], point a client (or the gateway) at `http://ADDR/graphql/v2`, then inspect
//! [`SimState::requests`], [`SimState::executed_mutations`], [`SimState::has_volume`].
//!
//! This crate must not be used as a Railway in production, must not log or record a
//! credential, and must not share code with `blastdoor-http` (it is the peer that classifier
//! is tested against, not a mock of it). Not modelled: token scopes (a project token can do
//! what the account token can), pagination, and type checking below the root fields.

mod error;
mod graphql;
pub mod schema;
mod server;
mod state;

pub use error::SimError;
pub use server::{MAX_BODY_BYTES, serve};
pub use state::{
    AuthHeader, INCIDENT_ACCOUNT_TOKEN, INCIDENT_PROJECT_TOKEN, OperationRecord, RequestRecord,
    SimState, ids,
};
