//! Isolated snapshots (layer 6): before an approved destroy of a protected resource runs, a
//! copy of what is about to be lost goes into a store in another failure domain, is verified,
//! and its id and digest are recorded in the ledger.
//!
//! - [`Snapshotter`]: [`Snapshotter::take`] a snapshot of a `[[protect]]` entry (`pg_dump`
//!   or a command; the upstream's own backup is only *recorded*, as not isolated, with
//!   [`Snapshotter::record_upstream_backup`]), [`Snapshotter::verify`], [`Snapshotter::list`],
//!   [`Snapshotter::restore`] into a database.
//! - [`Store`]: a local directory ([`DirectoryStore`]: content-addressed, read-only files,
//!   fsync + rename) or S3-compatible storage ([`S3Store`], Object Lock retention when the
//!   bucket has it; a minimal SigV4 client, see the `s3` module for why not `object_store`).
//! - [`Manifest`]: what a snapshot is, signed with the Ed25519 key `keys/snapshot.key`
//!   ([`ManifestSigner`]); verification re-hashes the blob and checks the signature.
//! - [`PgTarget`]: a database URL split so its password goes only into `PGPASSWORD`.
//!
//! Before forwarding an approved destroy of a protected resource, the gateway does:
//!
//! ```text
//! let secrets = |name: &str| secret_store.get(name).map_err(|error| error.to_string());
//! match snapshotter.before_destroy(&config, upstream, resource, &secrets, now).await {
//!     Ok(Protection::Snapshotted(manifest)) => {           // forward; in its ledger record:
//!         record.snapshot_id = Some(manifest.id.clone());
//!         record.verdict.reasons.push(manifest.ledger_reason()?);   // id + sha256 digest
//!     }
//!     Ok(Protection::UpstreamBackupRequired) => { /* volumeInstanceBackupCreate, then
//!         record_upstream_backup(...): recorded as NOT isolated */ }
//!     Ok(Protection::NotProtected) => { /* the hold already says "no snapshot" */ }
//!     Err(error) => { /* do NOT forward; tell the approvers `error` */ }
//! }
//! ```
//!
//! The call is async and lasts as long as `pg_dump` does; hold no lock across it.
//!
//! This crate must not decide whether a destroy may run (it only reports whether a verified
//! snapshot exists), write the ledger (callers record the snapshot id it returns), put a
//! password on a command line or in a message, or overwrite anything it stored. It reads the
//! clock only to sign S3 requests; snapshot times are passed in.

mod error;
mod manifest;
mod pg;
mod progress;
mod s3;
mod sigv4;
mod snapshot;
mod store;
mod time;

pub use error::SnapshotError;
pub use manifest::{
    Manifest, ManifestSigner, ManifestVerifier, RestoreListSummary, SNAPSHOT_KEY_FILE,
    SNAPSHOT_PUBLIC_FILE,
};
pub use pg::PgTarget;
pub use progress::Progress;
pub use s3::{LockMode, ObjectLockPolicy, ObjectRetention, S3Location, S3Store};
pub use sigv4::S3Credentials;
pub use snapshot::{
    ListedSnapshot, Protection, RestoreMode, RestoreReport, SecretSource, Snapshotter,
};
pub use store::{DirectoryStore, FetchedBlob, Store};
pub use time::now_unix;
