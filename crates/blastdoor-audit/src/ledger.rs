//! [`Ledger`]: the SQLite store behind the tree, with group commit, checkpoints, proofs and
//! full verification.
//!
//! Schema (one file, WAL mode, `synchronous=FULL` or `NORMAL` as the caller's [`Durability`]
//! says):
//! - `meta(key, value)`: `format` (= 1) and `origin`, the log's name in checkpoints, and
//!   `inbox_cursor`, the inbox generation and offset the last fold consumed (see
//!   [`crate::inbox`]);
//! - `entries(seq, entry, leaf_hash)`: the canonical entry bytes and SHA-256(0x00 || entry);
//! - `tree(id = 1, size, frontier)`: the tree size and its frontier (compact range), so that an
//!   append reads and writes O(log n) hashes;
//! - `checkpoints(size, note, created_unix_ms)`: signed checkpoints the log has issued.
//!
//! Appends from many processes are serialised by `BEGIN IMMEDIATE`: the sequence number and
//! the new frontier are computed inside the write transaction from what is committed, so two
//! processes can neither reuse a number nor interleave halves of a batch. Inside one process,
//! concurrent [`Ledger::append`] calls are grouped: the first caller to find no commit in
//! progress becomes the leader, takes every queued record, commits them in one transaction
//! (one fsync), publishes each caller's sequence number and hands over to the next leader.
//! There is no committer thread: a lone caller (a hook process) is its own leader and commits
//! directly.
//!
//! Inbox. Records delivered to the inbox ([`crate::inbox`]) are folded in, in one transaction
//! with the cursor, by [`Ledger::fold_inbox`], which every handle also runs (without waiting
//! for another process's lock) when it opens and before it appends or reads. An append made
//! while another process holds the inbox therefore lands before the records waiting there:
//! within one source (a hook session, the gateway) entries keep their order; across sources
//! the tree's order is the order of arrival in the tree, and `time_unix_ms` says when each
//! decision was made.
//!
//! One-shot processes. A process that opens the ledger when no other process has it open
//! rebuilds SQLite's WAL index by reading every frame of the WAL, so the cost of opening grows
//! with the WAL. Connections therefore checkpoint early ([`WAL_AUTOCHECKPOINT_PAGES`]) and never
//! on close (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`): closing a connection costs no fsync, and the
//! WAL a hook process has to read stays short. Opening an existing ledger writes nothing but
//! what folding a non-empty inbox writes. A long-lived writer committing large batches (the gateway) raises its own limit with
//! [`Ledger::set_wal_limit`]; a hook process writing to the same ledger meanwhile still folds at
//! the short limit, so it may pay for folding the gateway's recent frames (a copy and one fsync
//! of the database) on one call.

use std::collections::HashMap;
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};

use blastdoor_core::{Actor, Layer, Operation, OperationKind, Reason, Risk, RuleId, Verdict};

use crate::AuditError;
use crate::checkpoint::{Checkpoint, LedgerSigner, LedgerVerifier};
use crate::inbox;
use crate::merkle::{self, Frontier, Hash};
use crate::record::{self, EncodedRecord, Entry, Record};

/// The on-disk format version this code reads and writes.
const FORMAT: &str = "1";
/// How long a writer waits for another process's transaction before failing (closed).
const BUSY_TIMEOUT: Duration = Duration::from_secs(20);
/// WAL pages after which a committing connection checkpoints and truncates the WAL (SQLite's
/// default is 1000). An append writes two to three pages; a process that opens the ledger alone
/// reads the whole WAL, so a short WAL keeps every hook call cheap, at the price of a checkpoint
/// (a few fsyncs) every few dozen appends.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 64;
/// A WAL frame is a page (4096 bytes by default) plus a 24-byte header.
const WAL_FRAME_BYTES_AT_LEAST: u64 = 4096 + 24;

/// How durable an acknowledged append is. Security-relevant, so there is no default: every
/// caller says which it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: [`Ledger::append`] returns only after the WAL was fsynced, so the
    /// entry survives a crash of the process, the OS or the power. The gateway and approvals use
    /// this before anything irreversible: a request is forwarded only after its entry is durable.
    Fsync,
    /// WAL with `synchronous=NORMAL`: the entry is committed to the OS when `append` returns, so
    /// it survives the process (or the agent around it) being killed, but a power failure before
    /// the OS writes it back may lose the most recent entries. The chain stays consistent either
    /// way (SQLite's atomic commit): a lost entry is lost whole, with the entries after it. For
    /// the agent hook, which guards a local command.
    OsBuffered,
}

impl Durability {
    /// `fsync` or `os-buffered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Fsync => "fsync",
            Durability::OsBuffered => "os-buffered",
        }
    }

    fn synchronous_pragma(self) -> &'static str {
        match self {
            Durability::Fsync => "PRAGMA synchronous = FULL",
            Durability::OsBuffered => "PRAGMA synchronous = NORMAL",
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS tree (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL,
    frontier BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL,
    created_unix_ms INTEGER NOT NULL
) STRICT;
INSERT OR IGNORE INTO tree (id, size, frontier) VALUES (1, 0, x'');
";

/// The append-only audit ledger. `Send + Sync`: share it through an `Arc`; concurrent appends
/// from many threads are committed together.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    origin: String,
    durability: Durability,
    connection: Mutex<Connection>,
    queue: Mutex<Queue>,
    committed: Condvar,
    /// WAL pages after which a commit folds the WAL into the database (see `fold_long_wal`).
    wal_limit_pages: std::sync::atomic::AtomicU32,
}

