//! Dashboard specs (`dashboards/*.yaml`): rows, panels, queries and units, resolved for one
//! environment (metric names under the active prefix, the `cluster` matcher added when the
//! profile asks for a cluster variable). Unknown keys are errors.

use std::collections::BTreeSet;

use crate::Result;
use serde::{Deserialize, Serialize};

use super::expr::{metric_names, panel_query};
use super::jinja::Vars;
use super::profile::{label_lists, parse_spec, Profile};
use super::source::{Folder, SpecSource};
use crate::catalogue::respell_prefix;
use sockudo_obs_catalogue::Error;

/// Every dashboard of the bundle, in file-name order.
#[derive(Debug, Clone, Default)]
pub struct Dashboards {
    /// One per spec file of `dashboards/`.
    pub items: Vec<Dashboard>,
}

/// One dashboard spec and the file it came from.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The spec file (`dashboards/sockudo-overview.yaml`), for problems and errors.
    pub file: String,
    /// The spec, resolved for the environment.
    pub spec: DashboardSpec,
}

/// A dashboard spec as written in `dashboards/*.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSpec {
    /// The spec format's version, checked by `parse_spec`.
    pub version: u32,
    /// Grafana's stable identifier: links and provisioning rely on it never changing.
    pub uid: String,
    /// The dashboard's title in Grafana (`Sockudo overview`).
    pub title: String,
    /// The dashboard's description in Grafana.
    pub description: String,
    /// Grafana's tags for the dashboard (`[sockudo, websocket, generated]`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Auto-refresh interval (`30s`).
    pub refresh: String,
    /// How far back the dashboard opens (`now-6h`).
    pub time_from: String,
    /// The catalogue metric whose labels fill the `job`, `instance` and `app_id` variables; it
    /// must carry `app_id` and be present on every instance.
    pub variable_metric: String,
    /// The rows, top to bottom.
    pub rows: Vec<RowSpec>,
}

/// A row of a dashboard: a header over its panels.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowSpec {
    /// The row header's title (`Connection overview`).
    pub title: String,
    /// The row's panels, left to right, wrapping onto a new line when the next one does not fit.
    #[serde(default)]
    pub panels: Vec<PanelSpec>,
    /// The generator fills this row with each SLO's error budget and burn rate (`slos/`).
    #[serde(default)]
    pub slos: bool,
}

/// One panel. `description` and `unit` are optional to serde so the dashboard check, not a
/// parse error, reports a missing one, naming the panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    /// The panel's title; problems and errors name the panel by it.
    pub title: String,
    /// What the panel shows, for Grafana's panel description; the check requires one.
    #[serde(default)]
    pub description: Option<String>,
    /// The Grafana panel type (`type`).
    #[serde(rename = "type")]
    pub kind: PanelKind,
    /// The unit of the panel's values; the check requires one.
    #[serde(default)]
    pub unit: Option<PanelUnit>,
    /// Width in grid columns (1-24); defaults by panel type.
    #[serde(default)]
    pub width: Option<u32>,
    /// Height in grid rows; defaults to 8.
    #[serde(default)]
    pub height: Option<u32>,
    /// Grafana's `min` for the panel's values; none by default.
    #[serde(default)]
    pub min: Option<f64>,
    /// Grafana's `max` for the panel's values; none by default.
    #[serde(default)]
    pub max: Option<f64>,
    /// Stack the series of a time series panel.
    #[serde(default)]
    pub stacked: bool,
    /// The alert whose threshold the panel marks (coloured by the alert's severity from there
    /// on), read from the resolved rules so a profile's override moves it too. The panel must
    /// show what the alert compares. Without one, the panel has a single base colour and never
    /// Grafana's default red at 80.
    #[serde(default)]
    pub alert: Option<String>,
    /// The alert fires below its threshold (a hit ratio), not above.
    #[serde(default)]
    pub alert_below: bool,
    /// A stat panel shows each series' legend (a version) rather than its value.
    #[serde(default)]
    pub show_name: bool,
    /// A table of alerts: its `alertname` column links each row to the alert's runbook section.
    #[serde(default)]
    pub runbook_links: bool,
    /// The panel's queries (Grafana's targets); the check requires at least one.
    pub queries: Vec<QuerySpec>,
}

/// One query of a panel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// The PromQL expression, under the default prefix: Grafana's variables are written `$job`,
    /// the spec's placeholders `${...}`.
    pub expr: String,
    /// Grafana's legend template (`{{app_id}}`); in a table, the column's name.
    pub legend: String,
    /// The column's unit in a table whose queries measure different things (the panel's unit
    /// otherwise).
    #[serde(default)]
    pub unit: Option<PanelUnit>,
}

/// The Grafana panel types the specs may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelKind {
    /// A graph over time (`timeseries`).
    Timeseries,
    /// A single value (`stat`).
    Stat,
    /// A single value on a dial (`gauge`).
    Gauge,
    /// Bars, one per series (`bargauge`).
    Bargauge,
    /// A table of the latest value per series (`table`).
    Table,
}

impl PanelKind {
    /// Single-value panels fit four to a line; graphs and tables two.
    pub const fn default_width(self) -> u32 {
        match self {
            PanelKind::Stat | PanelKind::Gauge => 6,
            PanelKind::Timeseries | PanelKind::Bargauge => 12,
            PanelKind::Table => 24,
        }
    }

