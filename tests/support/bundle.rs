//! The generated bundle as the test reads it: the specs copy with free ports substituted, and
//! what the stack needs from the generated files (rules, dashboard queries, credentials paths).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

/// The ports of one stack, each picked free.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub exporter: u16,
    pub nginx: u16,
    pub prometheus: u16,
    pub alertmanager: u16,
    pub victoria_metrics: u16,
    pub webhook: u16,
}

impl Ports {
    /// Each port of `environments/local.yaml`, with the one this stack uses instead.
    fn substitutions(&self) -> [(u16, u16, &'static str); 6] {
        [
            (19601, self.exporter, "the exporter"),
            (19602, self.nginx, "the nginx proxy"),
            (19090, self.prometheus, "Prometheus"),
            (19093, self.alertmanager, "Alertmanager"),
            (18428, self.victoria_metrics, "VictoriaMetrics"),
            (19095, self.webhook, "the webhook sink"),
        ]
    }
}

/// Copies the repository's spec folders to `specs` and rewrites `environments/local.yaml` for
/// `ports`. Every default port must occur in the profile, so a renamed key cannot leave the stack
/// on a fixed port unnoticed.
pub fn write_specs(specs: &Path, ports: &Ports) -> Result<(), String> {
    write_specs_edited(specs, ports, |_| ())
}

/// [`write_specs`], then `edit` on the local profile (another server build, more targets).
pub fn write_specs_edited(specs: &Path, ports: &Ports, edit: impl FnOnce(&mut Yaml)) -> Result<(), String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for folder in ["environments", "alerts", "dashboards", "templates"] {
        super::process::copy_dir(&repo.join(folder), &specs.join(folder))?;
    }
    let profile_path = specs.join("environments/local.yaml");
    let mut profile: Yaml = read_yaml(&profile_path)?;
    for (default, port, what) in ports.substitutions() {
        if substitute_port(&mut profile, default, port) == 0 {
            return Err(format!(
                "environments/local.yaml never mentions port {default} ({what}); the e2e test \
                 substitutes free ports for the profile's defaults"
            ));
        }
    }
    edit(&mut profile);
    let text = serde_norway::to_string(&profile).map_err(|e| e.to_string())?;
    fs::write(&profile_path, text).map_err(|e| format!("{}: {e}", profile_path.display()))
}

/// Replaces `default` by `port` in every number equal to it and every `host:default` string;
/// returns how many values changed.
fn substitute_port(value: &mut Yaml, default: u16, port: u16) -> usize {
    match value {
        Yaml::Number(n) if n.as_u64() == Some(u64::from(default)) => {
            *value = Yaml::Number(port.into());
            1
        }
        Yaml::String(s) if s.contains(&format!(":{default}")) => {
            *s = s.replace(&format!(":{default}"), &format!(":{port}"));
            1
        }
        Yaml::Sequence(items) => items.iter_mut().map(|v| substitute_port(v, default, port)).sum(),
        Yaml::Mapping(map) => map.values_mut().map(|v| substitute_port(v, default, port)).sum(),
        _ => 0,
    }
}

/// The `threshold` the alert specs under `specs/alerts` give `alertname` (the profile may not
/// override it: the test profiles change only `for`).
pub fn alert_threshold(specs: &Path, alertname: &str) -> Result<f64, String> {
    alert_number(specs, alertname, "threshold")
}

/// A number of the alert spec named `alertname` under `specs/alerts`: its `field`
/// (`threshold`, `min_traffic`).
pub fn alert_number(specs: &Path, alertname: &str, field: &str) -> Result<f64, String> {
    for file in files_ending(&specs.join("alerts"), ".yaml")? {
        let spec = read_yaml(&file)?;
        let alerts = spec["alerts"].as_sequence().cloned().unwrap_or_default();
        if let Some(alert) = alerts.iter().find(|a| a["alert"].as_str() == Some(alertname)) {
            return alert[field]
                .as_f64()
                .ok_or_else(|| format!("{}: {alertname} has no numeric {field}", file.display()));
        }
    }
    Err(format!(
        "no alert spec under {} names {alertname}",
        specs.display()
    ))
}

pub fn read_yaml(path: &Path) -> Result<Yaml, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_json(path: &Path) -> Result<Json, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The files in `dir` whose names end with `suffix`, in name order.
fn files_ending(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no *{suffix} file in {}", dir.display()));
    }
    Ok(files)
}

/// A generated bundle on disk.
pub struct Bundle {
    pub dir: PathBuf,
}

/// One query of a dashboard, with where it came from.
#[derive(Debug, Clone)]
pub struct PanelQuery {
    pub dashboard: String,
    /// The panel title, or `variable $name` for a templating variable.
    pub panel: String,
    /// As written in the dashboard, variables unsubstituted.
    pub expr: String,
}

impl Bundle {
    pub fn prometheus_config(&self) -> PathBuf {
        self.dir.join("prometheus/prometheus.yml")
    }

    pub fn alertmanager_config(&self) -> PathBuf {
        self.dir.join("alertmanager/alertmanager.yml")
    }

    pub fn nginx_server_block(&self) -> PathBuf {
        self.dir.join("nginx/sockudo-metrics.conf")
    }

    fn dashboards_dir(&self) -> PathBuf {
        self.dir.join("grafana/dashboards")
    }

