//! `sockudo-obs serve`: run the exporter, optionally with the demo traffic simulator.

use std::path::PathBuf;
use std::process::ExitCode;

/// The demo simulator's traffic shapes; each abnormal one trips one seed alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Healthy traffic: no alert fires.
    Normal,
    /// A burst of 5xx responses (SockudoHighErrorRate).
    Errors,
    /// Slow HTTP handling (SockudoHighLatency).
    Slow,
    /// More connections than the alert threshold (SockudoHighConnections).
    Connections,
    /// A queue backlog (SockudoQueueBacklog).
    Backlog,
}

pub fn run(_config: Option<PathBuf>, _demo: Option<Scenario>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
