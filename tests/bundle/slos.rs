//! The SLOs (`slos/*.yaml`): the rules each one generates (their number, the labels they keep),
//! the multiwindow burn-rate pages firing at 14.4× and staying quiet at 1× under promtool of both
//! Prometheus generations (and failing when the page's threshold is off), the error-budget row of
//! the dashboard, and the checks on the specs and the profile's objectives, each fired by a broken
//! input.

use std::fs;
use std::path::Path;

use promql_parser::parser::{Expr, LabelModifier};
use serde_norway::Value;
use sockudo_obs::bundle::{self, Overrides, RULES_PER_SLO};

use crate::promtool::promtool_test_rules;
use crate::support::specs::{assert_problem, read_profile, set, write_profile, Specs};
use crate::support::validate;

const SLOS: [&str; 4] = [
    "api-availability",
    "api-latency",
    "connection-success",
    "webhook-delivery",
];

fn yaml(path: &Path) -> Value {
    serde_norway::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Every `by (...)` of `expr`.
fn by_clauses(expr: &Expr, found: &mut Vec<Vec<String>>) {
    match expr {
        Expr::Aggregate(agg) => {
            if let Some(LabelModifier::Include(by)) = &agg.modifier {
                found.push(by.labels.clone());
            }
            by_clauses(&agg.expr, found);
        }
        Expr::Binary(b) => {
            by_clauses(&b.lhs, found);
            by_clauses(&b.rhs, found);
        }
        Expr::Call(c) => c.args.args.iter().for_each(|a| by_clauses(a, found)),
        Expr::Paren(p) => by_clauses(&p.expr, found),
        _ => {}
    }
}

/// Each SLO is one rule group of [`RULES_PER_SLO`] rules (seven SLI windows, a page and a
/// ticket), every aggregation keeping the routing labels; the page is critical, the ticket a
/// warning, both with a runbook link.
#[test]
fn each_slo_is_a_small_rule_group_that_keeps_the_routing_labels() {
    for (env, labels) in [
        ("production", vec!["cluster", "namespace", "job"]),
        ("local", vec!["cluster", "job"]),
    ] {
        let bundle = validate::build(env);
        for slo in SLOS {
            let file = yaml(&bundle.path().join(format!("prometheus/rules/slo-{slo}.yml")));
            let rules = file["groups"][0]["rules"].as_sequence().unwrap();
            assert_eq!(rules.len(), RULES_PER_SLO, "{env} {slo}");
            let records: Vec<&str> = rules.iter().filter_map(|r| r["record"].as_str()).collect();
            assert_eq!(records.len(), 7, "{env} {slo}: {records:?}");
            for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] {
                assert!(
                    records
                        .iter()
                        .any(|r| r.ends_with(&format!(":ratio_rate{window}"))),
                    "{env} {slo}: no SLI rule for {window}: {records:?}"
                );
            }
            let severities: Vec<&str> = rules
                .iter()
                .filter(|r| r["alert"].is_string())
                .map(|r| r["labels"]["severity"].as_str().unwrap())
                .collect();
            assert_eq!(severities, ["critical", "warning"], "{env} {slo}");
            for rule in rules {
                let expr = bundle::parse_promql(rule["expr"].as_str().unwrap()).unwrap();
                let mut found = Vec::new();
                by_clauses(&expr, &mut found);
                assert!(!found.is_empty(), "{env} {slo}: no aggregation in {rule:?}");
                for by in found {
                    assert_eq!(by, labels, "{env} {slo}: {rule:?}");
                }
                if rule["alert"].is_string() {
                    for key in ["summary", "description", "runbook_url"] {
                        assert!(rule["annotations"][key].is_string(), "{env} {slo}: no {key}");
                    }
                }
            }
        }
    }
}

/// The names of the fixtures of `alert` in a promtool test file, with whether they expect it to
/// fire.
fn fixtures_of(test_file: &Value, alert: &str) -> Vec<(String, bool)> {
    test_file["tests"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|group| {
            let first = &group["alert_rule_test"][0];
            (first["alertname"] == alert).then(|| {
                (
                    group["name"].as_str().unwrap().to_string(),
                    !first["exp_alerts"].as_sequence().unwrap().is_empty(),
                )
            })
        })
        .collect()
}

