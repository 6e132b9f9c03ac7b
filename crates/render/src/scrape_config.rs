//! Writes `prometheus/prometheus.yml` and the compose stack's `prometheus.yml` from the documents
//! stage's typed configs.

use sockudo_obs_model::Result;

use sockudo_obs_model::layout::{COMPOSE_CONFIG_PATH, PROMETHEUS_CONFIG_PATH};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    out.add_yaml(PROMETHEUS_CONFIG_PATH, &model.documents.prometheus)?;
    out.add_yaml(COMPOSE_CONFIG_PATH, &model.documents.compose_prometheus)
}
