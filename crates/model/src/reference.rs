//! The profile reference: every key of an environment profile (`environments/<env>.yaml`) with
//! its type, default and an example, written once here. `docs/profile.md` is rendered from it
//! (`sockudo-obs init --reference`, checked fresh by the tests), `init` heads the profile it
//! writes with the keys whose values are the deployment's own, and `generate` warns about them
//! while they still hold the template's values.
//!
//! The tests hold this table to the profile's types: every key of every shipped profile is in it,
//! and a profile holding every key's example parses and validates.

use crate::Result;
use serde_norway::Value;
use sockudo_obs_catalogue::{ErrorExt, ErrorKind, ResultExt};

use super::layout::{CRITICAL, DEFAULT_APP_PORT, INFO, PROMETHEUS_DEFAULT_LISTEN_ADDRESS, WARNING};
use super::source::SpecSource;

/// One key of the profile.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    /// The dotted key; `[]` stands for every item of a list, `<alert>`, `<slo>`, `<severity>` and
    /// `<window>` for a name.
    pub key: &'static str,
    /// The value's type as the reference shows it (`port`, `map of string to string`, ...).
    pub kind: &'static str,
    /// `None`: required. Otherwise what an absent key means.
    pub default: Option<&'static str>,
    /// An example value, as YAML.
    pub example: &'static str,
    /// A value of the operator's own deployment (a host, a URL, a name, a label): a template's
    /// value is an example to replace, never a default to keep.
    pub site: bool,
    /// What the key does, one or two sentences.
    pub about: &'static str,
}

const fn key(
    key: &'static str,
    kind: &'static str,
    default: Option<&'static str>,
    example: &'static str,
    site: bool,
    about: &'static str,
) -> KeyDoc {
    KeyDoc {
        key,
        kind,
        default,
        example,
        site,
        about,
    }
}

/// The severities a rule may have, as the reference's type column shows them.
const SEVERITY_CHOICES: &str = const_format::concatcp!(CRITICAL, " | ", WARNING, " | ", INFO);
/// Sockudo's port as a one-item YAML list: `app_ports`' default.
const DEFAULT_APP_PORTS: &str = const_format::concatcp!("[", DEFAULT_APP_PORT, "]");

const REQUIRED: Option<&str> = None;
const SITE: bool = true;
const ANY: bool = false;

