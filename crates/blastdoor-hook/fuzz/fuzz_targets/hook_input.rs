//! Fuzzes the hook's input path: arbitrary stdin bytes, for every harness, through parsing,
//! classification (against no real files) and rendering. It must never panic, and every
//! answer must be empty (no decision) or one JSON object.
#![no_main]

use std::path::Path;

use blastdoor_core::Decision;
use blastdoor_hook::{Context, Envelope, Harness};
use libfuzzer_sys::fuzz_target;

struct NoFiles;

impl blastdoor_hook::FileSource for NoFiles {
    fn read_bounded(&self, _path: &Path, _limit: usize) -> Option<Vec<u8>> {
        None
    }
}

fuzz_target!(|input: &[u8]| {
    for harness in Harness::ALL {
        let context = Context {
            cwd: Path::new("/work/proj"),
            home: Some(Path::new("/home/u")),
            blastdoor_home: Some(Path::new("/home/u/.blastdoor")),
            files: &NoFiles,
        };
        let (envelope, mode, assessment) = match blastdoor_hook::parse_request(harness, input) {
            Ok(request) => {
                let assessment = blastdoor_hook::assess(&request, &context);
                (request.envelope, request.permission_mode, assessment)
            }
            Err(error) => {
                let assessment = blastdoor_hook::malformed_input(&error);
                assert_eq!(assessment.verdict.decision, Decision::Deny);
                (Envelope::fallback(harness, input), None, assessment)
            }
        };
        let answer = blastdoor_hook::answer(envelope, mode.as_ref(), &assessment.verdict);
        let bytes = blastdoor_hook::render(envelope, &answer);
        if !bytes.is_empty() {
            let value: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(value) => value,
                Err(error) => panic!("rendered answer is not JSON: {error}"),
            };
            assert!(value.is_object());
        }
    }
});
