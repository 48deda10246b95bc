//! The snapshot manifest and its Ed25519 signature.
//!
//! A stored manifest is two lines: the manifest as compact JSON (the exact bytes that were
//! signed, never re-serialised to be checked) and `ed25519 <base64 signature>`. The key lives in
//! `BLASTDOOR_HOME/keys/snapshot.key` (0600, base64 of the 32-byte seed) with its public half in
//! `snapshot.pub`; both are created on first use. The ledger key is not reused: the audit crate
//! exposes it only as a checkpoint signer, and a separate key keeps the two roles apart.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blastdoor_core::SnapshotId;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::SnapshotError;

/// The private key file in the keys directory.
pub const SNAPSHOT_KEY_FILE: &str = "snapshot.key";
/// The public key file in the keys directory.
pub const SNAPSHOT_PUBLIC_FILE: &str = "snapshot.pub";

/// What a snapshot holds and where it came from. Field order is the serialised order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: SnapshotId,
    /// Unix seconds when the snapshot was taken (passed in by the caller).
    pub created_unix: i64,
    /// The same time as RFC 3339, for people.
    pub created: String,
    pub resource: String,
    pub upstream: String,
    /// `pg_dump`, `command` or `railway_backup`.
    pub method: String,
    /// False when the copy lives on the platform it protects (it dies with the resource).
    pub isolated: bool,
    /// Blob size in bytes (0 for a record of an upstream-side backup).
    pub size: u64,
    /// Lowercase hex SHA-256 of the blob; empty for a record of an upstream-side backup.
    pub sha256: String,
    /// The object version of the blob in a versioned S3 bucket (always set with Object Lock):
    /// reads are pinned to it, so overwriting the key or hiding it behind a delete marker does
    /// not change what is verified and restored.
    pub blob_version: Option<String>,
    /// `pg_dump (PostgreSQL) 15.x` and the like.
    pub tool_versions: Vec<String>,
    /// For `pg_dump`: a summary of `pg_restore --list` on the stored blob.
    pub restore_list: Option<RestoreListSummary>,
    /// For a record of an upstream-side backup: what the upstream answered (redacted).
    pub upstream_reference: Option<String>,
}

impl Manifest {
    /// `sha256:<hex>`, the digest recorded beside the snapshot id in the ledger.
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.sha256)
    }

    /// The reason to add to the ledger entry of the destroy this snapshot preceded (rule
    /// `snapshot.verified`, or `snapshot.not-isolated` for an upstream-side backup), carrying
    /// the id and digest in its explanation; put [`Manifest::id`] in `Record::snapshot_id`.
    pub fn ledger_reason(&self) -> Result<blastdoor_core::Reason, SnapshotError> {
        let rule = if self.isolated {
            "snapshot.verified"
        } else {
            "snapshot.not-isolated"
        };
        let rule = blastdoor_core::RuleId::new(rule)
            .map_err(|error| SnapshotError::Manifest(error.to_string()))?;
        Ok(blastdoor_core::Reason::new(rule, self.summary(), None, ""))
    }

    /// One line for a ledger reason or a hold: id, digest, size, and whether it is isolated.
    pub fn summary(&self) -> String {
        let isolation = if self.isolated {
            "isolated"
        } else {
            "NOT isolated: lives on the upstream it protects"
        };
        format!(
            "snapshot {} of {} on {} by {} ({} bytes, {}, {isolation})",
            self.id,
            self.resource,
            self.upstream,
            self.method,
            self.size,
            self.digest()
        )
    }
}

/// What `pg_restore --list` saw in a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreListSummary {
    /// Table-of-contents entries.
    pub entries: u64,
    /// `TABLE` entries.
    pub tables: u64,
    /// `TABLE DATA` entries.
    pub table_data: u64,
    /// The dump's `Dumped from database version` line, if present.
    pub server_version: Option<String>,
}

impl RestoreListSummary {
    /// Reads the output of `pg_restore --list`.
    pub fn parse(listing: &str) -> RestoreListSummary {
        let mut summary = RestoreListSummary {
            entries: 0,
            tables: 0,
            table_data: 0,
            server_version: None,
        };
        for line in listing.lines() {
            if let Some(version) = line.strip_prefix(";     Dumped from database version:") {
                summary.server_version = Some(version.trim().to_owned());
            }
            if line.starts_with(';') || line.trim().is_empty() {
                continue;
            }
            summary.entries += 1;
            // `1234; 1259 16385 TABLE public accounts owner`
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.get(3..5) {
                Some(["TABLE", "DATA"]) => summary.table_data += 1,
                Some(["TABLE", _]) => summary.tables += 1,
                _ => {}
            }
        }
        summary
    }
}

/// The key that signs manifests.
pub struct ManifestSigner {
    key: SigningKey,
}

