//! The simulator on a real listener (port 0), driven with Railway's own CLI documents.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod client;
mod differential;
mod incident;
mod nested;
mod protocol;
