//! [`FileSource`]: how the classifier reads scripts and request bodies without doing IO itself,
//! and [`FsSource`], the real filesystem behind it.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Reads a file's first bytes for the classifier. Implementations must bound what they read by
/// `limit` and return `None` for anything they will not or cannot read (missing, a directory, a
/// device, too large, a symlink).
pub trait FileSource {
    /// Up to `limit` bytes of the file at `path`; `None` when the file is larger than `limit`,
    /// unreadable or not a regular file.
    fn read_bounded(&self, path: &Path, limit: usize) -> Option<Vec<u8>>;
}

/// The real filesystem: reads regular files only, refuses a symlink as the final component,
/// FIFOs, sockets, devices and directories, and files larger than the limit (checked before
/// and after opening). Symlinked parent directories are followed.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsSource;

impl FileSource for FsSource {
    fn read_bounded(&self, path: &Path, limit: usize) -> Option<Vec<u8>> {
        let metadata = std::fs::symlink_metadata(path).ok()?;
        if !metadata.file_type().is_file() {
            return None;
        }
        let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
        if metadata.len() > limit_u64 {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        // The path may have been swapped between the two looks: check what was opened.
        let opened = file.metadata().ok()?;
        if !opened.file_type().is_file() || opened.len() > limit_u64 {
            return None;
        }
        let mut bytes = Vec::new();
        // Read one byte past the limit so that a file that grew since `metadata` is refused.
        file.take(limit_u64.saturating_add(1))
            .read_to_end(&mut bytes)
            .ok()?;
        if bytes.len() > limit {
            return None;
        }
        Some(bytes)
    }
}

/// An in-memory file set, for tests and for callers that already hold the files.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    files: HashMap<PathBuf, Vec<u8>>,
}

impl MemorySource {
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Adds (or replaces) the file at `path`.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.into(), contents.into());
        self
    }
}

impl FileSource for MemorySource {
    fn read_bounded(&self, path: &Path, limit: usize) -> Option<Vec<u8>> {
        let bytes = self.files.get(path)?;
        if bytes.len() > limit {
            return None;
        }
        Some(bytes.clone())
    }
}

/// A source that reads nothing: every script and body is unreadable, which the classifier
/// treats as unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileSource for NoFiles {
    fn read_bounded(&self, _path: &Path, _limit: usize) -> Option<Vec<u8>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.sh");
        std::fs::write(&file, b"rm -rf /srv\n").unwrap();
        assert_eq!(
            FsSource.read_bounded(&file, 1024),
            Some(b"rm -rf /srv\n".to_vec())
        );
        assert_eq!(FsSource.read_bounded(&file, 4), None);
        assert_eq!(FsSource.read_bounded(dir.path(), 1024), None);
        assert_eq!(
            FsSource.read_bounded(&dir.path().join("missing"), 1024),
            None
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symlink_as_the_final_component() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.json");
        std::fs::write(&target, b"{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(FsSource.read_bounded(&link, 1024), None);
        assert_eq!(FsSource.read_bounded(&target, 1024), Some(b"{}".to_vec()));
    }

    #[test]
    fn memory_source_respects_the_limit() {
        let source = MemorySource::new().with_file("/w/a", b"abcdef".to_vec());
        assert_eq!(
            source.read_bounded(Path::new("/w/a"), 6),
            Some(b"abcdef".to_vec())
        );
        assert_eq!(source.read_bounded(Path::new("/w/a"), 5), None);
        assert_eq!(NoFiles.read_bounded(Path::new("/w/a"), 6), None);
    }
}
