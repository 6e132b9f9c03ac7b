//! The subcommands, one module each, and the demo traffic simulator that `serve --demo` runs.
//!
//! Each subcommand turns parsed arguments into library calls and an exit code.

pub mod catalogue;
pub mod demo;
pub mod generate;
pub mod init;
pub mod serve;
