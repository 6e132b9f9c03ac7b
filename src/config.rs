//! The `metrics` section of a Sockudo `config.json`: defaults, file, environment overrides,
//! validation. (Stub: the config issue fills this in.)

use std::fmt;
use std::path::Path;

use crate::catalogue::DEFAULT_PREFIX;

/// The resolved `metrics` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    pub enabled: bool,
    pub driver: Driver,
    pub host: String,
    pub port: u16,
    pub prefix: String,
}

/// The metrics driver; the seed documents only Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Prometheus,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            driver: Driver::Prometheus,
            host: "0.0.0.0".to_string(),
            port: 9601,
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }
}

impl MetricsConfig {
    /// Reads `path` (a whole config.json or a bare `metrics` object) when given, applies the
    /// `METRICS_*` environment overrides from the process environment, and validates the result.
    pub fn load(path: Option<&Path>) -> Result<MetricsConfig, ConfigError> {
        let _ = path;
        Ok(MetricsConfig::default())
    }
}

/// A bad config value, naming the key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}
