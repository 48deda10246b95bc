//! The ledger's inbox: how a one-shot process (the agent hook, once per tool call) hands a
//! record to the ledger without opening SQLite.
//!
//! Opening the SQLite ledger costs a one-shot process about half a millisecond (SQLite's set-up,
//! the WAL index it must rebuild when it is the only opener, the schema) against a budget of
//! about one for the whole hook call; appending a frame to a file costs a few system calls. So
//! the hook appends its encoded record to `<ledger>-inbox`, and [`crate::Ledger::fold_inbox`]
//! moves the inbox into the tree: the records are checked, redacted and re-encoded, numbered,
//! hashed and committed in one transaction, in the order they were delivered.
//!
//! File format: a 40-byte header (`blastdoor-inbox2`, a random 16-byte generation, and the
//! time of the first delivery as `i64` Unix milliseconds, little-endian), then frames: the
//! marker `bdR\x01`, the payload length as `u32` little-endian, the payload (an
//! [`EncodedRecord`]'s bytes) and the SHA-256 of the payload, which tells a whole frame from a
//! torn or altered one.
//!
//! Guarantees, and how they are kept:
//! - **Written before acknowledged.** [`deliver`] returns only after the frame is written in
//!   one `write(2)` under an exclusive `flock` (with [`Durability::Fsync`], also synced), so
//!   concurrent deliverers never interleave. A write that fails is cut off again before the lock
//!   is released, so it cannot leave a torn frame in front of later ones.
//! - **Folded once.** A fold stores the inbox's generation and the offset it folded up to in
//!   the ledger's `meta` table in the same transaction as the entries, committed with
//!   `synchronous=FULL`; only then is the file emptied (still under the lock). A crash between
//!   the two leaves the cursor to skip what was folded.
//! - **Nothing dropped, only hook records taken.** A span that is not a whole frame holding a
//!   hook's record (torn by a crash, edited, or written by something else) is copied to a new
//!   file `<ledger>-inbox.damaged-<random>` (synced, then renamed into place), the fold records
//!   an entry naming it, and the fold goes on with the next whole frame (resynchronising costs
//!   at most about twice the inbox in hashing). Records are parsed and redacted again before
//!   they become entries. The checksum finds accidental damage, not a forger: a process with
//!   write access to the inbox can rewrite or remove records not yet folded, as it could
//!   rewrite the ledger's entries after its last signed checkpoint.
//! - **Bounded waits.** Taking the lock is retried for at most [`LOCK_WAIT`]; opening never
//!   blocks (a FIFO at the path is refused); a hook that cannot deliver denies.
//! - **Bounded size.** A deliverer refuses past [`INBOX_LIMIT_BYTES`]; a fold never reads an
//!   inbox larger than any deliverer could have written: it records an entry naming where the
//!   file goes, then moves it aside unread.
//! - **Only its own file.** The inbox is opened without following a symlink and must be a
//!   regular file with one link (a hard link to another file is refused, never truncated); it
//!   is created `0600` and made `0600` again if found wider.
//! - **No deadlock.** A folder takes the inbox lock before SQLite's write lock, and a deliverer
//!   never touches SQLite, so the two locks are always taken in one order.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, FileExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use blastdoor_core::Layer;

use crate::AuditError;
use crate::ledger::Durability;
use crate::record::{self, EncodedRecord, Record};

/// The inbox's name is the ledger's with this appended (beside SQLite's `-wal` and `-shm`).
pub const INBOX_SUFFIX: &str = "-inbox";
/// Once the inbox is this long, the hook folds it into the ledger itself (about a hundred
/// decisions; a fold costs one SQLite open and one transaction).
pub const FOLD_AT_BYTES: u64 = 64 * 1024;
/// Once the inbox's first record is this old, the hook folds it too, so a ledger that stopped
/// taking entries is noticed (and the hook denies) within seconds, not only after 64 KiB.
pub const FOLD_AFTER_MS: i64 = 10_000;
/// A deliverer refuses to write past this: folds have been failing for a long while.
pub const INBOX_LIMIT_BYTES: u64 = 4 * 1024 * 1024;
/// How long a deliverer, or a fold that must happen, waits for the inbox's lock. Deliverers
/// hold it for microseconds; a folder for one transaction.
pub const LOCK_WAIT: Duration = Duration::from_secs(2);
/// How a delivery refused for a header cut short says so.
const SHORT_HEADER: &str = "the inbox's header is cut short";

