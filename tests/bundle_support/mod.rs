//! Shared by the `bundle_*` tests: a temporary copy of the embedded specs to edit, and loading a
//! model from it.
#![allow(dead_code)] // each test binary uses its own subset

use std::fs;
use std::path::{Path, PathBuf};

use sockudo_obs::bundle::check::{self, Problem};
use sockudo_obs::bundle::{Model, Overrides, Source};

pub const ENVIRONMENTS: [&str; 4] = ["production", "staging", "development", "local"];
const SPEC_FOLDERS: [&str; 4] = ["environments", "alerts", "dashboards", "templates"];

/// A temporary copy of the repository's specs, profiles and templates.
pub struct Specs {
    dir: tempfile::TempDir,
}

impl Specs {
    pub fn copy() -> Specs {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for folder in SPEC_FOLDERS {
            let target = dir.path().join(folder);
            fs::create_dir_all(&target).unwrap();
            for entry in fs::read_dir(root.join(folder)).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_file() {
                    fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
                }
            }
        }
        Specs { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Replaces `from` (which must occur) with `to` in one file.
    pub fn replace(&self, relative: &str, from: &str, to: &str) -> &Specs {
        let path = self.path(relative);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{relative} does not contain {from:?}");
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
        self
    }

    /// Edits one alert of a spec file as a YAML mapping.
    pub fn edit_alert(
        &self,
        relative: &str,
        alert: &str,
        edit: impl FnOnce(&mut serde_norway::Mapping),
    ) -> &Specs {
        self.edit_yaml(relative, |doc| {
            let alerts = doc["alerts"].as_sequence_mut().expect("alerts list");
            let found = alerts
                .iter_mut()
                .find(|a| a["alert"].as_str() == Some(alert))
                .unwrap_or_else(|| panic!("{relative} has no alert {alert}"));
            edit(found.as_mapping_mut().unwrap());
        })
    }

    pub fn edit_yaml(&self, relative: &str, edit: impl FnOnce(&mut serde_norway::Value)) -> &Specs {
        let path = self.path(relative);
        let mut doc: serde_norway::Value =
            serde_norway::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut doc);
        fs::write(&path, serde_norway::to_string(&doc).unwrap()).unwrap();
        self
    }

    pub fn source(&self) -> Source {
        Source::Dir(self.dir.path().to_path_buf())
    }

    pub fn load(&self, env: &str) -> anyhow::Result<Model> {
        Model::load(&self.source(), env, &Overrides::default())
    }

    /// The problems `check` reports for `env`; the specs must load.
    pub fn problems(&self, env: &str) -> Vec<Problem> {
        let model = self.load(env).unwrap_or_else(|e| panic!("specs load: {e:#}"));
        check::run(&model).problems
    }

    /// The load error for `env`, as text.
    pub fn load_error(&self, env: &str) -> String {
        match self.load(env) {
            Ok(_) => panic!("expected {env} to fail to load"),
            Err(e) => format!("{e:#}"),
        }
    }
}

/// Asserts that some problem is about `file` and `item` and its message contains `needle`.
pub fn assert_problem(problems: &[Problem], file: &str, item: &str, needle: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.file == file && p.item == item && p.message.contains(needle)),
        "expected a problem in {file} / {item} containing {needle:?}; got:\n{}",
        problems.iter().map(|p| format!("  {p}\n")).collect::<String>()
    );
}
