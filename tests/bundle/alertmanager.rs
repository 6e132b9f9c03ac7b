//! The generated `alertmanager.yml` in a real Alertmanager, driven with `amtool`: each severity
//! is routed to its own receiver and reaches its own URL, an instance down inhibits the warnings
//! of its instance in its own cluster and nothing else, and alerts differing only in `instance`
//! are one notification. The same scenarios against the configs the bundle used to ship (equal on
//! `alertname`; by severity; equal on `job` and `instance` only; grouped by `instance`) fail, so each can tell
//! the property from its absence.
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
use sockudo_obs::bundle::{self, Overrides, HEARTBEAT_ALERT};

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
    generate_with(sink, None)
}

/// [`generate`], with the heartbeat going to the sink's `heartbeat` path when given, and with
/// no heartbeat URL at all otherwise.
fn generate_with(sink: &WebhookSink, heartbeat: Option<&str>) -> Generated {
    generate_edited(sink, |profile| match heartbeat {
        Some(path) => set(profile, "alertmanager.heartbeat_url", sink.url(path)),
        None => {
            if let Some(section) = profile["alertmanager"].as_mapping_mut() {
                section.remove("heartbeat_url");
            }
        }
    })
}

/// The `local` profile of the specs at `root`, each severity's receiver posting to `sink` at
/// its path.
fn local_profile_on(sink: &WebhookSink, root: &Path) -> serde_norway::Value {
    let mut profile = read_profile(root, "local");
    for (severity, path) in SEVERITY_PATHS {
        set(
            &mut profile,
            &format!("alertmanager.receivers.{severity}"),
            sink.url(path),
        );
    }
    profile
}

/// [`generate`], with the `local` profile further edited by `edit`.
fn generate_edited(sink: &WebhookSink, edit: impl FnOnce(&mut serde_norway::Value)) -> Generated {
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = local_profile_on(sink, &root);
    edit(&mut profile);
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
    start_alertmanager_on(&binary, config, dir, free_port()).unwrap_or_else(|e| panic!("{e}"))
}

/// `binary` with `config` on `port`, once it answers ready.
fn start_alertmanager_on(
    binary: &Path,
    config: &Path,
    dir: &Path,
    port: u16,
) -> Result<Alertmanager, String> {
    let command = alertmanager_command(binary, config, &dir.join("am-data"), port);
    let mut guard = ProcessGuard::spawn("alertmanager", command, dir)?;
    let url = format!("http://127.0.0.1:{port}");
    let ready = format!("{url}/-/ready");
    wait_until(Duration::from_secs(30), &ready, || {
        guard.check_running()?;
        Ok(get(&ready, &[], None)
            .ok()
            .filter(|r| r.status == 200)
            .map(|_| ()))
    })
    .map_err(|e| format!("{e}\n{}", guard.log_tail(20)))?;
    Ok(Alertmanager { url, guard })
}

/// The generated `alertmanager.yml`, edited by `edit`, in a running Alertmanager (and the
/// folder holding its config and data, removed when dropped).
fn start_edited(
    generated: &Generated,
    edit: impl FnOnce(&mut serde_norway::Value),
) -> Result<(tempfile::TempDir, Alertmanager), String> {
    let mut yml: serde_norway::Value =
        serde_norway::from_str(&generated.alertmanager_yml).map_err(|e| e.to_string())?;
    edit(&mut yml);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("alertmanager.yml");
    let text = serde_norway::to_string(&yml).map_err(|e| e.to_string())?;
    fs::write(&config, text).map_err(|e| e.to_string())?;
    let am = start_alertmanager(&config, dir.path());
    Ok((dir, am))
}

