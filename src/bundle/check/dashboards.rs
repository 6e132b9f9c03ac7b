//! Checks the dashboards: their queries, and the Grafana dashboard-linter rules. (Stub.)

use super::Problem;
use crate::bundle::model::Model;

pub fn check(_model: &Model) -> Vec<Problem> {
    Vec::new()
}