#[derive(Debug, Default)]
struct Queue {
    next_ticket: u64,
    /// Encoded records waiting for the next commit, with their tickets.
    pending: Vec<(u64, Vec<u8>)>,
    /// True while some caller is committing a batch.
    leader_active: bool,
    /// Outcomes of committed batches, by ticket, until their callers pick them up.
    done: HashMap<u64, Result<u64, AuditError>>,
}

/// An inclusion proof of one entry in the tree of a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: Hash,
    /// Sibling hashes from the leaf upwards.
    pub path: Vec<Hash>,
    pub root: Hash,
}

impl InclusionProof {
    /// True when the path leads from the leaf to the root.
    pub fn verifies(&self) -> bool {
        match self.seq.checked_sub(1) {
            Some(index) => merkle::verify_inclusion(
                index,
                self.tree_size,
                &self.leaf_hash,
                &self.path,
                &self.root,
            ),
            None => false,
        }
    }
}

/// Checks a receipt offline: `note` is a checkpoint signed by `verifier`, and `entry` (the
/// stored entry bytes) is entry `seq` of the tree it signs, by the audit `path`. Returns the
/// checkpoint on success.
pub fn check_receipt(
    verifier: &LedgerVerifier,
    note: &str,
    seq: u64,
    entry: &[u8],
    path: &[Hash],
) -> Result<Checkpoint, AuditError> {
    let checkpoint = verifier.open(note)?;
    if !record::entry_names_seq(entry, seq) {
        return Err(AuditError::BadProof(format!(
            "the entry is not entry {seq}"
        )));
    }
    let proof = InclusionProof {
        seq,
        tree_size: checkpoint.size,
        leaf_hash: merkle::leaf_hash(entry),
        path: path.to_vec(),
        root: checkpoint.root,
    };
    if !proof.verifies() {
        return Err(AuditError::BadProof(format!(
            "entry {seq} is not in the tree of size {} signed by the checkpoint",
            checkpoint.size
        )));
    }
    Ok(checkpoint)
}

/// What a successful [`Ledger::verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub entries: u64,
    pub root: Hash,
    /// Stored checkpoints whose signature and root were checked.
    pub checkpoints: usize,
    /// The size of the witness checkpoint that was checked, if one was given.
    pub witness_size: Option<u64>,
}

/// A checkpoint the ledger stored when it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub note: String,
    pub created_unix_ms: i64,
}

impl Ledger {
    /// Opens the ledger at `path` with [`Durability::Fsync`], creating the file (mode 0600),
    /// its parent directories (0700) and the schema if needed.
    pub fn open_or_create(path: &Path) -> Result<Ledger, AuditError> {
        Ledger::open_or_create_with(path, Durability::Fsync)
    }

