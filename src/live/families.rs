//! Registering the catalogue: one labelled family per [`CATALOGUE`] entry, under the configured
//! prefix, bound to the typed field the recording handles use.
//!
//! Registration iterates the catalogue, so names, help, labels and buckets are spelled once, there.
//! Binding a family to a field checks its kind and label list against the catalogue, because the
//! handles pass label values by position; and every catalogue entry must be bound, so a new
//! catalogue metric without a recording path fails at construction (and in the tests), not in
//! production dashboards.

use std::collections::HashMap;

use anyhow::{bail, Context};
use prometheus::core::Collector;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::catalogue::{
    Kind, Label, MetricDef, ADAPTER, ADAPTER_OPERATION, APP_ID, CACHE, CACHE_OPERATION, CATALOGUE,
    CHANNEL_TYPE, ENDPOINT, ERROR_TYPE, EVENT, LIMITER_TYPE, METHOD, QUEUE, STATUS,
};

/// Every catalogue family, typed.
pub(crate) struct Families {
    pub active_connections: IntGaugeVec,
    pub total_connections: IntCounterVec,
    pub connection_errors: IntCounterVec,
    pub connections_per_app: IntGaugeVec,
    pub messages_sent: IntCounterVec,
    pub messages_received: IntCounterVec,
    pub client_events: IntCounterVec,
    pub broadcast_messages: IntCounterVec,
    pub http_requests: IntCounterVec,
    pub http_request_duration: HistogramVec,
    pub http_response_size: HistogramVec,
    pub active_channels: IntGaugeVec,
    pub channel_subscriptions: IntCounterVec,
    pub channel_unsubscriptions: IntCounterVec,
    pub presence_members: IntGaugeVec,
    pub rate_limit_triggered: IntCounterVec,
    pub rate_limit_checks: IntCounterVec,
    pub queue_jobs_processed: IntCounterVec,
    pub queue_jobs_failed: IntCounterVec,
    pub queue_active_jobs: IntGaugeVec,
    pub queue_job_duration: HistogramVec,
    pub webhooks_sent: IntCounterVec,
    pub webhooks_failed: IntCounterVec,
    pub webhook_duration: HistogramVec,
    pub cache_hits: IntCounterVec,
    pub cache_misses: IntCounterVec,
    pub cache_operations: IntCounterVec,
    pub cache_memory_usage: IntGaugeVec,
    pub adapter_operations: IntCounterVec,
    pub adapter_errors: IntCounterVec,
    pub adapter_latency: HistogramVec,
}

impl Families {
    /// Registers every catalogue metric in `registry`, each named `prefix + name`.
    pub(crate) fn register(registry: &Registry, prefix: &str) -> anyhow::Result<Families> {
        let mut r = Registered::all(registry, prefix)?;
        let families = Families {
            active_connections: r.take("active_connections", &[APP_ID], Built::gauge)?,
            total_connections: r.take("total_connections", &[APP_ID], Built::counter)?,
            connection_errors: r.take("connection_errors_total", &[APP_ID, ERROR_TYPE], Built::counter)?,
            connections_per_app: r.take("connections_per_app", &[APP_ID], Built::gauge)?,
            messages_sent: r.take("messages_sent_total", &[APP_ID, CHANNEL_TYPE], Built::counter)?,
            messages_received: r.take("messages_received_total", &[APP_ID, CHANNEL_TYPE], Built::counter)?,
            client_events: r.take("client_events_total", &[APP_ID, CHANNEL_TYPE], Built::counter)?,
            broadcast_messages: r.take(
                "broadcast_messages_total",
                &[APP_ID, CHANNEL_TYPE],
                Built::counter,
            )?,
            http_requests: r.take("http_requests_total", &[METHOD, ENDPOINT, STATUS], Built::counter)?,
            http_request_duration: r.take(
                "http_request_duration_seconds",
                &[METHOD, ENDPOINT],
                Built::histogram,
            )?,
            http_response_size: r.take("http_response_size_bytes", &[METHOD, ENDPOINT], Built::histogram)?,
            active_channels: r.take("active_channels", &[APP_ID, CHANNEL_TYPE], Built::gauge)?,
            channel_subscriptions: r.take(
                "channel_subscriptions_total",
                &[APP_ID, CHANNEL_TYPE],
                Built::counter,
            )?,
            channel_unsubscriptions: r.take(
                "channel_unsubscriptions_total",
                &[APP_ID, CHANNEL_TYPE],
                Built::counter,
            )?,
            presence_members: r.take("presence_members", &[APP_ID], Built::gauge)?,
            rate_limit_triggered: r.take(
                "rate_limit_triggered_total",
                &[APP_ID, LIMITER_TYPE],
                Built::counter,
            )?,
            rate_limit_checks: r.take("rate_limit_checks_total", &[APP_ID, LIMITER_TYPE], Built::counter)?,
            queue_jobs_processed: r.take("queue_jobs_processed_total", &[QUEUE], Built::counter)?,
            queue_jobs_failed: r.take("queue_jobs_failed_total", &[QUEUE], Built::counter)?,
            queue_active_jobs: r.take("queue_active_jobs", &[QUEUE], Built::gauge)?,
            queue_job_duration: r.take("queue_job_duration_seconds", &[QUEUE], Built::histogram)?,
            webhooks_sent: r.take("webhooks_sent_total", &[APP_ID, EVENT], Built::counter)?,
            webhooks_failed: r.take("webhooks_failed_total", &[APP_ID, EVENT], Built::counter)?,
            webhook_duration: r.take("webhook_duration_seconds", &[APP_ID], Built::histogram)?,
            cache_hits: r.take("cache_hits_total", &[CACHE], Built::counter)?,
            cache_misses: r.take("cache_misses_total", &[CACHE], Built::counter)?,
            cache_operations: r.take(
                "cache_operations_total",
                &[CACHE, CACHE_OPERATION],
                Built::counter,
            )?,
            cache_memory_usage: r.take("cache_memory_usage_bytes", &[CACHE], Built::gauge)?,
            adapter_operations: r.take(
                "adapter_operations_total",
                &[ADAPTER, ADAPTER_OPERATION],
                Built::counter,
            )?,
            adapter_errors: r.take(
                "adapter_errors_total",
                &[ADAPTER, ADAPTER_OPERATION],
                Built::counter,
            )?,
            adapter_latency: r.take(
                "adapter_latency_seconds",
                &[ADAPTER, ADAPTER_OPERATION],
                Built::histogram,
            )?,
        };
        r.finish()?;
        Ok(families)
    }
}

