//! Label values survive the exposition unchanged, whatever an app id holds: quotes, backslashes,
//! newlines, non-ASCII text. Two checks: a property test of the encoded text against an escaping
//! oracle written from the text-format spec (only `\`, `"` and newline are escaped, as `\\`, `\"`
//! and `\n`), and one real round trip in which a real Prometheus scrapes the real exporter and its
//! HTTP API hands back exactly the app ids that were recorded.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::http::get;
use crate::support::ports::free_port;
use crate::support::process::ProcessGuard;
use crate::support::serve::ServerThread;
use crate::support::tools::require as tool;
use proptest::prelude::*;
use sockudo_obs::{Metrics, MetricsConfig};

/// The text format's label-value escaping, from the spec rather than from any encoder.
fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The raw (still escaped) value of the first label of `series`'s first sample, up to its closing
/// unescaped quote.
fn raw_first_label_value<'a>(exposition: &'a str, series: &str) -> Option<&'a str> {
    let start = exposition.find(&format!("\n{series}{{"))? + series.len() + 2;
    let rest = &exposition[start..];
    let value = &rest[rest.find("=\"")? + 2..];
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(&value[..i]),
            _ => {}
        }
    }
    None
}

/// Undoes [`escape_label_value`]; `None` on an escape the spec does not define.
fn unescape_label_value(raw: &str) -> Option<String> {
    let mut value = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        value.push(match chars.next()? {
            '\\' => '\\',
            '"' => '"',
            'n' => '\n',
            _ => return None,
        });
    }
    Some(value)
}

/// App ids built from the characters that need escaping, plus ordinary and non-ASCII ones.
fn nasty_app_id() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("\n".to_string()),
        Just("\\n".to_string()),
        Just("}".to_string()),
        Just(",a=\"b\"".to_string()),
        "[a-z0-9 _.-]{1,4}",
        "[é漢字アプリ🙂ßΩ]{1,3}",
    ];
    proptest::collection::vec(pieces, 1..8).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encoded_app_ids_match_the_spec_escaping_and_read_back_unchanged(app_id in nasty_app_id()) {
        let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
        metrics.app(&app_id).connection_opened();
        let exposition = metrics.encode();
        let expected = format!(
            "\nsockudo_active_connections{{app_id=\"{}\"}} 1\n",
            escape_label_value(&app_id)
        );
        prop_assert!(exposition.contains(&expected), "{expected:?} not in the exposition");
        let raw = raw_first_label_value(&exposition, "sockudo_active_connections").unwrap();
        prop_assert_eq!(unescape_label_value(raw), Some(app_id));
    }
}

/// Fixed app ids for the real round trip: each escape alone, together, and non-ASCII text.
const ROUND_TRIP_APP_IDS: [&str; 10] = [
    "quote\"inside",
    "back\\slash",
    "new\nline",
    "ends with a backslash\\",
    "\\\"escaped-looking\\\"",
    "literal \\n, not a newline",
    "a=\"b\",c=\"d\"}",
    "ünïcødé Ωß",
    "漢字のアプリ",
    "emoji 🙂 and\ttab",
];

/// The body of `GET path` when it answers 200; `None` while nothing listens yet.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let reply = get(&format!("http://{addr}{path}"), &[], None).ok()?;
    (reply.status == 200).then_some(reply.body)
}

/// The `app_id` values a Prometheus server holds, from `/api/v1/label/app_id/values`.
fn prometheus_app_ids(prometheus: SocketAddr) -> Option<BTreeSet<String>> {
    let body = http_get(prometheus, "/api/v1/label/app_id/values")?;
    let reply: serde_json::Value = serde_json::from_str(&body).ok()?;
    let values = reply.get("data")?.as_array()?;
    values.iter().map(|v| v.as_str().map(str::to_string)).collect()
}

#[test]
fn a_real_prometheus_reads_back_every_nasty_app_id_unchanged() {
    let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    for app_id in ROUND_TRIP_APP_IDS {
        metrics.app(app_id).connection_opened();
    }
    let exporter = ServerThread::start(metrics, |exporter| exporter);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  \
             - job_name: sockudo\n    static_configs:\n      - targets: [\"{}\"]\n",
            exporter.addr
        ),
    )
    .unwrap();
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = ProcessGuard::start(
        std::process::Command::new(tool("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log),
    );

    let expected: BTreeSet<String> = ROUND_TRIP_APP_IDS.iter().map(|s| s.to_string()).collect();
    let started = Instant::now();
    let mut seen = None;
    while started.elapsed() < Duration::from_secs(25) {
        seen = prometheus_app_ids(web);
        if seen.as_ref().is_some_and(|ids| !ids.is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
    let seen = seen
        .filter(|ids| !ids.is_empty())
        .unwrap_or_else(|| panic!("Prometheus scraped nothing within 25 s; its log:\n{log}"));
    println!(
        "Prometheus read back {} app ids after {:?}",
        seen.len(),
        started.elapsed()
    );
    assert_eq!(seen, expected);
}

/// The exposition's size bound: a label value longer than `MAX_LABEL_VALUE_LEN` shares the
/// `__overflow__` series, so 1,000 hostile 8 KB ids (the unknown-app-key error path records
/// whatever id a client sent) add one app's series, not 562 MB, and take no place that real
/// apps need under the app cap.
#[test]
fn a_thousand_hostile_8_kb_app_ids_keep_the_scrape_bounded_and_real_apps_their_series() {
    use sockudo_obs::live::{ErrorType, Limits, MAX_LABEL_VALUE_LEN, OVERFLOW_LABEL};
    let limits = Limits {
        apps: 20,
        ..Limits::default()
    };
    let real = |i: usize| format!("{i:0>width$}", width = MAX_LABEL_VALUE_LEN);
    // The bound: 20 real apps and the one overflow app, each with one error recorded.
    let reference = Metrics::builder(&MetricsConfig::default())
        .limits(limits)
        .build()
        .unwrap();
    for id in (0..20).map(real).chain([OVERFLOW_LABEL.to_string()]) {
        reference.app(&id).connection_error(ErrorType::ALL[0]);
    }
    let bound = reference.encode().len() + 16; // the overflow counts have more digits

    let metrics = Metrics::builder(&MetricsConfig::default())
        .limits(limits)
        .build()
        .unwrap();
    for i in 0..10 {
        metrics.app(&real(i)).connection_error(ErrorType::ALL[0]);
    }
    for i in 0..1000 {
        let hostile = format!("{i}{}", "\"".repeat(8 * 1024));
        metrics.app(&hostile).connection_error(ErrorType::ALL[0]);
    }
    // Real apps arriving after the flood still get series of their own.
    for i in 10..20 {
        metrics.app(&real(i)).connection_error(ErrorType::ALL[0]);
    }
    let text = metrics.encode();
    assert!(text.len() <= bound, "{} bytes, bound {bound}", text.len());
    for i in 0..20 {
        let series = format!("sockudo_total_connections{{app_id=\"{}\"}} 0\n", real(i));
        assert!(text.contains(&series), "app {i} lost its series");
    }
    let folded = "sockudo_label_overflow_total{label=\"app_id\"} 1000\n";
    assert!(text.contains(folded), "the folds are counted");
}
