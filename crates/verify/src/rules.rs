//! Checks the alerting and recording rules: every expression against the catalogue (through
//! [`super::promql`]), recording rule names (`level:metric:operations`), the monitoring-mixin style
//! of alerts, their promtool fixtures, and the profile's federation selectors.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::{token::T_DIV, Expr, LabelModifier};

use super::promql::{check_expr, check_selector, Scope};
use super::Problem;
use sockudo_obs_model::catalogue::{MetricDef, CATALOGUE};
use sockudo_obs_model::expr::{metric_names, parse_promql};
use sockudo_obs_model::layout::{ALERT_NAME_PREFIX, HEARTBEAT_ALERT, HEARTBEAT_SEVERITY, SEVERITIES};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::profile::{
    location_labels, routing_labels, PromDuration, POD_LABEL, POD_PLACEHOLDER, ROUTING_PLACEHOLDER,
};
use sockudo_obs_model::rules::{
    parse_template, render_template, template_labels, AlertRule, RuleFile, TemplateAction, TemplatePart,
    MIN_TRAFFIC_PLACEHOLDER,
};

/// Checks the rules of `model` against the real catalogue.
pub(crate) fn check(model: &Model) -> Vec<Problem> {
    check_with_catalogue(model, CATALOGUE)
}

/// Checks the rules of `model` against `catalogue`.
pub fn check_with_catalogue(model: &Model, catalogue: &[MetricDef]) -> Vec<Problem> {
    let scope = Scope::with_catalogue(model, catalogue);
    let alert_names: BTreeSet<&str> = model.spec_rules.alerts().map(|(_, a)| a.name.as_str()).collect();
    let mut problems = duplicate_names(model);
    let routing = Routing::of(model);
    for file in &model.spec_rules.files {
        for rule in &file.recording {
            problems.extend(check_expr(&scope, &file.path, &rule.record, &rule.expr));
            problems.extend(recording_name(&scope, &routing, file, &rule.record));
            for message in routing.dropped(&rule.expr, false) {
                problems.push(Problem {
                    file: file.path.clone(),
                    item: rule.record.clone(),
                    message,
                });
            }
        }
        for alert in &file.alerts {
            problems.extend(check_expr(&scope, &file.path, &alert.name, &alert.expr));
            let exempt = alert.routing_from_profile || alert.name == HEARTBEAT_ALERT;
            for message in routing.dropped(&alert.expr, exempt) {
                problems.push(Problem {
                    file: file.path.clone(),
                    item: alert.name.clone(),
                    message,
                });
            }
            let mut report = |message: String| {
                problems.push(Problem {
                    file: file.path.clone(),
                    item: alert.name.clone(),
                    message,
                })
            };
            mixin_style(alert, &mut report);
            for_at_least_one_evaluation(alert, &model.profile.prometheus.evaluation_interval, &mut report);
            traffic_floor(alert, &mut report);
            description_labels(&scope, alert, &mut report);
            fixtures(alert, &mut report);
            for test in &alert.tests {
                for other in test
                    .quiet
                    .iter()
                    .filter(|name| !alert_names.contains(name.as_str()))
                {
                    report(format!(
                        "fixture {:?}: `quiet` names {other:?}, which is no alert of the bundle",
                        test.name
                    ));
                }
            }
            for test in &alert.tests {
                for input in &test.input_series {
                    let item = format!("{} (fixture {:?})", alert.name, test.name);
                    problems.extend(check_selector(&scope, &file.path, &item, &input.series));
                }
            }
        }
    }
    problems.extend(outage_companions(model));
    problems.extend(unused_recording_rules(model));
    if let Some(federation) = &model.profile.prometheus.federation {
        for (index, selector) in federation.match_selectors.iter().enumerate() {
            let item = format!("prometheus.federation.match_selectors[{index}]");
            problems.extend(check_selector(&scope, &model.profile.path, &item, selector));
        }
    }
    problems
}

