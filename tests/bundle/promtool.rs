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

/// The paging policy: pages (critical) for what users feel and for the whole job being gone;
/// tickets (warning) for one instance down or flapping, metrics absent and a lost discovery path.
const POLICY: [(&str, &str); 10] = [
    ("SockudoJobAbsent", "critical"),
    ("SockudoHighErrorRate", "critical"),
    ("SockudoEndpointErrors", "critical"),
    ("SockudoHighLatency", "critical"),
    ("SockudoConnectionErrors", "critical"),
    ("SockudoQueueBacklog", "critical"),
    ("SockudoInstanceDown", "warning"),
    ("SockudoInstanceFlapping", "warning"),
    ("SockudoMetricsAbsent", "warning"),
    ("SockudoDiscoveryLost", "warning"),
];

/// Rewrites the bundle's promtool tests to keep only the firing fixtures of `policy`'s alerts,
/// each expecting the policy's severity, into `<stem>_policy_test.yml` beside them; returns the
/// files written.
fn policy_tests(bundle: &Path, policy: &[(&str, &str)]) -> Vec<std::path::PathBuf> {
    let dir = bundle.join("prometheus/tests");
    let mut written = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    let mut entries: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let mut file: serde_norway::Value =
            serde_norway::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let groups = file["tests"].as_sequence_mut().unwrap();
        groups.retain_mut(|group| {
            let name = group["name"].as_str().unwrap_or_default().to_string();
            let Some((_, severity)) = policy
                .iter()
                .find(|(alert, _)| name.starts_with(&format!("{alert}: ")))
            else {
                return false;
            };
            let tests = group["alert_rule_test"].as_sequence_mut().unwrap();
            let first = &mut tests[0];
            let firing = first["exp_alerts"].as_sequence_mut().unwrap();
            if firing.is_empty() {
                return false;
            }
            for alert in firing {
                alert["exp_labels"]["severity"] = (*severity).into();
            }
            covered.insert(name.split(": ").next().unwrap().to_string());
            tests.truncate(1);
            true
        });
        if groups.is_empty() {
            continue;
        }
        let stem = path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches("_test.yml");
        let out = dir.join(format!("{stem}_policy_test.yml"));
        fs::write(&out, serde_norway::to_string(&file).unwrap()).unwrap();
        written.push(out);
    }
    let missing: Vec<&str> = policy
        .iter()
        .map(|(alert, _)| *alert)
        .filter(|alert| !covered.contains(*alert))
        .collect();
    assert!(missing.is_empty(), "no firing fixture for {missing:?}");
    written
}

/// `promtool test rules` on `files` with each generation's promtool.
fn promtool_test_rules(files: &[std::path::PathBuf]) -> Result<(), String> {
    for (_, promtool, _) in GENERATIONS {
        let output = Command::new(tools::require(promtool))
            .args(["test", "rules"])
            .args(files)
            .output()
            .unwrap();
        if !output.status.success() {
            return Err(format!(
                "{promtool} test rules: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

/// Every alert of the policy fires under promtool with the policy's severity, in every
/// environment; rules graded otherwise fail promtool (the seed's inverted grades did).
#[test]
fn alerts_fire_with_the_paging_policys_severity() {
    for env in environments() {
        let bundle = validate::build(&env);
        let files = policy_tests(bundle.path(), &POLICY);
        promtool_test_rules(&files).unwrap_or_else(|e| panic!("{env}: {e}"));
    }
}
