//! The agent hook's harness adapters (layer 1 of the design): the bytes a harness (Claude
//! Code, Codex, Cursor, Gemini CLI, Copilot CLI) writes to the hook's stdin become one
//! [`HookRequest`]; a [`Verdict`](blastdoor_core::Verdict) becomes the exact stdout bytes that
//! harness expects; and the hook's registration is merged into the harness's settings file.
//!
//! This crate must not do IO, read the clock, spawn anything or hold an async runtime: the
//! binary reads stdin, writes the ledger and prints. It must not compile regexes or parse
//! policy either, because it runs once per agent tool call and process start-up is its whole
//! time budget. Every error it returns is turned into a deny by its caller.

mod error;
mod evaluate;
mod harness;
mod install;
mod protect;
mod request;
mod response;

pub use blastdoor_shell::{Assessment, Context, FileSource, FsSource};

pub use error::HookError;
pub use evaluate::{
    FILE_WRITE_RULE, INTERNAL_ERROR_RULE, LEDGER_UNAVAILABLE_RULE, MALFORMED_INPUT_RULE,
    UNCLASSIFIED_TOOL_RULE, assess, internal_error, ledger_unavailable, malformed_input,
};
pub use harness::{Harness, Scope};
pub use install::{
    LEAN_HOOK_BINARY, Registration, Slot, hook_command, inspect_registration, merge_registration,
    registered_program, slots,
};
pub use protect::{DISARM_RULE, disarm_reason};
pub use request::{Action, Envelope, HookRequest, PermissionMode, parse_request};
pub use response::{Answer, HOLD_GUIDANCE, answer, render};
