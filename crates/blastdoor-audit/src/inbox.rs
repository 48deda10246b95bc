//! The ledger's inbox: how a one-shot process (the agent hook, once per tool call) hands a
//! record to the ledger without opening SQLite.
//!
//! Opening the SQLite ledger costs a one-shot process about half a millisecond (SQLite's set-up,
//! the WAL index it must rebuild when it is the only opener, the schema) against a budget of
//! about one for the whole hook call; appending a frame to a file costs a few system calls. So
//! the hook appends its encoded record to `<ledger>-inbox`, and every [`crate::Ledger`] handle
//! folds the inbox into the tree before it appends or reads: the records are numbered, hashed
//! and committed in one transaction, exactly as [`crate::Ledger::append_batch`] would, in the
//! order they were delivered.
//!
//! File format: a 32-byte header (`blastdoor-inbox1` and a random 16-byte generation), then
//! frames, each `u32` little-endian payload length, the payload (an [`EncodedRecord`]'s bytes)
//! and the SHA-256 of the payload, which tells a whole frame from a torn or altered one.
//!
//! Guarantees, and how they are kept:
//! - **Delivered before acknowledged.** [`deliver`] returns only after the frame is written
//!   (and with [`Durability::Fsync`], synced), in one `write(2)` under an exclusive `flock`, so
//!   concurrent deliverers never interleave. A caller acts on a verdict only after that.
//! - **Folded once.** The fold stores the inbox's generation and the offset it folded up to in
//!   the ledger's `meta` table in the same transaction as the entries; only after that commit
//!   is the file truncated (still under the lock). A crash between the two leaves the cursor to
//!   skip what was folded; the next deliverer after a truncation writes a new generation.
//! - **Nothing dropped.** A frame that does not check (a torn tail after a power failure, or an
//!   edit) stops the fold there: everything from it to the end is copied to
//!   `<ledger>-inbox.damaged-<generation>-<offset>` and an entry saying so is folded in its
//!   place.
//! - **No deadlock.** Folding takes the inbox lock before SQLite's write lock, and delivering
//!   never touches SQLite, so the two locks are always taken in one order.
//! - **Bounded.** A deliverer refuses (an error, so the hook denies) when the inbox holds more
//!   than [`INBOX_LIMIT_BYTES`]: entries that cannot reach the ledger must not pile up
//!   unnoticed.
//!
//! The inbox file is never unlinked (a deliverer holding it open would write into a removed
//! file); it is created `0600` and opened without following a symlink.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::AuditError;
use crate::ledger::Durability;
use crate::record::{EncodedRecord, Record};

/// The inbox's name is the ledger's with this appended (beside SQLite's `-wal` and `-shm`).
pub const INBOX_SUFFIX: &str = "-inbox";
/// Once the inbox is this long, the next hook call folds it into the ledger itself (about a
/// hundred decisions; a fold costs one SQLite open and one transaction).
pub const FOLD_AT_BYTES: u64 = 64 * 1024;
/// A deliverer refuses to write past this: folds have been failing for a long while.
pub const INBOX_LIMIT_BYTES: u64 = 4 * 1024 * 1024;
/// The largest payload a frame may carry (a record is a few kilobytes at most).
const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

const MAGIC: &[u8; 16] = b"blastdoor-inbox1";
/// Magic and generation.
pub(crate) const HEADER_BYTES: u64 = 32;
/// Length prefix and SHA-256.
const FRAME_OVERHEAD: usize = 4 + 32;
/// Unix permissions of the inbox file.
const MODE: u32 = 0o600;

/// The inbox beside the ledger at `ledger`.
pub fn inbox_path(ledger: &Path) -> PathBuf {
    let mut path = ledger.as_os_str().to_owned();
    path.push(INBOX_SUFFIX);
    PathBuf::from(path)
}