    /// [`Ledger::open_or_create`] with the caller's durability. The hook uses this: it works
    /// before `blastdoor init`.
    pub fn open_or_create_with(path: &Path, durability: Durability) -> Result<Ledger, AuditError> {
        let open_error = |error: std::io::Error| AuditError::Open {
            path: path.to_owned(),
            detail: error.to_string(),
        };
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(open_error)?;
        }
        // Create the file ourselves so SQLite (and its -wal and -shm files, which copy the
        // database's mode) never start out world-readable.
        OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(open_error)?;
        let connection = connect(path, durability)?;
        ensure_wal(path, &connection)?;
        let create = |connection: &mut Connection| -> rusqlite::Result<()> {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            transaction.execute_batch(SCHEMA)?;
            transaction.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('format', ?1)",
                [FORMAT],
            )?;
            transaction.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('origin', ?1)",
                [new_origin()],
            )?;
            transaction.commit()
        };
        let mut connection = connection;
        // Creating takes the write lock and an fsync; skip it when the schema is already there
        // (the common case: a hook process opens the ledger about once per hundred calls, to
        // fold its inbox).
        let initialised = connection
            .query_row(
                "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'checkpoints'",
                [],
                |_| Ok(()),
            )
            .optional()
            .map_err(|error| not_a_ledger(path, &error))?
            .is_some();
        if !initialised {
            create(&mut connection).map_err(|error| not_a_ledger(path, &error))?;
        }
        Ledger::from_connection(path, connection, durability)
    }

    /// Opens an existing ledger with [`Durability::Fsync`]; a missing file is
    /// [`AuditError::Missing`].
    pub fn open_existing(path: &Path) -> Result<Ledger, AuditError> {
        Ledger::open_existing_with(path, Durability::Fsync)
    }

    /// Opens an existing ledger with the caller's durability. Writes nothing until the first
    /// append, except to fold a non-empty inbox (a ledger not yet in WAL mode is switched to
    /// it here, once).
    pub fn open_existing_with(path: &Path, durability: Durability) -> Result<Ledger, AuditError> {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => {
                return Err(AuditError::NotALedger {
                    path: path.to_owned(),
                    detail: "not a regular file".to_owned(),
                });
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(AuditError::Missing {
                    path: path.to_owned(),
                });
            }
            Err(error) => {
                return Err(AuditError::Open {
                    path: path.to_owned(),
                    detail: error.to_string(),
                });
            }
        }
        let connection = connect(path, durability)?;
        ensure_wal(path, &connection)?;
        Ledger::from_connection(path, connection, durability)
    }

    fn from_connection(
        path: &Path,
        connection: Connection,
        durability: Durability,
    ) -> Result<Ledger, AuditError> {
        // Both keys in one read.
        let (format, origin) = connection
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = 'format'), \
                        (SELECT value FROM meta WHERE key = 'origin')",
                [],
                |row| {
                    Ok((
                        row.get::<_, Option<String>>(0)?,
                        row.get::<_, Option<String>>(1)?,
                    ))
                },
            )
            .map_err(|error| not_a_ledger(path, &error))?;
        let missing = |key: &str| AuditError::NotALedger {
            path: path.to_owned(),
            detail: format!("no `{key}` in its metadata"),
        };
        let format = format.ok_or_else(|| missing("format"))?;
        if format != FORMAT {
            return Err(AuditError::NotALedger {
                path: path.to_owned(),
                detail: format!("unsupported ledger format `{format}`"),
            });
        }
        let origin = origin.ok_or_else(|| missing("origin"))?;
        let ledger = Ledger {
            path: path.to_owned(),
            origin,
            durability,
            connection: Mutex::new(connection),
            queue: Mutex::new(Queue::default()),
            committed: Condvar::new(),
            wal_limit_pages: std::sync::atomic::AtomicU32::new(WAL_AUTOCHECKPOINT_PAGES),
        };
        // Upkeep: what the inbox holds stays there for the next fold if this one fails.
        ledger.fold_quietly();
        Ok(ledger)
    }

    /// The file this ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log's name, the first line of its checkpoints (and the name of its signing key).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How durable this handle's appends are.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Appends `record` (after redacting it once more) and returns its sequence number once
    /// the entry is committed as durably as [`Ledger::durability`] says. Any error means nothing
    /// was acknowledged: do not proceed.
    pub fn append(&self, record: &Record) -> Result<u64, AuditError> {
        let encoded = record::encode_record(&record.redacted())?;
        let mut queue = self.queue.lock().map_err(|_| AuditError::Poisoned)?;
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.pending.push((ticket, encoded));
        loop {
            if let Some(outcome) = queue.done.remove(&ticket) {
                return outcome;
            }
            if queue.leader_active {
                queue = self
                    .committed
                    .wait(queue)
                    .map_err(|_| AuditError::Poisoned)?;
                continue;
            }
            // Lead: commit everything queued so far, including our own record.
            queue.leader_active = true;
            let batch = std::mem::take(&mut queue.pending);
            drop(queue);
            let outcome = self.commit_encoded(batch.iter().map(|(_, encoded)| encoded.as_slice()));
            let mut relocked = self.queue.lock().map_err(|_| AuditError::Poisoned);
            if let Ok(queue) = relocked.as_mut() {
                queue.leader_active = false;
                match outcome {
                    Ok(seqs) if seqs.len() == batch.len() => {
                        for ((ticket, _), seq) in batch.iter().zip(seqs) {
                            queue.done.insert(*ticket, Ok(seq));
                        }
                    }
                    outcome => {
                        let error = match outcome {
                            Err(error) => error,
                            Ok(_) => AuditError::Storage(
                                "a batch commit numbered the wrong count of entries".to_owned(),
                            ),
                        };
                        for (ticket, _) in &batch {
                            queue.done.insert(*ticket, Err(error.clone()));
                        }
                    }
                }
            }
            self.committed.notify_all();
            queue = relocked?;
        }
    }

    /// Appends several records in one transaction; returns their sequence numbers once durable.
    pub fn append_batch(&self, records: &[Record]) -> Result<Vec<u64>, AuditError> {
        let encoded = records
            .iter()
            .map(|record| record::encode_record(&record.redacted()))
            .collect::<Result<Vec<_>, _>>()?;
        self.commit_encoded(encoded.iter().map(Vec::as_slice))
    }

    /// [`Ledger::append_batch`] for records the caller has already encoded (redaction and
    /// serialisation done off the committing thread).
    pub fn append_encoded_batch(&self, records: &[EncodedRecord]) -> Result<Vec<u64>, AuditError> {
        self.commit_encoded(records.iter().map(EncodedRecord::as_bytes))
    }

    fn lock_connection(&self) -> Result<MutexGuard<'_, Connection>, AuditError> {
        self.connection.lock().map_err(|_| AuditError::Poisoned)
    }

    /// One write transaction: read the committed tree state, number and hash the records,
    /// insert them, store the new frontier, commit (fsync). All or nothing.
    fn commit_encoded<'a>(
        &self,
        records: impl Iterator<Item = &'a [u8]>,
    ) -> Result<Vec<u64>, AuditError> {
        // Hook decisions delivered before these records go first, unless another process holds
        // the inbox right now (then they follow). Upkeep: a failure here leaves them in the
        // inbox and must not refuse this append.
        self.fold_quietly();
        let mut connection = self.lock_connection()?;
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(AuditError::storage)?;
        let seqs = insert_records(&transaction, records)?;
        transaction.commit().map_err(AuditError::storage)?;
        // The entries are committed: what follows is upkeep and cannot un-acknowledge them.
        self.fold_long_wal(&connection);
        Ok(seqs)
    }

    /// Folds the records hook processes delivered to the inbox (see [`crate::inbox`]) into the
    /// tree, in delivery order, in one transaction committed with `synchronous=FULL` (the inbox
    /// is emptied after it); returns how many entries that added. Waits up to
    /// [`inbox::LOCK_WAIT`] for another process holding the inbox, then fails. Every handle
    /// also folds, without waiting or reporting errors, when it opens and before it appends or
    /// reads, so callers need this only to know the inbox is folded (the hook, when its inbox
    /// is due) or to hear why it is not (`blastdoor audit verify`).
    pub fn fold_inbox(&self) -> Result<u64, AuditError> {
        self.fold_inbox_waiting(inbox::LOCK_WAIT)
    }

    /// Upkeep before appending or reading: a fold that cannot happen now leaves the records in
    /// the inbox for the next one.
    fn fold_quietly(&self) {
        let _ = self.fold_inbox_waiting(Duration::ZERO);
    }

    fn fold_inbox_waiting(&self, wait: Duration) -> Result<u64, AuditError> {
        if inbox::pending_bytes(&self.path) == 0 {
            return Ok(0);
        }
        let mut connection = self.lock_connection()?;
        // The inbox lock is taken before SQLite's write lock, never after (see `inbox`). While
        // it is held, wait for SQLite only briefly: deliverers are waiting for us.
        connection
            .busy_timeout(inbox::LOCK_WAIT / 2)
            .map_err(AuditError::storage)?;
        let taken = inbox::take(&self.path, wait, || read_inbox_cursor(&connection));
        let taken = match taken {
            Ok(Some(taken)) => taken,
            other => {
                let _ = connection.busy_timeout(BUSY_TIMEOUT);
                return other.map(|_| 0);
            }
        };
        // Emptying the inbox after an `OsBuffered` commit could reach the disk before the
        // commit does; this commit is synced first. Every error below goes through the
        // restore of the connection's settings that follows.
        let outcome = connection
            .execute_batch("PRAGMA synchronous = FULL")
            .map_err(AuditError::storage)
            .and_then(|()| {
                let damage = taken
                    .damaged
                    .iter()
                    .map(|damaged| record::encode_record(&damage_record(damaged)))
                    .collect::<Result<Vec<_>, _>>()?;
                let transaction = connection
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(AuditError::storage)?;
                let records = taken.records.iter().chain(damage.iter()).map(Vec::as_slice);
                let seqs = insert_records(&transaction, records)?;
                if let Some((generation, end)) = taken.cursor {
                    transaction
                        .execute(
                            "INSERT OR REPLACE INTO meta (key, value) VALUES ('inbox_cursor', ?1)",
                            [format!("{}:{end}", hex::encode(generation))],
                        )
                        .map_err(AuditError::storage)?;
                }
                transaction.commit().map_err(AuditError::storage)?;
                Ok(seqs.len() as u64)
            });
        let _ = connection.execute_batch(self.durability.synchronous_pragma());
        let _ = connection.busy_timeout(BUSY_TIMEOUT);
        let folded = outcome?;
        // Committed with the cursor: emptying the inbox is now safe (and may fail harmlessly).
        taken.finish();
        self.fold_long_wal(&connection);
        Ok(folded)
    }
}