/// Every key, in the order of a profile.
pub const PROFILE_KEYS: &[KeyDoc] = &[
    key("version", "integer", REQUIRED, "1", ANY, "The spec format's version, as in every spec file (`alerts/`, `dashboards/`, `slos/`); this generator reads version 1, and refuses a profile without it."),
    key("description", "string (one line)", REQUIRED, "EU production cluster", SITE, "What this environment is; heads the README."),
    key("server", "sockudo-5.2.0 | sockudo-5.2.0-cluster | sockudo-5.2.0-instrumented | every-family", Some("sockudo-5.2.0"), "sockudo-5.2.0-cluster", ANY, "The server build the bundle monitors: decides which panels say they stay empty, and which alerts are left out (they read a family it does not feed)."),
    key("metrics.host", "IP address or host name", REQUIRED, "127.0.0.1", ANY, "Where the server's exporter listens (its `metrics.host`)."),
    key("metrics.port", "port", REQUIRED, "9601", ANY, "The exporter's port (its `metrics.port`)."),
    key("metrics.prefix", "metric name prefix", REQUIRED, "sockudo_", ANY, "The prefix of every metric name (its `metrics.prometheus.prefix`)."),
    key("prometheus.job_name", "job name", REQUIRED, "sockudo", ANY, "The `job` every rule and panel selects."),
    key("prometheus.scrape_interval", "duration", REQUIRED, "15s", ANY, "How often Prometheus scrapes."),
    key("prometheus.scrape_timeout", "duration", REQUIRED, "10s", ANY, "At most the scrape interval."),
    key("prometheus.evaluation_interval", "duration", REQUIRED, "15s", ANY, "How often rules are evaluated."),
    key("prometheus.external_labels", "map of label name to string", Some("{}"), "{cluster: eu-1, environment: production}", SITE, "Labels on everything leaving this Prometheus; `environment` also labels the static targets."),
    key("prometheus.static_targets", "list", Some("[]"), "[{target: 'sockudo-vm-1.internal:9602', instance: sockudo-vm-1}]", ANY, "Instances outside the cluster, scraped by the static job (and under the Operator by its ScrapeConfig)."),
    key("prometheus.static_targets[].target", "host:port", REQUIRED, "'sockudo-vm-1.internal:9602'", SITE, "The scrape address (the proxy's port when scraping through it)."),
    key("prometheus.static_targets[].instance", "string", REQUIRED, "sockudo-vm-1", SITE, "The `instance` label."),
    key("prometheus.kubernetes_sd.enabled", "bool", REQUIRED, "true", ANY, "Discover the Sockudo pods."),
    key("prometheus.kubernetes_sd.namespaces", "list of namespace names", Some("[] (every namespace)"), "[sockudo]", SITE, "Where to look; must hold `kubernetes.namespace`."),
    key("prometheus.kubernetes_sd.app_label", "label value", REQUIRED, "sockudo", ANY, "The pods' `app` label; must equal `kubernetes.app_label`."),
    key("prometheus.basic_auth", "mapping", Some("absent: no basic auth"), "{username: prometheus, password_file: /etc/prometheus/secrets/sockudo-metrics/password}", ANY, "Scrape through the proxy with these credentials."),
    key("prometheus.basic_auth.username", "user name", REQUIRED, "prometheus", ANY, "The proxy's user."),
    key("prometheus.basic_auth.password_file", "file path", REQUIRED, "/etc/prometheus/secrets/sockudo-metrics/password", ANY, "The file holding the password (never the password)."),
    key("prometheus.listen_address", "host:port", Some(PROMETHEUS_DEFAULT_LISTEN_ADDRESS), "'localhost:9090'", ANY, "Where this Prometheus serves its own metrics (its `--web.listen-address`): the self-monitoring job `prometheus` scrapes it, and the self-monitoring alerts read what it finds."),
    key("prometheus.alertmanagers", "list of host:port", Some("[]"), "['alertmanager.monitoring.svc:9093']", SITE, "Where alerts go. With pod discovery on, a Service address `<name>.<namespace>.svc:<port>` becomes every replica behind it."),
    key("prometheus.remote_write", "list", Some("[]"), "[{name: mimir, url: 'https://mimir.example/api/v1/push'}]", ANY, "Where samples are shipped (Thanos Receive, Mimir, VictoriaMetrics); Prometheus's own field names."),
    key("prometheus.remote_write[].name", "string", REQUIRED, "mimir", ANY, "The queue's name in Prometheus's metrics."),
    key("prometheus.remote_write[].url", "http(s) URL", REQUIRED, "'https://mimir.example/api/v1/push'", SITE, "The receiving endpoint."),
    key("prometheus.remote_write[].headers", "map of header name to string", Some("{}"), "{X-Scope-OrgID: sockudo-production}", SITE, "Extra headers, e.g. Mimir's tenant; not the ones Prometheus sets (`Authorization`, `Content-Type`, ...)."),
    key("prometheus.remote_write[].basic_auth.username", "string", REQUIRED, "prometheus", ANY, "Basic auth (not with `authorization`)."),
    key("prometheus.remote_write[].basic_auth.password_file", "file path", REQUIRED, "/etc/prometheus/secrets/remote/password", ANY, "The file holding the password."),
    key("prometheus.remote_write[].authorization.type", "scheme", Some("Bearer"), "Bearer", ANY, "The `Authorization` scheme (not Basic: use `basic_auth`)."),
    key("prometheus.remote_write[].authorization.credentials_file", "file path", REQUIRED, "/etc/prometheus/secrets/remote/token", ANY, "The file holding the token."),
    key("prometheus.remote_write[].tls_config.ca_file", "file path", Some("the system's CAs"), "/etc/prometheus/secrets/remote/ca.pem", ANY, "The CA that verifies the endpoint (https URLs only)."),
    key("prometheus.remote_write[].tls_config.cert_file", "file path", Some("no client certificate"), "/etc/prometheus/secrets/remote/client.pem", ANY, "A client certificate, with `key_file`."),
    key("prometheus.remote_write[].tls_config.key_file", "file path", Some("no client certificate"), "/etc/prometheus/secrets/remote/client-key.pem", ANY, "The client certificate's key, with `cert_file`."),
    key("prometheus.remote_write[].tls_config.server_name", "host name", Some("the URL's host"), "mimir.example", ANY, "The name the endpoint's certificate is verified against."),
    key("prometheus.remote_write[].queue_config.capacity", "integer >= 1", Some("Prometheus's"), "10000", ANY, "Samples buffered per shard."),
    key("prometheus.remote_write[].queue_config.min_shards", "integer >= 1", Some("Prometheus's"), "1", ANY, "At most `max_shards`."),
    key("prometheus.remote_write[].queue_config.max_shards", "integer >= 1", Some("Prometheus's"), "50", ANY, "Parallel senders at most."),
    key("prometheus.remote_write[].queue_config.max_samples_per_send", "integer >= 1", Some("Prometheus's"), "2000", ANY, "Samples per request."),
    key("prometheus.remote_write[].queue_config.batch_send_deadline", "duration", Some("Prometheus's"), "5s", ANY, "Longest wait before a partial batch is sent."),
    key("prometheus.remote_write[].queue_config.min_backoff", "duration", Some("Prometheus's"), "30ms", ANY, "First retry delay; at most `max_backoff`."),
    key("prometheus.remote_write[].queue_config.max_backoff", "duration", Some("Prometheus's"), "5s", ANY, "Longest retry delay."),
    key("prometheus.federation", "mapping or null", Some("null: no federation job"), "{job_name: federate, targets: ['prometheus-eu.internal:9090'], match_selectors: ['{job=\"sockudo\"}']}", ANY, "Pull pre-aggregated series from another Prometheus's `/federate`."),
    key("prometheus.federation.job_name", "job name", REQUIRED, "federate", ANY, "The federation job's name."),
    key("prometheus.federation.targets", "list of host:port", REQUIRED, "['prometheus-eu.internal:9090']", SITE, "The Prometheus servers to federate from."),
    key("prometheus.federation.match_selectors", "list of series selectors", REQUIRED, "['{job=\"sockudo\"}']", ANY, "The `match[]` selectors, checked against the catalogue."),
    key("alerts", "map of alert name to override", Some("{}"), "{SockudoHighConnections: {threshold: 20000}}", ANY, "Per-alert overrides of the specs (alerts/*.yaml); say why in a comment."),
    key("alerts.<alert>.threshold", "number", Some("the spec's"), "20000", ANY, "The alert's threshold here."),
    key("alerts.<alert>.min_traffic", "number", Some("the spec's"), "100", ANY, "The fewest events in a ratio alert's window for the ratio to count."),
    key("alerts.<alert>.for", "duration", Some("the spec's"), "10m", ANY, "How long the condition must hold."),
    key("alerts.<alert>.severity", SEVERITY_CHOICES, Some("the spec's"), WARNING, ANY, "A page in one environment may be a ticket in another."),
    key("alerts.<alert>.enabled", "bool", Some("true"), "false", ANY, "`false` leaves the alert out: no rule, test or runbook section."),
    key("slos", "map of SLO name to override", Some("{}"), "{api-availability: {objective: 99.5}}", ANY, "Per-SLO overrides of the specs (slos/*.yaml)."),
    key("slos.<slo>.objective", "percentage (0-100, exclusive)", Some("the spec's"), "99.5", ANY, "The SLO's objective here."),
    key("alertmanager.receivers.critical", "http(s) URL", REQUIRED, "'https://pager.example/hooks/sockudo'", SITE, "Where pages go."),
    key("alertmanager.receivers.warning", "http(s) URL", REQUIRED, "'https://tickets.example/hooks/sockudo'", SITE, "Where tickets go (not the critical URL)."),
    key("alertmanager.receivers.info", "http(s) URL", REQUIRED, "'https://chat.example/hooks/sockudo'", SITE, "Where notes go (not another severity's URL)."),
    key("alertmanager.heartbeat_url", "http(s) URL", Some("absent: the Watchdog notifies nobody"), "'https://heartbeat.example/ping/sockudo'", SITE, "The dead man's switch the always-firing Watchdog pings."),
    key("alertmanager.group_wait", "duration", REQUIRED, "30s", ANY, "Wait before a new group's first notification."),
    key("alertmanager.group_interval", "duration", REQUIRED, "5m", ANY, "Wait before notifying a group's new alerts."),
    key("alertmanager.repeat_interval", "duration", REQUIRED, "4h", ANY, "Wait before repeating a notification."),
    key("alertmanager.integrations", "map of severity to integrations", Some("{}"), "{warning: {slack: {api_url_file: /etc/alertmanager/secrets/slack-webhook-url}}}", ANY, "Native integrations a severity's receiver notifies beside its webhook; secrets stay in files Alertmanager reads (the README lists them)."),
    key("alertmanager.integrations.<severity>.pagerduty.routing_key_file", "absolute file path", Some("absent: give service_key_file"), "/etc/alertmanager/secrets/pagerduty-routing-key", SITE, "An Events API v2 routing key (exactly one of the two keys)."),
    key("alertmanager.integrations.<severity>.pagerduty.service_key_file", "absolute file path", Some("absent: give routing_key_file"), "/etc/alertmanager/secrets/pagerduty-service-key", SITE, "A v1 integration's service key."),
    key("alertmanager.integrations.<severity>.pagerduty.url", "https URL", Some("PagerDuty's US endpoint"), "'https://events.eu.pagerduty.com/v2/enqueue'", ANY, "The events endpoint."),
    key("alertmanager.integrations.<severity>.slack.api_url_file", "absolute file path", REQUIRED, "/etc/alertmanager/secrets/slack-webhook-url", SITE, "The file holding the incoming webhook's URL."),
    key("alertmanager.integrations.<severity>.slack.channel", "string", Some("the webhook's own channel"), "'#sockudo-tickets'", SITE, "The channel."),
    key("alertmanager.integrations.<severity>.opsgenie.api_key_file", "absolute file path", REQUIRED, "/etc/alertmanager/secrets/opsgenie-api-key", SITE, "The API integration's key."),
    key("alertmanager.integrations.<severity>.opsgenie.api_url", "https URL", Some("Opsgenie's US API"), "'https://api.eu.opsgenie.com/'", ANY, "The API URL."),
    key("alertmanager.integrations.<severity>.email.to", "email address", REQUIRED, "sockudo-oncall@example.com", SITE, "Where the mail goes."),
    key("alertmanager.integrations.<severity>.email.from", "email address", REQUIRED, "alertmanager@example.com", SITE, "Its sender."),
    key("alertmanager.integrations.<severity>.email.smarthost", "host:port", REQUIRED, "'smtp.example.com:587'", SITE, "The SMTP server."),
    key("alertmanager.integrations.<severity>.email.auth_username", "string", Some("absent: no login"), "alertmanager", SITE, "The SMTP login (with auth_password_file)."),
    key("alertmanager.integrations.<severity>.email.auth_password_file", "absolute file path", Some("absent: no login"), "/etc/alertmanager/secrets/smtp-password", SITE, "The file holding its password."),
    key("alertmanager.integrations.<severity>.email.require_tls", "bool", Some("true"), "true", ANY, "STARTTLS required; false only for a smarthost on loopback."),
    key("alertmanager.time_intervals", "map of window name to list", Some("{}"), "{maintenance: [{weekdays: [sunday], times: [{start_time: '02:00', end_time: '04:00'}], location: UTC}]}", ANY, "Named recurring windows, as Alertmanager's `time_intervals`."),
    key("alertmanager.time_intervals.<window>[].times", "list", Some("the whole day"), "[{start_time: '02:00', end_time: '04:00'}]", ANY, "Times of day."),
    key("alertmanager.time_intervals.<window>[].times[].start_time", "HH:MM", REQUIRED, "'02:00'", ANY, "Start."),
    key("alertmanager.time_intervals.<window>[].times[].end_time", "HH:MM", REQUIRED, "'04:00'", ANY, "End (after the start)."),
    key("alertmanager.time_intervals.<window>[].weekdays", "list of weekdays or ranges", Some("every day"), "[sunday]", ANY, "`monday`, or `monday:friday`."),
    key("alertmanager.time_intervals.<window>[].days_of_month", "list of days or ranges", Some("every day"), "['1:7']", ANY, "`1`, `-1` (the last day), or `1:7`."),
    key("alertmanager.time_intervals.<window>[].months", "list of months or ranges", Some("every month"), "[january]", ANY, "`january` or `1`, or `january:march`."),
    key("alertmanager.time_intervals.<window>[].years", "list of years or ranges", Some("every year"), "['2026']", ANY, "`2026`, or `2026:2027`."),
    key("alertmanager.time_intervals.<window>[].location", "IANA time zone", Some("UTC"), "UTC", ANY, "The zone the times are in."),
    key("alertmanager.mute_time_intervals.<severity>", "list of window names", Some("absent: never muted"), "[maintenance]", ANY, "The windows during which that severity's notifications wait."),
    key("proxy.enabled", "bool", REQUIRED, "true", ANY, "Put the nginx basic-auth proxy in front of the exporter."),
    key("proxy.listen_host", "IP address or host name", REQUIRED, "0.0.0.0", ANY, "Where the proxy listens."),
    key("proxy.listen_port", "port", REQUIRED, "9602", ANY, "The proxy's port (the pods' scrape port)."),
    key("proxy.htpasswd_file", "file path", REQUIRED, "/etc/nginx/sockudo-metrics.htpasswd", ANY, "The host proxy's htpasswd file, which the operator creates."),
    key("proxy.upstream", "host:port", Some("metrics.host:metrics.port on loopback"), "'127.0.0.1:9601'", ANY, "Where the proxy forwards."),
    key("proxy.tls", "mapping", Some("absent: plain HTTP"), "{certificate: /etc/nginx/tls/cert.pem, certificate_key: /etc/nginx/tls/key.pem}", ANY, "Serve the host proxy over TLS; the static targets are then scraped over https."),
    key("proxy.tls.certificate", "file path", REQUIRED, "/etc/nginx/tls/cert.pem", ANY, "The proxy's certificate (PEM)."),
    key("proxy.tls.certificate_key", "file path", REQUIRED, "/etc/nginx/tls/key.pem", ANY, "Its key (PEM)."),
    key("proxy.tls.ca_file", "file path", Some("the system's CAs"), "/etc/prometheus/sockudo-ca.pem", ANY, "The CA Prometheus verifies the proxy with."),
    key("kubernetes.namespace", "namespace name", REQUIRED, "sockudo", SITE, "Where the Sockudo pods and the bundle's objects live."),
    key("kubernetes.app_label", "label value", REQUIRED, "sockudo", ANY, "The Sockudo pods' `app` label."),
    key("kubernetes.operator.enabled", "bool", REQUIRED, "true", ANY, "Render the Prometheus Operator's objects (a kustomize component)."),
    key("kubernetes.operator.selector_labels", "map of label name to value", Some("{}"), "{release: kube-prometheus-stack}", SITE, "Labels the Operator's Prometheus selects its monitors and rules by."),
    key("kubernetes.operator.basic_auth_secret", "mapping", Some("absent: required when the proxy is on"), "{name: sockudo-metrics-auth, username_key: username, password_key: password}", ANY, "The Secret the monitors' basic auth reads."),
    key("kubernetes.operator.basic_auth_secret.name", "Secret name", REQUIRED, "sockudo-metrics-auth", ANY, "The Secret (in `kubernetes.namespace`)."),
    key("kubernetes.operator.basic_auth_secret.username_key", "Secret key", REQUIRED, "username", ANY, "Its key holding the user."),
    key("kubernetes.operator.basic_auth_secret.password_key", "Secret key", REQUIRED, "password", ANY, "Its key holding the password."),
    key("kubernetes.operator.ca_secret", "mapping", Some("absent: required with proxy.tls.ca_file and static targets"), "{name: sockudo-metrics-ca, key: ca.crt}", ANY, "The Secret key holding `proxy.tls.ca_file`'s CA, which the Operator's ScrapeConfig verifies the proxies with."),
    key("kubernetes.operator.ca_secret.name", "Secret name", REQUIRED, "sockudo-metrics-ca", ANY, "The Secret (in `kubernetes.namespace`)."),
    key("kubernetes.operator.ca_secret.key", "Secret key", REQUIRED, "ca.crt", ANY, "Its key holding the CA (PEM)."),
    key("kubernetes.grafana_sidecar.label", "label name", REQUIRED, "grafana_dashboard", ANY, "The label Grafana's dashboard sidecar watches."),
    key("kubernetes.grafana_sidecar.value", "label value", REQUIRED, "'1'", ANY, "Its value."),
    key("kubernetes.grafana_sidecar.folder", "string", REQUIRED, "Sockudo", ANY, "The Grafana folder of the dashboards."),
    key("kubernetes.network_policy.enabled", "bool", REQUIRED, "true", ANY, "Admit only the peers to the metrics and proxy ports."),
    key("kubernetes.network_policy.peers", "list", REQUIRED, "[{namespace_selector: {kubernetes.io/metadata.name: monitoring}}]", SITE, "Who may scrape."),
    key("kubernetes.network_policy.peers[].namespace_selector", "map of label name to value", Some("{}"), "{kubernetes.io/metadata.name: monitoring}", SITE, "The peer's namespace labels."),
    key("kubernetes.network_policy.peers[].pod_selector", "map of label name to value", Some("{}"), "{app.kubernetes.io/name: prometheus}", SITE, "The peer's pod labels (both selectors: both must match)."),
    key("kubernetes.network_policy.app_ports", "list of ports", Some(DEFAULT_APP_PORTS), DEFAULT_APP_PORTS, ANY, "Sockudo's own ports, open to everyone."),
    key("kubernetes.workload.deployment", "Deployment name", Some("sockudo"), "sockudo", ANY, "The Deployment the pod patch targets."),
    key("kubernetes.workload.container", "container name", Some("sockudo"), "sockudo", ANY, "The Sockudo container in it."),
    key("kubernetes.proxy_sidecar.image", "image reference", Some("nginxinc/nginx-unprivileged:1.27.3-alpine"), "nginxinc/nginx-unprivileged:1.27.3-alpine", ANY, "The sidecar's nginx: non-root (uid 101), pinned."),
    key("kubernetes.proxy_sidecar.htpasswd_secret", "Secret name", Some("sockudo-metrics-htpasswd"), "sockudo-metrics-htpasswd", ANY, "The Secret holding the htpasswd file, mounted as a folder (rotations take effect)."),
    key("kubernetes.proxy_sidecar.htpasswd_key", "Secret key", Some("htpasswd"), "htpasswd", ANY, "The htpasswd file's key in it."),
    key("kubernetes.prometheus_service_account.namespace", "namespace name", Some("monitoring"), "monitoring", SITE, "Where the plain Prometheus runs (its ConfigMap goes there)."),
    key("kubernetes.prometheus_service_account.name", "ServiceAccount name", Some("prometheus"), "prometheus", SITE, "Its ServiceAccount, granted pod (and Alertmanager endpoint) discovery."),
    key("grafana.schema_version", "integer", REQUIRED, "39", ANY, "The dashboards' schemaVersion."),
    key("grafana.cluster_variable", "bool", REQUIRED, "true", ANY, "Add a `cluster` variable to the dashboards."),
    key("grafana.datasource_url", "http(s) URL", REQUIRED, "'http://prometheus-operated.monitoring.svc:9090'", SITE, "The Prometheus the provisioned datasource points at."),
    key("compose.sockudo_image", "image reference", REQUIRED, "sockudo-obs/sockudo:5.2.0", ANY, "The compose stack's Sockudo (built with the drop-in)."),
    key("compose.prometheus_image", "image reference", REQUIRED, "prom/prometheus:v2.53.3", ANY, "Pinned."),
    key("compose.alertmanager_image", "image reference", REQUIRED, "prom/alertmanager:v0.27.0", ANY, "Pinned."),
    key("compose.grafana_image", "image reference", REQUIRED, "grafana/grafana:11.3.0", ANY, "Pinned."),
    key("compose.nginx_image", "image reference", REQUIRED, "nginx:1.27.3-alpine", ANY, "Pinned."),
    key("docs.runbook_url", "http(s) or relative URL", REQUIRED, "'https://wiki.internal/sockudo/RUNBOOK.md'", SITE, "Where RUNBOOK.md is published; each alert links its section."),
];

