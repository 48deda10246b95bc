//! `blastdoor install HARNESS [--user|--project]`: registers the hook in that harness's
//! settings file, with its fail-closed switch on where it has one. The command registered is
//! the lean `blastdoor-hook HARNESS` when that binary sits beside this one (it answers the same
//! and starts faster), else `blastdoor hook HARNESS`.
//!
//! The merge itself is `blastdoor_hook::merge_registration` (pure, idempotent, keeps the
//! user's other settings and hooks). Here: choose the file, refuse a malformed one (it is left
//! untouched), and write atomically (a temporary file in the same directory, then a rename),
//! keeping the original file's permissions.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use blastdoor_hook::{Harness, Scope};

use crate::cmd::hook::HarnessArg;

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The harness to protect.
    #[arg(value_enum)]
    harness: HarnessArg,
    /// Register in the user's settings under $HOME (the default, except for copilot).
    #[arg(long, conflicts_with = "project")]
    user: bool,
    /// Register in the current directory's project settings.
    #[arg(long)]
    project: bool,
}

pub fn run(args: InstallArgs) -> anyhow::Result<ExitCode> {
    let harness = Harness::from(args.harness);
    let scope = match (args.user, args.project, harness) {
        (true, _, Harness::Copilot) => {
            anyhow::bail!(
                "Copilot CLI reads hooks per repository only: run `blastdoor install copilot --project` in it"
            )
        }
        (_, true, _) | (false, false, Harness::Copilot) => Scope::Project,
        _ => Scope::User,
    };
    let user_home = std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set")?;
    let project = std::env::current_dir().context("cannot read the current directory")?;
    let path = harness
        .settings_file(scope, &user_home, &project)
        .context("this harness has no settings file for that scope")?;
    let executable = std::env::current_exe().context("cannot find the path of this executable")?;
    let command = blastdoor_hook::hook_command(&hook_executable(&executable), harness);

    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read `{}`", path.display()));
        }
    };
    let merged = blastdoor_hook::merge_registration(harness, existing.as_deref(), &command, &path)?;
    if existing.as_deref() == Some(merged.as_str()) {
        println!("{harness}: already installed in {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    write_atomically(&path, merged.as_bytes())?;
    let switch = match harness.has_fail_closed_switch() {
        true => "fail-closed switch on",
        false => "this harness has no fail-closed switch",
    };
    println!(
        "{harness}: installed `{command}` in {} ({switch})",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The program to register: the lean hook binary beside `executable` when it is there and
/// executable, else `executable` itself (run as `blastdoor hook HARNESS`).
///
/// Nothing here proves the two binaries come from the same build: after `cargo run -p
/// blastdoor`, which relinks only `blastdoor`, an older `blastdoor-hook` would keep answering
/// with older code. The README says to build both together (`cargo build --release`).
fn hook_executable(executable: &Path) -> PathBuf {
    let lean = executable.with_file_name(blastdoor_hook::LEAN_HOOK_BINARY);
    let usable = std::fs::metadata(&lean)
        .is_ok_and(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0);
    match usable {
        true => lean,
        false => executable.to_owned(),
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory and a rename,
/// so a reader never sees half a file. Keeps the existing file's mode.
fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let directory = path
        .parent()
        .context("settings path has no parent directory")?;
    std::fs::create_dir_all(directory)
        .with_context(|| format!("cannot create `{}`", directory.display()))?;
    let file_name = path.file_name().context("settings path has no file name")?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(file_name);
    temporary_name.push(format!(".blastdoor-{}.tmp", std::process::id()));
    let temporary = directory.join(temporary_name);
    let mode = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions().mode() & 0o7777,
        Err(_) => 0o644,
    };
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(contents)?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("cannot write `{}`", path.display()));
    }
    Ok(())
}
