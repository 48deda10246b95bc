//! `blastdoor-broker`'s integration tests: one test binary, a module per area, each going
//! through the crate's public API only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod scan;
mod stores;
mod tokens;
