//! The one error type of `blastdoor-hook`: hook input that cannot be understood, and settings
//! files that cannot be merged.

/// Why a hook envelope or a harness settings file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    #[error("hook input is not valid JSON for {harness}: {detail}")]
    MalformedInput {
        harness: &'static str,
        detail: String,
    },
    #[error("unknown {harness} hook event `{event}`")]
    UnknownEvent {
        harness: &'static str,
        event: String,
    },
    #[error("{harness} `{tool}` call is missing `{field}` or it has the wrong type")]
    MissingField {
        harness: &'static str,
        tool: String,
        field: &'static str,
    },
    #[error("settings file `{path}` is not valid JSON ({detail}); it was left unchanged")]
    MalformedSettings { path: String, detail: String },
    #[error("settings file `{path}` has `{field}` of an unexpected type; it was left unchanged")]
    UnexpectedSettingsShape { path: String, field: String },
}
