//! Tests of `blastdoor check`.
