//! The live side, linked into the server: [`Metrics`] registers every catalogue metric, hands out
//! pre-resolved recording handles, and the [`Exporter`] serves them on `/metrics`.
//!
//! # Usage
//! [`Metrics::new`] (or [`Metrics::builder`], for the host's registry and other [`Limits`]) is the
//! one way in; resolve a handle once per app, route, queue, cache or adapter and record through
//! it; serve with an [`Exporter`], or mount [`Metrics::encode_to`] on a router of your own (with
//! the `axum` feature, `HttpMetricsLayer` records that router's requests).
//!
//! ```
//! use std::time::Duration;
//! use sockudo_obs_live::{ChannelType, Exporter, HttpMethod, Limits, Metrics};
//! use sockudo_obs_live::MetricsConfig;
//!
//! # fn main() -> sockudo_obs_live::Result<()> {
//! let config = MetricsConfig::default();
//! let metrics = Metrics::new(&config)?;
//!
//! // Resolve once per app (a lock-free lookup after the first time) and keep it in the
//! // connection's state (a clone is an `Arc` clone); each recording call is then one atomic add.
//! let app = metrics.app("app-1").clone();
//! app.connection_opened();
//! app.channel_subscribed(ChannelType::of_channel("presence-room"));
//! app.message_sent(ChannelType::Public);
//! app.broadcast(ChannelType::Private, 25);
//!
//! let events = metrics.http_route(HttpMethod::Post, "/apps/:app_id/events");
//! events.request_done(200, Duration::from_millis(12), 2);
//!
//! let text = metrics.encode();
//! assert!(text.contains(r#"sockudo_messages_sent_total{app_id="app-1",channel_type="public"} 1"#));
//! assert!(text.contains(r#"sockudo_messages_sent_total{app_id="app-1",channel_type="private"} 25"#));
//!
//! // Options: the host's own registry (its metrics are served too) and other caps.
//! let registry = prometheus::Registry::new();
//! let capped = Metrics::builder(&config)
//!     .registry(registry)
//!     .limits(Limits { apps: 10, ..Limits::default() })
//!     .build()?;
//!
//! // Serve /metrics: bind first (a taken port is an error here), then run until shutdown.
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let bound = Exporter::new(capped).bind("127.0.0.1:0").await?;
//!     println!("serving http://{}/metrics", bound.local_addr());
//!     // A real server passes its shutdown signal; this one stops at once.
//!     bound.run(async {}).await
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! # Layers
//! Each module has one job, and its imports point only up this table: a module uses rows above
//! its own, never its own row or one below (`tests/hardening/layers.rs` reads every file and holds it to
//! that, so there is no import circle).
//!
//! | layer | modules | job | uses |
//! |---|---|---|---|
//! | sync | `sync` | std's atomics, locks and cells, or loom's (the `loom` feature, tests only) | — |
//! | domains | `labels`, `limits` | closed label domains (declared in the catalogue), caps | — |
//! | text | `text` | text format 0.0.4 primitives: fixed family bytes, numbers, escaping | — |
//! | store | `store` | counter storage: sharded cells in slabs, the scrape's totals | sync |
//! | table | `table` | the handle caches' insert-only hash table | sync |
//! | family | `family` | one metric's series and the `SeriesValue` trait | text, store |
//! | kinds | `counter`, `gauge`, `histogram` | one series value per metric kind | text, store, family |
//! | collector | `collector` | each family's `prometheus::Collector`; muting while we gather | store, family |
//! | registration | `registration` | the catalogue's declarations as typed, registered families | store, family, kinds, collector |
//! | exposition | `exposition` | our families merged by name with the host's metrics | store, family, collector |
//! | resolve | `resolve` | label values turned into handles once, capped | domains, kinds, table |
//! | handles | `app`, `http`, `queue`, `cache`, `adapter` | the recording handles | domains, store, kinds, registration, resolve |
//! | `Metrics` | this module | construction, handle caches, `encode*` | everything above |
//! | serving | `exporter` (`mod`: bind and accept loop, `admission`: connection cap, `routes`), `http_layer` | `/metrics` over HTTP, the axum layer | `Metrics`, domains, resolve |
//!
//! # Design (see `BENCHMARKS.md` for the figures)
//! - **Own storage.** Series live in our own `family` storage, not in `prometheus::*Vec`s: a
//!   pre-rendered `name{labels}` string plus a series value, one file per kind (`counter`,
//!   `gauge`, `histogram`).
//! - **Sharded counters.** A handle's counters sit in one block with a cache-line-padded slice
//!   per shard (`store`); a thread adds to its own shard, so threads recording for the same app
//!   never share a cache line. Blocks are carved one after the other out of shared slabs, so a
//!   scrape sums every block's shards in one pass through memory, and families read those totals.
//! - **Direct encoder.** `exposition` writes our families straight from that storage; each family
//!   is also registered in the `prometheus::Registry` as a `Collector` (`collector`), so
//!   `registry.gather()` still returns everything for hosts that encode it themselves, and the
//!   host's own metrics in the same registry are gathered (ours muted) and merged in name order.
//!   Output is byte for byte `TextEncoder`'s.
//! - **Caps.** Free-form labels are capped by [`Limits`]; past a cap new values share the
//!   [`OVERFLOW_LABEL`] series and are counted in `label_overflow_total`.
//!
//! # What each call counts
//! Failure counters are subsets of their attempt counters (`webhooks_failed` ⊆ `webhooks_sent`,
//! `queue_jobs_failed` ⊆ `queue_jobs_processed`, `adapter_errors` ⊆ `adapter_operations`,
//! `rate_limit_triggered` ⊆ `rate_limit_checks`), so `failed / attempts` is a ratio. A broadcast is
//! counted once, with its fan-out: see [`AppMetrics::broadcast`].
//!
//! # When series appear
//! Resolving a handle creates, at 0, every series it will record, so `rate()` has data from the
//! first scrape. The families in [`FIRST_USE_FAMILIES`] carry a label whose values cannot be known
//! in advance; their series appear on first use.

