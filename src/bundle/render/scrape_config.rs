//! Writes `prometheus/prometheus.yml` and the compose stack's `prometheus.yml` from the documents
//! stage's typed configs.

use crate::Result;

use crate::bundle::layout::{COMPOSE_CONFIG_PATH, PROMETHEUS_CONFIG_PATH};
use crate::bundle::model::Model;
use crate::bundle::output::Output;

pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    out.add_yaml(PROMETHEUS_CONFIG_PATH, &model.documents.prometheus)?;
    out.add_yaml(COMPOSE_CONFIG_PATH, &model.documents.compose_prometheus)
}
