//! blastdoor's policy engine: the Cedar policies every layer asks before it lets an operation
//! through. A request names the agent (principal), the risk class (action), the target in one
//! environment (resource) and the situation (context: declared task, time, rule ids, freeze,
//! layer); the answer is a [`blastdoor_core::Verdict`] with the policies that determined it.
//!
//! - `forbid` wins; a matching `permit` annotated `@hold("N")` holds for N approvers; a plain
//!   permit allows; no permit denies; an evaluation error denies.
//! - A target touching several environments is decided once per environment and the strictest
//!   verdict wins. An unresolved environment is never answered more loosely than production, and a
//!   freeze holds every non-read operation, whatever the loaded policies say.
//!
//! This crate must not do IO on the decision path, read the clock (`now` is part of the
//! request), or depend on any blastdoor crate but `blastdoor-core`. The only IO is
//! [`PolicyEngine::from_dir`], which reads the policy files once.

mod cache;
mod defaults;
mod engine;
mod error;
mod load;
mod request;

pub use cache::CachedPolicyEngine;
pub use defaults::{DEFAULT_POLICIES, SCHEMA};
pub use engine::PolicyEngine;
pub use error::{PolicyError, Problem};
pub use request::{EnvironmentDecision, PolicyDecision, PolicyRequest};
