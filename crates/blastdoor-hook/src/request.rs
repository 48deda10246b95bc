//! Parsing each harness's hook envelope (stdin bytes) into one [`HookRequest`].
//!
//! Each harness gets a raw serde struct. Unknown fields are tolerated on purpose (harnesses add
//! fields from one release to the next, and refusing them would deny every call after an
//! upgrade), but every field blastdoor uses is checked for its type: a `command` that is not a
//! string is malformed input, and malformed input is denied by the caller.

use std::path::PathBuf;

use blastdoor_core::SessionId;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{Harness, HookError};

/// The envelope a request came in, which decides the shape of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// Claude Code `PreToolUse`.
    ClaudePreToolUse,
    /// Codex `PreToolUse` (its answer schema forbids unknown keys).
    CodexPreToolUse,
    /// Cursor `beforeShellExecution`, `beforeMCPExecution` or `preToolUse`.
    CursorGate,
    /// Cursor `beforeReadFile`, whose answer takes only `permission`.
    CursorReadFile,
    /// Gemini CLI `BeforeTool`.
    GeminiBeforeTool,
    /// Copilot CLI `preToolUse`.
    CopilotPreToolUse,
}

impl Envelope {
    /// The envelope to answer in when the input could not be parsed: the harness's main one,
    /// except that Cursor's `beforeReadFile` is recognised from its event name when the input
    /// is at least JSON.
    pub fn fallback(harness: Harness, input: &[u8]) -> Envelope {
        match harness {
            Harness::Claude => Envelope::ClaudePreToolUse,
            Harness::Codex => Envelope::CodexPreToolUse,
            Harness::Gemini => Envelope::GeminiBeforeTool,
            Harness::Copilot => Envelope::CopilotPreToolUse,
            Harness::Cursor => {
                #[derive(Deserialize)]
                struct EventOnly {
                    hook_event_name: Option<String>,
                }
                match serde_json::from_slice::<EventOnly>(input) {
                    Ok(EventOnly {
                        hook_event_name: Some(event),
                    }) if event == "beforeReadFile" => Envelope::CursorReadFile,
                    _ => Envelope::CursorGate,
                }
            }
        }
    }
}

/// Claude Code's `permission_mode`: whether a person is there to answer an `ask`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermissionMode {
    Default,
    Plan,
    AcceptEdits,
    Auto,
    DontAsk,
    BypassPermissions,
    /// A mode this version of blastdoor does not know; treated as "nobody to ask".
    Unrecognised(String),
}

impl PermissionMode {
    fn parse(text: &str) -> PermissionMode {
        match text {
            "default" => PermissionMode::Default,
            "plan" => PermissionMode::Plan,
            "acceptEdits" => PermissionMode::AcceptEdits,
            "auto" => PermissionMode::Auto,
            "dontAsk" => PermissionMode::DontAsk,
            "bypassPermissions" => PermissionMode::BypassPermissions,
            other => PermissionMode::Unrecognised(other.to_owned()),
        }
    }

    /// True in the modes where Claude Code shows the user a permission prompt for `ask`.
    pub fn has_a_person_to_ask(&self) -> bool {
        matches!(
            self,
            PermissionMode::Default | PermissionMode::Plan | PermissionMode::AcceptEdits
        )
    }
}

/// What the agent is about to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a shell command line.
    Shell { command: String },
    /// Read these files.
    Read { tool: String, paths: Vec<PathBuf> },
    /// Create, edit or delete these files.
    Write { tool: String, paths: Vec<PathBuf> },
    /// A tool call the hook does not classify (MCP calls, web fetches, searches).
    Tool { tool: String },
}

/// A parsed hook call, whatever harness it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRequest {
    pub harness: Harness,
    pub envelope: Envelope,
    /// The harness's session or conversation id, when it sent a valid one.
    pub session: Option<SessionId>,
    /// The agent's working directory, when the harness sent a non-empty one.
    pub cwd: Option<PathBuf>,
    /// Claude Code's permission mode; `None` for other harnesses or when absent.
    pub permission_mode: Option<PermissionMode>,
    pub action: Action,
}

