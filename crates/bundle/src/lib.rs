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
//! Each stage is a crate of the workspace, and this one runs them in order:
//!
//! | stage | crate | here as |
//! |---|---|---|
//! | load, validate, build documents | `sockudo-obs-model` ([`Model::load`]) | [`Model`], [`Profile`], [`SpecSource`], [`Output`], [`mod@reference`] |
//! | verify | `sockudo-obs-verify` ([`check::run`]) | [`check`] |
//! | render | `sockudo-obs-render` (one renderer per artifact) | [`renderer`], [`Renderer`] |
//! | write | [`Output::write_atomically`] (the CLI's job) | |
//!
//! The checks and the renderers both read the model and depend on nothing of each other, so the
//! compiler holds the two rules of the pipeline: a check never calls a renderer, and a model the
//! checks refuse is never rendered (this crate is the only one that sees both).

pub use sockudo_obs_model::coverage::unfed_families;
pub use sockudo_obs_model::expr::{metric_names, parse_promql};
pub use sockudo_obs_model::layout::{HEARTBEAT_ALERT, NGINX_CONF_PATH, SELF_MONITORING_JOBS};
pub use sockudo_obs_model::output::{Change, HEADER, MARKER};
pub use sockudo_obs_model::reference;
pub use sockudo_obs_model::slos::RULES_PER_SLO;
pub use sockudo_obs_model::source::Folder;
pub use sockudo_obs_model::topology::PathKind;
pub use sockudo_obs_model::validate::parsed_profile;
/// Every fallible call's error, the catalogue crate's.
pub use sockudo_obs_model::{Error, ErrorKind, Result};
pub use sockudo_obs_model::{Model, Output, Overrides, Profile, SourceFile, SpecSource};
pub use sockudo_obs_render::{overlay_files, Renderer};

/// The verify stage (`sockudo-obs-verify`), for the CLI's `check` and for tests that look at the
/// problems themselves.
pub mod check {
    pub use sockudo_obs_verify::{
        alertmanagers_by_service_address, check_expr, check_selector, check_with_catalogue, cross_artifact,
        finished_pods_kept, run, Problem, Report, Scope,
    };
}

/// Single renderers (`sockudo-obs-render`), for tests that render one artifact alone.
pub mod renderer {
    pub use sockudo_obs_render::{compose, grafana, k8s, nginx};
}

/// Loads, validates, builds the documents, verifies and renders one environment's bundle, in
/// memory; the caller writes it. The checks read only the model, so nothing is rendered from a
/// model they refuse.
pub fn build(source: &SpecSource, env: &str, overrides: &Overrides) -> Result<Output> {
    let model = Model::load(source, env, overrides)?;
    sockudo_obs_verify::run(&model).into_result()?;
    sockudo_obs_render::all(&model)
}

#[cfg(test)]
mod error_tests {
    use std::path::Path;

    use crate::ErrorKind;

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
