//! The crate's error type: [`Error`], with an [`ErrorKind`] that says what went wrong, and where
//! known the key (profile or config key, flag, metric name) and the file it is about.
//!
//! Every library function returns [`Result`] (or a module's own typed error that converts into
//! [`Error`], such as [`crate::config::ConfigError`]); only the command line uses `anyhow`. It
//! maps the kind to its exit code: a kind for which [`ErrorKind::is_usage`] holds means "the
//! caller asked for something wrong" and exits 2, any other exits 1.
//!
//! `Display` prints the one-line message; the alternate form (`{:#}`) appends each
//! [`source`](std::error::Error::source) after `": "`, as `anyhow` does, so the command line
//! prints the same text either way.

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is. More kinds may be added: match with a wildcard arm, or
/// ask [`ErrorKind::is_usage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller asked for something that cannot be done as asked: an unknown environment, a bad
    /// flag, a malformed or invalid profile or spec, an output folder that must not be replaced.
    /// The message says what to fix.
    Usage,
    /// A bad metrics config value, from a config file or a `METRICS_*` variable
    /// ([`crate::config::ConfigError`]).
    Config,
    /// A file system or network operation failed: reading the specs, writing the bundle,
    /// listening for `/metrics`.
    Io,
    /// A text template is missing from the template set or does not parse.
    Template,
    /// An artifact could not be rendered: serializing a document, deriving a rule test.
    Render,
    /// The specs fail the catalogue checks (the message lists every problem).
    Verify,
    /// The live registry refused a catalogue metric (a name taken, or invalid under the prefix).
    Registration,
}

impl ErrorKind {
    /// True for the kinds that mean the caller asked for something wrong ([`ErrorKind::Usage`]
    /// and [`ErrorKind::Config`]): the command line exits 2 for them, 1 for every other kind.
    pub const fn is_usage(self) -> bool {
        match self {
            ErrorKind::Usage | ErrorKind::Config => true,
            ErrorKind::Io
            | ErrorKind::Template
            | ErrorKind::Render
            | ErrorKind::Verify
            | ErrorKind::Registration => false,
        }
    }
}

/// Any failure of the library: its [`kind`](Error::kind), the message users see, and where
/// known the [`key`](Error::key), the [`path`](Error::path) and the underlying
/// [`source`](std::error::Error::source).
pub struct Error {
    repr: Box<Repr>,
}

struct Repr {
    kind: ErrorKind,
    /// What `Display` prints; `None` when it is the source's own message (the error is then only
    /// a kind around the source, which is left out of the chain).
    message: Option<String>,
    key: Option<String>,
    path: Option<PathBuf>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` saying `message`, without a key, path or source.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            repr: Box::new(Repr {
                kind,
                message: Some(message.into()),
                key: None,
                path: None,
                source: None,
            }),
        }
    }

    /// A [`ErrorKind::Usage`] error saying `message`.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    /// This error naming `key`: the profile or config key, flag or metric name it is about.
    pub fn with_key(mut self, key: impl Into<String>) -> Error {
        self.repr.key = Some(key.into());
        self
    }

    /// This error naming the file or folder it is about.
    pub fn with_path(mut self, path: impl Into<PathBuf>) -> Error {
        self.repr.path = Some(path.into());
        self
    }

    /// This error caused by `source`, which the alternate `Display` (`{:#}`) prints after the
    /// message.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Error {
        self.repr.source = Some(Box::new(source));
        self
    }

    /// `error` as an error of `kind` with `error`'s own message, as `anyhow` wraps an error: the
    /// message and the chain after it are `error`'s.
    pub fn from_source(kind: ErrorKind, error: impl StdError + Send + Sync + 'static) -> Error {
        Error {
            repr: Box::new(Repr {
                kind,
                message: None,
                key: None,
                path: None,
                source: Some(Box::new(error)),
            }),
        }
    }

