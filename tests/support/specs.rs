//! The specs as the artifact, bundle and deploy tests change them: a writable copy of the embedded specs, edits to
//! it, and loading, checking or building an environment from it.

use std::fs;
use std::path::{Path, PathBuf};

use sockudo_obs::bundle::check::{self, Problem};
use sockudo_obs::bundle::{Folder, SpecSource};
use sockudo_obs::bundle::{Model, Overrides};

const FOLDERS: [Folder; 5] = [
    Folder::Environments,
    Folder::Alerts,
    Folder::Dashboards,
    Folder::Templates,
    Folder::Slos,
];

/// A temporary directory holding a copy of every embedded spec, profile and template, for a
/// test to change before pointing `SpecSource::Dir` (`--specs`) at it.
pub fn specs_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for folder in FOLDERS {
        fs::create_dir_all(dir.path().join(folder.name())).unwrap();
        for file in SpecSource::Embedded.files(folder, &[""]).unwrap() {
            fs::write(dir.path().join(&file.path), &file.text).unwrap();
        }
    }
    dir
}

/// The shipped environments.
pub fn environments() -> Vec<String> {
    SpecSource::Embedded.environments().unwrap()
}

pub fn load(specs: &Path, env: &str) -> sockudo_obs::Result<Model> {
    Model::load(&SpecSource::Dir(specs.to_path_buf()), env, &Overrides::default())
}

/// Reads a profile of the copy as a YAML value, for a test to change and write back.
pub fn read_profile(specs: &Path, env: &str) -> serde_norway::Value {
    let text = fs::read_to_string(specs.join(format!("environments/{env}.yaml"))).unwrap();
    serde_norway::from_str(&text).unwrap()
}

pub fn write_profile(specs: &Path, env: &str, profile: &serde_norway::Value) {
    fs::write(
        specs.join(format!("environments/{env}.yaml")),
        serde_norway::to_string(profile).unwrap(),
    )
    .unwrap();
}

/// Sets `value` at the dotted `path` of a YAML mapping. Every key but the last must exist; the
/// last is added when missing (an optional key), and the profile's unknown-key check still
/// rejects a misspelt one.
pub fn set(profile: &mut serde_norway::Value, path: &str, value: impl Into<serde_norway::Value>) {
    let (parents, leaf) = path.rsplit_once('.').map_or(("", path), |(p, l)| (p, l));
    let mut node = profile;
    for key in parents.split('.').filter(|k| !k.is_empty()) {
        node = node
            .get_mut(key)
            .unwrap_or_else(|| panic!("profile has no {path}"));
    }
    let map = node
        .as_mapping_mut()
        .unwrap_or_else(|| panic!("profile's {parents} is not a mapping"));
    map.insert(leaf.into(), value.into());
}

/// The text of one rendered file.
pub fn text(output: &sockudo_obs::bundle::Output, path: &str) -> String {
    let bytes = output
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not rendered"));
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A temporary copy of the repository's specs, profiles and templates.
pub struct Specs {
    dir: tempfile::TempDir,
}

impl Specs {
    pub fn copy() -> Specs {
        Specs { dir: specs_copy() }
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

    pub fn source(&self) -> SpecSource {
        SpecSource::Dir(self.dir.path().to_path_buf())
    }

    pub fn load(&self, env: &str) -> sockudo_obs::Result<Model> {
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

/// Renders `env` into `root/generated/<env>` and copies the repository's overlay `k8s/<env>`
/// (every file of it) to `root/k8s/<env>`, so the overlay builds on a fresh bundle. Returns the
/// overlay's copy.
pub fn overlay_on_fresh_bundle(root: &Path, env: &str) -> PathBuf {
    let output = sockudo_obs::bundle::build(&SpecSource::Embedded, env, &Overrides::default())
        .unwrap_or_else(|e| panic!("{env}: {e:#}"));
    output
        .write_atomically(&root.join("generated").join(env))
        .unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("k8s").join(env);
    let overlay = root.join("k8s").join(env);
    fs::create_dir_all(&overlay).unwrap();
    for entry in fs::read_dir(&repo).unwrap_or_else(|e| panic!("{}: {e}", repo.display())) {
        let entry = entry.unwrap();
        fs::copy(entry.path(), overlay.join(entry.file_name())).unwrap();
    }
    overlay
}

/// `kubectl kustomize DIR`, parsed: one JSON value per object.
pub fn kustomize(dir: &Path) -> Vec<serde_json::Value> {
    let built = std::process::Command::new(super::tools::require("kubectl"))
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        built.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    serde_norway::Deserializer::from_slice(&built.stdout)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect()
}
