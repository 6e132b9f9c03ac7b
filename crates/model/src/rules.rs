//! Alerting and recording rule specs (`alerts/*.yaml`), resolved for one environment: the
//! profile's thresholds and `for` durations applied, placeholders filled in, metric names under the
//! active prefix. Specs are written against the default prefix `sockudo_`; [`respell_prefix`] moves
//! them to the active one so the check sees exactly what Prometheus will run.
//!
//! A spec file holds `version: 1`, a `recording:` list and an `alerts:` list. Each alert carries
//! its runbook and its promtool fixtures (a firing case and a quiet case at least), whose `values`
//! may compute from the environment's `threshold` (`${ threshold * 2 }x40`) so they hold for every
//! profile.
//!
//! Every placeholder is `${ ... }` ([`super::jinja`]'s `Vars::fill`): a variable or a minijinja
//! expression over the variables its field offers ([`AlertRule`]'s fields say which). `{{ ... }}`
//! is Prometheus's: it stays in descriptions for Prometheus to fill (`{{ $labels.instance }}`).

use std::collections::{BTreeMap, BTreeSet};

use crate::Result;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::expr::metric_names;
use super::jinja::{variables_read, Vars};
use super::layout::{runbook_anchor, SEVERITIES};
pub(crate) use super::profile::{label_lists, routing_values, POD_LABEL};
use super::profile::{Profile, PromDuration};
use super::source::{Folder, SourceFile, SpecSource};
use crate::catalogue::respell_prefix;
use sockudo_obs_catalogue::Error;

/// The placeholder for the profile's scrape job name (`prometheus.job_name`): in expressions,
/// fixture series and labels, summaries and descriptions.
pub(crate) const JOB_PLACEHOLDER: &str = "${job}";
/// The placeholder a ratio alert's `expr` holds where its traffic floor goes: the fewest events
/// (requests, connection attempts, jobs, ...) in the ratio's window for the ratio to count.
pub const MIN_TRAFFIC_PLACEHOLDER: &str = "${min_traffic}";

/// How long a fixture's condition holds before the alert's `for` starts counting, unless the
/// fixture says otherwise: long enough for a `[5m]` rate to see a full window.
const DEFAULT_WARMUP: &str = "10m";

/// Every rule file of the bundle, in file-name order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The spec files of `alerts/`, then the rule files the SLOs generate.
    pub files: Vec<RuleFile>,
}

/// One spec file: rendered as one rule group (recording rules first, so alerts in the same group
/// read values computed in the same evaluation).
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// The spec file (`alerts/http.yaml`); problems name it.
    pub path: String,
    /// The file stem (`http`): names the group and the rendered files.
    pub stem: String,
    /// The recording rules (`recording:`).
    pub recording: Vec<RecordingRule>,
    /// The alerting rules (`alerts:`).
    pub alerts: Vec<AlertRule>,
    /// The `evaluation_interval` of the file's promtool tests when it is not the profile's (the
    /// SLO fixtures span days).
    pub test_evaluation_interval: Option<PromDuration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    /// The spec format's version, checked by [`super::profile::parse_spec`].
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    recording: Vec<serde_norway::Value>,
    #[serde(default)]
    alerts: Vec<serde_norway::Value>,
}

/// A recording rule, named `level:metric:operations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingRule {
    /// The recorded series' name (`job_instance:sockudo_http_requests:rate5m`).
    pub record: String,
    /// The PromQL expression; `${job}` and the label lists `${routing}` and `${pod}` are filled in
    /// when resolving.
    pub expr: String,
}

