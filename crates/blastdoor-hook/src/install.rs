//! Registering the hook in a harness's settings file, as pure functions over the file's text:
//! [`merge_registration`] for `blastdoor install`, [`inspect_registration`] for
//! `blastdoor doctor`.
//!
//! Merging is idempotent: every handler that runs `blastdoor ... hook HARNESS` or the lean
//! `blastdoor-hook HARNESS` (whatever path the binary had) is removed first, then blastdoor's entries are appended, so running the
//! install twice, or after the binary moved, leaves one registration. Everything else in the
//! file is kept. Keys come out in sorted order (serde_json's map), and the file is pretty
//! printed; the content of the user's other settings is unchanged.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::{Harness, HookError};

/// One place a handler is registered: the hook event and, for harnesses that nest handlers
/// under a tool matcher, the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub event: &'static str,
    pub matcher: Option<&'static str>,
}

/// Where blastdoor registers itself, per harness: shell tools and file-read tools everywhere,
/// plus file-write tools where the harness hooks them (the disarm rule).
pub fn slots(harness: Harness) -> &'static [Slot] {
    match harness {
        Harness::Claude => &[
            Slot {
                event: "PreToolUse",
                matcher: Some("Bash"),
            },
            Slot {
                event: "PreToolUse",
                matcher: Some("Read|Grep"),
            },
            Slot {
                event: "PreToolUse",
                matcher: Some("Edit|Write|MultiEdit|NotebookEdit"),
            },
        ],
        Harness::Codex => &[
            Slot {
                event: "PreToolUse",
                matcher: Some("Bash"),
            },
            Slot {
                event: "PreToolUse",
                matcher: Some("apply_patch"),
            },
        ],
        Harness::Cursor => &[
            Slot {
                event: "beforeShellExecution",
                matcher: None,
            },
            Slot {
                event: "beforeReadFile",
                matcher: None,
            },
            Slot {
                event: "beforeMCPExecution",
                matcher: None,
            },
        ],
        // Gemini CLI's matchers are exact names in some versions, so one entry per tool.
        Harness::Gemini => &[
            Slot {
                event: "BeforeTool",
                matcher: Some("run_shell_command"),
            },
            Slot {
                event: "BeforeTool",
                matcher: Some("read_file"),
            },
            Slot {
                event: "BeforeTool",
                matcher: Some("read_many_files"),
            },
            Slot {
                event: "BeforeTool",
                matcher: Some("write_file"),
            },
            Slot {
                event: "BeforeTool",
                matcher: Some("replace"),
            },
        ],
        Harness::Copilot => &[Slot {
            event: "preToolUse",
            matcher: None,
        }],
    }
}

/// The file name of the lean hook binary, which takes the harness as its only argument.
pub const LEAN_HOOK_BINARY: &str = "blastdoor-hook";

/// The command line a harness runs: the executable's absolute path (single-quoted when it
/// holds anything but plain path characters), then `HARNESS` for the lean hook binary (file
/// name [`LEAN_HOOK_BINARY`]) or `hook HARNESS` for the full `blastdoor` binary.
pub fn hook_command(executable: &Path, harness: Harness) -> String {
    let path = executable.to_string_lossy();
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | ':' | '@'));
    let program = match plain {
        true => path.into_owned(),
        false => format!("'{}'", path.replace('\'', r"'\''")),
    };
    let lean = executable
        .file_name()
        .is_some_and(|name| name == LEAN_HOOK_BINARY);
    match lean {
        true => format!("{program} {}", harness.as_str()),
        false => format!("{program} hook {}", harness.as_str()),
    }
}

/// The program (unquoted) of a command line that runs blastdoor's hook for `harness`:
/// `.../blastdoor... hook HARNESS` or `.../blastdoor-hook HARNESS`, as [`hook_command`]
/// writes them; `None` for any other command line.
pub fn registered_program(harness: Harness, command: &str) -> Option<String> {
    let command = command.trim();
    let program = command.strip_suffix(harness.as_str())?.strip_suffix(' ')?;
    let (program, lean) = match program.strip_suffix(" hook") {
        Some(program) => (program, false),
        None => (program, true),
    };
    let program = program.trim_end();
    let unquoted = match program
        .strip_prefix('\'')
        .and_then(|quoted| quoted.strip_suffix('\''))
    {
        Some(quoted) => quoted.replace(r"'\''", "'"),
        None => program.to_owned(),
    };
    let ours = match lean {
        true => Path::new(&unquoted)
            .file_name()
            .is_some_and(|name| name == LEAN_HOOK_BINARY),
        false => unquoted.contains("blastdoor"),
    };
    ours.then_some(unquoted)
}