/// Parses the stdin bytes of `harness`'s hook.
pub fn parse_request(harness: Harness, input: &[u8]) -> Result<HookRequest, HookError> {
    match harness {
        Harness::Claude | Harness::Codex => parse_claude_like(harness, input),
        Harness::Cursor => parse_cursor(input),
        Harness::Gemini => parse_gemini(input),
        Harness::Copilot => parse_copilot(input),
    }
}

fn malformed(harness: Harness, error: &serde_json::Error) -> HookError {
    HookError::MalformedInput {
        harness: harness.as_str(),
        detail: error.to_string(),
    }
}

fn session(raw: Option<String>) -> Option<SessionId> {
    raw.and_then(|id| SessionId::new(id).ok())
}

fn non_empty_path(raw: Option<String>) -> Option<PathBuf> {
    raw.filter(|text| !text.is_empty()).map(PathBuf::from)
}

/// Claude Code and Codex share the envelope; Codex adds `turn_id` and `model` (ignored).
#[derive(Deserialize)]
struct RawClaude {
    session_id: Option<String>,
    cwd: Option<String>,
    permission_mode: Option<String>,
    hook_event_name: String,
    tool_name: String,
    tool_input: Map<String, Value>,
}

fn parse_claude_like(harness: Harness, input: &[u8]) -> Result<HookRequest, HookError> {
    let raw: RawClaude =
        serde_json::from_slice(input).map_err(|error| malformed(harness, &error))?;
    if raw.hook_event_name != "PreToolUse" {
        return Err(HookError::UnknownEvent {
            harness: harness.as_str(),
            event: raw.hook_event_name,
        });
    }
    let tool = raw.tool_name;
    let input = &raw.tool_input;
    let action = match tool.as_str() {
        "Bash" => Action::Shell {
            command: required_string(harness, &tool, input, "command")?,
        },
        "apply_patch" if harness == Harness::Codex => {
            let patch = required_string(harness, &tool, input, "command")?;
            Action::Write {
                paths: patch_paths(&patch),
                tool,
            }
        }
        "Read" => Action::Read {
            paths: vec![required_path(harness, &tool, input, "file_path")?],
            tool,
        },
        "Edit" | "Write" | "MultiEdit" => Action::Write {
            paths: vec![required_path(harness, &tool, input, "file_path")?],
            tool,
        },
        "NotebookEdit" => Action::Write {
            paths: vec![required_path(harness, &tool, input, "notebook_path")?],
            tool,
        },
        "Grep" => match optional_string(harness, &tool, input, "path")? {
            Some(path) => Action::Read {
                paths: vec![PathBuf::from(path)],
                tool,
            },
            None => Action::Tool { tool },
        },
        _ => Action::Tool { tool },
    };
    let envelope = match harness {
        Harness::Codex => Envelope::CodexPreToolUse,
        _ => Envelope::ClaudePreToolUse,
    };
    Ok(HookRequest {
        harness,
        envelope,
        session: session(raw.session_id),
        cwd: non_empty_path(raw.cwd),
        permission_mode: raw.permission_mode.as_deref().map(PermissionMode::parse),
        action,
    })
}

#[derive(Deserialize)]
struct RawCursor {
    hook_event_name: String,
    conversation_id: Option<String>,
    cwd: Option<String>,
    workspace_roots: Option<Vec<String>>,
    command: Option<String>,
    file_path: Option<String>,
    tool_name: Option<String>,
    tool_input: Option<Value>,
}