/// An alerting rule. Fields the mixin style requires are optional here so that a missing one is
/// reported by the check, naming the alert, rather than by the YAML parser.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// The alert's name (`alert`), e.g. `SockudoHighErrorRate`; profiles override the alert by it.
    #[serde(rename = "alert")]
    pub name: String,
    /// The PromQL condition, its placeholders filled when resolving: `job`, `threshold` and
    /// `min_traffic` (when the alert has them), the label lists `routing` and `pod`.
    pub expr: String,
    /// Substituted at `${threshold}` in `expr`; profiles may override it per alert.
    pub threshold: Option<f64>,
    /// Substituted at `${min_traffic}` in `expr`: a ratio alert stays quiet below this many events
    /// in its window, so five requests with one error never page. Profiles may override it.
    pub min_traffic: Option<f64>,
    /// How long the condition must hold before the alert fires (`for`); profiles may override it.
    #[serde(rename = "for")]
    pub for_: Option<PromDuration>,
    /// The alert's `severity` label, which routes it (`critical`, `warning`, `info`); profiles may
    /// override it.
    pub severity: Option<String>,
    /// A static sentence.
    pub summary: Option<String>,
    /// A Go template over `$labels` and `$value` (see [`TemplateAction`]).
    pub description: Option<String>,
    /// The alert's section of the generated runbook.
    pub runbook: Option<Runbook>,
    /// The expression cannot carry the routing labels (an `absent()` has only its matchers'
    /// labels), so the alert takes them from the profile: the cluster from `external_labels`,
    /// the namespace from `kubernetes.namespace`.
    #[serde(default)]
    pub routing_from_profile: bool,
    /// The labels `routing_from_profile` adds; set when resolving.
    #[serde(skip)]
    pub static_labels: BTreeMap<String, String>,
    /// The profile's `docs.runbook_url` plus this alert's section anchor; set when resolving.
    #[serde(skip)]
    pub runbook_url: String,
    /// The alert's promtool fixtures (`tests:`).
    #[serde(default)]
    pub tests: Vec<AlertTest>,
}

/// The alert's section of the generated runbook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    /// What the alert means.
    pub meaning: String,
    /// What users notice while it fires.
    pub impact: String,
    /// How to find the cause (Markdown; queries, commands).
    pub diagnosis: String,
    /// How to make it stop.
    pub mitigation: String,
}

/// A promtool fixture: input series, and the alerts expected once the condition has held for the
/// warm-up plus the alert's `for` (none for a quiet case).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    /// What the case shows (`quiet below the threshold`); names the promtool test.
    pub name: String,
    /// The spacing of the input samples.
    #[serde(default = "default_interval")]
    pub interval: PromDuration,
    /// How long after the first sample the `for` starts counting.
    #[serde(default = "default_warmup")]
    pub warmup: PromDuration,
    /// The input series and their samples.
    pub input_series: Vec<InputSeries>,
    /// The alerts expected to fire; empty for the quiet case.
    #[serde(default)]
    pub fires: Vec<ExpectedAlert>,
    /// Other alerts of the bundle that must stay quiet on the same input (a flapping target must
    /// not raise SockudoInstanceDown, say).
    #[serde(default)]
    pub quiet: Vec<String>,
}

fn default_interval() -> PromDuration {
    PromDuration::parse("1m").expect("valid literal")
}

fn default_warmup() -> PromDuration {
    PromDuration::parse(DEFAULT_WARMUP).expect("valid literal")
}

impl AlertTest {
    /// When promtool evaluates: after the warm-up and the whole `for`.
    pub fn eval_time(&self, for_: Option<&PromDuration>) -> String {
        let for_seconds = for_.map_or(0, PromDuration::seconds);
        format!("{}s", self.warmup.seconds() + for_seconds)
    }
}

/// One input series of a promtool fixture.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    /// A series selector with every label, e.g. `sockudo_queue_active_jobs{job="${job}", queue="q"}`.
    pub series: String,
    /// promtool's expanding notation (`0+10x30`), whose `${ ... }` may compute from `threshold`
    /// and `min_traffic` (`${ threshold * 2 }x40`).
    pub values: String,
}

