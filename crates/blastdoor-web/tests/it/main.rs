//! `blastdoor-web` over real HTTP: a real `HoldStore` and `Ledger` in a temporary
//! `BLASTDOOR_HOME`, the router on a port-0 listener, a raw HTTP client (`ui`), and real
//! headless Chromium driven through chromedriver's WebDriver API (`browser`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod browser;
mod support;
mod ui;
