//! [`Snapshotter`]: takes a snapshot of a protected resource into the store, verifies it,
//! lists, re-verifies and restores snapshots.
//!
//! Taking a snapshot: the method's output is streamed into a private staging file while it is
//! hashed; an empty output or a failing tool is an error; for `pg_dump` the staged dump must
//! pass `pg_restore --list`; the manifest is signed; blob then manifest are stored; and the
//! stored copy is verified again (re-read and re-hashed, signature checked, `pg_restore --list`
//! for dumps) before the snapshot is reported as taken. Any error means the destroy it was
//! meant to precede must not run.

use std::process::Stdio;

use blastdoor_config::{ProtectConfig, ProtectMethod, SnapshotStore, SnapshotsConfig};
use blastdoor_core::{Secret, SnapshotId, redact_known_secrets};
use rand_core::RngCore as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;

use crate::SnapshotError;
use crate::manifest::{Manifest, ManifestSigner, ManifestVerifier, RestoreListSummary};
use crate::pg::{PgTarget, scrub, tool_version};
use crate::progress::{Meter, Progress};
use crate::s3::{ObjectLockPolicy, S3Location, S3Store};
use crate::sigv4::S3Credentials;
use crate::store::{DirectoryStore, FetchedBlob, Store};
use crate::time::rfc3339;

/// Where secrets come from (the broker's `SecretStore` in the gateway and the CLI):
/// `|name| store.get(name).map_err(|error| error.to_string())`.
pub trait SecretSource {
    fn secret(&self, name: &str) -> Result<Secret<String>, String>;
}

impl<F> SecretSource for F
where
    F: Fn(&str) -> Result<Secret<String>, String>,
{
    fn secret(&self, name: &str) -> Result<Secret<String>, String> {
        self(name)
    }
}

/// Whether a restore may write into a database that already holds tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreMode {
    /// Refuse a target with any user table.
    RefuseNonEmpty,
    /// Restore anyway, dropping the objects the dump recreates (`--clean --if-exists`).
    DangerouslyOverwrite,
}

/// What must happen before an approved destroy of a resource is forwarded.
#[derive(Debug, Clone)]
pub enum Protection {
    /// A snapshot was taken, stored and verified: forward, and record its id and digest.
    Snapshotted(Box<Manifest>),
    /// The resource is protected by the upstream's own backup (`railway_backup`): make that
    /// call (`volumeInstanceBackupCreate`), record it with
    /// [`Snapshotter::record_upstream_backup`], and tell approvers it is *not isolated*.
    UpstreamBackupRequired,
    /// No `[[protect]]` entry names this resource: there is no snapshot, and the hold should
    /// say so.
    NotProtected,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// `host:port/database` of the target (never the DSN).
    pub target: String,
    pub bytes: u64,
}

/// A stored snapshot as listed: its manifest if the signature holds, else why not.
#[derive(Debug, Clone)]
pub struct ListedSnapshot {
    pub id: SnapshotId,
    pub manifest: Result<Manifest, String>,
}

/// Takes, verifies, lists and restores snapshots in one store.
#[derive(Debug)]
pub struct Snapshotter {
    store: Store,
    signer: ManifestSigner,
    verifier: ManifestVerifier,
}

impl Snapshotter {
    pub fn new(store: Store, signer: ManifestSigner) -> Snapshotter {
        let verifier = signer.verifier();
        Snapshotter {
            store,
            signer,
            verifier,
        }
    }

