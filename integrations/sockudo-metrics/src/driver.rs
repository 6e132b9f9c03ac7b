//! [`PrometheusMetricsDriver`]: Sockudo's `MetricsInterface`, call by call, over the catalogue's
//! recording handles. A call that carries what a catalogue family measures records it, with
//! Sockudo's label values mapped by `sockudo_obs_live::sockudo`; every other call is accepted
//! and records nothing, so no family looks fed when the server does not feed it.

use std::cell::Cell;
use std::ffi::OsString;
use std::process;
use std::time::Duration;

use async_trait::async_trait;
use sockudo_core::error::Result;
use sockudo_core::metrics::MetricsInterface;
use sockudo_core::websocket::SocketId;
use sockudo_obs_live::{AdapterMetrics, AdapterOperation, ChannelType};
use sockudo_obs_live::{Metrics, MetricsConfig};
use sockudo_obs_sockudo::spellings as map;
use sonic_rs::Value;

use crate::{bridge, process as process_metrics, server_config, TcpExporterOptions};

/// The only environment variables the drop-in reads itself: the server has already resolved
/// `metrics.enabled`, `driver`, `host` and `port`, but only knows one spelling of the prefix.
const PREFIX_VARIABLES: &[&str] = &["PROMETHEUS_METRICS_PREFIX", "METRICS_PROMETHEUS_PREFIX"];

/// Where the server's `port` and `prefix` come from, as errors name it.
const SOCKUDO_SETTINGS: &str =
    "the Sockudo server's settings (its config file, or METRICS_PROMETHEUS_PREFIX)";

/// The adapter label before [`PrometheusMetricsDriver::with_adapter_name`] names it (a driver
/// made with [`PrometheusMetricsDriver::build`] alone, as in tests).
pub const UNNAMED_ADAPTER: &str = "horizontal";

