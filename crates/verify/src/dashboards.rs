//! Checks the dashboards against the rules of Grafana's dashboard-linter this bundle adopts: titles,
//! descriptions and units on every panel; `$__rate_interval` ranges; `job`/`instance` (and
//! `app_id`, `cluster`) matchers on every catalogue selector; counters only inside
//! `rate`/`irate`/`increase`; a datasource variable, a stable uid and no `__inputs`; and a
//! dashboard ConfigMap small enough for `kubectl apply`. Each problem names file and panel.

use std::collections::BTreeSet;
use std::time::Duration;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{Expr, VectorSelector};

use super::{promql, Problem};
use sockudo_obs_model::catalogue::{self, SeriesSuffix};
use sockudo_obs_model::dashboards::{Dashboard, PanelSpec};
use sockudo_obs_model::documents::DashboardDocument;
use sockudo_obs_model::expr::{panel_query, parse_promql, RATE_INTERVAL_STAND_IN_SECS};
use sockudo_obs_model::layout::dashboard_file_name;
use sockudo_obs_model::model::Model;

/// `kubectl apply` keeps the whole object in an annotation capped at 256 KiB; stay well below.
pub(crate) const CONFIGMAP_BUDGET_BYTES: usize = 200 * 1024;

/// The functions a counter may be read through.
const COUNTER_FUNCTIONS: [&str; 3] = ["rate", "irate", "increase"];

pub(crate) fn check(model: &Model) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut uids = BTreeSet::new();
    for (dashboard, document) in model.dashboards.items.iter().zip(&model.documents.dashboards) {
        let mut report = |item: &str, message: String| {
            problems.push(Problem {
                file: dashboard.file.clone(),
                item: item.to_string(),
                message,
            })
        };
        check_dashboard(model, dashboard, document, &mut uids, &mut report);
        for panel in dashboard.spec.panels() {
            let item = format!("panel {:?}", panel.title);
            for message in panel_problems(panel) {
                report(&item, message);
            }
            for message in panel_alert_problems(model, panel) {
                report(&item, message);
            }
            for query in &panel.queries {
                for message in query_problems(model, &query.expr) {
                    report(&item, message);
                }
                for problem in catalogue_problems(model, &dashboard.file, &query.expr) {
                    report(&item, problem.message);
                }
            }
        }
    }
    problems
}

/// The catalogue check of one query (unknown metrics, unknown labels, counters outside `rate`,
/// quantiles of unaggregated buckets), shared with the rules.
fn catalogue_problems(model: &Model, file: &str, expr: &str) -> Vec<Problem> {
    let parseable = panel_query(expr);
    promql::check_expr(&promql::Scope::new(model), file, "", &parseable)
}

/// Rules about the dashboard as a whole, checked on the JSON and ConfigMap the documents stage
/// built (what the renderers write).
fn check_dashboard(
    model: &Model,
    dashboard: &Dashboard,
    document: &DashboardDocument,
    uids: &mut BTreeSet<String>,
    report: &mut impl FnMut(&str, String),
) {
    let spec = &dashboard.spec;
    let item = format!("dashboard {:?}", spec.title);
    let uid_ok = !spec.uid.is_empty()
        && spec.uid.len() <= 40
        && spec
            .uid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !uid_ok {
        report(&item, format!("uid {:?} must be 1-40 characters of [A-Za-z0-9_-]; Grafana would otherwise invent one per import and links would break", spec.uid));
    }
    if !uids.insert(spec.uid.clone()) {
        report(&item, format!("uid {:?} is used by another dashboard", spec.uid));
    }
    match catalogue::resolve(model.prefix(), &spec.variable_metric) {
        Some((def, SeriesSuffix::None)) if def.has_label("app_id") => {}
        _ => report(&item, format!("variable_metric {:?} must be a catalogue metric with an app_id label (it fills the job, instance and app_id variables)", spec.variable_metric)),
    }
    let built = serde_json::to_value(&document.json).expect("a dashboard serializes");
    if built.get("__inputs").is_some() {
        report(&item, "has __inputs; provisioned dashboards must pick their datasource through the `datasource` variable".into());
    }
    let has_datasource_variable = built["templating"]["list"].as_array().is_some_and(|vars| {
        vars.iter()
            .any(|v| v["name"] == "datasource" && v["type"] == "datasource")
    });
    if !has_datasource_variable {
        report(&item, "has no `datasource` variable".into());
    }
    // The ConfigMap as `kubectl apply` stores it in its last-applied annotation: the header,
    // and the dashboard's file (pretty JSON, as the bundle writes it) as one string value.
    let file = serde_json::to_string_pretty(&document.json).expect("a dashboard serializes") + "\n";
    let configmap = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": document.configmap,
        "data": { dashboard_file_name(&document.uid): file },
    });
    let size = serde_json::to_vec(&configmap)
        .expect("a ConfigMap serializes")
        .len();
    if size > CONFIGMAP_BUDGET_BYTES {
        report(&item, format!("its ConfigMap is {} KiB, over the {} KiB budget that keeps it below kubectl apply's 256 KiB last-applied annotation; split the dashboard", size / 1024, CONFIGMAP_BUDGET_BYTES / 1024));
    }
}