    /// Opens the store `[snapshots]` names. An S3 store's credentials come from `secrets`
    /// (secret `[snapshots] credential`, holding `ACCESS_KEY_ID:SECRET_ACCESS_KEY`); `lock` is
    /// applied when the bucket has Object Lock.
    pub async fn open_store(
        config: &SnapshotsConfig,
        secrets: &dyn SecretSource,
        lock: ObjectLockPolicy,
    ) -> Result<Store, SnapshotError> {
        match &config.store {
            SnapshotStore::Directory(path) => Ok(Store::Directory(DirectoryStore::open(path)?)),
            SnapshotStore::S3 { bucket, prefix } => {
                let name = config
                    .credential
                    .as_ref()
                    .map(|name| name.as_str().to_owned())
                    .ok_or_else(|| {
                        SnapshotError::ObjectStore(
                            "an s3:// store needs `[snapshots] credential`".into(),
                        )
                    })?;
                let credentials = s3_credentials(secrets, &name)?;
                let region = config
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_owned());
                let endpoint = match &config.endpoint {
                    Some(url) => url.as_str().trim_end_matches('/').to_owned(),
                    None => format!("https://s3.{region}.amazonaws.com"),
                };
                let location = S3Location {
                    endpoint,
                    region,
                    bucket: bucket.clone(),
                    prefix: prefix.trim_matches('/').to_owned(),
                    ca_file: config.ca_file.clone(),
                };
                Ok(Store::S3(Box::new(
                    S3Store::connect(location, credentials, lock).await?,
                )))
            }
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The step before forwarding an approved destroy of `resource` on `upstream`: takes and
    /// verifies the snapshot its `[[protect]]` entry asks for. An `Err` means the destroy must
    /// not be forwarded (and the approvers should be told why).
    pub async fn before_destroy(
        &self,
        config: &blastdoor_config::Config,
        upstream: &str,
        resource: &str,
        secrets: &dyn SecretSource,
        now_unix: i64,
    ) -> Result<Protection, SnapshotError> {
        let Some(protect) = config.protection(upstream, resource) else {
            return Ok(Protection::NotProtected);
        };
        if protect.method == ProtectMethod::RailwayBackup {
            return Ok(Protection::UpstreamBackupRequired);
        }
        self.take(protect, secrets, now_unix, Progress::Quiet)
            .await
            .map(|manifest| Protection::Snapshotted(Box::new(manifest)))
    }

    /// Takes a snapshot of `protect` at `now_unix`, stores and verifies it. An `Err` means
    /// there is no usable snapshot: the destroy must not run.
    pub async fn take(
        &self,
        protect: &ProtectConfig,
        secrets: &dyn SecretSource,
        now_unix: i64,
        progress: Progress,
    ) -> Result<Manifest, SnapshotError> {
        let resource = protect.resource.clone();
        let (method, staged, tool_versions, restore_list) = match &protect.method {
            ProtectMethod::PgDump { dsn } => {
                let secret = secrets
                    .secret(dsn.as_str())
                    .map_err(|why| SnapshotError::Secret {
                        name: dsn.as_str().to_owned(),
                        why: redact_known_secrets(&why),
                    })?;
                let target = PgTarget::parse(&secret, dsn.as_str())?;
                let mut command = target.command("pg_dump");
                command
                    .args(["--format=custom", "--no-password", "--dbname"])
                    .arg(target.dsn_without_password());
                let staged = self
                    .capture(
                        command,
                        "pg_dump",
                        &resource,
                        &|text| target.scrub(text),
                        progress,
                    )
                    .await?;
                let listing = pg_restore_list(staged.file.path()).await?;
                let versions = vec![
                    tool_version("pg_dump").await,
                    tool_version("pg_restore").await,
                ];
                ("pg_dump", staged, versions, Some(listing))
            }
            ProtectMethod::Command { argv } => {
                let Some((program, arguments)) = argv.split_first() else {
                    return Err(SnapshotError::UnsupportedMethod {
                        method: "command",
                        why: "the argv is empty".into(),
                    });
                };
                let mut command = Command::new(program);
                command.args(arguments).kill_on_drop(true);
                let staged = self
                    .capture(
                        command,
                        program,
                        &resource,
                        &|text| scrub(text, None),
                        progress,
                    )
                    .await?;
                ("command", staged, Vec::new(), None)
            }
            ProtectMethod::RailwayBackup => {
                return Err(SnapshotError::UnsupportedMethod {
                    method: "railway_backup",
                    why: "it is the upstream's own API call (`volumeInstanceBackupCreate`): the gateway makes it and records it with `record_upstream_backup`".into(),
                });
            }
        };
        let id = new_id(now_unix)?;
        // The blob goes first: its version id (in a versioned bucket) is part of the signed
        // manifest, and a manifest never names a blob that is not stored.
        let blob_version = self
            .store
            .put_blob(staged.file, staged.size, &staged.sha256, now_unix)
            .await?;
        let manifest = Manifest {
            id: id.clone(),
            created_unix: now_unix,
            created: rfc3339(now_unix),
            resource,
            upstream: protect.upstream.as_str().to_owned(),
            method: method.to_owned(),
            isolated: true,
            size: staged.size,
            sha256: staged.sha256.clone(),
            blob_version,
            tool_versions,
            restore_list,
            upstream_reference: None,
        };
        let signed = self.signer.sign(&manifest)?;
        self.store.put_manifest(&id, signed, now_unix).await?;
        let verified = self.verify(&id, Progress::Quiet).await?;
        tracing::info!(snapshot_id = %id, sha256 = %verified.sha256, size = verified.size, store = %self.store.describe(), "snapshot taken and verified");
        Ok(verified)
    }

    /// Records a backup the upstream made of itself (Railway `volumeInstanceBackupCreate`):
    /// a signed manifest with `isolated: false` and no blob, since the copy lives with the
    /// resource it protects. `reference` is what the upstream answered (it is redacted).
    pub async fn record_upstream_backup(
        &self,
        upstream: &str,
        resource: &str,
        reference: &str,
        now_unix: i64,
    ) -> Result<Manifest, SnapshotError> {
        let id = new_id(now_unix)?;
        let manifest = Manifest {
            id: id.clone(),
            created_unix: now_unix,
            created: rfc3339(now_unix),
            resource: resource.to_owned(),
            upstream: upstream.to_owned(),
            method: "railway_backup".to_owned(),
            isolated: false,
            size: 0,
            sha256: String::new(),
            blob_version: None,
            tool_versions: Vec::new(),
            restore_list: None,
            upstream_reference: Some(redact_known_secrets(reference)),
        };
        let signed = self.signer.sign(&manifest)?;
        self.store.put_manifest(&id, signed, now_unix).await?;
        Ok(manifest)
    }

    /// Checks snapshot `id`: the manifest's signature, the blob's size (non-zero) and SHA-256
    /// as read now, and for a dump that `pg_restore --list` reads it.
    pub async fn verify(
        &self,
        id: &SnapshotId,
        progress: Progress,
    ) -> Result<Manifest, SnapshotError> {
        self.verify_and_fetch(id, progress)
            .await
            .map(|(manifest, _)| manifest)
    }

    /// Every snapshot in the store with its manifest (signature checked, blob not re-read).
    pub async fn list(&self) -> Result<Vec<ListedSnapshot>, SnapshotError> {
        let mut listed = Vec::new();
        for id in self.store.ids().await? {
            let manifest = match self.store.manifest(&id).await {
                Ok(bytes) => self.verifier.open(&bytes),
                Err(error) => Err(error.to_string()),
            };
            listed.push(ListedSnapshot { id, manifest });
        }
        Ok(listed)
    }

    /// Verifies snapshot `id` and restores it into `target` with `pg_restore --no-owner`.
    pub async fn restore(
        &self,
        id: &SnapshotId,
        target: &PgTarget,
        mode: RestoreMode,
        progress: Progress,
    ) -> Result<RestoreReport, SnapshotError> {
        let (manifest, blob) = self.verify_and_fetch(id, progress).await?;
        let Some(blob) = blob.filter(|_| manifest.method == "pg_dump") else {
            return Err(SnapshotError::NotRestorable {
                id: id.to_string(),
                method: manifest.method,
            });
        };
        let tables = target.user_table_count().await?;
        if tables > 0 && mode == RestoreMode::RefuseNonEmpty {
            return Err(SnapshotError::TargetNotEmpty {
                target: target.display_name(),
                tables,
            });
        }
        let mut command = target.command("pg_restore");
        command.args(["--no-owner", "--no-password"]);
        if mode == RestoreMode::DangerouslyOverwrite {
            command.args(["--clean", "--if-exists"]);
        }
        command
            .arg("--dbname")
            .arg(target.dsn_without_password())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| SnapshotError::Spawn {
            program: "pg_restore".into(),
            source,
        })?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        let feed = feed_file(&blob, stdin, progress);
        let drain = read_stderr(stderr);
        let (fed, stderr_text) = tokio::join!(feed, drain);
        let status = child.wait().await.map_err(|source| SnapshotError::Spawn {
            program: "pg_restore".into(),
            source,
        })?;
        if !status.success() {
            return Err(SnapshotError::ToolFailed {
                program: "pg_restore".into(),
                status: status.to_string(),
                stderr: target.scrub(&tail(&stderr_text)),
            });
        }
        let bytes = fed?;
        Ok(RestoreReport {
            manifest,
            target: target.display_name(),
            bytes,
        })
    }

