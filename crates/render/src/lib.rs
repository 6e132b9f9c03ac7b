//! The render stage: one renderer per artifact. Each reads only the [`Model`] (with its
//! documents, which it serializes and packages) and the shared `layout`, and adds its own files
//! to the [`Output`]; none calls another renderer or reads another's output
//! (`tests/hardening/layers.rs` holds that: the renderers are siblings in this one crate).
//!
//! This crate depends on the model crate, never on `sockudo-obs-verify`: what a renderer may
//! assume, the checks established before it runs (`sockudo-obs-bundle` runs them first).

pub(crate) mod alertmanager;
pub(crate) mod compose;
pub(crate) mod docs;
pub(crate) mod grafana;
pub(crate) mod k8s;
pub(crate) mod nginx;
pub(crate) mod promtool_tests;
pub(crate) mod rules;
pub(crate) mod scrape_config;
mod templates;

pub use compose::render as compose;
pub use grafana::render as grafana;
pub use k8s::{overlay_files, render as k8s};
pub use nginx::render as nginx;

use sockudo_obs_model::Result;

use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;

/// A renderer: adds one artifact's files to the output.
pub type Renderer = fn(&Model, &mut Output) -> Result<()>;

/// Every renderer, with the artifact it produces (for error messages).
pub(crate) const RENDERERS: &[(&str, Renderer)] = &[
    ("prometheus config", scrape_config::render),
    ("prometheus rules", rules::render),
    ("promtool tests", promtool_tests::render),
    ("alertmanager config", alertmanager::render),
    ("grafana", grafana::render),
    ("nginx proxy", nginx::render),
    ("kubernetes manifests", k8s::render),
    ("compose stack", compose::render),
    ("docs", docs::render),
];

/// Renders the whole bundle.
pub fn all(model: &Model) -> Result<Output> {
    let mut out = Output::new();
    for (artifact, render) in RENDERERS {
        render(model, &mut out).map_err(|e| e.context(format!("rendering the {artifact}")))?;
    }
    Ok(out)
}
