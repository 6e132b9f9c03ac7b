//! The real validators on every environment's bundle, with the 2.x and the 3.x Prometheus tools:
//! `promtool check config`, `promtool check rules`, `promtool test rules` (the alert fixtures) and
//! `amtool check-config`. The tools are
//! looked up on PATH (CI prepends `.tools/bin`); a missing tool fails the test with the way to
//! install it.

mod common;
mod tools;

use std::path::Path;
use std::process::Command;

use common::environments;
use sockudo_obs::bundle::{self, Overrides, SpecSource as Source};

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

fn run(dir: &Path, program: &Path, args: &[&str]) {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {} failed in {}:\n{}\n{}",
        program.display(),
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
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
        let amtool = tools::require(amtool);
        assert_modern_promtool(&promtool);
        let line = version_line(&promtool);
        assert!(
            line.contains(&format!("version {major}.")),
            "{} is not Prometheus {major}: {line}",
            promtool.display()
        );
        check_every_environment(&promtool, &amtool);
    }
}

fn check_every_environment(promtool: &Path, amtool: &Path) {
    for env in environments() {
        let out = bundle::build(&Source::Embedded, &env, &Overrides::default()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join(&env);
        out.write_atomically(&root).unwrap();
        let prometheus = root.join("prometheus");

        run(&prometheus, promtool, &["check", "config", "prometheus.yml"]);

        let rules: Vec<String> = files_in(&prometheus.join("rules"))
            .into_iter()
            .map(|f| format!("rules/{f}"))
            .collect();
        let mut args = vec!["check", "rules"];
        args.extend(rules.iter().map(String::as_str));
        run(&prometheus, promtool, &args);

        let tests: Vec<String> = files_in(&prometheus.join("tests"))
            .into_iter()
            .map(|f| format!("tests/{f}"))
            .collect();
        assert!(!tests.is_empty(), "{env}: no promtool tests rendered");
        let mut args = vec!["test", "rules"];
        args.extend(tests.iter().map(String::as_str));
        run(&prometheus, promtool, &args);

        run(&root, amtool, &["check-config", "alertmanager/alertmanager.yml"]);
    }
}