impl std::fmt::Debug for ManifestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestSigner")
            .field(
                "public",
                &BASE64.encode(self.key.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl ManifestSigner {
    /// Loads `keys_dir/snapshot.key`, creating it (0600, with `snapshot.pub`) when missing.
    pub fn load_or_create(keys_dir: &Path) -> Result<ManifestSigner, SnapshotError> {
        let path = keys_dir.join(SNAPSHOT_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                let bytes = Zeroizing::new(
                    BASE64
                        .decode(text.trim())
                        .map_err(|_| key_error(&path, "not base64"))?,
                );
                let seed: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| key_error(&path, "not a 32-byte Ed25519 seed"))?;
                Ok(ManifestSigner {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                ManifestSigner::create(keys_dir, &path)
            }
            Err(source) => Err(SnapshotError::io("read", path, source)),
        }
    }

    fn create(keys_dir: &Path, path: &Path) -> Result<ManifestSigner, SnapshotError> {
        std::fs::create_dir_all(keys_dir)
            .map_err(|source| SnapshotError::io("create", keys_dir, source))?;
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let encoded = Zeroizing::new(BASE64.encode(key.to_bytes()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| SnapshotError::io("create", path, source))?;
        file.write_all(format!("{}\n", encoded.as_str()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|source| SnapshotError::io("write", path, source))?;
        let public_path = keys_dir.join(SNAPSHOT_PUBLIC_FILE);
        std::fs::write(
            &public_path,
            format!("{}\n", BASE64.encode(key.verifying_key().as_bytes())),
        )
        .map_err(|source| SnapshotError::io("write", public_path, source))?;
        Ok(ManifestSigner { key })
    }

    /// The public half, which checks signatures.
    pub fn verifier(&self) -> ManifestVerifier {
        ManifestVerifier {
            key: self.key.verifying_key(),
        }
    }

    /// The stored form of `manifest`: its JSON line and its signature line.
    pub fn sign(&self, manifest: &Manifest) -> Result<Vec<u8>, SnapshotError> {
        let json = serde_json::to_vec(manifest)
            .map_err(|error| SnapshotError::Manifest(error.to_string()))?;
        let signature = self.key.sign(&json);
        let mut out = json;
        out.extend_from_slice(
            format!("\ned25519 {}\n", BASE64.encode(signature.to_bytes())).as_bytes(),
        );
        Ok(out)
    }
}

/// Checks manifest signatures.
#[derive(Debug, Clone)]
pub struct ManifestVerifier {
    key: VerifyingKey,
}

impl ManifestVerifier {
    /// Parses a stored manifest and checks its signature; the manifest is returned only if the
    /// signature holds.
    pub fn open(&self, stored: &[u8]) -> Result<Manifest, String> {
        let text =
            std::str::from_utf8(stored).map_err(|_| "the manifest is not UTF-8".to_owned())?;
        let (json, rest) = text
            .split_once('\n')
            .ok_or_else(|| "the manifest has no signature line".to_owned())?;
        let signature_text = rest
            .trim_end_matches('\n')
            .strip_prefix("ed25519 ")
            .ok_or_else(|| "the manifest's signature line is malformed".to_owned())?;
        let signature_bytes = BASE64
            .decode(signature_text)
            .map_err(|_| "the manifest's signature is not base64".to_owned())?;
        let signature = Signature::from_slice(&signature_bytes)
            .map_err(|_| "the manifest's signature has the wrong length".to_owned())?;
        self.key.verify(json.as_bytes(), &signature).map_err(|_| {
            "the manifest's signature does not match (edited, or signed by another key)".to_owned()
        })?;
        serde_json::from_str(json)
            .map_err(|error| format!("the signed manifest does not parse: {error}"))
    }
}

fn key_error(path: &Path, why: &str) -> SnapshotError {
    SnapshotError::Key {
        path: PathBuf::from(path),
        why: why.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            id: SnapshotId::new("snap-1").unwrap(),
            created_unix: 0,
            created: "1970-01-01T00:00:00Z".into(),
            resource: "vol".into(),
            upstream: "railway".into(),
            method: "command".into(),
            isolated: true,
            size: 3,
            sha256: "ab".into(),
            blob_version: None,
            tool_versions: vec![],
            restore_list: None,
            upstream_reference: None,
        }
    }

    #[test]
    fn signed_manifests_open_and_edited_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let signer = ManifestSigner::load_or_create(dir.path()).unwrap();
        let stored = signer.sign(&sample()).unwrap();
        assert_eq!(signer.verifier().open(&stored).unwrap(), sample());
        let edited = String::from_utf8(stored)
            .unwrap()
            .replace("\"size\":3", "\"size\":4");
        assert!(signer.verifier().open(edited.as_bytes()).is_err());
        // The key persists: a second load signs with the same key.
        let again = ManifestSigner::load_or_create(dir.path()).unwrap();
        assert!(
            again
                .verifier()
                .open(&signer.sign(&sample()).unwrap())
                .is_ok()
        );
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(SNAPSHOT_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn restore_list_summary_counts_tables_and_data() {
        let listing = ";\n; Archive created at 2026-11-25\n;     Dumped from database version: 15.14\n;\n215; 1259 16386 TABLE public accounts postgres\n3350; 0 16386 TABLE DATA public accounts postgres\n3200; 2606 16390 CONSTRAINT public accounts accounts_pkey postgres\n";
        let summary = RestoreListSummary::parse(listing);
        assert_eq!(summary.entries, 3);
        assert_eq!(summary.tables, 1);
        assert_eq!(summary.table_data, 1);
        assert_eq!(summary.server_version.as_deref(), Some("15.14"));
    }
}