/// Appends `record` to the inbox of the ledger at `ledger` (creating the inbox, and its
/// directory with mode 0700, when missing). Returns once the frame is written, and with
/// [`Durability::Fsync`] synced to disk. Returns the inbox's length after the frame.
pub fn deliver(
    ledger: &Path,
    record: &EncodedRecord,
    durability: Durability,
) -> Result<u64, AuditError> {
    let path = inbox_path(ledger);
    let failed = |error: std::io::Error| AuditError::Open {
        path: path.clone(),
        detail: error.to_string(),
    };
    let payload = record.as_bytes();
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= MAX_PAYLOAD_BYTES)
        .ok_or_else(|| AuditError::Encode("a record is too large for the ledger".to_owned()))?;
    let file = match open_for_append(&path) {
        Err(error) if error.kind() == ErrorKind::NotFound => {
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(failed)?;
            }
            open_for_append(&path)
        }
        opened => opened,
    }
    .map_err(failed)?;
    // Released when `file` is closed, and by the kernel if this process dies holding it.
    file.lock().map_err(failed)?;
    let mut file = file;
    let before = file.metadata().map_err(failed)?.len();
    if before > INBOX_LIMIT_BYTES {
        return Err(AuditError::Open {
            path: path.clone(),
            detail: format!(
                "the inbox holds {before} bytes of decisions that have not reached the ledger \
                 (run `blastdoor audit verify` to fold them and see why)"
            ),
        });
    }
    if before > 0 && before < HEADER_BYTES {
        return Err(AuditError::Open {
            path: path.clone(),
            detail: "the inbox's header is damaged (run `blastdoor audit verify`)".to_owned(),
        });
    }
    let mut frame = Vec::with_capacity(HEADER_BYTES as usize + FRAME_OVERHEAD + payload.len());
    if before == 0 {
        frame.extend_from_slice(MAGIC);
        let mut generation = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut generation);
        frame.extend_from_slice(&generation);
    }
    frame.extend_from_slice(&length.to_le_bytes());
    frame.extend_from_slice(payload);
    frame.extend_from_slice(&Sha256::digest(payload));
    // O_APPEND: one write at the end, whatever the offset of this handle.
    file.write_all(&frame).map_err(failed)?;
    if durability == Durability::Fsync {
        file.sync_data().map_err(failed)?;
    }
    Ok(before + frame.len() as u64)
}

/// The inbox's length in bytes (0 when there is none): one `stat`.
pub fn pending_bytes(ledger: &Path) -> u64 {
    std::fs::metadata(inbox_path(ledger)).map_or(0, |metadata| metadata.len())
}

fn open_for_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// What a fold found in the inbox, for the ledger to commit.
#[derive(Debug)]
pub(crate) struct Taken {
    /// The locked inbox: truncated after the commit, and unlocked when dropped.
    file: File,
    pub(crate) generation: [u8; 16],
    /// Payloads of the whole frames after the cursor, in order.
    pub(crate) payloads: Vec<Vec<u8>>,
    /// Bytes from the first bad frame to the end, kept in `damaged_path`.
    pub(crate) damaged: Option<Damaged>,
    /// The offset up to which this fold consumes the inbox.
    pub(crate) end: u64,
}

#[derive(Debug)]
pub(crate) struct Damaged {
    pub(crate) offset: u64,
    pub(crate) bytes: u64,
    pub(crate) kept_in: PathBuf,
    /// When the inbox was last written (0 if unknown).
    pub(crate) modified_unix_ms: i64,
}