/// What the first line of a profile `init` wrote says before the template's path
/// (`environments/production.yaml`).
pub const INIT_ORIGIN: &str = "written by `sockudo-obs init` from ";

/// The embedded template a profile was written from by `init`, by its first line: the template's
/// environment name (`production`).
pub fn init_template(text: &str) -> Option<&str> {
    let first = text.lines().next()?;
    let path = first.split_once(INIT_ORIGIN)?.1.trim_end_matches('.');
    path.strip_prefix("environments/")?.strip_suffix(".yaml")
}

/// Marks of a value that is an example whatever its key: the reserved example names (RFC 2606).
pub const EXAMPLE_MARKS: [&str; 2] = ["example.", ".example"];

/// The reference entry of a concrete key (`prometheus.static_targets[0].target`), or of the map
/// key holding it (`prometheus.external_labels.cluster` is `prometheus.external_labels`).
pub fn entry(concrete: &str) -> Option<&'static KeyDoc> {
    entry_in(PROFILE_KEYS, concrete)
}

/// [`entry`] in another table (the tests' altered copies).
pub fn entry_in<'a>(table: &'a [KeyDoc], concrete: &str) -> Option<&'a KeyDoc> {
    let general = general_key(concrete);
    table.iter().find(|k| k.key == general).or_else(|| {
        table
            .iter()
            .filter(|k| k.kind.starts_with("map"))
            .filter(|k| general.starts_with(&format!("{}.", k.key)))
            .max_by_key(|k| k.key.len())
    })
}