/// The settings text with blastdoor's hook registered, from the current text (`None` or
/// blank when the file does not exist). `path` only names the file in errors.
pub fn merge_registration(
    harness: Harness,
    existing: Option<&str>,
    command: &str,
    path: &Path,
) -> Result<String, HookError> {
    let mut root = parse_settings(existing, path)?;
    let root_map = root
        .as_object_mut()
        .ok_or_else(|| shape_error(path, "(top level)"))?;
    if matches!(harness, Harness::Cursor | Harness::Copilot) && !root_map.contains_key("version") {
        root_map.insert("version".to_owned(), json!(1));
    }
    let hooks = root_map
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| shape_error(path, "hooks"))?;
    for (event, entries) in hooks.iter_mut() {
        if let Value::Array(entries) = entries {
            remove_ours(harness, entries);
        } else if slots(harness).iter().any(|slot| slot.event == event) {
            return Err(shape_error(path, &format!("hooks.{event}")));
        }
    }
    for slot in slots(harness) {
        let entries = hooks
            .entry(slot.event)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or_else(|| shape_error(path, &format!("hooks.{}", slot.event)))?;
        let handler = handler(harness, command);
        entries.push(match slot.matcher {
            Some(matcher) => json!({"matcher": matcher, "hooks": [handler]}),
            None => handler,
        });
    }
    // Drop events that only held blastdoor's old handlers and now hold nothing.
    hooks.retain(|_, entries| !matches!(entries, Value::Array(list) if list.is_empty()));
    let mut text =
        serde_json::to_string_pretty(&root).map_err(|error| HookError::MalformedSettings {
            path: path.display().to_string(),
            detail: error.to_string(),
        })?;
    text.push('\n');
    Ok(text)
}

/// What a settings file says about blastdoor's hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The slots that have a blastdoor handler.
    pub present: Vec<Slot>,
    /// The slots blastdoor would register that have none.
    pub missing: Vec<Slot>,
    /// The slots whose blastdoor handler lacks the fail-closed switch (only for harnesses
    /// that have one).
    pub failing_open: Vec<Slot>,
    /// The command lines of blastdoor's handlers, for checking that the binary exists.
    pub commands: Vec<String>,
}

/// Reads blastdoor's registration out of a settings file's text.
pub fn inspect_registration(
    harness: Harness,
    text: &str,
    path: &Path,
) -> Result<Registration, HookError> {
    let root = parse_settings(Some(text), path)?;
    let mut registration = Registration {
        present: Vec::new(),
        missing: Vec::new(),
        failing_open: Vec::new(),
        commands: Vec::new(),
    };
    for slot in slots(harness) {
        let handlers = handlers_in_slot(&root, *slot);
        let ours: Vec<&Value> = handlers
            .into_iter()
            .filter(|handler| is_ours(harness, handler))
            .collect();
        if ours.is_empty() {
            registration.missing.push(*slot);
            continue;
        }
        registration.present.push(*slot);
        if harness.has_fail_closed_switch()
            && !ours.iter().all(|handler| is_fail_closed(harness, handler))
        {
            registration.failing_open.push(*slot);
        }
        for handler in ours {
            if let Some(command) = handler.get(command_key(harness)).and_then(Value::as_str)
                && !registration.commands.iter().any(|known| known == command)
            {
                registration.commands.push(command.to_owned());
            }
        }
    }
    Ok(registration)
}

fn parse_settings(existing: Option<&str>, path: &Path) -> Result<Value, HookError> {
    match existing {
        None => Ok(Value::Object(Map::new())),
        Some(text) if text.trim().is_empty() => Ok(Value::Object(Map::new())),
        Some(text) => serde_json::from_str(text).map_err(|error| HookError::MalformedSettings {
            path: path.display().to_string(),
            detail: error.to_string(),
        }),
    }
}

fn shape_error(path: &Path, field: &str) -> HookError {
    HookError::UnexpectedSettingsShape {
        path: path.display().to_string(),
        field: field.to_owned(),
    }
}