mod adapter;
mod app;
mod cache;
mod collector;
mod counter;
mod exporter;
mod exposition;
mod family;
mod gauge;
mod histogram;
mod http;
#[cfg(feature = "axum")]
mod http_layer;
mod labels;
mod limits;
mod queue;
mod registration;
mod resolve;
mod store;
mod sync;
mod table;
mod text;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use prometheus::Registry;

pub use crate::config::MetricsConfig;
// The layer below, under the names this crate's modules use (`crate::catalogue::MetricId`).
use collector::Owner;
use counter::Counter;
use gauge::Gauge;
use registration::Families;
use resolve::{HandleCache, Name, PerValue};
use sockudo_obs_catalogue::{catalogue, config};
/// Every fallible call's error, the catalogue crate's: a server linking this crate alone needs no other.
pub use sockudo_obs_catalogue::{Error, ErrorKind, Result};

pub use adapter::AdapterMetrics;
pub use app::AppMetrics;
pub use cache::CacheMetrics;
pub use exporter::{
    BoundExporter, ControlHandler, ControlRoute, Exporter, DEFAULT_BODY_READ_TIMEOUT,
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS, METRICS_PATH,
};
pub use http::{RouteMetrics, RouteTemplates, UNMATCHED_ENDPOINT};
#[cfg(feature = "axum")]
pub use http_layer::{HttpMetrics, HttpMetricsLayer};
pub use labels::{
    AdapterOperation, CacheOperation, CappedLabel, ChannelType, ErrorType, HttpMethod, LabelValue,
    LimiterType, UnknownLabelValue,
};
pub use limits::Limits;
pub use queue::QueueMetrics;
pub use resolve::{MAX_LABEL_VALUE_LEN, OVERFLOW_LABEL};

pub use crate::catalogue::FIRST_USE_FAMILIES;

/// Every catalogue metric, registered and ready to record. Cloning is an `Arc` clone.
#[derive(Clone)]
pub struct Metrics(Arc<Shared>);