/// The maps keyed by a name of the operator's choosing, and how the reference spells that name.
const NAMED_MAPS: [(&str, &str); 5] = [
    ("alerts.", "<alert>"),
    ("slos.", "<slo>"),
    ("alertmanager.integrations.", "<severity>"),
    ("alertmanager.time_intervals.", "<window>"),
    ("alertmanager.mute_time_intervals.", "<severity>"),
];

/// `prometheus.static_targets[0].target` as the reference spells it (`[]`), and a name of a
/// [`NAMED_MAPS`] map (an alert's, an SLO's, a severity, a window) as its placeholder.
fn general_key(concrete: &str) -> String {
    let mut out = String::new();
    let mut chars = concrete.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '[' {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
        }
    }
    // An item of a list of scalars is documented by the list.
    if let Some(list) = out.strip_suffix("[]") {
        out = list.to_string();
    }
    for (map, placeholder) in NAMED_MAPS {
        if let Some(rest) = out.strip_prefix(map) {
            // The name, then what follows it: a field, a list's `[]`, or nothing.
            let at = rest.find(['.', '[']).unwrap_or(rest.len());
            return format!("{map}{placeholder}{}", &rest[at..]);
        }
    }
    out
}

/// Every scalar of a profile as `(concrete key, value)`, in document order.
pub fn leaves(value: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    walk(value, "", &mut found);
    found
}

