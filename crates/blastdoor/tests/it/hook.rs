//! Tests of `blastdoor hook`.
