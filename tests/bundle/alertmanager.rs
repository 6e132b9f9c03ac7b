//! The generated `alertmanager.yml` in a real Alertmanager, driven with `amtool`: each severity
//! is routed to its own receiver and reaches its own URL, and a critical alert inhibits the
//! warnings of its instance and nothing else. The same scenario against the inhibition the bundle
//! used to ship (critical over warning, equal on `alertname`) fails, so the scenario can tell an
//! inhibition that matches from one that never can.
//!
//! The tools come from PATH (`source scripts/env.sh`); a missing one fails the test.

use crate::support::specs;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::http::get;
use crate::support::ports::free_port;
use crate::support::process::{wait_until, ProcessGuard};
use crate::support::sink::{alerts_of, WebhookSink};
use crate::support::specs::{read_profile, set, write_profile, Specs};
use crate::support::stack::{alertmanager_command, require_alertmanager};
use crate::support::tools::find as require_tool;
use serde_json::Value;
use sockudo_obs::bundle::{self, Overrides};

/// Where the sink receives each severity's notifications.
const SEVERITY_PATHS: [(&str, &str); 3] = [
    ("critical", "/critical"),
    ("warning", "/warning"),
    ("info", "/info"),
];

/// The `local` bundle, with each severity's receiver posting to `sink` at its path, and its
/// alert severities by alert name.
struct Generated {
    alertmanager_yml: String,
    severities: BTreeMap<String, String>,
}

fn generate(sink: &WebhookSink) -> Generated {
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = read_profile(&root, "local");
    for (severity, path) in SEVERITY_PATHS {
        set(
            &mut profile,
            &format!("alertmanager.receivers.{severity}"),
            sink.url(path),
        );
    }
    write_profile(&root, "local", &profile);
    let out = bundle::build(&specs.source(), "local", &Overrides::default()).unwrap();
    let model = specs.load("local").unwrap();
    Generated {
        alertmanager_yml: specs::text(&out, "alertmanager/alertmanager.yml"),
        severities: model
            .rules
            .alerts()
            .map(|(_, a)| (a.name.clone(), a.severity.clone().unwrap_or_default()))
            .collect(),
    }
}

/// A running Alertmanager, stopped (by PID) when dropped.
struct Alertmanager {
    url: String,
    guard: ProcessGuard,
}

