//! Renders the text templates (`templates/*.j2`) with minijinja through [`jinja`]: strict
//! about undefined values, so a misspelt variable fails the build instead of leaving a blank in a
//! config file, never auto-escaping, since none of the outputs is HTML, and bounded in steps and
//! output, so a template from `--specs` cannot run for minutes or fill memory.

use serde::Serialize;
use sockudo_obs_catalogue::{Error, ErrorKind, ResultExt};
use sockudo_obs_model::Result;

use sockudo_obs_model::jinja;
use sockudo_obs_model::model::Model;

/// Renders `templates/<name>` from the model's template set with `context`; an error names the
/// template.
pub(crate) fn render(model: &Model, name: &str, context: impl Serialize) -> Result<String> {
    let path = format!("templates/{name}");
    let source = model.templates.iter().find(|t| t.path == path).ok_or_else(|| {
        Error::new(
            ErrorKind::Template,
            format!("{path} is missing from the templates"),
        )
        .with_path(&path)
    })?;
    let mut env = jinja::environment();
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template(name, &source.text)
        .kind_context(ErrorKind::Template, || format!("{path} does not parse"))
        .map_err(|err| err.with_path(&path))?;
    let template = env
        .get_template(name)
        .map_err(|err| Error::new(ErrorKind::Template, format!("{path}: {err:#}")).with_path(&path))?;
    jinja::render(&template, context).map_err(|err| Error::usage(format!("{path}: {err}")).with_path(&path))
}