/// Numbers, hashes and inserts `records` (encoded records) after the committed tree, inside
/// `transaction`, and stores the new frontier. Returns their sequence numbers.
fn insert_records<'a>(
    transaction: &rusqlite::Transaction<'_>,
    records: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<u64>, AuditError> {
    let mut frontier = read_frontier(transaction)?;
    let highest: Option<u64> = transaction
        .prepare_cached("SELECT max(seq) FROM entries")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(AuditError::storage)?;
    if highest.unwrap_or(0) != frontier.size() {
        return Err(AuditError::SizeMismatch {
            expected: frontier.size(),
            actual: highest.unwrap_or(0),
        });
    }
    let mut seqs = Vec::new();
    {
        let mut insert = transaction
            .prepare_cached("INSERT INTO entries (seq, entry, leaf_hash) VALUES (?1, ?2, ?3)")
            .map_err(AuditError::storage)?;
        for record_json in records {
            let seq = frontier
                .size()
                .checked_add(1)
                .filter(|seq| i64::try_from(*seq).is_ok())
                .ok_or(AuditError::Full)?;
            let entry = record::entry_bytes(seq, record_json)?;
            let leaf = merkle::leaf_hash(&entry);
            insert
                .execute(params![seq, entry, leaf.as_slice()])
                .map_err(AuditError::storage)?;
            frontier.push(leaf);
            seqs.push(seq);
        }
    }
    transaction
        .prepare_cached("UPDATE tree SET size = ?1, frontier = ?2 WHERE id = 1")
        .and_then(|mut statement| statement.execute(params![frontier.size(), frontier.to_bytes()]))
        .map_err(AuditError::storage)?;
    Ok(seqs)
}