struct Shared {
    enabled: bool,
    prefix: String,
    /// The registry `/metrics` serves. When metrics are disabled the catalogue is registered in a
    /// private registry instead (recording stays branch-free and goes nowhere), and nothing is
    /// served.
    registry: Registry,
    /// Tells our collectors in `registry` apart from the host's (see [`collector`]).
    owner: Owner,
    families: Families,
    limits: Limits,
    /// `label_overflow_total`, one counter per capped label.
    folded: PerValue<CappedLabel, Counter, { CappedLabel::COUNT }>,
    apps: HandleCache<Name, AppMetrics>,
    routes: HandleCache<(HttpMethod, &'static str), RouteMetrics>,
    queues: HandleCache<Name, QueueMetrics>,
    caches: HandleCache<Name, CacheMetrics>,
    adapters: HandleCache<Name, AdapterMetrics>,
    /// The size of the last exposition, reserved up front so the next one does not regrow.
    last_len: AtomicUsize,
}

/// Options for [`Metrics`] beyond the config: the registry to register in and the [`Limits`].
#[must_use]
pub struct MetricsBuilder<'c> {
    config: &'c MetricsConfig,
    registry: Option<Registry>,
    limits: Limits,
}

impl MetricsBuilder<'_> {
    /// Register in `registry`, which the host may also use for metrics of its own (process
    /// metrics, ...): `/metrics` serves everything in it.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Cap the free-form labels and size the counter shards with `limits` (default
    /// [`Limits::default`]).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Registers the catalogue. Fails when a name is taken or the prefix makes names invalid.
    pub fn build(self) -> crate::Result<Metrics> {
        let MetricsBuilder {
            config,
            registry,
            limits,
        } = self;
        let registry = registry.unwrap_or_default();
        let owner = collector::new_owner();
        let shards = limits.shard_count();
        let families = if config.enabled {
            Families::register(&registry, &config.prefix, owner, shards)?
        } else {
            Families::register(&Registry::new(), &config.prefix, owner, shards)?
        };
        // Every capped label's overflow count exists from the start, so alerts see a 0.
        let folded = PerValue::resolve(&[], |v| {
            Counter::register(&families.label_overflow_total, v, &families.counters)
        });
        let fold = |label: CappedLabel| folded.get(label).clone();
        Gauge::register(&families.build_info, &[env!("CARGO_PKG_VERSION"), &config.prefix]).set(1);
        Ok(Metrics(Arc::new(Shared {
            enabled: config.enabled,
            prefix: config.prefix.clone(),
            registry,
            owner,
            apps: HandleCache::names(limits.apps, fold(CappedLabel::AppId)),
            routes: HandleCache::bounded(
                limits.routes,
                (HttpMethod::Get, OVERFLOW_LABEL),
                fold(CappedLabel::Endpoint),
            ),
            queues: HandleCache::names(limits.queues, fold(CappedLabel::Queue)),
            caches: HandleCache::names(limits.caches, fold(CappedLabel::Cache)),
            adapters: HandleCache::names(limits.adapters, fold(CappedLabel::Adapter)),
            families,
            limits,
            folded,
            last_len: AtomicUsize::new(0),
        })))
    }
}

impl Metrics {
    /// Registers the catalogue, under `config.prefix`, in a new registry of its own, with the
    /// default [`Limits`]: `Metrics::builder(config).build()`. Fails when the prefix makes names
    /// invalid.
    pub fn new(config: &MetricsConfig) -> crate::Result<Metrics> {
        Metrics::builder(config).build()
    }