fn parse_cursor(input: &[u8]) -> Result<HookRequest, HookError> {
    let harness = Harness::Cursor;
    let raw: RawCursor =
        serde_json::from_slice(input).map_err(|error| malformed(harness, &error))?;
    let missing = |tool: &str, field: &'static str| HookError::MissingField {
        harness: harness.as_str(),
        tool: tool.to_owned(),
        field,
    };
    let (envelope, action) = match raw.hook_event_name.as_str() {
        "beforeShellExecution" => {
            let command = raw
                .command
                .ok_or_else(|| missing("beforeShellExecution", "command"))?;
            (Envelope::CursorGate, Action::Shell { command })
        }
        "beforeReadFile" => {
            let path = raw
                .file_path
                .filter(|path| !path.is_empty())
                .ok_or_else(|| missing("beforeReadFile", "file_path"))?;
            let action = Action::Read {
                tool: "beforeReadFile".to_owned(),
                paths: vec![PathBuf::from(path)],
            };
            (Envelope::CursorReadFile, action)
        }
        "beforeMCPExecution" => {
            let tool = raw
                .tool_name
                .ok_or_else(|| missing("beforeMCPExecution", "tool_name"))?;
            let arguments = object_or_json_string(harness, &tool, raw.tool_input)?;
            // An MCP server that runs shell commands gets its command classified; any other
            // MCP call is the gateway's to judge (layer 3), not the hook's.
            let action = match arguments
                .as_ref()
                .map(|map| optional_string(harness, &tool, map, "command"))
                .transpose()?
                .flatten()
            {
                Some(command) => Action::Shell { command },
                None => Action::Tool {
                    tool: format!("mcp:{tool}"),
                },
            };
            (Envelope::CursorGate, action)
        }
        "preToolUse" => {
            let tool = raw
                .tool_name
                .ok_or_else(|| missing("preToolUse", "tool_name"))?;
            let arguments =
                object_or_json_string(harness, &tool, raw.tool_input)?.unwrap_or_default();
            (
                Envelope::CursorGate,
                generic_tool_action(harness, tool, &arguments)?,
            )
        }
        _ => {
            return Err(HookError::UnknownEvent {
                harness: harness.as_str(),
                event: raw.hook_event_name,
            });
        }
    };
    let cwd = non_empty_path(raw.cwd).or_else(|| {
        raw.workspace_roots
            .and_then(|roots| roots.into_iter().find(|root| !root.is_empty()))
            .map(PathBuf::from)
    });
    Ok(HookRequest {
        harness,
        envelope,
        session: session(raw.conversation_id),
        cwd,
        permission_mode: None,
        action,
    })
}

#[derive(Deserialize)]
struct RawGemini {
    session_id: Option<String>,
    cwd: Option<String>,
    hook_event_name: String,
    tool_name: String,
    tool_input: Map<String, Value>,
}