    /// This error behind `message`, keeping its kind, key and path: `{:#}` prints
    /// `message: <this error>`.
    pub fn context(self, message: impl Into<String>) -> Error {
        let key = self.repr.key.clone();
        let path = self.repr.path.clone();
        Error {
            repr: Box::new(Repr {
                kind: self.repr.kind,
                message: Some(message.into()),
                key,
                path,
                source: Some(Box::new(self)),
            }),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.repr.kind
    }

    /// True when the caller asked for something wrong (see [`ErrorKind::is_usage`]).
    pub fn is_usage(&self) -> bool {
        self.repr.kind.is_usage()
    }

    /// The key the error is about, when known: a profile key (`compose.sockudo_image`), a config
    /// key (`metrics.port`), a flag (`--env`), a metric name.
    pub fn key(&self) -> Option<&str> {
        self.repr.key.as_deref()
    }

    /// The file or folder the error is about, when known, as the message names it (a spec file
    /// by its display path, `environments/production.yaml`).
    pub fn path(&self) -> Option<&Path> {
        self.repr.path.as_deref()
    }

    /// The error this one wraps, if any, including one whose message this error shows as its
    /// own (which [`source`](std::error::Error::source) skips).
    pub fn get_ref(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.repr.source.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr.message, &self.repr.source) {
            (Some(message), _) => f.write_str(message)?,
            (None, Some(source)) => write!(f, "{source}")?,
            (None, None) => {}
        }
        if f.alternate() {
            let mut next = StdError::source(self);
            while let Some(cause) = next {
                write!(f, ": {cause}")?;
                next = cause.source();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("Error");
        out.field("kind", &self.repr.kind);
        out.field("message", &self.to_string());
        if let Some(key) = &self.repr.key {
            out.field("key", key);
        }
        if let Some(path) = &self.repr.path {
            out.field("path", path);
        }
        if let Some(source) = StdError::source(self) {
            out.field("source", &source);
        }
        out.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        let source = self.repr.source.as_deref()?;
        match self.repr.message {
            Some(_) => Some(source),
            None => source.source(),
        }
    }
}

/// A bare I/O error, with its own message: [`ErrorKind::Io`].
impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::from_source(ErrorKind::Io, error)
    }
}

/// A config error, with its message, key and file: [`ErrorKind::Config`] (the file is left out
/// when the value came from an environment variable).
impl From<crate::config::ConfigError> for Error {
    fn from(error: crate::config::ConfigError) -> Error {
        let mut converted = Error::new(ErrorKind::Config, error.message);
        if !error.key.is_empty() {
            converted = converted.with_key(error.key);
        }
        let from_env = crate::config::ENVIRONMENT_VARIABLES.contains(&error.source.as_str());
        if !from_env {
            converted = converted.with_path(error.source);
        }
        converted
    }
}

/// Crate-internal shorthands: an error of a kind with a message, its cause kept as the source.
#[cfg(feature = "generator")]
pub trait ResultExt<T> {
    /// On error, the error as one of `kind`, with its own message ([`Error::from_source`]).
    fn or_kind(self, kind: ErrorKind) -> Result<T>;
    /// On error, an [`ErrorKind::Io`] error saying `message()`, caused by the error.
    fn io_context(self, message: impl FnOnce() -> String) -> Result<T>;
    /// On error, an error of `kind` saying `message()`, caused by the error.
    fn kind_context(self, kind: ErrorKind, message: impl FnOnce() -> String) -> Result<T>;
    /// [`io_context`](ResultExt::io_context), the error naming `path`.
    fn io_at(self, path: impl AsRef<Path>, message: impl FnOnce() -> String) -> Result<T>;
}

