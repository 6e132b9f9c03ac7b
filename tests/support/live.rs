//! The exporter in the test's own runtime (the `live` tests): started on 127.0.0.1:0 over the
//! demo's metrics, asked over [`super::http`], and readers for the exposition it serves.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::http;

use super::demo::Demo;
use sockudo_obs::live::{BoundExporter, Exporter};
use sockudo_obs::{Metrics, MetricsConfig};
use tokio::sync::oneshot;

/// A response, with header names lowercased.
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A response whose body is kept as bytes (a gzip body is not UTF-8).
pub struct RawReply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// Sends one request with `Connection: close` and reads the whole response.
pub async fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> Reply {
    let raw = request_with(addr, method, path, &[], body).await;
    Reply {
        status: raw.status,
        headers: raw.headers,
        body: String::from_utf8(raw.body).expect("UTF-8 response"),
    }
}

/// [`request`] with extra request headers, the body as bytes. The blocking client of
/// [`super::http`] on the blocking pool, so it does not stall the server on this runtime.
pub async fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> RawReply {
    let (method, path, body) = (method.to_string(), path.to_string(), body.to_string());
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (status, headers, body) = tokio::task::spawn_blocking(move || {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        http::request(addr, &method, &path, &headers, &body)
    })
    .await
    .unwrap();
    RawReply {
        status,
        headers: headers.into_iter().collect(),
        body,
    }
}

/// `name -> type` from the exposition's `# TYPE` lines.
pub fn types(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_string(), kind.to_string()))
        .collect()
}

/// A running exporter on 127.0.0.1:0; dropping it shuts the server down.
pub struct Running {
    pub addr: SocketAddr,
    pub metrics: Metrics,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<sockudo_obs::Result<()>>>,
}

impl Running {
    /// Stops the server and waits for it to return.
    pub async fn stop(mut self) -> sockudo_obs::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn start(exporter: BoundExporter, metrics: Metrics) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let addr = exporter.local_addr();
    let task = tokio::spawn(exporter.run(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        metrics,
        stop: Some(stop),
        task: Some(task),
    }
}

/// An exporter over `config`'s metrics, with the demo's scenario switch and two demo ticks
/// recorded, so every family has series.
pub async fn serve_demo(config: &MetricsConfig) -> (Running, Demo) {
    let metrics = Metrics::new(config).unwrap();
    let demo = super::seeded_demo(&metrics);
    let bound = Exporter::new(metrics.clone())
        .with_control(demo.switch().control_route())
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    (start(bound, metrics), demo)
}

/// One sample line of the exposition: series name, labels, value.
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of the exposition (label values must not contain `,` or escaped quotes, which
/// holds for everything these tests record).
pub fn samples(exposition: &str) -> Vec<Sample> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=value");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("numeric value"),
            }
        })
        .collect()
}

/// The sum of `name`'s samples whose labels include all of `matching`.
pub fn sum(exposition: &str, name: &str, matching: &[(&str, &str)]) -> f64 {
    sum_of(&samples(exposition), name, matching)
}

/// [`sum`] over samples already parsed (from several servers: a cluster's sum).
pub fn sum_of(samples: &[Sample], name: &str, matching: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            matching
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}
