//! The assertions of the end-to-end test, one function per step. Each returns `Err` with what it
//! expected and what it got (the query and the answer), so a negative test can call the same step
//! and assert on its message.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::Value;
use sockudo_obs::bundle::unfed_families;
use sockudo_obs::catalogue::{Domain, Kind, Source, CATALOGUE};
use sockudo_obs::coverage::{feed, Build};

use super::bundle::{substitute_variables, PanelQuery, DASHBOARD_VARIABLES};
use super::http::{get, PromApi};
use super::process::wait_until;
use super::sink::alerts_of;
use super::stack::{unix_now, Stack};

/// The coverage column of a stack's real server.
fn build_of(stack: &Stack) -> Result<Build, String> {
    stack
        .build
        .ok_or_else(|| "the demo feeds every family; this step is for a real server".to_string())
}

/// Fed families that only a failure the traffic cannot cause moves: Sockudo 5.2.0 reports a
/// request to the other nodes as unresolved only when it times out, and neither Redis gone
/// (requests fail before they are sent) nor a node killed mid-run (the others stop waiting for
/// it) made one time out here. The drop-in's unit test proves the mapping.
pub const NEEDS_A_FAILURE: &[&str] = &["adapter_errors_total"];

/// nginx lets only the right credentials through, and Prometheus's scrape through it succeeds.
pub fn access(stack: &Stack) -> Result<(), String> {
    let url = stack.proxy_url();
    let attempts = [
        ("no credentials", None, 401),
        (
            "a wrong password",
            Some((stack.user.as_str(), "not-the-password")),
            401,
        ),
        (
            "the right password",
            Some((stack.user.as_str(), stack.password.as_str())),
            200,
        ),
    ];
    for (what, credentials, expected) in attempts {
        let reply = get(&url, &[], credentials)?;
        if reply.status != expected {
            return Err(format!(
                "GET {url} with {what}: expected HTTP {expected}, got {}: {}",
                reply.status,
                excerpt(&reply.body)
            ));
        }
    }
    let exposed = format!("{}active_connections", stack.prefix);
    let reply = get(&url, &[], Some((&stack.user, &stack.password)))?;
    if !reply.body.contains(&exposed) {
        return Err(format!(
            "GET {url} (authorised): no {exposed} in {}",
            excerpt(&reply.body)
        ));
    }
    wait_until(Duration::from_secs(20), "the scrape target to be up", || {
        let data = stack
            .prometheus
            .get_data("/api/v1/targets", &[("state", "active")])?;
        let targets = data["activeTargets"].as_array().cloned().unwrap_or_default();
        let ours: Vec<&Value> = targets
            .iter()
            .filter(|t| t["labels"]["job"] == stack.job.as_str())
            .collect();
        if ours.len() != stack.instances.len() {
            return Err(format!(
                "expected {} targets of job {} ({:?}), got {}",
                stack.instances.len(),
                stack.job,
                stack.instances,
                Value::from(targets.clone())
            ));
        }
        match ours.iter().find(|target| target["health"] != "up") {
            None => Ok(Some(())),
            Some(target) => Err(format!(
                "target {}: health {}, lastError {}",
                target["scrapeUrl"], target["health"], target["lastError"]
            )),
        }
    })
}

/// The self-monitoring jobs' targets, this Prometheus and its Alertmanager, answer: the alerts of
/// `alerts/self-monitoring.yaml` read what they scrape, and a target on the wrong address would
/// leave those alerts blind without a word.
pub fn self_monitoring_up(stack: &Stack) -> Result<(), String> {
    for job in sockudo_obs::bundle::SELF_MONITORING_JOBS {
        let expr = format!("up{{job=\"{job}\"}} == 1");
        wait_until(Duration::from_secs(20), &expr, || {
            Ok((!stack.prometheus.query(&expr, None)?.is_empty()).then_some(()))
        })?;
    }
    Ok(())
}

/// Waits until Prometheus holds five scrapes of the exporter, so rates have samples to work on.
pub fn warm_up(stack: &Stack) -> Result<(), String> {
    let expr = format!("count_over_time(up{{job=\"{}\"}}[1m]) >= 5", stack.job);
    wait_until(Duration::from_secs(30), &expr, || {
        Ok((!stack.prometheus.query(&expr, None)?.is_empty()).then_some(()))
    })
}