    async fn verify_and_fetch(
        &self,
        id: &SnapshotId,
        progress: Progress,
    ) -> Result<(Manifest, Option<FetchedBlob>), SnapshotError> {
        let failed = |why: String| SnapshotError::Verification {
            id: id.to_string(),
            why,
        };
        let stored = self.store.manifest(id).await?;
        let manifest = self.verifier.open(&stored).map_err(failed)?;
        if &manifest.id != id {
            return Err(failed(format!(
                "the manifest is signed for `{}`",
                manifest.id
            )));
        }
        if !manifest.isolated && manifest.sha256.is_empty() {
            // A record of an upstream-side backup: there is no blob to check.
            return Ok((manifest, None));
        }
        let mut meter = Meter::new(progress, "verify", Some(manifest.size));
        let blob = self
            .store
            .fetch_blob(&manifest.sha256, manifest.blob_version.as_deref(), |done| {
                meter.update(done)
            })
            .await?
            .ok_or_else(|| failed("its blob is missing from the store".into()))?;
        meter.finish(blob.size);
        if blob.size == 0 {
            return Err(failed("the blob is empty".into()));
        }
        if blob.size != manifest.size {
            return Err(failed(format!(
                "the blob is {} bytes, the manifest says {}",
                blob.size, manifest.size
            )));
        }
        if blob.sha256 != manifest.sha256 {
            return Err(failed(format!(
                "the blob's SHA-256 is {}, the manifest says {}",
                blob.sha256, manifest.sha256
            )));
        }
        if manifest.method == "pg_dump" {
            let listing = pg_restore_list(&blob.path)
                .await
                .map_err(|error| failed(error.to_string()))?;
            if Some(listing.entries)
                != manifest
                    .restore_list
                    .as_ref()
                    .map(|summary| summary.entries)
            {
                return Err(failed(
                    "`pg_restore --list` no longer matches the manifest".into(),
                ));
            }
        }
        Ok((manifest, Some(blob)))
    }

