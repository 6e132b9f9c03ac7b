//! The error kinds the command line maps to exit codes.
//!
//! Everything is `anyhow::Error`; a [`UsageError`] (or a [`crate::config::ConfigError`]) anywhere in
//! the chain means "the caller asked for something wrong" and exits 2, anything else exits 1.

use std::fmt;

/// The caller asked for something that cannot be done as asked: an unknown environment, a missing
/// file, a malformed profile. The message says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// True when the error chain holds a usage or config error (exit code 2).
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|e| e.is::<UsageError>() || e.is::<crate::config::ConfigError>())
}