/// Every catalogue family exists in Prometheus under the bundle's prefix, with its type.
pub fn metric_families(stack: &Stack) -> Result<(), String> {
    wait_until(
        Duration::from_secs(15),
        "every catalogue family's metadata",
        || {
            let metadata = stack.prometheus.get_data("/api/v1/metadata", &[])?;
            let names = stack.prometheus.get_data("/api/v1/label/__name__/values", &[])?;
            let names: BTreeSet<&str> = names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut problems = Vec::new();
            for def in CATALOGUE {
                let family = def.full_name(&stack.prefix);
                let sample = match def.kind {
                    Kind::Histogram => format!("{family}_bucket"),
                    Kind::Counter | Kind::Gauge => family.clone(),
                };
                let kind = metadata[&family][0]["type"].as_str();
                if kind != Some(def.kind.as_str()) {
                    problems.push(format!(
                        "  {family}: metadata type {kind:?}, expected {}",
                        def.kind.as_str()
                    ));
                }
                if !names.contains(sample.as_str()) {
                    problems.push(format!("  {family}: no series named {sample}"));
                }
            }
            none_failed(
                problems,
                CATALOGUE.len(),
                "catalogue families are wrong or missing",
            )
        },
    )
}

/// Every recording rule of the bundle returns data.
pub fn recording_rules(stack: &Stack) -> Result<(), String> {
    let rules = stack.bundle.recording_rules()?;
    if rules.is_empty() {
        return Err("the bundle has no recording rules".into());
    }
    wait_until(
        Duration::from_secs(30),
        "every recording rule to return data",
        || {
            let mut empty = Vec::new();
            for (record, expr) in &rules {
                if stack.prometheus.query(record, None)?.is_empty() {
                    empty.push(format!("  {record} (expr: {expr}) returned no data"));
                }
            }
            none_failed(empty, rules.len(), "recording rules are empty")
        },
    )
}

/// Every dashboard query, its variables substituted, returns data from `api` within `timeout`.
/// The error names each failing panel and its query.
pub fn dashboard_queries(api: &PromApi, queries: &[PanelQuery], timeout: Duration) -> Result<(), String> {
    let queries: Vec<&PanelQuery> = queries.iter().filter(|q| !reads_alerts(q)).collect();
    wait_until(timeout, "every dashboard query to return data", || {
        let mut failures = Vec::new();
        for query in &queries {
            let sent = substitute_variables(&query.expr, DASHBOARD_VARIABLES)?;
            let problem = match api.query(&sent, None) {
                Ok(result) if result.is_empty() => "no data".to_string(),
                Ok(_) => continue,
                Err(error) => error,
            };
            failures.push(format!(
                "  {} panel {:?}: query `{}` (sent as `{sent}`): {problem}",
                query.dashboard, query.panel, query.expr
            ));
        }
        let what = format!("dashboard queries failed on {}", api.name);
        none_failed(failures, queries.len(), &what)
    })
}

/// A query over the alert series (the Alerts row): it has data only while an alert fires, so the
/// steps that want data from every query leave it out.
fn reads_alerts(query: &&PanelQuery) -> bool {
    sockudo_obs::bundle::metric_names(&query.expr).is_ok_and(|names| names.iter().any(|n| n == "ALERTS"))
}

/// The label sets of a query's result, without `ignored` labels, as sorted strings.
fn label_sets(result: &[Value], ignored: &BTreeSet<&str>) -> BTreeSet<String> {
    result
        .iter()
        .map(|item| {
            let labels: BTreeMap<&str, &str> = item["metric"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(name, _)| !ignored.contains(name.as_str()))
                .map(|(name, value)| (name.as_str(), value.as_str().unwrap_or_default()))
                .collect();
            format!("{labels:?}")
        })
        .collect()
}

