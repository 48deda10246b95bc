//! Fuzzes the shell classifier: any command line (also served as the script `x.sh` and the
//! body `body.json`) must classify without panicking, the same way twice, with at least one
//! reason, and never be allowed when its risk is unknown. Run with
//! `cargo +nightly fuzz run assess_command` from `crates/blastdoor-shell/`.

#![no_main]

use std::path::Path;

use blastdoor_core::{Decision, Risk};
use blastdoor_shell::{Context, MemorySource, assess_command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(command) = std::str::from_utf8(data) else { return };
    let files = MemorySource::new()
        .with_file("/w/x.sh", command.as_bytes().to_vec())
        .with_file("/w/body.json", command.as_bytes().to_vec());
    let context = Context { cwd: Path::new("/w"), home: Some(Path::new("/h")), blastdoor_home: None, files: &files };
    let first = assess_command(command, &context);
    let second = assess_command(command, &context);
    assert_eq!(first, second);
    assert!(!first.verdict.reasons.is_empty());
    if first.operation.risk() == Risk::Unknown {
        assert_ne!(first.verdict.decision, Decision::Allow);
    }
});