    /// [`new`](Self::new) with options: the host's registry ([`MetricsBuilder::registry`]) and
    /// other caps ([`MetricsBuilder::limits`]).
    pub fn builder(config: &MetricsConfig) -> MetricsBuilder<'_> {
        MetricsBuilder {
            config,
            registry: None,
            limits: Limits::default(),
        }
    }

    /// False when `metrics.enabled` is off: recording goes nowhere and nothing should be served.
    pub fn is_enabled(&self) -> bool {
        self.0.enabled
    }

    /// The prefix every catalogue name carries.
    pub fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// The caps in force.
    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    /// The registry `/metrics` serves; register host metrics here. `registry.gather()` returns
    /// the catalogue's series too, for hosts that encode it themselves.
    pub fn registry(&self) -> &Registry {
        &self.0.registry
    }

    /// How many series the catalogue families hold (host metrics not included).
    pub fn series_count(&self) -> usize {
        self.0.families.series_count()
    }

    /// The handles of one app; resolved (and zero-initialised) on the first call, a lock-free
    /// lookup afterwards. Handles live as long as `self` and are never replaced; clone them (an
    /// `Arc` clone) to keep them, rather than calling this per message.
    // Inlined into the caller (a driver method per message): the hit path is a few dozen
    // instructions, and a call would add its own prologue.
    #[inline]
    pub fn app(&self, app_id: &str) -> &AppMetrics {
        let shared = &*self.0;
        shared.apps.name(app_id, |app_id| {
            let events = shared.folded.get(CappedLabel::Event).clone();
            AppMetrics::resolve(
                &shared.families,
                app_id,
                shared.limits.webhook_events_per_app,
                events,
            )
        })
    }

    /// Runs `record` with the handles of `app_id`, the same ones [`app`](Self::app) returns: for
    /// a caller that gets only the id with each event, like a metrics-trait driver.
    ///
    /// ```
    /// # use sockudo_obs_live::{ChannelType, Metrics, MetricsConfig};
    /// # let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
    /// let channel = ChannelType::of_channel("presence-room");
    /// metrics.with_app("app-1", |app| app.broadcast(channel, 25));
    /// ```
    // The lookup of a known app id of 8 to 16 bytes is inlined with no call in it, and anything
    // else is a call out of line in tail position, so a caller that does nothing else saves no
    // registers: in the real server the saves and spills were a sixth of a driver call.
    #[inline(always)]
    pub fn with_app(&self, app_id: &str, record: impl FnOnce(&AppMetrics)) {
        match self.0.apps.quick_name(app_id) {
            Some(app) => record(app),
            None => self.with_new_app(app_id, record),
        }
    }

    #[cold]
    #[inline(never)]
    fn with_new_app(&self, app_id: &str, record: impl FnOnce(&AppMetrics)) {
        record(self.app(app_id));
    }

    /// The handles of one HTTP route. `endpoint` is the route template (`/apps/:app_id/events`),
    /// never the request path: it is `'static` so that a raw path cannot end up as a label value.
    pub fn http_route(&self, method: HttpMethod, endpoint: &'static str) -> &RouteMetrics {
        let shared = &*self.0;
        shared
            .routes
            .get_or_resolve(&(method, endpoint), |&(method, endpoint)| {
                RouteMetrics::resolve(&shared.families, method, endpoint)
            })
    }

    /// The handles of one job queue.
    pub fn queue(&self, name: &str) -> &QueueMetrics {
        let shared = &*self.0;
        shared
            .queues
            .name(name, |name| QueueMetrics::resolve(&shared.families, name))
    }

    /// The handles of one cache.
    pub fn cache(&self, name: &str) -> &CacheMetrics {
        let shared = &*self.0;
        shared
            .caches
            .name(name, |name| CacheMetrics::resolve(&shared.families, name))
    }

    /// The handles of one adapter.
    pub fn adapter(&self, name: &str) -> &AdapterMetrics {
        let shared = &*self.0;
        shared
            .adapters
            .name(name, |name| AdapterMetrics::resolve(&shared.families, name))
    }

    /// Appends the Prometheus text exposition of the served registry to `out`; nothing when
    /// metrics are disabled. For servers that mount `/metrics` on their own router.
    ///
    /// The output is byte for byte `TextEncoder::encode(&registry.gather())`, at a fraction of
    /// the cost: the catalogue families are written straight from their storage and only the
    /// host's own metrics go through `gather()` (see `BENCHMARKS.md`).
    pub fn encode_to(&self, out: &mut Vec<u8>) -> prometheus::Result<()> {
        let shared = &*self.0;
        if !shared.enabled {
            return Ok(());
        }
        let start = out.len();
        out.reserve(shared.last_len.load(Ordering::Relaxed));
        let result = self.encode_with(out, &mut |_| {});
        shared.last_len.store(out.len() - start, Ordering::Relaxed);
        result
    }

    /// The same exposition as [`Metrics::encode_to`], gzip-compressed into `out` (empty when
    /// metrics are disabled, like the text). The text is compressed as it is written, a family
    /// at a time through a buffer of about [`GZIP_CHUNK`] bytes, so only the compressed body is
    /// ever held whole. Level 1 (`Compression::fast`), the cheapest: a scrape is mostly
    /// repeated names and labels, which it already shrinks about 20× (see `BENCHMARKS.md`).
    pub fn encode_gzip_to(&self, out: &mut Vec<u8>) -> std::io::Result<()> {
        use std::io::Write as _;
        if !self.0.enabled {
            return Ok(());
        }
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        let mut text = Vec::with_capacity(2 * GZIP_CHUNK);
        let mut failed = None;
        let mut compress = |text: &mut Vec<u8>, gz: &mut flate2::write::GzEncoder<&mut Vec<u8>>| {
            if failed.is_none() {
                failed = gz.write_all(text).err();
            }
            text.clear();
        };
        let result = self.encode_with(&mut text, &mut |text| {
            if text.len() >= GZIP_CHUNK {
                compress(text, &mut gz);
            }
        });
        compress(&mut text, &mut gz);
        result.map_err(std::io::Error::other)?;
        if let Some(err) = failed {
            return Err(err);
        }
        gz.finish().map(|_| ())
    }

    /// Writes the exposition into `out`, letting `drain` take it after each family.
    fn encode_with(&self, out: &mut Vec<u8>, drain: &mut dyn FnMut(&mut Vec<u8>)) -> prometheus::Result<()> {
        let shared = &*self.0;
        let families = &shared.families;
        let totals = families.counters.totals();
        exposition::encode(&families.all, &totals, &shared.registry, shared.owner, out, drain)
    }

    /// The Prometheus text exposition as a string (empty when metrics are disabled).
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        // The encoder only fails on a host family without series or a failing writer (a Vec
        // never fails); should that change, serve what was written.
        let result = self.encode_to(&mut out);
        debug_assert!(result.is_ok(), "{result:?}");
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// How much text [`Metrics::encode_gzip_to`] gathers before compressing it (a family is written
/// whole first, so a big family may overshoot it).
pub const GZIP_CHUNK: usize = 64 * 1024;

