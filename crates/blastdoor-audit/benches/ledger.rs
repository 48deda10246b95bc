//! Ledger benchmark (not a timed test): prints durable appends per second with 1 appender,
//! 8 threads sharing one `Ledger` (group commit) and 8 processes, and `verify` speed over
//! 1,000,000 entries. Run with `cargo bench -p blastdoor-audit --bench ledger`.
//! `BENCH_DIR` chooses where the ledgers are written (default: the system temp directory);
//! `BENCH_VERIFY_ENTRIES` overrides the size of the verify ledger.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark fails loudly by design"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use blastdoor_audit::{Ledger, LedgerSigner, Record};
use blastdoor_core::{
    Actor, AgentName, Environment, Layer, Operation, OperationKind, Reason, Risk, RuleId, Target,
    Verdict,
};

const CHILD_ENV: &str = "BLASTDOOR_BENCH_CHILD";

fn record(i: u64) -> Record {
    Record {
        time_unix_ms: 1_764_000_000_000 + i as i64,
        layer: Layer::Hook,
        actor: Actor {
            agent: Some(AgentName::new("claude-staging-fix").unwrap()),
            session: None,
        },
        operation: Operation::new(
            OperationKind::Graphql,
            &format!("mutation {{ volumeDelete(volumeId: \"vol-{i}\") }}"),
            Risk::Destroy,
            vec![
                Target::new(
                    "volume",
                    format!("vol-{i}"),
                    vec![Environment::production()],
                )
                .on_upstream("railway"),
            ],
        ),
        verdict: Verdict::hold(
            2,
            vec![Reason::new(
                RuleId::new("railway.volume-delete").unwrap(),
                "deletes a Railway volume and every backup stored in it",
                Some("snapshot to the isolated store first".to_owned()),
                "held for two approvers",
            )],
        ),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    }
}

fn appends_per_second(path: &Path, appenders: u64, per_appender: u64) -> f64 {
    let ledger = Arc::new(Ledger::open_or_create(path).unwrap());
    let start = Instant::now();
    let threads: Vec<_> = (0..appenders)
        .map(|t| {
            let ledger = Arc::clone(&ledger);
            std::thread::spawn(move || {
                for i in 0..per_appender {
                    ledger.append(&record(t * per_appender + i)).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    (appenders * per_appender) as f64 / start.elapsed().as_secs_f64()
}

fn processes_appends_per_second(path: &Path, processes: u64, per_process: u64) -> f64 {
    Ledger::open_or_create(path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let start = Instant::now();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .env(CHILD_ENV, format!("{}\n{per_process}", path.display()))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let rate = (processes * per_process) as f64 / start.elapsed().as_secs_f64();
    let report = Ledger::open_existing(path)
        .unwrap()
        .verify(None, None)
        .unwrap();
    assert_eq!(report.entries, processes * per_process);
    rate
}

fn child(spec: &str) {
    let (path, count) = spec.split_once('\n').unwrap();
    let ledger = Ledger::open_or_create(Path::new(path)).unwrap();
    for i in 0..count.parse::<u64>().unwrap() {
        ledger.append(&record(i)).unwrap();
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child(&spec);
        return;
    }
    // `cargo bench` passes `--bench`; anything else (like `cargo test --benches`) is a dry run.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let base: PathBuf =
        std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(&base).unwrap();
    let scale = if quick { 20 } else { 1 };
    println!("ledgers in {}", dir.path().display());

    let per = 2000 / scale;
    let one = appends_per_second(&dir.path().join("one.sqlite"), 1, per);
    println!("durable appends/s, 1 appender:              {one:>10.0}  ({per} appends)");
    let per8 = 4000 / scale;
    let eight = appends_per_second(&dir.path().join("eight.sqlite"), 8, per8);
    println!(
        "durable appends/s, 8 threads (group commit): {eight:>10.0}  ({} appends)",
        8 * per8
    );
    let per_process = 500 / scale;
    let processes =
        processes_appends_per_second(&dir.path().join("processes.sqlite"), 8, per_process);
    println!(
        "durable appends/s, 8 processes:              {processes:>10.0}  ({} appends)",
        8 * per_process
    );

    let entries: u64 = std::env::var("BENCH_VERIFY_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 5_000 } else { 1_000_000 });
    let path = dir.path().join("big.sqlite");
    let ledger = Ledger::open_or_create(&path).unwrap();
    let start = Instant::now();
    let batch: u64 = 10_000;
    let mut written = 0;
    while written < entries {
        let records: Vec<Record> = (written..(written + batch).min(entries))
            .map(record)
            .collect();
        ledger.append_batch(&records).unwrap();
        written += records.len() as u64;
    }
    let build = start.elapsed().as_secs_f64();
    println!(
        "built {entries} entries in batches of {batch}: {build:.1} s ({:.0} entries/s)",
        entries as f64 / build
    );
    let signer = LedgerSigner::generate(ledger.origin()).unwrap();
    let note = ledger.checkpoint(&signer, 0).unwrap().note;
    drop(ledger);
    let size_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let ledger = Ledger::open_existing(&path).unwrap();
    let start = Instant::now();
    let report = ledger
        .verify(Some(&signer.verifier()), Some(&note))
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(report.entries, entries);
    println!(
        "verify: {entries} entries ({size_mb:.0} MB) in {seconds:.2} s = {:.0} entries/s (with 1 stored + 1 given checkpoint)",
        entries as f64 / seconds
    );
    let start = Instant::now();
    let proof = ledger.prove(entries / 2, entries).unwrap();
    println!(
        "prove entry {} of {entries}: {:.2} s ({} hashes)",
        entries / 2,
        start.elapsed().as_secs_f64(),
        proof.path.len()
    );
}