fn walk(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = match key {
                    Value::String(s) => s.clone(),
                    other => serde_norway::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                let path = if at.is_empty() { key } else { format!("{at}.{key}") };
                walk(child, &path, found);
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{at}[{i}]"), found);
            }
        }
        Value::Tagged(tagged) => walk(&tagged.value, at, found),
        Value::Null => {}
        scalar => {
            let text = serde_norway::to_string(scalar).unwrap_or_default();
            found.push((at.to_string(), text.trim().to_string()));
        }
    }
}

/// The values of `profile` that are examples: any value holding a reserved example name, and a
/// site key's value still the same as in `template`, the profile it was written from (`init`
/// passes the template itself: every site value). `(concrete key, value)`, in document order.
pub fn example_values(profile: &Value, template: Option<&Value>) -> Vec<(String, String)> {
    let from_template = template.map(leaves).unwrap_or_default();
    leaves(profile)
        .into_iter()
        .filter(|(key, value)| {
            let marked = EXAMPLE_MARKS.iter().any(|m| value.contains(m));
            let site = entry(key).is_some_and(|e| e.site);
            marked || (site && from_template.iter().any(|(k, v)| k == key && v == value))
        })
        .collect()
}

/// The example values `env`'s profile in `source` still holds ([`example_values`]), compared
/// with the embedded template `init` wrote it from, if it did.
pub fn profile_examples(source: &SpecSource, env: &str) -> Result<Vec<(String, String)>> {
    let file = source.environment(env)?;
    // `generate` reads this only after the profile parsed: a failure here is no usage error.
    let profile: Value = serde_norway::from_str(&file.text)
        .or_kind(ErrorKind::Render)
        .at_path(&file.path)?;
    let template = init_template(&file.text)
        .and_then(|name| SpecSource::Embedded.environment(name).ok())
        .and_then(|t| serde_norway::from_str::<Value>(&t.text).ok());
    Ok(example_values(&profile, template.as_ref()))
}

