//! The real Sockudo 5.2.0 scaled out as production runs it: two nodes on a real Redis (the redis
//! adapter, queue and cache), real Pusher clients (`pusher-js`, `pusher`) spread over both nodes,
//! webhooks to a sink and to an endpoint answering 500.
//!
//! It proves the coverage table's cluster column (`sockudo_obs::coverage`) on the build's own
//! `/metrics`, summed over the nodes: every seed family the column calls fed is non-zero with
//! exactly the catalogue's labels, every unfed one stays at zero, the cluster's sums are what the
//! clients counted, and every gauge is back to zero once the clients leave.
//!
//! Each build gets the same test: the drop-in (`.tools/bin/sockudo`) against the coverage
//! table's cluster column, the instrumented build (`.tools/bin/sockudo-instrumented`) against its
//! own, where presence members are counted and unsubscriptions no longer drift. Without the
//! binary (or Debian's `redis-server` in `.tools/bin`) a test fails, saying how to get it.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::bundle::{alert_number, alert_threshold};
use crate::support::cluster::{cluster_sum, Cluster};
use crate::support::http::get;
use crate::support::live::{sum, Sample};
use crate::support::one_at_a_time;
use crate::support::ports::free_port;
use crate::support::process::{wait_until, ProcessGuard};
use crate::support::sockudo::{
    self, api_request, api_requests, ApiRequest, Binary, Crowd, Traffic, WEBHOOK_QUEUE,
};
use crate::support::stack::{Exporter, Stack, StackOptions};
use crate::support::steps::{self, AlertCase, NEEDS_A_FAILURE};
use sockudo_obs::catalogue::{Domain, Kind, MetricDef, Source, CATALOGUE, DEFAULT_PREFIX};
use sockudo_obs::coverage::{feed, Build, Feed};

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
        let traffic_feeds_it = def.source == Source::Seed && !NEEDS_A_FAILURE.contains(&def.name);
        if traffic_feeds_it && total <= 0.0 {
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

/// `name` summed over the cluster and the traffic's apps equals `expected` (the rollout app's
/// client is not the traffic's).
fn sum_is(samples: &[Sample], name: &str, expected: f64, problems: &mut Vec<String>) {
    let name = format!("{DEFAULT_PREFIX}{name}");
    let total: f64 = sockudo::APPS
        .iter()
        .map(|app| cluster_sum(samples, &name, &[("app_id", app.id)]))
        .sum();
    if total != expected {
        problems.push(format!(
            "{name}: the cluster sums to {total}, the clients counted {expected}"
        ));
    }
}

/// Client events of the app only the first node lists yet: webhook jobs enough that the other
/// node claims some (Redis hands queued jobs to the waiting workers of both nodes in turn).
const ROLLOUT_EVENTS: usize = 20;

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
    // First, so that the traffic's webhook retries still hold the queue when the column is read.
    cluster
        .rollout_events(ROLLOUT_EVENTS)
        .unwrap_or_else(|e| panic!("{}", cluster.explain(&format!("the rollout app's events: {e}"))));
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
            match build {
                // Only a publish's deliveries are counted, each by the node that delivers it.
                Build::DropIn | Build::DropInCluster => {
                    sum_is(samples, "messages_sent_total", deliveries, &mut problems);
                }
                // Every app's presence channel holds two members, wherever they connected.
                Build::Instrumented => {
                    let members = 2.0 * sockudo::APPS.len() as f64;
                    sum_is(samples, "presence_members", members, &mut problems);
                }
            }
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
            // Where unsubscriptions on disconnect are reported, they no longer drift.
            if feed(build, "channel_unsubscriptions_total") == Some(Feed::Fed) {
                sum_is(
                    samples,
                    "channel_unsubscriptions_total",
                    subscriptions,
                    &mut problems,
                );
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

/// Redis gone mid-run, as the operator then sees it: Sockudo logs the lost connection, both
/// nodes keep their clients and serve `/metrics`, and every HTTP API publish now answers 500 and
/// reaches nobody: `messages_sent_total` and `broadcast_messages_total` stop moving on both nodes,
/// while `http_request_duration_seconds` goes on counting the failing requests. The drop-in sees
/// no status, so on its build no alert of the bundle fires (`SockudoHighErrorRate` needs the
/// status: the instrumented build); Redis itself needs watching (see the README).
#[test]
fn redis_gone_mid_run_fails_every_publish_and_the_log_says_so() {
    let _turn = one_at_a_time();
    let mut cluster =
        Cluster::start(Binary::DropIn, 2).unwrap_or_else(|e| panic!("starting the cluster: {e}"));
    let traffic = Traffic::start_on(&cluster.ports(), cluster.logs())
        .unwrap_or_else(|e| panic!("{}", cluster.explain(&format!("the Pusher traffic: {e}"))));
    let connections = traffic.count("connections").unwrap_or_else(|e| panic!("{e}"));
    // The first app's public-room subscribers: two on node 0, one on node 1 (clients take the
    // nodes in turn).
    let sent = format!("{DEFAULT_PREFIX}messages_sent_total");
    let room = [("app_id", sockudo::APPS[0].id), ("channel_type", "public")];
    let sent_by_node = |cluster: &Cluster| -> Vec<f64> {
        cluster
            .nodes
            .iter()
            .map(|node| sum(&node.scrape().unwrap_or_default(), &sent, &room))
            .collect()
    };
    let publish = |cluster: &Cluster| {
        let request = ApiRequest::Trigger {
            channel: "public-room",
            event: "price-update",
        };
        api_request(cluster.nodes[0].port, request).unwrap_or_else(|e| panic!("{e}"))
    };
    let timed_publishes = |cluster: &Cluster| {
        let timed = format!("{DEFAULT_PREFIX}http_request_duration_seconds_count");
        let events = [("method", "POST"), ("endpoint", "/apps/:appId/events")];
        sum(&cluster.nodes[0].scrape().unwrap_or_default(), &timed, &events)
    };
    // With Redis, a publish to node 0 reaches the subscribers of both nodes.
    let before = sent_by_node(&cluster);
    let (status, body) = publish(&cluster);
    assert_eq!(status, 200, "the publish with Redis: {body}");
    wait_until(Duration::from_secs(10), "both nodes to deliver", || {
        let now = sent_by_node(&cluster);
        Ok((now[0] == before[0] + 2.0 && now[1] == before[1] + 1.0).then_some(()))
    })
    .unwrap_or_else(|e| panic!("{}", cluster.explain(&e)));

    cluster.redis.kill();
    let logged = wait_until(Duration::from_secs(30), "a node to log the lost Redis", || {
        Ok(cluster
            .nodes
            .iter()
            .flat_map(|node| node.log_tail(200).lines().map(String::from).collect::<Vec<_>>())
            .find(|line| line.contains("redis") && line.contains("WARN")))
    })
    .unwrap_or_else(|e| panic!("{}", cluster.explain(&e)));
    eprintln!("[cluster redis gone] the log says: {logged}");

    let (before, timed_before) = (sent_by_node(&cluster), timed_publishes(&cluster));
    let (status, body) = publish(&cluster);
    assert_eq!(status, 500, "the publish without Redis: {body}");
    // Give the publish the time a delivery would have taken, then see that none happened.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        sent_by_node(&cluster),
        before,
        "{}",
        cluster.explain("a node delivered without Redis")
    );
    assert_eq!(
        timed_publishes(&cluster),
        timed_before + 1.0,
        "the failing publish is timed"
    );
    let samples = cluster.samples().unwrap();
    let mut problems = Vec::new();
    sum_is(&samples, "active_connections", connections, &mut problems);
    assert!(problems.is_empty(), "{}", cluster.explain(&problems.join("\n")));
}

/// Redis down when a node starts, as the operator then sees it: the node does not start at all.
/// It exits with an error status within seconds, its log names the refused Redis connection, and
/// its `/metrics` never answers, so the bundle's `up`-based alerts (SockudoInstanceDown, and
/// SockudoJobAbsent once every node is gone) are what fires.
#[test]
fn redis_down_at_start_stops_the_node_and_the_log_says_why() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // A loopback port nothing listens on: the Redis that is not there.
    let no_redis = free_port();
    let (port, metrics_port) = (free_port(), free_port());
    let config = sockudo::cluster_config(
        port,
        metrics_port,
        no_redis,
        free_port(),
        free_port(),
        sockudo::Rollout::Listed,
    );
    let command = sockudo::command_of(Binary::DropIn, &dir.path().join("node"), &config, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let mut node = ProcessGuard::spawn("sockudo-no-redis", command, &logs).unwrap_or_else(|e| panic!("{e}"));
    let status = node
        .wait_for_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("the node kept running without Redis: {}", node.log_tail(20)));
    let log = node.log_tail(40);
    assert!(
        !status.success(),
        "the node exited with {status} without Redis: {log}"
    );
    assert!(
        log.contains("Failed to connect to Redis"),
        "the log does not name Redis: {log}"
    );
    if let Ok(reply) = get(&format!("http://127.0.0.1:{metrics_port}/metrics"), &[], None) {
        panic!("/metrics answered {} without a server", reply.status);
    }
    eprintln!(
        "[cluster redis down at start] exit {status}; the log says: {}",
        log.lines()
            .rev()
            .find(|l| l.contains("Redis"))
            .unwrap_or_default()
    );
}