    /// Tables show the latest value per series, so their queries are instant.
    pub const fn is_instant(self) -> bool {
        matches!(self, PanelKind::Table)
    }
}

/// Grafana unit ids for what the catalogue measures: counts, seconds, bytes, per-second rates of
/// requests, operations and other counts, and ratios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum PanelUnit {
    /// A plain count (`short`).
    #[serde(rename = "short")]
    Count,
    /// Seconds (`s`).
    #[serde(rename = "s")]
    Seconds,
    /// Bytes (`bytes`).
    #[serde(rename = "bytes")]
    Bytes,
    /// Requests per second (`reqps`).
    #[serde(rename = "reqps")]
    RequestsPerSecond,
    /// Operations per second (`ops`).
    #[serde(rename = "ops")]
    OperationsPerSecond,
    /// Other counts per second (`cps`).
    #[serde(rename = "cps")]
    CountsPerSecond,
    /// A ratio, shown as a percentage (`percentunit`).
    #[serde(rename = "percentunit")]
    Ratio,
}

/// The matcher the `cluster` variable adds beside every `job` matcher.
const JOB_MATCHER: &str = r#"job=~"$job""#;
const CLUSTER_AND_JOB_MATCHERS: &str = r#"cluster=~"$cluster", job=~"$job""#;

impl Dashboards {
    /// Every metric name the panels' queries read (Grafana's variables filled in). Unparseable
    /// queries read nothing here: the check reports them.
    pub fn metric_names(&self) -> BTreeSet<String> {
        self.items
            .iter()
            .flat_map(|d| d.spec.panels())
            .flat_map(|p| &p.queries)
            .filter_map(|q| metric_names(&panel_query(&q.expr)).ok())
            .flatten()
            .collect()
    }

    /// Reads every spec of `dashboards/` and resolves it for the profile; an error names the file
    /// and the panel.
    pub fn load(source: &SpecSource, profile: &Profile) -> Result<Dashboards> {
        let mut items = Vec::new();
        for file in source.files(Folder::Dashboards, &[".yaml", ".yml"])? {
            let mut spec: DashboardSpec = parse_spec(&file)?;
            spec.resolve(profile).map_err(|(panel, msg)| {
                Error::usage(format!("{}: panel {panel:?}: {msg}", file.path))
                    .with_key(format!("panel {panel:?}"))
                    .with_path(&file.path)
            })?;
            items.push(Dashboard {
                file: file.path,
                spec,
            });
        }
        Ok(Dashboards { items })
    }
}

impl Dashboards {
    /// Appends to each panel's description the note `note_for(dashboard, panel)` gives, if any
    /// (a panel without a description keeps none, so the dashboard check still reports it).
    pub fn append_notes(&mut self, note_for: impl Fn(&str, &str) -> Option<String>) {
        for dashboard in &mut self.items {
            let title = dashboard.spec.title.clone();
            for panel in dashboard.spec.rows.iter_mut().flat_map(|r| r.panels.iter_mut()) {
                if let (Some(description), Some(note)) =
                    (panel.description.as_mut(), note_for(&title, &panel.title))
                {
                    description.push(' ');
                    description.push_str(&note);
                }
            }
        }
    }
}

impl Dashboards {
    /// Appends `panels` (written under the default prefix) to every row that asks for the SLO
    /// panels, resolved for the environment like the specs' own.
    pub fn fill_slo_rows(&mut self, panels: &[PanelSpec], profile: &Profile) {
        for row in self.items.iter_mut().flat_map(|d| d.spec.rows.iter_mut()) {
            if row.slos {
                for panel in panels {
                    let mut panel = panel.clone();
                    for query in &mut panel.queries {
                        query.expr = adapt(&query.expr, profile, &label_lists(profile))
                            .expect("the SLO panels' queries hold only the label-list placeholders");
                    }
                    row.panels.push(panel);
                }
            }
        }
    }
}

/// An expression for this environment: under its prefix, its placeholders filled from `vars`
/// (the label lists: `${pod}` as in the rules, `pod` beside `instance` where the Kubernetes job
/// sets it), the cluster matcher beside the `job` matcher when the profile has a cluster variable
/// (so the two can never be separated). Grafana's own variables are written `$job`: `${...}` is
/// the spec's placeholder.
fn adapt(expr: &str, profile: &Profile, vars: &Vars) -> Result<String, String> {
    let expr = respell_prefix(&vars.fill(expr)?, &profile.metrics.prefix);
    Ok(if profile.grafana.cluster_variable {
        expr.replace(JOB_MATCHER, CLUSTER_AND_JOB_MATCHERS)
    } else {
        expr
    })
}

impl DashboardSpec {
    /// Rewrites every expression for this environment; an error names the panel.
    fn resolve(&mut self, profile: &Profile) -> Result<(), (String, String)> {
        self.variable_metric = respell_prefix(&self.variable_metric, &profile.metrics.prefix);
        let vars = label_lists(profile);
        for panel in self.rows.iter_mut().flat_map(|r| r.panels.iter_mut()) {
            for query in &mut panel.queries {
                query.expr = adapt(&query.expr, profile, &vars)
                    .map_err(|msg| (panel.title.clone(), format!("expr: {msg}")))?;
            }
        }
        Ok(())
    }

    /// Every panel of the dashboard, row after row.
    pub fn panels(&self) -> impl Iterator<Item = &PanelSpec> {
        self.rows.iter().flat_map(|r| r.panels.iter())
    }
}