/// `docs/profile.md`.
pub fn markdown() -> String {
    let mut out = format!(
        "# The environment profile\n\n\
         <!-- generated by `sockudo-obs init --reference`; do not edit (change crates/model/src/reference.rs) -->\n\n\
         Every key of `environments/<env>.yaml`, the file `sockudo-obs init` writes and `sockudo-obs \
         generate` reads. Unknown keys are errors. `[]` stands for every item of a list, `<alert>` and \
         `<slo>` for a name from `alerts/*.yaml` and `slos/*.yaml`, `<severity>` for `{CRITICAL}`, `{WARNING}` \
         or `{INFO}`, `<window>` for a window's name. A key marked **yours** holds a value \
         of your deployment (a host, a URL, a name): `init` lists them atop the profile it writes, and \
         `generate` warns, naming each, while one still holds the template's value or any value holds \
         a reserved example name (`example.com`, `*.example`).\n\n\
         | key | type | default | example | |\n|---|---|---|---|---|\n",
    );
    for k in PROFILE_KEYS {
        let cell = |text: &str| text.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {}{} |\n",
            k.key,
            cell(k.kind),
            k.default
                .map_or("required".to_string(), |d| format!("`{}`", cell(d))),
            cell(k.example),
            if k.site { "**yours** " } else { "" },
            cell(k.about),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_keys_find_their_entry() {
        assert_eq!(
            general_key("prometheus.static_targets[12].target"),
            "prometheus.static_targets[].target"
        );
        assert_eq!(
            general_key("alerts.SockudoHighConnections.for"),
            "alerts.<alert>.for"
        );
        assert_eq!(
            general_key("prometheus.alertmanagers[0]"),
            "prometheus.alertmanagers"
        );
        assert_eq!(
            entry("prometheus.external_labels.cluster").unwrap().key,
            "prometheus.external_labels"
        );
        assert_eq!(
            entry("prometheus.remote_write[0].headers.X-Scope-OrgID")
                .unwrap()
                .key,
            "prometheus.remote_write[].headers"
        );
        assert!(entry("prometheus.nope").is_none());
    }

    #[test]
    fn every_key_is_documented_once() {
        let mut keys: Vec<&str> = PROFILE_KEYS.iter().map(|k| k.key).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len());
    }
}
