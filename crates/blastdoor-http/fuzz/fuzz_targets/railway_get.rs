//! Fuzzes `railway::classify_get_query` with arbitrary query strings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let first = blastdoor_http::railway::classify_get_query(&query);
    assert_eq!(first, blastdoor_http::railway::classify_get_query(&query));
});
