//! blastdoor's tamper-evident audit ledger: every decision of every layer is appended here,
//! and nobody (agent, operator, or an attacker with write access to the disk) can quietly
//! rewrite what was appended.
//!
//! - [`record`]: [`Record`], what a caller appends, and the canonical entry bytes.
//! - [`merkle`]: RFC 6962 tree math, sans-IO, with property tests against a naive
//!   recomputation.
//! - [`checkpoint`]: C2SP signed-note checkpoints and the Ed25519 keys that sign them.
//! - [`Ledger`]: the SQLite store, group commit, checkpoints, proofs and verification.
//! - [`keys`]: creating and loading the ledger key in `BLASTDOOR_HOME/keys`.
//! - [`inbox`]: how a one-shot process (the hook) hands a record over without opening SQLite;
//!   every [`Ledger`] handle folds the inbox into the tree when it opens, appends or reads.
//!
//! # Design
//!
//! **Entries.** An entry is `serde_json` of the record with its sequence number first:
//! `{"seq":N,"time_unix_ms":...,"layer":...,"actor":...,"operation":...,"verdict":...,
//! "hold_id":...,"approvers":[...],"snapshot_id":...,"upstream_response":...}`. Those bytes are
//! produced once, stored verbatim and hashed verbatim; nothing is ever re-serialised to be
//! checked. Before encoding, every free-text field (operation description, target kind, id and
//! upstream, reason texts, approver names, the upstream summary) goes through
//! `blastdoor_core::redact_known_secrets` again; `Secret<T>` values serialise as `[redacted]`.
//!
//! **Tree.** leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right) (RFC 6962).
//! The database keeps the tree's frontier (one hash per set bit of the size), so an append
//! reads and writes O(log n) hashes. Sequence numbers are 1-based: entry `seq` is leaf
//! `seq - 1`.
//!
//! **Checkpoints.** `"<origin>\n<size>\n<base64 root>\n"`, a blank line, and
//! `"— <key name> <base64(key hash || Ed25519 signature)>"` (C2SP tlog-checkpoint and
//! signed-note). The origin is chosen when the ledger file is created,
//! `blastdoor/<hostname>/<8 random hex digits>`, stored in the database, and is also the name of
//! the signing key. Signing needs the private key (`keys/ledger.key`, 0600); appending never
//! does, so hook processes run without it. Checkpoints are stored in the database when signed.
//!
//! **Storage and concurrency.** SQLite in WAL mode and a busy timeout; the caller picks the
//! [`Durability`]: `synchronous=FULL` (every commit fsyncs: the gateway and approvals) or
//! `NORMAL` (committed to the OS, fsynced at checkpoints: the agent hook). Each commit is one
//! `BEGIN IMMEDIATE` transaction that reads the committed tree state, numbers the records
//! after it, inserts them and stores the new frontier, so processes appending at once never
//! reuse or skip a number. Within a process, concurrent [`Ledger::append`] calls are batched by
//! a leader/follower scheme: one caller commits everything queued in one transaction (with
//! `Fsync`, one fsync), and every caller returns only after the batch is committed. An error
//! rolls the transaction back and every caller in the batch gets it: no append is acknowledged
//! unless it was committed. Connections close without checkpointing and keep the WAL short
//! (see [`WAL_AUTOCHECKPOINT_PAGES`]), so a one-shot process pays no fsync at close and a short
//! WAL-index rebuild at open.
//!
//! **Verification.** [`Ledger::verify`] reads one consistent snapshot and checks that the
//! verifier key is named after this log's origin (a deleted and recreated ledger gets a new
//! origin), then, in sequence
//! order, that numbers run 1..=n without gaps, that each entry's bytes name its own number,
//! that each hashes to its stored leaf hash, that the recomputed tree matches the stored tree
//! state, that every stored checkpoint is signed by the ledger key and matches the tree at its
//! size, and that a checkpoint saved elsewhere (a witness copy) does too. The first problem is
//! reported with the sequence number (or checkpoint size) where it was found.
//!
//! What each layer of evidence catches: edits, deletions and reorderings of rows are caught
//! with no checkpoint at all; an attacker who also recomputes every hash and the tree state is
//! caught by any stored checkpoint they kept; one who also deletes the stored checkpoints
//! (or truncates the log) is caught only by a checkpoint saved outside their reach, which is
//! why `blastdoor audit checkpoint` output should be copied to a witness. Consistency is
//! checked by recomputing the prefix root during the full pass, which is stronger than (and as
//! fast as) checking a consistency proof; [`merkle::consistency_proof`] is there for remote
//! witnesses.
//!
//! This crate must not read the clock (callers pass times in), decide anything (it records
//! verdicts, it does not make them), or store anything it was given in clear that could be a
//! secret. Appending never needs the private key.

pub mod checkpoint;
mod error;
pub mod inbox;
pub mod keys;
mod ledger;
pub mod merkle;
pub mod record;

pub use checkpoint::{Checkpoint, LedgerSigner, LedgerVerifier};
pub use error::AuditError;
pub use ledger::{
    Durability, InclusionProof, Ledger, StoredCheckpoint, VerifyReport, WAL_AUTOCHECKPOINT_PAGES,
    check_receipt,
};
pub use record::{EncodedRecord, Entry, Record, UpstreamResponse};