fn start_alertmanager(config: &Path, dir: &Path) -> Alertmanager {
    let binary = require_alertmanager("alertmanager").unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let command = alertmanager_command(&binary, config, &dir.join("am-data"), port);
    let mut guard = ProcessGuard::spawn("alertmanager", command, dir).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let ready = format!("{url}/-/ready");
    wait_until(Duration::from_secs(30), &ready, || {
        guard.check_running()?;
        Ok(get(&ready, &[], None)
            .ok()
            .filter(|r| r.status == 200)
            .map(|_| ()))
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", guard.log_tail(20)));
    Alertmanager { url, guard }
}

/// `amtool <args>`, its standard output or an error with both streams.
fn amtool(args: &[String]) -> Result<String, String> {
    let output = Command::new(require_tool("amtool")?)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run amtool: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "amtool {} failed: {stdout}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(stdout)
}

/// One alert as Prometheus would send it: its name, its severity from the bundle's rules, and
/// its other labels.
#[derive(Clone)]
struct TestAlert {
    name: &'static str,
    labels: Vec<(&'static str, &'static str)>,
}

impl TestAlert {
    fn label_args(&self, severities: &BTreeMap<String, String>) -> Vec<String> {
        let severity = &severities[self.name];
        std::iter::once(format!("alertname={}", self.name))
            .chain(self.labels.iter().map(|(k, v)| format!("{k}={v}")))
            .chain([format!("severity={severity}")])
            .collect()
    }

    /// True when `alert` (from the API or a notification) is this one.
    fn is(&self, alert: &Value) -> bool {
        alert["labels"]["alertname"] == self.name
            && self.labels.iter().all(|(k, v)| alert["labels"][*k] == *v)
            && (self.labels.iter().any(|(k, _)| *k == "instance") || alert["labels"]["instance"].is_null())
    }

    fn describe(&self) -> String {
        format!("{} {:?}", self.name, self.labels)
    }
}

/// Instance sockudo-1 is down; it and sockudo-2 also look flapping; an app is rate limited.
fn scenario() -> (TestAlert, TestAlert, Vec<TestAlert>) {
    let alert = |name, labels| TestAlert { name, labels };
    let down = alert(
        "SockudoInstanceDown",
        vec![("job", "sockudo"), ("instance", "sockudo-1")],
    );
    let inhibited = alert(
        "SockudoInstanceFlapping",
        vec![("job", "sockudo"), ("instance", "sockudo-1")],
    );
    let others = vec![
        alert(
            "SockudoInstanceFlapping",
            vec![("job", "sockudo"), ("instance", "sockudo-2")],
        ),
        // Job-wide (no instance): a critical about one instance does not silence it.
        alert(
            "SockudoRateLimitTriggered",
            vec![("job", "sockudo"), ("app_id", "global"), ("limiter_type", "api")],
        ),
    ];
    (down, inhibited, others)
}

/// Adds the scenario's alerts with `amtool alert add`, waits until every alert that should be
/// notified reached its severity's URL, then shows the inhibited one was not notified, is absent
/// from `amtool alert query` and listed by `amtool alert query --inhibited` as inhibited by the
/// critical alert.
fn inhibition_takes_effect(edit: impl FnOnce(&mut serde_norway::Value)) -> Result<(), String> {
    let sink = WebhookSink::start()?;
    let generated = generate(&sink);
    let severities = &generated.severities;
    let mut yml: serde_norway::Value =
        serde_norway::from_str(&generated.alertmanager_yml).map_err(|e| e.to_string())?;
    edit(&mut yml);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("alertmanager.yml");
    let text = serde_norway::to_string(&yml).map_err(|e| e.to_string())?;
    fs::write(&config, text).map_err(|e| e.to_string())?;
    let am = start_alertmanager(&config, dir.path());
    let url_flag = format!("--alertmanager.url={}", am.url);
    let (down, inhibited, others) = scenario();
    for alert in std::iter::once(&down).chain(&others).chain([&inhibited]) {
        let mut args = vec![url_flag.clone(), "alert".into(), "add".into()];
        args.extend(alert.label_args(severities));
        args.push(format!("--annotation=summary={} (test)", alert.name));
        amtool(&args)?;
    }

    let notified = std::iter::once(&down).chain(&others);
    for alert in notified {
        let path = SEVERITY_PATHS
            .iter()
            .find(|(s, _)| *s == severities[alert.name])
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                format!(
                    "{}: severity {:?} has no receiver",
                    alert.name, severities[alert.name]
                )
            })?;
        wait_until(
            Duration::from_secs(20),
            &format!("{} at the sink's {path}", alert.describe()),
            || {
                Ok(alerts_of(&sink.notifications_to(path))
                    .any(|a| alert.is(&a))
                    .then_some(()))
            },
        )
        .map_err(|e| format!("{e}\n{}", am.guard.log_tail(20)))?;
    }
    // The inhibited alert's group waits as long as the others' did (group_wait); give it more.
    std::thread::sleep(Duration::from_secs(3));
    if let Some(leaked) = alerts_of(&sink.notifications()).find(|a| inhibited.is(a)) {
        return Err(format!(
            "{} was notified although {} fires for the same job and instance: {leaked}",
            inhibited.describe(),
            down.describe()
        ));
    }

    let query = |extra: &[&str]| -> Result<Vec<Value>, String> {
        let mut args = vec![
            url_flag.clone(),
            "alert".into(),
            "query".into(),
            "-o".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let text = amtool(&args)?;
        serde_json::from_str::<Vec<Value>>(&text).map_err(|e| format!("amtool JSON: {e}: {text}"))
    };
    let active = query(&[])?;
    let fingerprint_of_down = active
        .iter()
        .find(|a| down.is(a))
        .and_then(|a| a["fingerprint"].as_str())
        .ok_or_else(|| format!("amtool alert query lists no {}: {active:?}", down.describe()))?
        .to_string();
    for alert in &others {
        if !active.iter().any(|a| alert.is(a)) {
            return Err(format!("{} is not active: {active:?}", alert.describe()));
        }
    }
    if let Some(listed) = active.iter().find(|a| inhibited.is(a)) {
        return Err(format!(
            "amtool alert query lists {} as active: {listed}",
            inhibited.describe()
        ));
    }
    let listed = query(&["--inhibited"])?;
    match listed.as_slice() {
        [one] if inhibited.is(one) && one["status"]["inhibitedBy"] == serde_json::json!([fingerprint_of_down]) => Ok(()),
        _ => Err(format!(
            "amtool alert query --inhibited: expected {} inhibited by {fingerprint_of_down} ({}), got {listed:?}",
            inhibited.describe(),
            down.describe()
        )),
    }
}

#[test]
fn a_critical_alert_inhibits_the_warnings_of_its_instance_only() {
    inhibition_takes_effect(|_| {}).unwrap_or_else(|e| panic!("{e}"));
}

/// The rule the bundle used to ship: no alert exists at both severities, so equal on `alertname`
/// never matches and the warning is notified. The scenario must say so.
#[test]
fn an_inhibition_equal_on_alertname_is_caught_never_matching() {
    let error = inhibition_takes_effect(|config| {
        config["inhibit_rules"] = serde_norway::from_str(
            "- source_matchers: ['severity=\"critical\"']\n  target_matchers: ['severity=\"warning\"']\n  equal: [alertname, instance]\n",
        )
        .unwrap();
    })
    .expect_err("an inhibition equal on alertname cannot match a warning of another alert");
    assert!(
        error.contains("SockudoInstanceFlapping")
            && error.contains("sockudo-1")
            && error.contains("was notified"),
        "{error}"
    );
}

#[test]
fn amtool_routes_each_severity_to_its_own_receiver() {
    let sink = WebhookSink::start().unwrap();
    let generated = generate(&sink);
    let dir = tempfile::tempdir().unwrap();
    let config: PathBuf = dir.path().join("alertmanager.yml");
    fs::write(&config, &generated.alertmanager_yml).unwrap();
    let config_flag = format!("--config.file={}", config.display());
    let route = |labels: &[&str]| {
        let mut args = vec![
            "config".to_string(),
            "routes".into(),
            "test".into(),
            config_flag.clone(),
        ];
        args.extend(labels.iter().map(|l| l.to_string()));
        amtool(&args).unwrap().trim().to_string()
    };
    for (severity, _) in SEVERITY_PATHS {
        let labels = [
            "alertname=SockudoTest".to_string(),
            format!("severity={severity}"),
        ];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        assert_eq!(route(&labels), format!("sockudo-{severity}"));
    }
    // Alerts without a known severity (other rules sharing this Alertmanager) are warnings.
    assert_eq!(route(&["alertname=Other"]), "sockudo-warning");
    // Every receiver has its own URL.
    let parsed: serde_norway::Value = serde_norway::from_str(&generated.alertmanager_yml).unwrap();
    let urls: Vec<&str> = parsed["receivers"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| r["webhook_configs"][0]["url"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = SEVERITY_PATHS.iter().map(|(_, p)| sink.url(p)).collect();
    assert_eq!(urls, expected);
}
