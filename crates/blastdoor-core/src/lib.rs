//! The vocabulary every blastdoor layer shares: what an input would do ([`Operation`]), how
//! dangerous that is ([`Risk`]), what it acts on ([`Target`], [`Environment`]), what blastdoor
//! decided ([`Verdict`]) and why ([`Reason`]), plus validated identifiers and [`Secret`].
//!
//! This crate must not do IO, read the clock, or depend on any other blastdoor crate: it is
//! plain data, so that every layer (and every test) can build and inspect these values freely.

mod error;
mod ids;
mod operation;
mod risk;
mod secret;
mod target;
mod verdict;

pub use error::CoreError;
pub use ids::{AgentName, HoldId, RuleId, SessionId, SnapshotId};
pub use operation::{Actor, Layer, Operation, OperationKind};
pub use risk::Risk;
pub use secret::{REDACTED, Secret, fingerprint, redact_known_secrets};
pub use target::{Environment, EnvironmentName, Target};
pub use verdict::{Decision, Reason, Verdict};
