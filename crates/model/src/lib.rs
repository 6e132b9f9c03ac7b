//! The generator's first three stages: one environment's profile and the specs loaded, validated
//! and built into the [`Model`] that the checks (`sockudo-obs-verify`) and the renderers
//! (`sockudo-obs-render`) read. Neither of those depends on the other, so the compiler holds the
//! rule that a check never calls a renderer; `sockudo-obs-bundle` runs the pipeline.
//!
//! ```text
//! load --> validate --> build documents   (this crate: Model::load)
//!      --> verify                         (sockudo-obs-verify)
//!      --> render                         (sockudo-obs-render)
//!      --> write                          (Output::write_atomically, here)
//! ```
//!
//! 1. **load**: the profile ([`Profile`]), the rule and dashboard specs and the templates, from a
//!    [`SpecSource`]; the `--config`/`METRICS_*` [`Overrides`] win over the profile's `metrics`;
//! 2. **validate**: every profile value against its syntax ([`validate`], rules from
//!    [`names`]): the profile's own values before the specs are read, the values that become
//!    Kubernetes names, nginx directives and compose images once the topology is derived;
//! 3. **build documents**: the typed `prometheus.yml`s, rule groups, dashboards and dashboard
//!    ConfigMaps, once ([`documents`]).
//!
//! # Layers
//!
//! Each module imports only from its own row or the rows above it; nothing imports against the
//! arrow (`tests/hardening/layers.rs` reads every file and holds it to this table). The crates this
//! one depends on (the catalogue with its name rules and error, the Sockudo integration's
//! coverage) are below everything here.
//!
//! | layer | modules | may import |
//! |---|---|---|
//! | leaf | [`layout`] (paths, shared constants), [`output`] (the file tree), [`expr`] (PromQL helpers), [`external`] (other exporters' metrics the rules read), [`jinja`] (bounded minijinja), [`names`] | crate root only |
//! | load | [`source`], [`profile`], [`mod@reference`] (every profile key documented), [`rules`], [`dashboards`]; derived from them: [`slos`] (the SLOs' rules and panels), [`topology`] (scrape paths and ports), [`coverage`] (what the server does not feed) | leaf |
//! | validate | [`validate`] | load, leaf |
//! | model | [`documents`], [`model`] | validate, load, leaf |

pub mod coverage;
pub mod dashboards;
pub mod documents;
pub mod expr;
pub mod external;
pub mod jinja;
pub mod layout;
pub mod model;
pub mod output;
pub mod profile;
pub mod reference;
pub mod rules;
pub mod slos;
pub mod source;
pub mod topology;
pub mod validate;

/// The layer below, under the names this crate's modules use (`crate::names::is_host`).
pub use sockudo_obs_catalogue::{catalogue, config, names};
/// Every fallible call's error, the catalogue crate's.
pub use sockudo_obs_catalogue::{Error, ErrorKind, Result};

pub use model::{Model, Overrides};
pub use output::Output;
pub use profile::Profile;
pub use source::{SourceFile, SpecSource};