fn panel_problems(panel: &PanelSpec) -> Vec<String> {
    let mut problems = Vec::new();
    let blank = |text: Option<&String>| text.map_or(true, |t| t.trim().is_empty());
    if panel.title.trim().is_empty() {
        problems.push("has no title".to_string());
    }
    if blank(panel.description.as_ref()) {
        problems.push("has no description".to_string());
    }
    if panel.unit.is_none() {
        problems.push("has no unit".to_string());
    }
    if panel.queries.is_empty() {
        problems.push("has no query".to_string());
    }
    if panel.width.is_some_and(|w| !(1..=24).contains(&w)) {
        problems.push("width must be 1-24 grid columns".to_string());
    }
    problems
}

/// A panel marking an alert's threshold names an alert of the bundle that has one (or one the
/// bundle leaves out, whose mark then goes).
fn panel_alert_problems(model: &Model, panel: &PanelSpec) -> Vec<String> {
    let Some(name) = &panel.alert else {
        return Vec::new();
    };
    match model.rules.alerts().map(|(_, a)| a).find(|a| &a.name == name) {
        Some(alert) if alert.threshold.is_none() => {
            vec![format!("marks the threshold of alert {name}, which has none")]
        }
        Some(_) => Vec::new(),
        None if model.left_out.contains(name) => Vec::new(),
        None => vec![format!(
            "marks the threshold of alert {name}, which is no alert of the bundle"
        )],
    }
}

/// The linter rules one query must satisfy, found by walking its syntax tree.
fn query_problems(model: &Model, expr: &str) -> Vec<String> {
    let parseable = panel_query(expr);
    let ast = match parse_promql(&parseable) {
        Ok(ast) => ast,
        Err(err) => return vec![format!("query {expr:?} does not parse: {err}")],
    };
    let mut walk = Walk {
        model,
        problems: Vec::new(),
    };
    walk.expr(&ast, false);
    walk.problems
        .into_iter()
        .map(|p| format!("{p} in {expr:?}"))
        .collect()
}

struct Walk<'a> {
    model: &'a Model,
    problems: Vec<String>,
}

impl Walk<'_> {
    /// `in_counter_function` is true for the direct argument of rate/irate/increase.
    fn expr(&mut self, expr: &Expr, in_counter_function: bool) {
        match expr {
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => {
                if in_counter_function && ms.range != Duration::from_secs(RATE_INTERVAL_STAND_IN_SECS) {
                    self.problems.push(format!(
                        "a fixed range on {}; use [$__rate_interval]",
                        ms.vs.name.as_deref().unwrap_or("a selector")
                    ));
                }
                self.selector(&ms.vs);
            }
            Expr::Call(call) => {
                let takes_counter = COUNTER_FUNCTIONS.contains(&call.func.name);
                for arg in &call.args.args {
                    self.expr(arg, takes_counter);
                }
            }
            Expr::Aggregate(agg) => {
                self.expr(&agg.expr, false);
                if let Some(param) = &agg.param {
                    self.expr(param, false);
                }
            }
            Expr::Binary(bin) => {
                self.expr(&bin.lhs, false);
                self.expr(&bin.rhs, false);
            }
            Expr::Paren(paren) => self.expr(&paren.expr, false),
            Expr::Unary(unary) => self.expr(&unary.expr, false),
            Expr::Subquery(sub) => self.expr(&sub.expr, false),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    fn selector(&mut self, vs: &VectorSelector) {
        let Some(name) = &vs.name else { return };
        let Some((def, _)) = catalogue::resolve(self.model.prefix(), name) else {
            return;
        };
        let mut required = vec!["job", "instance"];
        if def.has_label("app_id") {
            required.push("app_id");
        }
        if self.model.profile.grafana.cluster_variable {
            required.push("cluster");
        }
        for label in required {
            if !has_variable_matcher(&vs.matchers.matchers, label) {
                self.problems.push(format!("{name} lacks {label}=~\"${label}\""));
            }
        }
    }
}

/// True when `label=~"$label"` is among the matchers.
fn has_variable_matcher(matchers: &[Matcher], label: &str) -> bool {
    let wanted = format!("${label}");
    matchers
        .iter()
        .any(|m| m.name == label && matches!(m.op, MatchOp::Re(_)) && m.value == wanted)
}
