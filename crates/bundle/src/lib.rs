//! The generator: one environment's profile and the specs in, the whole deployment bundle out.
//!
//! ```no_run
//! use sockudo_obs_bundle::{self as bundle, Overrides, SpecSource};
//!
//! # fn main() -> sockudo_obs_bundle::Result<()> {
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
//! load --> validate --> build documents --> verify --> render --> write
//! ```
//!
//! 1. **load**: the profile ([`Profile`]), the rule and dashboard specs and the templates, from a
//!    [`SpecSource`]; the `--config`/`METRICS_*` [`Overrides`] win over the profile's `metrics`;
//! 2. **validate**: every profile value against its syntax (`validate`, rules from
//!    [`crate::names`]): the profile's own values before the specs are read, the values that
//!    become Kubernetes names, nginx directives and compose images once the topology is derived;
//! 3. **build documents**: the typed `prometheus.yml`s, rule groups, dashboards and dashboard
//!    ConfigMaps, once (`documents`). Steps 1-3 are [`Model::load`];
//! 4. **verify**: every PromQL expression against the catalogue, the conventions, the
//!    cross-artifact job/port agreement and the ConfigMap size limit, on the model and documents,
//!    never on a renderer ([`check::run`]); a model it refuses is never rendered;
//! 5. **render**: one renderer per artifact serializes and packages the model and its documents
//!    into an [`Output`] (`render`);
//! 6. **write**: [`Output::write_atomically`] swaps the tree into place (the CLI's job).
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
//! | leaf | `layout` (paths, shared constants), `output` (the file tree), `expr` (PromQL helpers), `external` (other exporters' metrics the rules read), `jinja` (bounded minijinja), [`crate::names`] | crate root only |
//! | load | `source`, `profile`, `reference` (every profile key documented), `rules`, `dashboards`; derived from them: `slos` (the SLOs' rules and panels), `topology` (scrape paths and ports), `coverage` (what the server does not feed) | leaf |
//! | validate | `validate` | load, leaf |
//! | model | `documents`, `model` | validate, load, leaf |
//! | render | `render/*`, `templates` | model, load, leaf; never a sibling renderer |
//! | verify | `verify/*` | model, load, leaf; never a renderer |
//! | pipeline | this module's [`build`] | everything |

mod coverage;
mod dashboards;
mod documents;
mod expr;
mod external;
mod jinja;
mod layout;
mod model;
mod output;
mod profile;
pub mod reference;
mod render;
mod rules;
mod slos;
mod source;
mod templates;
mod topology;
mod validate;
mod verify;

// The layer below, under the names this crate's modules use (`crate::names::is_host`).
use sockudo_obs_catalogue::{catalogue, config, names};
/// Every fallible call's error, the catalogue crate's.
pub use sockudo_obs_catalogue::{Error, ErrorKind, Result};

pub use coverage::unfed_families;
pub use expr::metric_names;
pub use layout::{HEARTBEAT_ALERT, NGINX_CONF_PATH, SELF_MONITORING_JOBS};
pub use model::{Model, Overrides};
pub use output::{Change, Output, HEADER, MARKER};
pub use profile::Profile;
pub use render::k8s::overlay_files;
pub use render::Renderer;
pub use slos::RULES_PER_SLO;
pub use source::{Folder, SourceFile, SpecSource};
pub use topology::PathKind;
pub use validate::parsed_profile;

/// The verify stage, for the CLI's `check` and for tests that look at the problems themselves.
pub mod check {
    pub use super::verify::paths::{alertmanagers_by_service_address, finished_pods_kept};
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

/// Loads, validates, builds the documents, verifies and renders one environment's bundle, in
/// memory; the caller writes it. The checks read only the model, so nothing is rendered from a
/// model they refuse.
pub fn build(source: &SpecSource, env: &str, overrides: &Overrides) -> Result<Output> {
    let model = Model::load(source, env, overrides)?;
    verify::run(&model).into_result()?;
    render::all(&model)
}

#[cfg(test)]
mod error_tests {
    use std::path::Path;

    use sockudo_obs_catalogue::ErrorKind;

    use crate as bundle;
    use crate::check::{Problem, Report};
    use crate::{Overrides, Profile, SourceFile, SpecSource};

    #[test]
    fn an_unknown_environment_is_a_usage_error_naming_the_flag() {
        let err = bundle::build(&SpecSource::Embedded, "nope", &Overrides::default()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Usage), "{err:#}");
        assert_eq!(err.key(), Some("--env"));
        assert!(
            err.to_string().starts_with("--env \"nope\": unknown environment"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_profile_names_its_file_and_key() {
        let malformed = SourceFile {
            path: "environments/broken.yaml".into(),
            text: "description: [unclosed\n".into(),
        };
        let err = Profile::parse(&malformed).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Usage), "{err:#}");
        assert_eq!(err.path(), Some(Path::new("environments/broken.yaml")));

        let local = SpecSource::Embedded.environment("local").unwrap();
        let bad = SourceFile {
            path: "environments/bad.yaml".into(),
            text: local.text.replace("prefix: sockudo_", "prefix: \"9bad\""),
        };
        assert_ne!(bad.text, local.text, "the local profile sets metrics.prefix");
        let err = bundle::parsed_profile(&bad).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Usage), "{err:#}");
        assert_eq!(err.key(), Some("metrics.prefix"), "{err:#}");
        assert_eq!(err.path(), Some(Path::new("environments/bad.yaml")));
    }

    #[test]
    fn a_missing_spec_folder_is_a_usage_error_and_an_unreadable_one_io() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = SpecSource::new(Some(&missing)).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Usage), "{err:#}");
        assert_eq!(err.key(), Some("--specs"));
        assert_eq!(err.path(), Some(missing.as_path()));

        // Output::diff on a folder it cannot list: an I/O error naming it.
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = bundle::Output::new().diff(&file.join("below")).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Io), "{err:#}");
        assert_eq!(err.path(), Some(file.join("below").as_path()));
    }

    #[test]
    fn a_missing_template_is_a_template_error_naming_it() {
        // A `--specs` folder whose templates/ is empty: no embedded fallback for it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        let source = SpecSource::Dir(dir.path().to_path_buf());
        let err = bundle::build(&source, "local", &Overrides::default()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Template), "{err:#}");
        let path = err
            .path()
            .expect("the template's path")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(path.starts_with("templates/"), "{path}");
        assert!(format!("{err:#}").contains(&format!("{path} is missing from the templates")));
    }

    #[test]
    fn failed_checks_are_a_verify_error_naming_the_one_file() {
        let problem = |item: &str| Problem {
            file: "alerts/http.yaml".into(),
            item: item.into(),
            message: "reads no metric".into(),
        };
        let report = Report {
            problems: vec![problem("A"), problem("B")],
        };
        let err = report.into_result().unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Verify), "{err:#}");
        assert_eq!(err.path(), Some(Path::new("alerts/http.yaml")));
        assert!(err
            .to_string()
            .starts_with("the specs fail 2 check(s):\n  alerts/http.yaml: A:"));
    }
}
