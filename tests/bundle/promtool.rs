//! The real validators on every environment's bundle, with the 2.x and the 3.x Prometheus tools:
//! `promtool check config`, `promtool check rules`, `promtool test rules` (the alert fixtures) and
//! `amtool check-config`. The tools are
//! looked up on PATH (CI prepends `.tools/bin`); a missing tool fails the test with the way to
//! install it. The checks are `scripts/validate-bundle.sh`'s ([`validate`]), the test command's.

use crate::support::tools;
use crate::support::validate;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::specs::{environments, read_profile, set, write_profile, Specs};
use sockudo_obs::bundle::{self, Overrides};

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

/// `env`'s bundle from `specs` (a copy the test edited), written to a temporary directory that
/// lives as long as the returned guard.
fn write_bundle(specs: &Specs, env: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let out = bundle::build(&specs.source(), env, &Overrides::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(env);
    out.write_atomically(&path).unwrap();
    (dir, path)
}

/// The `local` bundle, its profile first edited by `edit`, written to a temporary directory
/// that lives as long as the returned guard.
fn local_bundle_with(edit: impl FnOnce(&mut serde_norway::Value)) -> (tempfile::TempDir, std::path::PathBuf) {
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = read_profile(&root, "local");
    edit(&mut profile);
    write_profile(&root, "local", &profile);
    write_bundle(&specs, "local")
}

/// `promtool test rules` on `files` with each generation's promtool.
pub(crate) fn promtool_test_rules(files: &[std::path::PathBuf]) -> Result<(), String> {
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
/// environment that renders it (a build that cannot feed an alert's family leaves it out), and
/// each in one environment at least; rules graded otherwise fail promtool (the seed's inverted
/// grades did).
#[test]
fn alerts_fire_with_the_paging_policys_severity() {
    let mut rendered_somewhere = BTreeSet::new();
    for env in environments() {
        let model = bundle::Model::load(&bundle::SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let policy: Vec<(&str, &str)> = POLICY
            .into_iter()
            .filter(|(alert, _)| !model.left_out.contains(*alert))
            .collect();
        rendered_somewhere.extend(policy.iter().map(|(alert, _)| *alert));
        let bundle = validate::build(&env);
        let files = policy_tests(bundle.path(), &policy);
        promtool_test_rules(&files).unwrap_or_else(|e| panic!("{env}: {e}"));
    }
    let nowhere: Vec<&str> = POLICY
        .iter()
        .map(|(alert, _)| *alert)
        .filter(|alert| !rendered_somewhere.contains(alert))
        .collect();
    assert!(nowhere.is_empty(), "no environment renders {nowhere:?}");
}

/// A profile that makes SockudoHighErrorRate a ticket and turns SockudoInstanceDown off: the
/// rendered rules carry the new severity and lack the disabled alert, as do the promtool tests
/// (SockudoInstanceFlapping's fixture no longer expects it quiet) and the runbook, and promtool
/// of both generations passes the bundle's own tests and sees the alert fire as a warning.
#[test]
fn a_profile_regrades_and_disables_alerts() {
    let (_dir, path) = local_bundle_with(|profile| {
        set(profile, "alerts.SockudoHighErrorRate.severity", "warning");
        set(profile, "alerts.SockudoInstanceDown.enabled", false);
    });

    let rules = |stem: &str| -> Vec<serde_norway::Value> {
        let file: serde_norway::Value = serde_norway::from_str(
            &fs::read_to_string(path.join(format!("prometheus/rules/{stem}.yml"))).unwrap(),
        )
        .unwrap();
        file["groups"][0]["rules"].as_sequence().unwrap().clone()
    };
    let http = rules("http");
    let error_rate = http
        .iter()
        .find(|r| r["alert"] == "SockudoHighErrorRate")
        .expect("SockudoHighErrorRate is rendered");
    assert_eq!(error_rate["labels"]["severity"], "warning");
    let availability = rules("availability");
    assert!(availability.iter().any(|r| r["alert"] == "SockudoJobAbsent"));
    assert!(
        !availability.iter().any(|r| r["alert"] == "SockudoInstanceDown"),
        "a disabled alert is rendered: {availability:?}"
    );
    let tests = fs::read_to_string(path.join("prometheus/tests/availability_test.yml")).unwrap();
    let tests: serde_norway::Value = serde_norway::from_str(&tests).unwrap();
    let alertnames: Vec<&str> = tests["tests"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|g| g["alert_rule_test"].as_sequence().unwrap())
        .filter_map(|t| t["alertname"].as_str())
        .collect();
    assert!(
        !alertnames.contains(&"SockudoInstanceDown") && alertnames.contains(&"SockudoInstanceFlapping"),
        "{alertnames:?}"
    );
    let runbook = fs::read_to_string(path.join("RUNBOOK.md")).unwrap();
    assert!(
        !runbook.contains("## SockudoInstanceDown"),
        "the runbook keeps a disabled alert's section"
    );
    assert!(runbook.contains("## SockudoJobAbsent"));

    validate::assert_passes(&["prometheus"], &path, None);
    let files = policy_tests(&path, &[("SockudoHighErrorRate", "warning")]);
    promtool_test_rules(&files).unwrap_or_else(|e| panic!("{e}"));
}

/// On a build that cannot feed a family (`server: sockudo-5.2.0`, the drop-in on one node: no
/// queue, no HTTP status), the alerts over it are left out, as are the recording rules only they
/// read; a recording rule a panel reads stays. promtool of both generations passes the bundle's
/// own tests (no fixture expects a left-out alert).
#[test]
fn alerts_over_unfed_families_are_left_out_with_their_recording_rules() {
    let (_dir, path) = local_bundle_with(|profile| set(profile, "server", "sockudo-5.2.0"));

    let mut alerts = BTreeSet::new();
    let mut records = BTreeSet::new();
    for entry in fs::read_dir(path.join("prometheus/rules")).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        let file: serde_norway::Value = serde_norway::from_str(&text).unwrap();
        for rule in file["groups"][0]["rules"].as_sequence().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                alerts.insert(name.to_string());
            }
            if let Some(name) = rule["record"].as_str() {
                records.insert(name.to_string());
            }
        }
    }
    for left_out in [
        "SockudoQueueBacklog",
        "SockudoHighErrorRate",
        "SockudoEndpointErrors",
    ] {
        assert!(!alerts.contains(left_out), "{left_out} is rendered: {alerts:?}");
    }
    for kept in [
        "SockudoHighConnections",
        "SockudoInstanceDown",
        "SockudoHighLatency",
    ] {
        assert!(alerts.contains(kept), "{kept} is left out: {alerts:?}");
    }
    // Read by SockudoEndpointErrors only, so it goes; the error ratio per instance stays, as the
    // panel "Error ratio the alert sees" reads it.
    assert!(
        !records.contains("job_endpoint:sockudo_http_requests_5xx:ratio_rate15m"),
        "{records:?}"
    );
    assert!(
        records.contains("job_instance:sockudo_http_requests_5xx:ratio_rate5m"),
        "{records:?}"
    );
    validate::assert_passes(&["prometheus"], &path, None);
}