#[test]
fn instrumented_cluster_on_redis_feeds_its_coverage_column() {
    cluster_feeds_its_coverage_column(Binary::Instrumented, Build::Instrumented);
}

/// How long Redis stalls per round of failing publishes: past the Redis cache's response timeout
/// (5 s, `sockudo-cache`'s `RedisCacheConfig`), with room for the round's requests to start.
const REDIS_STALL: Duration = Duration::from_secs(8);
/// Idempotent publishes per round, all at once (under the HTTP API's rate limit).
const ERROR_ROUND: usize = 25;
/// Client events each client of the backlog's crowd sends.
const EVENTS_PER_CLIENT: usize = 500;

/// The instrumented cluster monitored as production monitors it: the generated `local` bundle
/// for `server: sockudo-5.2.0-instrumented`, one generated proxy per node, one real Prometheus
/// scraping both through them with the generated rules, Alertmanager routing to a sink. Under
/// the Pusher traffic on both nodes, every family the build feeds arrives in Prometheus with the
/// catalogue's labels, the unfed ones stay at zero, every recording rule and dashboard query
/// over fed families returns data, and each of the seed page's five alerts fires on the real
/// cluster, for what it says (the test profile shortens only `for:`; thresholds and traffic
/// floors are read from the specs):
/// - `SockudoHighLatency`: Redis paused (`CLIENT PAUSE`) under HTTP API requests that wait for
///   it (a publish on a cache channel, a channel list);
/// - `SockudoHighErrorRate`: retry-safe publishes (each with an idempotency key) while Redis is
///   paused past the Redis cache's 5 s response timeout: Sockudo cannot claim the key in its
///   cache, which must not fall back to a node-private one, and answers 503;
/// - `SockudoQueueBacklog`: client events of the second app by the thousand, each a
///   `client_event` webhook to its endpoint answering 500, whose retries hold the queue's
///   workers: the jobs wait in the Redis queue (`queue_active_jobs` is waiting plus running);
/// - `SockudoHighConnections`: a crowd of pusher-js clients past the threshold on one node;
/// - `SockudoInstanceDown`: the second node killed (its proxy answers 502).
#[test]
fn instrumented_cluster_under_its_bundle_has_data_and_fires_the_seed_alerts() {
    let _turn = one_at_a_time();
    let stack = Stack::start(StackOptions {
        exporter: Exporter::Cluster(Binary::Instrumented),
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("starting the monitored cluster: {e}"));
    let (ports, first_node) = {
        let cluster = stack.cluster().unwrap();
        (cluster.ports(), cluster.nodes[0].port)
    };
    stack.step("the rollout app's client events", |s| {
        s.cluster()?.rollout_events(ROLLOUT_EVENTS)
    });
    let traffic = stack.step("Pusher traffic on both nodes", |s| {
        Traffic::start_on(&ports, s.logs())
    });
    eprintln!("[cluster stack] traffic: {}", traffic.summary);
    steps::coverage_through_the_bundle(&stack, "cluster stack");

    let on_first_node = |alertname| AlertCase {
        alertname,
        scenario: None,
        labels: vec![
            ("job", stack.job.clone()),
            ("instance", stack.instances[0].clone()),
        ],
    };
    let publish = ApiRequest::Trigger {
        channel: "public-room",
        event: "price-update",
    };
    let idempotent_publish = ApiRequest::IdempotentTrigger {
        channel: "public-room",
        event: "price-update",
    };
    // A publish on a cache channel stores the message in the Redis cache and a channel list asks
    // the other nodes through Redis: both wait for Redis.
    let slow_requests = [
        ApiRequest::Trigger {
            channel: "cache-prices",
            event: "price-update",
        },
        ApiRequest::Get("/channels"),
    ];
    stack.step("SockudoHighLatency fires", |s| {
        steps::alert_fires_after(s, &on_first_node("SockudoHighLatency"), || {
            // Traffic enough for any floor the alert has, then slow requests well over 5% of
            // the window's.
            api_requests(first_node, publish, 100, 10)?;
            for request in slow_requests.iter().cycle().take(4) {
                let started = std::time::Instant::now();
                s.cluster()?.redis.pause(3000)?;
                let answers = api_requests(first_node, *request, 10, 10)?;
                eprintln!(
                    "[cluster stack] {request:?} x10 with Redis paused 3 s: {:.1?}",
                    started.elapsed()
                );
                if let Some(answer) = answers.iter().find(|(status, _)| *status != 200) {
                    return Err(format!("{request:?} during the pause answered {answer:?}"));
                }
            }
            Ok(())
        })
    });
    stack.step("SockudoHighErrorRate fires", |s| {
        let specs = s.root().join("specs");
        let threshold = alert_number(&specs, "SockudoHighErrorRate", "threshold")?;
        let min_traffic = alert_number(&specs, "SockudoHighErrorRate", "min_traffic")?;
        steps::alert_fires_after(s, &on_first_node("SockudoHighErrorRate"), || {
            // The traffic floor within the alert's window, answered as usual.
            api_requests(first_node, publish, min_traffic.ceil() as usize, 10)?;
            // Server errors well over the threshold's share of every request the node served
            // since it started (the window holds at most those).
            let requests = format!("{DEFAULT_PREFIX}http_requests_total");
            let served = sum(&s.cluster()?.nodes[0].scrape()?, &requests, &[]);
            let share = (2.0 * threshold).min((1.0 + threshold) / 2.0);
            let needed = (served * share / (1.0 - share)).ceil() as usize;
            let mut failed = 0;
            while failed < needed {
                let paused = std::time::Instant::now();
                s.cluster()?.redis.pause(REDIS_STALL.as_millis() as u64)?;
                let answers = api_requests(first_node, idempotent_publish, ERROR_ROUND, ERROR_ROUND)?;
                let errors = answers.iter().filter(|(status, _)| *status >= 500).count();
                eprintln!(
                    "[cluster stack] {ERROR_ROUND} idempotent publishes with Redis paused: {errors} 5xx, e.g. {:?}",
                    answers.first()
                );
                if errors == 0 {
                    return Err(format!("no idempotent publish failed with Redis paused: {answers:?}"));
                }
                failed += errors;
                // Redis holds the next `CLIENT PAUSE` too until this one ends.
                std::thread::sleep(REDIS_STALL.saturating_sub(paused.elapsed()) + Duration::from_millis(500));
            }
            eprintln!("[cluster stack] {failed} server errors after {served} requests");
            Ok(())
        })
    });
    let mut backlog = None;
    stack.step("SockudoQueueBacklog fires", |s| {
        let case = AlertCase {
            alertname: "SockudoQueueBacklog",
            scenario: None,
            labels: vec![("job", s.job.clone()), ("queue", WEBHOOK_QUEUE.to_string())],
        };
        steps::alert_fires_after(s, &case, || {
            let threshold = alert_threshold(&s.root().join("specs"), "SockudoQueueBacklog")?;
            // Half as many again as the threshold: the workers take a job every few seconds.
            let events = (threshold * 1.5).ceil() as usize;
            let clients = events.div_ceil(EVENTS_PER_CLIENT);
            let app = &sockudo::APPS[1];
            backlog = Some(Crowd::client_events(
                first_node,
                app,
                clients,
                EVENTS_PER_CLIENT,
                s.logs(),
            )?);
            Ok(())
        })
    });
    drop(backlog);
    // After the latency: the crowd's WebSocket upgrades are HTTP requests too (`/app/:appKey`),
    // and would dilute the slow ones.
    let mut crowd = None;
    stack.step("SockudoHighConnections fires", |s| {
        steps::alert_fires_after(s, &on_first_node("SockudoHighConnections"), || {
            let threshold = alert_threshold(&s.root().join("specs"), "SockudoHighConnections")?;
            crowd = Some(Crowd::start(first_node, threshold as usize + 1, s.logs())?);
            Ok(())
        })
    });
    drop(crowd);
    stack.step("SockudoInstanceDown fires for the killed node", |s| {
        let case = AlertCase {
            alertname: "SockudoInstanceDown",
            scenario: None,
            labels: vec![("job", s.job.clone()), ("instance", s.instances[1].clone())],
        };
        steps::alert_fires(s, &case)
    });
}
