//! Tests of `blastdoor init`.
