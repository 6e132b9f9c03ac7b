//! The contract between a server and its monitoring, which both halves of sockudo-obs read: the
//! metric table ([`catalogue::CATALOGUE`]), the name rules both enforce ([`names`]), the server's
//! `metrics` config with its `METRICS_*` variables ([`config`]), and the error every fallible call
//! returns ([`Error`]).
//!
//! The live library (`sockudo-obs-live`) registers exactly these metrics; the generator
//! (`sockudo-obs-verify`) checks every expression against them. Nothing here depends on either.

pub mod catalogue;
mod channel;
pub mod config;
mod error;
pub mod names;

pub use config::MetricsConfig;
pub use error::{echoed, Error, ErrorKind, Result, MAX_ECHOED_CHARS};
#[cfg(feature = "generator")]
pub use error::{ErrorExt, ResultExt};