/// An alert a fixture expects to fire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAlert {
    /// The alert's labels besides `alertname` and `severity`, which are added.
    pub labels: BTreeMap<String, String>,
    /// The alert's value, needed when the description shows `$value`; `${ ... }` as in `values`.
    pub value: Option<String>,
}

impl RuleSet {
    /// Reads every spec, adds the `generated` rule files (the SLOs', under the default prefix),
    /// applies the profile's overrides and resolves the result for the profile's prefix and job.
    pub fn load(source: &SpecSource, profile: &Profile, generated: Vec<RuleFile>) -> Result<RuleSet> {
        let mut files = source
            .files(Folder::Alerts, &[".yaml", ".yml"])?
            .iter()
            .map(RuleFile::parse)
            .collect::<Result<Vec<_>>>()?;
        for alert in files.iter_mut().flat_map(|f| f.alerts.iter_mut()) {
            alert.add_routing_fixture(profile);
        }
        files.extend(generated);
        let mut set = RuleSet { files };
        set.apply_overrides(profile)?;
        set.resolve(profile)?;
        Ok(set)
    }

    /// Every alerting rule, with the file it is in.
    pub fn alerts(&self) -> impl Iterator<Item = (&RuleFile, &AlertRule)> {
        self.files
            .iter()
            .flat_map(|f| f.alerts.iter().map(move |a| (f, a)))
    }

    /// Every recording rule, with the file it is in.
    pub fn recording_rules(&self) -> impl Iterator<Item = (&RuleFile, &RecordingRule)> {
        self.files
            .iter()
            .flat_map(|f| f.recording.iter().map(move |r| (f, r)))
    }

