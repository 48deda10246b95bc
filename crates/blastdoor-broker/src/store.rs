//! [`SecretStore`]: upstream credentials encrypted at rest with XChaCha20-Poly1305.
//!
//! The store file (JSON) holds, per secret, a random 24-byte nonce and the ciphertext, with the
//! secret's name as associated data (an entry moved to another name does not decrypt), plus a
//! key check that tells "wrong key" apart from "altered entry". Values never appear in clear
//! on disk, in errors or in `Debug`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use blastdoor_core::Secret;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::BrokerError;
use crate::keys::{self, SECRET_KEY_FILE, write_atomic};

const KEY_CHECK_AAD: &[u8] = b"blastdoor:key-check:v1";
const KEY_CHECK_PLAINTEXT: &[u8] = b"blastdoor secret store";

/// A secret's name (`railway-prod`, `GITHUB_TOKEN`): 1 to 128 letters, digits, `-`, `_`, `.`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretName(String);

impl SecretName {
    pub fn new(name: &str) -> Result<SecretName, BrokerError> {
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if valid {
            Ok(SecretName(name.to_owned()))
        } else {
            Err(BrokerError::InvalidSecretName(name.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of `secret list`: a name and the fingerprint of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretListing {
    pub name: String,
    pub fingerprint: String,
}

/// The open, decryptable secret store.
pub struct SecretStore {
    path: PathBuf,
    key_path: PathBuf,
    cipher: XChaCha20Poly1305,
    file: StoreFile,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    version: u32,
    key_check: Entry,
    secrets: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    /// base64 of the 24-byte nonce.
    nonce: String,
    /// base64 of the ciphertext and its 16-byte tag.
    ciphertext: String,
}

impl SecretStore {
    /// Opens `store_path` with the key in `keys_dir` (`secrets.key`, which must exist and be
    /// private). A missing store file is an empty store; it is created on the first `set`.
    pub fn open(keys_dir: &Path, store_path: &Path) -> Result<SecretStore, BrokerError> {
        let key_path = keys_dir.join(SECRET_KEY_FILE);
        let key = keys::read_key_file(&key_path, "blastdoor secret set")?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let file = read_store(&cipher, store_path, &key_path)?;
        Ok(SecretStore {
            path: store_path.to_owned(),
            key_path,
            cipher,
            file,
        })
    }

    /// The value of secret `name`.
    pub fn get(&self, name: &str) -> Result<Secret<String>, BrokerError> {
        let entry = self
            .file
            .secrets
            .get(name)
            .ok_or_else(|| BrokerError::NoSuchSecret(name.to_owned()))?;
        let plaintext = decrypt(&self.cipher, entry, &associated_data(name)).ok_or_else(|| {
            BrokerError::Decrypt {
                path: self.path.clone(),
                name: name.to_owned(),
            }
        })?;
        let text =
            String::from_utf8(plaintext.to_vec()).map_err(|_| BrokerError::CorruptStore {
                path: self.path.clone(),
                why: format!("secret `{name}` is not UTF-8"),
            })?;
        Ok(Secret::new(text))
    }

    /// Stores (or replaces) `name` and writes the store file atomically. The file is re-read
    /// under the store's lock first, so secrets set or removed by other processes since
    /// [`SecretStore::open`] are kept.
    pub fn set(&mut self, name: &SecretName, value: &Secret<String>) -> Result<(), BrokerError> {
        if value.expose_secret().is_empty() {
            return Err(BrokerError::EmptySecret(name.to_string()));
        }
        let entry = encrypt(
            &self.cipher,
            value.expose_secret().as_bytes(),
            &associated_data(name.as_str()),
        )
        .ok_or_else(|| BrokerError::Encrypt(name.to_string()))?;
        self.modify(|file| {
            file.secrets.insert(name.to_string(), entry);
            Ok(())
        })
    }

    /// Deletes `name` and writes the store file atomically (under the lock, on a fresh read,
    /// like [`SecretStore::set`]).
    pub fn remove(&mut self, name: &str) -> Result<(), BrokerError> {
        self.modify(|file| match file.secrets.remove(name) {
            Some(_) => Ok(()),
            None => Err(BrokerError::NoSuchSecret(name.to_owned())),
        })
    }

    /// Every secret's name and fingerprint, sorted by name.
    pub fn list(&self) -> Result<Vec<SecretListing>, BrokerError> {
        self.file
            .secrets
            .keys()
            .map(|name| {
                Ok(SecretListing {
                    name: name.clone(),
                    fingerprint: self.get(name)?.fingerprint(),
                })
            })
            .collect()
    }

    /// The store file this was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read → `change` → write, holding the lock beside the store file throughout; on
    /// success the in-memory copy is the file as written.
    fn modify(
        &mut self,
        change: impl FnOnce(&mut StoreFile) -> Result<(), BrokerError>,
    ) -> Result<(), BrokerError> {
        let _lock = keys::lock_beside(&self.path)?;
        let mut file = read_store(&self.cipher, &self.path, &self.key_path)?;
        change(&mut file)?;
        let json = serde_json::to_vec_pretty(&file).map_err(|error| BrokerError::CorruptStore {
            path: self.path.clone(),
            why: error.to_string(),
        })?;
        write_atomic(&self.path, &json, 0o600)?;
        self.file = file;
        Ok(())
    }
}

/// The store file at `store_path`, its key check verified against `cipher`; a missing file is
/// an empty store with a fresh key check.
fn read_store(
    cipher: &XChaCha20Poly1305,
    store_path: &Path,
    key_path: &Path,
) -> Result<StoreFile, BrokerError> {
    match std::fs::read(store_path) {
        Ok(bytes) => {
            let file: StoreFile =
                serde_json::from_slice(&bytes).map_err(|error| BrokerError::CorruptStore {
                    path: store_path.to_owned(),
                    why: error.to_string(),
                })?;
            if file.version != 1 {
                return Err(BrokerError::CorruptStore {
                    path: store_path.to_owned(),
                    why: format!("unsupported version {}", file.version),
                });
            }
            let check = decrypt(cipher, &file.key_check, KEY_CHECK_AAD).ok_or_else(|| {
                BrokerError::WrongKey {
                    path: store_path.to_owned(),
                    key_path: key_path.to_owned(),
                }
            })?;
            if check.as_slice() != KEY_CHECK_PLAINTEXT {
                return Err(BrokerError::WrongKey {
                    path: store_path.to_owned(),
                    key_path: key_path.to_owned(),
                });
            }
            Ok(file)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(StoreFile {
            version: 1,
            key_check: encrypt(cipher, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD)
                .ok_or_else(|| BrokerError::Encrypt("key check".to_owned()))?,
            secrets: BTreeMap::new(),
        }),
        Err(error) => Err(BrokerError::io("read", store_path, error)),
    }
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("path", &self.path)
            .field("key_path", &self.key_path)
            .field("names", &self.file.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn associated_data(name: &str) -> Vec<u8> {
    let mut aad = b"blastdoor:secret:v1:".to_vec();
    aad.extend_from_slice(name.as_bytes());
    aad
}

fn encrypt(cipher: &XChaCha20Poly1305, plaintext: &[u8], aad: &[u8]) -> Option<Entry> {
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .ok()?;
    let engine = base64::engine::general_purpose::STANDARD;
    Some(Entry {
        nonce: engine.encode(nonce),
        ciphertext: engine.encode(ciphertext),
    })
}

/// `None` when the entry is malformed or does not authenticate.
fn decrypt(cipher: &XChaCha20Poly1305, entry: &Entry, aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let engine = base64::engine::general_purpose::STANDARD;
    let nonce = engine.decode(&entry.nonce).ok()?;
    if nonce.len() != 24 {
        return None;
    }
    let ciphertext = engine.decode(&entry.ciphertext).ok()?;
    cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad,
            },
        )
        .ok()
        .map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        crate::init(&keys_dir).unwrap();
        let store = dir.path().join("secrets.json");
        (dir, keys_dir, store)
    }

    #[test]
    fn values_round_trip_and_the_file_holds_no_plaintext() {
        let (_dir, keys_dir, path) = fresh();
        let mut store = SecretStore::open(&keys_dir, &path).unwrap();
        let value = Secret::new("rw_live_9f8e7d6c5b4a39281706".to_owned());
        store
            .set(&SecretName::new("railway-prod").unwrap(), &value)
            .unwrap();
        let reopened = SecretStore::open(&keys_dir, &path).unwrap();
        assert_eq!(reopened.get("railway-prod").unwrap(), value);
        let bytes = std::fs::read(&path).unwrap();
        let needle = b"rw_live_9f8e7d6c5b4a39281706";
        assert!(!bytes.windows(needle.len()).any(|window| window == needle));
        let listing = reopened.list().unwrap();
        assert_eq!(
            listing,
            vec![SecretListing {
                name: "railway-prod".to_owned(),
                fingerprint: value.fingerprint(),
            }]
        );
    }

    #[test]
    fn a_wrong_key_is_a_clear_error_naming_the_files() {
        let (dir, keys_dir, path) = fresh();
        let mut store = SecretStore::open(&keys_dir, &path).unwrap();
        store
            .set(&SecretName::new("a").unwrap(), &Secret::new("v".to_owned()))
            .unwrap();
        let other_keys = dir.path().join("other-keys");
        crate::init(&other_keys).unwrap();
        let error = SecretStore::open(&other_keys, &path).unwrap_err();
        assert!(matches!(error, BrokerError::WrongKey { .. }));
        let message = error.to_string();
        assert!(
            message.contains("secrets.json") && message.contains("wrong key"),
            "{message}"
        );
    }

    #[test]
    fn corrupt_or_moved_entries_are_clear_errors() {
        let (_dir, keys_dir, path) = fresh();
        let mut store = SecretStore::open(&keys_dir, &path).unwrap();
        store
            .set(
                &SecretName::new("a").unwrap(),
                &Secret::new("value-a".to_owned()),
            )
            .unwrap();
        // Move a's ciphertext under the name b: the associated data no longer matches.
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let entry = json["secrets"]["a"].clone();
        json["secrets"]["b"] = entry;
        std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
        let store = SecretStore::open(&keys_dir, &path).unwrap();
        assert!(matches!(store.get("b"), Err(BrokerError::Decrypt { .. })));
        std::fs::write(&path, b"{ not json").unwrap();
        let error = SecretStore::open(&keys_dir, &path).unwrap_err().to_string();
        assert!(
            error.contains("secrets.json") && error.contains("corrupt"),
            "{error}"
        );
    }

    #[test]
    fn names_are_validated_and_empty_values_refused() {
        assert!(SecretName::new("a b").is_err());
        assert!(SecretName::new("").is_err());
        let (_dir, keys_dir, path) = fresh();
        let mut store = SecretStore::open(&keys_dir, &path).unwrap();
        let error = store.set(&SecretName::new("x").unwrap(), &Secret::new(String::new()));
        assert!(matches!(error, Err(BrokerError::EmptySecret(_))));
        assert!(matches!(
            store.remove("x"),
            Err(BrokerError::NoSuchSecret(_))
        ));
    }
}
