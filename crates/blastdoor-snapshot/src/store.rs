//! Where snapshot blobs and manifests live: [`Store::Directory`] (a local directory, files
//! content-addressed by SHA-256 and made read-only) or [`Store::S3`] (an S3-compatible bucket,
//! Object Lock when available).
//!
//! Layout, the same in both: `blobs/<sha256>` and `manifests/<snapshot id>`. Nothing is ever
//! overwritten: a blob with the same name has the same content, and a manifest is created only
//! if absent.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use blastdoor_core::SnapshotId;
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use crate::SnapshotError;
use crate::s3::S3Store;

/// A snapshot store.
#[derive(Debug)]
pub enum Store {
    Directory(DirectoryStore),
    S3(Box<S3Store>),
}

/// A blob fetched for verification or restore: a file on local disk, its size and its SHA-256
/// as read now (not as the manifest claims).
#[derive(Debug)]
pub struct FetchedBlob {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// Keeps a downloaded copy alive; `None` for a blob read in place.
    _download: Option<NamedTempFile>,
}

impl Store {
    /// `/var/lib/...` or `s3://bucket/prefix`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Store::Directory(store) => store.root.display().to_string(),
            Store::S3(store) => store.describe(),
        }
    }

    /// A new private (0600) file to stage a blob in before it is stored.
    pub(crate) fn staging_file(&self) -> Result<NamedTempFile, SnapshotError> {
        match self {
            Store::Directory(store) => {
                let dir = store.root.join(".staging");
                NamedTempFile::new_in(&dir)
                    .map_err(|source| SnapshotError::io("create a file in", dir, source))
            }
            Store::S3(_) => NamedTempFile::new().map_err(|source| {
                SnapshotError::io("create a file in", std::env::temp_dir(), source)
            }),
        }
    }

    /// Stores the staged blob under its digest; the object version when the store keeps
    /// versions (S3 with versioning or Object Lock), so later reads get exactly these bytes even
    /// if the key is overwritten or hidden by a delete marker.
    pub(crate) async fn put_blob(
        &self,
        staged: NamedTempFile,
        size: u64,
        sha256: &str,
        now: i64,
    ) -> Result<Option<String>, SnapshotError> {
        check_digest(sha256)?;
        match self {
            Store::Directory(store) => {
                let store = store.clone();
                let sha256 = sha256.to_owned();
                tokio::task::spawn_blocking(move || store.put_blob(staged, &sha256))
                    .await
                    .map_err(|error| {
                        SnapshotError::ObjectStore(format!("the store task failed: {error}"))
                    })??;
                Ok(None)
            }
            Store::S3(store) => {
                store
                    .put_file(
                        &store.key(&format!("blobs/{sha256}")),
                        staged.path(),
                        size,
                        sha256,
                        now,
                    )
                    .await
            }
        }
    }

    /// Stores a signed manifest; refuses to replace one.
    pub(crate) async fn put_manifest(
        &self,
        id: &SnapshotId,
        bytes: Vec<u8>,
        now: i64,
    ) -> Result<(), SnapshotError> {
        check_id(id)?;
        match self {
            Store::Directory(store) => store.put_manifest(id, &bytes),
            Store::S3(store) => {
                let key = store.key(&format!("manifests/{id}"));
                if store.get_bytes(&key).await?.is_some() {
                    return Err(SnapshotError::Manifest(format!(
                        "snapshot `{id}` already exists"
                    )));
                }
                store.put_bytes(&key, bytes, now).await.map(|_| ())
            }
        }
    }

    /// The stored (signed) manifest of `id`.
    pub(crate) async fn manifest(&self, id: &SnapshotId) -> Result<Vec<u8>, SnapshotError> {
        check_id(id)?;
        let found = match self {
            Store::Directory(store) => {
                let path = store.root.join("manifests").join(id.as_str());
                match std::fs::read(&path) {
                    Ok(bytes) => Some(bytes),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                    Err(source) => return Err(SnapshotError::io("read", path, source)),
                }
            }
            Store::S3(store) => {
                store
                    .get_bytes(&store.key(&format!("manifests/{id}")))
                    .await?
            }
        };
        found.ok_or_else(|| SnapshotError::NotFound { id: id.to_string() })
    }

    /// Every snapshot id in the store, sorted (ids start with their UTC time, so oldest first).
    pub(crate) async fn ids(&self) -> Result<Vec<SnapshotId>, SnapshotError> {
        let names: Vec<String> = match self {
            Store::Directory(store) => {
                let dir = store.root.join("manifests");
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(Vec::new());
                    }
                    Err(source) => return Err(SnapshotError::io("list", dir, source)),
                };
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| entry.file_name().into_string().ok())
                    .collect()
            }
            Store::S3(store) => {
                let prefix = store.key("manifests/");
                store
                    .list_keys(&prefix)
                    .await?
                    .into_iter()
                    .filter_map(|key| key.strip_prefix(&prefix).map(str::to_owned))
                    .collect()
            }
        };
        let mut ids: Vec<SnapshotId> = names
            .into_iter()
            .filter_map(|name| SnapshotId::new(name).ok())
            .filter(|id| check_id(id).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The blob `sha256` (at object `version`, when pinned), hashed as it is read (downloaded
    /// first for S3).
    pub(crate) async fn fetch_blob(
        &self,
        sha256: &str,
        version: Option<&str>,
        progress: impl FnMut(u64),
    ) -> Result<Option<FetchedBlob>, SnapshotError> {
        check_digest(sha256)?;
        match self {
            Store::Directory(store) => {
                let path = store.root.join("blobs").join(sha256);
                if !path.exists() {
                    return Ok(None);
                }
                let hashed_path = path.clone();
                let (size, digest) = tokio::task::spawn_blocking(move || hash_file(&hashed_path))
                    .await
                    .map_err(|error| {
                        SnapshotError::ObjectStore(format!("the hash task failed: {error}"))
                    })??;
                Ok(Some(FetchedBlob {
                    path,
                    size,
                    sha256: digest,
                    _download: None,
                }))
            }
            Store::S3(store) => {
                let download = NamedTempFile::new().map_err(|source| {
                    SnapshotError::io("create a file in", std::env::temp_dir(), source)
                })?;
                let mut file = tokio::fs::File::from_std(
                    download
                        .reopen()
                        .map_err(|source| SnapshotError::io("open", download.path(), source))?,
                );
                let fetched = store
                    .get_to_file(
                        &store.key(&format!("blobs/{sha256}")),
                        version,
                        &mut file,
                        progress,
                    )
                    .await?;
                Ok(fetched.map(|(size, digest)| FetchedBlob {
                    path: download.path().to_owned(),
                    size,
                    sha256: digest,
                    _download: Some(download),
                }))
            }
        }
    }
}

/// A local directory store.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    root: PathBuf,
}