thread_local! {
    /// The duration of the horizontal request this thread resolved last: Sockudo reports it
    /// (`track_horizontal_adapter_resolve_time`) right before the outcome of the same request
    /// (`track_horizontal_adapter_resolved_promises`), with no await between the two calls.
    static REQUEST_RESOLVED_IN: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The metrics driver the server builds at start-up. Cloning shares the same registry.
#[derive(Clone)]
pub struct PrometheusMetricsDriver {
    metrics: Metrics,
    /// The horizontal adapter's handles, named as the server's config names the adapter. Only a
    /// horizontal adapter makes the calls that record into them.
    adapter: AdapterMetrics,
    /// The HTTP routes' handles by template, for the instrumented build's per-request call.
    #[cfg(feature = "instrumented")]
    routes: std::sync::Arc<sockudo_obs_live::RouteTemplates>,
}

impl PrometheusMetricsDriver {
    /// What the server calls (`sockudo::bootstrap::MetricsFactory`). `port` and `prefix` are the
    /// server's `metrics.port` and `metrics.prometheus.prefix`; the server itself serves
    /// `/metrics` on that port from [`MetricsInterface::get_metrics_as_plaintext`].
    ///
    /// A prefix the catalogue cannot honour (say `my-company`) ends the process with exit code 2
    /// and one line naming the key and its source: a server that silently exported other names
    /// than its dashboards query would be worse than one that does not start.
    pub async fn with_exporters(
        port: u16,
        prefix: Option<&str>,
        tcp_exporter: Option<TcpExporterOptions>,
        export_to_opentelemetry: bool,
    ) -> Self {
        if let Some(tcp) = tcp_exporter {
            tracing::warn!(
                host = %tcp.host,
                port = tcp.port,
                "metrics.tcp_exporter is not supported by the sockudo-obs driver; /metrics only"
            );
        }
        if export_to_opentelemetry {
            tracing::warn!("the sockudo-obs driver does not export metrics to OpenTelemetry");
        }
        match Self::build(port, prefix, &|var| std::env::var_os(var)) {
            Ok(driver) => driver.with_adapter_name(&server_config::adapter_name().await),
            Err(message) => {
                tracing::error!("{message}");
                eprintln!("sockudo-metrics (sockudo-obs): {message}");
                process::exit(2);
            }
        }
    }

    /// Same as [`with_exporters`](Self::with_exporters) without the options the drop-in ignores.
    pub async fn new(port: u16, prefix: Option<&str>) -> Self {
        Self::with_exporters(port, prefix, None, false).await
    }

    /// The driver for the server's settings and the prefix variables of `env`, or the error line.
    pub fn build(
        port: u16,
        prefix: Option<&str>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> std::result::Result<Self, String> {
        let mut metrics = serde_metrics_section(port, prefix);
        metrics.push('\n');
        let prefix_only = |var: &str| {
            if PREFIX_VARIABLES.contains(&var) {
                env(var)
            } else {
                None
            }
        };
        let config = MetricsConfig::from_sources(Some((SOCKUDO_SETTINGS, metrics.as_bytes())), &prefix_only)
            .map_err(|e| e.to_string())?;
        let registry = ::prometheus::Registry::new();
        process_metrics::register(&registry).map_err(|e| format!("process metrics: {e}"))?;
        let metrics = Metrics::builder(&config)
            .registry(registry)
            .build()
            .map_err(|e| e.to_string())?;
        bridge::install(&metrics);
        let adapter = metrics.adapter(UNNAMED_ADAPTER).clone();
        Ok(PrometheusMetricsDriver {
            #[cfg(feature = "instrumented")]
            routes: std::sync::Arc::new(sockudo_obs_live::RouteTemplates::new(&metrics)),
            metrics,
            adapter,
        })
    }

    /// The driver with its adapter family labelled `adapter="name"`.
    pub fn with_adapter_name(mut self, name: &str) -> Self {
        self.adapter = self.metrics.adapter(name).clone();
        self
    }

    /// The catalogue's handles, for code that records more than the trait carries.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// The server's two settings as the `metrics` section our config reads, so a bad value gets the
/// same one-line error as in a config.json.
fn serde_metrics_section(port: u16, prefix: Option<&str>) -> String {
    let prefix = prefix.map(|p| sonic_rs::to_string(p).unwrap_or_default());
    match prefix {
        Some(prefix) => format!(r#"{{"metrics":{{"port":{port},"prometheus":{{"prefix":{prefix}}}}}}}"#),
        None => format!(r#"{{"metrics":{{"port":{port}}}}}"#),
    }
}

#[async_trait]
impl MetricsInterface for PrometheusMetricsDriver {
    async fn init(&self) -> Result<()> {
        Ok(())
    }

    fn mark_new_connection(&self, app_id: &str, _socket_id: &SocketId) {
        self.metrics.with_app(app_id, move |app| app.connection_opened());
    }

    fn mark_disconnection(&self, app_id: &str, _socket_id: &SocketId) {
        self.metrics.with_app(app_id, move |app| app.connection_closed());
    }

    /// Sockudo passes the app *key* for a connection to an unknown app, so clients choose these
    /// ids; the catalogue's app cap folds them into the overflow series.
    fn mark_connection_error(&self, app_id: &str, error_type: &str) {
        let error = map::error_type(error_type);
        self.metrics
            .with_app(app_id, move |app| app.connection_error(error));
    }

    fn mark_rate_limit_check(&self, app_id: &str, limiter_type: &str) {
        let limiter = map::connection_limiter(limiter_type);
        self.metrics
            .with_app(app_id, move |app| app.rate_limit_checked(limiter));
    }

    fn mark_rate_limit_check_with_context(&self, app_id: &str, _limiter_type: &str, request_context: &str) {
        let limiter = map::request_limiter(request_context);
        self.metrics
            .with_app(app_id, move |app| app.rate_limit_checked(limiter));
    }

    fn mark_rate_limit_triggered(&self, app_id: &str, limiter_type: &str) {
        let limiter = map::connection_limiter(limiter_type);
        self.metrics
            .with_app(app_id, move |app| app.rate_limit_triggered(limiter));
    }

    fn mark_rate_limit_triggered_with_context(
        &self,
        app_id: &str,
        _limiter_type: &str,
        request_context: &str,
    ) {
        let limiter = map::request_limiter(request_context);
        self.metrics
            .with_app(app_id, move |app| app.rate_limit_triggered(limiter));
    }

    fn mark_channel_subscription(&self, app_id: &str, channel_type: &str) {
        if let Some(channel) = map::channel_type(channel_type) {
            self.metrics
                .with_app(app_id, move |app| app.channel_subscribed(channel));
        }
    }

    fn mark_channel_unsubscription(&self, app_id: &str, channel_type: &str) {
        if let Some(channel) = map::channel_type(channel_type) {
            self.metrics
                .with_app(app_id, move |app| app.channel_unsubscribed(channel));
        }
    }

    fn mark_channel_activated(&self, app_id: &str, channel_type: &str) {
        if let Some(channel) = map::channel_type(channel_type) {
            self.metrics
                .with_app(app_id, move |app| app.channel_occupied(channel));
        }
    }

    fn mark_channel_deactivated(&self, app_id: &str, channel_type: &str) {
        if let Some(channel) = map::channel_type(channel_type) {
            self.metrics
                .with_app(app_id, move |app| app.channel_vacated(channel));
        }
    }

    // HTTP API bytes per app: no catalogue family (ours are per route, from the middleware).
    fn mark_api_message(&self, _app_id: &str, _incoming: usize, _sent: usize) {}

    // Single sends and received frames carry no channel, and every catalogue message family is
    // per channel type: recording them under a guessed type would be a lie.
    fn mark_ws_message_sent(&self, _app_id: &str, _sent_message_size: usize) {}

    // Counted, with its channel, by `track_broadcast_latency`, which the server calls right after
    // with the same recipient count.
    fn mark_ws_messages_sent_batch(&self, _app_id: &str, _size: usize, _count: usize) {}

    fn mark_ws_message_received(&self, _app_id: &str, _message_size: usize) {}

    fn track_horizontal_adapter_resolve_time(&self, _app_id: &str, time_ms: f64) {
        let took = Duration::try_from_secs_f64(time_ms / 1000.0).unwrap_or_default();
        REQUEST_RESOLVED_IN.with(|last| last.set(Some(took)));
    }

    /// One request to the other nodes settled: resolved, or timed out (an adapter error).
    fn track_horizontal_adapter_resolved_promises(&self, _app_id: &str, resolved: bool, _t: &str) {
        let took = REQUEST_RESOLVED_IN.with(Cell::take).unwrap_or_default();
        if resolved {
            self.adapter.operation(AdapterOperation::Request, took);
        } else {
            self.adapter.operation_failed(AdapterOperation::Request, took);
        }
    }

    // Counted once settled, with its latency (above).
    fn mark_horizontal_adapter_request_sent(&self, _app_id: &str) {}

    fn mark_horizontal_adapter_request_received(&self, _app_id: &str) {}

    fn mark_horizontal_adapter_response_received(&self, _app_id: &str) {}

    /// One publish fanned out to `recipient_count` local connections: the catalogue's broadcast,
    /// counted once, with its deliveries in `messages_sent_total`. Under a horizontal adapter
    /// every node reports the publishes it relayed, most with no local recipient: those delivered
    /// nothing here and count nothing (as in the stock driver).
    fn track_broadcast_latency(
        &self,
        app_id: &str,
        channel_name: &str,
        recipient_count: usize,
        _latency_ms: f64,
    ) {
        if recipient_count == 0 {
            return;
        }
        let channel = ChannelType::of_channel(channel_name);
        self.metrics
            .with_app(app_id, move |app| app.broadcast(channel, recipient_count as u64));
    }

    fn track_horizontal_delta_compression(&self, _app_id: &str, _channel: &str, _enabled: bool) {}

    fn track_delta_compression_bandwidth(&self, _a: &str, _c: &str, _original: usize, _compressed: usize) {}

    fn track_delta_compression_full_message(&self, _app_id: &str, _channel_name: &str) {}

    fn track_delta_compression_delta_message(&self, _app_id: &str, _channel_name: &str) {}

    // The calls the instrumented build's patch series adds (integrations/sockudo-5.2.0-patches),
    // recorded by `crate::instrumented`.
    #[cfg(feature = "instrumented")]
    fn mark_ws_message_sent_on_channel(&self, app_id: &str, channel_name: &str, _size: usize) {
        crate::instrumented::message_sent_on_channel(&self.metrics, app_id, channel_name);
    }

    #[cfg(feature = "instrumented")]
    fn mark_ws_message_received_on_channel(&self, app_id: &str, channel_name: &str, _size: usize) {
        crate::instrumented::message_received_on_channel(&self.metrics, app_id, channel_name);
    }

    /// The catalogue has no broadcast latency, so the publish's start time is not used: with
    /// patch 0001 passing the start rather than the latency, no clock is read for it.
    #[cfg(feature = "instrumented")]
    fn mark_channel_broadcast(
        &self,
        app_id: &str,
        channel_name: &str,
        _size: usize,
        recipient_count: usize,
        _published_at_ms: Option<f64>,
    ) {
        crate::instrumented::channel_broadcast(&self.metrics, app_id, channel_name, recipient_count);
    }

    #[cfg(feature = "instrumented")]
    fn mark_client_event(&self, app_id: &str, channel_name: &str) {
        crate::instrumented::client_event(&self.metrics, app_id, channel_name);
    }

    #[cfg(feature = "instrumented")]
    fn mark_presence_member_added(&self, app_id: &str, _channel_name: &str) {
        crate::instrumented::presence_member_added(&self.metrics, app_id);
    }

    #[cfg(feature = "instrumented")]
    fn mark_presence_member_removed(&self, app_id: &str, _channel_name: &str) {
        crate::instrumented::presence_member_removed(&self.metrics, app_id);
    }

    #[cfg(feature = "instrumented")]
    fn track_http_request(&self, method: &str, route: &str, status: u16, latency_ms: f64, size: u64) {
        crate::instrumented::http_request(&self.routes, method, route, status, latency_ms, size);
    }

    #[cfg(feature = "instrumented")]
    fn track_webhook_delivery(&self, app_id: &str, events: &[&str], success: bool, latency_ms: f64) {
        crate::instrumented::webhook_delivery(&self.metrics, app_id, events, success, latency_ms);
    }

    #[cfg(feature = "instrumented")]
    fn mark_cache_operation(&self, cache: &str, operation: &str, hit: Option<bool>) {
        crate::instrumented::cache_operation(&self.metrics, cache, operation, hit);
    }

    #[cfg(feature = "instrumented")]
    fn track_adapter_operation(&self, adapter: &str, operation: &str, success: bool, latency_ms: f64) {
        crate::instrumented::adapter_operation(&self.metrics, adapter, operation, success, latency_ms);
    }

    async fn get_metrics_as_plaintext(&self) -> String {
        self.metrics.encode()
    }

    /// The exposition as `{name: value}` for unlabelled series and `{name: [{labels…, value}]}`
    /// otherwise, the shape of the stock driver's JSON.
    async fn get_metrics_as_json(&self) -> Value {
        exposition_to_json(&self.metrics.encode())
    }

    /// Counters are monotonic by contract (Prometheus handles resets by restart, not by request):
    /// clearing would read as a reset to every `rate()`. Nothing is cleared.
    async fn clear(&self) {
        tracing::info!("metrics clear requested: the sockudo-obs driver keeps its counters");
    }
}

/// The text exposition as JSON (see [`MetricsInterface::get_metrics_as_json`]).
pub fn exposition_to_json(text: &str) -> Value {
    use sonic_rs::{JsonContainerTrait, JsonValueMutTrait};
    let mut doc = sonic_rs::Object::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        // NaN and infinities have no JSON number: they become null.
        let value = Value::new_f64(value).unwrap_or_default();
        let Some((name, labels)) = series.split_once('{') else {
            doc.insert(&series, value);
            continue;
        };
        let mut entry = sonic_rs::Object::new();
        for (label, label_value) in parse_labels(labels.strip_suffix('}').unwrap_or(labels)) {
            entry.insert(&label, Value::from(label_value.as_str()));
        }
        entry.insert(&"value", value);
        if doc.get(&name).and_then(|v| v.as_array()).is_none() {
            doc.insert(&name, Value::from(sonic_rs::Array::new()));
        }
        if let Some(list) = doc.get_mut(&name).and_then(|v| v.as_array_mut()) {
            list.push(Value::from(entry));
        }
    }
    Value::from(doc)
}

/// `a="1",b="x\"y"` as pairs, with the text format's escapes undone.
fn parse_labels(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    while let Some((name, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, other)) => value.push(other),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        pairs.push((name.trim_start_matches(',').to_string(), value));
        rest = &after[end..];
    }
    pairs
}
