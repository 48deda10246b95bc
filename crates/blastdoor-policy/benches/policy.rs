//! Benchmark of the policy engine: parse-and-validate time of the default set, and time per
//! decision for typical requests. Prints figures; asserts nothing.
//!
//! Run: `cargo bench -p blastdoor-policy --bench policy`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use blastdoor_core::{Environment, Layer, Risk, Target};
use blastdoor_policy::{PolicyEngine, PolicyRequest};

fn request(risk: Risk, environments: Vec<Environment>, frozen: bool) -> PolicyRequest {
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

fn per_iteration(iterations: u32, mut body: impl FnMut()) -> Duration {
    for _ in 0..iterations / 10 {
        body();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        body();
    }
    start.elapsed() / iterations
}

fn main() {
    let first = Instant::now();
    let engine = PolicyEngine::default_policies().unwrap();
    let first = first.elapsed();
    let parse = per_iteration(200, || {
        black_box(PolicyEngine::default_policies().unwrap());
    });
    println!(
        "default set ({} policies): first load in the process {:.0} µs, then {:.0} µs per load (parse + validate)",
        engine.policy_ids().len(),
        first.as_secs_f64() * 1e6,
        parse.as_secs_f64() * 1e6
    );

    let staging = Environment::parse("staging").unwrap();
    let cases = [
        (
            "read, staging",
            request(Risk::Read, vec![staging.clone()], false),
        ),
        (
            "write, staging",
            request(Risk::Write, vec![staging.clone()], false),
        ),
        (
            "destroy, production",
            request(Risk::Destroy, vec![Environment::production()], false),
        ),
        (
            "destroy, staging + production",
            request(
                Risk::Destroy,
                vec![staging.clone(), Environment::production()],
                false,
            ),
        ),
        (
            "destroy, unknown (decided twice)",
            request(Risk::Destroy, vec![Environment::Unknown], false),
        ),
        (
            "write, staging, frozen",
            request(Risk::Write, vec![staging], true),
        ),
    ];
    for (name, case) in &cases {
        let time = per_iteration(20_000, || {
            black_box(engine.decide(black_box(case)));
        });
        println!("decide {name:<34} {:>6.2} µs", time.as_secs_f64() * 1e6);
    }
}