    fn apply_overrides(&mut self, profile: &Profile) -> Result<()> {
        let known = self.alert_names().join(", ");
        for (name, over) in &profile.alerts {
            let alert = self
                .files
                .iter_mut()
                .flat_map(|f| f.alerts.iter_mut())
                .find(|a| &a.name == name)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "{}: alerts.{name}: no alert of that name in alerts/ (known: {})",
                        profile.path, known
                    ))
                    .with_key(format!("alerts.{name}"))
                    .with_path(&profile.path)
                })?;
            if let Some(threshold) = over.threshold {
                check_threshold(threshold).map_err(|msg| {
                    Error::usage(format!("{}: alerts.{name}.threshold: {msg}", profile.path))
                        .with_key(format!("alerts.{name}.threshold"))
                        .with_path(&profile.path)
                })?;
                alert.threshold = Some(threshold);
            }
            if let Some(for_) = &over.for_ {
                alert.for_ = Some(for_.clone());
            }
            if let Some(min_traffic) = over.min_traffic {
                alert.min_traffic = Some(min_traffic);
            }
            if let Some(severity) = &over.severity {
                if !SEVERITIES.contains(&severity.as_str()) {
                    return Err(Error::usage(format!(
                        "{}: alerts.{name}.severity: {} is not one of {}",
                        profile.path,
                        sockudo_obs_catalogue::echoed(severity),
                        SEVERITIES.join(", ")
                    ))
                    .with_key(format!("alerts.{name}.severity"))
                    .with_path(&profile.path));
                }
                alert.severity = Some(severity.clone());
            }
        }
        Ok(())
    }

    /// The alerts the profile turns off (`enabled: false`).
    pub fn disabled_by(profile: &Profile) -> BTreeSet<String> {
        profile
            .alerts
            .iter()
            .filter(|(_, over)| over.enabled == Some(false))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Leaves the `left_out` alerts out (turned off, or reading a family the server does not
    /// feed), with their fixtures and the `quiet` expectations other alerts' fixtures had of
    /// them. A recording rule only they read goes with them, unless `read_elsewhere` (the
    /// dashboards' metric names) reads it; a spec file left with no rule at all goes too.
    pub fn leave_out(&mut self, left_out: &BTreeSet<String>, read_elsewhere: &BTreeSet<String>) {
        let read_before = self.names_read();
        for file in &mut self.files {
            file.alerts.retain(|a| !left_out.contains(&a.name));
            for test in file.alerts.iter_mut().flat_map(|a| a.tests.iter_mut()) {
                test.quiet.retain(|other| !left_out.contains(other));
            }
        }
        // A recording rule nothing read in the specs stays: the check names it.
        loop {
            let read_now = self.names_read();
            let orphaned = |record: &str| {
                read_before.contains(record) && !read_now.contains(record) && !read_elsewhere.contains(record)
            };
            let before: usize = self.files.iter().map(|f| f.recording.len()).sum();
            for file in &mut self.files {
                file.recording.retain(|r| !orphaned(&r.record));
            }
            if self.files.iter().map(|f| f.recording.len()).sum::<usize>() == before {
                break;
            }
        }
        self.files
            .retain(|f| !(f.alerts.is_empty() && f.recording.is_empty()));
    }

    /// Every metric name the rules' expressions read. Unparseable expressions read nothing
    /// here: the check reports them.
    fn names_read(&self) -> BTreeSet<String> {
        let recording = self.recording_rules().map(|(_, r)| r.expr.as_str());
        let alerts = self.alerts().map(|(_, a)| a.expr.as_str());
        recording
            .chain(alerts)
            .filter_map(|expr| metric_names(expr).ok())
            .flatten()
            .collect()
    }

    fn alert_names(&self) -> Vec<String> {
        self.alerts().map(|(_, a)| a.name.clone()).collect()
    }

    fn resolve(&mut self, profile: &Profile) -> Result<()> {
        let prefix = &profile.metrics.prefix;
        let job = &profile.prometheus.job_name;
        let vars = label_lists(profile).text("job", job);
        for file in &mut self.files {
            for rule in &mut file.recording {
                let filled = vars.fill(&rule.expr).map_err(|msg| {
                    Error::usage(format!("{}: {}: expr: {msg}", file.path, rule.record))
                        .with_key(&rule.record)
                        .with_path(&file.path)
                })?;
                rule.record = respell_prefix(&rule.record, prefix);
                rule.expr = respell_prefix(&filled, prefix);
            }
            for alert in &mut file.alerts {
                alert.resolve(profile).map_err(|msg| {
                    Error::usage(format!("{}: {}: {msg}", file.path, alert.name))
                        .with_key(&alert.name)
                        .with_path(&file.path)
                })?;
            }
        }
        Ok(())
    }
}

impl RuleFile {
    fn parse(file: &SourceFile) -> Result<RuleFile> {
        let spec: SpecFile = super::profile::parse_spec(file)?;
        let alerts: Vec<AlertRule> = parse_items(file, spec.alerts, "alert")?;
        for alert in &alerts {
            if let Some(value) = alert.threshold {
                check_threshold(value).map_err(|msg| {
                    Error::usage(format!("{}: {}: threshold: {msg}", file.path, alert.name))
                        .with_key(&alert.name)
                        .with_path(&file.path)
                })?;
            }
        }
        Ok(RuleFile {
            path: file.path.clone(),
            stem: file.stem().to_string(),
            recording: parse_items(file, spec.recording, "record")?,
            alerts,
            test_evaluation_interval: None,
        })
    }

    /// The rule group's name.
    pub fn group(&self) -> String {
        format!("sockudo-{}", self.stem)
    }
}

/// Deserializes each list item on its own so an error names the rule (by its `name_key`) as well
/// as the file.
fn parse_items<T: DeserializeOwned>(
    file: &SourceFile,
    items: Vec<serde_norway::Value>,
    name_key: &str,
) -> Result<Vec<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let name = item
                .get(name_key)
                .and_then(serde_norway::Value::as_str)
                .map_or_else(|| format!("item {}", index + 1), str::to_string);
            serde_norway::from_value(item).map_err(|err| {
                Error::usage(format!("{}: {name}: {err}", file.path))
                    .with_key(&name)
                    .with_path(&file.path)
            })
        })
        .collect()
}

