//! Benchmark (`harness = false`): token decision cost and scan throughput. Prints figures; asserts
//! nothing about time. Run with
//! `cargo bench -p blastdoor-broker --bench broker` (`BENCH_SCAN_MB` sets the tree size, 200 by
//! default). See docs/benchmarks.md for recorded figures.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly"
)]

use std::hint::black_box;
use std::time::Instant;

use blastdoor_broker::scan::{ScanOptions, scan_path};
use blastdoor_broker::{
    Narrowing, RevocationSet, RootKey, Scope, TokenVerifier, UnverifiedToken, UpstreamName,
    attenuate, mint,
};
use blastdoor_core::{AgentName, Environment, EnvironmentName, Risk};

const NOW: u64 = 1_800_000_000;

fn main() {
    tokens();
    scan();
}

/// Prints wall-clock time and on-CPU time per operation. On a shared machine the wall clock
/// includes time this thread waited for a core; the on-CPU time (from
/// `/proc/thread-self/schedstat`, Linux only) is what the operation itself costs.
fn per_op(label: &str, iterations: u32, mut operation: impl FnMut()) {
    for _ in 0..iterations / 10 {
        operation();
    }
    let cpu_start = thread_cpu_nanos();
    let start = Instant::now();
    for _ in 0..iterations {
        operation();
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations);
    let cpu = match (cpu_start, thread_cpu_nanos()) {
        (Some(before), Some(after)) => {
            format!(
                "{:>9.2} µs on-CPU",
                (after - before) as f64 / 1e3 / f64::from(iterations)
            )
        }
        _ => "on-CPU n/a".to_owned(),
    };
    println!("{label:<62} {micros:>9.2} µs wall {cpu}  ({iterations} iterations)");
}

fn thread_cpu_nanos() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn tokens() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    blastdoor_broker::init(&keys).unwrap();
    let root = RootKey::load(&keys).unwrap();
    let scope = Scope::new(
        [
            UpstreamName::new("railway").unwrap(),
            UpstreamName::new("github").unwrap(),
        ]
        .into(),
        [
            EnvironmentName::new("staging").unwrap(),
            EnvironmentName::new("dev").unwrap(),
        ]
        .into(),
        [Risk::Read, Risk::Write].into(),
        NOW + 8 * 3600,
    )
    .unwrap();
    let agent = AgentName::new("claude-staging-fix").unwrap();
    let minted = mint(&root, &agent, &scope, Some("fix staging")).unwrap();
    let text = minted.text.expose_secret().clone();
    let narrowing = Narrowing {
        environments: Some([EnvironmentName::new("staging").unwrap()].into()),
        ..Narrowing::default()
    };
    let attenuated = attenuate(&UnverifiedToken::parse(&text).unwrap(), &narrowing)
        .unwrap()
        .expose_secret()
        .clone();
    let mut revoked = RevocationSet::new();
    for _ in 0..1000 {
        // A realistic revocation list: a thousand other revoked tokens.
        let other = mint(&root, &agent, &scope, None).unwrap();
        revoked.revoke_token(other.token_id);
    }
    let verifier = TokenVerifier::new(root.public(), revoked);
    let staging = [Environment::parse("staging").unwrap()];
    println!(
        "token size: {} bytes (1 block), {} bytes (2 blocks)",
        text.len(),
        attenuated.len()
    );

    for (label, token) in [("1 block", &text), ("2 blocks (attenuated)", &attenuated)] {
        per_op(
            &format!("parse + verify + authorize, {label}"),
            2000,
            || {
                let token = UnverifiedToken::parse(black_box(token)).unwrap();
                let verified = verifier.verify(&token, NOW).unwrap();
                verifier
                    .authorize(&verified, "railway", &staging, Risk::Write, NOW)
                    .unwrap();
            },
        );
        let verified = verifier
            .verify(&UnverifiedToken::parse(token).unwrap(), NOW)
            .unwrap();
        per_op(
            &format!("authorize a cached VerifiedToken, {label}"),
            200_000,
            || {
                verifier
                    .authorize(black_box(&verified), "railway", &staging, Risk::Write, NOW)
                    .unwrap();
            },
        );
        per_op(
            &format!("digest for the cache key, {label}"),
            200_000,
            || {
                black_box(UnverifiedToken::parse(black_box(token)).unwrap().digest());
            },
        );
        // Biscuit's default limits give a Datalog run 1 ms; on a loaded machine a run can hit
        // that and is refused (fail closed), so refusals are counted, not unwrapped.
        let mut refused = 0u32;
        per_op(
            &format!("authorize with biscuit Datalog, {label}"),
            2000,
            || {
                if verifier
                    .authorize_with_datalog(
                        black_box(&verified),
                        "railway",
                        &staging,
                        Risk::Write,
                        NOW,
                    )
                    .is_err()
                {
                    refused += 1;
                }
            },
        );
        if refused > 0 {
            println!("  ({refused} Datalog runs refused on the run-time limit)");
        }
        let bytes = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.strip_prefix("bd1_").unwrap())
                .unwrap()
        };
        let root_public = biscuit_auth::PublicKey::from_bytes(
            &hex::decode(root.public().to_hex()).unwrap(),
            biscuit_auth::Algorithm::Ed25519,
        )
        .unwrap();
        per_op(
            &format!("  of which biscuit's own parse + signature checks, {label}"),
            2000,
            || {
                black_box(biscuit_auth::Biscuit::from(black_box(&bytes), root_public).unwrap());
            },
        );
    }
}

fn scan() {
    let megabytes: u64 = std::env::var("BENCH_SCAN_MB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let target_bytes = megabytes * 1024 * 1024;
    let line = "    let value = compute_something(&input, options.limit).map_err(|error| Error::from(error))?; // keep\n";
    let file_body: String = line.repeat(32 * 1024 / line.len());
    let mut written = 0u64;
    let mut index = 0u64;
    while written < target_bytes {
        let sub = dir
            .path()
            .join(format!("pkg{}/src/mod{}", index % 50, index % 7));
        std::fs::create_dir_all(&sub).unwrap();
        let mut contents = file_body.clone();
        if index % 2000 == 7 {
            contents.push_str(&format!("const KEY: &str = \"ghp_{}\";\n", "q".repeat(36)));
        }
        std::fs::write(sub.join(format!("file{index}.rs")), &contents).unwrap();
        written += contents.len() as u64;
        index += 1;
    }
    println!(
        "\ngenerated {index} files, {:.0} MiB in {:.1}s",
        written as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    for (label, threads) in [("1 thread", 1), ("all cores", 0)] {
        let options = ScanOptions {
            threads,
            ..ScanOptions::default()
        };
        // Warm the page cache, then measure.
        let _ = scan_path(dir.path(), &options).unwrap();
        let start = Instant::now();
        let report = scan_path(dir.path(), &options).unwrap();
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "scan, {label:<10} {:>8.0} MB/s  ({} files, {:.0} MiB, {} findings, {:.2}s)",
            report.bytes_scanned as f64 / 1e6 / seconds,
            report.files_scanned,
            report.bytes_scanned as f64 / 1048576.0,
            report.findings.len(),
            seconds
        );
    }
}
