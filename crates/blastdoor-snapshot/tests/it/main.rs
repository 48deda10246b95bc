//! Integration tests of blastdoor-snapshot against a real PostgreSQL server and a real
//! S3-compatible server (moto) on loopback; `scripts/test` starts both (scripts/test-services).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod local_store;
mod s3_store;
mod support;
