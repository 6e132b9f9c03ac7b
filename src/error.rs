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

/// The longest piece of user input an error repeats; longer input is cut, saying how long it was.
pub const MAX_ECHOED_CHARS: usize = 64;

/// `input` quoted for an error message, cut to `MAX_ECHOED_CHARS` characters with an ellipsis
/// and its length, so a 5,000-character argument does not flood the terminal.
pub fn echoed(input: &str) -> String {
    let length = input.chars().count();
    if length <= MAX_ECHOED_CHARS {
        return format!("{input:?}");
    }
    let cut: String = input.chars().take(MAX_ECHOED_CHARS).collect();
    format!("{cut:?}... ({length} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_cut_with_its_length() {
        assert_eq!(echoed("nope"), "\"nope\"");
        let long = "\u{e9}".repeat(5000);
        let shown = echoed(&long);
        assert_eq!(shown, format!("{:?}... (5000 characters)", "\u{e9}".repeat(64)));
    }
}
