//! Dashboard specs (`dashboards/*.yaml`): rows, panels, queries, units, resolved for one
//! environment. (Stub: the Grafana issue fills this in.)

use anyhow::Result;

use super::profile::Profile;
use super::source::Source;

/// Every dashboard of the bundle.
#[derive(Debug, Clone, Default)]
pub struct Dashboards {}

impl Dashboards {
    pub fn load(_source: &Source, _profile: &Profile) -> Result<Dashboards> {
        Ok(Dashboards::default())
    }
}