#[cfg(feature = "generator")]
impl<T, E: StdError + Send + Sync + 'static> ResultExt<T> for std::result::Result<T, E> {
    fn or_kind(self, kind: ErrorKind) -> Result<T> {
        self.map_err(|error| Error::from_source(kind, error))
    }

    fn io_context(self, message: impl FnOnce() -> String) -> Result<T> {
        self.kind_context(ErrorKind::Io, message)
    }

    fn kind_context(self, kind: ErrorKind, message: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| Error::new(kind, message()).with_source(error))
    }

    fn io_at(self, path: impl AsRef<Path>, message: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| {
            Error::new(ErrorKind::Io, message())
                .with_path(path.as_ref())
                .with_source(error)
        })
    }
}

/// Crate-internal shorthand on a result of this crate.
#[cfg(feature = "generator")]
pub trait ErrorExt<T> {
    /// On error, the error naming `path` ([`Error::with_path`]).
    fn at_path(self, path: impl AsRef<Path>) -> Result<T>;
}

#[cfg(feature = "generator")]
impl<T> ErrorExt<T> for Result<T> {
    fn at_path(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|error| error.with_path(path.as_ref()))
    }
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
    use crate::config::MetricsConfig;

    #[test]
    fn only_usage_and_config_are_the_callers_mistakes() {
        assert!(ErrorKind::Usage.is_usage() && ErrorKind::Config.is_usage());
        for kind in [
            ErrorKind::Io,
            ErrorKind::Template,
            ErrorKind::Render,
            ErrorKind::Verify,
            ErrorKind::Registration,
        ] {
            assert!(!kind.is_usage(), "{kind:?}");
        }
    }

    /// `{}` is the message alone, `{:#}` the chain after it, as `anyhow` prints them; a context
    /// keeps the kind, key and path of what it wraps.
    #[test]
    fn display_and_context_read_as_anyhow_does() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let err = Error::new(ErrorKind::Io, "cannot read x")
            .with_path("x")
            .with_source(io);
        assert_eq!(err.to_string(), "cannot read x");
        assert_eq!(format!("{err:#}"), "cannot read x: gone");
        let outer = err.context("rendering the docs");
        assert!(matches!(outer.kind(), ErrorKind::Io));
        assert_eq!(outer.path(), Some(Path::new("x")));
        assert_eq!(outer.to_string(), "rendering the docs");
        assert_eq!(format!("{outer:#}"), "rendering the docs: cannot read x: gone");
        assert_eq!(
            format!("{:#}", anyhow::Error::from(outer)),
            "rendering the docs: cannot read x: gone"
        );

        // A bare I/O error keeps its own message, and is not repeated in the chain.
        let bare = Error::from(std::io::Error::other("disk on fire"));
        assert!(matches!(bare.kind(), ErrorKind::Io));
        assert_eq!(format!("{bare:#}"), "disk on fire");
        assert!(StdError::source(&bare).is_none());
        assert!(bare.get_ref().is_some_and(|e| e.is::<std::io::Error>()));
    }

    #[test]
    fn a_config_error_is_a_config_kind_naming_its_key_and_file() {
        let file =
            MetricsConfig::from_sources(Some(("conf.json", br#"{"metrics": {"port": 0}}"#)), &|_| None)
                .unwrap_err();
        let err = Error::from(file.clone());
        assert!(matches!(err.kind(), ErrorKind::Config));
        assert_eq!(err.key(), Some("metrics.port"));
        assert_eq!(err.path(), Some(Path::new("conf.json")));
        assert_eq!(err.to_string(), file.to_string());

        let env = |var: &str| (var == "METRICS_PORT").then(|| "nope".into());
        let err = Error::from(MetricsConfig::from_sources(None, &env).unwrap_err());
        assert!(matches!(err.kind(), ErrorKind::Config));
        assert_eq!(err.key(), Some("metrics.port"));
        assert_eq!(err.path(), None, "a variable is no file");
    }

    #[test]
    fn long_input_is_cut_with_its_length() {
        assert_eq!(echoed("nope"), "\"nope\"");
        let long = "\u{e9}".repeat(5000);
        let shown = echoed(&long);
        assert_eq!(shown, format!("{:?}... (5000 characters)", "\u{e9}".repeat(64)));
    }
}
