//! Tests of `blastdoor install`.
