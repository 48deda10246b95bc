//! Fuzzes `railway::classify_request_body`: never panics, is deterministic, and an error is
//! always `Unknown`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let first = blastdoor_http::railway::classify_request_body(body);
    assert_eq!(first, blastdoor_http::railway::classify_request_body(body));
    if first.malformed.is_some() {
        assert_eq!(first.risk, blastdoor_core::Risk::Unknown);
    }
});
