//! The real Sockudo 5.2.0 server, built from crates.io with the drop-in driver
//! (`scripts/sockudo-server.sh`), under traffic from the real Pusher clients (`pusher-js` over
//! WebSocket on every channel type, client events, `pusher` HTTP API publishes, two floods and an
//! unknown app key), monitored by the generated `local` bundle: nginx with the generated proxy,
//! a real Prometheus with the generated rules.
//!
//! It proves the coverage table (`sockudo_obs::coverage::cells`): every family
//! it calls fed arrives non-zero with the catalogue's labels, every unfed one stays at zero, and
//! every recording rule and dashboard query over fed families returns data. It also runs
//! `promtool check metrics` on the server's `/metrics`, and shows both prefix variables reach
//! every name and a prefix the catalogue rejects stops the server.
//!
//! Without `.tools/bin/sockudo` every test here fails, saying how to build it.

use std::time::Duration;

use crate::support::http::get;
use crate::support::process::{wait_until, ProcessGuard};
use crate::support::sockudo::{self, Server, Traffic};
use crate::support::stack::{Exporter, Stack, StackOptions};
use crate::support::steps;
use crate::support::tools::promtool_check_metrics;
use sockudo_obs::catalogue::{MetricDef, CATALOGUE, FIRST_USE_FAMILIES};

/// The stack and the standalone servers share two cores; one at a time (with the demo stacks of
/// this binary too) keeps timings sane.
use crate::support::one_at_a_time;

#[test]
fn real_sockudo_feeds_every_family_the_coverage_table_claims() {
    let _turn = one_at_a_time();
    let stack = Stack::start(StackOptions {
        exporter: Exporter::Sockudo,
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("starting the stack on the real server: {e}"));

    let traffic = stack.step("Pusher traffic from pusher-js and pusher", |s| {
        Traffic::start(s.server_port, s.logs())
    });
    eprintln!("[e2e real] traffic: {}", traffic.summary);
    steps::coverage_through_the_bundle(&stack, "e2e real");
    stack.step("the traffic is what the server recorded", steps::traffic_recorded);
    stack.step("promtool check metrics accepts the server's /metrics", |s| {
        let body = get(&s.exporter_url("/metrics"), &[], None)?.body;
        let exceptions: Vec<String> = CATALOGUE
            .iter()
            .filter(|def| def.is_naming_exception())
            .map(|def| format!("{}{} ", s.prefix, def.name))
            .collect();
        let complaints: Vec<String> = promtool_check_metrics(&body)
            .1
            .into_iter()
            .filter(|line| !exceptions.iter().any(|name| line.starts_with(name.as_str())))
            .collect();
        if complaints.is_empty() {
            Ok(())
        } else {
            Err(format!("promtool check metrics: {complaints:#?}"))
        }
    });
    stack.step("the server's webhooks still work", |s| {
        wait_until(Duration::from_secs(20), "a Sockudo webhook at the sink", || {
            Ok((!s.server_webhooks.notifications().is_empty()).then_some(()))
        })
    });
}

#[test]
fn both_prefix_variables_reach_every_name() {
    let _turn = one_at_a_time();
    for variable in ["PROMETHEUS_METRICS_PREFIX", "METRICS_PROMETHEUS_PREFIX"] {
        let dir = tempfile::tempdir().unwrap();
        let prefix = "my_company_sockudo_";
        let server =
            Server::start(dir.path(), &[(variable, prefix)]).unwrap_or_else(|e| panic!("{variable}: {e}"));
        // One HTTP API request: the server's rate limiter checks it, which resolves the
        // limiter's app, and with it every per-app family.
        let api = format!(
            "http://127.0.0.1:{}/apps/{}/channels",
            server.port,
            sockudo::APPS[0].id
        );
        get(&api, &[], None).unwrap();
        let body = server.scrape().unwrap();
        let types: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("# TYPE ")).collect();
        let per_app = |def: &&MetricDef| def.has_label("app_id") && !FIRST_USE_FAMILIES.contains(&def.name);
        for def in CATALOGUE.iter().filter(per_app) {
            let wanted = format!("{} {}", def.full_name(prefix), def.kind.as_str());
            assert!(
                types.contains(&wanted.as_str()),
                "{variable}={prefix}: no `# TYPE {wanted}` in {types:#?}"
            );
        }
        let stray: Vec<&&str> = types
            .iter()
            .filter(|t| !t.starts_with(prefix) && !t.starts_with("process_"))
            .collect();
        assert!(
            stray.is_empty(),
            "{variable}: names outside the prefix: {stray:?}"
        );
    }
}

#[test]
fn a_prefix_the_catalogue_rejects_stops_the_server_naming_it() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let config = sockudo::config(
        crate::support::ports::free_port(),
        crate::support::ports::free_port(),
        9,
    );
    let command = sockudo::command(
        dir.path(),
        &config,
        &[("METRICS_PROMETHEUS_PREFIX", "my-company")],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut guard = ProcessGuard::spawn("sockudo", command, dir.path()).unwrap();
    let status = wait_until(Duration::from_secs(30), "the server to exit", || {
        Ok(guard.check_running().err())
    })
    .unwrap();
    let log = guard.log_tail(20);
    assert!(status.contains("exit status: 2"), "{status}\n{log}");
    assert!(
        log.contains("METRICS_PROMETHEUS_PREFIX") && log.contains("my-company"),
        "the error names the variable and the value: {log}"
    );
}
