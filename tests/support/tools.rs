//! Finding the real tools the tests run. `scripts/test.sh` (and so CI) puts `.tools/bin`, filled
//! by `scripts/install-tools.sh`, first on PATH; the repository's `.tools/bin` is also looked in,
//! for a plain `cargo test`. A missing tool is a failure that says how to install it, never a skip.

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

/// `promtool check metrics` on an exposition: whether it passed, and each line it printed.
pub fn promtool_check_metrics(exposition: &str) -> (bool, Vec<String>) {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let mut child = Command::new(require("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let complaints = [output.stdout, output.stderr]
        .iter()
        .flat_map(|out| {
            String::from_utf8_lossy(out)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|line| !line.trim().is_empty())
        .collect();
    (output.status.success(), complaints)
}