impl Ledger {
    /// Lets the WAL grow to `pages` pages (default [`WAL_AUTOCHECKPOINT_PAGES`]) before a
    /// commit folds it into the database. Folding costs several fsyncs; a one-shot process (the
    /// hook) wants a short WAL because every open reads all of it, while a long-lived writer
    /// committing large batches (the gateway) would otherwise fold after almost every commit
    /// and spend most of its time in fsync. Durability is the same either way: an entry is
    /// durable once its commit returns, whether its frame is in the WAL or the database.
    pub fn set_wal_limit(&self, pages: u32) -> Result<(), AuditError> {
        let pages = pages.max(WAL_AUTOCHECKPOINT_PAGES);
        let connection = self.lock_connection()?;
        // SQLite's own auto-checkpoint stays a backstop above the fold.
        connection
            .pragma_update(None, "wal_autocheckpoint", pages.saturating_mul(4))
            .map_err(AuditError::storage)?;
        self.wal_limit_pages
            .store(pages, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Checkpoints the WAL into the database and truncates it once it is longer than
    /// the WAL limit ([`Ledger::set_wal_limit`]), without waiting: if a reader or writer is busy, the next
    /// commit tries again. SQLite's own auto-checkpoint cannot do this for one-shot processes:
    /// a process that opens the ledger alone rebuilds the WAL index and forgets that the frames
    /// were already checkpointed, so the WAL would never restart and every open would read (and
    /// every commit re-checkpoint) all of it.
    fn fold_long_wal(&self, connection: &Connection) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let long = std::fs::metadata(&wal).is_ok_and(|metadata| {
            metadata.len()
                > u64::from(
                    self.wal_limit_pages
                        .load(std::sync::atomic::Ordering::Relaxed),
                ) * WAL_FRAME_BYTES_AT_LEAST
        });
        if !long {
            return;
        }
        // Best effort: an error leaves the WAL as it is, still consistent.
        let _ = connection.busy_timeout(Duration::ZERO);
        let _ = connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = connection.busy_timeout(BUSY_TIMEOUT);
    }

    /// The committed tree size and root.
    pub fn tree_head(&self) -> Result<(u64, Hash), AuditError> {
        self.fold_quietly();
        let connection = self.lock_connection()?;
        let frontier = read_frontier(&connection)?;
        Ok((frontier.size(), frontier.root()))
    }

    /// The stored bytes of entry `seq`, exactly as hashed into its leaf.
    pub fn entry_bytes(&self, seq: u64) -> Result<Vec<u8>, AuditError> {
        self.fold_quietly();
        let connection = self.lock_connection()?;
        let size = read_frontier(&connection)?.size();
        connection
            .query_row("SELECT entry FROM entries WHERE seq = ?1", [seq], |row| {
                row.get(0)
            })
            .optional()
            .map_err(AuditError::storage)?
            .ok_or(AuditError::NoSuchEntry { seq, size })
    }

    /// Up to `limit` entries with sequence numbers from `since` (inclusive), in order.
    pub fn entries(&self, since: u64, limit: Option<u64>) -> Result<Vec<Entry>, AuditError> {
        self.fold_quietly();
        let connection = self.lock_connection()?;
        let limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let mut statement = connection
            .prepare("SELECT seq, entry FROM entries WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
            .map_err(AuditError::storage)?;
        let rows = statement
            .query_map(params![since, limit], |row| {
                Ok((row.get::<_, u64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(AuditError::storage)?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, bytes) = row.map_err(AuditError::storage)?;
            let entry = record::decode_entry(seq, &bytes)?;
            if entry.seq != seq {
                return Err(AuditError::BadEntry {
                    seq,
                    problem: format!("the entry stored at {seq} says it is entry {}", entry.seq),
                });
            }
            entries.push(entry);
        }
        Ok(entries)
    }

    /// Signs the current tree head with `signer`, stores the checkpoint and returns the note.
    pub fn checkpoint(
        &self,
        signer: &LedgerSigner,
        now_unix_ms: i64,
    ) -> Result<StoredCheckpoint, AuditError> {
        // A checkpoint covers the decisions delivered so far, unless the inbox cannot be folded
        // now (then `blastdoor audit verify` says why).
        let _ = self.fold_inbox();
        let mut connection = self.lock_connection()?;
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(AuditError::storage)?;
        let frontier = read_frontier(&transaction)?;
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: frontier.size(),
            root: frontier.root(),
        };
        let note = signer.sign(&checkpoint);
        transaction
            .execute(
                "INSERT OR REPLACE INTO checkpoints (size, note, created_unix_ms) VALUES (?1, ?2, ?3)",
                params![checkpoint.size, note, now_unix_ms],
            )
            .map_err(AuditError::storage)?;
        transaction.commit().map_err(AuditError::storage)?;
        Ok(StoredCheckpoint {
            size: checkpoint.size,
            note,
            created_unix_ms: now_unix_ms,
        })
    }

    /// Every stored checkpoint, smallest tree first.
    pub fn stored_checkpoints(&self) -> Result<Vec<StoredCheckpoint>, AuditError> {
        self.fold_quietly();
        let connection = self.lock_connection()?;
        read_checkpoints(&connection)
    }

    /// The inclusion proof of entry `seq` in the tree of the first `tree_size` entries.
    pub fn prove(&self, seq: u64, tree_size: u64) -> Result<InclusionProof, AuditError> {
        self.fold_quietly();
        let mut connection = self.lock_connection()?;
        let connection = connection.transaction().map_err(AuditError::storage)?;
        let size = read_frontier(&connection)?.size();
        if seq == 0 || seq > tree_size || tree_size > size {
            return Err(AuditError::NoSuchEntry {
                seq,
                size: tree_size.min(size),
            });
        }
        let leaves = read_leaf_hashes(&connection, tree_size)?;
        let index = seq - 1;
        let path = merkle::inclusion_proof(index, &leaves).ok_or(AuditError::NoSuchEntry {
            seq,
            size: tree_size,
        })?;
        let leaf_hash = leaves
            .get(usize::try_from(index).map_err(|_| AuditError::NoSuchEntry { seq, size })?)
            .copied()
            .ok_or(AuditError::NoSuchEntry { seq, size })?;
        Ok(InclusionProof {
            seq,
            tree_size,
            leaf_hash,
            path,
            root: merkle::root_of(&leaves),
        })
    }

    /// Checks the whole log: sequence numbers are exactly 1..=n, every entry's bytes name its
    /// own number and hash to the stored leaf hash, the recomputed tree matches the stored tree
    /// state, every stored checkpoint is signed by `verifier` and matches the tree at its size,
    /// and so does `witness` (a checkpoint note saved elsewhere), which also rules out
    /// truncation below its size. Returns the first problem, in sequence order.
    pub fn verify(
        &self,
        verifier: Option<&LedgerVerifier>,
        witness: Option<&str>,
    ) -> Result<VerifyReport, AuditError> {
        // Delivered decisions are checked as entries; a fold that fails does not stop the tree
        // from being verified (callers ask `fold_inbox` to hear why it failed).
        let _ = self.fold_inbox();
        let mut connection = self.lock_connection()?;
        // One read transaction: every read below sees the same snapshot, however many other
        // processes append meanwhile.
        let connection = connection.transaction().map_err(AuditError::storage)?;
        // The key is named after the log it was created for: a ledger file that was deleted
        // and recreated (with a new origin) is caught here even before any checkpoint.
        if let Some(verifier) = verifier.filter(|verifier| verifier.name() != self.origin) {
            return Err(AuditError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: verifier.name().to_owned(),
            });
        }
        // Every checkpoint to compare against, as (size, root, label), smallest first.
        let mut expected: Vec<(u64, Hash, &'static str)> = Vec::new();
        let stored = read_checkpoints(&connection)?;
        if !stored.is_empty() {
            let verifier = verifier.ok_or_else(|| AuditError::BadCheckpoint {
                size: stored.first().map_or(0, |checkpoint| checkpoint.size),
                problem: "cannot check stored checkpoints without the ledger's public key"
                    .to_owned(),
            })?;
            for checkpoint in &stored {
                let opened =
                    verifier
                        .open(&checkpoint.note)
                        .map_err(|error| AuditError::BadCheckpoint {
                            size: checkpoint.size,
                            problem: format!("stored checkpoint does not verify: {error}"),
                        })?;
                self.check_origin_and_size(&opened, checkpoint.size)?;
                expected.push((opened.size, opened.root, "stored checkpoint"));
            }
        }
        let mut witness_size = None;
        if let Some(note) = witness {
            let verifier = verifier.ok_or_else(|| {
                AuditError::MalformedKey(
                    "checking a checkpoint needs the ledger's public key".to_owned(),
                )
            })?;
            let opened = verifier.open(note)?;
            self.check_origin_and_size(&opened, opened.size)?;
            witness_size = Some(opened.size);
            expected.push((opened.size, opened.root, "given checkpoint"));
        }
        expected.sort_by_key(|(size, _, _)| *size);

        let tree_state = read_frontier(&connection)?;
        let mut frontier = Frontier::new();
        let mut pending = expected.iter().peekable();
        let mut check_due = |frontier: &Frontier| -> Result<(), AuditError> {
            while let Some((size, root, label)) =
                pending.next_if(|(size, _, _)| *size <= frontier.size())
            {
                if *size == frontier.size() && frontier.root() != *root {
                    return Err(AuditError::BadCheckpoint {
                        size: *size,
                        problem: format!(
                            "entries 1..={size} do not hash to the root of the {label}: an entry at or before {size} was changed, removed or reordered"
                        ),
                    });
                }
            }
            Ok(())
        };
        check_due(&frontier)?;
        let mut statement = connection
            .prepare("SELECT seq, entry, leaf_hash FROM entries ORDER BY seq")
            .map_err(AuditError::storage)?;
        let mut rows = statement.query([]).map_err(AuditError::storage)?;
        while let Some(row) = rows.next().map_err(AuditError::storage)? {
            let expected_seq = frontier.size() + 1;
            let seq: i64 = row.get(0).map_err(AuditError::storage)?;
            if u64::try_from(seq).ok() != Some(expected_seq) {
                return Err(AuditError::BadEntry {
                    seq: expected_seq,
                    problem: format!("missing: the next stored entry is numbered {seq}"),
                });
            }
            let entry = row
                .get_ref(1)
                .map_err(AuditError::storage)?
                .as_blob()
                .map_err(|_| AuditError::BadEntry {
                    seq: expected_seq,
                    problem: "the entry is not stored as bytes".to_owned(),
                })?;
            if !record::entry_names_seq(entry, expected_seq) {
                return Err(AuditError::BadEntry {
                    seq: expected_seq,
                    problem:
                        "the entry's bytes do not name this sequence number (edited or reordered)"
                            .to_owned(),
                });
            }
            let leaf = merkle::leaf_hash(entry);
            let stored_leaf = row.get_ref(2).map_err(AuditError::storage)?.as_blob().ok();
            if stored_leaf != Some(leaf.as_slice()) {
                return Err(AuditError::BadEntry {
                    seq: expected_seq,
                    problem: "the entry's bytes do not match its stored leaf hash (edited)"
                        .to_owned(),
                });
            }
            frontier.push(leaf);
            check_due(&frontier)?;
        }
        if frontier.size() != tree_state.size() {
            return Err(AuditError::SizeMismatch {
                expected: tree_state.size(),
                actual: frontier.size(),
            });
        }
        if frontier.root() != tree_state.root() {
            return Err(AuditError::RootMismatch(
                "the recomputed root differs from the stored tree state".to_owned(),
            ));
        }
        if let Some((size, _, label)) = pending.next() {
            return Err(AuditError::BadCheckpoint {
                size: *size,
                problem: format!(
                    "the log has only {} entries, fewer than the {label} (truncated)",
                    frontier.size()
                ),
            });
        }
        Ok(VerifyReport {
            entries: frontier.size(),
            root: frontier.root(),
            checkpoints: stored.len(),
            witness_size,
        })
    }

    fn check_origin_and_size(
        &self,
        checkpoint: &Checkpoint,
        stored_size: u64,
    ) -> Result<(), AuditError> {
        if checkpoint.origin != self.origin {
            return Err(AuditError::BadCheckpoint {
                size: checkpoint.size,
                problem: format!(
                    "it is for log `{}`, not this log `{}`",
                    checkpoint.origin, self.origin
                ),
            });
        }
        if checkpoint.size != stored_size {
            return Err(AuditError::BadCheckpoint {
                size: stored_size,
                problem: format!(
                    "stored under size {stored_size} but signs size {}",
                    checkpoint.size
                ),
            });
        }
        Ok(())
    }
}

fn connect(path: &Path, durability: Durability) -> Result<Connection, AuditError> {
    // Never create here (open_or_create makes the file itself) and never read the path as a URI.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection =
        Connection::open_with_flags(path, flags).map_err(|error| AuditError::Open {
            path: path.to_owned(),
            detail: error.to_string(),
        })?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|error| not_a_ledger(path, &error))?;
    // None of these touch the file: `synchronous` and `wal_autocheckpoint` are per connection.
    // FULL fsyncs the WAL on every commit; NORMAL leaves the commit to the OS and fsyncs only
    // at checkpoints, which keeps WAL mode consistent across a power failure. SQLite's
    // auto-checkpoint stays as a backstop; `fold_long_wal` normally truncates the WAL first.
    connection
        .execute_batch(&format!(
            "{}; PRAGMA wal_autocheckpoint = {};",
            durability.synchronous_pragma(),
            WAL_AUTOCHECKPOINT_PAGES.saturating_mul(4)
        ))
        .map_err(|error| not_a_ledger(path, &error))?;
    // Closing the last connection would checkpoint the WAL into the database and delete it
    // (several fsyncs) on every hook call. Committed entries are already in the WAL, so closing
    // without a checkpoint loses nothing; auto-checkpoints keep the WAL short.
    connection
        .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(|error| not_a_ledger(path, &error))?;
    Ok(connection)
}

/// Switches the database to WAL mode unless it already is in it (the mode is stored in the
/// file, so this writes once in the ledger's life and only reads afterwards).
fn ensure_wal(path: &Path, connection: &Connection) -> Result<(), AuditError> {
    let current: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .map_err(|error| not_a_ledger(path, &error))?;
    if current.eq_ignore_ascii_case("wal") {
        return Ok(());
    }
    // WAL lets readers run beside the writer and makes a commit one sequential write.
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|error| not_a_ledger(path, &error))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AuditError::Open {
            path: path.to_owned(),
            detail: format!("cannot switch to WAL mode (got `{mode}`)"),
        });
    }
    Ok(())
}