/// True when an inbox of `bytes` bytes can take no delivery until it is folded: past
/// [`INBOX_LIMIT_BYTES`], or shorter than its header.
pub fn needs_fold_to_deliver(bytes: u64) -> bool {
    bytes > INBOX_LIMIT_BYTES || (bytes > 0 && bytes < HEADER_BYTES)
}

/// The largest payload a frame may carry (a record is a few kilobytes at most).
const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

const MAGIC: &[u8; 16] = b"blastdoor-inbox2";
/// Magic, generation and the time of the first delivery.
pub(crate) const HEADER_BYTES: u64 = 40;
const FRAME_MARK: &[u8; 4] = b"bdR\x01";
/// Marker, length prefix and SHA-256.
const FRAME_OVERHEAD: usize = 4 + 4 + 32;
/// No deliverer can make the inbox longer than this, so a fold never reads more.
const READ_LIMIT_BYTES: u64 = INBOX_LIMIT_BYTES + 2 * (MAX_PAYLOAD_BYTES as u64) + HEADER_BYTES;
/// Unix permissions of the inbox and the files kept aside.
const MODE: u32 = 0o600;

/// The inbox beside the ledger at `ledger`.
pub fn inbox_path(ledger: &Path) -> PathBuf {
    let mut path = ledger.as_os_str().to_owned();
    path.push(INBOX_SUFFIX);
    PathBuf::from(path)
}

/// What [`deliver`] reports about the inbox after writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// The inbox's length, this frame included.
    pub bytes: u64,
    /// When the inbox's first record since the last fold was delivered.
    pub first_unix_ms: i64,
}

impl Delivered {
    /// True when the deliverer should fold the inbox now ([`FOLD_AT_BYTES`], [`FOLD_AFTER_MS`]).
    pub fn fold_due(&self, now_unix_ms: i64) -> bool {
        // A first delivery "in the future" (a clock stepped back, or a forged header) is due
        // too: the age trigger must not be switched off.
        self.bytes >= FOLD_AT_BYTES
            || self.first_unix_ms > now_unix_ms
            || now_unix_ms.saturating_sub(self.first_unix_ms) >= FOLD_AFTER_MS
    }
}

/// Appends `record` to the inbox of the ledger at `ledger` (creating the inbox, and its
/// directory with mode 0700, when missing), at time `now_unix_ms`. Returns once the frame is
/// written, and with [`Durability::Fsync`] synced to disk. Any error means nothing was
/// delivered.
pub fn deliver(
    ledger: &Path,
    record: &EncodedRecord,
    durability: Durability,
    now_unix_ms: i64,
) -> Result<Delivered, AuditError> {
    let path = inbox_path(ledger);
    let failed = |error: std::io::Error| io_error(&path, &error);
    let payload = record.as_bytes();
    let length = u32::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= MAX_PAYLOAD_BYTES)
        .ok_or_else(|| AuditError::Encode("a record is too large for the ledger".to_owned()))?;
    let mut frame = Vec::with_capacity(HEADER_BYTES as usize + FRAME_OVERHEAD + payload.len());
    // A fold may move an oversized inbox aside between our open and our lock: then the path
    // names a new file, and we start again with it.
    for _ in 0..3 {
        let file = open_inbox(&path, true)?;
        lock_within(&file, &path, LOCK_WAIT)?;
        if !still_at(&file, &path).map_err(failed)? {
            continue;
        }
        let before = file.metadata().map_err(failed)?.len();
        if before > INBOX_LIMIT_BYTES {
            return Err(AuditError::Open {
                path: path.clone(),
                detail: format!(
                    "the inbox holds {before} bytes of decisions that have not reached the \
                     ledger (run `blastdoor audit verify` to fold them and see why)"
                ),
            });
        }
        if before > 0 && before < HEADER_BYTES {
            // A first delivery torn inside the header (a power failure): a frame written after
            // it would be read from the wrong offset. A fold keeps those bytes aside and
            // empties the inbox; until then, nothing is delivered.
            return Err(AuditError::Open {
                path: path.clone(),
                detail: format!("{SHORT_HEADER} ({before} bytes)"),
            });
        }
        frame.clear();
        let first_unix_ms = if before == 0 {
            frame.extend_from_slice(MAGIC);
            let mut generation = [0u8; 16];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut generation);
            frame.extend_from_slice(&generation);
            frame.extend_from_slice(&now_unix_ms.to_le_bytes());
            now_unix_ms
        } else {
            let mut header = [0u8; HEADER_BYTES as usize];
            match file.read_exact_at(&mut header, 0) {
                Ok(()) if header.starts_with(MAGIC) => first_delivery(&header),
                // Not our header: still deliver (the fold keeps those bytes aside and takes
                // this frame), and fold at once.
                _ => i64::MIN,
            }
        };
        frame.extend_from_slice(FRAME_MARK);
        frame.extend_from_slice(&length.to_le_bytes());
        frame.extend_from_slice(payload);
        frame.extend_from_slice(&Sha256::digest(payload));
        // O_APPEND: one write at the end, whatever the offset of this handle.
        let mut writer = &file;
        let written = writer.write_all(&frame).and_then(|()| {
            if durability == Durability::Fsync {
                file.sync_data()?;
                if before == 0 {
                    sync_parent(&path)?;
                }
            }
            Ok(())
        });
        if let Err(error) = written {
            // Never leave a torn frame for later deliveries to follow.
            let _ = file.set_len(before);
            return Err(failed(error));
        }
        return Ok(Delivered {
            bytes: before + frame.len() as u64,
            first_unix_ms,
        });
    }
    Err(AuditError::Open {
        path,
        detail: "the inbox kept being replaced while delivering".to_owned(),
    })
}

