//! Signed checkpoints in the C2SP formats (<https://c2sp.org/tlog-checkpoint>,
//! <https://c2sp.org/signed-note>) and the Ed25519 keys that sign them.
//!
//! A checkpoint note is the body `"<origin>\n<tree size>\n<base64 root hash>\n"`, a blank line,
//! then one line per signature, `"— <key name> <base64(key hash || signature)>"`, where the key
//! hash is the first four bytes of SHA-256(key name || "\n" || 0x01 || public key).
//!
//! Key files use the text encodings of Go's `golang.org/x/mod/sumdb/note`:
//! `PRIVATE+KEY+<name>+<hash hex>+<base64(0x01 || seed)>` for the signer and
//! `<name>+<hash hex>+<base64(0x01 || public key)>` for the verifier.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::AuditError;
use crate::merkle::Hash;

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;
/// The dash that starts a signature line (U+2014 EM DASH).
const SIGNATURE_DASH: &str = "\u{2014}";

/// An unsigned tree head: which log, how many entries, and the root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note body that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a note body (the text before the blank line).
    fn parse_body(body: &str) -> Result<Checkpoint, AuditError> {
        let malformed = |why: &str| AuditError::MalformedCheckpoint(why.to_owned());
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|line| !line.is_empty())
            .ok_or_else(|| malformed("no origin line"))?;
        let size_line = lines.next().ok_or_else(|| malformed("no tree size line"))?;
        if size_line.is_empty()
            || !size_line.bytes().all(|b| b.is_ascii_digit())
            || (size_line.len() > 1 && size_line.starts_with('0'))
        {
            return Err(malformed("the tree size is not a decimal number"));
        }
        let size: u64 = size_line
            .parse()
            .map_err(|_| malformed("the tree size is out of range"))?;
        let root_line = lines.next().ok_or_else(|| malformed("no root hash line"))?;
        let root: Hash = BASE64
            .decode(root_line)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes.as_slice()).ok())
            .ok_or_else(|| malformed("the root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// The first four bytes of SHA-256(name || "\n" || 0x01 || public key).
pub fn key_hash(name: &str, public_key: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ED25519]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    let mut hash = [0u8; 4];
    hash.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    hash
}

fn check_key_name(name: &str) -> Result<(), AuditError> {
    if name.is_empty()
        || name.contains(['+', ' ', '\n', '\t'])
        || name.chars().any(char::is_control)
    {
        return Err(AuditError::MalformedKey(format!(
            "`{name}` is not a valid key name"
        )));
    }
    Ok(())
}

/// The private key that signs checkpoints. Held only by `blastdoor audit checkpoint` (and
/// `init`); appenders never need it.
pub struct LedgerSigner {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for LedgerSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgerSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LedgerSigner {
    /// A new random key named `name` (normally the ledger's origin).
    pub fn generate(name: &str) -> Result<LedgerSigner, AuditError> {
        check_key_name(name)?;
        let key = SigningKey::generate(&mut rand_core::OsRng);
        Ok(LedgerSigner {
            name: name.to_owned(),
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier.
    pub fn verifier(&self) -> LedgerVerifier {
        LedgerVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// The private key in its text encoding. The result is wiped from memory when dropped.
    pub fn encode_private(&self) -> Zeroizing<String> {
        let public = self.key.verifying_key().to_bytes();
        let mut raw = Zeroizing::new(Vec::with_capacity(33));
        raw.push(ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(key_hash(&self.name, &public)),
            BASE64.encode(raw.as_slice())
        ))
    }

    /// Parses the text encoding of a private key.
    pub fn decode_private(text: &str) -> Result<LedgerSigner, AuditError> {
        let malformed =
            || AuditError::MalformedKey("not a blastdoor ledger private key".to_owned());
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(malformed)?;
        // The base64 key itself may contain `+`: split off only the name and the hash.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        check_key_name(name)?;
        let raw = Zeroizing::new(BASE64.decode(key).map_err(|_| malformed())?);
        let seed: [u8; 32] = match raw.split_first() {
            Some((&ED25519, seed)) => seed.try_into().map_err(|_| malformed())?,
            _ => return Err(malformed()),
        };
        let key = SigningKey::from_bytes(&seed);
        if hex::encode(key_hash(name, &key.verifying_key().to_bytes())) != hash {
            return Err(AuditError::MalformedKey(
                "the key hash does not match the key".to_owned(),
            ));
        }
        Ok(LedgerSigner {
            name: name.to_owned(),
            key,
        })
    }

    /// Signs `checkpoint` and returns the complete signed note.
    pub fn sign(&self, checkpoint: &Checkpoint) -> String {
        let body = checkpoint.body();
        let signature = self.key.sign(body.as_bytes());
        let public = self.key.verifying_key().to_bytes();
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&key_hash(&self.name, &public));
        blob.extend_from_slice(&signature.to_bytes());
        format!(
            "{body}\n{SIGNATURE_DASH} {} {}\n",
            self.name,
            BASE64.encode(blob)
        )
    }
}

/// The public key that checks checkpoint signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerVerifier {
    name: String,
    key: VerifyingKey,
}

impl LedgerVerifier {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key in its text encoding.
    pub fn encode(&self) -> String {
        let public = self.key.to_bytes();
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519);
        raw.extend_from_slice(&public);
        format!(
            "{}+{}+{}",
            self.name,
            hex::encode(key_hash(&self.name, &public)),
            BASE64.encode(raw)
        )
    }

    /// Parses the text encoding of a verifier key.
    pub fn decode(text: &str) -> Result<LedgerVerifier, AuditError> {
        let malformed =
            || AuditError::MalformedKey("not a blastdoor ledger verifier key".to_owned());
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed());
        };
        check_key_name(name)?;
        let raw = BASE64.decode(key).map_err(|_| malformed())?;
        let public: [u8; 32] = match raw.split_first() {
            Some((&ED25519, public)) => public.try_into().map_err(|_| malformed())?,
            _ => return Err(malformed()),
        };
        if hex::encode(key_hash(name, &public)) != hash {
            return Err(AuditError::MalformedKey(
                "the key hash does not match the key".to_owned(),
            ));
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| malformed())?;
        Ok(LedgerVerifier {
            name: name.to_owned(),
            key,
        })
    }

    /// Parses a signed checkpoint note and checks this key's signature on it. Signatures by
    /// other keys are ignored (a witness may have cosigned); at least one must be this key's.
    pub fn open(&self, note: &str) -> Result<Checkpoint, AuditError> {
        let malformed = |why: &str| AuditError::MalformedCheckpoint(why.to_owned());
        let (body_without_newline, signatures) = note
            .split_once("\n\n")
            .ok_or_else(|| malformed("no blank line between body and signatures"))?;
        let body = format!("{body_without_newline}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        let public = self.key.to_bytes();
        let expected_hash = key_hash(&self.name, &public);
        let mut saw_signature = false;
        for line in signatures.lines().filter(|line| !line.is_empty()) {
            let rest = line
                .strip_prefix(SIGNATURE_DASH)
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or_else(|| malformed("a signature line does not start with `— `"))?;
            let (name, blob) = rest
                .split_once(' ')
                .ok_or_else(|| malformed("a signature line has no signature"))?;
            saw_signature = true;
            if name != self.name {
                continue;
            }
            let blob = BASE64
                .decode(blob)
                .map_err(|_| malformed("a signature is not base64"))?;
            let (hash, signature) = blob
                .split_at_checked(4)
                .ok_or_else(|| malformed("a signature is too short"))?;
            if hash != expected_hash {
                continue;
            }
            let signature = Signature::from_slice(signature)
                .map_err(|_| malformed("a signature is not 64 bytes"))?;
            return match self.key.verify_strict(body.as_bytes(), &signature) {
                Ok(()) => Ok(checkpoint),
                Err(_) => Err(AuditError::BadCheckpoint {
                    size: checkpoint.size,
                    problem: format!("the signature by `{}` does not verify", self.name),
                }),
            };
        }
        if !saw_signature {
            return Err(malformed("the note has no signature"));
        }
        Err(AuditError::BadCheckpoint {
            size: checkpoint.size,
            problem: format!("not signed by the ledger key `{}`", self.name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "blastdoor/test".to_owned(),
            size: 7,
            root: [9; 32],
        }
    }

    #[test]
    fn signed_notes_round_trip() {
        let signer = LedgerSigner::generate("blastdoor/test").unwrap();
        let note = signer.sign(&checkpoint());
        assert!(note.starts_with("blastdoor/test\n7\n"));
        assert!(note.contains("\n\n\u{2014} blastdoor/test "));
        assert_eq!(signer.verifier().open(&note).unwrap(), checkpoint());
    }

    #[test]
    fn a_changed_body_or_another_key_fails() {
        let signer = LedgerSigner::generate("blastdoor/test").unwrap();
        let note = signer.sign(&checkpoint());
        let forged = note.replacen("\n7\n", "\n6\n", 1);
        assert!(matches!(
            signer.verifier().open(&forged),
            Err(AuditError::BadCheckpoint { size: 6, .. })
        ));
        let other = LedgerSigner::generate("blastdoor/test").unwrap();
        assert!(other.verifier().open(&note).is_err());
        assert!(signer.verifier().open("garbage").is_err());
        assert!(signer.verifier().open("a\n1\nAAAA\n\n").is_err());
    }

    #[test]
    fn keys_round_trip_through_text() {
        // Many keys, so that base64 with `+` in it is certainly among them.
        for _ in 0..64 {
            let signer = LedgerSigner::generate("blastdoor/host-1").unwrap();
            let again = LedgerSigner::decode_private(&signer.encode_private()).unwrap();
            assert_eq!(
                LedgerVerifier::decode(&again.verifier().encode()).unwrap(),
                signer.verifier()
            );
        }
        let signer = LedgerSigner::generate("blastdoor/host-1").unwrap();
        let again = LedgerSigner::decode_private(&signer.encode_private()).unwrap();
        assert_eq!(again.verifier(), signer.verifier());
        let verifier = LedgerVerifier::decode(&signer.verifier().encode()).unwrap();
        assert_eq!(verifier, signer.verifier());
        assert!(LedgerVerifier::decode("x+00000000+AQ==").is_err());
        assert!(format!("{signer:?}").contains("host-1"));
        assert!(!format!("{signer:?}").contains(&*signer.encode_private()));
    }
}
