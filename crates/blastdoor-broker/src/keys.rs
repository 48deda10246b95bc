//! Key files under `BLASTDOOR_HOME/keys`: creating them (directory 0700, files 0600, never
//! overwriting), loading them (refusing a key that group or other could read), and the atomic
//! write every broker file goes through.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore as _};
use zeroize::Zeroizing;

use crate::BrokerError;

/// The secret store's XChaCha20-Poly1305 key: 32 random bytes, hex.
pub const SECRET_KEY_FILE: &str = "secrets.key";
/// The capability tokens' Ed25519 root private key: 32 bytes, hex.
pub const TOKEN_ROOT_KEY_FILE: &str = "token-root.key";
/// The root public key, hex: all a gateway needs to verify tokens.
pub const TOKEN_ROOT_PUBLIC_FILE: &str = "token-root.pub";

/// What [`init`] did: the files it created and the ones that were already there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    pub created: Vec<PathBuf>,
    pub existing: Vec<PathBuf>,
}

/// Creates the keys directory and every broker key that is missing. Idempotent: an existing
/// key is checked (permissions, length) and never overwritten.
pub fn init(keys_dir: &Path) -> Result<InitReport, BrokerError> {
    let mut report = InitReport::default();
    ensure_keys_dir(keys_dir)?;
    let secret_key = keys_dir.join(SECRET_KEY_FILE);
    if create_random_key(&secret_key)? {
        report.created.push(secret_key);
    } else {
        read_key_file(&secret_key, "blastdoor secret set")?;
        report.existing.push(secret_key);
    }
    let root_key = keys_dir.join(TOKEN_ROOT_KEY_FILE);
    if create_random_key(&root_key)? {
        report.created.push(root_key);
    } else {
        read_key_file(&root_key, "blastdoor token mint")?;
        report.existing.push(root_key);
    }
    let public_file = keys_dir.join(TOKEN_ROOT_PUBLIC_FILE);
    let root = crate::token::RootKey::load(keys_dir)?;
    if !public_file.exists() {
        write_atomic(
            &public_file,
            format!("{}\n", root.public().to_hex()).as_bytes(),
            0o644,
        )?;
        report.created.push(public_file);
    } else {
        report.existing.push(public_file);
    }
    Ok(report)
}

/// Creates `keys_dir` with mode 0700 if missing; refuses one that group or other can enter.
pub(crate) fn ensure_keys_dir(keys_dir: &Path) -> Result<(), BrokerError> {
    match fs::metadata(keys_dir) {
        Ok(_) => check_dir_mode(keys_dir),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            create_private_dir(keys_dir)?;
            Ok(())
        }
        Err(error) => Err(BrokerError::io("read", keys_dir, error)),
    }
}

/// Reads a 32-byte hex key, refusing it when its permissions let anyone but the owner read it.
pub(crate) fn read_key_file(
    path: &Path,
    create_hint: &'static str,
) -> Result<Zeroizing<[u8; 32]>, BrokerError> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(BrokerError::MissingKey {
                path: path.to_owned(),
                hint: create_hint,
            });
        }
        Err(error) => return Err(BrokerError::io("read", path, error)),
    };
    check_file_mode(path, &metadata)?;
    let text = Zeroizing::new(
        fs::read_to_string(path).map_err(|error| BrokerError::io("read", path, error))?,
    );
    parse_hex_key(path, text.trim())
}

/// Parses 64 hex digits into a key.
pub(crate) fn parse_hex_key(path: &Path, text: &str) -> Result<Zeroizing<[u8; 32]>, BrokerError> {
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, key.as_mut()).map_err(|error| BrokerError::MalformedKey {
        path: path.to_owned(),
        why: format!("expected 64 hex digits ({error})"),
    })?;
    Ok(key)
}