/// Samples reach VictoriaMetrics through `remote_write`, and every dashboard query returns the
/// same series there as in Prometheus (labels Prometheus adds on the way out, its
/// `external_labels`, aside).
pub fn victoria_metrics_matches(stack: &Stack, queries: &[PanelQuery]) -> Result<(), String> {
    let arrived = format!("count({{__name__=~\"{}.+\"}})", stack.prefix);
    wait_until(Duration::from_secs(30), "samples in VictoriaMetrics", || {
        Ok((!stack.victoria_metrics.query(&arrived, None)?.is_empty()).then_some(()))
    })?;
    let external = stack.bundle.external_labels()?;
    let ignored: BTreeSet<&str> = external.keys().map(String::as_str).collect();
    wait_until(
        Duration::from_secs(60),
        "the same series in VictoriaMetrics as in Prometheus",
        || {
            // A moment both have complete data for: remote_write ships in batches.
            let at = unix_now() - 10.0;
            let mut differences = Vec::new();
            for query in queries.iter().filter(|q| !reads_alerts(q)) {
                let sent = substitute_variables(&query.expr, DASHBOARD_VARIABLES)?;
                let prom = label_sets(&stack.prometheus.query(&sent, Some(at))?, &ignored);
                let vm = label_sets(&stack.victoria_metrics.query(&sent, Some(at))?, &ignored);
                if prom.is_empty() || prom != vm {
                    differences.push(format!(
                        "  {} panel {:?}: `{sent}`\n    Prometheus: {prom:?}\n    VictoriaMetrics: {vm:?}",
                        query.dashboard, query.panel
                    ));
                }
            }
            none_failed(differences, queries.len(), "queries differ")
        },
    )
}

/// One alert as the API shows it, for messages.
fn describe(alert: &Value) -> String {
    format!(
        "{} ({}) labels {} value {} annotations {}",
        alert["labels"]["alertname"], alert["state"], alert["labels"], alert["value"], alert["annotations"]
    )
}

/// In normal mode no alert is pending or firing, nor was any since `since` (unix seconds), and
/// nothing reached the webhook.
/// The always-firing heartbeat (`Watchdog`) is not an alert here: it goes to its own receiver.
pub fn quiet_in_normal_mode(stack: &Stack, since: f64) -> Result<(), String> {
    let heartbeat = sockudo_obs::bundle::HEARTBEAT_ALERT;
    let mut active = stack.prometheus.alerts()?;
    active.retain(|a| a["labels"]["alertname"] != heartbeat);
    if !active.is_empty() {
        let list: Vec<String> = active.iter().map(describe).collect();
        return Err(format!(
            "expected no alert in normal mode, got {}:\n  {}",
            list.len(),
            list.join("\n  ")
        ));
    }
    let window = (unix_now() - since).ceil().max(1.0);
    let expr = format!("max_over_time(ALERTS{{alertname!=\"{heartbeat}\"}}[{window}s])");
    let history = stack.prometheus.query(&expr, None)?;
    if !history.is_empty() {
        return Err(format!(
            "`{expr}`: alerts were active in normal mode: {}",
            Value::from(history)
        ));
    }
    let heartbeat_path = stack.heartbeat_path()?;
    let notifications: Vec<Value> = stack
        .sink
        .posts()
        .into_iter()
        .filter(|(path, _)| *path != heartbeat_path)
        .map(|(_, body)| body)
        .collect();
    if !notifications.is_empty() {
        return Err(format!(
            "the webhook received notifications in normal mode: {}",
            Value::from(notifications)
        ));
    }
    Ok(())
}

/// The always-firing `Watchdog` reaches the profile's heartbeat receiver, and nothing else
/// arrives there: the dead man's switch an external service watches.
pub fn heartbeat_arrives(stack: &Stack) -> Result<(), String> {
    let heartbeat = sockudo_obs::bundle::HEARTBEAT_ALERT;
    let path = stack.heartbeat_path()?;
    let alerts = wait_until(
        Duration::from_secs(30),
        &format!("{heartbeat} at the heartbeat receiver ({path})"),
        || {
            let alerts: Vec<Value> = alerts_of(&stack.sink.notifications_to(&path)).collect();
            Ok((!alerts.is_empty()).then_some(alerts))
        },
    )?;
    let others: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["labels"]["alertname"] != heartbeat || a["status"] != "firing")
        .collect();
    if !others.is_empty() {
        return Err(format!("the heartbeat receiver got other alerts: {others:?}"));
    }
    Ok(())
}

