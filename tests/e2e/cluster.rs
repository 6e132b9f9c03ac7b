//! The real Sockudo 5.2.0 scaled out as production runs it: two nodes on a real Redis (the redis
//! adapter, queue and cache), real Pusher clients (`pusher-js`, `pusher`) spread over both nodes,
//! webhooks to a sink and to an endpoint answering 500.
//!
//! It proves the coverage table's cluster column (`sockudo_obs::coverage`) on the build's own
//! `/metrics`, summed over the nodes: every seed family the column calls fed is non-zero with
//! exactly the catalogue's labels, every unfed one stays at zero, the cluster's sums are what the
//! clients counted, and every gauge is back to zero once the clients leave.
//!
//! Without `.tools/bin/sockudo` (and Debian's `redis-server` in `.tools/bin`) every test here
//! fails, saying how to get it.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::cluster::{cluster_sum, Cluster};
use crate::support::live::Sample;
use crate::support::one_at_a_time;
use crate::support::process::wait_until;
use crate::support::sockudo::{Binary, Traffic};
use sockudo_obs::catalogue::{Domain, Kind, MetricDef, Source, CATALOGUE, DEFAULT_PREFIX};
use sockudo_obs::coverage::{feed, Build};

/// The series a family's total is read from: a histogram's `_count`.
fn sample_name(def: &MetricDef) -> String {
    let family = def.full_name(DEFAULT_PREFIX);
    match def.kind {
        Kind::Histogram => format!("{family}_count"),
        Kind::Counter | Kind::Gauge => family,
    }
}

/// Runs `check` against the cluster's samples until it passes or `limit` runs out.
fn eventually(
    cluster: &Cluster,
    limit: Duration,
    what: &str,
    check: impl Fn(&[Sample]) -> Vec<String>,
) -> Result<(), String> {
    let mut last = Vec::new();
    let passed = wait_until(limit, what, || {
        last = check(&cluster.samples()?);
        Ok(last.is_empty().then_some(()))
    });
    passed.map_err(|e| cluster.explain(&format!("{e}:\n{}", last.join("\n"))))
}

/// Every seed family `build` feeds is non-zero across the cluster, each series with exactly the
/// catalogue's labels and values in its domains; every family it does not feed is zero.
fn coverage_problems(build: Build, samples: &[Sample]) -> Vec<String> {
    let mut problems = Vec::new();
    for def in CATALOGUE {
        let Some(feed) = feed(build, def.name) else {
            problems.push(format!("{}: no coverage row", def.name));
            continue;
        };
        let name = sample_name(def);
        let total = cluster_sum(samples, &name, &[]);
        if !feed.is_fed() {
            if total != 0.0 {
                problems.push(format!("{name}: not fed on {build:?}, yet it sums to {total}"));
            }
            continue;
        }
        if def.source == Source::Seed && total <= 0.0 {
            problems.push(format!(
                "{name}: {} on {build:?}, yet it sums to {total}",
                feed.as_str()
            ));
        }
        let expected: BTreeSet<&str> = def.label_names().collect();
        for sample in samples.iter().filter(|s| s.name == name) {
            let names: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
            if names != expected {
                problems.push(format!("{name}: labels {names:?}, expected {expected:?}"));
            }
            for label in def.labels {
                let value = sample.labels.get(label.name).map_or("", String::as_str);
                if let Domain::Enum(values) = label.domain {
                    if !values.contains(&value) {
                        problems.push(format!(
                            "{name}: {}={value:?} is not one of {values:?}",
                            label.name
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// `name` summed over the cluster equals `expected`.
fn sum_is(samples: &[Sample], name: &str, expected: f64, problems: &mut Vec<String>) {
    let total = cluster_sum(samples, &format!("{DEFAULT_PREFIX}{name}"), &[]);
    if total != expected {
        problems.push(format!(
            "{name}: the cluster sums to {total}, the clients counted {expected}"
        ));
    }
}

/// The gauges that count what is open; all of them are zero once every client has left.
const OPEN_THINGS: &[&str] = &[
    "active_connections",
    "connections_per_app",
    "active_channels",
    "presence_members",
];

fn cluster_feeds_its_coverage_column(binary: Binary, build: Build) {
    let _turn = one_at_a_time();
    let cluster = Cluster::start(binary, 2).unwrap_or_else(|e| panic!("starting the cluster: {e}"));
    let mut traffic = Traffic::start_on(&cluster.ports(), cluster.logs())
        .unwrap_or_else(|e| panic!("{}", cluster.explain(&format!("the Pusher traffic: {e}"))));
    eprintln!("[cluster {build:?}] traffic: {}", traffic.summary);

    eventually(
        &cluster,
        Duration::from_secs(30),
        "the coverage column",
        |samples| coverage_problems(build, samples),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let counted = |key: &str| traffic.count(key).unwrap_or_else(|e| panic!("{e}"));
    let (connections, subscriptions, deliveries) = (
        counted("connections"),
        counted("subscriptions"),
        counted("deliveries"),
    );
    eventually(
        &cluster,
        Duration::from_secs(20),
        "the clients' counts",
        |samples| {
            let mut problems = Vec::new();
            sum_is(samples, "active_connections", connections, &mut problems);
            sum_is(samples, "connections_per_app", connections, &mut problems);
            sum_is(
                samples,
                "channel_subscriptions_total",
                subscriptions,
                &mut problems,
            );
            sum_is(samples, "messages_sent_total", deliveries, &mut problems);
            problems
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // The webhooks travelled through the Redis queue to both endpoints.
    wait_until(Duration::from_secs(30), "webhooks at both endpoints", || {
        let delivered = !cluster.webhooks.notifications().is_empty();
        let attempted = !cluster.failing_webhooks.notifications().is_empty();
        Ok((delivered && attempted).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", cluster.explain(&e)));

    traffic.stop();
    eventually(
        &cluster,
        Duration::from_secs(30),
        "every open-thing gauge at zero",
        |samples| {
            let mut problems = Vec::new();
            for gauge in OPEN_THINGS {
                sum_is(samples, gauge, 0.0, &mut problems);
            }
            problems
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn drop_in_cluster_on_redis_feeds_its_coverage_column() {
    cluster_feeds_its_coverage_column(Binary::DropIn, Build::DropInCluster);
}
