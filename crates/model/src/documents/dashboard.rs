//! One dashboard as Grafana's JSON model, built from its spec as typed values.

use serde::Serialize;
use serde_json::{json, Value};

use crate::dashboards::{Dashboard, PanelKind, PanelSpec, PanelUnit};
use crate::layout::{CRITICAL, WARNING};
use crate::profile::Profile;
use crate::rules::{AlertRule, RuleSet};

/// Grafana's dashboard grid is 24 columns wide.
const GRID_COLUMNS: u32 = 24;
const DEFAULT_PANEL_HEIGHT: u32 = 8;

/// A dashboard as Grafana's JSON model, without `__inputs`: it is provisioned or imported as is,
/// the datasource chosen through the `datasource` variable.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaDashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub timezone: &'static str,
    pub editable: bool,
    /// 1: a shared crosshair across panels.
    pub graph_tooltip: u8,
    pub schema_version: u32,
    pub version: u32,
    pub refresh: String,
    pub time: TimeRange,
    pub templating: Templating,
    pub annotations: Annotations,
    pub links: Vec<Value>,
    pub panels: Vec<GrafanaPanel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Templating {
    pub list: Vec<Variable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Annotations {
    pub list: Vec<Value>,
}

/// A templating variable: the datasource picker or a `label_values` query.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// For the datasource variable, the plugin type; for query variables, the PromQL.
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DatasourceRef>,
    /// 2: refresh the values when the time range changes.
    pub refresh: u8,
    pub multi: bool,
    pub include_all: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_value: Option<String>,
    pub sort: u8,
    pub hide: u8,
    pub regex: String,
    /// Absent lets Grafana pick its default (the default datasource); `@grafana/schema` requires
    /// `text` and `value` whenever it is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Value>,
    pub options: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

impl DatasourceRef {
    /// The datasource the `datasource` variable selects.
    fn from_variable() -> DatasourceRef {
        DatasourceRef {
            kind: "prometheus".into(),
            uid: "${datasource}".into(),
        }
    }
}

/// A row header or a query panel; Grafana tells them apart by `type`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GrafanaPanel {
    Row(RowPanel),
    Query(Box<QueryPanel>),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowPanel {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: u32,
    pub title: String,
    pub collapsed: bool,
    pub grid_pos: GridPos,
    /// Collapsed rows hold their panels here; open rows leave it empty.
    pub panels: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPanel {
    #[serde(rename = "type")]
    pub kind: PanelKind,
    pub id: u32,
    pub title: String,
    pub description: String,
    pub datasource: DatasourceRef,
    pub grid_pos: GridPos,
    pub field_config: FieldConfig,
    pub options: Value,
    pub targets: Vec<Target>,
    /// A table of several queries merges their frames into one row per series.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GridPos {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldConfig {
    pub defaults: FieldDefaults,
    pub overrides: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldDefaults {
    /// `None` only when the spec forgot it; the dashboard check rejects that before rendering.
    pub unit: Option<PanelUnit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// Always set: the alert's threshold, or one base colour (never Grafana's default red at 80).
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    pub mode: &'static str,
    pub steps: Vec<ThresholdStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThresholdStep {
    pub color: &'static str,
    /// `null` for the base step.
    pub value: Option<f64>,
}

/// The colour of an alert's severity on a panel.
fn severity_color(severity: Option<&str>) -> &'static str {
    match severity {
        Some(CRITICAL) => "red",
        Some(WARNING) => "orange",
        _ => "blue",
    }
}

/// The panel's thresholds: from its alert's threshold where it names one.
pub(crate) fn thresholds(spec: &PanelSpec, alert: Option<&AlertRule>) -> Thresholds {
    const BASE: &str = "green";
    let step = |color, value| ThresholdStep { color, value };
    let steps = match alert.and_then(|a| a.threshold.map(|t| (t, severity_color(a.severity.as_deref())))) {
        Some((value, color)) if spec.alert_below => vec![step(color, None), step(BASE, Some(value))],
        Some((value, color)) => vec![step(BASE, None), step(color, Some(value))],
        None => vec![step(BASE, None)],
    };
    Thresholds {
        mode: "absolute",
        steps,
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub datasource: DatasourceRef,
    pub expr: String,
    pub ref_id: String,
    pub legend_format: String,
    pub range: bool,
    pub instant: bool,
    pub format: &'static str,
}

/// Builds the dashboard of one spec.
pub(crate) fn dashboard_json(profile: &Profile, rules: &RuleSet, dashboard: &Dashboard) -> GrafanaDashboard {
    let spec = &dashboard.spec;
    GrafanaDashboard {
        uid: spec.uid.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        tags: spec.tags.clone(),
        timezone: "browser",
        editable: false,
        graph_tooltip: 1,
        schema_version: profile.grafana.schema_version,
        version: 1,
        refresh: spec.refresh.clone(),
        time: TimeRange {
            from: spec.time_from.clone(),
            to: "now".into(),
        },
        templating: Templating {
            list: variables(profile, &spec.variable_metric),
        },
        annotations: Annotations { list: Vec::new() },
        links: Vec::new(),
        panels: layout(profile, rules, dashboard),
    }
}

/// `datasource`, then `cluster` when the profile wants it, then `job`, `instance` and `app_id`,
/// each narrowed by the ones before it.
fn variables(profile: &Profile, metric: &str) -> Vec<Variable> {
    let datasource = Variable {
        name: "datasource".into(),
        label: "Data source".into(),
        kind: "datasource",
        query: "prometheus".into(),
        datasource: None,
        refresh: 1,
        multi: false,
        include_all: false,
        all_value: None,
        sort: 0,
        hide: 0,
        regex: String::new(),
        current: None,
        options: Vec::new(),
    };
    let mut narrowing: Vec<&str> = Vec::new();
    let mut list = vec![datasource];
    let mut label_names = vec![("job", "Job"), ("instance", "Instance"), ("app_id", "App")];
    if profile.grafana.cluster_variable {
        label_names.insert(0, ("cluster", "Cluster"));
    }
    for (name, label) in label_names {
        let matchers: Vec<String> = narrowing.iter().map(|n| format!("{n}=~\"${n}\"")).collect();
        let selector = if matchers.is_empty() {
            metric.to_string()
        } else {
            format!("{metric}{{{}}}", matchers.join(", "))
        };
        let query = format!("label_values({selector}, {name})");
        list.push(Variable {
            name: name.into(),
            label: label.into(),
            kind: "query",
            query,
            datasource: Some(DatasourceRef::from_variable()),
            refresh: 2,
            multi: true,
            include_all: true,
            all_value: Some(".*".into()),
            sort: 1,
            hide: 0,
            regex: String::new(),
            current: Some(json!({"selected": true, "text": ["All"], "value": ["$__all"]})),
            options: Vec::new(),
        });
        narrowing.push(name);
    }
    list
}

/// Places each row header across the full width, then its panels left to right, wrapping onto
/// a new line when the next one does not fit. Ids count up in that order, so the same spec
/// always yields the same layout.
fn layout(profile: &Profile, rules: &RuleSet, dashboard: &Dashboard) -> Vec<GrafanaPanel> {
    let mut panels = Vec::new();
    let mut next_id = 1..;
    let mut y = 0;
    for row in &dashboard.spec.rows {
        panels.push(GrafanaPanel::Row(RowPanel {
            kind: "row",
            id: next_id.next().expect("unbounded"),
            title: row.title.clone(),
            collapsed: false,
            grid_pos: GridPos {
                x: 0,
                y,
                w: GRID_COLUMNS,
                h: 1,
            },
            panels: Vec::new(),
        }));
        y += 1;
        let (mut x, mut line_height) = (0, 0);
        for spec in &row.panels {
            let w = spec
                .width
                .unwrap_or(spec.kind.default_width())
                .clamp(1, GRID_COLUMNS);
            let h = spec.height.unwrap_or(DEFAULT_PANEL_HEIGHT);
            if x + w > GRID_COLUMNS {
                y += line_height;
                (x, line_height) = (0, 0);
            }
            let grid_pos = GridPos { x, y, w, h };
            let alert = spec
                .alert
                .as_deref()
                .and_then(|name| rules.alerts().map(|(_, a)| a).find(|a| a.name == name));
            panels.push(GrafanaPanel::Query(Box::new(query_panel(
                profile,
                spec,
                alert,
                next_id.next().expect("unbounded"),
                grid_pos,
            ))));
            x += w;
            line_height = line_height.max(h);
        }
        y += line_height;
    }
    panels
}

fn query_panel(
    profile: &Profile,
    spec: &PanelSpec,
    alert: Option<&AlertRule>,
    id: u32,
    grid_pos: GridPos,
) -> QueryPanel {
    let instant = spec.kind.is_instant();
    let thresholds = thresholds(spec, alert);
    let marks_alert = thresholds.steps.len() > 1;
    let targets: Vec<Target> = spec
        .queries
        .iter()
        .zip(ref_ids())
        .map(|(query, ref_id)| Target {
            datasource: DatasourceRef::from_variable(),
            expr: query.expr.clone(),
            ref_id,
            legend_format: query.legend.clone(),
            range: !instant,
            instant,
            format: if instant { "table" } else { "time_series" },
        })
        .collect();
    QueryPanel {
        transformations: table_transformations(spec),
        kind: spec.kind,
        id,
        title: spec.title.clone(),
        description: spec.description.clone().unwrap_or_default(),
        datasource: DatasourceRef::from_variable(),
        grid_pos,
        field_config: FieldConfig {
            defaults: FieldDefaults {
                unit: spec.unit,
                min: spec.min,
                max: spec.max,
                custom: (spec.kind == PanelKind::Timeseries).then(|| {
                    json!({
                        "drawStyle": "line",
                        "lineWidth": 1,
                        "fillOpacity": if spec.stacked { 30 } else { 10 },
                        "showPoints": "never",
                        "stacking": {"mode": if spec.stacked { "normal" } else { "none" }, "group": "A"},
                        // The alert's threshold as a dashed line; none without an alert.
                        "thresholdsStyle": {"mode": if marks_alert { "dashed" } else { "off" }},
                    })
                }),
                thresholds,
            },
            overrides: table_overrides(profile, spec, &targets),
        },
        options: panel_options(spec),
        targets,
    }
}

/// A table of several instant queries comes as one frame per query; merging them gives one row
/// per series with a column per query (`Value #A`, `Value #B`, ...), and the label columns that
/// say nothing (`Time`) go.
fn table_transformations(spec: &PanelSpec) -> Vec<Value> {
    if spec.kind != PanelKind::Table {
        return Vec::new();
    }
    let mut transformations = Vec::new();
    if spec.queries.len() > 1 {
        transformations.push(json!({"id": "merge", "options": {}}));
    }
    // An alert table's value is always 1: the rows say it all.
    let exclude = if spec.runbook_links {
        json!({"Time": true, "__name__": true, "Value": true})
    } else {
        json!({"Time": true, "__name__": true})
    };
    transformations.push(json!({
        "id": "organize",
        "options": {"excludeByName": exclude, "indexByName": {}, "renameByName": {}},
    }));
    transformations
}

/// A table's value columns, named by their queries' legends and with their own units; an alert
/// table's `alertname` column linking to the runbook section of the alert.
fn table_overrides(profile: &Profile, spec: &PanelSpec, targets: &[Target]) -> Vec<Value> {
    if spec.kind != PanelKind::Table {
        return Vec::new();
    }
    let mut overrides: Vec<Value> = spec
        .queries
        .iter()
        .zip(targets)
        .map(|(query, target)| {
            let column = if spec.queries.len() > 1 {
                format!("Value #{}", target.ref_id)
            } else {
                "Value".to_string()
            };
            let mut properties = vec![json!({"id": "displayName", "value": query.legend})];
            if let Some(unit) = query.unit.or(spec.unit) {
                properties.push(json!({"id": "unit", "value": unit}));
            }
            json!({"matcher": {"id": "byName", "options": column}, "properties": properties})
        })
        .collect();
    if spec.runbook_links {
        overrides.push(json!({
            "matcher": {"id": "byName", "options": "alertname"},
            "properties": [{"id": "links", "value": [{
                "title": "Runbook",
                "url": format!("{}#${{__data.fields.alertname}}", profile.docs.runbook_url),
                "targetBlank": true,
            }]}],
        }));
    }
    overrides
}

/// `A`, `B`, ... `Z`, `AA`, ...: Grafana's query reference ids.
fn ref_ids() -> impl Iterator<Item = String> {
    (0u32..).map(|mut n| {
        let mut id = String::new();
        loop {
            id.insert(0, char::from(b'A' + (n % 26) as u8));
            if n < 26 {
                break id;
            }
            n = n / 26 - 1;
        }
    })
}

/// The display options each panel type needs to show the latest value sensibly.
fn panel_options(spec: &PanelSpec) -> Value {
    let last_value = json!({"calcs": ["lastNotNull"], "fields": "", "values": false});
    match spec.kind {
        PanelKind::Timeseries => json!({
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }),
        PanelKind::Stat => json!({
            "reduceOptions": last_value,
            "colorMode": if spec.show_name { "none" } else { "value" },
            "graphMode": if spec.show_name { "none" } else { "area" },
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": if spec.show_name { "name" } else { "auto" },
        }),
        PanelKind::Gauge => json!({
            "reduceOptions": last_value,
            "showThresholdLabels": false,
            "showThresholdMarkers": true,
        }),
        PanelKind::Bargauge => json!({
            "reduceOptions": last_value,
            "displayMode": "gradient",
            "orientation": "horizontal",
            "showUnfilled": true,
        }),
        PanelKind::Table => json!({
            "showHeader": true,
            "cellHeight": "sm",
            "footer": {"show": false, "reducer": ["sum"], "fields": ""},
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_ids_count_like_spreadsheet_columns() {
        let ids: Vec<String> = ref_ids().take(28).collect();
        assert_eq!(&ids[..3], ["A", "B", "C"]);
        assert_eq!(&ids[25..], ["Z", "AA", "AB"]);
    }
}
