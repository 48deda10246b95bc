//! Tests of `blastdoor hook`: each harness's real envelopes in (shapes from
//! `docs/agent-hooks.md`), its stdout checked field by field, exit 0 always, and
//! every decision in the ledger.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::{TestHome, stderr, stdout};

/// The incident: a GraphQL `volumeDelete` sent to Railway with curl.
const INCIDENT: &str = r#"curl -X POST https://backboard.railway.app/graphql/v2 -H "Authorization: Bearer $RAILWAY_TOKEN" -H "Content-Type: application/json" -d '{"query":"mutation { volumeDelete(volumeId: \"3d1f\") }"}'"#;
/// A command whose program is computed at run time: unknown, so held.
const UNKNOWN: &str = "$TOOL -rf ./build";
/// A harmless command.
const HARMLESS: &str = "git status";

fn hook(home: &TestHome, harness: &str, input: &Value) -> Output {
    hook_bytes(home, harness, input.to_string().as_bytes())
}

fn hook_bytes(home: &TestHome, harness: &str, input: &[u8]) -> Output {
    let output = home.run_with_stdin(&["hook", harness], input);
    assert_eq!(
        output.status.code(),
        Some(0),
        "hook must exit 0; stderr: {}",
        stderr(&output)
    );
    output
}

fn answer(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {:?}", stdout(output)))
}

/// The sorted keys of a JSON object.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn claude(home: &TestHome, mode: &str, tool: &str, tool_input: Value) -> Value {
    json!({
        "session_id": "abc123",
        "transcript_path": "/home/u/.claude/projects/x/t.jsonl",
        "cwd": home.scratch(),
        "permission_mode": mode,
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01",
    })
}

