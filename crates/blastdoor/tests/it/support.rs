//! Helpers shared by the integration tests: a temporary `BLASTDOOR_HOME` and a way to run the
//! real binary in it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temporary `BLASTDOOR_HOME` (and a workspace beside it), removed when dropped.
pub struct TestHome {
    dir: tempfile::TempDir,
}

impl TestHome {
    /// An empty directory; `blastdoor init` has not run.
    pub fn empty() -> TestHome {
        TestHome {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A home where `blastdoor init` has run successfully.
    pub fn initialised() -> TestHome {
        let home = TestHome::empty();
        let output = home.run(&["init"]);
        assert!(
            output.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        home
    }

    /// `BLASTDOOR_HOME` itself.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A scratch directory outside `BLASTDOOR_HOME`, for workspaces and files.
    pub fn scratch(&self) -> PathBuf {
        let path = self.dir.path().join("scratch");
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// A `blastdoor` command with `BLASTDOOR_HOME` (and `HOME`) pointing here.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_blastdoor"));
        command
            .args(args)
            .env("BLASTDOOR_HOME", self.path())
            .env("HOME", self.dir.path())
            .env_remove("BLASTDOOR_LOG")
            .stdin(Stdio::null());
        command
    }

    /// Runs `blastdoor ARGS` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `blastdoor ARGS` with `stdin` as its standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// True when `needle` occurs anywhere in the bytes of the file at `path`.
pub fn file_contains(path: &Path, needle: &[u8]) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|window| window == needle)
}
