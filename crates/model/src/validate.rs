//! The validate stage: every check of a profile value that the types cannot express, in one
//! place, each error naming the profile key. Syntax rules (host names, RFC 1123 labels, label
//! keys, the metric prefix, nginx-safe characters) come from [`crate::names`]; this module only
//! says which key must follow which rule.
//!
//! `profile` runs on the parsed profile, before the specs are loaded (the specs read its
//! thresholds); `artifacts` runs once the topology is derived, on the values that become
//! Kubernetes names, nginx directives and compose images.

use std::collections::BTreeMap;

use crate::Result;

use super::profile::Profile;
use super::source::SourceFile;
use super::topology::Topology;
use crate::names::{is_nginx_address_char, is_nginx_path_char, KubeSyntax};
use sockudo_obs_catalogue::{echoed, Error};

/// Parses and checks a profile, as `generate` would: what `init` writes must pass this.
pub fn parsed_profile(file: &SourceFile) -> Result<Profile> {
    let parsed = Profile::parse(file)?;
    profile(&parsed)?;
    Ok(parsed)
}

/// Checks the profile's own values: names, addresses, URLs, durations.
pub(crate) fn profile(profile: &Profile) -> Result<()> {
    profile_values(profile).map_err(|invalid| {
        Error::usage(format!("{}: {invalid}", profile.path))
            .with_key(invalid.key)
            .with_path(&profile.path)
    })
}

/// Checks the profile values the renderers copy into artifacts whose syntax is stricter than
/// YAML's: Kubernetes names and labels, nginx directives and compose image references.
pub(crate) fn artifacts(profile: &Profile, topology: &Topology) -> Result<()> {
    artifact_values(profile, topology).map_err(|err| {
        let key = err.key().map(str::to_owned);
        with_key(Error::usage(format!("{}: {err:#}", profile.path)), key).with_path(&profile.path)
    })
}

/// `error` naming `key`, when there is one.
fn with_key(error: Error, key: Option<String>) -> Error {
    match key {
        Some(key) => error.with_key(key),
        None => error,
    }
}

/// A usage error about the profile key `key`: `profile key KEY: PROBLEM`, naming the key.
fn invalid(key: &str, problem: impl std::fmt::Display) -> Error {
    Error::usage(format!("profile key {key}: {problem}")).with_key(key)
}

/// A profile value that breaks its rule: the key and why, shown as `KEY: PROBLEM`. The value
/// checks return it, so the key reaches the error as data, never parsed back out of the text.
#[derive(Debug)]
struct Invalid {
    key: String,
    problem: String,
}

