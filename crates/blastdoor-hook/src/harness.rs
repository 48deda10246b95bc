//! [`Harness`]: the agent harnesses blastdoor plugs into, and the facts about each that the
//! adapters and the installer share (names, settings file locations).

use std::fmt;
use std::path::{Path, PathBuf};

/// An agent harness with a pre-tool hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Harness {
    /// Claude Code, `PreToolUse`.
    Claude,
    /// OpenAI Codex CLI, `PreToolUse` (Claude Code's envelope plus `turn_id` and `model`).
    Codex,
    /// Cursor: `beforeShellExecution`, `beforeReadFile`, `beforeMCPExecution`, `preToolUse`.
    Cursor,
    /// Gemini CLI, `BeforeTool`.
    Gemini,
    /// GitHub Copilot CLI, `preToolUse`.
    Copilot,
}

/// Where a hook registration lives: the user's home or the current project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    User,
    Project,
}

impl Harness {
    /// Every harness, in the order `blastdoor doctor` reports them.
    pub const ALL: [Harness; 5] = [
        Harness::Claude,
        Harness::Codex,
        Harness::Cursor,
        Harness::Gemini,
        Harness::Copilot,
    ];

    /// The name used on the command line (`blastdoor hook claude`).
    pub fn as_str(self) -> &'static str {
        match self {
            Harness::Claude => "claude",
            Harness::Codex => "codex",
            Harness::Cursor => "cursor",
            Harness::Gemini => "gemini",
            Harness::Copilot => "copilot",
        }
    }

    /// The harness's settings directory, relative to the home or project directory.
    pub fn settings_dir(self) -> &'static str {
        match self {
            Harness::Claude => ".claude",
            Harness::Codex => ".codex",
            Harness::Cursor => ".cursor",
            Harness::Gemini => ".gemini",
            Harness::Copilot => ".github/hooks",
        }
    }

    /// The file the hook is registered in, for `scope`, given the user's home directory and
    /// the project directory. Copilot CLI reads hooks per repository only, so it has no user
    /// file: `None`.
    pub fn settings_file(self, scope: Scope, home: &Path, project: &Path) -> Option<PathBuf> {
        let base = match scope {
            Scope::User => home,
            Scope::Project => project,
        };
        let name = match self {
            Harness::Claude | Harness::Gemini => "settings.json",
            Harness::Codex | Harness::Cursor => "hooks.json",
            Harness::Copilot => match scope {
                Scope::User => return None,
                Scope::Project => "blastdoor.json",
            },
        };
        Some(base.join(self.settings_dir()).join(name))
    }

    /// Does the harness have a switch that makes a crashed or timed-out hook block the call?
    pub fn has_fail_closed_switch(self) -> bool {
        matches!(self, Harness::Claude | Harness::Cursor)
    }
}

impl fmt::Display for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