/// The inbox's length in bytes (0 when there is none): one `stat`.
pub fn pending_bytes(ledger: &Path) -> u64 {
    std::fs::metadata(inbox_path(ledger)).map_or(0, |metadata| metadata.len())
}

fn io_error(path: &Path, error: &std::io::Error) -> AuditError {
    AuditError::Open {
        path: path.to_owned(),
        detail: error.to_string(),
    }
}

fn first_delivery(header: &[u8; HEADER_BYTES as usize]) -> i64 {
    header
        .get(32..40)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(i64::MIN, i64::from_le_bytes)
}

/// Opens (or with `create`, creates) the inbox for reading and appending: never through a
/// symlink, never blocking, and only a regular file with one link, made 0600 if it was wider.
fn open_inbox(path: &Path, create: bool) -> Result<File, AuditError> {
    let open = || {
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(create)
            .mode(MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    };
    let file = match open() {
        Err(error) if create && error.kind() == ErrorKind::NotFound => {
            if let Some(parent) = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
            {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(|error| io_error(path, &error))?;
            }
            open()
        }
        opened => opened,
    }
    .map_err(|error| io_error(path, &error))?;
    let metadata = file.metadata().map_err(|error| io_error(path, &error))?;
    if !metadata.is_file() || metadata.nlink() != 1 {
        return Err(AuditError::Open {
            path: path.to_owned(),
            detail: "the inbox is not a regular file with a single link".to_owned(),
        });
    }
    if metadata.mode() & 0o077 != 0 {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(MODE))
            .map_err(|error| io_error(path, &error))?;
    }
    Ok(file)
}

/// Takes the exclusive lock on `file`, retrying until `wait` has passed (once if it is zero).
/// `Ok(false)` when it is still held by another and `wait` is zero.
fn lock_within(file: &File, path: &Path, wait: Duration) -> Result<bool, AuditError> {
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(std::fs::TryLockError::WouldBlock) if wait.is_zero() => return Ok(false),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(AuditError::Open {
                    path: path.to_owned(),
                    detail: format!(
                        "another process has held the inbox's lock for over {} s",
                        wait.as_secs()
                    ),
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(io_error(path, &error)),
        }
    }
}

/// True when `path` still names the open `file` (it was not moved aside meanwhile).
fn still_at(file: &File, path: &Path) -> std::io::Result<bool> {
    let open = file.metadata()?;
    Ok(match std::fs::symlink_metadata(path) {
        Ok(named) => named.dev() == open.dev() && named.ino() == open.ino(),
        Err(error) if error.kind() == ErrorKind::NotFound => false,
        Err(error) => return Err(error),
    })
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        Some(parent) => File::open(parent)?.sync_all(),
        None => File::open(".")?.sync_all(),
    }
}