/// The key that holds a handler's command line.
fn command_key(harness: Harness) -> &'static str {
    match harness {
        Harness::Copilot => "bash",
        _ => "command",
    }
}

fn handler(harness: Harness, command: &str) -> Value {
    match harness {
        Harness::Claude => {
            json!({"type": "command", "command": command, "timeout": 10, "onFailure": "block"})
        }
        Harness::Codex => json!({"type": "command", "command": command, "timeout": 10}),
        Harness::Cursor => json!({"command": command, "failClosed": true}),
        Harness::Gemini => json!({"type": "command", "command": command, "timeout": 5000}),
        Harness::Copilot => json!({"type": "command", "bash": command, "timeoutSec": 5}),
    }
}

fn is_fail_closed(harness: Harness, handler: &Value) -> bool {
    match harness {
        Harness::Claude => handler.get("onFailure").and_then(Value::as_str) == Some("block"),
        Harness::Cursor => handler.get("failClosed").and_then(Value::as_bool) == Some(true),
        Harness::Codex | Harness::Gemini | Harness::Copilot => false,
    }
}

/// A handler that runs blastdoor's hook for `harness` (either form, see
/// [`registered_program`]).
fn is_ours(harness: Harness, handler: &Value) -> bool {
    handler
        .get(command_key(harness))
        .and_then(Value::as_str)
        .is_some_and(|command| registered_program(harness, command).is_some())
}

fn uses_matchers(harness: Harness) -> bool {
    slots(harness).iter().any(|slot| slot.matcher.is_some())
}

fn remove_ours(harness: Harness, entries: &mut Vec<Value>) {
    match uses_matchers(harness) {
        true => entries.retain_mut(|entry| {
            let Some(Value::Array(handlers)) = entry.get_mut("hooks") else {
                return true;
            };
            let before = handlers.len();
            handlers.retain(|handler| !is_ours(harness, handler));
            !(handlers.is_empty() && before > 0)
        }),
        false => entries.retain(|entry| !is_ours(harness, entry)),
    }
}

