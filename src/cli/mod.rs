//! One module per subcommand; each turns parsed arguments into library calls and an exit code.

pub mod catalogue;
pub mod demo;
pub mod generate;
pub mod init;
pub mod serve;