/// Takes an exclusive lock on `<path>.lock` (created beside `path`, mode 0600), waiting for
/// any other holder; the lock lasts as long as the returned file. Writers of a JSON store hold
/// it across read → modify → write so that two processes cannot each write back a copy that
/// lacks the other's change (a mint undoing a revocation).
pub(crate) fn lock_beside(path: &Path) -> Result<File, BrokerError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|error| BrokerError::io("create directory", dir, error))?;
    let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
    lock_name.push(".lock");
    let lock_path = dir.join(lock_name);
    let file = {
        use std::os::unix::fs::OpenOptionsExt as _;
        fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(|error| BrokerError::io("open lock file", &lock_path, error))?
    };
    file.lock()
        .map_err(|error| BrokerError::io("lock", &lock_path, error))?;
    Ok(file)
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one: a
/// temporary file beside it (created with `mode`), fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BrokerError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|error| BrokerError::io("create directory", dir, error))?;
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.tmp-{:016x}", OsRng.next_u64()));
    let result = (|| {
        let mut file = open_new(&temp, mode)?;
        file.write_all(bytes)
            .map_err(|error| BrokerError::io("write", &temp, error))?;
        file.sync_all()
            .map_err(|error| BrokerError::io("sync", &temp, error))?;
        fs::rename(&temp, path).map_err(|error| BrokerError::io("replace", path, error))?;
        if let Ok(dir_handle) = File::open(dir) {
            // Durability of the rename; a filesystem that cannot sync a directory still has
            // the file, so a failure here is not worth failing the write for.
            let _ = dir_handle.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Creates a new key file holding 32 random bytes; `false` when the file already exists.
fn create_random_key(path: &Path) -> Result<bool, BrokerError> {
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    let text = Zeroizing::new(format!("{}\n", hex::encode(key.as_ref())));
    let mut file = match open_new(path, 0o600) {
        Ok(file) => file,
        Err(BrokerError::Io { source, .. }) if source.kind() == ErrorKind::AlreadyExists => {
            return Ok(false);
        }
        Err(error) => return Err(error),
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(error) = written {
        let _ = fs::remove_file(path);
        return Err(BrokerError::io("write", path, error));
    }
    Ok(true)
}

fn open_new(path: &Path, mode: u32) -> Result<File, BrokerError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options
        .open(path)
        .map_err(|error| BrokerError::io("create", path, error))
}

fn create_private_dir(dir: &Path) -> Result<(), BrokerError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|error| BrokerError::io("create directory", dir, error))
}

#[cfg(unix)]
fn check_file_mode(path: &Path, metadata: &fs::Metadata) -> Result<(), BrokerError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(BrokerError::KeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_file_mode(_path: &Path, _metadata: &fs::Metadata) -> Result<(), BrokerError> {
    Ok(())
}

#[cfg(unix)]
fn check_dir_mode(dir: &Path) -> Result<(), BrokerError> {
    use std::os::unix::fs::PermissionsExt as _;
    let metadata = fs::metadata(dir).map_err(|error| BrokerError::io("read", dir, error))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(BrokerError::KeyDirPermissions {
            path: dir.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_dir_mode(_dir: &Path) -> Result<(), BrokerError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_is_idempotent_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let first = init(&keys).unwrap();
        assert_eq!(first.created.len(), 3);
        let before = fs::read(keys.join(SECRET_KEY_FILE)).unwrap();
        let second = init(&keys).unwrap();
        assert!(second.created.is_empty());
        assert_eq!(second.existing.len(), 3);
        assert_eq!(fs::read(keys.join(SECRET_KEY_FILE)).unwrap(), before);
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private_and_a_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        init(&keys).unwrap();
        let dir_mode = fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let key = keys.join(SECRET_KEY_FILE);
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o640)).unwrap();
        let error = read_key_file(&key, "x").unwrap_err();
        assert!(matches!(
            error,
            BrokerError::KeyFilePermissions { mode: 0o640, .. }
        ));
        assert!(error.to_string().contains("secrets.key"), "{error}");
    }

    #[test]
    fn a_malformed_key_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        init(&keys).unwrap();
        let key = keys.join(SECRET_KEY_FILE);
        write_atomic(&key, b"not hex\n", 0o600).unwrap();
        let error = read_key_file(&key, "x").unwrap_err().to_string();
        assert!(
            error.contains("secrets.key") && error.contains("64 hex digits"),
            "{error}"
        );
    }
}
