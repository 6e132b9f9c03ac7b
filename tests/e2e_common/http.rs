//! HTTP from the test: plain GET/POST with an optional basic-auth header, and a client for the
//! Prometheus-compatible query API that both Prometheus and VictoriaMetrics serve.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::time::Duration;

use serde_json::Value;

/// One answer: status and body, whatever the status.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build()
}

fn finish(url: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
    let response = match result {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => return Err(format!("{url}: {error}")),
    };
    let status = response.status();
    let body = response
        .into_string()
        .map_err(|e| format!("{url}: reading the body: {e}"))?;
    Ok(Reply { status, body })
}

/// `GET url?params`, with `Authorization: Basic` when `credentials` are given.
pub fn get(url: &str, params: &[(&str, &str)], credentials: Option<(&str, &str)>) -> Result<Reply, String> {
    let mut request = agent().get(url);
    for (name, value) in params {
        request = request.query(name, value);
    }
    if let Some((user, password)) = credentials {
        request = request.set("Authorization", &basic_auth(user, password));
    }
    finish(url, request.call())
}

/// `POST url` with a plain-text body.
pub fn post(url: &str, body: &str) -> Result<Reply, String> {
    finish(url, agent().post(url).send_string(body))
}

/// The value of an `Authorization` header for HTTP basic auth.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// A Prometheus-compatible HTTP API (Prometheus itself, or VictoriaMetrics).
#[derive(Clone)]
pub struct PromApi {
    /// What to call it in messages.
    pub name: &'static str,
    /// `http://host:port`.
    pub base: String,
}

impl PromApi {
    pub fn new(name: &'static str, port: u16) -> PromApi {
        PromApi {
            name,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// `GET <base><path>` and the `data` of a `"status": "success"` answer.
    pub fn get_data(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let reply = get(&url, params, None)?;
        let json: Value = serde_json::from_str(&reply.body).map_err(|e| {
            format!(
                "{} {path} {params:?}: HTTP {}, not JSON ({e}): {}",
                self.name, reply.status, reply.body
            )
        })?;
        if json["status"] != "success" {
            return Err(format!(
                "{} {path} {params:?}: HTTP {}: {}",
                self.name, reply.status, reply.body
            ));
        }
        Ok(json["data"].clone())
    }

    /// An instant query (at `time`, unix seconds, or now): the result vector's elements.
    pub fn query(&self, expr: &str, time: Option<f64>) -> Result<Vec<Value>, String> {
        let time = time.map(|t| format!("{t:.3}"));
        let mut params = vec![("query", expr)];
        if let Some(time) = &time {
            params.push(("time", time));
        }
        let data = self.get_data("/api/v1/query", &params)?;
        match &data["result"] {
            Value::Array(items) => Ok(items.clone()),
            // A scalar or string result is one value.
            other => Ok(vec![other.clone()]),
        }
    }

    /// The alerts Prometheus currently holds (pending or firing).
    pub fn alerts(&self) -> Result<Vec<Value>, String> {
        let data = self.get_data("/api/v1/alerts", &[])?;
        Ok(data["alerts"].as_array().cloned().unwrap_or_default())
    }
}
