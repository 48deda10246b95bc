//! The ledger's key files in `BLASTDOOR_HOME/keys`: `ledger.key` (the private signing key,
//! mode 0600, in a 0700 directory) and `ledger.pub` (the verifier key, safe to copy to
//! witnesses). Keys are created once and never overwritten.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::{AuditError, LedgerSigner, LedgerVerifier};

/// The private key's file name inside the keys directory.
pub const PRIVATE_KEY_FILE: &str = "ledger.key";
/// The verifier key's file name inside the keys directory.
pub const PUBLIC_KEY_FILE: &str = "ledger.pub";

/// Where the ledger keys live inside `keys_dir`.
pub fn private_key_path(keys_dir: &Path) -> PathBuf {
    keys_dir.join(PRIVATE_KEY_FILE)
}

/// Where the verifier key lives inside `keys_dir`.
pub fn public_key_path(keys_dir: &Path) -> PathBuf {
    keys_dir.join(PUBLIC_KEY_FILE)
}

/// Creates `keys_dir` (0700) and a new key pair named `name` in it. Refuses with
/// [`AuditError::KeyExists`] if either key file already exists: keys are never replaced.
pub fn create_key_files(keys_dir: &Path, name: &str) -> Result<LedgerVerifier, AuditError> {
    let key_error = |path: &Path, error: std::io::Error| AuditError::KeyFile {
        path: path.to_owned(),
        detail: error.to_string(),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(keys_dir)
        .map_err(|error| key_error(keys_dir, error))?;
    std::fs::set_permissions(keys_dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|error| key_error(keys_dir, error))?;
    let private_path = private_key_path(keys_dir);
    let public_path = public_key_path(keys_dir);
    for path in [&private_path, &public_path] {
        if path.symlink_metadata().is_ok() {
            return Err(AuditError::KeyExists { path: path.clone() });
        }
    }
    let signer = LedgerSigner::generate(name)?;
    write_new(&private_path, signer.encode_private().as_bytes(), 0o600)?;
    let verifier = signer.verifier();
    write_new(
        &public_path,
        format!("{}\n", verifier.encode()).as_bytes(),
        0o644,
    )?;
    Ok(verifier)
}

/// Loads the private key from `keys_dir`.
pub fn load_signer(keys_dir: &Path) -> Result<LedgerSigner, AuditError> {
    let path = private_key_path(keys_dir);
    let text = zeroize::Zeroizing::new(read(&path)?);
    LedgerSigner::decode_private(&text).map_err(|error| AuditError::KeyFile {
        path,
        detail: error.to_string(),
    })
}

/// Loads the verifier key from `keys_dir`.
pub fn load_verifier(keys_dir: &Path) -> Result<LedgerVerifier, AuditError> {
    load_verifier_file(&public_key_path(keys_dir))
}

/// Loads a verifier key from a file.
pub fn load_verifier_file(path: &Path) -> Result<LedgerVerifier, AuditError> {
    LedgerVerifier::decode(&read(path)?).map_err(|error| AuditError::KeyFile {
        path: path.to_owned(),
        detail: error.to_string(),
    })
}

fn read(path: &Path) -> Result<String, AuditError> {
    std::fs::read_to_string(path).map_err(|error| AuditError::KeyFile {
        path: path.to_owned(),
        detail: error.to_string(),
    })
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), AuditError> {
    let key_error = |error: std::io::Error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => AuditError::KeyExists {
            path: path.to_owned(),
        },
        _ => AuditError::KeyFile {
            path: path.to_owned(),
            detail: error.to_string(),
        },
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(key_error)?;
    file.write_all(contents).map_err(key_error)?;
    file.sync_all().map_err(key_error)
}
