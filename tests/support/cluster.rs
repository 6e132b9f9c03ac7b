//! The real Sockudo 5.2.0 as production runs it: nodes of one build scaled out on a real Redis
//! (Debian's `redis-server`) through the redis adapter, queue and cache, posting the first app's
//! webhooks to a sink of the test and to one that answers 500. Every process runs on loopback,
//! on free ports, and is stopped by PID when the cluster drops.
//!
//! An app is half rolled out ([`ROLLOUT_APP`]): the first node lists it, the others do not yet,
//! so its webhook jobs fail on the nodes that claim them without knowing it
//! ([`Cluster::rollout_events`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

pub use super::live::sum_of as cluster_sum;
use super::live::{samples, Sample};
use super::ports::free_port;
use super::process::{wait_until, ProcessGuard};
use super::sink::WebhookSink;
use super::sockudo::{
    cluster_config, command_of, scrape, spawn_until_metrics, Binary, Crowd, Rollout, ROLLOUT_APP,
};
use super::tools::find as require_tool;

/// A `redis-server` of its own: no persistence, loopback only.
pub struct Redis {
    pub port: u16,
    guard: ProcessGuard,
}

impl Redis {
    /// Starts Redis with its files in `dir` and waits until it answers `PING`.
    pub fn start(dir: &Path, logs: &Path) -> Result<Redis, String> {
        let port = free_port();
        let mut command = Command::new(require_tool("redis-server")?);
        command
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir);
        let mut guard = ProcessGuard::spawn("redis", command, logs)?;
        wait_until(Duration::from_secs(20), &format!("redis on port {port}"), || {
            guard
                .check_running()
                .map_err(|e| format!("{e}: {}", guard.log_tail(10)))?;
            Ok(ping(port).then_some(()))
        })?;
        Ok(Redis { port, guard })
    }

    /// Kills Redis by its PID, as a crash would.
    pub fn kill(&mut self) {
        self.guard.stop();
    }

    /// `CLIENT PAUSE {millis} ALL`: Redis holds every client's commands that long, as a Redis
    /// stalled by a slow command or a failover would.
    pub fn pause(&self, millis: u64) -> Result<(), String> {
        let reply = command(self.port, &format!("CLIENT PAUSE {millis} ALL\r\n"), 5)
            .map_err(|e| format!("CLIENT PAUSE on redis port {}: {e}", self.port))?;
        if reply != b"+OK\r\n" {
            return Err(format!("CLIENT PAUSE: {}", String::from_utf8_lossy(&reply)));
        }
        Ok(())
    }
}

/// One inline command to the Redis on `port`; its reply of `length` bytes.
fn command(port: u16, text: &str, length: usize) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(text.as_bytes())?;
    let mut reply = vec![0; length];
    stream.read_exact(&mut reply)?;
    Ok(reply)
}

/// True when a Redis on `port` answers `PING` with `+PONG`.
fn ping(port: u16) -> bool {
    command(port, "PING\r\n", 7).is_ok_and(|reply| reply == b"+PONG\r\n")
}

/// One server node: its Pusher port and its metrics port.
pub struct Node {
    pub port: u16,
    pub metrics_port: u16,
    guard: ProcessGuard,
}

impl Node {
    /// The node's `/metrics`, as a scraper gets it.
    pub fn scrape(&self) -> Result<String, String> {
        scrape(self.metrics_port)
    }

    /// Kills the node by its PID, as a crash would.
    pub fn kill(&mut self) {
        self.guard.stop();
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.guard.log_tail(lines)
    }
}

/// A running cluster. Dropping it stops every process and removes its temp dir.
pub struct Cluster {
    pub binary: Binary,
    pub nodes: Vec<Node>,
    pub redis: Redis,
    /// The first app's webhooks: the endpoint that accepts them, and the one answering 500.
    pub webhooks: WebhookSink,
    pub failing_webhooks: WebhookSink,
    logs: PathBuf,
    // Last, so it is removed after the processes using it have stopped.
    temp: TempDir,
}

impl Cluster {
    /// Starts Redis and `nodes` nodes of `binary` on it; returns once each node serves
    /// `/metrics`.
    pub fn start(binary: Binary, nodes: usize) -> Result<Cluster, String> {
        let temp = tempfile::Builder::new()
            .prefix("sockudo-cluster-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let logs = temp.path().join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let redis = Redis::start(temp.path(), &logs)?;
        let mut cluster = Cluster {
            binary,
            nodes: Vec::new(),
            redis,
            webhooks: WebhookSink::start()?,
            failing_webhooks: WebhookSink::answering(500)?,
            logs,
            temp,
        };
        for index in 0..nodes {
            let node = cluster.start_node(index)?;
            cluster.nodes.push(node);
        }
        Ok(cluster)
    }

    fn start_node(&self, index: usize) -> Result<Node, String> {
        let (port, metrics_port) = (free_port(), free_port());
        let rollout = if index == 0 {
            Rollout::Listed
        } else {
            Rollout::NotYet
        };
        let config = cluster_config(
            port,
            metrics_port,
            self.redis.port,
            self.webhooks.port,
            self.failing_webhooks.port,
            rollout,
        );
        let dir = self.temp.path().join(format!("node-{index}"));
        let command = command_of(self.binary, &dir, &config, &[])?;
        let guard = spawn_until_metrics(&format!("sockudo-{index}"), command, &self.logs, metrics_port)?;
        Ok(Node {
            port,
            metrics_port,
            guard,
        })
    }

    /// The nodes' Pusher ports, for the traffic.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// A client of [`ROLLOUT_APP`] on the first node (the one that lists it) sends `events`
    /// client events and leaves. Each is a webhook job in the shared Redis queue; the ones the
    /// other nodes claim fail there and are retried: `queue_jobs_failed_total` on those nodes.
    pub fn rollout_events(&self, events: usize) -> Result<(), String> {
        let mut client = Crowd::client_events(self.nodes[0].port, &ROLLOUT_APP, 1, events, &self.logs)?;
        client.stop();
        Ok(())
    }

    /// Every node's samples, as one list: a cluster sum is a sum over it.
    pub fn samples(&self) -> Result<Vec<Sample>, String> {
        let mut all = Vec::new();
        for node in &self.nodes {
            all.extend(samples(&node.scrape()?));
        }
        Ok(all)
    }

    /// Where every process logs.
    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// `error`, followed by the tail of every node's log.
    pub fn explain(&self, error: &str) -> String {
        let mut text = format!("{error}\n\ncluster files: {}\n", self.temp.path().display());
        for (index, node) in self.nodes.iter().enumerate() {
            text += &format!("\n--- node {index} (last lines) ---\n{}\n", node.log_tail(15));
        }
        text
    }
}

/// The label sets `name`'s series carry, with the value each sums to across the samples.
pub fn series_of<'s>(samples: &'s [Sample], name: &str) -> BTreeMap<&'s BTreeMap<String, String>, f64> {
    let mut series = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.name == name) {
        *series.entry(&sample.labels).or_default() += sample.value;
    }
    series
}