fn parse_gemini(input: &[u8]) -> Result<HookRequest, HookError> {
    let harness = Harness::Gemini;
    let raw: RawGemini =
        serde_json::from_slice(input).map_err(|error| malformed(harness, &error))?;
    if raw.hook_event_name != "BeforeTool" {
        return Err(HookError::UnknownEvent {
            harness: harness.as_str(),
            event: raw.hook_event_name,
        });
    }
    let action = generic_tool_action(harness, raw.tool_name, &raw.tool_input)?;
    Ok(HookRequest {
        harness,
        envelope: Envelope::GeminiBeforeTool,
        session: session(raw.session_id),
        cwd: non_empty_path(raw.cwd),
        permission_mode: None,
        action,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCopilot {
    cwd: Option<String>,
    session_id: Option<String>,
    tool_name: String,
    tool_args: Option<Value>,
}

fn parse_copilot(input: &[u8]) -> Result<HookRequest, HookError> {
    let harness = Harness::Copilot;
    let raw: RawCopilot =
        serde_json::from_slice(input).map_err(|error| malformed(harness, &error))?;
    let arguments =
        object_or_json_string(harness, &raw.tool_name, raw.tool_args)?.unwrap_or_default();
    let action = generic_tool_action(harness, raw.tool_name, &arguments)?;
    Ok(HookRequest {
        harness,
        envelope: Envelope::CopilotPreToolUse,
        session: session(raw.session_id),
        cwd: non_empty_path(raw.cwd),
        permission_mode: None,
        action,
    })
}

/// Tool names of Gemini CLI, Copilot CLI and Cursor's `preToolUse`, matched case-insensitively.
const SHELL_TOOLS: &[&str] = &[
    "run_shell_command",
    "bash",
    "shell",
    "powershell",
    "run_terminal_cmd",
    "terminal",
];
const READ_TOOLS: &[&str] = &["read_file", "read", "view"];
const MANY_READ_TOOLS: &[&str] = &["read_many_files"];
const WRITE_TOOLS: &[&str] = &[
    "write_file",
    "write",
    "replace",
    "edit",
    "edit_file",
    "create",
    "str_replace",
    "str_replace_editor",
    "search_replace",
    "multiedit",
    "delete",
    "delete_file",
];
const PATH_FIELDS: &[&str] = &["file_path", "absolute_path", "path", "target_file"];

fn generic_tool_action(
    harness: Harness,
    tool: String,
    arguments: &Map<String, Value>,
) -> Result<Action, HookError> {
    let name = tool.to_ascii_lowercase();
    let name = name.as_str();
    if SHELL_TOOLS.contains(&name) {
        return Ok(Action::Shell {
            command: required_string(harness, &tool, arguments, "command")?,
        });
    }
    if MANY_READ_TOOLS.contains(&name) {
        let paths = match arguments.get("paths") {
            Some(value) => string_list(harness, &tool, value, "paths")?,
            None => Vec::new(),
        };
        return Ok(Action::Read {
            paths: paths.into_iter().map(PathBuf::from).collect(),
            tool,
        });
    }
    let is_read = READ_TOOLS.contains(&name);
    let is_write = WRITE_TOOLS.contains(&name);
    if !is_read && !is_write {
        return Ok(Action::Tool { tool });
    }
    let mut path = None;
    for field in PATH_FIELDS {
        if let Some(found) = optional_string(harness, &tool, arguments, field)? {
            path = Some(PathBuf::from(found));
            break;
        }
    }
    let path = path.ok_or(HookError::MissingField {
        harness: harness.as_str(),
        tool: tool.clone(),
        field: "file_path",
    })?;
    let paths = vec![path];
    Ok(match is_read {
        true => Action::Read { tool, paths },
        false => Action::Write { tool, paths },
    })
}

/// Tool arguments that arrive as an object or as a JSON string holding an object.
fn object_or_json_string(
    harness: Harness,
    tool: &str,
    value: Option<Value>,
) -> Result<Option<Map<String, Value>>, HookError> {
    let wrong = || HookError::MissingField {
        harness: harness.as_str(),
        tool: tool.to_owned(),
        field: "tool arguments",
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(wrong()),
            Err(error) => Err(malformed(harness, &error)),
        },
        Some(_) => Err(wrong()),
    }
}

fn required_string(
    harness: Harness,
    tool: &str,
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<String, HookError> {
    optional_string(harness, tool, map, field)?.ok_or(HookError::MissingField {
        harness: harness.as_str(),
        tool: tool.to_owned(),
        field,
    })
}

fn required_path(
    harness: Harness,
    tool: &str,
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<PathBuf, HookError> {
    let text = required_string(harness, tool, map, field)?;
    match text.is_empty() {
        true => Err(HookError::MissingField {
            harness: harness.as_str(),
            tool: tool.to_owned(),
            field,
        }),
        false => Ok(PathBuf::from(text)),
    }
}

/// A field that may be absent or null, but is a string when present.
fn optional_string(
    harness: Harness,
    tool: &str,
    map: &Map<String, Value>,
    field: &'static str,
) -> Result<Option<String>, HookError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(HookError::MissingField {
            harness: harness.as_str(),
            tool: tool.to_owned(),
            field,
        }),
    }
}

fn string_list(
    harness: Harness,
    tool: &str,
    value: &Value,
    field: &'static str,
) -> Result<Vec<String>, HookError> {
    let wrong = || HookError::MissingField {
        harness: harness.as_str(),
        tool: tool.to_owned(),
        field,
    };
    let Value::Array(items) = value else {
        return Err(wrong());
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong))
        .collect()
}

/// The files a Codex `apply_patch` touches, from its `*** Add/Update/Delete File:` and
/// `*** Move to:` lines.
fn patch_paths(patch: &str) -> Vec<PathBuf> {
    const MARKERS: [&str; 4] = [
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ];
    patch
        .lines()
        .filter_map(|line| {
            MARKERS
                .iter()
                .find_map(|marker| line.strip_prefix(marker))
                .map(|path| PathBuf::from(path.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(harness: Harness, json: &str) -> Result<HookRequest, HookError> {
        parse_request(harness, json.as_bytes())
    }

    #[test]
    fn claude_bash_becomes_a_shell_command() {
        let request = parse(
            Harness::Claude,
            r#"{"session_id":"abc123","transcript_path":"/t.jsonl","cwd":"/home/u/proj","permission_mode":"default",
            "hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test","timeout":120000},
            "tool_use_id":"toolu_01","agent_id":"a","new_field":[1]}"#,
        )
        .unwrap();
        assert_eq!(
            request.action,
            Action::Shell {
                command: "npm test".into()
            }
        );
        assert_eq!(request.session.unwrap().as_str(), "abc123");
        assert_eq!(request.cwd, Some(PathBuf::from("/home/u/proj")));
        assert_eq!(request.permission_mode, Some(PermissionMode::Default));
    }

    #[test]
    fn wrong_types_of_used_fields_are_malformed() {
        let cases = [
            (
                Harness::Claude,
                r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":["rm"]}}"#,
            ),
            (
                Harness::Claude,
                r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":"rm -rf /"}"#,
            ),
            (
                Harness::Claude,
                r#"{"hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{}}"#,
            ),
            (
                Harness::Claude,
                r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{},"cwd":7}"#,
            ),
            (
                Harness::Cursor,
                r#"{"hook_event_name":"beforeShellExecution","command":7}"#,
            ),
            (
                Harness::Cursor,
                r#"{"hook_event_name":"beforeMCPExecution","tool_name":"x","tool_input":"{not json"}"#,
            ),
            (
                Harness::Gemini,
                r#"{"hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{"command":1}}"#,
            ),
            (Harness::Copilot, r#"{"toolName":"bash","toolArgs":"[1]"}"#),
            (
                Harness::Copilot,
                r#"{"toolName":"bash","toolArgs":"{\"command\":false}"}"#,
            ),
        ];
        for (harness, json) in cases {
            assert!(parse(harness, json).is_err(), "{harness}: {json}");
        }
    }

    #[test]
    fn unknown_events_are_refused() {
        let error = parse(
            Harness::Claude,
            r#"{"hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{}}"#,
        );
        assert!(matches!(error, Err(HookError::UnknownEvent { .. })));
        let error = parse(Harness::Cursor, r#"{"hook_event_name":"afterFileEdit"}"#);
        assert!(matches!(error, Err(HookError::UnknownEvent { .. })));
    }

    #[test]
    fn claude_file_tools_map_to_reads_and_writes() {
        let read = parse(Harness::Claude, r#"{"hook_event_name":"PreToolUse","tool_name":"Read","tool_input":{"file_path":"/p/.env"}}"#).unwrap();
        assert!(
            matches!(read.action, Action::Read { ref paths, .. } if paths == &[PathBuf::from("/p/.env")])
        );
        let write = parse(Harness::Claude, r#"{"hook_event_name":"PreToolUse","tool_name":"MultiEdit","tool_input":{"file_path":"/h/.claude/settings.json","edits":[]}}"#).unwrap();
        assert!(matches!(write.action, Action::Write { .. }));
        let other = parse(Harness::Claude, r#"{"hook_event_name":"PreToolUse","tool_name":"WebFetch","tool_input":{"url":"https://x"}}"#).unwrap();
        assert_eq!(
            other.action,
            Action::Tool {
                tool: "WebFetch".into()
            }
        );
    }

    #[test]
    fn codex_apply_patch_lists_the_files_it_touches() {
        let request = parse(
            Harness::Codex,
            r#"{"session_id":"s","turn_id":"t","model":"gpt","transcript_path":null,"hook_event_name":"PreToolUse","tool_name":"apply_patch",
            "tool_input":{"command":"*** Begin Patch\n*** Update File: .codex/hooks.json\n@@\n-a\n+b\n*** End Patch\n"}}"#,
        )
        .unwrap();
        assert_eq!(request.envelope, Envelope::CodexPreToolUse);
        assert!(
            matches!(request.action, Action::Write { ref paths, .. } if paths == &[PathBuf::from(".codex/hooks.json")])
        );
    }

    #[test]
    fn cursor_events_and_cwd_fallback() {
        let shell = parse(Harness::Cursor, r#"{"hook_event_name":"beforeShellExecution","conversation_id":"c","generation_id":"g","workspace_roots":["/p"],"command":"ls","cwd":""}"#).unwrap();
        assert_eq!(shell.cwd, Some(PathBuf::from("/p")));
        assert_eq!(shell.session.unwrap().as_str(), "c");
        let read = parse(
            Harness::Cursor,
            r#"{"hook_event_name":"beforeReadFile","file_path":"/p/.env","content":"X=1"}"#,
        )
        .unwrap();
        assert_eq!(read.envelope, Envelope::CursorReadFile);
        let mcp_string = parse(Harness::Cursor, r#"{"hook_event_name":"beforeMCPExecution","tool_name":"run","tool_input":"{\"command\":\"rm -rf /\"}","command":"npx server"}"#).unwrap();
        assert_eq!(
            mcp_string.action,
            Action::Shell {
                command: "rm -rf /".into()
            }
        );
        let mcp_object = parse(Harness::Cursor, r#"{"hook_event_name":"beforeMCPExecution","tool_name":"query","tool_input":{"sql":"select 1"},"url":"http://x"}"#).unwrap();
        assert_eq!(
            mcp_object.action,
            Action::Tool {
                tool: "mcp:query".into()
            }
        );
    }

    #[test]
    fn cursor_fallback_envelope_recognises_read_file() {
        assert_eq!(
            Envelope::fallback(
                Harness::Cursor,
                br#"{"hook_event_name":"beforeReadFile","file_path":3}"#
            ),
            Envelope::CursorReadFile
        );
        assert_eq!(
            Envelope::fallback(Harness::Cursor, b"garbage"),
            Envelope::CursorGate
        );
    }

    #[test]
    fn gemini_and_copilot_tools() {
        let shell = parse(Harness::Gemini, r#"{"session_id":"s","hook_event_name":"BeforeTool","timestamp":"2026","tool_name":"run_shell_command","tool_input":{"command":"ls"}}"#).unwrap();
        assert_eq!(
            shell.action,
            Action::Shell {
                command: "ls".into()
            }
        );
        let read = parse(Harness::Gemini, r#"{"hook_event_name":"BeforeTool","tool_name":"read_file","tool_input":{"absolute_path":"/p/.env"}}"#).unwrap();
        assert!(matches!(read.action, Action::Read { .. }));
        let many = parse(Harness::Gemini, r#"{"hook_event_name":"BeforeTool","tool_name":"read_many_files","tool_input":{"paths":["a","b"]}}"#).unwrap();
        assert!(matches!(many.action, Action::Read { ref paths, .. } if paths.len() == 2));
        let copilot = parse(Harness::Copilot, r#"{"timestamp":1,"cwd":"/p","toolName":"bash","toolArgs":"{\"command\":\"git status\"}"}"#).unwrap();
        assert_eq!(
            copilot.action,
            Action::Shell {
                command: "git status".into()
            }
        );
    }
}