/// What a fold found in the inbox, for the ledger to commit.
#[derive(Debug)]
pub(crate) struct Taken {
    /// The locked inbox: emptied (or moved aside) after the commit, and unlocked when dropped.
    file: File,
    path: PathBuf,
    /// Where the whole inbox goes after the commit when it was too large to read.
    move_aside_to: Option<PathBuf>,
    /// The records of the whole frames after the cursor, checked, redacted and re-encoded.
    pub(crate) records: Vec<Vec<u8>>,
    /// Spans that were not whole hook records, each kept in its own file.
    pub(crate) damaged: Vec<Damaged>,
    /// The cursor to store with the entries: the inbox's generation and the offset this fold
    /// consumes it up to (none when the inbox is moved aside whole).
    pub(crate) cursor: Option<([u8; 16], u64)>,
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
/// `wait` is zero and another process holds the lock (the next fold takes what it adds); an
/// error when the lock is still held after a non-zero `wait`. Damaged spans are copied aside
/// (synced) before this returns.
pub(crate) fn take(
    ledger: &Path,
    wait: Duration,
    cursor: impl FnOnce() -> Result<Option<([u8; 16], u64)>, AuditError>,
) -> Result<Option<Taken>, AuditError> {
    let path = inbox_path(ledger);
    let failed = |error: std::io::Error| io_error(&path, &error);
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(failed(error)),
        Ok(_) => {}
    }
    let mut file = open_inbox(&path, false)?;
    if !lock_within(&file, &path, wait)? {
        return Ok(None);
    }
    // Another folder may have moved this file aside while we waited: then it is not ours to
    // fold, and the file now at the path is the next fold's.
    if !still_at(&file, &path).map_err(failed)? {
        return Ok(None);
    }
    let metadata = file.metadata().map_err(failed)?;
    let total = metadata.len();
    let modified_unix_ms = metadata
        .modified()
        .ok()
        .and_then(|modified| modified.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|since| i64::try_from(since.as_millis()).ok())
        .unwrap_or(0);
    if total == 0 {
        return Ok(None);
    }
    if total > READ_LIMIT_BYTES {
        // No deliverer writes this much: it is moved aside unread, after the entry naming it
        // is committed (`finish`); deliverers notice the new file.
        let kept_in = damaged_path(&path);
        return Ok(Some(Taken {
            file,
            path,
            move_aside_to: Some(kept_in.clone()),
            records: Vec::new(),
            damaged: vec![Damaged {
                offset: 0,
                bytes: total,
                kept_in,
                modified_unix_ms,
            }],
            cursor: None,
        }));
    }
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(failed)?;
    file.read_to_end(&mut bytes).map_err(failed)?;
    let total = bytes.len() as u64;
    // A header that does not check gets a generation derived from its bytes, so that the
    // cursor works for it as for any other (a fold that dies before emptying the inbox must
    // not fold it twice); everything up to the first whole frame is then damage.
    let (generation, base) = match header(&bytes) {
        Some(generation) => (generation, HEADER_BYTES),
        None => (derived_generation(&bytes), 0),
    };
    let start = match cursor()? {
        Some((folded, offset)) if folded == generation => offset.max(base),
        _ => base,
    };
    if start >= total {
        // Everything here was folded before a crash stopped the emptying.
        file.set_len(0).map_err(failed)?;
        return Ok(None);
    }
    let (records, spans) = parse(&bytes, start);
    let mut damaged = Vec::with_capacity(spans.len());
    for (offset, end) in spans {
        let kept_in = damaged_path(&path);
        keep_aside(&kept_in, slice(&bytes, offset, end))
            .map_err(|error| io_error(&kept_in, &error))?;
        damaged.push(Damaged {
            offset,
            bytes: end - offset,
            kept_in,
            modified_unix_ms,
        });
    }
    Ok(Some(Taken {
        file,
        path,
        move_aside_to: None,
        records,
        damaged,
        cursor: Some((generation, total)),
    }))
}

