//! Integration tests of `blastdoor-config`: the documented defaults, full configurations, and
//! one line per kind of mistake, each refused with the file, line and key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly by design"
)]

mod defaults;
mod errors;
mod full;

use std::path::Path;

use blastdoor_config::{Config, ConfigError};

/// Where test configurations pretend to live.
pub const ORIGIN: &str = "/home/me/.blastdoor/blastdoor.toml";

pub fn parse(text: &str) -> Result<Config, ConfigError> {
    blastdoor_config::parse(text, Path::new(ORIGIN))
}