fn not_a_ledger(path: &Path, error: &rusqlite::Error) -> AuditError {
    AuditError::NotALedger {
        path: path.to_owned(),
        detail: error.to_string(),
    }
}

fn read_frontier(connection: &Connection) -> Result<Frontier, AuditError> {
    let (size, bytes): (i64, Vec<u8>) = connection
        .prepare_cached("SELECT size, frontier FROM tree WHERE id = 1")
        .and_then(|mut statement| statement.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
        .map_err(AuditError::storage)?;
    u64::try_from(size)
        .ok()
        .and_then(|size| Frontier::from_parts(size, &bytes))
        .ok_or_else(|| AuditError::RootMismatch("the stored tree state is malformed".to_owned()))
}

fn read_checkpoints(connection: &Connection) -> Result<Vec<StoredCheckpoint>, AuditError> {
    let mut statement = connection
        .prepare("SELECT size, note, created_unix_ms FROM checkpoints ORDER BY size")
        .map_err(AuditError::storage)?;
    let rows = statement
        .query_map([], |row| {
            Ok(StoredCheckpoint {
                size: row.get(0)?,
                note: row.get(1)?,
                created_unix_ms: row.get(2)?,
            })
        })
        .map_err(AuditError::storage)?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(AuditError::storage)
}

/// The stored leaf hashes of entries 1..=size, checked for contiguity.
fn read_leaf_hashes(connection: &Connection, size: u64) -> Result<Vec<Hash>, AuditError> {
    let mut statement = connection
        .prepare("SELECT seq, leaf_hash FROM entries WHERE seq <= ?1 ORDER BY seq")
        .map_err(AuditError::storage)?;
    let mut rows = statement.query([size]).map_err(AuditError::storage)?;
    let mut leaves = Vec::new();
    while let Some(row) = rows.next().map_err(AuditError::storage)? {
        let expected_seq = leaves.len() as u64 + 1;
        let seq: u64 = row.get(0).map_err(AuditError::storage)?;
        let leaf = row
            .get_ref(1)
            .map_err(AuditError::storage)?
            .as_blob()
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok());
        match leaf {
            Some(leaf) if seq == expected_seq => leaves.push(leaf),
            _ => {
                return Err(AuditError::BadEntry {
                    seq: expected_seq,
                    problem: "missing or malformed (run `blastdoor audit verify`)".to_owned(),
                });
            }
        }
    }
    if leaves.len() as u64 != size {
        return Err(AuditError::SizeMismatch {
            expected: size,
            actual: leaves.len() as u64,
        });
    }
    Ok(leaves)
}

