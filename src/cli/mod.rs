//! The subcommands, one module each, and the demo traffic simulator that `serve --demo` runs.
//!
//! Each subcommand turns parsed arguments into library calls and an exit code; each writes to
//! stdout and stderr only through [`stdio`], whose writes fail instead of panicking.

pub mod catalogue;
pub mod demo;
pub mod generate;
pub mod init;
pub mod serve;
pub mod stdio;
