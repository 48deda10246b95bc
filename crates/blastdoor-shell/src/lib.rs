//! Classifies the shell commands and file reads an agent attempts, for the agent hook (layer 1
//! of the design). A command is parsed the way bash parses it (`brush-parser`), canonicalised
//! (quote removal, `$IFS`, brace expansion, ANSI-C strings, wrappers such as `sudo`/`env`/
//! `xargs`/`find -exec`, `bash -c`, `eval`, `ssh`, `docker exec`, inline interpreters, scripts
//! run from files) and every simple command that would run is checked by the rules under
//! [`rules`]. The result is an [`Assessment`]: the [`Operation`] and a built-in [`Verdict`].
//!
//! This crate must not do IO of its own (files come through [`FileSource`]), read the clock,
//! use the network, compile regexes or panic on any input. Anything it cannot classify is
//! `Unknown`, and `Unknown` is never allowed.

mod analysis;
mod assessment;
mod code;
mod command;
mod error;
mod http_request;
mod interpreters;
mod paths;
pub mod rules;
mod source;
mod sql;
mod words;
mod wrappers;

use std::path::Path;

use blastdoor_core::{Operation, Verdict};

pub use error::ShellError;
pub use source::{FileSource, FsSource, MemorySource, NoFiles};

/// Where the command runs and how the classifier may read the files it names.
pub struct Context<'a> {
    /// The working directory the command runs in (the agent's workspace).
    pub cwd: &'a Path,
    /// The user's `$HOME`, for `~` and credential paths.
    pub home: Option<&'a Path>,
    /// `BLASTDOOR_HOME`, whose contents the agent must not touch.
    pub blastdoor_home: Option<&'a Path>,
    /// Reads scripts and `-d @file` bodies.
    pub files: &'a dyn FileSource,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("cwd", &self.cwd)
            .field("home", &self.home)
            .field("blastdoor_home", &self.blastdoor_home)
            .finish_non_exhaustive()
    }
}

/// What an input would do and what blastdoor decided about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Kind `Shell` or `FileRead`, a redacted description, the worst risk found, the targets.
    pub operation: Operation,
    /// Allow, Hold or Deny, with at least one reason.
    pub verdict: Verdict,
}

/// Classifies a shell command line as the agent would run it in `context.cwd`.
///
/// Never panics; anything it cannot classify is held, never allowed.
pub fn assess_command(command: &str, context: &Context<'_>) -> Assessment {
    let findings = analysis::analyse_command(command, context);
    assessment::build(blastdoor_core::OperationKind::Shell, command, findings)
}

/// Classifies an agent tool's read of the file at `path` (Claude Code `Read`, Cursor
/// `beforeReadFile`) with the credential-file and blastdoor-state rules.
pub fn assess_file_read(path: &Path, context: &Context<'_>) -> Assessment {
    let findings = analysis::analyse_file_read(path, context);
    let description = format!("read {}", path.display());
    assessment::build(
        blastdoor_core::OperationKind::FileRead,
        &description,
        findings,
    )
}