impl Invalid {
    fn at(key: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid {
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// The same problem, its key below `parent` (`times[0]` under `alertmanager.time_intervals.x[1]`).
    fn under(self, parent: &str) -> Invalid {
        Invalid::at(format!("{parent}.{}", self.key), self.problem)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

/// What a value check returns: nothing, or what is wrong with the value.
type Checked = std::result::Result<(), Invalid>;

fn artifact_values(profile: &Profile, topology: &Topology) -> Result<()> {
    if let Some(route) = &topology.proxy {
        let proxy = &profile.proxy;
        checked("proxy.listen_host", &proxy.listen_host, is_nginx_address_char)?;
        let upstream = proxy
            .upstream
            .clone()
            .unwrap_or_else(|| route.upstream.to_string());
        checked(route.upstream_key, &upstream, is_nginx_address_char)?;
        checked("proxy.htpasswd_file", &proxy.htpasswd_file, is_nginx_path_char)?;
        if let Some(tls) = &proxy.tls {
            checked("proxy.tls.certificate", &tls.certificate, is_nginx_path_char)?;
            checked(
                "proxy.tls.certificate_key",
                &tls.certificate_key,
                is_nginx_path_char,
            )?;
        }
    }
    kubernetes_names(profile)?;
    cross_fields(profile)?;
    let operator = &profile.kubernetes.operator;
    if operator.enabled && profile.proxy.enabled && operator.basic_auth_secret.is_none() {
        return Err(invalid(
            "kubernetes.operator.basic_auth_secret",
            "required when proxy.enabled, or the monitors could not get past the proxy",
        ));
    }
    validate_images(profile)
}

/// Keys that must agree with each other, or a scrape path finds nothing and `check` still exits 0:
/// the pod discovery keeps pods by `prometheus.kubernetes_sd.app_label` (the pods carry
/// `kubernetes.app_label`) in `prometheus.kubernetes_sd.namespaces` (the pods run in
/// `kubernetes.namespace`; empty means every namespace); the Operator's ScrapeConfig of the static
/// targets needs the Secret its basic auth reads.
fn cross_fields(profile: &Profile) -> Result<()> {
    let sd = &profile.prometheus.kubernetes_sd;
    let k = &profile.kubernetes;
    let problem = |key: &str, problem: String| -> Result<()> { Err(invalid(key, problem)) };
    if sd.enabled && sd.app_label != k.app_label {
        return problem(
            "prometheus.kubernetes_sd.app_label",
            format!(
                "{} differs from kubernetes.app_label {}; \
             the pod discovery would keep no pod",
                echoed(&sd.app_label),
                echoed(&k.app_label)
            ),
        );
    }
    if sd.enabled && !sd.namespaces.is_empty() && !sd.namespaces.contains(&k.namespace) {
        return problem(
            "prometheus.kubernetes_sd.namespaces",
            format!(
                "{:?} does not hold kubernetes.namespace {}; \
             the pod discovery would not look where the pods run",
                sd.namespaces,
                echoed(&k.namespace)
            ),
        );
    }
    let operator = &k.operator;
    let static_auth =
        !profile.prometheus.static_targets.is_empty() && profile.prometheus.basic_auth.is_some();
    if profile.proxy.enabled && profile.proxy.tls.is_some() && profile.prometheus.static_targets.is_empty() {
        return problem(
            "proxy.tls",
            "no prometheus.static_targets to serve over TLS (the pods' \
             sidecars serve plain HTTP behind the NetworkPolicy); the compose stack verifies the \
             certificate against the first static target's host"
                .into(),
        );
    }
    let own_ca = profile
        .proxy
        .tls
        .as_ref()
        .is_some_and(|tls| profile.proxy.enabled && tls.ca_file.is_some());
    if operator.enabled
        && !profile.prometheus.static_targets.is_empty()
        && own_ca
        && operator.ca_secret.is_none()
    {
        return problem(
            "kubernetes.operator.ca_secret",
            "required when prometheus.static_targets are \
             scraped over TLS with proxy.tls.ca_file, or the Operator's ScrapeConfig could not verify \
             the proxies (it reads a CA from a Secret, never a file)"
                .into(),
        );
    }
    if operator.enabled && static_auth && operator.basic_auth_secret.is_none() {
        return problem(
            "kubernetes.operator.basic_auth_secret",
            "required when prometheus.static_targets \
             and prometheus.basic_auth are set, or the Operator's ScrapeConfig could not authenticate"
                .into(),
        );
    }
    Ok(())
}

/// Checks what the types cannot: values that must be valid names or addresses.
fn profile_values(profile: &Profile) -> Checked {
    use crate::catalogue::CATALOGUE;
    use crate::names::{is_label_name, is_metric_prefix, is_one_line};
    if !is_one_line(&profile.description) {
        return Err(Invalid::at(
            "description",
            "must be one line without control characters (it heads the README)",
        ));
    }
    let prefix = &profile.metrics.prefix;
    if !is_metric_prefix(prefix) {
        // The server's rule (`names::is_metric_prefix`); a prefix that is wrong only by its
        // colons gets the reason Prometheus has for refusing them.
        if is_metric_prefix(&prefix.replace(':', "_")) {
            return Err(Invalid::at(
                "metrics.prefix",
                "a colon is reserved for recording rule names",
            ));
        }
        return Err(Invalid::at(
            "metrics.prefix",
            format!(
                "{prefix:?} + {:?} is not a valid Prometheus metric name",
                CATALOGUE[0].name
            ),
        ));
    }
    if profile.metrics.port == 0 {
        return Err(Invalid::at("metrics.port", "must be 1-65535"));
    }
    addresses_and_urls(profile)?;
    alertmanager_integrations(&profile.alertmanager)?;
    alertmanager_time_intervals(&profile.alertmanager)?;
    if let Some(bad) = profile
        .prometheus
        .external_labels
        .keys()
        .find(|k| !is_label_name(k))
    {
        return Err(Invalid::at(
            "prometheus.external_labels",
            format!("{bad:?} is not a valid label name"),
        ));
    }
    if !is_label_name(&profile.prometheus.cluster_label) {
        return Err(Invalid::at(
            "prometheus.cluster_label",
            format!("{:?} is not a valid label name", profile.prometheus.cluster_label),
        ));
    }
    Ok(())
}

/// Checks each value against what the tool that reads it accepts (Prometheus, Alertmanager,
/// nginx), so a bad profile fails here, naming its key, rather than in the bundle's
/// validators. URLs must not carry credentials: those belong in a `*_file` or a Secret.
fn addresses_and_urls(profile: &Profile) -> Checked {
    let named = |key: &str, result: Result<(), String>| result.map_err(|problem| Invalid::at(key, problem));
    if !crate::names::is_listen_host(&profile.metrics.host) {
        return named(
            "metrics.host",
            Err(format!(
                "{:?} is not an IP address or an RFC 1123 host name, not multicast or broadcast",
                profile.metrics.host
            )),
        );
    }
    let prometheus = &profile.prometheus;
    named("prometheus.job_name", job_name(&prometheus.job_name))?;
    if crate::layout::SELF_MONITORING_JOBS.contains(&prometheus.job_name.as_str()) {
        return named(
            "prometheus.job_name",
            Err(format!(
                "{} is the job of the bundle's own self-monitoring scrape ({}); name Sockudo's job otherwise",
                echoed(&prometheus.job_name),
                crate::layout::SELF_MONITORING_JOBS.join(", ")
            )),
        );
    }
    if let Some(auth) = &prometheus.basic_auth {
        if !crate::names::is_user_name(&auth.username) {
            return named(
                "prometheus.basic_auth.username",
                Err(format!(
                    "{} is not a user name (letters, digits, '.', '_', '@' and '-', not starting with '-', at most 64); it lands in the README's htpasswd and kubectl commands",
                    echoed(&auth.username)
                )),
            );
        }
    }
    for (key, duration) in [
        ("prometheus.scrape_interval", &prometheus.scrape_interval),
        ("prometheus.scrape_timeout", &prometheus.scrape_timeout),
        ("prometheus.evaluation_interval", &prometheus.evaluation_interval),
        (
            "alertmanager.group_interval",
            &profile.alertmanager.group_interval,
        ),
        (
            "alertmanager.repeat_interval",
            &profile.alertmanager.repeat_interval,
        ),
    ] {
        if duration.millis() == 0 {
            return named(key, Err("must be longer than 0s".into()));
        }
    }
    if prometheus.scrape_timeout.millis() > prometheus.scrape_interval.millis() {
        return named(
            "prometheus.scrape_timeout",
            Err(format!(
                "{} is longer than prometheus.scrape_interval {} (Prometheus refuses that)",
                prometheus.scrape_timeout, prometheus.scrape_interval
            )),
        );
    }
    for (i, target) in prometheus.static_targets.iter().enumerate() {
        named(
            &format!("prometheus.static_targets[{i}].target"),
            host_port(&target.target),
        )?;
    }
    named("prometheus.listen_address", host_port(&prometheus.listen_address))?;
    for (i, address) in prometheus.alertmanagers.iter().enumerate() {
        named(&format!("prometheus.alertmanagers[{i}]"), host_port(address))?;
    }
    for (i, remote) in prometheus.remote_write.iter().enumerate() {
        remote_write(&format!("prometheus.remote_write[{i}]"), remote)?;
    }
    if let Some(federation) = &prometheus.federation {
        named("prometheus.federation.job_name", job_name(&federation.job_name))?;
        for (i, target) in federation.targets.iter().enumerate() {
            named(&format!("prometheus.federation.targets[{i}]"), host_port(target))?;
        }
    }
    for (severity, url) in profile.alertmanager.receivers.by_severity() {
        named(&format!("alertmanager.receivers.{severity}"), http_url(url))?;
    }
    if let Some(url) = &profile.alertmanager.heartbeat_url {
        named("alertmanager.heartbeat_url", http_url(url))?;
    }
    named(
        "grafana.datasource_url",
        http_url(&profile.grafana.datasource_url),
    )?;
    named(
        "docs.runbook_url",
        crate::names::http_or_relative_url_problem(&profile.docs.runbook_url).map_or(Ok(()), Err),
    )?;
    if profile.proxy.listen_port == 0 {
        return named("proxy.listen_port", Err("must be 1-65535".into()));
    }
    match &profile.proxy.upstream {
        Some(upstream) => named("proxy.upstream", host_port(upstream)),
        None => Ok(()),
    }
}

/// The headers Prometheus sets itself and refuses in `remote_write.headers` (its
/// `reservedHeaders`, lower case); `Authorization` goes through `basic_auth` or `authorization`.
const RESERVED_REMOTE_WRITE_HEADERS: [&str; 17] = [
    "authorization",
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// One `remote_write` entry, at `key` (`prometheus.remote_write[0]`): what Prometheus refuses,
/// refused here naming the key.
fn remote_write(key: &str, remote: &super::profile::RemoteWrite) -> Checked {
    let named = |field: &str, result: Result<(), String>| {
        result.map_err(|problem| Invalid::at(format!("{key}.{field}"), problem))
    };
    named("name", non_empty(&remote.name))?;
    named("url", http_url(&remote.url))?;
    for (header, value) in &remote.headers {
        let token = !header.is_empty()
            && header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return named(
                "headers",
                Err(format!("{} is not an HTTP header name", echoed(header))),
            );
        }
        if RESERVED_REMOTE_WRITE_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
            return named(
                &format!("headers.{header}"),
                Err(
                    "Prometheus sets this header itself and refuses it here (credentials go in \
                     basic_auth or authorization)"
                        .into(),
                ),
            );
        }
        if value.is_empty() || !crate::names::is_one_line(value) {
            return named(
                &format!("headers.{header}"),
                Err("must be one non-empty line".into()),
            );
        }
    }
    if remote.basic_auth.is_some() && remote.authorization.is_some() {
        return named(
            "authorization",
            Err("give basic_auth or authorization, not both (Prometheus refuses both)".into()),
        );
    }
    if let Some(auth) = &remote.basic_auth {
        named("basic_auth.username", non_empty(&auth.username))?;
        named("basic_auth.password_file", file_path(&auth.password_file))?;
    }
    if let Some(auth) = &remote.authorization {
        if let Some(kind) = &auth.kind {
            if kind.eq_ignore_ascii_case("basic") {
                return named("authorization.type", Err("Basic goes in basic_auth".into()));
            }
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return named(
                    "authorization.type",
                    Err(format!(
                        "{} is not an authorization scheme (e.g. Bearer)",
                        echoed(kind)
                    )),
                );
            }
        }
        named(
            "authorization.credentials_file",
            file_path(&auth.credentials_file),
        )?;
    }
    if let Some(tls) = &remote.tls_config {
        if !remote.url.starts_with("https://") {
            return named(
                "tls_config",
                Err(format!("{} is not an https URL", echoed(&remote.url))),
            );
        }
        for (field, path) in [
            ("ca_file", &tls.ca_file),
            ("cert_file", &tls.cert_file),
            ("key_file", &tls.key_file),
        ] {
            if let Some(path) = path {
                named(&format!("tls_config.{field}"), file_path(path))?;
            }
        }
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return named(
                "tls_config",
                Err("cert_file and key_file go together (a client certificate needs its key)".into()),
            );
        }
        if let Some(name) = &tls.server_name {
            if !crate::names::is_host(name) {
                return named(
                    "tls_config.server_name",
                    Err(format!("{} is not a host name", echoed(name))),
                );
            }
        }
    }
    if let Some(queue) = &remote.queue_config {
        for (field, value) in [
            ("capacity", queue.capacity),
            ("min_shards", queue.min_shards),
            ("max_shards", queue.max_shards),
            ("max_samples_per_send", queue.max_samples_per_send),
        ] {
            if value == Some(0) {
                return named(&format!("queue_config.{field}"), Err("must be at least 1".into()));
            }
        }
        if let (Some(min), Some(max)) = (queue.min_shards, queue.max_shards) {
            if min > max {
                return named(
                    "queue_config.min_shards",
                    Err(format!("{min} is more than queue_config.max_shards {max}")),
                );
            }
        }
        if let (Some(min), Some(max)) = (&queue.min_backoff, &queue.max_backoff) {
            if min.millis() > max.millis() {
                return named(
                    "queue_config.min_backoff",
                    Err(format!("{min} is longer than queue_config.max_backoff {max}")),
                );
            }
        }
        if queue
            .batch_send_deadline
            .as_ref()
            .is_some_and(|d| d.millis() == 0)
        {
            return named(
                "queue_config.batch_send_deadline",
                Err("must be longer than 0s".into()),
            );
        }
    }
    Ok(())
}

/// A file the deployment provides (a password, a token, a certificate): one non-empty line.
fn file_path(value: &str) -> Result<(), String> {
    non_empty(value)?;
    if crate::names::is_one_line(value) && !value.chars().any(char::is_whitespace) {
        Ok(())
    } else {
        Err(format!("{} is not a file path without spaces", echoed(value)))
    }
}

fn non_empty(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(())
    }
}

