//! Renders `prometheus/tests/<stem>_test.yml`: a promtool unit test per alert fixture, with the
//! exact labels and annotations each firing alert must carry (descriptions are rendered here as
//! Prometheus will render them; see [`render_template`]).

use std::collections::BTreeMap;

use serde::Serialize;
use sockudo_obs_catalogue::{Error, ErrorKind};
use sockudo_obs_model::Result;

use sockudo_obs_model::layout::rule_file_path;
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::profile::PromDuration;
use sockudo_obs_model::rules::{render_template, AlertRule, AlertTest, RuleFile};

#[derive(Serialize)]
struct TestFile {
    rule_files: Vec<String>,
    evaluation_interval: PromDuration,
    tests: Vec<TestGroup>,
}

#[derive(Serialize)]
struct TestGroup {
    name: String,
    interval: PromDuration,
    input_series: Vec<InputSeries>,
    alert_rule_test: Vec<AlertRuleTest>,
}

#[derive(Serialize)]
struct InputSeries {
    series: String,
    values: String,
}

#[derive(Serialize)]
struct AlertRuleTest {
    eval_time: String,
    alertname: String,
    exp_alerts: Vec<ExpectedAlert>,
}

#[derive(Serialize)]
struct ExpectedAlert {
    exp_labels: BTreeMap<String, String>,
    exp_annotations: BTreeMap<String, String>,
}

pub(crate) fn render(model: &Model, out: &mut Output) -> Result<()> {
    for file in model.rules.files.iter().filter(|f| !f.alerts.is_empty()) {
        let tests = file
            .alerts
            .iter()
            .flat_map(|alert| alert.tests.iter().map(move |test| (alert, test)))
            .map(|(alert, test)| test_group(alert, test))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| e.context(file.path.clone()))?;
        let test_file = TestFile {
            rule_files: rule_files_for(&model.rules.files, file)
                .iter()
                .map(|f| format!("../{}", rule_file_path(&f.stem).trim_start_matches("prometheus/")))
                .collect(),
            evaluation_interval: file
                .test_evaluation_interval
                .clone()
                .unwrap_or_else(|| model.profile.prometheus.evaluation_interval.clone()),
            tests,
        };
        out.add_yaml(&format!("prometheus/tests/{}_test.yml", file.stem), &test_file)?;
    }
    Ok(())
}

/// The rule files a test of `file` loads, in bundle order: `file`, the files whose recording
/// rules it reads (and theirs, transitively), and the files of the alerts its fixtures keep
/// quiet. promtool evaluates every loaded rule at every step, so loading only these keeps the
/// tests fast (the `local` profile evaluates every second).
fn rule_files_for<'f>(files: &'f [RuleFile], file: &'f RuleFile) -> Vec<&'f RuleFile> {
    let mut needed = vec![file];
    let mut i = 0;
    while i < needed.len() {
        let current = needed[i];
        let exprs: Vec<&str> = current
            .recording
            .iter()
            .map(|r| r.expr.as_str())
            .chain(current.alerts.iter().map(|a| a.expr.as_str()))
            .collect();
        let quiet: Vec<&str> = current
            .alerts
            .iter()
            .flat_map(|a| a.tests.iter().flat_map(|t| t.quiet.iter().map(String::as_str)))
            .collect();
        for other in files {
            let read = other
                .recording
                .iter()
                .any(|r| exprs.iter().any(|e| e.contains(r.record.as_str())));
            let kept_quiet = other.alerts.iter().any(|a| quiet.contains(&a.name.as_str()));
            if (read || kept_quiet) && !needed.iter().any(|f| std::ptr::eq(*f, other)) {
                needed.push(other);
            }
        }
        i += 1;
    }
    files
        .iter()
        .filter(|f| needed.iter().any(|n| std::ptr::eq(*n, *f)))
        .collect()
}

fn test_group(alert: &AlertRule, test: &AlertTest) -> Result<TestGroup> {
    let description = alert.description.clone().unwrap_or_default();
    let mut annotations = alert.annotations();
    let exp_alerts = test
        .fires
        .iter()
        .map(|expected| {
            let value = expected
                .value
                .as_deref()
                .map(str::parse::<f64>)
                .transpose()
                .map_err(|e| Error::from_source(ErrorKind::Render, e))?;
            let text = render_template(&description, &expected.labels, value).map_err(|msg| {
                Error::new(
                    ErrorKind::Render,
                    format!("{}: fixture {:?}: {msg}", alert.name, test.name),
                )
            })?;
            annotations.insert("description".into(), text);
            let mut labels = expected.labels.clone();
            labels.extend(alert.labels());
            Ok(ExpectedAlert {
                exp_labels: labels,
                exp_annotations: annotations.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let eval_time = test.eval_time(alert.for_.as_ref());
    // The alert under test, then each alert that must stay quiet on the same input.
    let quiet = test.quiet.iter().map(|other| AlertRuleTest {
        eval_time: eval_time.clone(),
        alertname: other.clone(),
        exp_alerts: Vec::new(),
    });
    let alert_rule_test = std::iter::once(AlertRuleTest {
        eval_time: eval_time.clone(),
        alertname: alert.name.clone(),
        exp_alerts,
    })
    .chain(quiet)
    .collect();
    Ok(TestGroup {
        name: format!("{}: {}", alert.name, test.name),
        interval: test.interval.clone(),
        input_series: test
            .input_series
            .iter()
            .map(|s| InputSeries {
                series: s.series.clone(),
                values: s.values.clone(),
            })
            .collect(),
        alert_rule_test,
    })
}