impl AlertRule {
    /// Fills the placeholders of every field for `profile`, each field with its own variables:
    ///
    /// - `expr`: `job`, `threshold` and `min_traffic` (when the alert has them), the label lists
    ///   `routing` and `pod`;
    /// - `summary`, `description`: those numbers, `job` and `for`;
    /// - the runbook: `namespace` and `app_label` (the profile's `kubernetes.*`);
    /// - fixture series and expected labels: `job`, `threshold`, `min_traffic`; fixture values:
    ///   `threshold`, `min_traffic`.
    ///
    /// An error names the field and the placeholder.
    fn resolve(&mut self, profile: &Profile) -> Result<(), String> {
        let prefix = &profile.metrics.prefix;
        let job = &profile.prometheus.job_name;
        let read = variables_read(&self.expr).map_err(|msg| format!("expr: {msg}"))?;
        for (name, value) in [("threshold", self.threshold), ("min_traffic", self.min_traffic)] {
            if value.is_some() != read.contains(name) {
                return Err(match value {
                    Some(_) => format!("has a {name} but its expr has no ${{{name}}}"),
                    None => format!("its expr uses ${{{name}}} but no {name} is set"),
                });
            }
        }
        if let Some(bad) = self.min_traffic.filter(|m| !(m.is_finite() && *m >= 0.0)) {
            return Err(format!("min_traffic {bad} must be a number of events, 0 or more"));
        }
        let numbers = Vars::new()
            .maybe_number("threshold", self.threshold)
            .maybe_number("min_traffic", self.min_traffic);
        let with_job = numbers.clone().text("job", job);
        let field = |name: &str, vars: &Vars, text: &str| -> Result<String, String> {
            vars.fill(text).map_err(|msg| format!("{name}: {msg}"))
        };
        let expr_vars = label_lists(profile)
            .text("job", job)
            .maybe_number("threshold", self.threshold)
            .maybe_number("min_traffic", self.min_traffic);
        self.expr = respell_prefix(&field("expr", &expr_vars, &self.expr)?, prefix);
        if self.routing_from_profile {
            self.static_labels = routing_values(profile);
        }
        let described = match &self.for_ {
            Some(for_) => with_job.clone().text("for", for_.as_str()),
            None => with_job.clone(),
        };
        for (name, text) in [
            ("summary", &mut self.summary),
            ("description", &mut self.description),
        ] {
            if let Some(text) = text {
                *text = field(name, &described, text)?;
            }
        }
        self.runbook_url = format!("{}#{}", profile.docs.runbook_url, runbook_anchor(&self.name));
        if let Some(runbook) = &mut self.runbook {
            let kubernetes = Vars::new()
                .text("namespace", &profile.kubernetes.namespace)
                .text("app_label", &profile.kubernetes.app_label);
            for (name, text) in [
                ("runbook.meaning", &mut runbook.meaning),
                ("runbook.impact", &mut runbook.impact),
                ("runbook.diagnosis", &mut runbook.diagnosis),
                ("runbook.mitigation", &mut runbook.mitigation),
            ] {
                *text = field(name, &kubernetes, text)?;
            }
        }
        for test in &mut self.tests {
            let at = |what: &str| format!("tests[{}].{what}", sockudo_obs_catalogue::echoed(&test.name));
            for input in &mut test.input_series {
                input.series = respell_prefix(
                    &field(&at("input_series.series"), &with_job, &input.series)?,
                    prefix,
                );
                input.values = fixture_value(&at("input_series.values"), &numbers, &input.values)?;
            }
            for expected in &mut test.fires {
                for (label, value) in &mut expected.labels {
                    *value = field(&at(&format!("fires.labels.{label}")), &with_job, value)?;
                }
                if let Some(value) = &mut expected.value {
                    *value = fixture_value(&at("fires.value"), &numbers, value)?;
                }
            }
        }
        Ok(())
    }

