//! sockudo-obs: the observability bundle for Sockudo, a Pusher-protocol WebSocket server.
//!
//! One canonical metric catalogue ([`catalogue::CATALOGUE`]) is used twice:
//!
//! * **live**, linked into the server: [`Metrics`] registers every catalogue metric in its own
//!   `prometheus::Registry`, hands out allocation-free recording handles and serves `/metrics`
//!   ([`live`]);
//! * **generated**, by `sockudo-obs generate --env <env>` (`bundle`, feature `generator`):
//!   Prometheus config, rules and their tests, Alertmanager, nginx, Grafana, Kubernetes, compose
//!   and docs, every PromQL expression checked against the same catalogue.
//!
//! Because both read one table, metric names cannot drift between the server and its monitoring.
//!
//! ```
//! use sockudo_obs::live::ChannelType;
//! use sockudo_obs::{Metrics, MetricsConfig};
//!
//! # fn main() -> sockudo_obs::Result<()> {
//! let metrics = Metrics::new(&MetricsConfig::load(None)?)?; // defaults, then METRICS_*
//! let app = metrics.app("app-1").clone(); // resolve once, keep it in the connection's state
//! app.message_sent(ChannelType::Public); // one atomic add
//! assert!(metrics.encode().contains("sockudo_messages_sent_total"));
//! # Ok(())
//! # }
//! ```
//!
//! | module | what a user finds there |
//! |---|---|
//! | [`live`] | [`Metrics`], the recording handles, the `/metrics` exporter, the axum layer (feature `axum`) |
//! | [`config`] | [`MetricsConfig`]: the `metrics` section of a Sockudo config and its `METRICS_*` overrides |
//! | [`catalogue`] | the metric table itself |
//! | `coverage` | which families Sockudo 5.2.0 feeds, per build, and from which of its calls (feature `generator`) |
//! | [`demo`] | the traffic simulator behind `serve --demo`: every recording call, driven |
//! | [`names`] | the syntax rules (prefix, RFC 1123 names) both halves enforce |
//! | [`Error`] | every fallible call's error: an [`ErrorKind`], the key and file where known, the source |
//! | `bundle` | the generator (feature `generator`): `bundle::build` makes one environment's bundle, in memory |
//!
//! A server takes the live side alone with `default-features = false`, or links
//! `sockudo-obs-live` itself. Each module is one crate of the workspace, re-exported here, and the
//! crates are the layers: the catalogue crate depends on nothing of ours, the live library on the
//! catalogue only, the Sockudo integration on both, the generator on the catalogue and the
//! integration, never on anything that renders for a server. The generator is itself four crates,
//! one per stage: the model, the checks and the renderers (neither of which depends on the
//! other), and the pipeline over them.
//!
//! | crate | here as |
//! |---|---|
//! | `sockudo-obs-catalogue` | [`catalogue`], [`names`], [`config`], [`Error`] |
//! | `sockudo-obs-live` | [`live`], [`Metrics`] |
//! | `sockudo-obs-sockudo` | `coverage`, `live::sockudo` |
//! | `sockudo-obs-bundle` (over `sockudo-obs-model`, `-verify` and `-render`) | `bundle` |

/// The generator (`sockudo-obs-bundle`).
#[cfg(feature = "generator")]
pub use sockudo_obs_bundle as bundle;
pub use sockudo_obs_catalogue::{catalogue, config, names};
/// Which families Sockudo 5.2.0 feeds, per build, and from which of its calls
/// (`sockudo-obs-sockudo`): data for the generator's docs and the tests, which a server linking
/// the live side does not need.
#[cfg(feature = "generator")]
pub use sockudo_obs_sockudo::coverage;

pub mod demo;

/// The live side (`sockudo-obs-live`), with Sockudo 5.2's label spellings as `live::sockudo`.
pub mod live {
    pub use sockudo_obs_live::*;
    /// Sockudo 5.2's label spellings, mapped onto the catalogue's closed domains
    /// (`sockudo-obs-sockudo`).
    #[cfg(feature = "generator")]
    pub use sockudo_obs_sockudo::spellings as sockudo;
}

pub use sockudo_obs_catalogue::{echoed, Error, ErrorKind, MetricsConfig, Result};
pub use sockudo_obs_live::Metrics;

/// The README's examples compile and run as doctests, so the front door cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
