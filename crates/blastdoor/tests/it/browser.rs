//! The browser end to end: a held incident request approved in the web UI and executed.
