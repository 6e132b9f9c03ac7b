//! The generator. Data flows one way:
//!
//! ```text
//! catalogue + profile + specs --> check --> model --> one renderer per artifact --> atomic write
//! ```
//!
//! [`Model::load`] reads the profile and the specs from a [`Source`] (embedded or `--specs DIR`),
//! [`check::run`] checks every expression against the catalogue, [`render::all`] turns the model
//! into an [`Output`] tree, and [`Output::write_atomically`] swaps it into place.

pub mod check;
pub mod coverage;
pub mod dashboards;
pub mod documents;
pub mod expr;
pub mod layout;
pub mod model;
pub mod output;
pub mod profile;
pub mod render;
pub mod rules;
pub mod source;
pub mod templates;
pub mod topology;
pub mod validate;

use anyhow::Result;

pub use model::{Model, Overrides};
pub use output::{Change, Output};
pub use source::Source;

/// Loads, checks and renders one environment's bundle, in memory.
pub fn build(source: &Source, env: &str, overrides: &Overrides) -> Result<Output> {
    let model = Model::load(source, env, overrides)?;
    check::run(&model).into_result()?;
    render::all(&model)
}
