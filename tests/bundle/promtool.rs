//! The real validators on every environment's bundle, with the 2.x and the 3.x Prometheus tools:
//! `promtool check config`, `promtool check rules`, `promtool test rules` (the alert fixtures) and
//! `amtool check-config`. The tools are
//! looked up on PATH (CI prepends `.tools/bin`); a missing tool fails the test with the way to
//! install it. The checks are `scripts/validate-bundle.sh`'s ([`validate`]), the test command's.

use crate::support::tools;
use crate::support::validate;

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::specs::environments;

const INSTALL_HINT: &str = "run scripts/install-tools.sh and put .tools/bin on PATH \
     (promtool must be 2.5x, as in Debian trixie: bookworm's 2.42 has no kubernetes_sd_configs)";

/// promtool 2.5x or later: older ones reject `kubernetes_sd_configs` in `check config`.
fn assert_modern_promtool(promtool: &Path) {
    let output = Command::new(promtool).arg("--version").output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let minor = text
        .split("version 2.")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .and_then(|minor| minor.parse::<u32>().ok());
    let modern = text.contains("version 3.") || minor.is_some_and(|m| m >= 50);
    assert!(
        modern,
        "{} is too old ({}): {INSTALL_HINT}",
        promtool.display(),
        text.lines().next().unwrap_or("")
    );
}

/// Both Prometheus generations: 2.x (`promtool`, `amtool`) and 3.x (`promtool3`, `amtool3`, from
/// Debian's unstable suite), so a bundle that only one of them accepts fails.
const GENERATIONS: [(&str, &str, &str); 2] = [("2", "promtool", "amtool"), ("3", "promtool3", "amtool3")];

fn version_line(program: &Path) -> String {
    let output = Command::new(program).arg("--version").output().unwrap();
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    text.lines().next().unwrap_or("").to_string()
}

#[test]
fn promtool_and_amtool_accept_every_environment() {
    for (major, promtool, amtool) in GENERATIONS {
        let promtool = tools::require(promtool);
        tools::require(amtool);
        assert_modern_promtool(&promtool);
        let line = version_line(&promtool);
        assert!(
            line.contains(&format!("version {major}.")),
            "{} is not Prometheus {major}: {line}",
            promtool.display()
        );
    }
    check_every_environment();
}

/// The script runs each check with both generations' tools (its `PROMTOOLS` and `AMTOOLS`).
fn check_every_environment() {
    for env in environments() {
        let bundle = validate::build(&env);
        let tests = fs::read_dir(bundle.path().join("prometheus/tests")).map_or(0, Iterator::count);
        assert!(tests > 0, "{env}: no promtool tests rendered");
        validate::assert_passes(&["prometheus", "alertmanager"], bundle.path(), None);
    }
}