    /// The annotations the rule carries, in the order Prometheus users expect to read them.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("summary".to_string(), self.summary.clone().unwrap_or_default()),
            (
                "description".to_string(),
                self.description.clone().unwrap_or_default(),
            ),
            ("runbook_url".to_string(), self.runbook_url.clone()),
        ])
    }

    /// The labels the rule adds to every alert it raises.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.static_labels.clone();
        labels.insert("severity".to_string(), self.severity.clone().unwrap_or_default());
        labels
    }

    /// Adds a fixture proving the routing labels arrive on the alert: the first firing fixture
    /// again, every input series carrying the profile's cluster and namespace (and a pod beside
    /// each instance), the expected alerts carrying them too. An aggregation that drops one fails
    /// it under promtool. Nothing is added where the profile has no routing label.
    fn add_routing_fixture(&mut self, profile: &Profile) {
        let routing = routing_values(profile);
        let pods = profile.prometheus.kubernetes_sd.enabled;
        let Some(first) = self.tests.iter().find(|t| !t.fires.is_empty()) else {
            return;
        };
        if routing.is_empty() || first.input_series.is_empty() {
            return;
        }
        let mut test = first.clone();
        let names: Vec<&str> = routing
            .keys()
            .map(String::as_str)
            .chain(pods.then_some(POD_LABEL))
            .collect();
        test.name = format!("{} (with {} arriving on the alert)", test.name, names.join(", "));
        for input in &mut test.input_series {
            let mut labels = routing.clone();
            if pods {
                if let Some(instance) = series_label(&input.series, "instance") {
                    labels.insert(POD_LABEL.into(), fixture_pod(&instance));
                }
            }
            input.series = with_labels(&input.series, &labels);
        }
        for expected in &mut test.fires {
            let pod = expected
                .labels
                .get("instance")
                .filter(|_| pods)
                .map(|i| fixture_pod(i));
            expected.labels.extend(routing.clone());
            if let Some(pod) = pod {
                expected.labels.insert(POD_LABEL.into(), pod);
            }
        }
        self.tests.push(test);
    }
}

/// The pod the routing fixture gives an instance.
fn fixture_pod(instance: &str) -> String {
    format!("pod-{instance}")
}

/// The value of `label` in a fixture's series selector, if it is written there.
fn series_label(series: &str, label: &str) -> Option<String> {
    let inner = series.split_once('{')?.1;
    inner.split(',').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == label).then(|| {
            value
                .trim()
                .trim_end_matches('}')
                .trim()
                .trim_matches('"')
                .to_string()
        })
    })
}

/// A fixture's series selector with `labels` added in front of its own.
fn with_labels(series: &str, labels: &BTreeMap<String, String>) -> String {
    let added: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    match series.split_once('{') {
        Some((name, rest)) if rest.trim_start().starts_with('}') => {
            format!("{name}{{{}{rest}", added.join(", "))
        }
        Some((name, rest)) => format!("{name}{{{}, {rest}", added.join(", ")),
        None => format!("{series}{{{}}}", added.join(", ")),
    }
}

/// A fixture's `values` or `value` with its placeholders filled. They are promtool's input, never
/// a Prometheus template: a `{{ ... }}` or `{% ... %}` there is minijinja written the old way,
/// refused with the spelling to use (a loop becomes a repetition: `${ '1 0 ' * 80 }`).
fn fixture_value(field: &str, vars: &Vars, text: &str) -> Result<String, String> {
    if text.contains("{{") || text.contains("{%") {
        return Err(format!(
            "{field}: {}: `{{{{ ... }}}}` and `{{% ... %}}` are no placeholders (a fixture is no Prometheus template): write `${{ ... }}`",
            sockudo_obs_catalogue::echoed(text)
        ));
    }
    vars.fill(text).map_err(|msg| format!("{field}: {msg}"))
}

