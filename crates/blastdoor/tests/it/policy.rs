//! Tests of `blastdoor policy`.
