//! `blastdoor audit`: read, checkpoint, verify and prove the tamper-evident ledger in
//! `BLASTDOOR_HOME/ledger.sqlite` (the logic lives in `blastdoor-audit`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;
use blastdoor_audit::{
    AuditError, Durability, Entry, Ledger, LedgerVerifier, Record, StoredCheckpoint, keys,
};
use blastdoor_core::{Actor, Layer, Operation, OperationKind, Reason, Risk, RuleId, Verdict};

use crate::home::Home;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Print ledger entries (a table, or JSON lines with --json).
    Log(LogArgs),
    /// Sign the current tree head, store the checkpoint and print it (C2SP signed note).
    Checkpoint,
    /// Check every entry, hash and signature; with --checkpoint, also consistency with a saved
    /// checkpoint. Exit 0 only when everything checks out.
    Verify(VerifyArgs),
    /// Print the inclusion proof of entry SEQ and the checkpoint it is against.
    Prove(ProveArgs),
    /// Check a receipt printed by `prove --json` offline: the checkpoint's signature and the
    /// entry's inclusion in the tree it signs.
    CheckProof(CheckProofArgs),
    /// Append entries in a loop, printing each sequence number once it is durable (for tests).
    #[command(hide = true)]
    AppendLoop(AppendLoopArgs),
}