impl DirectoryStore {
    /// Opens (creating, 0700) the store at `root`.
    pub fn open(root: &Path) -> Result<DirectoryStore, SnapshotError> {
        for dir in [
            root.to_owned(),
            root.join("blobs"),
            root.join("manifests"),
            root.join(".staging"),
        ] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|source| SnapshotError::io("create", dir, source))?;
        }
        Ok(DirectoryStore {
            root: root.to_owned(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a blob, for tests and operators.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.root.join("blobs").join(sha256)
    }

    /// The path of a manifest, for tests and operators.
    pub fn manifest_path(&self, id: &SnapshotId) -> PathBuf {
        self.root.join("manifests").join(id.as_str())
    }

    fn put_blob(&self, staged: NamedTempFile, sha256: &str) -> Result<(), SnapshotError> {
        let target = self.blob_path(sha256);
        if target.exists() {
            // Content-addressed: the same name is the same bytes (verification rechecks it).
            return Ok(());
        }
        let staged_path = staged.path().to_owned();
        staged
            .as_file()
            .sync_all()
            .map_err(|source| SnapshotError::io("sync", &staged_path, source))?;
        std::fs::set_permissions(&staged_path, Permissions::from_mode(0o444))
            .map_err(|source| SnapshotError::io("make read-only", &staged_path, source))?;
        staged
            .persist(&target)
            .map_err(|error| SnapshotError::io("store", &target, error.error))?;
        sync_dir(&self.root.join("blobs"))
    }

    fn put_manifest(&self, id: &SnapshotId, bytes: &[u8]) -> Result<(), SnapshotError> {
        let target = self.manifest_path(id);
        let dir = self.root.join(".staging");
        let mut staged = NamedTempFile::new_in(&dir)
            .map_err(|source| SnapshotError::io("create a file in", &dir, source))?;
        staged
            .write_all(bytes)
            .and_then(|()| staged.as_file().sync_all())
            .map_err(|source| SnapshotError::io("write", staged.path().to_owned(), source))?;
        std::fs::set_permissions(staged.path(), Permissions::from_mode(0o444)).map_err(
            |source| SnapshotError::io("make read-only", staged.path().to_owned(), source),
        )?;
        // `persist_noclobber` links without replacing: an existing manifest is never overwritten.
        staged
            .persist_noclobber(&target)
            .map_err(|error| SnapshotError::io("store", &target, error.error))?;
        sync_dir(&self.root.join("manifests"))
    }
}

/// Size and SHA-256 of a file.
pub(crate) fn hash_file(path: &Path) -> Result<(u64, String), SnapshotError> {
    let mut file = File::open(path).map_err(|source| SnapshotError::io("open", path, source))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    let mut size: u64 = 0;
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|source| SnapshotError::io("read", path, source))?;
        let Some(chunk) = buffer.get(..read) else {
            break;
        };
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
        size += u64::try_from(read).unwrap_or(0);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

fn sync_dir(dir: &Path) -> Result<(), SnapshotError> {
    OpenOptions::new()
        .read(true)
        .open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|source| SnapshotError::io("sync", dir, source))
}

fn check_digest(sha256: &str) -> Result<(), SnapshotError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
    {
        Ok(())
    } else {
        Err(SnapshotError::Manifest(format!(
            "`{sha256}` is not a SHA-256 digest"
        )))
    }
}

/// Snapshot ids name files: only `[a-z0-9-]`, starting with a letter.
pub(crate) fn check_id(id: &SnapshotId) -> Result<(), SnapshotError> {
    let text = id.as_str();
    let starts_well = text
        .bytes()
        .next()
        .is_some_and(|byte| byte.is_ascii_lowercase());
    if starts_well
        && text
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    {
        Ok(())
    } else {
        Err(SnapshotError::InvalidId {
            id: text.to_owned(),
        })
    }
}