/// Formats a number as PromQL and Go print it (`5000`, `0.05`), for the rules the SLOs generate.
pub(crate) fn format_number(value: f64) -> String {
    format!("{value}")
}

/// One `{{ ... }}` action of an annotation template. Only these are supported, so the promtool
/// fixtures can compute the exact text Prometheus will render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateAction {
    /// `{{ $labels.name }}`
    Label(String),
    /// `{{ $value }}`
    Value,
    /// `{{ $value | humanizePercentage }}`
    ValueAsPercentage,
}

/// One piece of an annotation template: literal text or a `{{ ... }}` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text, kept as is.
    Text(String),
    /// A `{{ ... }}` action.
    Action(TemplateAction),
}

/// Splits an annotation into literal text and actions; an action outside [`TemplateAction`] is an
/// error.
pub fn parse_template(template: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        parts.push(TemplatePart::Text(rest[..open].to_string()));
        let close = rest[open..]
            .find("}}")
            .ok_or_else(|| format!("unclosed {{{{ in {template:?}"))?;
        let action = rest[open + 2..open + close].trim();
        let words: Vec<&str> = action.split_whitespace().collect();
        parts.push(TemplatePart::Action(match words.as_slice() {
            ["$value"] => TemplateAction::Value,
            ["$value", "|", "humanizePercentage"] => TemplateAction::ValueAsPercentage,
            [label] if label.starts_with("$labels.") => {
                TemplateAction::Label(label["$labels.".len()..].to_string())
            }
            _ => {
                return Err(format!(
                    "unsupported template action {{{{ {action} }}}} (use $labels.<name>, $value or $value | humanizePercentage; a placeholder of the spec is written ${{ ... }})"
                ))
            }
        }));
        rest = &rest[open + close + 2..];
    }
    parts.push(TemplatePart::Text(rest.to_string()));
    Ok(parts)
}

/// Renders an annotation template as Prometheus would for an alert with these labels and value.
pub fn render_template(
    template: &str,
    labels: &BTreeMap<String, String>,
    value: Option<f64>,
) -> Result<String, String> {
    let mut out = String::new();
    for part in parse_template(template)? {
        match part {
            TemplatePart::Text(text) => out.push_str(&text),
            TemplatePart::Action(TemplateAction::Label(name)) => out.push_str(
                labels
                    .get(&name)
                    .ok_or_else(|| format!("the fixture's alert has no label {name:?}"))?,
            ),
            TemplatePart::Action(action) => {
                let value = value.ok_or("the description shows $value: give the fixture's alert a value")?;
                out.push_str(&match action {
                    TemplateAction::Value => format_go_value(value),
                    _ => format!("{}%", format_go_g(value * 100.0, 4)),
                });
            }
        }
    }
    Ok(out)
}

/// The labels an annotation template reads.
pub fn template_labels(template: &str) -> Result<BTreeSet<String>, String> {
    Ok(parse_template(template)?
        .into_iter()
        .filter_map(|part| match part {
            TemplatePart::Action(TemplateAction::Label(name)) => Some(name),
            _ => None,
        })
        .collect())
}

/// The largest threshold: fixtures compute values such as `threshold * 2 + 1`, which stay exact
/// in a float64 (53-bit mantissa) up to about this.
pub(crate) const MAX_THRESHOLD: f64 = 1e15;

/// A threshold every alert and fixture can use: a finite number in 0..=[`MAX_THRESHOLD`].
fn check_threshold(value: f64) -> Result<(), String> {
    if value.is_finite() && (0.0..=MAX_THRESHOLD).contains(&value) {
        Ok(())
    } else {
        Err(format!("{value} is not a number from 0 to {MAX_THRESHOLD:e}"))
    }
}

