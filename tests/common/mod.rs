//! Helpers the artifact tests share: a writable copy of the embedded specs, and loading or
//! building an environment from it.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

use sockudo_obs::bundle::source::{Folder, Source};
use sockudo_obs::bundle::{Model, Overrides};

const FOLDERS: [Folder; 4] = [
    Folder::Environments,
    Folder::Alerts,
    Folder::Dashboards,
    Folder::Templates,
];

/// A temporary directory holding a copy of every embedded spec, profile and template, for a
/// test to change before pointing `Source::Dir` (`--specs`) at it.
pub fn specs_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for folder in FOLDERS {
        fs::create_dir_all(dir.path().join(folder.name())).unwrap();
        for file in Source::Embedded.files(folder, &[""]).unwrap() {
            fs::write(dir.path().join(&file.path), &file.text).unwrap();
        }
    }
    dir
}

/// The shipped environments.
pub fn environments() -> Vec<String> {
    Source::Embedded.environments().unwrap()
}

pub fn load(specs: &Path, env: &str) -> anyhow::Result<Model> {
    Model::load(&Source::Dir(specs.to_path_buf()), env, &Overrides::default())
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

/// Sets `value` at the dotted `path` of a YAML mapping.
pub fn set(profile: &mut serde_norway::Value, path: &str, value: impl Into<serde_norway::Value>) {
    let mut node = profile;
    for key in path.split('.') {
        node = node
            .get_mut(key)
            .unwrap_or_else(|| panic!("profile has no {path}"));
    }
    *node = value.into();
}

/// The text of one rendered file.
pub fn text(output: &sockudo_obs::bundle::Output, path: &str) -> String {
    let bytes = output
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not rendered"));
    String::from_utf8(bytes.to_vec()).unwrap()
}
