//! The generator: one environment's profile and the specs in, the whole deployment bundle out.
//!
//! ```no_run
//! use sockudo_obs::bundle::{self, Overrides, SpecSource};
//!
//! # fn main() -> anyhow::Result<()> {
//! // The specs embedded in the binary (or `SpecSource::new(Some(dir))` for `--specs DIR`).
//! let output = bundle::build(&SpecSource::Embedded, "production", &Overrides::default())?;
//! assert!(output.get("prometheus/prometheus.yml").is_some());
//! output.write_atomically(std::path::Path::new("generated/production"))?;
//! # Ok(())
//! # }
//! ```
//!
//! # The pipeline
//!
//! ```text
//! load --> validate --> build documents --> render --> verify --> write
//! ```
//!
//! 1. **load**: the profile ([`Profile`]), the rule and dashboard specs and the templates, from a
//!    [`SpecSource`]; the `--config`/`METRICS_*` [`Overrides`] win over the profile's `metrics`;
//! 2. **validate**: every profile value against its syntax (`validate`, rules from
//!    [`crate::names`]): the profile's own values before the specs are read, the values that
//!    become Kubernetes names, nginx directives and compose images once the topology is derived;
//! 3. **build documents**: the typed `prometheus.yml`s, rule groups, dashboards and dashboard
//!    ConfigMaps, once (`documents`). Steps 1-3 are [`Model::load`];
//! 4. **render**: one renderer per artifact serializes and packages the model and its documents
//!    into an [`Output`] (`render`);
//! 5. **verify**: every PromQL expression against the catalogue, the conventions, the
//!    cross-artifact job/port agreement and the ConfigMap size limit, on the model and documents,
//!    never on a renderer ([`check::run`]);
//! 6. **write**: [`Output::write_atomically`] swaps the tree into place (the CLI's job).
//!
//! # Layers
//!
//! Each module imports only from its own row or the rows above it; nothing imports against the
//! arrow. `catalogue`, `config`, `names` and `error` (crate root) are below everything here.
//!
//! | layer | modules | may import |
//! |---|---|---|
//! | leaf | `layout` (paths, shared constants), `output` (the file tree), `expr` (PromQL helpers), [`crate::names`] | crate root only |
//! | load | `source`, `profile`, `rules`, `dashboards`; derived from them: `topology` (scrape paths and ports), `coverage` (what the server does not feed) | leaf |
//! | validate | `validate` | load, leaf |
//! | model | `documents`, `model` | validate, load, leaf |
//! | render | `render/*`, `templates` | model, load, leaf; never a sibling renderer |
//! | verify | `verify/*` | model, load, leaf; never a renderer |
//! | pipeline | this module's [`build`] | everything |

mod coverage;
mod dashboards;
mod documents;
mod expr;
mod layout;
mod model;
mod output;
mod profile;
mod render;
mod rules;
mod source;
mod templates;
mod topology;
mod validate;
mod verify;

use anyhow::Result;

pub use coverage::unfed_families;
pub use layout::NGINX_CONF_PATH;
pub use model::{Model, Overrides};
pub use output::{Change, Output};
pub use profile::Profile;
pub use render::Renderer;
pub use source::{Folder, SourceFile, SpecSource};
pub use topology::PathKind;
pub use validate::parsed_profile;

/// The verify stage, for the CLI's `check` and for tests that look at the problems themselves.
pub mod check {
    pub use super::verify::promql::{check_expr, check_selector, Scope};
    pub use super::verify::rules::check_with_catalogue;
    pub use super::verify::topology::check as cross_artifact;
    pub use super::verify::{run, Problem, Report};
}

/// Single renderers, for tests that render one artifact alone.
pub mod renderer {
    pub use super::render::compose::render as compose;
    pub use super::render::grafana::render as grafana;
    pub use super::render::k8s::render as k8s;
    pub use super::render::nginx::render as nginx;
}

/// Loads, validates, builds the documents, renders and verifies one environment's bundle, in
/// memory; the caller writes it.
pub fn build(source: &SpecSource, env: &str, overrides: &Overrides) -> Result<Output> {
    let model = Model::load(source, env, overrides)?;
    let output = render::all(&model)?;
    verify::run(&model).into_result()?;
    Ok(output)
}