/// Go's `%v` for a float64 as Prometheus renders `$value`: the shortest representation, in
/// exponent form when the decimal exponent is below -4 or 6 and above (`6.871947674e+09`, as
/// promtool shows it).
fn format_go_value(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        return match value {
            v if v.is_nan() => "NaN".into(),
            v if v > 0.0 => "+Inf".into(),
            _ => "-Inf".into(),
        };
    }
    let exponent = format!("{value:e}")
        .split_once('e')
        .and_then(|(_, e)| e.parse::<i32>().ok())
        .unwrap_or(0);
    if value == 0.0 || ((-4..6).contains(&exponent) && magnitude > 0.0) {
        format!("{value}")
    } else {
        go_exponent(&format!("{value:e}"))
    }
}

/// Go's `%.<precision>g`: `precision` significant digits, trailing zeros trimmed, exponent form
/// when the exponent is below -4 or at least `precision`.
fn format_go_g(value: f64, precision: usize) -> String {
    if value == 0.0 || !value.is_finite() {
        return format_go_value(value);
    }
    let scientific = format!("{:.*e}", precision - 1, value);
    let exponent: i32 = scientific
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .expect("Rust's {:e} has an exponent");
    if exponent < -4 || exponent >= precision as i32 {
        return go_exponent(&scientific);
    }
    let decimals = usize::try_from(precision as i32 - 1 - exponent).unwrap_or(0);
    trim_fraction(&format!("{value:.decimals$}"))
}

/// Turns Rust's `1.5e7` into Go's `1.5e+07`.
fn go_exponent(scientific: &str) -> String {
    let (mantissa, exponent) = scientific.split_once('e').expect("scientific notation");
    let exponent: i32 = exponent.parse().expect("integer exponent");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs())
}

fn trim_fraction(number: &str) -> String {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_as_go_would() {
        let labels = BTreeMap::from([("instance".to_string(), "sockudo-1".to_string())]);
        let rendered = render_template(
            "{{ $labels.instance }}: {{ $value | humanizePercentage }} ({{$value}})",
            &labels,
            Some(0.100_000_000_000_000_02),
        );
        assert_eq!(rendered.unwrap(), "sockudo-1: 10% (0.10000000000000002)");
        assert_eq!(format_go_g(12.345_67, 4), "12.35");
        assert_eq!(format_go_g(123_456.0, 4), "1.235e+05");
        assert_eq!(format_go_g(0.000_012, 4), "1.2e-05");
        assert_eq!(format_go_value(2000.0), "2000");
        assert_eq!(format_go_value(999_999.5), "999999.5");
        assert_eq!(format_go_value(6_871_947_674.0), "6.871947674e+09");
        assert_eq!(format_go_value(0.000_1), "0.0001");
        assert_eq!(format_go_value(0.000_012), "1.2e-05");
        // Go's spellings, never a panic: a huge $value renders as `+Inf%`.
        assert_eq!(format_go_value(f64::INFINITY), "+Inf");
        assert_eq!(format_go_value(f64::NAN), "NaN");
        assert_eq!(format_go_g(1e308 * 100.0, 4), "+Inf");
        for bad in [f64::INFINITY, f64::NAN, -5.0, 1e20, 1e308] {
            assert!(check_threshold(bad).is_err(), "{bad}");
        }
        assert!(check_threshold(0.0).is_ok() && check_threshold(5000.0).is_ok());
        assert!(parse_template("{{ $value | humanize }}").is_err());
    }

    #[test]
    fn fixture_values_compute_with_placeholders_and_refuse_the_old_spelling() {
        let vars = Vars::new().number("threshold", 5000.0);
        assert_eq!(
            fixture_value("values", &vars, "0+${ threshold * 2 }x40").unwrap(),
            "0+10000x40"
        );
        let old = fixture_value("values", &vars, "{{ threshold * 2 }}x40").unwrap_err();
        assert!(old.contains("write `${ ... }`"), "{old}");
        let unset = fixture_value("values", &vars, "${ min_traffic }x40").unwrap_err();
        assert!(
            unset.starts_with("values: ") && unset.contains("unknown variable min_traffic"),
            "{unset}"
        );
    }
}