/// The content type of [`Metrics::encode`]'s output: the text format 0.0.4, in UTF-8 (the
/// `prometheus` crate's own constant leaves the charset out).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod error_tests {
    use std::error::Error as StdError;

    use sockudo_obs_catalogue::ErrorKind;

    use super::{Exporter, Metrics, MetricsConfig};

    #[test]
    fn a_taken_name_is_a_registration_error_naming_the_metric() {
        let config = MetricsConfig::default();
        let registry = prometheus::Registry::new();
        Metrics::builder(&config)
            .registry(registry.clone())
            .build()
            .unwrap();
        let err = Metrics::builder(&config)
            .registry(registry)
            .build()
            .err()
            .expect("a taken name");
        assert!(matches!(err.kind(), ErrorKind::Registration), "{err:#}");
        let name = err.key().expect("the metric's name");
        assert!(name.starts_with(&config.prefix), "{name}");
        assert_eq!(err.to_string(), format!("cannot register metric {name}"));
        assert!(StdError::source(&err).is_some(), "prometheus's own error");
    }

    #[test]
    fn an_address_that_cannot_be_bound_is_an_io_error() {
        let metrics = Metrics::new(&MetricsConfig::default()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime
            .block_on(Exporter::new(metrics).bind("no-such-host.invalid:notaport"))
            .err()
            .expect("the address does not parse");
        assert!(matches!(err.kind(), ErrorKind::Io), "{err:#}");
        assert!(err
            .to_string()
            .starts_with("cannot listen for /metrics on no-such-host.invalid:notaport"));
    }
}