/// A new log name: `blastdoor/<host>/<8 random hex digits>`, so two ledgers never share one.
fn new_origin() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(63)
        .collect();
    let host = if host.is_empty() {
        "localhost".to_owned()
    } else {
        host
    };
    let mut random = [0u8; 4];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
    format!("blastdoor/{host}/{}", hex::encode(random))
}

/// The inbox generation and offset the last fold consumed up to, if any.
fn read_inbox_cursor(connection: &Connection) -> Result<Option<([u8; 16], u64)>, AuditError> {
    let value: Option<String> = connection
        .query_row(
            "SELECT value FROM meta WHERE key = 'inbox_cursor'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(AuditError::storage)?;
    let Some(value) = value else {
        return Ok(None);
    };
    let malformed = || AuditError::Storage(format!("malformed inbox cursor `{value}`"));
    let (generation, offset) = value.split_once(':').ok_or_else(malformed)?;
    let generation: [u8; 16] = hex::decode(generation)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(malformed)?;
    let offset = offset.parse().map_err(|_| malformed())?;
    Ok(Some((generation, offset)))
}

/// The entry folded in place of inbox bytes that are not whole records. Its time is the
/// inbox's last modification (this crate reads no clock), or 0 when that is unknown.
fn damage_record(damaged: &inbox::Damaged) -> Record {
    let description = format!(
        "{} bytes of the ledger's inbox, from offset {}, are not whole hook records; kept in `{}`",
        damaged.bytes,
        damaged.offset,
        damaged.kept_in.display()
    );
    let explanation = "a write torn by a crash, bytes changed after they were written, or a \
                       record no hook wrote: they were not folded into the ledger, and are kept \
                       for inspection";
    let reasons = RuleId::new("ledger.inbox-damaged")
        .map(|rule| vec![Reason::new(rule, explanation, None, "")])
        .unwrap_or_default();
    Record {
        time_unix_ms: damaged.modified_unix_ms,
        layer: Layer::System,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Internal, &description, Risk::Unknown, vec![]),
        verdict: Verdict::deny(reasons),
        hold_id: None,
        approvers: Vec::new(),
        snapshot_id: None,
        upstream_response: None,
    }
}
