//! The drop-in `sockudo-metrics` 5.2 for the real Sockudo server: the surface the server names
//! (`PrometheusMetricsDriver::with_exporters`, `TcpExporterOptions`), implemented over
//! [`sockudo_obs_live::Metrics`], so the server's `/metrics` serves the catalogue.
//!
//! - [`driver`]: the driver and its `MetricsInterface` implementation, call by call;
//! - [`bridge`]: the global `metrics` (metrics-rs) recorder, for what the server records through
//!   that facade;
//! - [`process`]: the standard `process_*` metrics the stock driver also served;
//! - [`server_config`]: the server's own settings the driver is not handed (the adapter's name).
//!
//! What each catalogue family gets from the server is the catalogue's coverage table
//! (`sockudo_obs_sockudo::coverage::cells`, one column per build), shown in the generated METRICS.md.

pub mod bridge;
pub mod driver;
// Compiled for the unit tests too: what it records needs no patched server to test (`--test` of
// scripts/sockudo-server.sh runs them; the instrumented build compiles the trait methods).
#[cfg(any(feature = "instrumented", test))]
pub mod instrumented;
pub mod process;
pub mod server_config;
#[cfg(test)]
mod tests;

pub use driver::PrometheusMetricsDriver;

/// The stock driver's options for its metrics-rs TCP exporter. Accepted so the server builds;
/// the drop-in serves `/metrics` only, and says so in the log when this is set.
#[derive(Debug, Clone)]
pub struct TcpExporterOptions {
    pub host: String,
    pub port: u16,
    pub buffer_size: Option<usize>,
}

/// The stock crate's module path, which the server does not name but other code might.
pub mod prometheus {
    pub use crate::{PrometheusMetricsDriver, TcpExporterOptions};
}
