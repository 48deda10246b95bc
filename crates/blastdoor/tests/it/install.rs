//! Tests of `blastdoor install` (idempotent merge into each harness's settings, refusal of a
//! malformed file) and `blastdoor doctor` (which harnesses are protected, hazards).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::support::{TestHome, stderr, stdout};

/// `HOME` as the test harness sets it: the parent of `BLASTDOOR_HOME`.
fn user_home(home: &TestHome) -> PathBuf {
    home.path().parent().unwrap().to_path_buf()
}

fn install(home: &TestHome, args: &[&str]) -> Output {
    let mut full = vec!["install"];
    full.extend_from_slice(args);
    home.command(&full)
        .current_dir(home.scratch())
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What `blastdoor install` registers here: the lean `blastdoor-hook`, which cargo builds
/// beside `blastdoor`.
fn hook_command(harness: &str) -> String {
    format!("{} {harness}", env!("CARGO_BIN_EXE_blastdoor-hook"))
}

/// A directory holding a hard link to `blastdoor` and nothing else (no `blastdoor-hook`
/// beside it), on the same file system as the build's binaries.
fn lone_blastdoor() -> (tempfile::TempDir, PathBuf) {
    let binary = Path::new(env!("CARGO_BIN_EXE_blastdoor"));
    let dir = tempfile::tempdir_in(binary.parent().unwrap()).unwrap();
    let lone = dir.path().join("blastdoor");
    std::fs::hard_link(binary, &lone).unwrap();
    (dir, lone)
}

#[test]
fn without_the_lean_binary_beside_it_install_registers_blastdoor_hook() {
    let home = TestHome::empty();
    let (_dir, lone) = lone_blastdoor();
    let output = std::process::Command::new(&lone)
        .args(["install", "claude"])
        .env("BLASTDOOR_HOME", home.path())
        .env("HOME", user_home(&home))
        .current_dir(home.scratch())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let settings = read_json(&user_home(&home).join(".claude/settings.json"));
    for entry in settings["hooks"]["PreToolUse"].as_array().unwrap() {
        assert_eq!(
            entry["hooks"][0]["command"],
            format!("{} hook claude", lone.display())
        );
    }

    // doctor counts that form as protected too, and installing the lean binary replaces it.
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("protected harnesses: claude"));
    assert!(install(&home, &["claude"]).status.success());
    let settings = read_json(&user_home(&home).join(".claude/settings.json"));
    let entries = settings["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    for entry in entries {
        assert_eq!(entry["hooks"][0]["command"], hook_command("claude"));
    }
}

#[test]
fn doctor_flags_a_registered_hook_binary_that_is_gone() {
    let home = TestHome::empty();
    let (dir, lone) = lone_blastdoor();
    let lean = dir.path().join("blastdoor-hook");
    std::fs::hard_link(env!("CARGO_BIN_EXE_blastdoor-hook"), &lean).unwrap();
    let output = std::process::Command::new(&lone)
        .args(["install", "claude"])
        .env("BLASTDOOR_HOME", home.path())
        .env("HOME", user_home(&home))
        .current_dir(home.scratch())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("{} claude", lean.display())));
    assert_eq!(doctor(&home, &[]).status.code(), Some(0));

    std::fs::remove_file(&lean).unwrap();
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("does not point at an existing executable"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn claude_user_install_registers_shell_read_and_write_matchers_fail_closed() {
    let home = TestHome::empty();
    let output = install(&home, &["claude"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let settings = read_json(&user_home(&home).join(".claude/settings.json"));
    let entries = settings["hooks"]["PreToolUse"].as_array().unwrap();
    let matchers: Vec<&str> = entries
        .iter()
        .map(|entry| entry["matcher"].as_str().unwrap())
        .collect();
    assert_eq!(
        matchers,
        ["Bash", "Read|Grep", "Edit|Write|MultiEdit|NotebookEdit"]
    );
    for entry in entries {
        let handler = &entry["hooks"][0];
        assert_eq!(handler["type"], "command");
        assert_eq!(handler["command"], hook_command("claude"));
        assert_eq!(handler["onFailure"], "block");
    }
}

#[test]
fn installing_twice_gives_the_same_file_and_keeps_other_settings() {
    let home = TestHome::empty();
    let path = user_home(&home).join(".claude/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mine = json!({
        "model": "opus",
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "my-linter"}]}],
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
        },
    });
    std::fs::write(&path, mine.to_string()).unwrap();
    assert!(install(&home, &["claude", "--user"]).status.success());
    let once = std::fs::read(&path).unwrap();
    let output = install(&home, &["claude", "--user"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("already installed"));
    assert_eq!(std::fs::read(&path).unwrap(), once);

    let settings = read_json(&path);
    assert_eq!(settings["model"], "opus");
    assert_eq!(settings["permissions"], mine["permissions"]);
    assert_eq!(settings["hooks"]["Stop"], mine["hooks"]["Stop"]);
    assert_eq!(
        settings["hooks"]["PreToolUse"][0],
        mine["hooks"]["PreToolUse"][0]
    );
    assert_eq!(settings["hooks"]["PreToolUse"].as_array().unwrap().len(), 4);
}

