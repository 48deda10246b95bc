//! The `blastdoor` binary's integration tests: one test binary, one module per command,
//! each running the real binary against a temporary `BLASTDOOR_HOME`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod support;

mod approvals;
mod audit;
mod browser;
mod check;
mod corpus;
mod flood;
mod hook;
mod init;
mod install;
mod policy;
mod scan;
mod secret;
mod serve;
mod snapshots;
mod token;
