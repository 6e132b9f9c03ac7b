//! sockudo-obs: the observability bundle for Sockudo, a Pusher-protocol WebSocket server.
//!
//! One canonical metric catalogue ([`catalogue::CATALOGUE`]) is used twice:
//!
//! * **live**, linked into the server: [`Metrics`] registers every catalogue metric in its own
//!   `prometheus::Registry`, hands out allocation-free recording handles and serves `/metrics`;
//! * **generated**, by `sockudo-obs generate --env <env>` ([`bundle`]): Prometheus config, rules and
//!   their tests, Alertmanager, nginx, Grafana, Kubernetes, compose and docs, every PromQL
//!   expression checked against the same catalogue.
//!
//! Because both read one table, metric names cannot drift between the server and its monitoring.

#[cfg(feature = "generator")]
pub mod bundle;
pub mod catalogue;
pub mod config;
pub mod error;
pub mod live;
pub mod names;

pub use config::MetricsConfig;
pub use error::UsageError;
pub use live::Metrics;

/// The README's examples compile and run as doctests, so the front door cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
