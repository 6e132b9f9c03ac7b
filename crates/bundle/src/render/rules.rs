//! Writes one Prometheus rule file per rule spec (`prometheus/rules/<stem>.yml`) from the
//! documents stage's rule groups.

use crate::Result;

use crate::layout::rule_file_path;
use crate::model::Model;
use crate::output::Output;

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    for file in &model.documents.rule_files {
        out.add_yaml(&rule_file_path(&file.stem), &file.groups)?;
    }
    Ok(())
}