fn duplicate_names(model: &Model) -> Vec<Problem> {
    let mut first_seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    let mut problems = Vec::new();
    let names = model.spec_rules.files.iter().flat_map(|f| {
        let records = f
            .recording
            .iter()
            .map(move |r| ("recording rule", r.record.as_str(), f));
        let alerts = f.alerts.iter().map(move |a| ("alert", a.name.as_str(), f));
        records.chain(alerts)
    });
    for (kind, name, file) in names {
        if let Some(first) = first_seen.insert((kind, name), &file.path) {
            problems.push(Problem {
                file: file.path.clone(),
                item: name.to_string(),
                message: format!("duplicate {kind} name (first defined in {first})"),
            });
        }
    }
    problems
}

/// `level:metric:operations`: the level names the labels the rule keeps (joined by `_`, in `by`
/// order), the metric is a catalogue metric under the active prefix (`_total` dropped), the
/// operations say what was done (`rate5m`, `ratio_rate5m`, `p95_5m`).
fn recording_name(scope: &Scope<'_>, routing: &Routing, file: &RuleFile, record: &str) -> Vec<Problem> {
    let problem = |message: String| Problem {
        file: file.path.clone(),
        item: record.to_string(),
        message,
    };
    let parts: Vec<&str> = record.split(':').collect();
    let [level, metric, operations] = parts.as_slice() else {
        return vec![problem(
            "recording rule names are `level:metric:operations`, e.g. job_instance:sockudo_http_requests:rate5m".into(),
        )];
    };
    let snake = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let mut problems = Vec::new();
    if !snake(level) || !snake(operations) {
        problems.push(problem(format!(
            "level {level:?} and operations {operations:?} must be lower_snake_case"
        )));
    }
    if scope.metric_named_in(metric).is_none() {
        problems.push(problem(format!(
            "the metric part {metric:?} names no catalogue metric under prefix {:?}",
            scope.prefix
        )));
    }
    let kept = scope.recorded.get(record).and_then(|r| r.labels.clone());
    if let Some(kept) = kept {
        let expected = kept.join("_");
        // The labels saying where a series comes from (cluster, namespace, pod) may stay out of
        // the level, as in the Kubernetes mixins.
        let what: Vec<&str> = kept
            .iter()
            .map(String::as_str)
            .filter(|l| !routing.location.iter().any(|r| r == l))
            .collect();
        let short = what.join("_");
        if *level != expected && *level != short {
            problems.push(problem(format!(
                "the level {level:?} must name the labels the rule keeps: {short:?} (or {expected:?}, with the labels saying where the series come from)"
            )));
        }
    }
    problems
}

/// The labels that route alerts (the cluster label and `namespace`) must survive every
/// aggregation and vector match of every rule, and `pod` must stay beside `instance`, so that an
/// alert reaches the team of its namespace and names the pod at fault.
struct Routing {
    /// The cluster label and `namespace`, as far as the profile's scrape paths set them.
    labels: Vec<String>,
    /// Those and `pod`.
    location: Vec<String>,
    pods: bool,
}

impl Routing {
    fn of(model: &Model) -> Routing {
        Routing {
            labels: routing_labels(&model.profile),
            location: location_labels(&model.profile),
            pods: model.profile.prometheus.kubernetes_sd.enabled,
        }
    }

    /// What in `expr` drops a routing label, one message each. `exempt`: the alert takes them
    /// from the profile (`routing_from_profile`), so a label-less `absent()` or `vector()` is fine.
    fn dropped(&self, expr: &str, exempt: bool) -> Vec<String> {
        let mut messages = Vec::new();
        if let Ok(ast) = parse_promql(expr) {
            self.walk(&ast, exempt, &mut messages);
        }
        messages
    }

    fn missing(&self, labels: &[String]) -> Vec<&str> {
        self.labels
            .iter()
            .map(String::as_str)
            .filter(|r| !labels.iter().any(|l| l == r))
            .collect()
    }