#[test]
fn a_malformed_settings_file_is_refused_and_left_unchanged() {
    let home = TestHome::empty();
    let path = user_home(&home).join(".gemini/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let broken = "{ \"theme\": \"dark\", // comment\n";
    std::fs::write(&path, broken).unwrap();
    let output = install(&home, &["gemini"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(&path.display().to_string()),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn project_install_uses_the_current_directory() {
    let home = TestHome::empty();
    assert!(install(&home, &["cursor", "--project"]).status.success());
    let settings = read_json(&home.scratch().join(".cursor/hooks.json"));
    assert_eq!(settings["version"], 1);
    for event in [
        "beforeShellExecution",
        "beforeReadFile",
        "beforeMCPExecution",
    ] {
        assert_eq!(
            settings["hooks"][event][0]["command"],
            hook_command("cursor"),
            "{event}"
        );
        assert_eq!(settings["hooks"][event][0]["failClosed"], true, "{event}");
    }
    assert!(!user_home(&home).join(".cursor").exists());
}

#[test]
fn each_harness_gets_its_own_file_and_shape() {
    let home = TestHome::empty();
    assert!(install(&home, &["codex"]).status.success());
    let codex = read_json(&user_home(&home).join(".codex/hooks.json"));
    assert_eq!(codex["hooks"]["PreToolUse"][0]["matcher"], "Bash");
    assert_eq!(
        codex["hooks"]["PreToolUse"][0]["hooks"][0]["command"],
        hook_command("codex")
    );

    assert!(install(&home, &["gemini", "--project"]).status.success());
    let gemini = read_json(&home.scratch().join(".gemini/settings.json"));
    assert_eq!(
        gemini["hooks"]["BeforeTool"][0]["matcher"],
        "run_shell_command"
    );
    assert_eq!(
        gemini["hooks"]["BeforeTool"][0]["hooks"][0]["timeout"],
        5000
    );

    assert!(
        install(&home, &["copilot"]).status.success(),
        "copilot defaults to the project"
    );
    let copilot = read_json(&home.scratch().join(".github/hooks/blastdoor.json"));
    assert_eq!(copilot["version"], 1);
    assert_eq!(
        copilot["hooks"]["preToolUse"][0]["bash"],
        hook_command("copilot")
    );
    let output = install(&home, &["copilot", "--user"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--project"));
}

fn doctor(home: &TestHome, extra_env: &[(&str, &str)]) -> Output {
    let mut command = home.command(&["doctor"]);
    command.current_dir(home.scratch());
    for name in [
        "RAILWAY_TOKEN",
        "RAILWAY_API_TOKEN",
        "RAILWAY_PROJECT_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITLAB_TOKEN",
        "HEROKU_API_KEY",
        "FLY_API_TOKEN",
        "FLY_ACCESS_TOKEN",
        "VERCEL_TOKEN",
        "NETLIFY_AUTH_TOKEN",
        "SUPABASE_ACCESS_TOKEN",
        "DIGITALOCEAN_ACCESS_TOKEN",
        "CLOUDFLARE_API_TOKEN",
        "AZURE_CLIENT_SECRET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "KUBECONFIG",
        "PGPASSWORD",
        "DATABASE_URL",
    ] {
        command.env_remove(name);
    }
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn doctor_reports_protected_harnesses_and_hazards() {
    let home = TestHome::empty();
    let output = doctor(&home, &[]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "nothing installed is a hazard: {}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("no harness has the blastdoor hook installed"));

    assert!(install(&home, &["claude"]).status.success());
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("protected harnesses: claude"));

    let output = doctor(&home, &[("RAILWAY_TOKEN", "rw_live_secret_value")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("RAILWAY_TOKEN"));
    assert!(!stdout(&output).contains("rw_live_secret_value"));
    assert!(!stderr(&output).contains("rw_live_secret_value"));
}

#[test]
fn doctor_flags_a_hook_that_fails_open_and_a_readable_home() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = TestHome::empty();
    assert!(install(&home, &["claude"]).status.success());
    let path = user_home(&home).join(".claude/settings.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"block\"", "\"ignore\"");
    std::fs::write(&path, text).unwrap();
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("fails open"),
        "{}",
        stdout(&output)
    );

    assert!(install(&home, &["claude"]).status.success());
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).contains("readable by group or others"),
        "{}",
        stdout(&output)
    );
}

/// The Railway upstream the `[[protect]]` entries below refer to.
const RAILWAY: &str = "[[upstream]]\nname = \"railway\"\nkind = \"railway\"\n\
    url = \"http://127.0.0.1:9\"\ncredential = \"railway-main\"\n\n";

/// An installed, private home with `config` (after the Railway upstream) as its blastdoor.toml.
fn home_with_config(config: &str) -> TestHome {
    use std::os::unix::fs::PermissionsExt as _;
    let home = TestHome::empty();
    assert!(install(&home, &["claude"]).status.success());
    std::fs::create_dir_all(home.path()).unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    write_config(&home, config);
    home
}

fn write_config(home: &TestHome, config: &str) {
    std::fs::write(
        home.path().join("blastdoor.toml"),
        format!("{RAILWAY}{config}"),
    )
    .unwrap();
}

#[test]
fn doctor_warns_when_a_resource_is_only_backed_up_on_its_own_platform() {
    let railway_only = "[snapshots]\nstore = \"../scratch/snapshots\"\n\n\
        [[protect]]\nupstream = \"railway\"\nresource = \"vol-pg-data\"\nmethod = \"railway_backup\"\n";
    let home = home_with_config(railway_only);
    let output = doctor(&home, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("only backed up on the same platform"),
        "{text}"
    );
    assert!(text.contains("railway `vol-pg-data`"), "{text}");

    // An isolated method instead: nothing to warn about.
    let isolated = railway_only.replace(
        "method = \"railway_backup\"",
        "method = \"pg_dump\"\ndsn = \"pocketos-prod-db\"",
    );
    write_config(&home, &isolated);
    let output = doctor(&home, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("same platform"), "{text}");
    assert!(text.contains("does not exist yet"), "{text}");
}

#[test]
fn doctor_warns_when_snapshots_live_inside_the_data_they_protect() {
    let home = home_with_config("");
    let data = home.scratch().join("pgdata");
    let config = format!(
        "[snapshots]\nstore = \"{}\"\n\n[[protect]]\nupstream = \"railway\"\n\
         resource = \"vol-pg-data\"\nmethod = \"command\"\nargv = [\"tar\", \"-cf\", \"-\", \"{}\"]\n",
        data.join("backups").display(),
        data.display()
    );
    write_config(&home, &config);
    let output = doctor(&home, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("shares a path with railway `vol-pg-data`"),
        "{text}"
    );

    let elsewhere = home.scratch().join("isolated");
    let config = format!(
        "[snapshots]\nstore = \"{}\"\n\n[[protect]]\nupstream = \"railway\"\n\
         resource = \"vol-pg-data\"\nmethod = \"command\"\nargv = [\"tar\", \"-cf\", \"-\", \"{}\"]\n",
        elsewhere.display(),
        data.display()
    );
    write_config(&home, &config);
    let output = doctor(&home, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn doctor_warns_when_the_snapshot_store_is_writable_by_the_agents_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = home_with_config("[snapshots]\nstore = \"snapshots\"\n");
    let store = home.path().join("snapshots");
    std::fs::create_dir_all(&store).unwrap();

    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = doctor(&home, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("writable by group and others"), "{text}");

    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o770)).unwrap();
    let text = stdout(&doctor(&home, &[]));
    assert!(text.contains("writable by its group"), "{text}");

    // Private to its owner, but the owner is the user running doctor (the agent's, when the
    // agent runs it) and BLASTDOOR_HOME is writable too: the agent could delete snapshots.
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
    let output = doctor(&home, &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("deployment model is"), "{text}");
    assert!(text.contains("can delete the snapshots"), "{text}");
}
