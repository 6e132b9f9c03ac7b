//! `sockudo-obs catalogue`: print the catalogue as an aligned table, JSON or markdown.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;
use sockudo_obs::catalogue::{MetricDef, CATALOGUE};
use sockudo_obs::MetricsConfig;

use crate::CatalogueFormat;

pub(crate) fn run(format: CatalogueFormat, prefix: Option<String>) -> anyhow::Result<ExitCode> {
    let prefix = match prefix {
        Some(prefix) if !sockudo_obs::names::is_metric_prefix(&prefix) => {
            return Err(sockudo_obs::Error::usage(format!(
                "--prefix {prefix:?}: not a metric name prefix (ASCII letters, digits and \"_\", not starting with a digit)"
            ))
            .with_key("--prefix")
            .into())
        }
        Some(prefix) => prefix,
        None => MetricsConfig::load(None)?.prefix,
    };
    let out = match format {
        CatalogueFormat::Table => table(&prefix),
        CatalogueFormat::Json => json(&prefix)?,
        CatalogueFormat::Markdown => markdown(&prefix),
    };
    super::stdio::write(super::stdio::Stream::Stdout, format_args!("{out}"))?;
    Ok(ExitCode::SUCCESS)
}

/// One row per metric: exposed name, type, labels, help.
fn rows(prefix: &str) -> Vec<[String; 4]> {
    CATALOGUE
        .iter()
        .map(|def| {
            [
                def.full_name(prefix),
                def.kind.as_str().to_string(),
                def.label_names().collect::<Vec<_>>().join(","),
                def.help.to_string(),
            ]
        })
        .collect()
}

const HEADINGS: [&str; 4] = ["NAME", "TYPE", "LABELS", "HELP"];

fn table(prefix: &str) -> String {
    let rows = rows(prefix);
    let mut widths = HEADINGS.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    let headings = HEADINGS.map(String::from);
    for row in std::iter::once(&headings).chain(&rows) {
        let [name, kind, labels, help] = row;
        let _ = writeln!(
            out,
            "{name:<w0$}  {kind:<w1$}  {labels:<w2$}  {help}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        );
    }
    out
}

fn markdown(prefix: &str) -> String {
    let mut out = String::from("| name | type | labels | help |\n|---|---|---|---|\n");
    for [name, kind, labels, help] in rows(prefix) {
        let labels = if labels.is_empty() {
            String::new()
        } else {
            labels
                .split(',')
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "| `{name}` | {kind} | {labels} | {help} |");
    }
    out
}

#[derive(Serialize)]
struct JsonCatalogue<'a> {
    prefix: &'a str,
    metrics: Vec<JsonMetric>,
}

#[derive(Serialize)]
struct JsonMetric {
    /// The exposed name (prefix + name).
    full_name: String,
    #[serde(flatten)]
    def: &'static MetricDef,
}

fn json(prefix: &str) -> anyhow::Result<String> {
    let catalogue = JsonCatalogue {
        prefix,
        metrics: CATALOGUE
            .iter()
            .map(|def| JsonMetric {
                full_name: def.full_name(prefix),
                def,
            })
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&catalogue)? + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_columns_line_up() {
        let out = table("my_");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), CATALOGUE.len() + 1);
        let type_column = lines[0].find("TYPE").unwrap();
        for line in &lines[1..] {
            assert!(line.starts_with("my_"), "{line}");
            let kind = &line[type_column..];
            assert!(
                ["counter", "gauge", "histogram"]
                    .iter()
                    .any(|k| kind.starts_with(k)),
                "{line}"
            );
        }
    }

    #[test]
    fn json_round_trips_with_every_metric() {
        let value: serde_json::Value = serde_json::from_str(&json("sockudo_").unwrap()).unwrap();
        let metrics = value["metrics"].as_array().unwrap();
        assert_eq!(metrics.len(), CATALOGUE.len());
        assert_eq!(metrics[0]["full_name"], "sockudo_active_connections");
        assert_eq!(metrics[0]["name"], "active_connections");
        assert_eq!(metrics[0]["kind"], "gauge");
    }

    #[test]
    fn markdown_has_a_row_per_metric() {
        let out = markdown("sockudo_");
        assert_eq!(out.lines().count(), CATALOGUE.len() + 2);
        assert!(out.contains("| `sockudo_total_connections` | counter | `app_id` |"));
    }
}
