//! Tests of `blastdoor scan`.
