//! The command line's one way to write to stdout and stderr. Every write is checked: a broken
//! (`| head -c0`) or full (`>/dev/full`) stream is an error the caller turns into an exit code,
//! never a panic as `println!` would raise.
//!
//! A stream the caller closed (`>&-`) is already open on `/dev/null` when `main` starts (Rust's
//! runtime reopens fds 0-2 there on Unix), so it takes no file's or socket's number and writes to
//! it succeed, as to `>/dev/null`.

use std::fmt;
use std::io::{self, Write};

/// A standard output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn write(self, args: fmt::Arguments<'_>) -> io::Result<()> {
        match self {
            Stream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_fmt(args)?;
                out.flush()
            }
            Stream::Stderr => io::stderr().lock().write_fmt(args),
        }
    }
}

/// A failed write to stdout or stderr (exit code 1).
#[derive(Debug)]
pub(crate) struct StreamError {
    stream: Stream,
    source: io::Error,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to {}: {}", self.stream.name(), self.source)
    }
}

/// The message holds the cause, so `{:#}` prints it once.
impl std::error::Error for StreamError {}

/// Writes `args` to `stream`, flushed; a failure is a [`StreamError`] naming the stream.
pub(crate) fn write(stream: Stream, args: fmt::Arguments<'_>) -> Result<(), StreamError> {
    stream
        .write(args)
        .map_err(|source| StreamError { stream, source })
}

/// Writes a line to stdout: `outln!("wrote {n} files")?`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::stdio::write(
            $crate::cli::stdio::Stream::Stdout,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

/// Writes a line to stderr: `errln!("sockudo-obs: note: {note}")?`.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::stdio::write(
            $crate::cli::stdio::Stream::Stderr,
            format_args!("{}\n", format_args!($($arg)*)),
        )
    };
}

pub(crate) use {errln, outln};