/// Splits `bytes` from `start` into the hook records of whole frames (checked, redacted and
/// re-encoded) and the damaged spans between them, as `(offset, end)`. Sans-IO; the records and
/// spans cover `start..bytes.len()` exactly, in order.
fn parse(bytes: &[u8], start: u64) -> (Vec<Vec<u8>>, Vec<(u64, u64)>) {
    let total = bytes.len() as u64;
    let mut records = Vec::new();
    let mut spans = Vec::new();
    let mut offset = start;
    // Resynchronising hashes candidate frames; an adversarial inbox full of markers must not
    // make that quadratic, so a fold may hash at most about twice the inbox.
    let mut budget = 2 * total + 64 * 1024;
    while offset < total {
        if let Some((record, next)) = hook_record_at(bytes, offset) {
            records.push(record);
            offset = next;
            continue;
        }
        // Damage from here to the next whole hook record (or the end).
        let resume = next_record_after(bytes, offset, &mut budget).unwrap_or(total);
        spans.push((offset, resume));
        offset = resume;
    }
    (records, spans)
}

impl Taken {
    /// After the ledger committed the fold: empties the inbox (the next deliverer starts a new
    /// generation) and releases the lock. A failure here is harmless: the stored cursor makes
    /// the next fold skip what was folded.
    pub(crate) fn finish(self) {
        match &self.move_aside_to {
            // If this fails, the next fold finds the file again and records it again.
            Some(kept_in) => {
                if std::fs::rename(&self.path, kept_in).is_ok() {
                    let _ = sync_parent(&self.path);
                }
            }
            None => {
                let _ = self.file.set_len(0);
            }
        }
    }
}

fn slice(bytes: &[u8], from: u64, to: u64) -> &[u8] {
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let to = usize::try_from(to).unwrap_or(usize::MAX);
    bytes.get(from..to).unwrap_or(&[])
}

fn header(bytes: &[u8]) -> Option<[u8; 16]> {
    if bytes.get(..16)? != MAGIC || (bytes.len() as u64) < HEADER_BYTES {
        return None;
    }
    bytes.get(16..32)?.try_into().ok()
}

/// The record in the whole frame at `offset`, if it is a hook's record, checked, redacted and
/// re-encoded, and the offset after the frame.
fn hook_record_at(bytes: &[u8], offset: u64) -> Option<(Vec<u8>, u64)> {
    let (payload, next) = frame_at(bytes, offset)?;
    let record: Record = serde_json::from_slice(payload).ok()?;
    if record.layer != Layer::Hook {
        return None;
    }
    let encoded = record::encode_record(&record.redacted()).ok()?;
    Some((encoded, next))
}

/// A generation for an inbox whose header does not check, stable while the file grows.
fn derived_generation(bytes: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(slice(bytes, 0, HEADER_BYTES.min(bytes.len() as u64)));
    let mut generation = [0u8; 16];
    generation.copy_from_slice(digest.get(..16).unwrap_or(&[0u8; 16]));
    generation
}

/// The offset of the next whole hook record after `offset`, found by its frame marker. Each
/// candidate whose payload could be a record costs its length from `budget`; once that is
/// spent, there is none (the rest of the inbox is one damaged span).
fn next_record_after(bytes: &[u8], offset: u64, budget: &mut u64) -> Option<u64> {
    let from = usize::try_from(offset).ok()?.checked_add(1)?;
    let rest = bytes.get(from..)?;
    for (at, window) in rest.windows(FRAME_MARK.len()).enumerate() {
        if window != FRAME_MARK {
            continue;
        }
        let candidate = from + at;
        let length = bytes
            .get(candidate + 4..candidate + 8)
            .and_then(|field| field.try_into().ok())
            .map_or(u64::MAX, |field| u64::from(u32::from_le_bytes(field)));
        // A record is a JSON object: anything else is rejected before hashing.
        if bytes.get(candidate + 8) != Some(&b'{') {
            continue;
        }
        *budget = budget.checked_sub(length.saturating_add(FRAME_OVERHEAD as u64))?;
        if hook_record_at(bytes, candidate as u64).is_some() {
            return Some(candidate as u64);
        }
    }
    None
}

/// The payload of the whole, checked frame at `offset` and the offset after it.
fn frame_at(bytes: &[u8], offset: u64) -> Option<(&[u8], u64)> {
    let at = usize::try_from(offset).ok()?;
    if bytes.get(at..at.checked_add(4)?)? != FRAME_MARK {
        return None;
    }
    let length_at = at + 4;
    let length = u32::from_le_bytes(bytes.get(length_at..length_at + 4)?.try_into().ok()?);
    let length = usize::try_from(length)
        .ok()
        .filter(|length| *length <= MAX_PAYLOAD_BYTES)?;
    let payload_start = length_at + 4;
    let payload_end = payload_start.checked_add(length)?;
    let payload = bytes.get(payload_start..payload_end)?;
    let digest = bytes.get(payload_end..payload_end.checked_add(32)?)?;
    if Sha256::digest(payload).as_slice() != digest {
        return None;
    }
    Some((payload, (payload_end + 32) as u64))
}

