//! Renders the nginx basic-auth proxy (`nginx/sockudo-metrics.conf`): a `server {}` block to
//! include inside `http {}` that forwards only `GET /metrics`, behind basic auth, to the metrics
//! endpoint. Rendered only when the profile enables the proxy.
//!
//! Profile values are spliced into nginx syntax, so each one is checked against the characters
//! its directive can hold: a `;`, brace, quote, `#`, `$` or whitespace could otherwise end the
//! directive and inject configuration.

use anyhow::Result;
use serde::Serialize;

use crate::bundle::model::Model;
use crate::bundle::output::Output;
use crate::bundle::templates;
use crate::bundle::topology::{bracketed, SIDECAR_CONF_FILE, WORKLOAD_COMPONENT};
use crate::error::UsageError;

pub const CONF_PATH: &str = "nginx/sockudo-metrics.conf";

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
    let host = checked("proxy.listen_host", &proxy.listen_host, is_address_char)?;
    // The profile's own text when it sets one, so nothing it holds is silently dropped.
    let upstream_text = proxy
        .upstream
        .clone()
        .unwrap_or_else(|| route.upstream.to_string());
    let upstream = checked(route.upstream_key, &upstream_text, is_address_char)?;
    let htpasswd_file = checked("proxy.htpasswd_file", &proxy.htpasswd_file, is_path_char)?;
    let tls = match &proxy.tls {
        Some(tls) => Some(TlsContext {
            certificate: checked("proxy.tls.certificate", &tls.certificate, is_path_char)?,
            certificate_key: checked("proxy.tls.certificate_key", &tls.certificate_key, is_path_char)?,
        }),
        None => None,
    };
    let ssl = if tls.is_some() { " ssl" } else { "" };
    let host_context = ProxyContext {
        listens: listens(host, proxy.listen_port)
            .into_iter()
            .map(|l| format!("{l}{ssl}"))
            .collect(),
        upstream,
        htpasswd_file,
        tls,
        limit_rate: LIMIT_RATE,
        limit_burst: LIMIT_BURST,
    };
    let body = templates::render(model, "nginx-sockudo-metrics.conf.j2", &host_context)?;
    out.add_hash_commented(CONF_PATH, &body);
    let pod_context = ProxyContext {
        listens: listens("0.0.0.0", proxy.listen_port),
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

/// Host names, IPv4 and bracketed IPv6 addresses, with an optional `:port`.
fn is_address_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')
}

/// `value` when every character is allowed, else an error naming the profile key.
fn checked<'a>(key: &str, value: &'a str, allowed: fn(char) -> bool) -> Result<&'a str> {
    match value.chars().find(|c| !allowed(*c)) {
        None if !value.is_empty() => Ok(value),
        None => Err(UsageError(format!("profile key {key}: must not be empty")).into()),
        Some(bad) => Err(UsageError(format!(
            "profile key {key}: {value:?} contains {bad:?}, which nginx would read as syntax \
             (no whitespace, quotes, ';', '{{', '}}', '#' or '$')"
        ))
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_characters_are_rejected_with_the_key() {
        for bad in ["a;b", "a b", "a{", "a}", "\"a\"", "a#b", "$host", "a\nb", "a'b"] {
            let err = checked("proxy.upstream", bad, is_address_char).unwrap_err();
            assert!(err.to_string().contains("proxy.upstream"), "{err}");
        }
        assert_eq!(
            checked("proxy.upstream", "[::1]:9601", is_address_char).unwrap(),
            "[::1]:9601"
        );
        assert!(checked("proxy.htpasswd_file", "", is_path_char).is_err());
    }
}