fn handlers_in_slot(root: &Value, slot: Slot) -> Vec<&Value> {
    let Some(Value::Array(entries)) = root.get("hooks").and_then(|hooks| hooks.get(slot.event))
    else {
        return Vec::new();
    };
    match slot.matcher {
        None => entries.iter().collect(),
        Some(matcher) => entries
            .iter()
            .filter(|entry| entry.get("matcher").and_then(Value::as_str) == Some(matcher))
            .filter_map(|entry| entry.get("hooks").and_then(Value::as_array))
            .flatten()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMAND: &str = "/usr/local/bin/blastdoor hook claude";

    fn merge(harness: Harness, existing: Option<&str>, command: &str) -> String {
        merge_registration(harness, existing, command, Path::new("settings.json")).unwrap()
    }

    #[test]
    fn merging_twice_changes_nothing_and_keeps_other_settings() {
        let user = r#"{"model":"opus","hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"my-linter"}]}],
            "Stop":[{"hooks":[{"type":"command","command":"notify"}]}]}}"#;
        let once = merge(Harness::Claude, Some(user), COMMAND);
        let twice = merge(Harness::Claude, Some(&once), COMMAND);
        assert_eq!(once, twice);
        let value: Value = serde_json::from_str(&once).unwrap();
        assert_eq!(value["model"], "opus");
        assert_eq!(value["hooks"]["Stop"][0]["hooks"][0]["command"], "notify");
        let pre = value["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre[0]["hooks"][0]["command"], "my-linter");
        assert_eq!(pre.len(), 4);
        assert_eq!(pre[1]["hooks"][0]["onFailure"], "block");
    }

    #[test]
    fn a_moved_binary_replaces_the_old_registration() {
        let old = merge(Harness::Cursor, None, "/old/blastdoor hook cursor");
        let new = merge(Harness::Cursor, Some(&old), "/new/blastdoor hook cursor");
        assert!(!new.contains("/old/blastdoor"));
        let value: Value = serde_json::from_str(&new).unwrap();
        assert_eq!(value["version"], 1);
        assert_eq!(
            value["hooks"]["beforeReadFile"].as_array().unwrap().len(),
            1
        );
        assert_eq!(
            value["hooks"]["beforeShellExecution"][0]["failClosed"],
            true
        );
    }

    #[test]
    fn malformed_or_misshapen_settings_are_refused() {
        for text in [
            "{not json",
            "[]",
            r#"{"hooks":[]}"#,
            r#"{"hooks":{"PreToolUse":{}}}"#,
        ] {
            assert!(
                merge_registration(Harness::Claude, Some(text), COMMAND, Path::new("s.json"))
                    .is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn inspection_finds_slots_and_fail_closed_switch() {
        let installed = merge(Harness::Claude, None, COMMAND);
        let found = inspect_registration(Harness::Claude, &installed, Path::new("s")).unwrap();
        assert_eq!(found.present.len(), 3);
        assert!(found.missing.is_empty() && found.failing_open.is_empty());
        assert_eq!(found.commands, vec![COMMAND.to_owned()]);
        let open = installed.replace("\"onFailure\": \"block\"", "\"onFailure\": \"ignore\"");
        let found = inspect_registration(Harness::Claude, &open, Path::new("s")).unwrap();
        assert_eq!(found.failing_open.len(), 3);
        let none = inspect_registration(Harness::Claude, "{}", Path::new("s")).unwrap();
        assert_eq!(none.missing.len(), 3);
    }

    #[test]
    fn commands_quote_unusual_paths() {
        assert_eq!(
            hook_command(Path::new("/opt/blast door/blastdoor"), Harness::Gemini),
            "'/opt/blast door/blastdoor' hook gemini"
        );
        assert_eq!(
            hook_command(Path::new("/usr/bin/blastdoor"), Harness::Codex),
            "/usr/bin/blastdoor hook codex"
        );
    }

    #[test]
    fn the_lean_binary_is_registered_with_the_harness_as_its_only_argument() {
        assert_eq!(
            hook_command(Path::new("/usr/bin/blastdoor-hook"), Harness::Claude),
            "/usr/bin/blastdoor-hook claude"
        );
        assert_eq!(
            hook_command(Path::new("/opt/blast door/blastdoor-hook"), Harness::Cursor),
            "'/opt/blast door/blastdoor-hook' cursor"
        );
    }

    #[test]
    fn both_forms_are_recognised_and_nothing_else() {
        for (command, program) in [
            ("/usr/bin/blastdoor hook claude", "/usr/bin/blastdoor"),
            ("/usr/bin/blastdoor-hook claude", "/usr/bin/blastdoor-hook"),
            (
                "'/opt/it'\\''s/blastdoor-hook' claude",
                "/opt/it's/blastdoor-hook",
            ),
            (
                "'/opt/blast door/blastdoor' hook claude ",
                "/opt/blast door/blastdoor",
            ),
        ] {
            assert_eq!(
                registered_program(Harness::Claude, command).as_deref(),
                Some(program),
                "{command}"
            );
        }
        for command in [
            "/usr/bin/blastdoor-hook codex",
            "/usr/bin/my-linter claude",
            "/usr/bin/blastdoor-hooks claude",
            "/usr/bin/blastdoor claude",
            "claude",
            "blastdoor-hook",
        ] {
            assert_eq!(
                registered_program(Harness::Claude, command),
                None,
                "{command}"
            );
        }
    }

    #[test]
    fn switching_to_the_lean_binary_replaces_the_full_one() {
        let full = merge(Harness::Claude, None, COMMAND);
        let lean = merge(
            Harness::Claude,
            Some(&full),
            "/usr/local/bin/blastdoor-hook claude",
        );
        assert!(!lean.contains(COMMAND));
        let found = inspect_registration(Harness::Claude, &lean, Path::new("s")).unwrap();
        assert_eq!(found.present.len(), 3);
        assert_eq!(
            found.commands,
            vec!["/usr/local/bin/blastdoor-hook claude".to_owned()]
        );
        let back = merge(Harness::Claude, Some(&lean), COMMAND);
        assert_eq!(back, full);
    }

    #[test]
    fn copilot_uses_bash_key() {
        let text = merge(Harness::Copilot, None, "/b/blastdoor hook copilot");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["hooks"]["preToolUse"][0]["bash"],
            "/b/blastdoor hook copilot"
        );
        assert_eq!(value["hooks"]["preToolUse"][0]["timeoutSec"], 5);
    }
}