    /// Every recording rule in `prometheus/rules/*.yml`: its `record` name and its `expr`.
    pub fn recording_rules(&self) -> Result<Vec<(String, String)>, String> {
        let mut records = Vec::new();
        for file in files_ending(&self.dir.join("prometheus/rules"), ".yml")? {
            let rules = read_yaml(&file)?;
            let groups = rules["groups"].as_sequence().cloned().unwrap_or_default();
            for rule in groups.iter().filter_map(|g| g["rules"].as_sequence()).flatten() {
                if let Some(record) = rule["record"].as_str() {
                    let expr = rule["expr"].as_str().unwrap_or_default();
                    records.push((record.to_string(), expr.to_string()));
                }
            }
        }
        Ok(records)
    }

    /// The scrape job's basic-auth username and password file (resolved against the config's
    /// directory, as Prometheus resolves it).
    pub fn scrape_credentials(&self) -> Result<(String, PathBuf), String> {
        let config_path = self.prometheus_config();
        let config = read_yaml(&config_path)?;
        let auth = &config["scrape_configs"][0]["basic_auth"];
        let (Some(user), Some(file)) = (auth["username"].as_str(), auth["password_file"].as_str()) else {
            return Err(format!(
                "{}: the first scrape job has no basic_auth username and password_file",
                config_path.display()
            ));
        };
        Ok((user.to_string(), config_path.parent().unwrap().join(file)))
    }

    /// The `external_labels` Prometheus attaches to what leaves it (remote_write, alerts).
    pub fn external_labels(&self) -> Result<BTreeMap<String, String>, String> {
        let config = read_yaml(&self.prometheus_config())?;
        let labels = config["global"]["external_labels"].as_mapping().cloned();
        Ok(labels
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
            .collect())
    }

    /// The `auth_basic_user_file` of the nginx server block, as written there.
    pub fn htpasswd_file(&self) -> Result<String, String> {
        let path = self.nginx_server_block();
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        text.lines()
            .find_map(|line| line.trim().strip_prefix("auth_basic_user_file "))
            .map(|rest| rest.trim_end_matches(';').trim().to_string())
            .ok_or_else(|| format!("{}: no auth_basic_user_file", path.display()))
    }

    /// The options of the `htpasswd` command the generated README tells operators to run (`-c -B`
    /// for bcrypt), so the test checks the hash format the docs recommend against the real nginx.
    pub fn recommended_htpasswd_options(&self) -> Result<Vec<String>, String> {
        let path = self.dir.join("README.md");
        let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let command = text
            .lines()
            .find(|line| line.trim_start().starts_with("htpasswd "))
            .ok_or_else(|| format!("{}: no `htpasswd` command", path.display()))?;
        Ok(command
            .split_whitespace()
            .filter(|word| word.starts_with('-'))
            .map(str::to_string)
            .collect())
    }

    /// Every dashboard JSON file.
    pub fn dashboard_files(&self) -> Result<Vec<PathBuf>, String> {
        files_ending(&self.dashboards_dir(), ".json")
    }

    /// Every query of every panel (rows and collapsed rows included) and every query variable of
    /// every dashboard.
    pub fn dashboard_queries(&self) -> Result<Vec<PanelQuery>, String> {
        let mut queries = Vec::new();
        for file in self.dashboard_files()? {
            let dashboard = read_json(&file)?;
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            collect_panel_queries(&name, &dashboard["panels"], &mut queries);
            for variable in dashboard["templating"]["list"].as_array().into_iter().flatten() {
                if let Some(expr) = variable_query(variable) {
                    queries.push(PanelQuery {
                        dashboard: name.clone(),
                        panel: format!("variable ${}", variable["name"].as_str().unwrap_or("?")),
                        expr,
                    });
                }
            }
        }
        if queries.is_empty() {
            return Err(format!("no panel queries in {}", self.dashboards_dir().display()));
        }
        Ok(queries)
    }
}

fn collect_panel_queries(dashboard: &str, panels: &Json, out: &mut Vec<PanelQuery>) {
    for panel in panels.as_array().into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                out.push(PanelQuery {
                    dashboard: dashboard.to_string(),
                    panel: title.to_string(),
                    expr: expr.to_string(),
                });
            }
        }
        collect_panel_queries(dashboard, &panel["panels"], out);
    }
}

/// A query variable's `label_values(selector, label)` as PromQL that is non-empty exactly when
/// the variable has values: `group by (label) (selector)`.
pub fn variable_query(variable: &Json) -> Option<String> {
    if variable["type"] != "query" {
        return None;
    }
    let query = match &variable["query"] {
        Json::String(q) => q.clone(),
        other => other["query"].as_str()?.to_string(),
    };
    let inner = query.trim().strip_prefix("label_values(")?.strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some(format!("group by ({}) ({})", label.trim(), selector.trim()))
}

/// What the test substitutes for Grafana's variables: every job, instance, app and cluster, and a
/// rate interval of at least four scrape intervals.
pub const DASHBOARD_VARIABLES: &[(&str, &str)] = &[
    ("__rate_interval", "1m"),
    ("__interval", "15s"),
    ("__range", "5m"),
    ("job", ".*"),
    ("instance", ".*"),
    ("app_id", ".*"),
    ("cluster", ".*"),
    ("datasource", "prometheus"),
];

/// `expr` with `$name`, `${name}` and `${name:format}` replaced from `values`; an unknown variable
/// is an error, so the query is never sent half-substituted.
pub fn substitute_variables(expr: &str, values: &[(&str, &str)]) -> Result<String, String> {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {expr}"))?;
            let name = braced[..end].split(':').next().unwrap_or_default();
            (name, end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let value = values
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| format!("unknown dashboard variable ${name} in {expr}"))?;
        out.push_str(value);
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Ok(out)
}