/// Every page fires within the short window of a 14.4× (and a 6×) burn and stays quiet at 1×
/// for a day; every ticket fires on a slow burn and stays quiet below the traffic floor: the
/// generated fixtures say so, and promtool 2 and 3 agree.
#[test]
fn pages_fire_at_fast_burn_and_stay_quiet_at_1x_under_both_promtools() {
    let bundle = validate::build("production");
    let tests = bundle.path().join("prometheus/tests");
    let mut files = Vec::new();
    for slo in SLOS {
        let path = tests.join(format!("slo-{slo}_test.yml"));
        let file = yaml(&path);
        let base: String = slo.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect();
        let page = fixtures_of(&file, &format!("Sockudo{base}FastBurn"));
        let fires: Vec<&str> = page.iter().filter(|f| f.1).map(|f| f.0.as_str()).collect();
        assert!(
            fires.iter().any(|n| n.contains("14.4×")) && fires.iter().any(|n| n.contains("6h and 30m")),
            "{slo}: {page:?}"
        );
        assert!(
            page.iter().any(|(n, fires)| !fires && n.contains("1× burn")),
            "{slo}: {page:?}"
        );
        let ticket = fixtures_of(&file, &format!("Sockudo{base}SlowBurn"));
        assert!(
            ticket.iter().any(|f| f.1) && ticket.iter().any(|f| !f.1),
            "{slo}: {ticket:?}"
        );
        files.push(path);
    }
    promtool_test_rules(&files).unwrap_or_else(|e| panic!("{e}"));
}

/// The fixtures can fail: with the page's 1h/5m threshold raised to 16× the budget, the 15×
/// burn no longer pages and both promtools say so.
#[test]
fn a_page_threshold_off_the_workbooks_is_caught_by_the_fixtures() {
    let bundle = validate::build("production");
    let rules = bundle.path().join("prometheus/rules/slo-api-availability.yml");
    let mut file = yaml(&rules);
    let page = file["groups"][0]["rules"]
        .as_sequence_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["alert"] == "SockudoApiAvailabilityFastBurn")
        .unwrap();
    // 99.9%: a budget of 0.001, 14.4× is 0.0144; 16× is 0.016.
    let expr = page["expr"].as_str().unwrap().replace("> 0.0144", "> 0.016");
    assert_ne!(expr, page["expr"].as_str().unwrap(), "the page's threshold moved");
    page["expr"] = expr.into();
    fs::write(&rules, serde_norway::to_string(&file).unwrap()).unwrap();
    let error = promtool_test_rules(&[bundle
        .path()
        .join("prometheus/tests/slo-api-availability_test.yml")])
    .expect_err("a 15× burn must not page at a 16× threshold");
    assert!(error.contains("SockudoApiAvailabilityFastBurn"), "{error}");
}