    fn walk(&self, expr: &Expr, exempt: bool, messages: &mut Vec<String>) {
        let hint = format!("write `{ROUTING_PLACEHOLDER}` in the list");
        match expr {
            Expr::Aggregate(agg) => {
                let op = agg.op.to_string();
                let keeps_all = ["topk", "bottomk", "limitk", "limit_ratio"].contains(&op.as_str());
                match &agg.modifier {
                    Some(LabelModifier::Include(by)) => {
                        let missing = self.missing(&by.labels);
                        if !missing.is_empty() {
                            messages.push(format!(
                                "`{op} by ({})` drops the routing label(s) {}: alerts built on it no longer route to their cluster and namespace ({hint})",
                                by.labels.join(", "),
                                missing.join(", ")
                            ));
                        }
                        let instance = by.labels.iter().any(|l| l == "instance");
                        if self.pods && instance && !by.labels.iter().any(|l| l == POD_LABEL) {
                            messages.push(format!(
                                "`{op} by ({})` keeps instance but drops {POD_LABEL}: an alert about one instance names its pod (write `{POD_PLACEHOLDER}` after instance)",
                                by.labels.join(", ")
                            ));
                        }
                    }
                    Some(LabelModifier::Exclude(without)) => {
                        let dropped: Vec<&String> =
                            without.labels.iter().filter(|l| self.labels.contains(l)).collect();
                        if !dropped.is_empty() {
                            messages.push(format!(
                                "`{op} without (...)` drops the routing label(s) {dropped:?}"
                            ));
                        }
                    }
                    None if !keeps_all && !self.labels.is_empty() => messages.push(format!(
                        "`{op}(...)` without `by` drops every label, the routing labels {} too ({hint}: `{op} by ({ROUTING_PLACEHOLDER}, ...)`)",
                        self.labels.join(", ")
                    )),
                    None => {}
                }
                self.walk(&agg.expr, exempt, messages);
            }
            Expr::Binary(bin) => {
                if let Some(matching) = bin.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
                    match matching {
                        LabelModifier::Include(on) => {
                            let missing = self.missing(&on.labels);
                            if !missing.is_empty() {
                                messages.push(format!(
                                    "`on ({})` matches series of different clusters or namespaces: it lacks {} ({hint})",
                                    on.labels.join(", "),
                                    missing.join(", ")
                                ));
                            }
                        }
                        LabelModifier::Exclude(ignoring) => {
                            if ignoring.labels.iter().any(|l| self.labels.contains(l)) {
                                messages.push(format!(
                                    "`ignoring ({})` matches series of different clusters or namespaces",
                                    ignoring.labels.join(", ")
                                ));
                            }
                        }
                    }
                }
                self.walk(&bin.lhs, exempt, messages);
                self.walk(&bin.rhs, exempt, messages);
            }
            Expr::Call(call) => {
                let labelless = ["absent", "absent_over_time", "vector"].contains(&call.func.name);
                if labelless && !exempt && !self.labels.is_empty() {
                    messages.push(format!(
                        "`{}()` returns no routing label ({}): set `routing_from_profile: true` on the alert so it takes them from the profile",
                        call.func.name,
                        self.labels.join(", ")
                    ));
                }
                for arg in &call.args.args {
                    self.walk(arg, exempt, messages);
                }
            }
            Expr::Paren(p) => self.walk(&p.expr, exempt, messages),
            Expr::Subquery(sq) => self.walk(&sq.expr, exempt, messages),
            Expr::Unary(u) => self.walk(&u.expr, exempt, messages),
            _ => {}
        }
    }
}

/// A `for` shorter than the evaluation interval cannot be waited for: Prometheus sees the
/// condition once per interval, so the alert fires on the first evaluation that finds it, as
/// if it had no `for`.
fn for_at_least_one_evaluation(
    alert: &AlertRule,
    evaluation: &PromDuration,
    report: &mut impl FnMut(String),
) {
    match &alert.for_ {
        Some(for_) if for_.millis() > 0 && for_.millis() < evaluation.millis() => report(format!(
            "`for: {for_}` is shorter than prometheus.evaluation_interval {evaluation}: the alert would fire on the first evaluation that sees the condition; make `for` at least {evaluation}"
        )),
        _ => {}
    }
}

/// The heartbeat: always firing (`vector(1)`), severity [`HEARTBEAT_SEVERITY`], so that its
/// route, not a severity's, takes it.
fn heartbeat_style(alert: &AlertRule, report: &mut impl FnMut(String)) {
    if alert.severity.as_deref() != Some(HEARTBEAT_SEVERITY) {
        report(format!(
            "the heartbeat has severity {HEARTBEAT_SEVERITY:?}: it pages nobody, its absence does"
        ));
    }
    if alert.expr.trim() != "vector(1)" {
        report("the heartbeat's expr is `vector(1)`: it must fire whatever the data says".into());
    }
}