/// `host:port`, the host an IP address (IPv6 in brackets) or a host name, the port 1-65535.
fn host_port(value: &str) -> Result<(), String> {
    let bad = || format!("{value:?} is not host:port (e.g. sockudo-1:9601 or [::1]:9601)");
    let (host, port) = value.rsplit_once(':').ok_or_else(bad)?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) if v6.parse::<std::net::Ipv6Addr>().is_ok() => v6,
        Some(_) => return Err(bad()),
        None if host.contains(':') => return Err(bad()),
        None => host,
    };
    let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
    if crate::names::is_host(host) && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// An absolute `http` or `https` URL with a host and no credential in it
/// ([`crate::names::http_url_problem`]).
fn http_url(value: &str) -> Result<(), String> {
    crate::names::http_url_problem(value).map_or(Ok(()), Err)
}

/// The severities a per-severity map of `alertmanager.<key>` may name.
fn severity_key(key: &str, severity: &str) -> Checked {
    if crate::layout::SEVERITIES.contains(&severity) {
        Ok(())
    } else {
        Err(Invalid::at(
            format!("alertmanager.{key}"),
            format!(
                "{} is not a severity (one of {})",
                echoed(severity),
                crate::layout::SEVERITIES.join(", ")
            ),
        ))
    }
}

