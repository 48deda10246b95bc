//! Tests of `blastdoor token`.
