//! Property tests of the hook's input path: for any stdin bytes and any harness, parsing,
//! classification and rendering never panic, are deterministic, and a parse failure always
//! renders a deny.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

use std::path::Path;

use blastdoor_core::Decision;
use blastdoor_hook::{Context, Envelope, Harness};
use blastdoor_shell::NoFiles;
use proptest::prelude::*;

fn run(harness: Harness, input: &[u8]) -> (Option<Decision>, Vec<u8>) {
    let context = Context {
        cwd: Path::new("/work/proj"),
        home: Some(Path::new("/home/u")),
        blastdoor_home: Some(Path::new("/home/u/.blastdoor")),
        files: &NoFiles,
    };
    match blastdoor_hook::parse_request(harness, input) {
        Ok(request) => {
            let assessment = blastdoor_hook::assess(&request, &context);
            let answer = blastdoor_hook::answer(
                request.envelope,
                request.permission_mode.as_ref(),
                &assessment.verdict,
            );
            (
                Some(assessment.verdict.decision),
                blastdoor_hook::render(request.envelope, &answer),
            )
        }
        Err(error) => {
            let assessment = blastdoor_hook::malformed_input(&error);
            let envelope = Envelope::fallback(harness, input);
            let answer = blastdoor_hook::answer(envelope, None, &assessment.verdict);
            (None, blastdoor_hook::render(envelope, &answer))
        }
    }
}

/// Envelope-shaped JSON with arbitrary values in the fields the adapters read.
fn envelope_like() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        Just(String::new()),
        "[ -~]{0,40}",
        Just("rm -rf /".to_owned())
    ];
    let value = prop_oneof![
        text.clone().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        text.clone()
            .prop_map(|command| serde_json::json!({"command": command, "file_path": command})),
    ];
    let event = prop_oneof![
        Just("PreToolUse"),
        Just("beforeShellExecution"),
        Just("beforeReadFile"),
        Just("beforeMCPExecution"),
        Just("preToolUse"),
        Just("BeforeTool"),
        Just("Other"),
    ];
    let tool = prop_oneof![
        Just("Bash"),
        Just("Read"),
        Just("Edit"),
        Just("apply_patch"),
        Just("run_shell_command"),
        Just("bash"),
        Just("read_many_files"),
        Just("view"),
        Just("mcp__x__y"),
    ];
    (event, tool, value.clone(), value.clone(), text).prop_map(|(event, tool, input, args, mode)| {
        serde_json::json!({
            "hook_event_name": event, "tool_name": tool, "toolName": tool, "tool_input": input,
            "toolArgs": args, "command": args, "file_path": input, "permission_mode": mode, "cwd": mode,
        })
        .to_string()
        .into_bytes()
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_and_failures_deny(input in proptest::collection::vec(any::<u8>(), 0..256)) {
        for harness in Harness::ALL {
            let (decision, bytes) = run(harness, &input);
            if decision.is_none() {
                let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                prop_assert!(value.to_string().contains("deny"), "{harness}: {value}");
            }
        }
    }

    #[test]
    fn envelope_shaped_input_is_deterministic_and_renders_json(input in envelope_like()) {
        for harness in Harness::ALL {
            let first = run(harness, &input);
            let second = run(harness, &input);
            prop_assert_eq!(&first, &second);
            if !first.1.is_empty() {
                let value: serde_json::Value = serde_json::from_slice(&first.1).unwrap();
                prop_assert!(value.is_object());
            }
        }
    }
}

/// Found by `cargo fuzz run hook_input`: a Bash command with 40 nested `(` made the shell
/// parser backtrack exponentially, so the hook never answered. It must answer (the 60-second
/// bound only separates "finishes" from "hangs") and must not allow the command.
#[test]
fn deeply_nested_parens_in_a_command_get_an_answer() {
    let input = include_bytes!("../../fuzz/corpus/hook_input/regression-nested-parens.json");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(run(Harness::ALL[0], input));
    });
    let (decision, _) = receiver
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the hook never answered a command with deeply nested parens");
    assert_ne!(decision, Some(Decision::Allow));
}