#[derive(Debug, clap::Args)]
struct LogArgs {
    /// JSON lines, one entry per line.
    #[arg(long)]
    json: bool,
    /// Start at this sequence number.
    #[arg(long, default_value_t = 1)]
    since: u64,
    /// Print at most this many entries.
    #[arg(long)]
    limit: Option<u64>,
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// A signed checkpoint saved earlier (for example by a witness).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// The verifier key to check signatures with (default: BLASTDOOR_HOME/keys/ledger.pub).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct ProveArgs {
    /// The entry's sequence number.
    seq: u64,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct CheckProofArgs {
    /// The JSON receipt from `blastdoor audit prove SEQ --json` (`-` for stdin).
    file: PathBuf,
    /// The verifier key (default: BLASTDOOR_HOME/keys/ledger.pub).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct AppendLoopArgs {
    /// Entries per thread (0 = until killed).
    #[arg(long, default_value_t = 0)]
    count: u64,
    /// Appending threads.
    #[arg(long, default_value_t = 1)]
    threads: u32,
    /// The operation description to record.
    #[arg(long, default_value = "append-loop test entry")]
    description: String,
    /// How durable each acknowledged entry is: `fsync` (the gateway's) or `os-buffered` (the
    /// hook's default).
    #[arg(long, value_enum, default_value_t = SyncArg::Fsync)]
    sync: SyncArg,
    /// Open the ledger anew for every entry and drop it after, as each hook process does.
    #[arg(long)]
    reopen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SyncArg {
    Fsync,
    OsBuffered,
}

impl From<SyncArg> for Durability {
    fn from(value: SyncArg) -> Durability {
        match value {
            SyncArg::Fsync => Durability::Fsync,
            SyncArg::OsBuffered => Durability::OsBuffered,
        }
    }
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env()?;
    match args.command {
        AuditCommand::Log(args) => log(&home, &args),
        AuditCommand::Checkpoint => checkpoint(&home),
        AuditCommand::Verify(args) => verify(&home, &args),
        AuditCommand::Prove(args) => prove(&home, &args),
        AuditCommand::CheckProof(args) => check_proof(&home, &args),
        AuditCommand::AppendLoop(args) => append_loop(&home, &args),
    }
}

fn open(home: &Home) -> anyhow::Result<Ledger> {
    Ok(Ledger::open_existing(&home.ledger_file())?)
}

fn log(home: &Home, args: &LogArgs) -> anyhow::Result<ExitCode> {
    let ledger = open(home)?;
    let entries = ledger.entries(args.since, args.limit)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        for entry in &entries {
            let line = blastdoor_audit::record::encode_entry(entry.seq, &entry.record)?;
            out.write_all(&line)?;
            out.write_all(b"\n")?;
        }
    } else {
        writeln!(
            out,
            "{:>6}  {:<24}  {:<8}  {:<20}  {:<7}  {:<8}  operation",
            "seq", "time (UTC)", "layer", "agent", "verdict", "risk"
        )?;
        for entry in &entries {
            writeln!(out, "{}", table_row(entry))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn table_row(entry: &Entry) -> String {
    let record = &entry.record;
    let agent = record
        .actor
        .agent
        .as_ref()
        .map_or("-", |agent| agent.as_str());
    let description: String = record
        .operation
        .description()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(100)
        .collect();
    format!(
        "{:>6}  {:<24}  {:<8}  {:<20}  {:<7}  {:<8}  {}",
        entry.seq,
        format_unix_ms(record.time_unix_ms),
        record.layer.as_str(),
        agent,
        record.verdict.decision.as_str(),
        record.operation.risk().as_str(),
        description
    )
}

fn checkpoint(home: &Home) -> anyhow::Result<ExitCode> {
    let ledger = open(home)?;
    let signer =
        keys::load_signer(&home.keys_dir()).context("signing a checkpoint needs the ledger key")?;
    let stored = ledger.checkpoint(&signer, now_unix_ms())?;
    print!("{}", stored.note);
    Ok(ExitCode::SUCCESS)
}

fn load_verifier(home: &Home, key: Option<&PathBuf>) -> anyhow::Result<Option<LedgerVerifier>> {
    match key {
        Some(path) => Ok(Some(keys::load_verifier_file(path)?)),
        None => {
            let path = keys::public_key_path(&home.keys_dir());
            if path.exists() {
                Ok(Some(keys::load_verifier_file(&path)?))
            } else {
                Ok(None)
            }
        }
    }
}

fn verify(home: &Home, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let ledger = open(home)?;
    let verifier = load_verifier(home, args.key.as_ref())?;
    let witness = match &args.checkpoint {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read checkpoint `{}`", path.display()))?,
        ),
        None => None,
    };
    if verifier.is_none() {
        eprintln!("warning: no ledger public key; checkpoint signatures cannot be checked");
    }
    // Hook decisions waiting in the inbox are folded in first; if that fails, the tree is
    // still verified, and the command fails saying why the inbox is stuck.
    let inbox = ledger.fold_inbox();
    if let Err(error) = &inbox {
        eprintln!("error: decisions waiting in the ledger's inbox cannot be folded in: {error}");
    }
    let verified = ledger.verify(verifier.as_ref(), witness.as_deref());
    if inbox.is_err() && verified.is_ok() {
        let _ = print_verified(&verified, args);
        return Ok(ExitCode::FAILURE);
    }
    print_verified(&verified, args)
}

fn print_verified(
    verified: &Result<blastdoor_audit::VerifyReport, AuditError>,
    args: &VerifyArgs,
) -> anyhow::Result<ExitCode> {
    match verified {
        Ok(report) if args.json => {
            let json = serde_json::json!({
                "ok": true,
                "entries": report.entries,
                "root": base64::engine::general_purpose::STANDARD.encode(report.root),
                "stored_checkpoints": report.checkpoints,
                "given_checkpoint_size": report.witness_size,
            });
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(report) => {
            let mut line = format!(
                "ok: {} entries, root {}, {} stored checkpoint(s) verified",
                report.entries,
                base64::engine::general_purpose::STANDARD.encode(report.root),
                report.checkpoints
            );
            if let Some(size) = report.witness_size {
                line.push_str(&format!(
                    ", consistent with the given checkpoint of size {size}"
                ));
            }
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("verification failed: {error}");
            if args.json {
                let (first_bad_seq, checkpoint_size) = match &error {
                    AuditError::BadEntry { seq, .. } => (Some(*seq), None),
                    AuditError::BadCheckpoint { size, .. } => (None, Some(*size)),
                    _ => (None, None),
                };
                let json = serde_json::json!({
                    "ok": false,
                    "error": error.to_string(),
                    "first_bad_seq": first_bad_seq,
                    "checkpoint_size": checkpoint_size,
                });
                println!("{json}");
            }
            Ok(ExitCode::from(1))
        }
    }
}

fn prove(home: &Home, args: &ProveArgs) -> anyhow::Result<ExitCode> {
    let ledger = open(home)?;
    let keys_dir = home.keys_dir();
    // Prove against the newest stored checkpoint that covers the entry, or sign a new one.
    let newest = ledger
        .stored_checkpoints()?
        .into_iter()
        .rev()
        .find(|checkpoint| checkpoint.size >= args.seq);
    let stored: StoredCheckpoint = match newest {
        Some(stored) => stored,
        None => {
            let signer = keys::load_signer(&keys_dir).context(
                "no stored checkpoint covers this entry and signing one needs the ledger key",
            )?;
            ledger.checkpoint(&signer, now_unix_ms())?
        }
    };
    let verifier = keys::load_verifier(&keys_dir)?;
    let checkpoint = verifier.open(&stored.note)?;
    let proof = ledger.prove(args.seq, checkpoint.size)?;
    anyhow::ensure!(
        proof.root == checkpoint.root && proof.verifies(),
        "the ledger does not match its checkpoint of size {} (run `blastdoor audit verify`)",
        checkpoint.size
    );
    let hex_path: Vec<String> = proof.path.iter().map(hex::encode).collect();
    if args.json {
        let json = serde_json::json!({
            "seq": proof.seq,
            "leaf_index": proof.seq - 1,
            "tree_size": proof.tree_size,
            "leaf_hash": hex::encode(proof.leaf_hash),
            "path": hex_path,
            "root": hex::encode(proof.root),
            "checkpoint": stored.note,
            "entry": String::from_utf8_lossy(&ledger.entry_bytes(proof.seq)?),
        });
        println!("{json}");
    } else {
        println!(
            "entry {} (leaf index {}) is in the tree of size {}",
            proof.seq,
            proof.seq - 1,
            proof.tree_size
        );
        println!("leaf hash: {}", hex::encode(proof.leaf_hash));
        println!("path ({} hashes, leaf to root):", hex_path.len());
        for hash in &hex_path {
            println!("  {hash}");
        }
        println!("root: {}", hex::encode(proof.root));
        println!("checkpoint:");
        print!("{}", stored.note);
    }
    Ok(ExitCode::SUCCESS)
}

/// The receipt `prove --json` prints, as `check-proof` reads it.
#[derive(Debug, serde::Deserialize)]
struct Receipt {
    seq: u64,
    path: Vec<String>,
    checkpoint: String,
    entry: String,
}

fn check_proof(home: &Home, args: &CheckProofArgs) -> anyhow::Result<ExitCode> {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&args.file)
            .with_context(|| format!("cannot read `{}`", args.file.display()))?
    };
    let receipt: Receipt =
        serde_json::from_str(&text).context("not a receipt from `blastdoor audit prove --json`")?;
    let path = receipt
        .path
        .iter()
        .map(|hash| {
            hex::decode(hash)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .with_context(|| format!("`{hash}` is not a 32-byte hex hash"))
        })
        .collect::<anyhow::Result<Vec<[u8; 32]>>>()?;
    let Some(verifier) = load_verifier(home, args.key.as_ref())? else {
        anyhow::bail!("no ledger public key (pass --key FILE)");
    };
    match blastdoor_audit::check_receipt(
        &verifier,
        &receipt.checkpoint,
        receipt.seq,
        receipt.entry.as_bytes(),
        &path,
    ) {
        Ok(checkpoint) => {
            println!(
                "ok: entry {} is in the log `{}` of size {}",
                receipt.seq, checkpoint.origin, checkpoint.size
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("proof check failed: {error}");
            Ok(ExitCode::from(1))
        }
    }
}

fn append_loop(home: &Home, args: &AppendLoopArgs) -> anyhow::Result<ExitCode> {
    let path = home.ledger_file();
    let durability = Durability::from(args.sync);
    let ledger = Arc::new(Ledger::open_or_create_with(&path, durability)?);
    let reopen = args.reopen;
    let record = Record {
        time_unix_ms: now_unix_ms(),
        layer: Layer::System,
        actor: Actor::default(),
        operation: Operation::new(
            OperationKind::Internal,
            &args.description,
            Risk::Write,
            vec![],
        ),
        verdict: Verdict::allow(vec![Reason::new(
            RuleId::new("audit.append-loop")?,
            "test appender",
            None,
            "",
        )]),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    };
    let threads: Vec<_> = (0..args.threads.max(1))
        .map(|_| {
            let ledger = Arc::clone(&ledger);
            let path = path.clone();
            let mut record = record.clone();
            let count = args.count;
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut done = 0u64;
                while count == 0 || done < count {
                    record.time_unix_ms = now_unix_ms();
                    let seq = match reopen {
                        true => Ledger::open_existing_with(&path, durability)?.append(&record)?,
                        false => ledger.append(&record)?,
                    };
                    // Printed only after append returned: each line is an acknowledged entry.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{seq}")?;
                    out.flush()?;
                    done += 1;
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("an appending thread panicked"))??;
    }
    Ok(ExitCode::SUCCESS)
}

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// `2026-11-25T07:44:20.123Z` from milliseconds since the Unix epoch (proleptic Gregorian).
fn format_unix_ms(unix_ms: i64) -> String {
    let seconds = unix_ms.div_euclid(1000);
    let millis = unix_ms.rem_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_in_utc() {
        assert_eq!(format_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_unix_ms(1_764_056_660_123),
            "2025-11-25T07:44:20.123Z"
        );
        assert_eq!(format_unix_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
