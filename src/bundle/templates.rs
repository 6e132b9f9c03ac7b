//! Renders the text templates (`templates/*.j2`) with minijinja: strict about undefined values,
//! so a misspelt variable fails the build instead of leaving a blank in a config file, and never
//! auto-escaping, since none of the outputs is HTML.

use anyhow::{Context, Result};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::model::Model;

/// Renders `templates/<name>` from the model's template set with `context`.
pub fn render(model: &Model, name: &str, context: impl Serialize) -> Result<String> {
    let path = format!("templates/{name}");
    let source = model
        .templates
        .iter()
        .find(|t| t.path == path)
        .with_context(|| format!("{path} is missing from the templates"))?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_template(name, &source.text)
        .with_context(|| format!("{path} does not parse"))?;
    env.get_template(name)
        .and_then(|t| t.render(context))
        .map_err(|err| anyhow::anyhow!("{path}: {err:#}"))
}