/// A new name beside the inbox for bytes kept aside.
fn damaged_path(inbox: &Path) -> PathBuf {
    let mut random = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
    let mut name = inbox.as_os_str().to_owned();
    name.push(format!(".damaged-{}", hex::encode(random)));
    PathBuf::from(name)
}

/// Writes `bytes` to `path` (0600) through a temporary file that is synced and renamed into
/// place, then syncs the directory: once this returns, the file is whole and will stay.
fn keep_aside(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = PathBuf::from(temporary);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    sync_parent(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> Vec<u8> {
        let mut bytes = FRAME_MARK.to_vec();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&Sha256::digest(payload));
        bytes
    }

    #[test]
    fn a_frame_checks_only_whole_and_unaltered() {
        let payload = b"{\"a\":1}";
        let mut bytes = vec![0u8; HEADER_BYTES as usize];
        bytes.extend_from_slice(&frame(payload));
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

    fn hook_payload(description: &str) -> Vec<u8> {
        serde_json::json!({
            "time_unix_ms": 1, "layer": "hook", "actor": {"agent": null, "session": null},
            "operation": {"kind": "shell", "description": description, "risk": "read",
                          "targets": []},
            "verdict": {"decision": "allow", "reasons": []},
            "hold_id": null, "approvers": [], "snapshot_id": null, "upstream_response": null
        })
        .to_string()
        .into_bytes()
    }

    proptest::proptest! {
        /// Whatever the inbox holds (whole frames, cut or altered ones, junk between them),
        /// parsing never panics, accounts for every byte exactly once, and finds every whole
        /// frame that no damage overlaps.
        #[test]
        fn parsing_accounts_for_every_byte(
            pieces in proptest::collection::vec(
                (0u8..4, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
                0..12,
            )
        ) {
            let mut bytes = Vec::new();
            let mut whole = 0;
            for (index, (kind, junk)) in pieces.iter().enumerate() {
                let frame = frame(&hook_payload(&format!("record {index}")));
                match kind {
                    0 | 1 => { bytes.extend_from_slice(&frame); whole += 1; }
                    2 => bytes.extend_from_slice(&frame[..frame.len() / 2]),
                    _ => bytes.extend_from_slice(junk),
                }
            }
            let (records, spans) = parse(&bytes, 0);
            let mut covered = 0u64;
            let mut cursor = 0u64;
            for (offset, end) in &spans {
                proptest::prop_assert!(offset < end && *offset >= cursor);
                covered += end - offset;
                cursor = *end;
            }
            let record_bytes: u64 = records
                .iter()
                .map(|record| (FRAME_OVERHEAD + record.len()) as u64)
                .sum();
            proptest::prop_assert_eq!(covered + record_bytes, bytes.len() as u64);
            // A whole frame is lost only when damage before it swallowed its marker.
            proptest::prop_assert!(records.len() <= whole);
            if spans.is_empty() {
                proptest::prop_assert_eq!(records.len(), whole);
            }
        }
    }

    #[test]
    fn a_huge_length_is_not_a_frame() {
        let mut bytes = FRAME_MARK.to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0u8; 64]);
        assert!(frame_at(&bytes, 0).is_none());
    }

    #[test]
    fn a_whole_frame_that_is_not_a_hook_record_is_not_taken() {
        // Valid JSON with trailing whitespace, and a record of another layer.
        assert!(hook_record_at(&frame(b"{\"a\":1}\n"), 0).is_none());
        let gateway = serde_json::json!({
            "time_unix_ms": 1, "layer": "gateway", "actor": {"agent": null, "session": null},
            "operation": {"kind": "http", "description": "x", "risk": "read", "targets": []},
            "verdict": {"decision": "allow", "reasons": []},
            "hold_id": null, "approvers": [], "snapshot_id": null, "upstream_response": null
        });
        let bytes = frame(gateway.to_string().as_bytes());
        assert!(frame_at(&bytes, 0).is_some());
        assert!(hook_record_at(&bytes, 0).is_none());
    }
}
