//! The bundle validators have one implementation, `scripts/validate-bundle.sh`: the test command
//! runs all of it on every shipped environment's bundle, and the tests run single validators of it
//! (`--only NAME,...`) on bundles they build, change or break.

use std::path::{Path, PathBuf};
use std::process::Command;

use sockudo_obs::bundle::{self, Overrides, SpecSource};
use tempfile::TempDir;

/// What one run of the script said.
pub struct Run {
    pub success: bool,
    /// stdout and stderr together: the `ok:`/`absent:`/`note:` lines and any failure.
    pub output: String,
}

/// `scripts/validate-bundle.sh --only <only> BUNDLE [OVERLAY]`.
pub fn run(only: &[&str], bundle: &Path, overlay: Option<&Path>) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-bundle.sh");
    let mut command = Command::new(&script);
    if !only.is_empty() {
        command.arg("--only").arg(only.join(","));
    }
    command.arg(bundle).args(overlay);
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    Run {
        success: output.status.success(),
        output: String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    }
}

/// [`run`], which must pass; returns its output.
pub fn assert_passes(only: &[&str], bundle: &Path, overlay: Option<&Path>) -> String {
    let run = run(only, bundle, overlay);
    assert!(
        run.success,
        "validate-bundle.sh --only {} {} failed:\n{}",
        only.join(","),
        bundle.display(),
        run.output
    );
    run.output
}

/// [`run`], which must fail with `tool` rejecting `file`; returns its output.
pub fn assert_rejects(only: &[&str], bundle: &Path, tool: &str, file: &str) -> String {
    let run = run(only, bundle, None);
    let verdict = format!("FAIL: {tool} rejected {file}");
    assert!(
        !run.success && run.output.contains(&verdict),
        "expected validate-bundle.sh --only {} to say {verdict:?}; it said:\n{}",
        only.join(","),
        run.output
    );
    run.output
}

/// A bundle written to a temporary directory, removed when it drops.
pub struct Built {
    _dir: TempDir,
    path: PathBuf,
}

impl Built {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `env`'s bundle from the embedded specs, written to a temporary directory.
pub fn build(env: &str) -> Built {
    let output = bundle::build(&SpecSource::Embedded, env, &Overrides::default())
        .unwrap_or_else(|e| panic!("{env}: {e:#}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(env);
    output.write_atomically(&path).unwrap();
    Built { _dir: dir, path }
}
