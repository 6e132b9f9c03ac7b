//! Finding the real tools the tests run. `scripts/test.sh` (and so CI) puts `.tools/bin`, filled
//! by `scripts/install-tools.sh`, first on PATH; the repository's `.tools/bin` is also looked in,
//! for a plain `cargo test`. A missing tool is a failure that says how to install it, never a skip.
#![allow(dead_code)] // each test binary uses what it needs

use std::path::{Path, PathBuf};

/// The full path of `name`, or an error naming it and the installer.
pub fn find(name: &str) -> Result<PathBuf, String> {
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin");
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain([local])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "`{name}` is not installed: run scripts/install-tools.sh and put .tools/bin on PATH \
                 (`source scripts/env.sh`); this test never passes without it"
            )
        })
}

/// The full path of `name`; panics with [`find`]'s message when it is missing.
pub fn require(name: &str) -> PathBuf {
    find(name).unwrap_or_else(|message| panic!("{message}"))
}
