//! The integration tests of `blastdoor-shell`, one binary: the classification corpus under
//! `test_data/corpus/` (precision and recall per category, every mismatch listed, the incident
//! family never missed) and the property tests (never panics, deterministic).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod corpus;
mod properties;
mod support;
