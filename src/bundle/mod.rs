//! The generator: one environment's profile and the specs in, the whole deployment bundle out.
//!
//! ```no_run
//! use sockudo_obs::bundle::{self, Overrides, SpecSource};
//!
//! # fn main() -> sockudo_obs::Result<()> {
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
//! arrow (`layering_tests` reads every file and holds it to this table). `catalogue`, `coverage`, `config`,
//! `names` and `error` (crate root) are below everything here.
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

use crate::Result;

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
mod layering_tests {
    use std::path::Path;

    use crate::layering::imported_modules;

    /// Each top-level module's place in the pipeline, as in the layer table; a module imports
    /// only from lower numbers (within the load row, in the order it derives things).
    const LAYERS: &[(&str, usize)] = &[
        ("layout", 0),
        ("output", 0),
        ("expr", 0),
        ("external", 0),
        ("jinja", 0),
        ("source", 1),
        ("profile", 2),
        ("rules", 3),
        ("dashboards", 3),
        ("reference", 3),
        ("slos", 4),
        ("topology", 4),
        ("coverage", 4),
        ("validate", 5),
        ("documents", 6),
        ("model", 7),
        ("templates", 8),
        ("render", 9),
        ("verify", 9),
        ("mod", 10),
    ];

    /// Stages whose files may share their siblings' code; a renderer never uses another.
    const SIBLINGS_SHARE: &[&str] = &["documents", "verify"];

    fn layer(module: &str) -> Option<usize> {
        LAYERS
            .iter()
            .find(|(name, _)| *name == module)
            .map(|&(_, layer)| layer)
    }

    fn check_file(path: &Path, own: usize, stage_dir: Option<&str>, problems: &mut Vec<String>) {
        let shown = path.display().to_string();
        let siblings: Vec<String> = match stage_dir {
            Some(_) => std::fs::read_dir(path.parent().unwrap())
                .unwrap()
                .map(|e| {
                    e.unwrap()
                        .path()
                        .file_stem()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                })
                .filter(|name| name != "mod")
                .collect(),
            None => Vec::new(),
        };
        let in_stage_file = stage_dir.is_some() && !path.ends_with("mod.rs");
        for name in imported_modules(path, "crate::bundle::") {
            match layer(&name) {
                Some(used) if used >= own && Some(name.as_str()) != stage_dir => {
                    problems.push(format!("{shown} (layer {own}) imports {name} (layer {used})"))
                }
                _ => {}
            }
        }
        for name in imported_modules(path, "super::") {
            if in_stage_file && siblings.contains(&name) {
                if !SIBLINGS_SHARE.contains(&stage_dir.unwrap()) {
                    problems.push(format!("{shown} uses its sibling {name}"));
                }
                continue;
            }
            if in_stage_file {
                continue; // an item of the stage's own mod.rs
            }
            match layer(&name) {
                Some(used) if used >= own && Some(name.as_str()) != stage_dir => {
                    problems.push(format!("{shown} (layer {own}) imports {name} (layer {used})"))
                }
                _ => {}
            }
        }
    }

    fn problems_in(root: &Path) -> Vec<String> {
        let mut problems = Vec::new();
        for &(module, own) in LAYERS {
            let file = root.join(format!("{module}.rs"));
            if file.is_file() {
                check_file(&file, own, None, &mut problems);
                continue;
            }
            for entry in std::fs::read_dir(root.join(module)).unwrap() {
                check_file(&entry.unwrap().path(), own, Some(module), &mut problems);
            }
        }
        problems
    }

    /// No import runs against the pipeline's direction, and no renderer uses another.
    #[test]
    fn imports_follow_the_pipeline() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bundle");
        let problems = problems_in(&root);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The check fires: a renderer reaching for a sibling and the model importing a renderer.
    #[test]
    fn a_backward_import_is_reported() {
        let root = tempfile::tempdir().unwrap();
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bundle");
        copy_dir(&real, root.path());
        let append = |file: &str, line: &str| {
            let path = root.path().join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("{line}\n{text}")).unwrap();
        };
        append("render/k8s.rs", "use super::grafana::render;");
        append("model.rs", "use crate::bundle::render::all;");
        let problems = problems_in(root.path()).join("\n");
        assert!(problems.contains("k8s.rs uses its sibling grafana"), "{problems}");
        assert!(
            problems.contains("model.rs (layer 7) imports render (layer 9)"),
            "{problems}"
        );
    }

    fn copy_dir(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                std::fs::create_dir_all(&target).unwrap();
                copy_dir(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
}
