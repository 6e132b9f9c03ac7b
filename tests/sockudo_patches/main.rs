//! The instrumented Sockudo build's patch series (`integrations/sockudo-5.2.0-patches/`), as
//! `scripts/sockudo-server.sh --check-patches` applies it to the pristine crates.io sources
//! (`cargo test --test sockudo_patches`).
//!
//! Needs those sources, which the script's first build fetches with `cargo vendor` into
//! `$SOCKUDO_OBS_CACHE/fetch/vendor` (default `~/.cache/sockudo-obs`); this test never fetches.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = "5.2.0";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn patch_dir() -> PathBuf {
    repo().join(format!("integrations/sockudo-{VERSION}-patches"))
}

/// The script's cache folder, or a panic saying how to fill it.
fn cache() -> PathBuf {
    let cache = match std::env::var_os("SOCKUDO_OBS_CACHE") {
        Some(cache) => PathBuf::from(cache),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/sockudo-obs"),
    };
    let vendored = cache.join(format!("fetch/vendor/sockudo-core-{VERSION}"));
    assert!(
        vendored.is_dir(),
        "no pristine Sockudo {VERSION} sources in {}: run ./scripts/sockudo-server.sh once (it \
         fetches them; scripts/test.sh does); this test never passes without them",
        vendored.display()
    );
    cache
}

fn check_patches(patches: &Path) -> Output {
    Command::new(repo().join("scripts/sockudo-server.sh"))
        .arg("--check-patches")
        .env("SOCKUDO_OBS_CACHE", cache())
        .env("SOCKUDO_OBS_PATCH_DIR", patches)
        .output()
        .expect("run scripts/sockudo-server.sh")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A copy of the series to damage.
fn copy_of_series() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(patch_dir()).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
    }
    copy
}

#[test]
fn the_shipped_series_applies_to_the_pristine_sources() {
    let output = check_patches(&patch_dir());
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("ok: every patch"), "{said}");
}

#[test]
fn a_patch_that_no_longer_applies_is_named_with_its_hunk() {
    let copy = copy_of_series();
    let name = "0002-core-channel-type-private-encrypted.patch";
    let path = copy.path().join(name);
    let patch = fs::read_to_string(&path).unwrap();
    // A context line of the patch's first hunk, as if Sockudo had changed that line.
    let context = "         match channel_name.split_once('-') {\n";
    assert!(
        patch.contains(context),
        "the patch's context line moved: update this test"
    );
    fs::write(
        &path,
        patch.replacen(context, "         match channel_name.rsplit_once('-') {\n", 1),
    )
    .unwrap();

    let output = check_patches(copy.path());
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("patch {name} no longer applies")),
        "{said}"
    );
    assert!(
        said.contains("sockudo-core-5.2.0/src/channel.rs: hunk #1 (@@ -16,6 +16,11 @@"),
        "names the file and the hunk: {said}"
    );
    assert!(
        !said.contains("applied 10 patches"),
        "nothing is applied past a failing patch: {said}"
    );
}

#[test]
fn a_patch_for_a_missing_file_is_named() {
    let copy = copy_of_series();
    let name = "0008-cache-metered-manager.patch";
    let path = copy.path().join(name);
    let patch = fs::read_to_string(&path).unwrap();
    let file = "sockudo-5.2.0/src/bootstrap/server.rs";
    assert!(
        patch.contains(file),
        "the patch no longer touches {file}: update this test"
    );
    fs::write(&path, patch.replace(file, "sockudo-5.2.0/src/bootstrap/gone.rs")).unwrap();

    let output = check_patches(copy.path());
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("patch {name} no longer applies")),
        "{said}"
    );
    assert!(said.contains("gone.rs"), "names the missing file: {said}");
}