/// `amtool alert add` of each alert, with its severity from the bundle's rules.
fn add_alerts(
    url_flag: &str,
    alerts: &[TestAlert],
    severities: &BTreeMap<String, String>,
) -> Result<(), String> {
    for alert in alerts {
        let mut args = vec![url_flag.to_string(), "alert".into(), "add".into()];
        args.extend(alert.label_args(severities));
        amtool(&args)?;
    }
    Ok(())
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

/// In production, sockudo-1 is down (a ticket that silences its other warnings) and also looks
/// flapping; sockudo-2 looks flapping too; sockudo-3 serves 5xx (a page) and has many
/// connections (a warning the page must not hide); an app is rate limited. Staging has lost its
/// whole job (critical, job-wide) while production's pod discovery is lost (warning, job-wide):
/// the staging page must not silence production's ticket.
fn scenario() -> (TestAlert, TestAlert, Vec<TestAlert>) {
    let alert = |name, labels| TestAlert { name, labels };
    let production = ("cluster", "production");
    let down = alert(
        "SockudoInstanceDown",
        vec![production, ("job", "sockudo"), ("instance", "sockudo-1")],
    );
    let inhibited = alert(
        "SockudoInstanceFlapping",
        vec![production, ("job", "sockudo"), ("instance", "sockudo-1")],
    );
    let others = vec![
        alert(
            "SockudoInstanceFlapping",
            vec![production, ("job", "sockudo"), ("instance", "sockudo-2")],
        ),
        alert(
            "SockudoHighErrorRate",
            vec![production, ("job", "sockudo"), ("instance", "sockudo-3")],
        ),
        alert(
            "SockudoHighConnections",
            vec![production, ("job", "sockudo"), ("instance", "sockudo-3")],
        ),
        // Job-wide (no instance): an alert about one instance does not silence it.
        alert(
            "SockudoRateLimitTriggered",
            vec![
                production,
                ("job", "sockudo"),
                ("app_id", "global"),
                ("limiter_type", "api"),
            ],
        ),
        // Another cluster's job-wide page does not silence this cluster's job-wide ticket.
        alert(
            "SockudoJobAbsent",
            vec![("cluster", "staging"), ("job", "sockudo")],
        ),
        alert(
            "SockudoDiscoveryLost",
            vec![production, ("job", "sockudo"), ("discovery", "kubernetes-pods")],
        ),
    ];
    (down, inhibited, others)
}

/// Adds the scenario's alerts with `amtool alert add`, waits until every alert that should be
/// notified reached its severity's URL, then shows the inhibited one was not notified, is absent
/// from `amtool alert query` and listed by `amtool alert query --inhibited` as inhibited by the
/// instance-down alert.
fn inhibition_takes_effect(edit: impl FnOnce(&mut serde_norway::Value)) -> Result<(), String> {
    let sink = WebhookSink::start()?;
    let generated = generate(&sink);
    let severities = &generated.severities;
    let (_dir, am) = start_edited(&generated, edit)?;
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
fn a_down_instance_inhibits_its_own_warnings_only() {
    inhibition_takes_effect(|_| {}).unwrap_or_else(|e| panic!("{e}"));
}

/// The severity rule the bundle used to ship (critical over warning and info), once criticals
/// are symptoms: the 5xx down of sockudo-3 hides its connection warning.
#[test]
fn an_inhibition_by_severity_is_caught_hiding_a_symptoms_neighbour() {
    let error = inhibition_takes_effect(|config| {
        config["inhibit_rules"] = serde_norway::from_str(
            "- source_matchers: ['severity=\"critical\"']\n  target_matchers: ['severity=~\"warning|info\"']\n  equal: [cluster, namespace, job, instance]\n",
        )
        .unwrap();
    })
    .expect_err("a critical symptom must not inhibit the warnings of its instance");
    assert!(
        error.contains("SockudoHighConnections") && error.contains("sockudo-3"),
        "{error}"
    );
}

/// The rule the bundle used to ship, equal on `job` and `instance` only: staging's job-wide page
/// silences production's job-wide ticket when one Alertmanager serves both.
#[test]
fn an_inhibition_blind_to_the_cluster_is_caught_crossing_clusters() {
    let error = inhibition_takes_effect(|config| {
        config["inhibit_rules"][0]["equal"] = serde_norway::from_str("[job, instance]").unwrap();
    })
    .expect_err("staging's SockudoJobAbsent must not inhibit production's job-wide alerts");
    // The first production job-wide warning or info waited for never arrives.
    assert!(
        error.contains("\"production\"") && error.contains("timed out") && error.contains("at the sink"),
        "{error}"
    );
}

/// Starts the generated Alertmanager (edited by `edit`), adds SockudoInstanceDown for two
/// instances of production and one of staging, and returns the notifications that reach the
/// warning receiver once every alert has arrived there.
fn instance_down_notifications(edit: impl FnOnce(&mut serde_norway::Value)) -> Result<Vec<Value>, String> {
    let sink = WebhookSink::start()?;
    let generated = generate(&sink);
    let (_dir, am) = start_edited(&generated, edit)?;
    let url_flag = format!("--alertmanager.url={}", am.url);
    let down = |cluster, instance| TestAlert {
        name: "SockudoInstanceDown",
        labels: vec![("cluster", cluster), ("job", "sockudo"), ("instance", instance)],
    };
    let alerts = [
        down("production", "sockudo-1"),
        down("production", "sockudo-2"),
        down("staging", "sockudo-1"),
    ];
    let path = SEVERITY_PATHS
        .iter()
        .find(|(s, _)| *s == generated.severities["SockudoInstanceDown"])
        .map(|(_, p)| *p)
        .ok_or("SockudoInstanceDown has no receiver")?;
    // A group's later notifications carry every alert of it, however far apart they arrived.
    add_alerts(&url_flag, &alerts, &generated.severities)?;
    wait_until(
        Duration::from_secs(20),
        "every SockudoInstanceDown at the sink",
        || {
            let notified: Vec<Value> = alerts_of(&sink.notifications_to(path)).collect();
            Ok(alerts
                .iter()
                .all(|a| notified.iter().any(|n| a.is(n)))
                .then_some(()))
        },
    )
    .map_err(|e| format!("{e}\n{}", am.guard.log_tail(20)))?;
    Ok(sink.notifications_to(path))
}

/// The sorted instances of each notification whose alerts are all in `cluster`.
fn instances_per_notification(notifications: &[Value], cluster: &str) -> Vec<Vec<String>> {
    notifications
        .iter()
        .filter(|n| n["groupLabels"]["cluster"] == cluster)
        .map(|n| {
            let mut instances: Vec<String> = n["alerts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| a["labels"]["instance"].as_str().unwrap_or_default().to_string())
                .collect();
            instances.sort();
            instances
        })
        .collect()
}

/// What is wrong with the grouping of the SockudoInstanceDown notifications: none groups by
/// `instance`, the two production instances share one, staging's is its own.
fn grouping_problem(notifications: &[Value]) -> Option<String> {
    if let Some(by_instance) = notifications
        .iter()
        .find(|n| !n["groupLabels"]["instance"].is_null())
    {
        return Some(format!("grouped by instance: {by_instance}"));
    }
    let production = instances_per_notification(notifications, "production");
    if !production.iter().any(|i| i == &["sockudo-1", "sockudo-2"]) {
        return Some(format!(
            "the two production instances were never notified together: {production:?} in {notifications:?}"
        ));
    }
    let staging = instances_per_notification(notifications, "staging");
    if staging.is_empty() || staging.iter().any(|i| i != &["sockudo-1"]) {
        return Some(format!(
            "staging's alert must be a notification of its own: {staging:?} in {notifications:?}"
        ));
    }
    None
}

/// Two instances down in one cluster are one notification (its group is alertname, cluster,
/// namespace and job); the same alert in another cluster is a notification of its own.
#[test]
fn alerts_differing_only_in_instance_are_one_notification_per_cluster() {
    let notifications = instance_down_notifications(|_| {}).unwrap_or_else(|e| panic!("{e}"));
    if let Some(problem) = grouping_problem(&notifications) {
        panic!("{problem}");
    }
}

/// The grouping the bundle used to ship (by alertname, job and instance): two pods down are two
/// notifications, and the check says so.
#[test]
fn grouping_by_instance_is_caught_splitting_one_incident() {
    let notifications = instance_down_notifications(|config| {
        config["route"]["group_by"] = serde_norway::from_str("[alertname, job, instance]").unwrap();
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let problem = grouping_problem(&notifications).expect("grouping by instance must be caught");
    assert!(problem.contains("grouped by instance"), "{problem}");
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
        .filter(|r| {
            SEVERITY_PATHS
                .iter()
                .any(|(severity, _)| r["name"].as_str() == Some(&format!("sockudo-{severity}")))
        })
        .map(|r| r["webhook_configs"][0]["url"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = SEVERITY_PATHS.iter().map(|(_, p)| sink.url(p)).collect();
    assert_eq!(urls, expected);
}

/// Where the heartbeat test's sink receives the Watchdog.
const HEARTBEAT_PATH: &str = "/heartbeat";

/// Starts the generated Alertmanager (edited by `edit`) with the heartbeat on the sink, adds
/// the Watchdog beside a job-wide page of the same cluster and job (SockudoJobAbsent, which
/// inhibits that job's warnings) and an instance-down ticket, and checks that the Watchdog
/// reaches the heartbeat receiver, in notifications of its own, and no other receiver.
fn heartbeat_arrives_alone(edit: impl FnOnce(&mut serde_norway::Value)) -> Result<(), String> {
    let sink = WebhookSink::start()?;
    let generated = generate_with(&sink, Some(HEARTBEAT_PATH));
    let (_dir, am) = start_edited(&generated, edit)?;
    let url_flag = format!("--alertmanager.url={}", am.url);
    let production = ("cluster", "production");
    let job = ("job", "sockudo");
    let watchdog = TestAlert {
        name: "Watchdog",
        labels: vec![production, job],
    };
    let page = TestAlert {
        name: "SockudoJobAbsent",
        labels: vec![production, job],
    };
    let ticket = TestAlert {
        name: "SockudoInstanceDown",
        labels: vec![production, job, ("instance", "sockudo-1")],
    };
    add_alerts(
        &url_flag,
        &[page.clone(), ticket.clone(), watchdog.clone()],
        &generated.severities,
    )?;
    wait_until(
        Duration::from_secs(20),
        "the Watchdog at the heartbeat receiver",
        || {
            Ok(alerts_of(&sink.notifications_to(HEARTBEAT_PATH))
                .any(|a| watchdog.is(&a))
                .then_some(()))
        },
    )
    .map_err(|e| format!("{e}\n{}", am.guard.log_tail(20)))?;
    for alert in [&page, &ticket] {
        let path = SEVERITY_PATHS
            .iter()
            .find(|(s, _)| *s == generated.severities[alert.name])
            .map(|(_, p)| *p)
            .ok_or_else(|| format!("{}: no receiver", alert.name))?;
        wait_until(
            Duration::from_secs(20),
            &format!("{} at {path}", alert.name),
            || {
                Ok(alerts_of(&sink.notifications_to(path))
                    .any(|a| alert.is(&a))
                    .then_some(()))
            },
        )
        .map_err(|e| format!("{e}\n{}", am.guard.log_tail(20)))?;
    }
    for notification in sink.notifications_to(HEARTBEAT_PATH) {
        let names: Vec<Value> = alerts_of(std::slice::from_ref(&notification))
            .map(|a| a["labels"]["alertname"].clone())
            .collect();
        if names.iter().any(|n| n != "Watchdog") {
            return Err(format!(
                "the heartbeat was grouped with other alerts: {notification}"
            ));
        }
    }
    for (_, path) in SEVERITY_PATHS {
        if let Some(leaked) = alerts_of(&sink.notifications_to(path)).find(|a| watchdog.is(a)) {
            return Err(format!("the Watchdog reached {path}: {leaked}"));
        }
    }
    Ok(())
}

/// The Watchdog goes to the heartbeat receiver, alone, repeated every minute and never
/// inhibited (a job-wide page of its cluster and job fires beside it); without a heartbeat URL
/// it goes to the null receiver.
#[test]
fn the_watchdog_reaches_the_heartbeat_receiver_alone() {
    heartbeat_arrives_alone(|_| {}).unwrap_or_else(|e| panic!("{e}"));

    let sink = WebhookSink::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    let route = |generated: &Generated| {
        fs::write(&config, &generated.alertmanager_yml).unwrap();
        let parsed: serde_norway::Value = serde_norway::from_str(&generated.alertmanager_yml).unwrap();
        let heartbeat_route = parsed["route"]["routes"][0].clone();
        let args: Vec<String> = [
            "config",
            "routes",
            "test",
            &format!("--config.file={}", config.display()),
            "alertname=Watchdog",
            "severity=none",
        ]
        .map(String::from)
        .to_vec();
        (amtool(&args).unwrap().trim().to_string(), heartbeat_route)
    };
    let (receiver, heartbeat_route) = route(&generate_with(&sink, Some(HEARTBEAT_PATH)));
    assert_eq!(receiver, "sockudo-heartbeat");
    assert_eq!(heartbeat_route["repeat_interval"], "1m", "{heartbeat_route:?}");
    let (receiver, _) = route(&generate(&sink));
    assert_eq!(receiver, "null");
}

/// Without its route the Watchdog falls to the default receiver, grouped and routed like any
/// warning: the check says so.
#[test]
fn a_watchdog_without_its_route_is_caught() {
    let error = heartbeat_arrives_alone(|config| {
        let routes = config["route"]["routes"].as_sequence_mut().unwrap();
        routes.remove(0);
    })
    .expect_err("without its route the Watchdog must not reach the heartbeat receiver");
    assert!(
        error.contains("the Watchdog at the heartbeat receiver"),
        "{error}"
    );
}

/// Where the sink plays PagerDuty's events API, Opsgenie's API and a Slack incoming webhook.
const PAGERDUTY_PATH: &str = "/pagerduty";
const OPSGENIE_PATH: &str = "/opsgenie/v2/alerts";
const SLACK_PATH: &str = "/slack";

/// The `local` profile with native integrations on the sink: PagerDuty and Opsgenie for the
/// critical receiver, Slack and email for the warning one, each secret in a file of `secrets`.
/// Returns the generated bundle and the PagerDuty routing key the file holds.
fn generate_with_integrations(sink: &WebhookSink, secrets: &Path) -> (Generated, String) {
    let routing_key = "R0UT1NGKEYFROMTHEFILE000000000000".to_string();
    let file = |name: &str, content: &str| {
        let path = secrets.join(name);
        fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let routing_key_file = file("pagerduty-routing-key", &routing_key);
    let api_key_file = file("opsgenie-api-key", "opsgenie-key-from-file");
    let slack_url_file = file("slack-webhook-url", &sink.url(SLACK_PATH));
    let password_file = file("smtp-password", "smtp-password-from-file");
    let integrations: serde_norway::Value = serde_norway::from_str(&format!(
        "critical:\n  pagerduty: {{routing_key_file: {routing_key_file}, url: {pd}}}\n  opsgenie: {{api_key_file: {api_key_file}, api_url: {og}}}\n\
         warning:\n  slack: {{api_url_file: {slack_url_file}, channel: '#sockudo-tickets'}}\n  email: {{to: oncall@example.com, from: am@example.com, smarthost: '127.0.0.1:1', auth_username: am, auth_password_file: {password_file}, require_tls: false}}\n",
        pd = sink.url(PAGERDUTY_PATH),
        og = sink.url("/opsgenie/"),
    ))
    .unwrap();
    let generated = generate_edited(sink, |profile| {
        set(profile, "alertmanager.integrations", integrations);
    });
    (generated, routing_key)
}

/// A page (the whole job gone) and a ticket (one instance down) of production at the same moment.
fn page_and_ticket() -> (TestAlert, TestAlert) {
    let page = TestAlert {
        name: "SockudoJobAbsent",
        labels: vec![("cluster", "production"), ("job", "sockudo")],
    };
    let ticket = TestAlert {
        name: "SockudoInstanceDown",
        labels: vec![
            ("cluster", "production"),
            ("job", "sockudo"),
            ("instance", "sockudo-1"),
        ],
    };
    (page, ticket)
}

/// The receiver of the parsed config named `name`.
fn receiver_named(config: &serde_norway::Value, name: &str) -> serde_norway::Value {
    config["receivers"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no receiver {name}"))
}

/// Both Alertmanager generations' `amtool check-config` on `yml`.
fn check_config(yml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("alertmanager.yml");
    fs::write(&config, yml).map_err(|e| e.to_string())?;
    for tool in ["amtool", "amtool3"] {
        let output = Command::new(require_tool(tool)?)
            .arg("check-config")
            .arg(&config)
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{tool} check-config refuses the config: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

/// The native integrations pass `amtool check-config` (both generations); in a real
/// Alertmanager a page reaches PagerDuty (with the routing key read from its file) and Opsgenie
/// and never Slack, a ticket reaches Slack (on its channel, at the URL read from its file) and
/// never PagerDuty or Opsgenie. Email is only checked by amtool (no SMTP server here): the routes
/// test puts it on the warning receiver.
#[test]
fn native_receivers_route_pages_and_tickets_to_their_integrations() {
    let sink = WebhookSink::start().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let (generated, routing_key) = generate_with_integrations(&sink, secrets.path());
    check_config(&generated.alertmanager_yml).unwrap_or_else(|e| panic!("{e}"));
    // No secret is in the config itself: only the files' paths.
    for secret in [
        routing_key.as_str(),
        "opsgenie-key-from-file",
        "smtp-password-from-file",
    ] {
        assert!(
            !generated.alertmanager_yml.contains(secret),
            "the config holds a secret"
        );
    }
    let parsed: serde_norway::Value = serde_norway::from_str(&generated.alertmanager_yml).unwrap();
    let receiver = |name: &str| receiver_named(&parsed, name);
    assert_eq!(
        receiver("sockudo-warning")["email_configs"][0]["auth_password_file"],
        secrets.path().join("smtp-password").display().to_string()
    );

    let (_dir, am) = start_edited(&generated, |_| {}).unwrap();
    let url_flag = format!("--alertmanager.url={}", am.url);
    let (page, ticket) = page_and_ticket();
    assert_eq!(generated.severities[page.name], "critical");
    assert_eq!(generated.severities[ticket.name], "warning");
    add_alerts(&url_flag, &[page.clone(), ticket.clone()], &generated.severities).unwrap();
    let mentions = |path: &str, name: &str| {
        sink.notifications_to(path)
            .iter()
            .any(|body| body.to_string().contains(name))
    };
    for (path, alert) in [
        (PAGERDUTY_PATH, &page),
        (OPSGENIE_PATH, &page),
        (SLACK_PATH, &ticket),
    ] {
        wait_until(
            Duration::from_secs(20),
            &format!("{} at the sink's {path}", alert.name),
            || Ok(mentions(path, alert.name).then_some(())),
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", am.guard.log_tail(20)));
    }
    let pagerduty = sink.notifications_to(PAGERDUTY_PATH);
    assert!(
        pagerduty.iter().all(|b| b["routing_key"] == routing_key.as_str()),
        "PagerDuty got another routing key than the file's: {pagerduty:?}"
    );
    let slack = sink.notifications_to(SLACK_PATH);
    assert!(
        slack.iter().all(|b| b["channel"] == "#sockudo-tickets"),
        "{slack:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    for (path, wrong) in [
        (PAGERDUTY_PATH, &ticket),
        (OPSGENIE_PATH, &ticket),
        (SLACK_PATH, &page),
    ] {
        assert!(
            !mentions(path, wrong.name),
            "{} reached {path}: {:?}",
            wrong.name,
            sink.notifications_to(path)
        );
    }
}

/// `amtool config routes test` on the generated config: which receiver (and so which
/// integrations) each label set reaches.
fn routes_test(yml: &str, labels: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    fs::write(&config, yml).unwrap();
    let mut args = vec![
        "config".to_string(),
        "routes".into(),
        "test".into(),
        format!("--config.file={}", config.display()),
    ];
    args.extend(labels.iter().map(|l| l.to_string()));
    amtool(&args).unwrap().trim().to_string()
}

/// A profile's bad integration or time interval is refused, naming the key.
#[test]
fn bad_integrations_and_time_intervals_are_refused_naming_the_key() {
    let cases: [(&str, &str, &str); 10] = [
        (
            "alertmanager.integrations",
            "critical: {pagerduty: {routing_key_file: /a, service_key_file: /b}}",
            "alertmanager.integrations.critical.pagerduty: needs exactly one of",
        ),
        (
            "alertmanager.integrations",
            "critical: {pagerduty: {routing_key_file: secrets/key}}",
            "alertmanager.integrations.critical.pagerduty.routing_key_file: \"secrets/key\" is not an absolute path",
        ),
        (
            "alertmanager.integrations",
            "page: {slack: {api_url_file: /s}}",
            "alertmanager.integrations: \"page\" is not a severity",
        ),
        (
            "alertmanager.integrations",
            "warning: {slack: {api_url_file: /s, channel: tickets}}",
            "alertmanager.integrations.warning.slack.channel: \"tickets\" is not a #channel",
        ),
        (
            "alertmanager.integrations",
            "warning: {opsgenie: {api_key_file: /k, api_url: 'https://u:p@api.opsgenie.com/'}}",
            "alertmanager.integrations.warning.opsgenie.api_url: the URL holds credentials",
        ),
        (
            "alertmanager.integrations",
            "info: {email: {to: oncall, from: a@example.com, smarthost: 'smtp:25'}}",
            "alertmanager.integrations.info.email.to: \"oncall\" is not one email address",
        ),
        (
            "alertmanager.integrations",
            "info: {email: {to: o@example.com, from: a@example.com, smarthost: 'smtp:25', auth_username: am}}",
            "alertmanager.integrations.info.email: auth_username and auth_password_file go together",
        ),
        (
            "alertmanager.time_intervals",
            "maintenance: [{times: [{start_time: '22:00', end_time: '02:00'}]}]",
            "alertmanager.time_intervals.maintenance[0].times[0]: start_time 22:00 is not before end_time 02:00",
        ),
        (
            "alertmanager.time_intervals",
            "maintenance: [{weekdays: [sundy]}]",
            "alertmanager.time_intervals.maintenance[0].weekdays[0]: \"sundy\" is not a weekday name",
        ),
        (
            "alertmanager.mute_time_intervals",
            "warning: [maintenance]",
            "alertmanager.mute_time_intervals.warning: \"maintenance\" is not a window of alertmanager.time_intervals",
        ),
    ];
    for (key, value, expected) in cases {
        let specs = Specs::copy();
        let root = specs.path("");
        let mut profile = read_profile(&root, "local");
        set(
            &mut profile,
            key,
            serde_norway::from_str::<serde_norway::Value>(value).unwrap(),
        );
        write_profile(&root, "local", &profile);
        let error = specs.load_error("local");
        assert!(
            error.contains(expected),
            "{key}: {value}\nexpected {expected:?}\ngot {error}"
        );
    }
}

/// A window around the clock on every weekday (the alert is inside it, whatever the time), and
/// one in a year long past (the alert is outside it).
const ALWAYS: &str =
    "[{weekdays: ['sunday:saturday'], times: [{start_time: '00:00', end_time: '24:00'}], location: UTC}]";
const LONG_AGO: &str = "[{years: ['2001'], location: UTC}]";

/// The `local` bundle with a `maintenance` window (`window`) muting tickets, in a real
/// Alertmanager: adds a ticket and a page, waits for the page at its receiver, and says whether
/// the ticket reached its own.
fn ticket_notified_during(window: &str) -> Result<bool, String> {
    let sink = WebhookSink::start()?;
    let window: serde_norway::Value = serde_norway::from_str(window).map_err(|e| e.to_string())?;
    let generated = generate_edited(&sink, |profile| {
        set(
            profile,
            "alertmanager.time_intervals",
            serde_norway::Mapping::new(),
        );
        set(profile, "alertmanager.time_intervals.maintenance", window);
        set(
            profile,
            "alertmanager.mute_time_intervals",
            serde_norway::from_str::<serde_norway::Value>("warning: [maintenance]").unwrap(),
        );
    });
    check_config(&generated.alertmanager_yml)?;
    let (_dir, am) = start_edited(&generated, |_| {})?;
    let url_flag = format!("--alertmanager.url={}", am.url);
    let (page, ticket) = page_and_ticket();
    add_alerts(&url_flag, &[ticket.clone(), page.clone()], &generated.severities)?;
    wait_until(Duration::from_secs(20), "the page at /critical", || {
        Ok(alerts_of(&sink.notifications_to("/critical"))
            .any(|a| page.is(&a))
            .then_some(()))
    })
    .map_err(|e| format!("{e}\n{}", am.guard.log_tail(20)))?;
    // Both groups were added together and share group_wait; give the ticket's a moment more.
    std::thread::sleep(Duration::from_secs(3));
    Ok(alerts_of(&sink.notifications_to("/warning")).any(|a| ticket.is(&a)))
}

/// In a real Alertmanager a ticket inside the maintenance window is muted while a page of the
/// same moment still goes out; outside the window (a year long past) the same ticket is
/// notified, so the first result is the window's doing. amtool's routes test shows the route
/// carrying the window.
#[test]
fn a_ticket_inside_the_maintenance_window_is_muted() {
    assert!(
        !ticket_notified_during(ALWAYS).unwrap_or_else(|e| panic!("{e}")),
        "the ticket was notified inside the maintenance window"
    );
    assert!(
        ticket_notified_during(LONG_AGO).unwrap_or_else(|e| panic!("{e}")),
        "the ticket was not notified outside the maintenance window"
    );
}

/// The production profile's own integrations and window: amtool (both generations) accepts the
/// config, a page goes to the receiver with PagerDuty, a ticket to the one with Slack and email,
/// and only the ticket route carries the maintenance window.
#[test]
fn production_integrations_and_maintenance_window_check_and_route() {
    let out = bundle::build(&bundle::SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    let yml = specs::text(&out, "alertmanager/alertmanager.yml");
    check_config(&yml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        routes_test(&yml, &["alertname=X", "severity=critical"]),
        "sockudo-critical"
    );
    assert_eq!(
        routes_test(&yml, &["alertname=X", "severity=warning"]),
        "sockudo-warning"
    );
    let parsed: serde_norway::Value = serde_norway::from_str(&yml).unwrap();
    let receiver = |name: &str| receiver_named(&parsed, name);
    assert!(receiver("sockudo-critical")["pagerduty_configs"][0]["routing_key_file"].is_string());
    assert!(receiver("sockudo-warning")["slack_configs"][0]["api_url_file"].is_string());
    assert!(receiver("sockudo-warning")["email_configs"][0]["auth_password_file"].is_string());
    let muted: Vec<(String, serde_norway::Value)> = parsed["route"]["routes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["receiver"].as_str().unwrap().to_string(),
                r["mute_time_intervals"].clone(),
            )
        })
        .collect();
    for (receiver, mute) in muted {
        let expected = if receiver == "sockudo-warning" {
            serde_norway::from_str::<serde_norway::Value>("[maintenance]").unwrap()
        } else {
            serde_norway::Value::Null
        };
        assert_eq!(mute, expected, "{receiver}");
    }
}

/// The whole heartbeat path with real servers: the bundle's Prometheus (of `generation`:
/// `prometheus` or `prometheus3`, with the matching Alertmanager) evaluates the generated
/// Watchdog rule and sends it to the bundle's Alertmanager, which delivers it to the heartbeat
/// receiver. `edit` changes the profile first. Returns the Watchdog alerts that reached the
/// heartbeat path within `wait`, and the ones that reached a severity's path.
fn heartbeat_through_prometheus(
    generation: &str,
    wait: Duration,
    edit: impl FnOnce(&mut serde_norway::Value),
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let sink = WebhookSink::start()?;
    let am_port = free_port();
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = local_profile_on(&sink, &root);
    set(
        &mut profile,
        "alertmanager.heartbeat_url",
        sink.url(HEARTBEAT_PATH),
    );
    set(
        &mut profile,
        "prometheus.alertmanagers",
        serde_norway::Value::Sequence(vec![format!("127.0.0.1:{am_port}").into()]),
    );
    // The Watchdog fires 10 s after Prometheus starts (the profile's 1m would make the test
    // slow): by then Prometheus has discovered its Alertmanager. An alert that fires earlier is
    // sent to nobody and resent only a minute later.
    set(&mut profile, "alerts.Watchdog", serde_norway::Mapping::new());
    set(&mut profile, "alerts.Watchdog.for", "10s");
    edit(&mut profile);
    write_profile(&root, "local", &profile);
    let out = bundle::build(&specs.source(), "local", &Overrides::default()).map_err(|e| format!("{e:#}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let bundle_dir = dir.path().join("local");
    out.write_atomically(&bundle_dir).map_err(|e| e.to_string())?;

    let suffix = generation.strip_prefix("prometheus").unwrap_or_default();
    let alertmanager = require_alertmanager(&format!("alertmanager{suffix}"))?;
    let am = start_alertmanager_on(
        &alertmanager,
        &bundle_dir.join("alertmanager/alertmanager.yml"),
        dir.path(),
        am_port,
    )?;
    let prom_port = free_port();
    let mut prometheus = Command::new(require_tool(generation)?);
    prometheus
        .arg(format!(
            "--config.file={}",
            bundle_dir.join("prometheus/prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("prom-data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"));
    let prometheus = ProcessGuard::spawn(generation, prometheus, dir.path())?;
    let watchdog = |path: &str| -> Vec<Value> {
        alerts_of(&sink.notifications_to(path))
            .filter(|a| a["labels"]["alertname"] == HEARTBEAT_ALERT)
            .collect()
    };
    let arrived = wait_until(wait, "the Watchdog at the heartbeat receiver", || {
        Ok((!watchdog(HEARTBEAT_PATH).is_empty()).then_some(()))
    });
    if let Err(e) = arrived {
        let api = |path: &str| {
            get(&format!("http://127.0.0.1:{prom_port}{path}"), &[], None)
                .map_or_else(|e| e.to_string(), |r| r.body)
        };
        return Err(format!(
            "{e}\nAlertmanager's alerts: {}\nthe sink got: {:?}\nPrometheus's alerts: {}\nits Alertmanagers: {}\n{}\n{}",
            get(&format!("http://127.0.0.1:{am_port}/api/v2/alerts"), &[], None).map_or_else(|e| e.to_string(), |r| r.body),
            sink.notifications(),
            api("/api/v1/alerts"),
            api("/api/v1/alertmanagers"),
            prometheus.log_tail(10),
            am.guard.log_tail(10)
        ));
    }
    let elsewhere = SEVERITY_PATHS.iter().flat_map(|(_, p)| watchdog(p)).collect();
    Ok((watchdog(HEARTBEAT_PATH), elsewhere))
}

/// End to end, with each Prometheus generation: the Watchdog fires in the bundle's Prometheus,
/// reaches the heartbeat receiver through the bundle's Alertmanager with its severity `none` and
/// the cluster's external labels, and no severity's receiver.
#[test]
fn the_watchdog_arrives_at_the_heartbeat_receiver_through_prometheus_and_alertmanager() {
    for generation in ["prometheus", "prometheus3"] {
        let (heartbeats, elsewhere) =
            heartbeat_through_prometheus(generation, Duration::from_secs(60), |_| {})
                .unwrap_or_else(|e| panic!("{generation}: {e}"));
        let labels = &heartbeats[0]["labels"];
        assert_eq!(labels["severity"], "none", "{generation}: {labels}");
        let profile = read_profile(&Specs::copy().path(""), "local");
        for (key, value) in profile["prometheus"]["external_labels"].as_mapping().unwrap() {
            assert_eq!(
                labels[key.as_str().unwrap()],
                value.as_str().unwrap(),
                "{generation}: {labels}"
            );
        }
        assert!(elsewhere.is_empty(), "{generation}: {elsewhere:?}");
    }
}

/// The same path with the Watchdog turned off in the profile: nothing arrives, and the test
/// says so.
#[test]
fn a_missing_watchdog_is_caught_end_to_end() {
    let error = heartbeat_through_prometheus("prometheus", Duration::from_secs(15), |profile| {
        set(profile, "alerts.Watchdog.enabled", false);
    })
    .expect_err("without the Watchdog nothing reaches the heartbeat receiver");
    assert!(
        error.contains("the Watchdog at the heartbeat receiver"),
        "{error}"
    );
}

/// Every `*_file` value of `value`, at any depth.
fn secret_file_values(value: &serde_norway::Value, out: &mut Vec<String>) {
    match value {
        serde_norway::Value::Mapping(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    (Some(key), Some(path)) if key.ends_with("_file") => out.push(path.to_string()),
                    _ => secret_file_values(value, out),
                }
            }
        }
        serde_norway::Value::Sequence(items) => items.iter().for_each(|v| secret_file_values(v, out)),
        _ => {}
    }
}

/// The generated README lists exactly the secret files production's `alertmanager.yml` reads,
/// so the operator knows what to mount; a profile without integrations has no such section.
#[test]
fn the_readme_lists_every_secret_file_alertmanager_reads() {
    let out = bundle::build(&bundle::SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    let yml: serde_norway::Value =
        serde_norway::from_str(&specs::text(&out, "alertmanager/alertmanager.yml")).unwrap();
    let mut files = Vec::new();
    secret_file_values(&yml, &mut files);
    files.sort();
    assert!(!files.is_empty());
    let readme = specs::text(&out, "README.md");
    let section = readme
        .split("## Alertmanager's secret files")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("production's README has the secret files section");
    let mut listed: Vec<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect();
    listed.sort();
    assert_eq!(listed, files);
    let staging = bundle::build(&bundle::SpecSource::Embedded, "staging", &Overrides::default()).unwrap();
    assert!(!specs::text(&staging, "README.md").contains("## Alertmanager's secret files"));
}