/// What makes one seed alert fire, and the labels that show it fired for the right reason.
pub struct AlertCase {
    pub alertname: &'static str,
    /// The demo scenario that trips it; `None` means killing the exporter.
    pub scenario: Option<&'static str>,
    /// Labels the firing alert must carry, besides `alertname` and `severity`.
    pub labels: Vec<(&'static str, String)>,
}

/// The annotations every alert must carry, rendered (no template left in them).
const ANNOTATIONS: [&str; 3] = ["summary", "description", "runbook_url"];

fn check_labels_and_annotations(alert: &Value, case: &AlertCase, source: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    if alert["labels"]["severity"]
        .as_str()
        .unwrap_or_default()
        .is_empty()
    {
        problems.push("no severity label".to_string());
    }
    for (name, value) in &case.labels {
        if alert["labels"][*name] != value.as_str() {
            problems.push(format!(
                "label {name}: expected {value:?}, got {}",
                alert["labels"][*name]
            ));
        }
    }
    for name in ANNOTATIONS {
        let text = alert["annotations"][name].as_str().unwrap_or_default();
        if text.is_empty() || text.contains("{{") {
            problems.push(format!("annotation {name}: {text:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} in {source}: {}: {}",
            case.alertname,
            problems.join("; "),
            describe(alert)
        ))
    }
}

/// The alert is quiet, then fires in Prometheus once its trigger is pulled (the demo's scenario,
/// or the exporter killed), and reaches the webhook with its labels and annotations.
pub fn alert_fires(stack: &Stack, case: &AlertCase) -> Result<(), String> {
    alert_fires_after(stack, case, || match case.scenario {
        Some(scenario) => stack.set_scenario(scenario),
        None => {
            stack.kill_exporter();
            Ok(())
        }
    })
}

/// [`alert_fires`] with the trigger `pull` (on a real server: a crowd of clients, a paused
/// Redis, ...).
pub fn alert_fires_after(
    stack: &Stack,
    case: &AlertCase,
    pull: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let ours = |alerts: Vec<Value>| -> Vec<Value> {
        alerts
            .into_iter()
            .filter(|a| a["labels"]["alertname"] == case.alertname)
            .collect()
    };
    if let Some(alert) = ours(stack.prometheus.alerts()?).first() {
        return Err(format!(
            "{} was already active before its trigger: {}",
            case.alertname,
            describe(alert)
        ));
    }
    pull()?;
    let alert = wait_until(
        Duration::from_secs(60),
        &format!("{} to fire in Prometheus", case.alertname),
        || {
            let alerts = ours(stack.prometheus.alerts()?);
            let firing = alerts.iter().find(|a| a["state"] == "firing").cloned();
            match firing {
                Some(alert) => Ok(Some(alert)),
                None => Err(format!("{:?}", alerts.iter().map(describe).collect::<Vec<_>>())),
            }
        },
    )?;
    check_labels_and_annotations(&alert, case, "Prometheus")?;
    // It arrives through the receiver the profile gives its severity: a page at the pager's URL.
    let severity = alert["labels"]["severity"].as_str().unwrap_or_default();
    let path = stack.receiver_path(severity)?;
    let delivered = wait_until(
        Duration::from_secs(30),
        &format!("{} at the {severity} receiver ({path})", case.alertname),
        || {
            let arrived = alerts_of(&stack.sink.notifications_to(&path))
                .find(|a| a["labels"]["alertname"] == case.alertname && a["status"] == "firing");
            match arrived {
                Some(alert) => Ok(Some(alert)),
                None => Err(format!(
                    "at other paths: {:?}",
                    stack.sink.alerts_named(case.alertname, "firing")
                )),
            }
        },
    )?;
    if delivered["labels"]["alertname"] != case.alertname {
        return Err(format!("webhook alert without alertname: {delivered}"));
    }
    check_labels_and_annotations(&delivered, case, "the webhook notification")
}

/// `Ok(Some(()))` for a poll with no failures, else an error saying how many of `total` failed
/// (`"3 of 40 {what}:"`) and listing them, one per line.
fn none_failed(failures: Vec<String>, total: usize, what: &str) -> Result<Option<()>, String> {
    if failures.is_empty() {
        return Ok(Some(()));
    }
    Err(format!(
        "{} of {total} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    ))
}

fn excerpt(text: &str) -> &str {
    let end = text.char_indices().nth(300).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

// ------------------------------------------------------------------ the real server ----

/// The labels Prometheus attaches to every series of the scrape target (`job`, `instance`, the
/// static config's own), read from `up`.
fn target_labels(stack: &Stack) -> Result<BTreeSet<String>, String> {
    let up = stack
        .prometheus
        .query(&format!("up{{job=\"{}\"}}", stack.job), None)?;
    let labels = up
        .first()
        .and_then(|s| s["metric"].as_object())
        .ok_or("no `up` series")?;
    Ok(labels.keys().filter(|k| *k != "__name__").cloned().collect())
}

/// Every seed family the coverage table calls fed has a non-zero total in Prometheus (a gauge: at
/// some scrape of the run), and each
/// of its series carries exactly the catalogue's labels (plus the target's), with values in the
/// catalogue's domains.
pub fn fed_families(stack: &Stack) -> Result<(), String> {
    let build = build_of(stack)?;
    let target = target_labels(stack)?;
    wait_until(Duration::from_secs(30), "every fed family to have data", || {
        let mut problems = Vec::new();
        let fed: Vec<_> = CATALOGUE
            .iter()
            .filter(|def| def.source == Source::Seed)
            .filter(|def| feed(build, def.name).is_some_and(|f| f.is_fed()))
            .collect();
        for def in &fed {
            let family = def.full_name(&stack.prefix);
            // A gauge has carried data if any scrape of the run saw it non-zero: one that rises
            // and falls back (the queue's depth once the retries are done) is fed too.
            let sample = match def.kind {
                Kind::Histogram => format!("{family}_count"),
                Kind::Counter => family.clone(),
                Kind::Gauge => format!("max_over_time({family}[15m])"),
            };
            let series = stack.prometheus.query(&sample, None)?;
            let total: f64 = series
                .iter()
                .filter_map(|s| s["value"][1].as_str()?.parse::<f64>().ok())
                .sum();
            if total <= 0.0 && !NEEDS_A_FAILURE.contains(&def.name) {
                problems.push(format!("  {sample}: total {total} over {} series", series.len()));
            }
            for item in &series {
                let labels = item["metric"].as_object().cloned().unwrap_or_default();
                let names: BTreeSet<String> = labels.keys().filter(|k| *k != "__name__").cloned().collect();
                let expected: BTreeSet<String> = def
                    .label_names()
                    .map(String::from)
                    .chain(target.iter().cloned())
                    .collect();
                if names != expected {
                    problems.push(format!("  {sample}: labels {names:?}, expected {expected:?}"));
                }
                for label in def.labels {
                    let value = labels.get(label.name).and_then(Value::as_str).unwrap_or_default();
                    if let Domain::Enum(values) = label.domain {
                        if !values.contains(&value) {
                            problems.push(format!(
                                "  {sample}: {}={value:?} is not one of {values:?}",
                                label.name
                            ));
                        }
                    }
                }
            }
        }
        none_failed(problems, fed.len(), "fed families are empty or mislabelled")
    })
}

/// The series of `expr` whose value is above zero, as `label=value` strings of `by`.
fn positive(stack: &Stack, expr: &str, by: &str) -> Result<BTreeSet<String>, String> {
    Ok(stack
        .prometheus
        .query(expr, None)?
        .iter()
        .filter(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()) > Some(0.0))
        .map(|s| s["metric"][by].as_str().unwrap_or_default().to_string())
        .collect())
}

/// What the traffic did is what the server recorded: subscriptions on every channel type but
/// `private-encrypted`, which Sockudo 5.2.0 reports as `private` (see the coverage table), both
/// floods tripping their limiter, the unknown key counted as `app_not_found` under its own
/// `app_id`, and publishes fanned out on all five channel types.
pub fn traffic_recorded(stack: &Stack) -> Result<(), String> {
    let p = &stack.prefix;
    let expectations: [(String, &str, &[&str]); 5] = [
        (
            format!("sum by (channel_type) ({p}channel_subscriptions_total)"),
            "channel_type",
            &["public", "private", "presence", "cache"],
        ),
        (
            format!("sum by (limiter_type) ({p}rate_limit_triggered_total)"),
            "limiter_type",
            &["client_events", "api"],
        ),
        (
            format!("sum by (app_id) ({p}rate_limit_triggered_total{{limiter_type=\"api\"}})"),
            "app_id",
            &[sockudo_obs::live::sockudo::GLOBAL_APP_ID],
        ),
        (
            format!("sum by (app_id) ({p}connection_errors_total{{error_type=\"app_not_found\"}})"),
            "app_id",
            &[super::sockudo::UNKNOWN_KEY],
        ),
        (
            format!("sum by (channel_type) ({p}broadcast_messages_total)"),
            "channel_type",
            &["public", "private", "presence", "private-encrypted", "cache"],
        ),
    ];
    wait_until(Duration::from_secs(30), "the traffic in Prometheus", || {
        let mut problems = Vec::new();
        for (expr, by, wanted) in &expectations {
            let seen = positive(stack, expr, by)?;
            let missing: Vec<_> = wanted.iter().filter(|w| !seen.contains(**w)).collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "  `{expr}`: no positive series for {by} {missing:?} (got {seen:?})"
                ));
            }
        }
        none_failed(problems, expectations.len(), "expectations unmet")
    })
}

/// No family the coverage table calls "not fed" shows anything but zeros: the drop-in never
/// presents an unfed family as fed, even under traffic that would feed it on a server that did.
pub fn unfed_families_stay_zero(stack: &Stack) -> Result<(), String> {
    let build = build_of(stack)?;
    let mut problems = Vec::new();
    let unfed: Vec<_> = CATALOGUE
        .iter()
        .filter(|def| feed(build, def.name).is_some_and(|f| !f.is_fed()))
        .collect();
    for def in &unfed {
        let family = def.full_name(&stack.prefix);
        let sample = match def.kind {
            Kind::Histogram => format!("{family}_count"),
            Kind::Counter | Kind::Gauge => family,
        };
        let nonzero = stack.prometheus.query(&format!("{sample} != 0"), None)?;
        if !nonzero.is_empty() {
            problems.push(format!("  {sample}: {}", Value::from(nonzero)));
        }
    }
    none_failed(problems, unfed.len(), "unfed families have values").map(|_| ())
}

/// The bundle's recording rules and dashboard queries that read only fed families return data;
/// returns how many were checked and how many were left out as reading an unfed family.
pub fn queries_over_fed_families(stack: &Stack, queries: &[PanelQuery]) -> Result<(usize, usize), String> {
    let rules = stack.bundle.recording_rules()?;
    let recorded: BTreeMap<&str, &str> = rules.iter().map(|(r, e)| (r.as_str(), e.as_str())).collect();
    let build = build_of(stack)?;
    let reads_only_fed = |expr: &str| unfed_families(build, &stack.prefix, expr, &recorded).is_empty();
    let mut over_fed = Vec::new();
    let mut left_out = 0;
    for (record, expr) in &rules {
        if reads_only_fed(expr) {
            over_fed.push(PanelQuery {
                dashboard: "recording rules".into(),
                panel: record.clone(),
                expr: record.clone(),
            });
        } else {
            left_out += 1;
        }
    }
    for query in queries {
        let sent = substitute_variables(&query.expr, DASHBOARD_VARIABLES)?;
        if reads_only_fed(&sent) {
            over_fed.push(query.clone());
        } else {
            left_out += 1;
        }
    }
    if over_fed.is_empty() {
        return Err("no recording rule or dashboard query reads only fed families".into());
    }
    dashboard_queries(&stack.prometheus, &over_fed, Duration::from_secs(60))?;
    Ok((over_fed.len(), left_out))
}

/// The coverage column of a stack's real server, seen through its bundle: the proxy lets the
/// scrape through, every family the build feeds arrives with the catalogue's labels, the unfed
/// ones stay at zero, and every recording rule and dashboard query over fed families returns
/// data (`tag` names the test in the log).
pub fn coverage_through_the_bundle(stack: &Stack, tag: &str) {
    stack.step("access through the proxy", access);
    stack.step("warm-up", warm_up);
    stack.step("fed families arrive with the catalogue's labels", fed_families);
    stack.step("unfed families stay at zero", unfed_families_stay_zero);
    let queries = stack.step("reading the dashboards", |s| s.bundle.dashboard_queries());
    let (checked, left_out) = stack.step("rules and dashboard queries over fed families", |s| {
        queries_over_fed_families(s, &queries)
    });
    eprintln!("[{tag}] {checked} queries over fed families returned data; {left_out} read an unfed family");
}