    /// Runs `command` with stdout streamed into a staging file while hashing.
    async fn capture(
        &self,
        mut command: Command,
        program: &str,
        resource: &str,
        scrub_text: &(dyn Fn(&str) -> String + Sync),
        progress: Progress,
    ) -> Result<Staged, SnapshotError> {
        let file = self.store.staging_file()?;
        let mut output = tokio::fs::File::from_std(
            file.reopen()
                .map_err(|source| SnapshotError::io("open", file.path(), source))?,
        );
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|source| SnapshotError::Spawn {
            program: program.to_owned(),
            source,
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let copy = async {
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            let mut meter = Meter::new(progress, "snapshot", None);
            if let Some(mut stdout) = stdout {
                let mut buffer = vec![0u8; 1024 * 1024];
                loop {
                    let read = stdout.read(&mut buffer).await.map_err(|source| {
                        SnapshotError::io("read the output of", program, source)
                    })?;
                    let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
                        break;
                    };
                    hasher.update(chunk);
                    output
                        .write_all(chunk)
                        .await
                        .map_err(|source| SnapshotError::io("write", file.path(), source))?;
                    size += u64::try_from(read).unwrap_or(0);
                    meter.update(size);
                }
            }
            output
                .flush()
                .await
                .map_err(|source| SnapshotError::io("write", file.path(), source))?;
            output
                .sync_all()
                .await
                .map_err(|source| SnapshotError::io("sync", file.path(), source))?;
            meter.finish(size);
            Ok::<_, SnapshotError>((size, hex::encode(hasher.finalize())))
        };
        let (copied, stderr_text) = tokio::join!(copy, read_stderr(stderr));
        let status = child.wait().await.map_err(|source| SnapshotError::Spawn {
            program: program.to_owned(),
            source,
        })?;
        if !status.success() {
            return Err(SnapshotError::ToolFailed {
                program: program.to_owned(),
                status: status.to_string(),
                stderr: scrub_text(&tail(&stderr_text)),
            });
        }
        let (size, sha256) = copied?;
        if size == 0 {
            return Err(SnapshotError::Empty {
                resource: resource.to_owned(),
            });
        }
        Ok(Staged { file, size, sha256 })
    }
}

/// A blob written to the staging area, not yet stored.
struct Staged {
    file: tempfile::NamedTempFile,
    size: u64,
    sha256: String,
}

