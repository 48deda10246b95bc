//! Tests of `blastdoor secret`.
