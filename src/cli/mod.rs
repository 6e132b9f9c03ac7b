//! The subcommands, one module each (`serve --demo` runs the library's `sockudo_obs::demo`).
//!
//! Each subcommand turns parsed arguments into library calls and an exit code; each writes to
//! stdout and stderr only through [`stdio`], whose writes fail instead of panicking.

pub(crate) mod catalogue;

pub(crate) mod generate;
pub(crate) mod init;
pub(crate) mod serve;
pub(crate) mod stdio;

use std::process::ExitCode;

use sockudo_obs::config::ConfigError;
use sockudo_obs::{Error, ErrorKind};

/// The exit code of a failed command: 2 when the caller asked for something wrong (a kind for
/// which [`ErrorKind::is_usage`] holds: [`ErrorKind::Usage`], [`ErrorKind::Config`]), 1 for
/// every other kind and for an error the library did not report (a closed stdout, say).
pub(crate) fn exit_code(err: &anyhow::Error) -> ExitCode {
    match error_kind(err) {
        Some(kind) if kind.is_usage() => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

/// The kind of the library error in `err`'s chain: the outermost one (a context keeps its
/// kind), or [`ErrorKind::Config`] for a config error returned as it is.
fn error_kind(err: &anyhow::Error) -> Option<ErrorKind> {
    err.chain().find_map(|cause| {
        if let Some(error) = cause.downcast_ref::<Error>() {
            Some(error.kind())
        } else {
            cause.downcast_ref::<ConfigError>().map(|_| ErrorKind::Config)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_and_config_kinds_exit_2_every_other_1() {
        let code = |err: anyhow::Error| format!("{:?}", exit_code(&err));
        let two = format!("{:?}", ExitCode::from(2));
        let one = format!("{:?}", ExitCode::from(1));
        assert_eq!(code(Error::usage("--env x: unknown").into()), two);
        assert_eq!(code(Error::new(ErrorKind::Config, "bad port").into()), two);
        let wrapped = anyhow::Error::from(Error::usage("bad")).context("generating");
        assert_eq!(code(wrapped), two);
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        assert_eq!(code(Error::from(io).into()), one);
        assert_eq!(code(Error::new(ErrorKind::Verify, "fails").into()), one);
        assert_eq!(code(anyhow::anyhow!("stdout closed")), one);
    }
}