/// A registered family of whichever kind the catalogue says.
enum Built {
    Counter(IntCounterVec),
    Gauge(IntGaugeVec),
    Histogram(HistogramVec),
}

impl Built {
    fn new(def: &MetricDef, prefix: &str) -> prometheus::Result<Built> {
        let name = def.full_name(prefix);
        let labels: Vec<&str> = def.label_names().collect();
        Ok(match def.kind {
            Kind::Counter => Built::Counter(IntCounterVec::new(Opts::new(name, def.help), &labels)?),
            Kind::Gauge => Built::Gauge(IntGaugeVec::new(Opts::new(name, def.help), &labels)?),
            Kind::Histogram => Built::Histogram(HistogramVec::new(
                HistogramOpts::new(name, def.help).buckets(def.buckets.to_vec()),
                &labels,
            )?),
        })
    }

    fn collector(&self) -> Box<dyn Collector> {
        match self {
            Built::Counter(c) => Box::new(c.clone()),
            Built::Gauge(g) => Box::new(g.clone()),
            Built::Histogram(h) => Box::new(h.clone()),
        }
    }

    fn counter(self) -> Option<IntCounterVec> {
        match self {
            Built::Counter(c) => Some(c),
            _ => None,
        }
    }

    fn gauge(self) -> Option<IntGaugeVec> {
        match self {
            Built::Gauge(g) => Some(g),
            _ => None,
        }
    }

    fn histogram(self) -> Option<HistogramVec> {
        match self {
            Built::Histogram(h) => Some(h),
            _ => None,
        }
    }
}

/// The registered families not yet bound to a field, by unprefixed name.
struct Registered(HashMap<&'static str, (&'static MetricDef, Built)>);

impl Registered {
    fn all(registry: &Registry, prefix: &str) -> anyhow::Result<Registered> {
        let mut out = HashMap::with_capacity(CATALOGUE.len());
        for def in CATALOGUE {
            let built = Built::new(def, prefix)
                .and_then(|built| registry.register(built.collector()).map(|()| built))
                .with_context(|| format!("cannot register metric {}", def.full_name(prefix)))?;
            out.insert(def.name, (def, built));
        }
        Ok(Registered(out))
    }

    /// Takes the family `name`, checking it has the labels the handles will pass, in that order.
    fn take<T>(&mut self, name: &str, labels: &[Label], pick: fn(Built) -> Option<T>) -> anyhow::Result<T> {
        let Some((def, built)) = self.0.remove(name) else {
            bail!("{name} is not in the catalogue (or is bound twice)");
        };
        if def.labels != labels {
            bail!("{name}: the recording handles pass labels the catalogue does not list in this order");
        }
        pick(built).with_context(|| format!("{name} is a {} in the catalogue", def.kind.as_str()))
    }

    fn finish(self) -> anyhow::Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut unbound: Vec<_> = self.0.keys().copied().collect();
        unbound.sort_unstable();
        bail!(
            "catalogue metrics without a recording handle: {}",
            unbound.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_metric_is_registered_and_bound() {
        let registry = Registry::new();
        Families::register(&registry, "t_").expect("the catalogue registers and every entry is bound");
        // Families without children are not gathered: no series exist before a handle is resolved.
        assert!(registry.gather().is_empty());
    }

    #[test]
    fn a_prefix_that_is_not_a_metric_name_is_an_error() {
        let err = Families::register(&Registry::new(), "my-company_").err().unwrap();
        assert!(
            format!("{err:#}").contains("my-company_active_connections"),
            "{err:#}"
        );
    }

    #[test]
    fn registering_twice_in_one_registry_names_the_clash() {
        let registry = Registry::new();
        Families::register(&registry, "t_").unwrap();
        let err = Families::register(&registry, "t_").err().unwrap();
        assert!(format!("{err:#}").contains("t_active_connections"), "{err:#}");
    }
}