/// Locks and reads the inbox of `ledger` if it holds anything past the `cursor` (generation,
/// offset) the ledger stored at its last fold. `None` when there is nothing to fold, or when
/// another process holds the lock (it is delivering or folding; the next fold takes what it
/// adds). Damaged bytes are copied aside before this returns.
pub(crate) fn take(
    ledger: &Path,
    cursor: impl FnOnce() -> Result<Option<([u8; 16], u64)>, AuditError>,
) -> Result<Option<Taken>, AuditError> {
    let path = inbox_path(ledger);
    let failed = |error: std::io::Error| AuditError::Open {
        path: path.clone(),
        detail: error.to_string(),
    };
    let mut file = match OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(failed(error)),
    };
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
        Err(std::fs::TryLockError::Error(error)) => return Err(failed(error)),
    }
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(failed)?;
    file.read_to_end(&mut bytes).map_err(failed)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let (generation, start) = match header(&bytes) {
        Some(generation) => {
            let start = match cursor()? {
                Some((folded, offset)) if folded == generation => offset.max(HEADER_BYTES),
                _ => HEADER_BYTES,
            };
            (generation, start)
        }
        // A header that does not check: keep every byte aside.
        None => ([0u8; 16], 0),
    };
    let total = bytes.len() as u64;
    if start >= total {
        // Everything here was folded before a crash stopped the truncation.
        file.set_len(0).map_err(failed)?;
        return Ok(None);
    }
    let mut payloads = Vec::new();
    let mut offset = start;
    while offset < total {
        match frame_at(&bytes, offset) {
            Some((payload, next)) if is_record(payload) => {
                payloads.push(payload.to_vec());
                offset = next;
            }
            _ => break,
        }
    }
    let damaged = if offset < total {
        let kept_in = PathBuf::from(format!(
            "{}.damaged-{}-{offset}",
            path.display(),
            hex::encode(generation)
        ));
        let rest = bytes
            .get(usize::try_from(offset).unwrap_or(usize::MAX)..)
            .unwrap_or(&[]);
        keep_aside(&kept_in, rest).map_err(|error| AuditError::Open {
            path: kept_in.clone(),
            detail: error.to_string(),
        })?;
        let modified_unix_ms = file
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|since| i64::try_from(since.as_millis()).ok())
            .unwrap_or(0);
        Some(Damaged {
            offset,
            bytes: total - offset,
            kept_in,
            modified_unix_ms,
        })
    } else {
        None
    };
    Ok(Some(Taken {
        file,
        generation,
        payloads,
        damaged,
        end: total,
    }))
}

impl Taken {
    /// After the ledger committed the fold: empties the inbox (the next deliverer starts a new
    /// generation) and releases the lock. A failure here is harmless: the stored cursor makes
    /// the next fold skip what was folded.
    pub(crate) fn finish(self) {
        let _ = self.file.set_len(0);
    }
}

/// A frame's payload must be a record as [`EncodedRecord`] writes it (a JSON object, which is
/// what the entry format splices the sequence number into).
fn is_record(payload: &[u8]) -> bool {
    payload.starts_with(b"{\"") && serde_json::from_slice::<Record>(payload).is_ok()
}

fn header(bytes: &[u8]) -> Option<[u8; 16]> {
    let magic = bytes.get(..16)?;
    if magic != MAGIC {
        return None;
    }
    bytes.get(16..32)?.try_into().ok()
}

/// The payload of the whole, checked frame at `offset` and the offset after it.
fn frame_at(bytes: &[u8], offset: u64) -> Option<(&[u8], u64)> {
    let at = usize::try_from(offset).ok()?;
    let length = u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?);
    let length = usize::try_from(length)
        .ok()
        .filter(|length| *length <= MAX_PAYLOAD_BYTES)?;
    let payload_start = at + 4;
    let payload_end = payload_start.checked_add(length)?;
    let payload = bytes.get(payload_start..payload_end)?;
    let digest = bytes.get(payload_end..payload_end.checked_add(32)?)?;
    if Sha256::digest(payload).as_slice() != digest {
        return None;
    }
    Some((payload, (payload_end + 32) as u64))
}

/// Writes `bytes` to a new file `path` (0600), synced. An existing file of that name is from an
/// earlier attempt at the same fold (same generation and offset), so it already holds them.
fn keep_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == ErrorKind::AlreadyExists => return Ok(()),
        Err(error) => return Err(error),
    };
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_checks_only_whole_and_unaltered() {
        let payload = b"{\"a\":1}";
        let mut bytes = vec![0u8; HEADER_BYTES as usize];
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&Sha256::digest(payload));
        let (found, next) = frame_at(&bytes, HEADER_BYTES).unwrap();
        assert_eq!(found, payload);
        assert_eq!(next, bytes.len() as u64);
        // Torn: any shorter prefix is not a frame.
        for cut in HEADER_BYTES as usize..bytes.len() {
            assert!(frame_at(&bytes[..cut], HEADER_BYTES).is_none(), "cut {cut}");
        }
        // Altered: one flipped byte anywhere in the frame.
        for at in HEADER_BYTES as usize..bytes.len() {
            let mut altered = bytes.clone();
            altered[at] ^= 0x20;
            assert!(frame_at(&altered, HEADER_BYTES).is_none(), "byte {at}");
        }
    }

    #[test]
    fn a_huge_length_is_not_a_frame() {
        let mut bytes = vec![0u8; HEADER_BYTES as usize];
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 64]);
        assert!(frame_at(&bytes, HEADER_BYTES).is_none());
    }
}