/// The monitoring-mixins style guide for alerts: a CamelCase name with the bundle's prefix, a
/// severity of `SEVERITIES`, a static summary, a templated description and a runbook.
fn mixin_style(alert: &AlertRule, report: &mut impl FnMut(String)) {
    let heartbeat = alert.name == HEARTBEAT_ALERT;
    let camel = alert.name.strip_prefix(ALERT_NAME_PREFIX).is_some_and(|rest| {
        rest.starts_with(|c: char| c.is_ascii_uppercase()) && rest.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !camel && !heartbeat {
        report(format!(
            "alert names are CamelCase and start with {ALERT_NAME_PREFIX} (e.g. SockudoHighErrorRate)"
        ));
    }
    if heartbeat {
        heartbeat_style(alert, report);
    }
    match alert.severity.as_deref() {
        Some(HEARTBEAT_SEVERITY) if heartbeat => {}
        None => report(format!("missing severity (one of {})", SEVERITIES.join(", "))),
        Some(s) if !SEVERITIES.contains(&s) => {
            report(format!("severity {s:?} is not one of {}", SEVERITIES.join(", ")))
        }
        Some(_) => {}
    }
    match alert.summary.as_deref() {
        None | Some("") => report("missing summary (a static sentence)".into()),
        Some(s) if s.contains("{{") => {
            report("the summary must be static: move templated parts to the description".into())
        }
        Some(_) => {}
    }
    match alert.description.as_deref() {
        None | Some("") => report("missing description (templated with $labels or $value)".into()),
        Some(description) => match parse_template(description) {
            Err(message) => report(format!("description: {message}")),
            Ok(parts) if parts.iter().all(|p| matches!(p, TemplatePart::Text(_))) => {
                report("the description must be templated: use {{ $labels.<name> }} or {{ $value }}".into())
            }
            Ok(_) => {}
        },
    }
    if alert.runbook.is_none() {
        report("missing runbook (meaning, impact, diagnosis, mitigation)".into());
    }
    match &alert.for_ {
        None => report("missing `for`: alerts wait a real duration before firing".into()),
        Some(d) if !d.as_str().chars().any(|c| ('1'..='9').contains(&c)) => report(format!(
            "`for: {d}` fires on the first blip; wait a real duration"
        )),
        Some(_) => {}
    }
}

/// A ratio alert (one that divides, or reads a `ratio_` recording rule) must also require a
/// minimum of traffic, `${min_traffic}` events in its window: otherwise one failure among five
/// requests is a 20% error rate and pages.
fn traffic_floor(alert: &AlertRule, report: &mut impl FnMut(String)) {
    let Ok(expr) = parse_promql(&alert.expr) else {
        return; // the catalogue check reports it
    };
    if is_ratio(&expr) && alert.min_traffic.is_none() {
        report(format!(
            "a ratio alert needs a traffic floor: `and <events in the window> >= {MIN_TRAFFIC_PLACEHOLDER}` with a `min_traffic`"
        ));
    }
}

/// True when `expr` divides one series by another somewhere (dividing by a number only scales)
/// or reads a recording rule whose operations say `ratio`.
fn is_ratio(expr: &Expr) -> bool {
    match expr {
        Expr::Binary(bin) => {
            let by_series = !matches!(&*bin.rhs, Expr::NumberLiteral(_));
            (bin.op.id() == T_DIV && by_series) || is_ratio(&bin.lhs) || is_ratio(&bin.rhs)
        }
        Expr::Aggregate(agg) => is_ratio(&agg.expr),
        Expr::Call(call) => call.args.args.iter().any(|a| is_ratio(a)),
        Expr::Paren(p) => is_ratio(&p.expr),
        Expr::Unary(u) => is_ratio(&u.expr),
        Expr::Subquery(s) => is_ratio(&s.expr),
        Expr::VectorSelector(vs) => vs
            .name
            .as_deref()
            .and_then(|name| name.rsplit(':').next().filter(|_| name.contains(':')))
            .is_some_and(|operations| operations.starts_with("ratio")),
        _ => false,
    }
}

/// Every `$labels.x` of the description must be a label the alert's series carry.
fn description_labels(scope: &Scope<'_>, alert: &AlertRule, report: &mut impl FnMut(String)) {
    let Some(description) = &alert.description else {
        return;
    };
    let (Ok(used), Ok(expr)) = (template_labels(description), parse_promql(&alert.expr)) else {
        return;
    };
    let Some(available) = scope.output_labels(&expr) else {
        return;
    };
    for label in used.iter().filter(|l| !available.contains(l)) {
        report(format!(
            "the description reads $labels.{label}, but the expression's series only carry: {}",
            available.join(", ")
        ));
    }
}

/// At least one firing and one quiet fixture, each able to state the exact annotations.
fn fixtures(alert: &AlertRule, report: &mut impl FnMut(String)) {
    if !alert.tests.iter().any(|t| !t.fires.is_empty()) {
        report("needs a promtool fixture where it fires (`fires:` with the expected alerts)".into());
    }
    // The heartbeat is never quiet.
    if alert.name != HEARTBEAT_ALERT && !alert.tests.iter().any(|t| t.fires.is_empty()) {
        report("needs a promtool fixture where it stays quiet (no `fires:`)".into());
    }
    let Some(description) = &alert.description else {
        return;
    };
    let shows_value = parse_template(description).is_ok_and(|parts| {
        parts.iter().any(|p| {
            matches!(
                p,
                TemplatePart::Action(TemplateAction::Value | TemplateAction::ValueAsPercentage)
            )
        })
    });
    for test in &alert.tests {
        for expected in &test.fires {
            let value = match expected.value.as_deref().map(str::parse::<f64>) {
                Some(Err(_)) => {
                    report(format!("fixture {:?}: value is not a number", test.name));
                    continue;
                }
                Some(Ok(v)) => Some(v),
                None if shows_value => {
                    report(format!(
                        "fixture {:?}: the description shows $value, so the expected alert needs a value",
                        test.name
                    ));
                    continue;
                }
                None => None,
            };
            if let Err(message) = render_template(description, &expected.labels, value) {
                report(format!("fixture {:?}: {message}", test.name));
            }
        }
    }
}

/// Every recording rule feeds something: an alert, a dashboard panel or another recording rule.
/// One that feeds nothing costs an evaluation and a series set per step and drifts unnoticed.
fn unused_recording_rules(model: &Model) -> Vec<Problem> {
    let rule_exprs = model.spec_rules.files.iter().flat_map(|f| {
        f.recording
            .iter()
            .map(|r| r.expr.clone())
            .chain(f.alerts.iter().map(|a| a.expr.clone()))
    });
    let mut read: BTreeSet<String> = rule_exprs
        .filter_map(|expr: String| metric_names(&expr).ok())
        .flatten()
        .collect();
    read.extend(model.dashboards.metric_names());
    model
        .spec_rules
        .recording_rules()
        .filter(|(_, rule)| !read.contains(&rule.record))
        .map(|(file, rule)| Problem {
            file: file.path.clone(),
            item: rule.record.clone(),
            message: "no alert, dashboard panel or other recording rule reads it: remove it, or use it"
                .into(),
        })
        .collect()
}

/// "No data" must not hide an outage: the bundle needs an alert on `up` and one on `absent(...)`.
fn outage_companions(model: &Model) -> Vec<Problem> {
    let exprs: Vec<&str> = model.rules.alerts().map(|(_, a)| a.expr.as_str()).collect();
    let mut problems = Vec::new();
    for (needle, what) in [
        ("up{", "an alert on `up` (a target that stops answering)"),
        ("absent", "an absent() alert (a job or metric that disappears)"),
    ] {
        if !exprs.iter().any(|e| e.contains(needle)) {
            problems.push(Problem {
                file: "alerts/".into(),
                item: "(all rules)".into(),
                message: format!("the bundle needs {what}"),
            });
        }
    }
    problems
}
