//! Writes one Prometheus rule file per rule spec (`prometheus/rules/<stem>.yml`) from the
//! documents stage's rule groups.

use sockudo_obs_model::Result;

use sockudo_obs_model::layout::rule_file_path;
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    for file in &model.documents.rule_files {
        out.add_yaml(&rule_file_path(&file.stem), &file.groups)?;
    }
    Ok(())
}