/// An unknown alert name or severity in the profile is an error naming the key and the file.
#[test]
fn a_profile_override_of_an_unknown_alert_or_severity_is_refused() {
    for (alert, key, value, needle) in [
        (
            "SockudoNoSuchAlert",
            "enabled",
            serde_norway::Value::from(false),
            "alerts.SockudoNoSuchAlert",
        ),
        (
            "SockudoHighErrorRate",
            "severity",
            "page".into(),
            "alerts.SockudoHighErrorRate.severity",
        ),
    ] {
        let specs = Specs::copy();
        let root = specs.path("");
        let mut profile = read_profile(&root, "staging");
        let mut over = serde_norway::Mapping::new();
        over.insert(key.into(), value);
        profile["alerts"]
            .as_mapping_mut()
            .expect("staging overrides alerts")
            .insert(alert.into(), over.into());
        write_profile(&root, "staging", &profile);
        let error = specs.load_error("staging");
        assert!(
            error.contains("environments/staging.yaml") && error.contains(needle),
            "{alert}.{key}: {error}"
        );
    }
}

/// The generated fixtures whose name says the routing labels arrive on the alert, from every test
/// file of `bundle`: (alert, expected label sets).
fn routing_fixtures(bundle: &Path) -> Vec<(String, Vec<serde_norway::Value>)> {
    let mut found = Vec::new();
    for entry in fs::read_dir(bundle.join("prometheus/tests")).unwrap() {
        let file: serde_norway::Value =
            serde_norway::from_str(&fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        for group in file["tests"].as_sequence().unwrap() {
            let name = group["name"].as_str().unwrap();
            if !name.ends_with("arriving on the alert)") {
                continue;
            }
            let first = &group["alert_rule_test"][0];
            let labels = first["exp_alerts"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| a["exp_labels"].clone())
                .collect();
            found.push((first["alertname"].as_str().unwrap().to_string(), labels));
        }
    }
    found
}

/// Labels that route: in production (cluster `production`, namespace `sockudo`), every alert of
/// the spec files has a fixture whose input carries cluster, namespace and pod, and whose alerts
/// must carry them (the pod where the alert is about one instance). promtool of both generations
/// passes them; a recording rule edited to aggregate the routing labels away fails them.
#[test]
fn routing_labels_arrive_on_every_alert_and_dropping_one_fails_promtool() {
    let bundle = validate::build("production");
    let fixtures = routing_fixtures(bundle.path());
    let model = Specs::copy().load("production").unwrap();
    let spec_alerts: Vec<&str> = model
        .rules
        .files
        .iter()
        .filter(|f| f.path.starts_with("alerts/"))
        .flat_map(|f| f.alerts.iter())
        .filter(|a| {
            a.tests
                .iter()
                .any(|t| !t.fires.is_empty() && !t.input_series.is_empty())
        })
        .map(|a| a.name.as_str())
        .collect();
    assert!(spec_alerts.len() >= 15, "{spec_alerts:?}");
    for alert in &spec_alerts {
        let (_, labels) = fixtures
            .iter()
            .find(|(name, _)| name == alert)
            .unwrap_or_else(|| panic!("{alert}: no routing fixture"));
        for set in labels {
            assert_eq!(set["cluster"], "production", "{alert}: {set:?}");
            assert_eq!(set["namespace"], "sockudo", "{alert}: {set:?}");
            if set.get("instance").is_some() {
                assert!(set["pod"].as_str().is_some(), "{alert} names no pod: {set:?}");
            }
        }
    }
    validate::assert_passes(&["prometheus"], bundle.path(), None);

    // The error-rate rule summed by job and instance only, as before: its fixture fails.
    let rules_path = bundle.path().join("prometheus/rules/http.yml");
    let mut rules: serde_norway::Value =
        serde_norway::from_str(&fs::read_to_string(&rules_path).unwrap()).unwrap();
    for rule in rules["groups"][0]["rules"].as_sequence_mut().unwrap() {
        if rule["record"] == "job_instance:sockudo_http_requests:rate5m" {
            rule["expr"] = "sum by (job, instance) (rate(sockudo_http_requests_total[5m]))".into();
        }
    }
    fs::write(&rules_path, serde_norway::to_string(&rules).unwrap()).unwrap();
    let error = promtool_test_rules(&[bundle.path().join("prometheus/tests/http_test.yml")])
        .expect_err("promtool passes a rule that drops the routing labels");
    assert!(
        error.contains("SockudoHighErrorRate") && error.contains("arriving on the alert"),
        "{error}"
    );
}

/// The cluster label is the profile's (`prometheus.cluster_label`, as the mixins' `clusterLabel`):
/// named `region`, the rules keep `region` and its fixtures see it arrive under promtool.
#[test]
fn the_cluster_label_name_comes_from_the_profile() {
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = read_profile(&root, "staging");
    set(&mut profile, "prometheus.cluster_label", "region");
    set(&mut profile, "prometheus.external_labels.region", "eu-1");
    write_profile(&root, "staging", &profile);
    let (_dir, path) = write_bundle(&specs, "staging");
    let fixtures = routing_fixtures(&path);
    let (alert, labels) = fixtures
        .iter()
        .find(|(name, _)| name == "SockudoHighErrorRate")
        .expect("a routing fixture for SockudoHighErrorRate");
    assert!(
        labels.iter().all(|l| l["region"] == "eu-1"),
        "{alert}: {labels:?}"
    );
    validate::assert_passes(&["prometheus"], &path, None);
}

/// A single overflow (one jump of the overflow counter, then nothing) fires the overflow alert
/// once under both promtool generations; the shipped fixture says so, and this runs just it.
#[test]
fn a_single_label_overflow_fires_once() {
    let bundle = validate::build("production");
    let path = bundle.path().join("prometheus/tests/cardinality_test.yml");
    let mut file: serde_norway::Value = serde_norway::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    file["tests"].as_sequence_mut().unwrap().retain(|g| {
        g["name"]
            .as_str()
            .is_some_and(|n| n.contains("a single crossing"))
    });
    assert_eq!(
        file["tests"].as_sequence().unwrap().len(),
        2,
        "fires once, quiet an hour later"
    );
    let single = bundle.path().join("prometheus/tests/single_overflow_test.yml");
    fs::write(&single, serde_norway::to_string(&file).unwrap()).unwrap();
    promtool_test_rules(&[single]).unwrap_or_else(|e| panic!("{e}"));
}
