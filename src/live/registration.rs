//! Registration: one [`Family`] per [`CATALOGUE`] entry, registered and bound to a typed field.
//!
//! Each family is named under the configured prefix, registered in the `prometheus::Registry` and
//! bound to the field of [`Families`] the recording handles use.
//!
//! Registration iterates the catalogue, so names, help, labels and buckets are spelled once, there.
//! Binding a family to a field checks its kind and label list against the catalogue, because the
//! handles pass label values by position; and every catalogue entry must be bound, so a new
//! catalogue metric without a recording path fails at construction (and in the tests), not in
//! production dashboards.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{bail, Context};
use prometheus::Registry;

use super::collector::{FamilyCollector, Owner};
use super::counter::CounterCell;
use super::family::{AnyFamily, Family};
use super::gauge::Gauge;
use super::histogram::Histogram;
use super::store::CounterStore;
use crate::catalogue::{
    Kind, Label, MetricDef, ADAPTER, ADAPTER_OPERATION, APP_ID, CACHE, CACHE_OPERATION, CAPPED_LABEL,
    CATALOGUE, CHANNEL_TYPE, ENDPOINT, ERROR_TYPE, EVENT, LIMITER_TYPE, METHOD, QUEUE, STATUS,
};

pub(crate) type CounterFamily = Arc<Family<CounterCell>>;
pub(crate) type GaugeFamily = Arc<Family<Gauge>>;
pub(crate) type HistogramFamily = Arc<Family<Histogram>>;

/// Every catalogue family, typed.
pub(crate) struct Families {
    pub active_connections: GaugeFamily,
    pub total_connections: CounterFamily,
    pub connection_errors: CounterFamily,
    pub connections_per_app: GaugeFamily,
    pub messages_sent: CounterFamily,
    pub messages_received: CounterFamily,
    pub client_events: CounterFamily,
    pub broadcast_messages: CounterFamily,
    pub http_requests: CounterFamily,
    pub http_request_duration: HistogramFamily,
    pub http_response_size: HistogramFamily,
    pub active_channels: GaugeFamily,
    pub channel_subscriptions: CounterFamily,
    pub channel_unsubscriptions: CounterFamily,
    pub presence_members: GaugeFamily,
    pub rate_limit_triggered: CounterFamily,
    pub rate_limit_checks: CounterFamily,
    pub queue_jobs_processed: CounterFamily,
    pub queue_jobs_failed: CounterFamily,
    pub queue_active_jobs: GaugeFamily,
    pub queue_job_duration: HistogramFamily,
    pub webhooks_sent: CounterFamily,
    pub webhooks_failed: CounterFamily,
    pub webhook_duration: HistogramFamily,
    pub cache_hits: CounterFamily,
    pub cache_misses: CounterFamily,
    pub cache_operations: CounterFamily,
    pub cache_memory_usage: GaugeFamily,
    pub adapter_operations: CounterFamily,
    pub adapter_errors: CounterFamily,
    pub adapter_latency: HistogramFamily,
    pub label_overflow: CounterFamily,
    /// Every family, sorted by exposed name (the exposition's order).
    pub all: Vec<Arc<dyn AnyFamily>>,
    /// Every counter block, for the scrape to sum.
    pub counters: Arc<CounterStore>,
}

impl Families {
    /// Creates every catalogue family, named `prefix + name`, and registers it in `registry`
    /// as a collector belonging to `owner`.
    pub(crate) fn register(
        registry: &Registry,
        prefix: &str,
        owner: Owner,
        shards: usize,
    ) -> anyhow::Result<Families> {
        let counters = Arc::new(CounterStore::new(shards));
        let mut r = Registered::all(registry, prefix, owner, &counters)?;
        let mut all: Vec<Arc<dyn AnyFamily>> = r.0.values().map(|(_, built)| built.any()).collect();
        all.sort_by(|a, b| a.name().cmp(b.name()));
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
            label_overflow: r.take("label_overflow_total", &[CAPPED_LABEL], Built::counter)?,
            all,
            counters,
        };
        r.finish()?;
        Ok(families)
    }

    /// Series across every family.
    pub(crate) fn series_count(&self) -> usize {
        self.all.iter().map(|f| f.series_count()).sum()
    }
}

/// A family of whichever kind the catalogue says.
enum Built {
    Counter(CounterFamily),
    Gauge(GaugeFamily),
    Histogram(HistogramFamily),
}

impl Built {
    fn new(def: &'static MetricDef, prefix: &str) -> prometheus::Result<Built> {
        Ok(match def.kind {
            Kind::Counter => Built::Counter(Arc::new(Family::new(def, prefix)?)),
            Kind::Gauge => Built::Gauge(Arc::new(Family::new(def, prefix)?)),
            Kind::Histogram => Built::Histogram(Arc::new(Family::new(def, prefix)?)),
        })
    }

    fn any(&self) -> Arc<dyn AnyFamily> {
        match self {
            Built::Counter(c) => c.clone(),
            Built::Gauge(g) => g.clone(),
            Built::Histogram(h) => h.clone(),
        }
    }

    fn counter(self) -> Option<CounterFamily> {
        match self {
            Built::Counter(c) => Some(c),
            _ => None,
        }
    }

    fn gauge(self) -> Option<GaugeFamily> {
        match self {
            Built::Gauge(g) => Some(g),
            _ => None,
        }
    }

    fn histogram(self) -> Option<HistogramFamily> {
        match self {
            Built::Histogram(h) => Some(h),
            _ => None,
        }
    }
}

/// The registered families not yet bound to a field, by unprefixed name.
struct Registered(HashMap<&'static str, (&'static MetricDef, Built)>);

impl Registered {
    fn all(
        registry: &Registry,
        prefix: &str,
        owner: Owner,
        counters: &Arc<CounterStore>,
    ) -> anyhow::Result<Registered> {
        let mut out = HashMap::with_capacity(CATALOGUE.len());
        for def in CATALOGUE {
            let built = Built::new(def, prefix)
                .and_then(|built| {
                    let family = built.any();
                    registry
                        .register(Box::new(FamilyCollector {
                            family,
                            owner,
                            counters: counters.clone(),
                        }))
                        .map(|()| built)
                })
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

    fn register(registry: &Registry, prefix: &str) -> anyhow::Result<Families> {
        Families::register(registry, prefix, super::super::collector::new_owner(), 2)
    }

    #[test]
    fn every_catalogue_metric_is_registered_and_bound() {
        let registry = Registry::new();
        let families = register(&registry, "t_").expect("the catalogue registers and every entry is bound");
        assert_eq!(families.all.len(), CATALOGUE.len());
        assert!(families.all.windows(2).all(|w| w[0].name() < w[1].name()));
        // Families without series are not gathered: none exist before a handle is resolved.
        assert!(registry.gather().is_empty());
    }

    #[test]
    fn a_prefix_that_is_not_a_metric_name_is_an_error() {
        let err = register(&Registry::new(), "my-company_").err().unwrap();
        assert!(
            format!("{err:#}").contains("my-company_active_connections"),
            "{err:#}"
        );
    }

    #[test]
    fn registering_twice_in_one_registry_names_the_clash() {
        let registry = Registry::new();
        register(&registry, "t_").unwrap();
        let err = register(&registry, "t_").err().unwrap();
        assert!(format!("{err:#}").contains("t_active_connections"), "{err:#}");
    }
}
