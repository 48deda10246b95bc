//! One module per top-level command. Each defines its clap arguments and a `run` that returns
//! the process exit code.

pub mod approvals;
pub mod audit;
pub mod check;
pub mod doctor;
pub mod hook;
pub mod init;
pub mod install;
pub mod policy;
pub mod scan;
pub mod secret;
pub mod serve;
pub mod snapshots;
pub mod token;
