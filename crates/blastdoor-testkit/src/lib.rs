//! Test support only: a tiny blocking HTTP/1.1 client ([`http`]) and a W3C WebDriver client
//! that drives headless Chromium through chromedriver ([`webdriver`]), shared by the browser
//! tests of `blastdoor-web` and `blastdoor`.
//!
//! This crate must never be a normal dependency of a shipped crate: only `[dev-dependencies]`.
//! It panics on every failure by design, so that a test fails loudly, and it talks to servers
//! over `std::net::TcpStream` with no TLS and no async runtime.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test support fails loudly by design"
)]

pub mod http;
pub mod webdriver;
