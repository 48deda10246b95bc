//! Tests of `blastdoor serve`.
