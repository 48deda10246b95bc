//! Integration tests of `blastdoor-policy`: the default policy set decided case by case, and
//! policy files that must be refused with a clear, located error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod bad_input;
mod defaults;
mod engine;

use blastdoor_core::{Environment, Layer, Risk, Target};
use blastdoor_policy::PolicyRequest;

/// A request for `risk` on a volume in `environments` (names; `unknown` for unresolved).
pub fn request(risk: Risk, environments: &[&str], frozen: bool) -> PolicyRequest {
    let environments = environments
        .iter()
        .map(|name| Environment::parse(name).unwrap())
        .collect();
    PolicyRequest {
        agent: Some("claude-staging-fix".parse().unwrap()),
        risk,
        target: Target::new("volume", "vol-pg-data", environments).on_upstream("railway"),
        task: Some("fix the staging login bug".to_owned()),
        now_unix: 1_764_000_000,
        rule_ids: vec!["railway.volume-delete".parse().unwrap()],
        frozen,
        layer: Layer::Gateway,
    }
}
