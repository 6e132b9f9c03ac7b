//! `sockudo-obs generate` and `sockudo-obs check`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Inputs shared by `generate` and `check`.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// The environment profile (environments/<env>.yaml): production, staging, development, local.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Take the prefix, port and host from a Sockudo config.json (METRICS_* variables override it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read environments/, alerts/, dashboards/ and templates/ from this directory instead of the
    /// copies embedded in the binary.
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
}

pub fn generate(_inputs: &Inputs, _out: Option<PathBuf>, _check: bool) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}

pub fn check(_inputs: &Inputs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet implemented")
}
