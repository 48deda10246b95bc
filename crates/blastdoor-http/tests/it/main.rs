//! The integration tests of `blastdoor-http`: one binary, one module per upstream kind.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod fixtures;
mod kubernetes;
mod props;
mod railway;
mod rest;
mod topology;
mod walk;
