//! The layer tables inside a crate, which the compiler does not hold (between crates it does:
//! `Cargo.toml` lists what each crate may use). Each crate's docs show its table; these tests
//! read every file and hold it to it.

use std::path::{Path, PathBuf};

use crate::support::layering::{imported_in, imported_modules};

/// A workspace crate's `src` folder.
fn crate_src(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(name)
        .join("src")
}

/// The modules of its own crate that a top-level file imports, through `super::` or `crate::`.
fn crate_imports(path: &Path) -> Vec<String> {
    ["super::", "crate::"]
        .into_iter()
        .flat_map(|prefix| imported_modules(path, prefix))
        .collect()
}

/// Each `sockudo-obs-live` module's layer, as in the table of its crate docs; `(file, layer)`.
const LIVE_LAYERS: &[(&str, usize)] = &[
    ("sync", 0),
    ("text", 1),
    ("store", 1),
    ("table", 1),
    ("labels", 1),
    ("limits", 1),
    ("family", 2),
    ("counter", 3),
    ("gauge", 3),
    ("histogram", 3),
    ("collector", 3),
    ("registration", 4),
    ("exposition", 4),
    ("resolve", 4),
    ("app", 5),
    ("http", 5),
    ("queue", 5),
    ("cache", 5),
    ("adapter", 5),
    ("lib", 6),
    ("http_layer", 7),
    ("exporter/mod", 7),
    ("exporter/admission", 7),
    ("exporter/routes", 7),
];

/// The layer of an imported module: a folder module's is its `mod.rs`'s.
fn live_layer(module: &str) -> Option<usize> {
    LIVE_LAYERS
        .iter()
        .find(|(file, _)| *file == module || file.strip_suffix("/mod") == Some(module))
        .map(|&(_, layer)| layer)
}

/// Every import in the live crate's sources under `root` that points at its own layer or
/// below (outside tests).
fn live_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for &(file, own) in LIVE_LAYERS {
        for name in crate_imports(&root.join(format!("{file}.rs"))) {
            if let Some(used) = live_layer(&name) {
                if used >= own {
                    problems.push(format!("{file} (layer {own}) imports {name} (layer {used})"));
                }
            }
        }
    }
    problems
}

/// No live module imports a sibling of its own layer or above, so the imports form no circle.
#[test]
fn live_modules_import_only_from_lower_layers() {
    let problems = live_problems(&crate_src("live"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check fires, on a grouped import too: the counter store reaching up for the exporter.
#[test]
fn a_live_import_against_the_layers_is_reported() {
    let root = crate_copy("live");
    prepend(
        &root.path().join("store.rs"),
        "use super::{sync::AtomicU64, exporter::Exporter};",
    );
    let problems = live_problems(root.path()).join("\n");
    assert!(
        problems.contains("store (layer 1) imports exporter (layer 7)"),
        "{problems}"
    );
}

/// A group's items each name their first segment; a nested group belongs to its item.
#[test]
fn grouped_imports_name_each_module() {
    let source =
        "use super::{store::{Block, Shard}, family, text::write};\nlet x = crate::table::Table::new();\n";
    assert_eq!(imported_in(source, "super::"), ["store", "family", "text"]);
    assert_eq!(imported_in(source, "crate::"), ["table"]);
}

/// Each `sockudo-obs-model` module's place in the pipeline, as in the layer table of its crate
/// docs; a module imports only from lower numbers (within the load row, in the order it derives
/// things). Verify and render are crates of their own above it, so the compiler keeps the model
/// from reaching them.
const MODEL_LAYERS: &[(&str, usize)] = &[
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
    ("lib", 8),
];

/// Folder modules whose files may share their siblings' code.
const MODEL_SIBLINGS_SHARE: &[&str] = &["documents"];

fn model_layer(module: &str) -> Option<usize> {
    MODEL_LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|&(_, layer)| layer)
}

fn check_model_file(path: &Path, own: usize, stage_dir: Option<&str>, problems: &mut Vec<String>) {
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
    for name in imported_modules(path, "crate::") {
        match model_layer(&name) {
            Some(used) if used >= own && Some(name.as_str()) != stage_dir => {
                problems.push(format!("{shown} (layer {own}) imports {name} (layer {used})"))
            }
            _ => {}
        }
    }
    for name in imported_modules(path, "super::") {
        if in_stage_file && siblings.contains(&name) {
            if !MODEL_SIBLINGS_SHARE.contains(&stage_dir.unwrap()) {
                problems.push(format!("{shown} uses its sibling {name}"));
            }
            continue;
        }
        if in_stage_file {
            continue; // an item of the stage's own mod.rs
        }
        match model_layer(&name) {
            Some(used) if used >= own && Some(name.as_str()) != stage_dir => {
                problems.push(format!("{shown} (layer {own}) imports {name} (layer {used})"))
            }
            _ => {}
        }
    }
}

fn model_problems(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for &(module, own) in MODEL_LAYERS {
        let file = root.join(format!("{module}.rs"));
        if file.is_file() {
            check_model_file(&file, own, None, &mut problems);
            continue;
        }
        for entry in std::fs::read_dir(root.join(module)).unwrap() {
            check_model_file(&entry.unwrap().path(), own, Some(module), &mut problems);
        }
    }
    problems
}

/// No import in the model crate runs against the pipeline's direction.
#[test]
fn model_imports_follow_the_pipeline() {
    let problems = model_problems(&crate_src("model"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check fires: the shared paths reaching up for the model they are part of.
#[test]
fn a_backward_model_import_is_reported() {
    let root = crate_copy("model");
    prepend(&root.path().join("layout.rs"), "use crate::model::Model;");
    let problems = model_problems(root.path()).join("\n");
    assert!(
        problems.contains("layout.rs (layer 0) imports model (layer 7)"),
        "{problems}"
    );
}

/// Every renderer in `sockudo-obs-render` that imports another renderer; the crate root and the
/// shared template helper are not renderers.
fn renderer_problems(root: &Path) -> Vec<String> {
    let not_renderers = ["lib", "templates"];
    let renderers: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| {
            entry
                .unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !not_renderers.contains(&name.as_str()))
        .collect();
    let mut problems = Vec::new();
    for renderer in &renderers {
        for name in crate_imports(&root.join(format!("{renderer}.rs"))) {
            if renderers.contains(&name) && &name != renderer {
                problems.push(format!("{renderer}.rs uses its sibling {name}"));
            }
        }
    }
    problems
}

/// No renderer calls another or reads its output: each reads the model alone.
#[test]
fn no_renderer_uses_another() {
    let problems = renderer_problems(&crate_src("render"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check fires, through either path: a renderer reaching for a sibling.
#[test]
fn a_renderer_using_another_is_reported() {
    let root = crate_copy("render");
    prepend(&root.path().join("k8s.rs"), "use super::grafana::render;");
    prepend(&root.path().join("nginx.rs"), "use crate::{compose, templates};");
    let problems = renderer_problems(root.path()).join("\n");
    assert!(problems.contains("k8s.rs uses its sibling grafana"), "{problems}");
    assert!(
        problems.contains("nginx.rs uses its sibling compose"),
        "{problems}"
    );
    assert!(!problems.contains("templates"), "{problems}");
}

/// A copy of a workspace crate's `src` folder, for a test to break.
fn crate_copy(name: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    copy_dir(&crate_src(name), root.path());
    root
}

/// Puts `line` atop the file at `path`.
fn prepend(path: &Path, line: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{line}\n{text}")).unwrap();
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
