//! Writes `prometheus/prometheus.yml` and the compose stack's `prometheus.yml` from the documents
//! stage's typed configs.

use crate::Result;

use crate::layout::{COMPOSE_CONFIG_PATH, PROMETHEUS_CONFIG_PATH};
use crate::model::Model;
use crate::output::Output;

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    out.add_yaml(PROMETHEUS_CONFIG_PATH, &model.documents.prometheus)?;
    out.add_yaml(COMPOSE_CONFIG_PATH, &model.documents.compose_prometheus)
}