/// `snap-20261125-082000-1a2b3c4d`: the UTC time it was taken and 32 random bits.
fn new_id(now_unix: i64) -> Result<SnapshotId, SnapshotError> {
    let stamp = crate::time::amz_date(now_unix)
        .to_ascii_lowercase()
        .replace('t', "-")
        .replace('z', "");
    let random = rand_core::OsRng.next_u32();
    let text = format!("snap-{stamp}-{random:08x}");
    SnapshotId::new(text.clone()).map_err(|_| SnapshotError::InvalidId { id: text })
}

/// `pg_restore --list` on a dump file, summarised; failure is an error.
async fn pg_restore_list(path: &std::path::Path) -> Result<RestoreListSummary, SnapshotError> {
    let output = Command::new("pg_restore")
        .arg("--list")
        .arg(path)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| SnapshotError::Spawn {
            program: "pg_restore".into(),
            source,
        })?;
    if !output.status.success() {
        return Err(SnapshotError::ToolFailed {
            program: "pg_restore --list".into(),
            status: output.status.to_string(),
            stderr: redact_known_secrets(&tail(&String::from_utf8_lossy(&output.stderr))),
        });
    }
    Ok(RestoreListSummary::parse(&String::from_utf8_lossy(
        &output.stdout,
    )))
}

/// Streams `blob` into a child's stdin with a progress meter; the byte count. The copy runs
/// on a blocking thread with plain reads and writes: one task hop per chunk cost a third of
/// the restore's speed in the benchmark.
async fn feed_file(
    blob: &FetchedBlob,
    stdin: Option<tokio::process::ChildStdin>,
    progress: Progress,
) -> Result<u64, SnapshotError> {
    let Some(stdin) = stdin else {
        return Ok(0);
    };
    let pipe = stdin
        .into_owned_fd()
        .map_err(|source| SnapshotError::io("open the input of", "pg_restore", source))?;
    let path = blob.path.clone();
    let size = blob.size;
    tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut pipe = std::fs::File::from(pipe);
        let mut file = std::fs::File::open(&path)
            .map_err(|source| SnapshotError::io("open", &path, source))?;
        let mut meter = Meter::new(progress, "restore", Some(size));
        let mut buffer = vec![0u8; 1024 * 1024];
        let mut done: u64 = 0;
        loop {
            let read = file
                .read(&mut buffer)
                .map_err(|source| SnapshotError::io("read", &path, source))?;
            let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
                break;
            };
            if pipe.write_all(chunk).is_err() {
                // pg_restore stopped reading; its exit status and stderr say why.
                break;
            }
            done += u64::try_from(read).unwrap_or(0);
            meter.update(done);
        }
        meter.finish(done);
        Ok(done)
    })
    .await
    .map_err(|error| SnapshotError::ObjectStore(format!("the restore feed failed: {error}")))?
}

async fn read_stderr(stderr: Option<tokio::process::ChildStderr>) -> String {
    let mut collected = Vec::new();
    if let Some(mut stderr) = stderr {
        let mut buffer = vec![0u8; 8 * 1024];
        while let Ok(read) = stderr.read(&mut buffer).await {
            let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else {
                break;
            };
            // Keep the last 64 KiB: the end of a tool's stderr says why it stopped.
            collected.extend_from_slice(chunk);
            if collected.len() > 128 * 1024 {
                collected.drain(..collected.len() - 64 * 1024);
            }
        }
    }
    String::from_utf8_lossy(&collected).into_owned()
}

/// The last 2000 characters of `text`, trimmed.
fn tail(text: &str) -> String {
    let text = text.trim();
    let start = text
        .char_indices()
        .rev()
        .nth(2000)
        .map_or(0, |(index, _)| index);
    text.get(start..).unwrap_or(text).to_owned()
}

fn s3_credentials(secrets: &dyn SecretSource, name: &str) -> Result<S3Credentials, SnapshotError> {
    let secret = secrets.secret(name).map_err(|why| SnapshotError::Secret {
        name: name.to_owned(),
        why: redact_known_secrets(&why),
    })?;
    let (access_key_id, secret_access_key) = secret
        .expose_secret()
        .trim()
        .split_once(':')
        .ok_or_else(|| SnapshotError::Secret {
            name: name.to_owned(),
            why: "expected `ACCESS_KEY_ID:SECRET_ACCESS_KEY`".into(),
        })?;
    Ok(S3Credentials {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: Secret::new(secret_access_key.to_owned()),
    })
}