/// The dashboard's error-budget row: per SLO, the budget left and the burn rate of every window,
/// over the SLOs' recording rules.
#[test]
fn the_dashboard_has_an_error_budget_row_per_slo() {
    let bundle = validate::build("production");
    let text = fs::read_to_string(bundle.path().join("grafana/dashboards/sockudo-overview.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    let row = panels
        .iter()
        .position(|p| p["type"] == "row" && p["title"] == "Error budgets")
        .expect("an Error budgets row");
    let in_row: Vec<&serde_json::Value> = panels[row + 1..]
        .iter()
        .take_while(|p| p["type"] != "row")
        .collect();
    assert_eq!(in_row.len(), 2 * SLOS.len(), "{in_row:?}");
    let model = Specs::copy().load("production").unwrap();
    let records: Vec<String> = model
        .rules
        .recording_rules()
        .map(|(_, r)| r.record.clone())
        .collect();
    for pair in in_row.chunks(2) {
        let (budget, burn) = (pair[0], pair[1]);
        assert_eq!(budget["type"], "stat", "{budget}");
        assert!(budget["title"].as_str().unwrap().contains("error budget left"));
        assert_eq!(burn["type"], "timeseries", "{burn}");
        let targets = burn["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 7, "{burn}");
        for target in targets.iter().chain(budget["targets"].as_array().unwrap()) {
            let expr = target["expr"].as_str().unwrap();
            let ast = bundle::parse_promql(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            let mut names = Vec::new();
            selector_names(&ast, &mut names);
            assert!(
                !names.is_empty() && names.iter().all(|n| records.contains(n)),
                "{expr} reads {names:?}, not only SLI recording rules"
            );
        }
    }
}

fn selector_names(expr: &Expr, found: &mut Vec<String>) {
    match expr {
        Expr::VectorSelector(vs) => found.extend(vs.name.clone()),
        Expr::MatrixSelector(ms) => found.extend(ms.vs.name.clone()),
        Expr::Binary(b) => {
            selector_names(&b.lhs, found);
            selector_names(&b.rhs, found);
        }
        Expr::Call(c) => c.args.args.iter().for_each(|a| selector_names(a, found)),
        Expr::Aggregate(a) => selector_names(&a.expr, found),
        Expr::Paren(p) => selector_names(&p.expr, found),
        _ => {}
    }
}

/// A latency SLO's bound must be a bucket bound of the histogram: 0.3 is not one.
#[test]
fn a_latency_bound_off_the_buckets_is_refused() {
    let specs = Specs::copy();
    specs.replace("slos/api-latency.yaml", "le: 0.5", "le: 0.3");
    assert_problem(
        &specs.problems("production"),
        "slos/api-latency.yaml",
        "SLO api-latency",
        "sli.latency.le 0.3 is not a bucket bound of sockudo_http_request_duration_seconds",
    );
    let specs = Specs::copy();
    specs.replace(
        "slos/api-latency.yaml",
        "histogram: sockudo_http_request_duration_seconds",
        "histogram: sockudo_http_requests_total",
    );
    assert_problem(
        &specs.problems("production"),
        "slos/api-latency.yaml",
        "SLO api-latency",
        "is not a histogram of the catalogue",
    );
}

/// The SLIs are checked against the catalogue like every expression: a misspelt counter is an
/// unknown metric, named in the SLO's file and rule.
#[test]
fn an_sli_on_an_unknown_metric_is_refused() {
    let specs = Specs::copy();
    specs.replace(
        "slos/webhook-delivery.yaml",
        "errors: sockudo_webhooks_failed_total",
        "errors: sockudo_webhook_failed_total",
    );
    assert_problem(
        &specs.problems("staging"),
        "slos/webhook-delivery.yaml",
        "cluster_namespace_job:sockudo_webhooks_failed:ratio_rate5m",
        "unknown metric sockudo_webhook_failed_total",
    );
}

/// The spec shape is versioned: another version is refused, naming the file.
#[test]
fn an_unknown_spec_version_is_refused() {
    let specs = Specs::copy();
    specs.replace("slos/api-availability.yaml", "version: 1", "version: 2");
    let error = specs.load_error("production");
    assert!(
        error.contains("slos/api-availability.yaml") && error.contains("version 2"),
        "{error}"
    );
}

/// A copy of the specs whose staging profile sets `slos.<name>.objective`.
fn staging_with_objective(name: &str, objective: f64) -> Specs {
    let specs = Specs::copy();
    let root = specs.path("");
    let mut profile = read_profile(&root, "staging");
    set(&mut profile, "slos", serde_norway::Mapping::new());
    set(
        &mut profile,
        &format!("slos.{name}"),
        serde_norway::Mapping::new(),
    );
    set(&mut profile, &format!("slos.{name}.objective"), objective);
    write_profile(&root, "staging", &profile);
    specs
}

/// A profile's objective must be a percentage strictly between 0 and 100 and name a known SLO;
/// the error names the key and the profile.
#[test]
fn a_profile_objective_is_validated() {
    for (name, objective, needle) in [
        ("api-availability", 100.0, "slos.api-availability.objective"),
        ("api-availability", 0.0, "slos.api-availability.objective"),
        ("connection-success", -5.0, "slos.connection-success.objective"),
        (
            "api-availabilty",
            99.0,
            "slos.\"api-availabilty\": no SLO of that name",
        ),
    ] {
        let specs = staging_with_objective(name, objective);
        let error = specs.load_error("staging");
        assert!(
            error.contains("environments/staging.yaml") && error.contains(needle),
            "{name} {objective}: {error}"
        );
    }
}

/// An objective so low that a 14.4× burn is nearly every event failing is a problem: the page
/// could hardly fire and its fixtures' burns cannot exist.
#[test]
fn an_objective_leaving_the_page_no_room_is_a_problem() {
    let specs = staging_with_objective("webhook-delivery", 90.0);
    assert_problem(
        &specs.problems("staging"),
        "slos/webhook-delivery.yaml",
        "SLO webhook-delivery",
        "objective 90% leaves an error budget of 0.1",
    );
    assert_eq!(
        staging_with_objective("webhook-delivery", 95.0).problems("staging"),
        vec![]
    );
}

/// A profile's objective moves the budget, the thresholds and the fixtures together: at 99.5%
/// the generated tests still pass under both promtools.
#[test]
fn a_profile_objective_moves_the_thresholds_and_the_fixtures() {
    let specs = staging_with_objective("api-availability", 99.5);
    let model = specs.load("staging").unwrap();
    let slo = model
        .slos
        .items
        .iter()
        .find(|s| s.spec.name == "api-availability")
        .unwrap();
    assert_eq!(slo.budget(), 0.005);
    let out = bundle::build(&specs.source(), "staging", &Overrides::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    out.write_atomically(&dir.path().join("staging")).unwrap();
    let rules = yaml(
        &dir.path()
            .join("staging/prometheus/rules/slo-api-availability.yml"),
    );
    let page = rules["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|r| r["alert"] == "SockudoApiAvailabilityFastBurn")
        .unwrap()
        .clone();
    let thresholds = number_literals(&bundle::parse_promql(page["expr"].as_str().unwrap()).unwrap());
    // 14.4 × 0.5% and 6 × 0.5%, then the traffic floor.
    assert_eq!(thresholds, [0.072, 0.072, 0.03, 0.03, 100.0]);
    promtool_test_rules(&[dir
        .path()
        .join("staging/prometheus/tests/slo-api-availability_test.yml")])
    .unwrap_or_else(|e| panic!("{e}"));
}

fn number_literals(expr: &Expr) -> Vec<f64> {
    match expr {
        Expr::NumberLiteral(n) => vec![n.val],
        Expr::Binary(b) => {
            let mut found = number_literals(&b.lhs);
            found.extend(number_literals(&b.rhs));
            found
        }
        Expr::Paren(p) => number_literals(&p.expr),
        _ => Vec::new(),
    }
}