/// A file Alertmanager reads a secret from: an absolute path on one line, without spaces.
fn secret_file(value: &str) -> Result<(), String> {
    if !value.starts_with('/') || value.len() < 2 {
        return Err(format!(
            "{} is not an absolute path to the file holding the secret",
            echoed(value)
        ));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("{} holds spaces or control characters", echoed(value)));
    }
    Ok(())
}

/// One email address (`local@domain`), as Alertmanager's `to` and `from` take it.
fn email_address(value: &str) -> Result<(), String> {
    let ok = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && crate::names::is_host(domain)
            && !value
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || "<>,;\"\\".contains(c))
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not one email address (local@domain)",
            echoed(value)
        ))
    }
}

/// Each severity's native integrations: a known severity, at least one integration, every secret
/// in an absolute file path, URLs without credentials, email addresses and a `host:port`
/// smarthost.
fn alertmanager_integrations(section: &crate::profile::AlertmanagerSection) -> Checked {
    for (severity, integrations) in &section.integrations {
        severity_key("integrations", severity)?;
        let base = format!("alertmanager.integrations.{severity}");
        let named = |key: &str, result: Result<(), String>| {
            result.map_err(|problem| Invalid::at(format!("{base}.{key}"), problem))
        };
        let crate::profile::Integrations {
            pagerduty,
            slack,
            opsgenie,
            email,
        } = integrations;
        if pagerduty.is_none() && slack.is_none() && opsgenie.is_none() && email.is_none() {
            return Err(Invalid::at(
                &base,
                "names no integration (pagerduty, slack, opsgenie or email); leave the severity out instead",
            ));
        }
        if let Some(pd) = pagerduty {
            match (&pd.routing_key_file, &pd.service_key_file) {
                (Some(file), None) => named("pagerduty.routing_key_file", secret_file(file))?,
                (None, Some(file)) => named("pagerduty.service_key_file", secret_file(file))?,
                _ => {
                    return Err(Invalid::at(
                        format!("{base}.pagerduty"),
                        "needs exactly one of routing_key_file (Events API v2) and service_key_file (v1)",
                    ))
                }
            }
            if let Some(url) = &pd.url {
                named("pagerduty.url", http_url(url))?;
            }
        }
        if let Some(slack) = slack {
            named("slack.api_url_file", secret_file(&slack.api_url_file))?;
            if let Some(channel) = &slack.channel {
                let ok = (channel.starts_with('#') || channel.starts_with('@'))
                    && channel.len() > 1
                    && !channel.chars().any(|c| c.is_control() || c.is_whitespace());
                if !ok {
                    return named(
                        "slack.channel",
                        Err(format!("{} is not a #channel or @user", echoed(channel))),
                    );
                }
            }
        }
        if let Some(opsgenie) = opsgenie {
            named("opsgenie.api_key_file", secret_file(&opsgenie.api_key_file))?;
            if let Some(url) = &opsgenie.api_url {
                named("opsgenie.api_url", http_url(url))?;
            }
        }
        if let Some(email) = email {
            named("email.to", email_address(&email.to))?;
            named("email.from", email_address(&email.from))?;
            named("email.smarthost", host_port(&email.smarthost))?;
            match (&email.auth_username, &email.auth_password_file) {
                (Some(user), Some(file)) => {
                    named("email.auth_username", non_empty(user))?;
                    named("email.auth_password_file", secret_file(file))?;
                }
                (None, None) => {}
                _ => {
                    return Err(Invalid::at(
                        format!("{base}.email"),
                        "auth_username and auth_password_file go together",
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The windows of `alertmanager.time_intervals` and the severities muted during them: every
/// window restricts something (an empty one would mute around the clock), every field is spelled
/// as Alertmanager reads it, and every muted severity names windows that exist.
fn alertmanager_time_intervals(section: &crate::profile::AlertmanagerSection) -> Checked {
    for (name, intervals) in &section.time_intervals {
        let base = format!("alertmanager.time_intervals.{name}");
        if !crate::names::is_label_name(name) {
            return Err(Invalid::at(
                &base,
                "the name must be letters, digits and '_', not starting with a digit",
            ));
        }
        if intervals.is_empty() {
            return Err(Invalid::at(&base, "lists no interval"));
        }
        for (i, interval) in intervals.iter().enumerate() {
            let at = format!("{base}[{i}]");
            time_interval(interval).map_err(|invalid| invalid.under(&at))?;
        }
    }
    for (severity, names) in &section.mute_time_intervals {
        severity_key("mute_time_intervals", severity)?;
        if names.is_empty() {
            return Err(Invalid::at(
                format!("alertmanager.mute_time_intervals.{severity}"),
                "lists no window; leave the severity out instead",
            ));
        }
        for name in names {
            if !section.time_intervals.contains_key(name) {
                let known: Vec<&str> = section.time_intervals.keys().map(String::as_str).collect();
                return Err(Invalid::at(
                    format!("alertmanager.mute_time_intervals.{severity}"),
                    format!(
                        "{} is not a window of alertmanager.time_intervals (known: {})",
                        echoed(name),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
    }
    Ok(())
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// One window; the error starts with the field (`times[0].end_time: ...`).
fn time_interval(interval: &crate::profile::TimeInterval) -> Checked {
    let crate::profile::TimeInterval {
        times,
        weekdays,
        days_of_month,
        months,
        years,
        location,
    } = interval;
    if times.is_empty()
        && weekdays.is_empty()
        && days_of_month.is_empty()
        && months.is_empty()
        && years.is_empty()
    {
        return Err(Invalid::at(
            "times",
            "no times, weekdays, days_of_month, months or years: the window would last forever",
        ));
    }
    for (i, range) in times.iter().enumerate() {
        let start = minute_of_day(&range.start_time, false)
            .map_err(|m| Invalid::at(format!("times[{i}].start_time"), m))?;
        let end = minute_of_day(&range.end_time, true)
            .map_err(|m| Invalid::at(format!("times[{i}].end_time"), m))?;
        if start >= end {
            return Err(Invalid::at(
                format!("times[{i}]"),
                format!(
                    "start_time {} is not before end_time {} (split a window across midnight in two)",
                    range.start_time, range.end_time
                ),
            ));
        }
    }
    let named = |names: &'static [&'static str], first: i64| {
        move |item: &str| -> Option<i64> {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(item))
                .map(|p| p as i64 + first)
        }
    };
    let number =
        |item: &str, low: i64, high: i64| item.parse::<i64>().ok().filter(|n| (low..=high).contains(n));
    type Parse<'p> = Box<dyn Fn(&str) -> Option<i64> + 'p>;
    let fields: [(&str, &Vec<String>, Parse<'_>); 4] = [
        ("weekdays", weekdays, Box::new(named(&WEEKDAYS, 0))),
        (
            "days_of_month",
            days_of_month,
            Box::new(move |d: &str| number(d, -31, 31).filter(|n| *n != 0)),
        ),
        (
            "months",
            months,
            Box::new(move |m: &str| named(&MONTHS, 1)(m).or_else(|| number(m, 1, 12))),
        ),
        ("years", years, Box::new(move |y: &str| number(y, 1, 9999))),
    ];
    for (field, items, parse) in &fields {
        for (i, item) in items.iter().enumerate() {
            let (from, to) = item.split_once(':').unwrap_or((item, item));
            match (parse(from), parse(to)) {
                (Some(a), Some(b)) if a <= b || (*field == "days_of_month" && (a < 0) != (b < 0)) => {}
                (Some(_), Some(_)) => {
                    return Err(Invalid::at(
                        format!("{field}[{i}]"),
                        format!("{} runs backwards", echoed(item)),
                    ));
                }
                _ => {
                    return Err(Invalid::at(
                        format!("{field}[{i}]"),
                        format!(
                            "{} is not a {} or a range of them (a:b)",
                            echoed(item),
                            match *field {
                                "weekdays" => "weekday name (monday)",
                                "days_of_month" => "day of the month (1 to 31, -1 the last)",
                                "months" => "month (january or 1)",
                                _ => "year (2026)",
                            }
                        ),
                    ));
                }
            }
        }
    }
    if let Some(location) = location {
        let ok = !location.is_empty()
            && location
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !ok {
            return Err(Invalid::at(
                "location",
                format!(
                    "{} is not an IANA time zone name (Europe/Berlin, UTC)",
                    echoed(location)
                ),
            ));
        }
    }
    Ok(())
}

/// `HH:MM` as minutes after midnight; `24:00` only as an end.
fn minute_of_day(text: &str, end: bool) -> Result<u32, String> {
    let bad = || format!("{} is not a time of day HH:MM", echoed(text));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (24, 0) if end => Ok(1440),
        (0..=23, 0..=59) => Ok(h * 60 + m),
        _ => Err(bad()),
    }
}

/// A job name the bundle can put inside PromQL matchers ([`crate::names::is_job_name`]).
fn job_name(value: &str) -> Result<(), String> {
    non_empty(value)?;
    if crate::names::is_job_name(value) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a job name this bundle can put in a PromQL matcher ({})",
            echoed(value),
            crate::names::JOB_NAME_RULE
        ))
    }
}

/// Checks every profile value that becomes a Kubernetes name, label or selector.
fn kubernetes_names(profile: &Profile) -> Result<()> {
    let k = &profile.kubernetes;
    let account = &k.prometheus_service_account;
    let mut checks: Vec<(String, &str, KubeSyntax)> = vec![
        ("kubernetes.namespace".into(), &k.namespace, KubeSyntax::DnsLabel),
        (
            "kubernetes.workload.deployment".into(),
            &k.workload.deployment,
            KubeSyntax::DnsSubdomain,
        ),
        (
            "kubernetes.workload.container".into(),
            &k.workload.container,
            KubeSyntax::DnsLabel,
        ),
        (
            "kubernetes.proxy_sidecar.htpasswd_secret".into(),
            &k.proxy_sidecar.htpasswd_secret,
            KubeSyntax::DnsSubdomain,
        ),
        (
            "kubernetes.proxy_sidecar.htpasswd_key".into(),
            &k.proxy_sidecar.htpasswd_key,
            KubeSyntax::DataKey,
        ),
        (
            "kubernetes.prometheus_service_account.namespace".into(),
            &account.namespace,
            KubeSyntax::DnsLabel,
        ),
        (
            "kubernetes.prometheus_service_account.name".into(),
            &account.name,
            KubeSyntax::DnsSubdomain,
        ),
        (
            "prometheus.kubernetes_sd.app_label".into(),
            &profile.prometheus.kubernetes_sd.app_label,
            KubeSyntax::LabelValue,
        ),
        (
            "kubernetes.app_label".into(),
            &k.app_label,
            KubeSyntax::LabelValue,
        ),
        (
            "kubernetes.grafana_sidecar.label".into(),
            &k.grafana_sidecar.label,
            KubeSyntax::LabelKey,
        ),
        (
            "kubernetes.grafana_sidecar.value".into(),
            &k.grafana_sidecar.value,
            KubeSyntax::LabelValue,
        ),
    ];
    let labels = |key: String, map: &'_ BTreeMap<String, String>| -> Vec<(String, String, String)> {
        map.iter()
            .map(|(k, v)| (format!("{key}.{k}"), k.clone(), v.clone()))
            .collect()
    };
    let mut label_maps = labels(
        "kubernetes.operator.selector_labels".into(),
        &k.operator.selector_labels,
    );
    for (i, peer) in k.network_policy.peers.iter().enumerate() {
        let at = format!("kubernetes.network_policy.peers[{i}]");
        if peer.namespace_selector.is_empty() && peer.pod_selector.is_empty() {
            return Err(invalid(
                &at,
                "give a namespace_selector, a pod_selector or both; an empty peer admits everyone",
            ));
        }
        label_maps.extend(labels(
            format!("{at}.namespace_selector"),
            &peer.namespace_selector,
        ));
        label_maps.extend(labels(format!("{at}.pod_selector"), &peer.pod_selector));
    }
    for (i, namespace) in profile.prometheus.kubernetes_sd.namespaces.iter().enumerate() {
        checks.push((
            format!("prometheus.kubernetes_sd.namespaces[{i}]"),
            namespace,
            KubeSyntax::DnsLabel,
        ));
    }
    for (key, label, value) in &label_maps {
        // The label's name and its value have one profile key; the message says which is wrong.
        checks.push((key.clone(), label, KubeSyntax::LabelKey));
        checks.push((key.clone(), value, KubeSyntax::LabelValue));
    }
    if let Some(secret) = &k.operator.basic_auth_secret {
        checks.push((
            "kubernetes.operator.basic_auth_secret.name".into(),
            &secret.name,
            KubeSyntax::DnsSubdomain,
        ));
        checks.push((
            "kubernetes.operator.basic_auth_secret.username_key".into(),
            &secret.username_key,
            KubeSyntax::DataKey,
        ));
        checks.push((
            "kubernetes.operator.basic_auth_secret.password_key".into(),
            &secret.password_key,
            KubeSyntax::DataKey,
        ));
    }
    for (key, value, syntax) in checks {
        if !syntax.accepts(value) {
            return Err(invalid(
                &key,
                format!("{} is not a valid {}", echoed(value), syntax.describe()),
            ));
        }
    }
    Ok(())
}

/// Every image a valid reference ([`crate::names::is_image_reference`]: the README's
/// `docker build -t` line holds one) pinned by a version tag, so `docker compose up` is the same
/// stack tomorrow.
fn validate_images(profile: &Profile) -> Result<()> {
    let images = &profile.compose;
    for (key, image) in [
        ("compose.sockudo_image", &images.sockudo_image),
        ("compose.prometheus_image", &images.prometheus_image),
        ("compose.alertmanager_image", &images.alertmanager_image),
        ("compose.grafana_image", &images.grafana_image),
        ("compose.nginx_image", &images.nginx_image),
        (
            "kubernetes.proxy_sidecar.image",
            &profile.kubernetes.proxy_sidecar.image,
        ),
    ] {
        if !crate::names::is_image_reference(image) {
            return Err(invalid(
                key,
                format!(
                    "{} is not a container image reference ([registry/]name[:tag][@digest], lower-case name)",
                    echoed(image)
                ),
            ));
        }
        let name = image.rsplit('/').next().unwrap_or(image);
        let tag = name.split_once('@').map_or_else(
            || name.split_once(':').map(|(_, tag)| tag),
            |(_, digest)| Some(digest),
        );
        if !tag.is_some_and(|t| !t.is_empty() && t != "latest") {
            return Err(invalid(
                key,
                format!("{image:?} is not pinned; give a version tag (name:1.2.3) or a digest, not latest"),
            ));
        }
    }
    Ok(())
}

/// `value` when every character is allowed, else an error naming the profile key.
fn checked<'a>(key: &str, value: &'a str, allowed: fn(char) -> bool) -> Result<&'a str> {
    match value.chars().find(|c| !allowed(*c)) {
        None if value.starts_with('-') => Err(invalid(
            key,
            format!(
                "{} starts with '-', which a command line would read as an option",
                echoed(value)
            ),
        )),
        None if !value.is_empty() => Ok(value),
        None => Err(invalid(key, "must not be empty")),
        Some(bad) => Err(invalid(
            key,
            format!(
                "{value:?} contains {bad:?}, which nginx would read as syntax \
             (no whitespace, quotes, ';', '{{', '}}', '#' or '$')"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpecSource;

    /// The production profile with `from` replaced by `to`, checked as `generate` checks it.
    fn production_with(from: &str, to: &str) -> Error {
        let production = SpecSource::Embedded.environment("production").unwrap();
        let edited = SourceFile {
            path: production.path.clone(),
            text: production.text.replace(from, to),
        };
        assert_ne!(edited.text, production.text, "the profile holds {from:?}");
        parsed_profile(&edited).expect_err(to)
    }

    /// The key reaches the error as data, however deep it is, and the message still starts with
    /// the file and the key.
    #[test]
    fn each_value_error_names_its_key() {
        for (from, to, key) in [
            ("listen_port: 9602", "listen_port: 0", "proxy.listen_port"),
            (
                r#"end_time: "04:00""#,
                r#"end_time: "25:00""#,
                "alertmanager.time_intervals.maintenance[0].times[0].end_time",
            ),
            (
                "warning: [maintenance]",
                "warning: [lunch]",
                "alertmanager.mute_time_intervals.warning",
            ),
        ] {
            let err = production_with(from, to);
            assert_eq!(err.key(), Some(key), "{err:#}");
            assert!(
                err.to_string()
                    .starts_with(&format!("environments/production.yaml: {key}: ")),
                "{err}"
            );
        }
    }

    #[test]
    fn injection_characters_are_rejected_with_the_key() {
        for bad in ["a;b", "a b", "a{", "a}", "\"a\"", "a#b", "$host", "a\nb", "a'b"] {
            let err = checked("proxy.upstream", bad, is_nginx_address_char).unwrap_err();
            assert!(err.to_string().contains("proxy.upstream"), "{err}");
        }
        assert_eq!(
            checked("proxy.upstream", "[::1]:9601", is_nginx_address_char).unwrap(),
            "[::1]:9601"
        );
        assert!(checked("proxy.htpasswd_file", "", is_nginx_path_char).is_err());
    }
}
