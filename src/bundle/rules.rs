//! Alerting and recording rule specs (`alerts/*.yaml`), resolved for one environment: the
//! profile's thresholds and `for` durations applied, metric names under the active prefix.
//! (Stub: the Prometheus-side issue fills this in.)

use anyhow::Result;

use super::profile::Profile;
use super::source::Source;

/// Every rule group of the bundle.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {}

impl RuleSet {
    pub fn load(_source: &Source, _profile: &Profile) -> Result<RuleSet> {
        Ok(RuleSet::default())
    }
}
