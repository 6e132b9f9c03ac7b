//! `promtool check metrics` on a real scrape after the demo ran: the only complaint allowed is the
//! documented one, `total_connections` lacking the `_total` suffix. promtool must be installed
//! (CI puts `.tools/bin` on PATH); without it this test fails rather than passing unchecked.

use crate::support::tools;

use crate::support::live::{request, serve_demo};
use sockudo_obs::catalogue::CATALOGUE;
use sockudo_obs::MetricsConfig;

#[tokio::test]
async fn promtool_only_flags_the_documented_naming_exception() {
    for prefix in ["sockudo_", "my_company_sockudo_"] {
        let config = MetricsConfig {
            prefix: prefix.to_string(),
            ..MetricsConfig::default()
        };
        let (server, _demo) = serve_demo(&config).await;
        let body = request(server.addr, "GET", "/metrics", "").await.body;
        let (_, complaints) = tools::promtool_check_metrics(&body);

        let exceptions: Vec<String> = CATALOGUE
            .iter()
            .filter(|def| def.is_naming_exception())
            .map(|def| def.full_name(prefix))
            .collect();
        assert_eq!(exceptions, [format!("{prefix}total_connections")]);
        assert!(
            complaints.iter().all(|line| exceptions
                .iter()
                .any(|name| line.starts_with(&format!("{name} ")))
                && line.contains("_total\" suffix")),
            "unexpected promtool complaints under {prefix}: {complaints:#?}"
        );
        assert_eq!(
            complaints.len(),
            1,
            "the exception is still flagged: {complaints:#?}"
        );
    }
}

#[test]
fn promtool_flags_a_bad_exposition() {
    // Guards the test above against a promtool that accepts anything.
    let (ok, complaints) = tools::promtool_check_metrics("# TYPE broken counter\nbroken{ 1\n");
    assert!(!ok && !complaints.is_empty());
}
