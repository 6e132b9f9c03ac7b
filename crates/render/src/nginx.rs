//! Renders the nginx basic-auth proxy (`nginx/sockudo-metrics.conf`): a `server {}` block to
//! include inside `http {}` that forwards only `GET /metrics`, behind basic auth, to the metrics
//! endpoint. Rendered only when the profile enables the proxy.
//!
//! Profile values are spliced into nginx syntax, so the validate stage checks each one against
//! the characters its directive can hold: a `;`, brace, quote, `#`, `$` or whitespace could otherwise end the
//! directive and inject configuration.

use serde::Serialize;
use sockudo_obs_model::Result;

use crate::templates;
use sockudo_obs_model::layout::{
    sidecar_htpasswd_file, NGINX_CONF_PATH, SIDECAR_CONF_FILE, WORKLOAD_COMPONENT,
};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::topology::bracketed;

/// Requests per second and burst one client address may send to the auth location: a scrape
/// every few seconds is far below it, a password guesser is slowed to it.
const LIMIT_RATE: &str = "10r/s";
const LIMIT_BURST: u32 = 20;

#[derive(Debug, Serialize)]
struct ProxyContext<'a> {
    listens: Vec<String>,
    upstream: &'a str,
    htpasswd_file: &'a str,
    tls: Option<TlsContext<'a>>,
    limit_rate: &'static str,
    limit_burst: u32,
}

#[derive(Debug, Serialize)]
struct TlsContext<'a> {
    certificate: &'a str,
    certificate_key: &'a str,
}

/// Renders the host's proxy (`nginx/`) and, for the pods, the sidecar's copy inside the workload
/// component (`k8s/workload/`): that one listens on every pod address, IPv4 and IPv6, without
/// TLS (the NetworkPolicy guards the pod network).
pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    let proxy = &model.profile.proxy;
    let Some(route) = &model.topology.proxy else {
        return Ok(());
    };
    // `validate::artifacts` has checked every value for characters nginx would read as syntax.
    let host = proxy.listen_host.as_str();
    // The profile's own text when it sets one, so nothing it holds is silently dropped.
    let upstream_text = proxy
        .upstream
        .clone()
        .unwrap_or_else(|| route.upstream.to_string());
    let tls = proxy.tls.as_ref().map(|tls| TlsContext {
        certificate: &tls.certificate,
        certificate_key: &tls.certificate_key,
    });
    let ssl = if tls.is_some() { " ssl" } else { "" };
    let host_context = ProxyContext {
        listens: listens(host, proxy.listen_port)
            .into_iter()
            .map(|l| format!("{l}{ssl}"))
            .collect(),
        upstream: &upstream_text,
        htpasswd_file: &proxy.htpasswd_file,
        tls,
        limit_rate: LIMIT_RATE,
        limit_burst: LIMIT_BURST,
    };
    let body = templates::render(model, "nginx-sockudo-metrics.conf.j2", &host_context)?;
    out.add_hash_commented(NGINX_CONF_PATH, &body);
    // The sidecar reads the htpasswd file from the Secret's folder (rotations reach it).
    let sidecar_htpasswd = sidecar_htpasswd_file(&model.profile.kubernetes.proxy_sidecar.htpasswd_key);
    let pod_context = ProxyContext {
        listens: listens("0.0.0.0", proxy.listen_port),
        htpasswd_file: &sidecar_htpasswd,
        tls: None,
        ..host_context
    };
    let body = templates::render(model, "nginx-sockudo-metrics.conf.j2", &pod_context)?;
    out.add_hash_commented(&format!("k8s/{WORKLOAD_COMPONENT}/{SIDECAR_CONF_FILE}"), &body);
    Ok(())
}

/// The `listen` addresses for `host`: a wildcard listens on IPv4 and IPv6 alike (nginx's
/// `[::]` is IPv6-only on Linux), a v6 literal in brackets.
fn listens(host: &str, port: u16) -> Vec<String> {
    match host {
        "0.0.0.0" | "::" | "[::]" | "*" => vec![format!("0.0.0.0:{port}"), format!("[::]:{port}")],
        other => vec![format!("{}:{port}", bracketed(other))],
    }
}