/// Checks a Claude Code / Codex answer: exactly `hookSpecificOutput` with exactly the three
/// documented keys. Returns (decision, reason).
fn pre_tool_use_answer(output: &Output) -> (String, String) {
    let value = answer(output);
    assert_eq!(keys(&value), ["hookSpecificOutput"]);
    let inner = &value["hookSpecificOutput"];
    assert_eq!(
        keys(inner),
        [
            "hookEventName",
            "permissionDecision",
            "permissionDecisionReason"
        ]
    );
    assert_eq!(inner["hookEventName"], "PreToolUse");
    (
        inner["permissionDecision"].as_str().unwrap().to_owned(),
        inner["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// The ledger's entries, through `blastdoor audit log --json`.
fn ledger_entries(home: &TestHome) -> Vec<Value> {
    let output = home.run(&["audit", "log", "--json"]);
    assert!(
        output.status.success(),
        "audit log failed: {}",
        stderr(&output)
    );
    stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn claude_denies_the_incident_where_nobody_can_be_asked() {
    let home = TestHome::empty();
    for mode in ["bypassPermissions", "dontAsk", "auto"] {
        let output = hook(
            &home,
            "claude",
            &claude(
                &home,
                mode,
                "Bash",
                json!({"command": INCIDENT, "description": "x"}),
            ),
        );
        let (decision, reason) = pre_tool_use_answer(&output);
        assert_eq!(decision, "deny", "{mode}");
        assert!(
            reason.contains("[rule: "),
            "reason names the rule: {reason}"
        );
    }
}

#[test]
fn claude_asks_the_user_about_a_hold_in_interactive_modes() {
    let home = TestHome::empty();
    for mode in ["default", "acceptEdits", "plan"] {
        let output = hook(
            &home,
            "claude",
            &claude(&home, mode, "Bash", json!({"command": UNKNOWN})),
        );
        let (decision, reason) = pre_tool_use_answer(&output);
        assert_eq!(decision, "ask", "{mode}");
        assert!(
            reason.starts_with("blastdoor: this needs your approval"),
            "{reason}"
        );
    }
    let output = hook(
        &home,
        "claude",
        &claude(
            &home,
            "bypassPermissions",
            "Bash",
            json!({"command": UNKNOWN}),
        ),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
    assert!(
        reason
            .to_lowercase()
            .contains("do not look for other credentials"),
        "{reason}"
    );
}

#[test]
fn claude_allow_is_no_decision_so_the_users_own_prompts_still_apply() {
    let home = TestHome::empty();
    let output = hook(
        &home,
        "claude",
        &claude(&home, "default", "Bash", json!({"command": HARMLESS})),
    );
    assert!(
        output.stdout.is_empty(),
        "allow prints nothing: {:?}",
        stdout(&output)
    );
    let output = hook(
        &home,
        "claude",
        &claude(
            &home,
            "default",
            "WebFetch",
            json!({"url": "https://example.com"}),
        ),
    );
    assert!(
        output.stdout.is_empty(),
        "unclassified tools are not decided: {:?}",
        stdout(&output)
    );
}

#[test]
fn claude_read_of_a_credential_file_is_not_allowed() {
    let home = TestHome::empty();
    let env_file = home.scratch().join(".env");
    std::fs::write(&env_file, "RAILWAY_TOKEN=abc\n").unwrap();
    let output = hook(
        &home,
        "claude",
        &claude(&home, "auto", "Read", json!({"file_path": env_file})),
    );
    let (decision, _) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
}

#[test]
fn claude_edit_of_hook_settings_is_the_disarm_rule() {
    let home = TestHome::empty();
    let settings = home.scratch().join(".claude/settings.json");
    for tool in ["Edit", "Write", "MultiEdit"] {
        let output = hook(
            &home,
            "claude",
            &claude(
                &home,
                "default",
                tool,
                json!({"file_path": settings, "content": "{}"}),
            ),
        );
        let (decision, reason) = pre_tool_use_answer(&output);
        assert_eq!(decision, "deny", "{tool}");
        assert!(reason.contains("blastdoor.disarm"), "{reason}");
    }
    let blastdoor_config = home.path().join("blastdoor.toml");
    let output = hook(
        &home,
        "claude",
        &claude(
            &home,
            "default",
            "Write",
            json!({"file_path": blastdoor_config, "content": ""}),
        ),
    );
    assert_eq!(pre_tool_use_answer(&output).0, "deny");
    let source = home.scratch().join("src/lib.rs");
    let output = hook(
        &home,
        "claude",
        &claude(
            &home,
            "default",
            "Write",
            json!({"file_path": source, "content": ""}),
        ),
    );
    assert!(output.stdout.is_empty());
}

fn codex(home: &TestHome, tool: &str, tool_input: Value) -> Value {
    json!({
        "session_id": "0198-codex", "turn_id": "turn-1", "model": "gpt-5-codex",
        "transcript_path": null, "cwd": home.scratch(), "permission_mode": "default",
        "hook_event_name": "PreToolUse", "tool_name": tool, "tool_input": tool_input, "tool_use_id": "call_1",
    })
}

#[test]
fn codex_gets_only_the_three_documented_keys_and_never_ask() {
    let home = TestHome::empty();
    let output = hook(
        &home,
        "codex",
        &codex(&home, "Bash", json!({"command": INCIDENT})),
    );
    assert_eq!(pre_tool_use_answer(&output).0, "deny");
    // A hold is a deny for Codex, even in the default permission mode.
    let output = hook(
        &home,
        "codex",
        &codex(&home, "Bash", json!({"command": UNKNOWN})),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
    assert!(reason.contains("human"), "{reason}");
    let output = hook(
        &home,
        "codex",
        &codex(&home, "Bash", json!({"command": HARMLESS})),
    );
    assert!(output.stdout.is_empty());
    let patch = "*** Begin Patch\n*** Update File: .codex/hooks.json\n@@\n-a\n+b\n*** End Patch\n";
    let output = hook(
        &home,
        "codex",
        &codex(&home, "apply_patch", json!({"command": patch})),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
    assert!(reason.contains("blastdoor.disarm"));
}

fn cursor_shell(home: &TestHome, command: &str) -> Value {
    json!({
        "hook_event_name": "beforeShellExecution", "conversation_id": "c-1", "generation_id": "g-1",
        "workspace_roots": [home.scratch()], "command": command, "cwd": "",
    })
}

#[test]
fn cursor_shell_answers_permission_with_both_messages() {
    let home = TestHome::empty();
    let output = hook(&home, "cursor", &cursor_shell(&home, INCIDENT));
    let value = answer(&output);
    assert_eq!(
        keys(&value),
        ["agent_message", "permission", "user_message"]
    );
    let permission = value["permission"].as_str().unwrap();
    assert!(permission == "deny" || permission == "ask", "{permission}");
    assert!(value["agent_message"].as_str().unwrap().contains("[rule: "));

    let output = hook(&home, "cursor", &cursor_shell(&home, UNKNOWN));
    assert_eq!(answer(&output)["permission"], "ask");

    let output = hook(&home, "cursor", &cursor_shell(&home, HARMLESS));
    assert_eq!(answer(&output), json!({"permission": "allow"}));
}

#[test]
fn cursor_read_file_answer_has_only_permission() {
    let home = TestHome::empty();
    let env_file = home.scratch().join(".env");
    std::fs::write(&env_file, "RAILWAY_TOKEN=abc\n").unwrap();
    let input = json!({
        "hook_event_name": "beforeReadFile", "conversation_id": "c-1", "generation_id": "g-1",
        "workspace_roots": [home.scratch()], "file_path": env_file, "content": "RAILWAY_TOKEN=abc\n",
    });
    assert_eq!(
        answer(&hook(&home, "cursor", &input)),
        json!({"permission": "deny"})
    );
}

#[test]
fn cursor_mcp_tool_input_may_be_a_string_or_an_object() {
    let home = TestHome::empty();
    let as_string = json!({
        "hook_event_name": "beforeMCPExecution", "conversation_id": "c-1", "generation_id": "g-1",
        "workspace_roots": [home.scratch()], "tool_name": "run_command",
        "tool_input": json!({"command": UNKNOWN}).to_string(), "command": "npx shell-server",
    });
    assert_eq!(
        answer(&hook(&home, "cursor", &as_string))["permission"],
        "ask"
    );
    let as_object = json!({
        "hook_event_name": "beforeMCPExecution", "conversation_id": "c-1", "generation_id": "g-1",
        "workspace_roots": [home.scratch()], "tool_name": "search_docs",
        "tool_input": {"query": "volumes"}, "url": "https://mcp.example.com",
    });
    assert_eq!(
        answer(&hook(&home, "cursor", &as_object)),
        json!({"permission": "allow"})
    );
}

fn gemini(home: &TestHome, tool: &str, tool_input: Value) -> Value {
    json!({
        "session_id": "gem-1", "transcript_path": "/t.json", "cwd": home.scratch(),
        "hook_event_name": "BeforeTool", "timestamp": "2026-11-25T07:00:00Z",
        "tool_name": tool, "tool_input": tool_input,
    })
}

#[test]
fn gemini_answers_decision_and_reason_and_denies_holds() {
    let home = TestHome::empty();
    for command in [INCIDENT, UNKNOWN] {
        let value = answer(&hook(
            &home,
            "gemini",
            &gemini(&home, "run_shell_command", json!({"command": command})),
        ));
        assert_eq!(keys(&value), ["decision", "reason"]);
        assert_eq!(value["decision"], "deny", "{command}");
    }
    let output = hook(
        &home,
        "gemini",
        &gemini(&home, "run_shell_command", json!({"command": HARMLESS})),
    );
    assert!(output.stdout.is_empty());
    let settings = home.scratch().join(".gemini/settings.json");
    let value = answer(&hook(
        &home,
        "gemini",
        &gemini(
            &home,
            "write_file",
            json!({"file_path": settings, "content": "{}"}),
        ),
    ));
    assert_eq!(value["decision"], "deny");
}

#[test]
fn copilot_reads_tool_args_as_a_json_string() {
    let home = TestHome::empty();
    for command in [INCIDENT, UNKNOWN] {
        let input = json!({
            "timestamp": 1_764_054_000_000_u64, "cwd": home.scratch(), "toolName": "bash",
            "toolArgs": json!({"command": command, "description": "x"}).to_string(),
        });
        let value = answer(&hook(&home, "copilot", &input));
        assert_eq!(
            keys(&value),
            ["permissionDecision", "permissionDecisionReason"]
        );
        assert_eq!(value["permissionDecision"], "deny");
    }
    let input = json!({"timestamp": 1, "cwd": home.scratch(), "toolName": "bash", "toolArgs": json!({"command": HARMLESS}).to_string()});
    assert!(hook(&home, "copilot", &input).stdout.is_empty());
}

#[test]
fn malformed_input_is_denied_on_exit_zero_in_every_harness_format() {
    let home = TestHome::empty();
    let inputs: [&[u8]; 5] = [
        b"",
        b"not json at all",
        br#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":["rm","-rf","/"]}}"#,
        br#"{"hook_event_name":"SomethingNew","tool_name":"Bash","tool_input":{"command":"ls"}}"#,
        &[0xff, 0xfe, 0x00, 0x7b],
    ];
    for input in inputs {
        let (decision, reason) = pre_tool_use_answer(&hook_bytes(&home, "claude", input));
        assert_eq!(decision, "deny");
        assert!(reason.contains("hook.malformed-input"), "{reason}");
        assert_eq!(
            pre_tool_use_answer(&hook_bytes(&home, "codex", input)).0,
            "deny"
        );
        let cursor = answer(&hook_bytes(&home, "cursor", input));
        assert_eq!(cursor["permission"], "deny");
        assert!(
            cursor["agent_message"]
                .as_str()
                .unwrap()
                .contains("hook.malformed-input")
        );
        assert_eq!(
            answer(&hook_bytes(&home, "gemini", input))["decision"],
            "deny"
        );
        assert_eq!(
            answer(&hook_bytes(&home, "copilot", input))["permissionDecision"],
            "deny"
        );
    }
    // A beforeReadFile that cannot be parsed still gets the only shape that event accepts.
    let bad_read = br#"{"hook_event_name":"beforeReadFile","file_path":42}"#;
    assert_eq!(
        answer(&hook_bytes(&home, "cursor", bad_read)),
        json!({"permission": "deny"})
    );
}

#[test]
fn every_decision_is_in_the_ledger_with_layer_and_session() {
    let home = TestHome::empty();
    hook(
        &home,
        "claude",
        &claude(&home, "default", "Bash", json!({"command": HARMLESS})),
    );
    let with_token = INCIDENT.replace("$RAILWAY_TOKEN", "rw_live_0123456789abcdef");
    hook(
        &home,
        "claude",
        &claude(
            &home,
            "bypassPermissions",
            "Bash",
            json!({"command": with_token}),
        ),
    );
    hook_bytes(&home, "gemini", b"{broken");
    hook(&home, "cursor", &cursor_shell(&home, UNKNOWN));
    let entries = ledger_entries(&home);
    assert_eq!(entries.len(), 4);
    assert!(entries.iter().all(|entry| entry["layer"] == "hook"));
    assert_eq!(entries[0]["actor"]["session"], "abc123");
    assert_eq!(entries[0]["actor"]["agent"], "claude");
    assert_eq!(entries[0]["verdict"]["decision"], "allow", "{}", entries[0]);
    assert_ne!(entries[1]["verdict"]["decision"], "allow");
    assert_eq!(entries[2]["verdict"]["decision"], "deny");
    assert_eq!(entries[3]["actor"]["session"], "c-1");
    assert_eq!(entries[3]["verdict"]["decision"], "hold");
    // The bearer token in the incident command is not stored in clear.
    assert!(
        !entries[1].to_string().contains("rw_live_0123456789abcdef"),
        "{}",
        entries[1]
    );
}

fn assert_denied_for_ledger(home: &TestHome) {
    // A hold would be an `ask` in default mode; with no ledger it must be a deny.
    let output = hook(
        home,
        "claude",
        &claude(home, "default", "Bash", json!({"command": UNKNOWN})),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
    assert!(reason.contains("hook.ledger-unavailable"), "{reason}");
    let output = hook(
        home,
        "claude",
        &claude(home, "default", "Bash", json!({"command": INCIDENT})),
    );
    assert_eq!(pre_tool_use_answer(&output).0, "deny");
    // An unclassified tool is not a plain read: denied too.
    let output = hook(
        home,
        "claude",
        &claude(home, "default", "WebFetch", json!({"url": "https://x"})),
    );
    assert_eq!(pre_tool_use_answer(&output).0, "deny");
    // A plain read that is allowed may still proceed.
    let readme = home.scratch().join("README.md");
    std::fs::write(&readme, "hello\n").unwrap();
    let output = hook(
        home,
        "claude",
        &claude(home, "default", "Read", json!({"file_path": readme})),
    );
    assert!(output.stdout.is_empty(), "{:?}", stdout(&output));
}

#[test]
fn unwritable_ledger_denies_when_blastdoor_home_is_a_file() {
    let home = TestHome::empty();
    std::fs::write(home.path(), "not a directory").unwrap();
    assert_denied_for_ledger(&home);
}

#[test]
fn unwritable_ledger_denies_when_the_ledger_is_a_directory() {
    let home = TestHome::empty();
    std::fs::create_dir_all(home.path().join("ledger.sqlite")).unwrap();
    assert_denied_for_ledger(&home);
    assert!(Path::new(&home.path().join("ledger.sqlite")).is_dir());
}

#[test]
fn works_before_init_and_creates_a_private_ledger() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = TestHome::empty();
    assert!(!home.path().exists());
    hook(
        &home,
        "claude",
        &claude(&home, "default", "Bash", json!({"command": HARMLESS})),
    );
    let mode = std::fs::metadata(home.path().join("ledger.sqlite"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "ledger mode {mode:o}");
}

// ---- holds and freeze (issue 6): a held command runs once after a human approves it ----

/// The first `hold_` id (with its 32 hex digits) in `text`.
fn hold_id_in(text: &str) -> String {
    let start = text
        .find("hold_")
        .unwrap_or_else(|| panic!("no hold id in: {text}"));
    let id: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(id.len(), "hold_".len() + 32, "{id}");
    id
}

/// Enrols `name` as an approver through the binary; returns their TOTP seed.
fn enrol(home: &TestHome, name: &str) -> Vec<u8> {
    let output = home.run(&["approver", "add", name, "--show-secret"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let uri = text
        .lines()
        .find(|line| line.starts_with("otpauth://"))
        .unwrap_or_else(|| panic!("no otpauth URI in: {text}"));
    blastdoor_approval::totp::seed_from_uri(uri).unwrap()
}

fn current_code(seed: &[u8]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    blastdoor_approval::totp::format_code(blastdoor_approval::totp::code_at(seed, now))
}

fn claude_in_session(home: &TestHome, session: &str, mode: &str, command: &str) -> Value {
    let mut envelope = claude(home, mode, "Bash", json!({ "command": command }));
    envelope["session_id"] = json!(session);
    envelope
}

#[test]
fn a_held_command_runs_once_in_its_session_after_a_human_approves_it() {
    let home = TestHome::initialised();
    // A dynamic command is held for two approvers.
    let alice = enrol(&home, "alice");
    let bob = enrol(&home, "bob");

    // Held, registered, and the agent is told which hold and what not to do.
    let held = hook(
        &home,
        "claude",
        &claude_in_session(&home, "s1", "auto", UNKNOWN),
    );
    let (decision, reason) = pre_tool_use_answer(&held);
    assert_eq!(decision, "deny");
    let id = hold_id_in(&reason);
    assert!(
        reason.contains(&format!("a human must approve hold {id}")),
        "{reason}"
    );
    assert!(
        reason.contains("do not look for other credentials or other ways to do the same thing"),
        "{reason}"
    );
    assert!(
        reason.contains("run exactly the same command again"),
        "{reason}"
    );
    let holds = stdout(&home.run(&["holds"]));
    assert!(holds.contains(&id), "`blastdoor holds` lists it: {holds}");

    // Where a person can answer, the ask names the hold and the exact approval command.
    let asked = hook(
        &home,
        "claude",
        &claude_in_session(&home, "s1", "default", UNKNOWN),
    );
    let (decision, reason) = pre_tool_use_answer(&asked);
    assert_eq!(decision, "ask");
    assert!(
        reason.contains(&format!("blastdoor approve {id} --as <you>")),
        "the retry finds the same pending hold: {reason}"
    );

    for (name, seed) in [("alice", &alice), ("bob", &bob)] {
        let approved = home.run(&["approve", &id, "--as", name, "--code", &current_code(seed)]);
        assert!(approved.status.success(), "{}", stderr(&approved));
    }

    // The approval covers neither another session nor another command.
    for (session, command) in [("s2", UNKNOWN), ("s1", "$TOOL -rf ./dist")] {
        let other = hook(
            &home,
            "claude",
            &claude_in_session(&home, session, "auto", command),
        );
        let (decision, reason) = pre_tool_use_answer(&other);
        assert_eq!(decision, "deny", "{session} {command}");
        assert_ne!(hold_id_in(&reason), id, "{session} {command}");
    }

    // The identical command in the same session: allowed (no decision: the harness's own
    // prompts still apply), once, recorded with the hold id.
    let released = hook(
        &home,
        "claude",
        &claude_in_session(&home, "s1", "auto", UNKNOWN),
    );
    assert!(released.stdout.is_empty(), "allowed: {}", stdout(&released));
    let entries = ledger_entries(&home);
    let last_hook = entries
        .iter()
        .rev()
        .find(|entry| entry["layer"] == "hook")
        .unwrap();
    assert_eq!(last_hook["hold_id"], id.as_str(), "{last_hook}");
    assert_eq!(last_hook["verdict"]["decision"], "allow", "{last_hook}");

    // Once only: the next identical command is held again, under a new hold.
    let again = hook(
        &home,
        "claude",
        &claude_in_session(&home, "s1", "auto", UNKNOWN),
    );
    let (decision, reason) = pre_tool_use_answer(&again);
    assert_eq!(decision, "deny");
    assert_ne!(hold_id_in(&reason), id);
}

#[test]
fn without_approvals_set_up_a_hold_says_it_cannot_be_approved() {
    let home = TestHome::empty();
    let output = hook(
        &home,
        "claude",
        &claude(&home, "default", "Bash", json!({ "command": UNKNOWN })),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "ask");
    assert!(reason.contains("could not be registered"), "{reason}");
    assert!(!reason.contains("hold_"), "{reason}");
}

#[test]
fn while_frozen_a_write_is_held_and_a_read_is_not() {
    let home = TestHome::initialised();
    let write = claude(
        &home,
        "auto",
        "Bash",
        json!({ "command": "touch notes.txt" }),
    );
    let read = claude(&home, "auto", "Bash", json!({ "command": HARMLESS }));
    assert!(
        hook(&home, "claude", &write).stdout.is_empty(),
        "allowed before the freeze"
    );
    let frozen = home.run(&["freeze", "--reason", "incident", "--as", "alice"]);
    assert!(frozen.status.success(), "{}", stderr(&frozen));

    let (decision, reason) = pre_tool_use_answer(&hook(&home, "claude", &write));
    assert_eq!(decision, "deny");
    assert!(reason.contains("policy.frozen"), "{reason}");
    assert!(reason.contains("blastdoor is frozen"), "{reason}");
    assert!(
        hook(&home, "claude", &read).stdout.is_empty(),
        "reads still run"
    );
}

#[test]
fn ledger_sync_comes_from_the_config_and_a_bad_config_still_records() {
    for config in [
        "[hook]\nledger_sync = \"full\"\n",
        "[hook]\nledger_sync = \"os-buffered\"\n",
        "this is = not [valid toml\n",
        "[hook]\nledger_sync = \"never\"\n",
    ] {
        let home = TestHome::initialised();
        std::fs::write(home.path().join("blastdoor.toml"), config).unwrap();
        let before = ledger_entries(&home).len();
        let output = hook(
            &home,
            "claude",
            &claude(&home, "auto", "Bash", json!({ "command": HARMLESS })),
        );
        assert!(output.stdout.is_empty(), "{config}: {}", stdout(&output));
        assert_eq!(ledger_entries(&home).len(), before + 1, "{config}");
    }
}

#[test]
fn doctor_says_how_durable_hook_entries_are_and_whether_holds_can_be_approved() {
    let home = TestHome::initialised();
    let text = stdout(&home.run(&["doctor"]));
    assert!(text.contains("committed to the OS"), "{text}");
    assert!(text.contains("held commands cannot be approved"), "{text}");
    std::fs::write(
        home.path().join("blastdoor.toml"),
        "[hook]\nledger_sync = \"full\"\n",
    )
    .unwrap();
    enrol(&home, "alice");
    let text = stdout(&home.run(&["doctor"]));
    assert!(text.contains("fsynced"), "{text}");
    assert!(text.contains("registered as holds"), "{text}");
}

/// Runs `blastdoor-hook HARNESS` (the lean binary `blastdoor install` registers) in `home`,
/// with the environment `blastdoor` gets there.
fn lean_hook_bytes(home: &TestHome, harness: &str, input: &[u8]) -> Output {
    run_lean_hook(home, harness, input, None)
}

/// [`lean_hook_bytes`]; with `max_file_bytes`, started through `prlimit` so that no file it
/// writes may grow past that size: a write beyond it is cut short or fails with `EFBIG`, as on
/// a full disk (the shell ignores `SIGXFSZ`, and an ignored signal stays ignored across `exec`).
fn run_lean_hook(
    home: &TestHome,
    harness: &str,
    input: &[u8],
    max_file_bytes: Option<u64>,
) -> Output {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let like = home.command(&[]);
    let lean = env!("CARGO_BIN_EXE_blastdoor-hook");
    let mut command = match max_file_bytes {
        None => Command::new(lean),
        Some(limit) => {
            crate::serve::assert_prlimit_runs();
            let mut command = Command::new("prlimit");
            command.arg(format!("--fsize={limit}")).args([
                "--",
                "sh",
                "-c",
                "trap '' XFSZ; exec \"$0\" \"$@\"",
                lean,
            ]);
            command
        }
    };
    command.arg(harness);
    for (name, value) in like.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "blastdoor-hook must exit 0; stderr: {}",
        stderr(&output)
    );
    output
}

/// The ledger's entries without what differs between two runs (the time).
fn entries_without_time(home: &TestHome) -> Vec<Value> {
    let mut entries = ledger_entries(home);
    for entry in &mut entries {
        entry.as_object_mut().unwrap().remove("time_unix_ms");
    }
    entries
}

#[test]
fn the_lean_hook_binary_answers_and_records_exactly_as_blastdoor_hook() {
    let full_home = TestHome::empty();
    let lean_home = TestHome::empty();
    // Both homes' scratch directories have the same shape, but not the same path: give both
    // runs the same cwd so the envelopes are byte-identical.
    let cwd = full_home.scratch();
    let envelope = |mode: &str, tool: &str, tool_input: Value| {
        let mut value = claude(&full_home, mode, tool, tool_input);
        value["cwd"] = json!(cwd);
        value.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "claude",
            envelope("default", "Bash", json!({"command": HARMLESS})),
        ),
        (
            "claude",
            envelope("bypassPermissions", "Bash", json!({"command": INCIDENT})),
        ),
        (
            "claude",
            envelope("default", "Bash", json!({"command": UNKNOWN})),
        ),
        (
            "claude",
            envelope("auto", "Bash", json!({"command": UNKNOWN})),
        ),
        (
            "claude",
            envelope("default", "Read", json!({"file_path": "/srv/app/.env"})),
        ),
        ("claude", b"{broken".to_vec()),
        ("claude", b"{}".to_vec()),
        (
            "cursor",
            cursor_shell(&full_home, "rm -rf /")
                .to_string()
                .into_bytes(),
        ),
        ("gemini", b"".to_vec()),
    ];
    for (harness, input) in &cases {
        let full = hook_bytes(&full_home, harness, input);
        let lean = lean_hook_bytes(&lean_home, harness, input);
        assert_eq!(
            stdout(&full),
            stdout(&lean),
            "{harness}: {}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(full.stderr, lean.stderr);
    }
    let full_entries = entries_without_time(&full_home);
    assert_eq!(full_entries.len(), cases.len());
    assert_eq!(full_entries, entries_without_time(&lean_home));
    let decisions: Vec<&str> = full_entries
        .iter()
        .map(|entry| entry["verdict"]["decision"].as_str().unwrap())
        .collect();
    assert_eq!(
        decisions,
        [
            "allow", "hold", "hold", "hold", "deny", "deny", "deny", "deny", "deny"
        ]
    );
}

#[test]
fn a_hold_registered_by_one_hook_binary_is_found_by_the_other() {
    let home = TestHome::initialised();
    enrol(&home, "alice");
    let input = claude_in_session(&home, "s1", "default", UNKNOWN).to_string();
    let (_, lean_reason) = pre_tool_use_answer(&lean_hook_bytes(&home, "claude", input.as_bytes()));
    let (decision, full_reason) =
        pre_tool_use_answer(&hook_bytes(&home, "claude", input.as_bytes()));
    assert_eq!(decision, "ask");
    assert_eq!(hold_id_in(&lean_reason), hold_id_in(&full_reason));
    assert_eq!(lean_reason, full_reason);
}

#[test]
fn the_lean_hook_binary_refuses_a_bad_command_line_like_blastdoor_hook() {
    let home = TestHome::empty();
    for args in [&[][..], &["bogus"][..], &["claude", "extra"][..]] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_blastdoor-hook"))
            .args(args)
            .env("BLASTDOOR_HOME", home.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&output).contains("usage: blastdoor-hook HARNESS"),
            "{args:?}"
        );
        let mut full_args = vec!["hook"];
        full_args.extend_from_slice(args);
        assert_eq!(home.run(&full_args).status.code(), Some(2), "{args:?}");
    }
    assert!(!home.path().join("ledger.sqlite").exists());
}

// ---- the ledger's inbox: how a hook call's decision reaches the ledger without opening it ----

/// A hook record as a hook process would deliver it (also used by the audit tests).
pub(crate) fn filler_record(description: &str) -> blastdoor_audit::EncodedRecord {
    use blastdoor_core::{Actor, Layer, Operation, OperationKind, Risk, Verdict};
    blastdoor_audit::EncodedRecord::new(&blastdoor_audit::Record {
        time_unix_ms: 1_764_000_000_000,
        layer: Layer::Hook,
        actor: Actor::default(),
        operation: Operation::new(OperationKind::Shell, description, Risk::Read, vec![]),
        verdict: Verdict::allow(vec![]),
        hold_id: None,
        approvers: vec![],
        snapshot_id: None,
        upstream_response: None,
    })
    .unwrap()
}

/// Delivers filler records, as other hook processes would, until the inbox is due a fold.
fn fill_inbox_to_its_fold_size(ledger: &Path) -> usize {
    use blastdoor_audit::inbox;
    let mut delivered = 0;
    while inbox::pending_bytes(ledger) < inbox::FOLD_AT_BYTES {
        inbox::deliver(
            ledger,
            &filler_record(&format!("filler {delivered}")),
            blastdoor_audit::Durability::OsBuffered,
            now_unix_ms(),
        )
        .unwrap();
        delivered += 1;
    }
    delivered
}

#[test]
fn decisions_reach_the_ledger_through_its_inbox_in_order() {
    use blastdoor_audit::inbox;
    let home = TestHome::empty();
    let ledger = home.path().join("ledger.sqlite");
    let call = |command: &str| {
        hook(
            &home,
            "claude",
            &claude(&home, "default", "Bash", json!({"command": command})),
        )
    };
    call("echo first");
    // The second decision is written to the inbox, not the database, and not in clear.
    call(&INCIDENT.replace("$RAILWAY_TOKEN", "rw_live_0123456789abcdef"));
    let waiting = inbox::pending_bytes(&ledger);
    assert!(waiting > 0, "the decision waits in the inbox");
    assert!(!crate::support::file_contains(
        &inbox::inbox_path(&ledger),
        b"rw_live_0123456789abcdef"
    ));
    let fillers = fill_inbox_to_its_fold_size(&ledger);
    // This call finds the inbox due and folds it into the ledger itself.
    call("echo third");
    assert_eq!(inbox::pending_bytes(&ledger), 0);
    let entries = ledger_entries(&home);
    assert_eq!(entries.len(), 3 + fillers);
    let description = |entry: &Value| {
        entry["operation"]["description"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(description(&entries[0]), "echo first");
    assert!(description(&entries[1]).starts_with("curl -X POST"));
    assert_ne!(entries[1]["verdict"]["decision"], "allow");
    assert_eq!(description(&entries[2]), "filler 0");
    assert_eq!(description(&entries[entries.len() - 1]), "echo third");
    let seqs: Vec<u64> = entries
        .iter()
        .map(|entry| entry["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=entries.len() as u64).collect::<Vec<_>>());
}

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A home whose ledger database was replaced by something SQLite cannot read (deliveries to
/// its inbox still work).
fn home_with_a_broken_ledger() -> TestHome {
    let home = TestHome::empty();
    hook(
        &home,
        "claude",
        &claude(&home, "default", "Bash", json!({"command": HARMLESS})),
    );
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(home.path().join(format!("ledger.sqlite{suffix}")));
    }
    std::fs::write(home.path().join("ledger.sqlite"), vec![b'x'; 8192]).unwrap();
    home
}

#[test]
fn a_delivery_the_disk_cuts_short_is_denied_and_leaves_the_inbox_as_it_was() {
    use blastdoor_audit::inbox;
    let home = TestHome::empty();
    let ledger = home.path().join("ledger.sqlite");
    let harmless = claude(&home, "default", "Bash", json!({"command": HARMLESS}));
    // The first call creates the ledger; the second waits in the inbox.
    hook(&home, "claude", &harmless);
    hook(&home, "claude", &harmless);
    let inbox_file = inbox::inbox_path(&ledger);
    let before = std::fs::read(&inbox_file).unwrap();
    assert!(!before.is_empty());
    // Only 16 more bytes fit: the next frame's write is cut short, as on a full disk.
    let refused = claude(&home, "default", "Bash", json!({"command": UNKNOWN}));
    let output = run_lean_hook(
        &home,
        "claude",
        refused.to_string().as_bytes(),
        Some(before.len() as u64 + 16),
    );
    let (decision, reason) = pre_tool_use_answer(&output);
    assert_eq!(decision, "deny");
    assert!(reason.contains("hook.ledger-unavailable"), "{reason}");
    // The part written was cut back: what was delivered before is intact, nothing follows it.
    let after = std::fs::read(&inbox_file).unwrap();
    assert_eq!(after.len(), before.len(), "bytes left behind");
    assert!(after == before, "the delivered records changed");
    // With room again, calls are recorded as before and the ledger verifies.
    hook(&home, "claude", &harmless);
    let verify = home.run(&["audit", "verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let entries = ledger_entries(&home);
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert!(
        entries
            .iter()
            .all(|entry| entry["operation"]["description"] == HARMLESS),
        "{entries:?}"
    );
}

#[test]
fn a_broken_ledger_makes_the_hook_deny_once_the_inbox_is_due_by_size() {
    let home = home_with_a_broken_ledger();
    let ledger = home.path().join("ledger.sqlite");
    fill_inbox_to_its_fold_size(&ledger);
    // The inbox is due a fold, which fails: from then on, the hook denies.
    for _ in 0..2 {
        assert_denied_for_ledger(&home);
    }
    // Nothing delivered was dropped: the inbox still holds it for a repaired ledger.
    assert!(
        blastdoor_audit::inbox::pending_bytes(&ledger) >= blastdoor_audit::inbox::FOLD_AT_BYTES
    );
}

#[test]
fn a_broken_ledger_makes_the_hook_deny_once_the_inbox_is_due_by_age() {
    use blastdoor_audit::inbox;
    let home = home_with_a_broken_ledger();
    let ledger = home.path().join("ledger.sqlite");
    // A short inbox whose first record is older than the fold interval...
    std::fs::remove_file(inbox::inbox_path(&ledger)).unwrap();
    inbox::deliver(
        &ledger,
        &filler_record("an hour ago"),
        blastdoor_audit::Durability::OsBuffered,
        now_unix_ms() - 3_600_000,
    )
    .unwrap();
    assert!(inbox::pending_bytes(&ledger) < inbox::FOLD_AT_BYTES);
    // ...is folded by the next call, which fails: denied.
    assert_denied_for_ledger(&home);
}

#[test]
fn a_full_inbox_is_folded_and_the_call_goes_on_once_the_ledger_takes_it() {
    use blastdoor_audit::inbox;
    let home = TestHome::empty();
    let ledger = home.path().join("ledger.sqlite");
    let harmless = claude(&home, "default", "Bash", json!({"command": HARMLESS}));
    hook(&home, "claude", &harmless);
    fill_inbox_to_its_fold_size(&ledger);
    // Past the inbox's limit (as after many calls while the ledger was broken).
    std::fs::OpenOptions::new()
        .write(true)
        .open(inbox::inbox_path(&ledger))
        .unwrap()
        .set_len(inbox::INBOX_LIMIT_BYTES + 1)
        .unwrap();
    let output = hook(&home, "claude", &harmless);
    assert!(stdout(&output).is_empty(), "allowed: {}", stdout(&output));
    // The full inbox was folded; only this call's record waits in the new one.
    assert!(inbox::pending_bytes(&ledger) < 4096);
    let entries = ledger_entries(&home);
    let last = &entries[entries.len() - 1];
    assert_eq!(last["operation"]["description"], HARMLESS, "{last}");
}

#[test]
fn an_inbox_header_cut_short_is_folded_aside_and_the_call_goes_on() {
    use blastdoor_audit::inbox;
    let home = TestHome::empty();
    let ledger = home.path().join("ledger.sqlite");
    let harmless = claude(&home, "default", "Bash", json!({"command": HARMLESS}));
    hook(&home, "claude", &harmless);
    std::fs::write(inbox::inbox_path(&ledger), b"blastdoor-in").unwrap();
    let output = hook(&home, "claude", &harmless);
    assert!(stdout(&output).is_empty(), "allowed: {}", stdout(&output));
    let entries = ledger_entries(&home);
    let last = &entries[entries.len() - 1];
    assert_eq!(last["operation"]["description"], HARMLESS, "{last}");
    assert!(
        entries
            .iter()
            .any(|entry| entry["verdict"]["reasons"][0]["rule_id"] == "ledger.inbox-damaged")
    );
}
