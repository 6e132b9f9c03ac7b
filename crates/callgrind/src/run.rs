//! Running a program under callgrind and asking the run for dumps by its PID, as the real-server
//! goal does (benches/goals/real_server.rs); tests/benchmarks runs one dump request end to end through this code.
//!
//! The tools come from the repository's `.tools/bin` (scripts/install-tools.sh) first, then from
//! PATH. Debian's `callgrind_control` finds a run only when the run's command line names
//! `valgrind.bin`, the binary Debian's `valgrind` wrapper execs as `"$0.bin"`; so
//! `.tools/bin/valgrind` is that wrapper, with `valgrind.bin` linked beside it. A `valgrind` that
//! links straight to `valgrind.bin` starts runs `callgrind_control` never sees: it then says so
//! and exits 0, and no dump is written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `name` from the repository's `.tools/bin`, else from PATH.
pub fn tool(name: &str) -> Option<PathBuf> {
    // The repository's root is two folders up from this crate.
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin");
    std::iter::once(installed)
        .chain(std::env::var_os("PATH").iter().flat_map(std::env::split_paths))
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn required(name: &str) -> Result<PathBuf, String> {
    tool(name).ok_or_else(|| {
        format!("{name} is not installed: run scripts/install-tools.sh (Debian's valgrind package)")
    })
}

/// `valgrind --tool=callgrind` running `program`, with each dump written to `<out>.<n>`; add the
/// program's arguments, then spawn it.
pub fn command(program: &Path, out: &Path) -> Result<Command, String> {
    let mut command = Command::new(required("valgrind")?);
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program);
    Ok(command)
}

/// `callgrind_control <option> <pid>`: `-z` zeroes the run's counters, `-d` dumps them. An error
/// when the command fails or does not see the run.
pub fn control(option: &str, pid: u32) -> Result<(), String> {
    let out = Command::new(required("callgrind_control")?)
        .args([option, &pid.to_string()])
        .output()
        .map_err(|e| format!("callgrind_control: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // It names each run it reaches "PID <pid>: <command line>", and exits 0 also when it finds none.
    if out.status.success() && stdout.contains(&format!("PID {pid}: ")) {
        return Ok(());
    }
    Err(format!(
        "callgrind_control {option} {pid} does not reach the run (it sees only runs whose command line names valgrind.bin: is {} Debian's wrapper with valgrind.bin beside it? scripts/install-tools.sh links both): {} {}",
        required("valgrind")?.display(),
        stdout.trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

/// The run's latest dump: the non-empty `<out>.<n>` with the highest `n`.
pub fn latest_dump(out: &Path) -> Result<PathBuf, String> {
    let dir = out.parent().unwrap_or(Path::new("."));
    let prefix = format!("{}.", out.file_name().unwrap_or_default().to_string_lossy());
    fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|entry| entry.metadata().is_ok_and(|m| m.len() > 0))
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let n: u64 = name.strip_prefix(&prefix)?.parse().ok()?;
            Some((n, entry.path()))
        })
        .max()
        .map(|(_, path)| path)
        .ok_or_else(|| format!("callgrind wrote no dump {}<n>", dir.join(&prefix).display()))
}
