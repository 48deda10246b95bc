//! Tests of `blastdoor audit`.
