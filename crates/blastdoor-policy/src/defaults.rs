//! The schema every policy is validated against and the default policy set `blastdoor init`
//! writes, both shipped as readable text inside the crate.

/// The Cedar schema (`.cedarschema` syntax) of blastdoor's requests.
pub const SCHEMA: &str = include_str!("../blastdoor.cedarschema");

/// The default policy set: `(file name, Cedar text)` pairs, written into
/// `BLASTDOOR_HOME/policies/` by `blastdoor init` and used when that directory does not exist.
pub const DEFAULT_POLICIES: &[(&str, &str)] = &[
    ("default.cedar", include_str!("../policies/default.cedar")),
    ("freeze.cedar", include_str!("../policies/freeze.cedar")),
];
