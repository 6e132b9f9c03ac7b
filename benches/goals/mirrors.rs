//! The catalogue's series rebuilt in the `prometheus`, `prometheus-client` and
//! `metrics-exporter-prometheus` crates, from a gathered snapshot of ours.

use prometheus::core::{MetricVec, MetricVecBuilder};
use prometheus::proto::{Metric, MetricFamily, MetricType};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry};

/// Label names and per-series label values of a gathered family.
pub fn label_table(mf: &MetricFamily) -> (Vec<String>, Vec<Vec<String>>) {
    let names = mf.get_metric()[0]
        .get_label()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    let values = mf
        .get_metric()
        .iter()
        .map(|m| m.get_label().iter().map(|p| p.value().to_string()).collect())
        .collect();
    (names, values)
}

pub fn buckets_of(mf: &MetricFamily) -> Vec<f64> {
    mf.get_metric()[0]
        .get_histogram()
        .get_bucket()
        .iter()
        .map(|b| b.upper_bound())
        .collect()
}

fn str_refs(values: &[String]) -> Vec<&str> {
    values.iter().map(String::as_str).collect()
}

/// The same series in the `prometheus` crate's own vecs.
pub struct PromMirror {
    pub registry: Registry,
    pub series: usize,
}

impl PromMirror {
    pub fn new(snapshot: &[MetricFamily]) -> PromMirror {
        let registry = Registry::new();
        let mut series = 0;
        for mf in snapshot {
            let (names, values) = label_table(mf);
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let opts = Opts::new(mf.name(), mf.help());
            series += values.len();
            let metrics = mf.get_metric();
            match mf.get_field_type() {
                MetricType::COUNTER => {
                    let vec = IntCounterVec::new(opts, &names).unwrap();
                    mirror(&registry, vec, &values, metrics, |c, m| {
                        c.inc_by(m.get_counter().get_value() as u64)
                    });
                }
                MetricType::GAUGE => {
                    let vec = IntGaugeVec::new(opts, &names).unwrap();
                    mirror(&registry, vec, &values, metrics, |g, m| {
                        g.set(m.get_gauge().get_value() as i64)
                    });
                }
                _ => {
                    let opts = HistogramOpts::new(mf.name(), mf.help()).buckets(buckets_of(mf));
                    let vec = HistogramVec::new(opts, &names).unwrap();
                    mirror(&registry, vec, &values, metrics, |h, _| h.observe(0.003));
                }
            }
        }
        PromMirror { registry, series }
    }
}

/// One series of `vec` per label set in `values`, each given its value from the gathered
/// metric by `set`; then `vec` is registered.
fn mirror<B: MetricVecBuilder + 'static>(
    registry: &Registry,
    vec: MetricVec<B>,
    values: &[Vec<String>],
    metrics: &[Metric],
    set: impl Fn(&B::M, &Metric),
) {
    for (v, m) in values.iter().zip(metrics) {
        set(&vec.with_label_values(&str_refs(v)), m);
    }
    registry.register(Box::new(vec)).unwrap();
}

type ClientLabels = Vec<(String, String)>;

/// The same series in `prometheus-client`.
pub struct ClientMirror {
    pub registry: prometheus_client::registry::Registry,
}

impl ClientMirror {
    pub fn new(snapshot: &[MetricFamily]) -> ClientMirror {
        use prometheus_client::metrics::counter::Counter;
        use prometheus_client::metrics::family::Family;
        use prometheus_client::metrics::gauge::Gauge;
        use prometheus_client::metrics::histogram::Histogram;

        let mut registry = prometheus_client::registry::Registry::default();
        for mf in snapshot {
            let (names, values) = label_table(mf);
            let set =
                |v: &Vec<String>| -> ClientLabels { names.iter().cloned().zip(v.iter().cloned()).collect() };
            let metrics = mf.get_metric();
            match mf.get_field_type() {
                MetricType::COUNTER => {
                    let family = Family::<ClientLabels, Counter>::default();
                    fill(&family, set, &values, metrics, |c, m| {
                        c.inc_by(m.get_counter().get_value() as u64);
                    });
                    // prometheus-client appends `_total` itself.
                    let name = mf.name().strip_suffix("_total").unwrap_or(mf.name());
                    registry.register(name, mf.help(), family);
                }
                MetricType::GAUGE => {
                    let family = Family::<ClientLabels, Gauge>::default();
                    fill(&family, set, &values, metrics, |g, m| {
                        g.set(m.get_gauge().get_value() as i64);
                    });
                    registry.register(mf.name(), mf.help(), family);
                }
                _ => {
                    let constructor = histogram_constructor(&buckets_of(mf));
                    let family = Family::<ClientLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                        constructor,
                    );
                    fill(&family, set, &values, metrics, |h, _| h.observe(0.003));
                    registry.register(mf.name(), mf.help(), family);
                }
            }
        }
        ClientMirror { registry }
    }
}

/// One series of `family` per label set in `values` (labelled by `labels`), each given its
/// value from the gathered metric by `set`.
fn fill<M, C: prometheus_client::metrics::family::MetricConstructor<M>>(
    family: &prometheus_client::metrics::family::Family<ClientLabels, M, C>,
    labels: impl Fn(&Vec<String>) -> ClientLabels,
    values: &[Vec<String>],
    metrics: &[Metric],
    set: impl Fn(&M, &Metric),
) {
    for (v, m) in values.iter().zip(metrics) {
        set(&family.get_or_create(&labels(v)), m);
    }
}

/// prometheus-client wants a `fn` per bucket layout; the catalogue has four.
fn histogram_constructor(buckets: &[f64]) -> fn() -> prometheus_client::metrics::histogram::Histogram {
    use prometheus_client::metrics::histogram::Histogram;
    use sockudo_obs::catalogue::{ADAPTER_BUCKETS, JOB_BUCKETS, LATENCY_BUCKETS, SIZE_BUCKETS};
    if buckets == LATENCY_BUCKETS {
        || Histogram::new(LATENCY_BUCKETS.iter().copied())
    } else if buckets == JOB_BUCKETS {
        || Histogram::new(JOB_BUCKETS.iter().copied())
    } else if buckets == ADAPTER_BUCKETS {
        || Histogram::new(ADAPTER_BUCKETS.iter().copied())
    } else {
        assert_eq!(buckets, SIZE_BUCKETS);
        || Histogram::new(SIZE_BUCKETS.iter().copied())
    }
}

/// The same series in `metrics` + `metrics-exporter-prometheus`.
pub struct ExporterMirror {
    pub handle: metrics_exporter_prometheus::PrometheusHandle,
    _recorder: metrics_exporter_prometheus::PrometheusRecorder,
}

impl ExporterMirror {
    pub fn new(snapshot: &[MetricFamily]) -> ExporterMirror {
        use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
        let mut builder = PrometheusBuilder::new();
        for mf in snapshot
            .iter()
            .filter(|mf| mf.get_field_type() == MetricType::HISTOGRAM)
        {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(mf.name().to_string()), &buckets_of(mf))
                .unwrap();
        }
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for mf in snapshot {
                let name = mf.name().to_string();
                metrics::describe_counter!(name.clone(), mf.help().to_string());
                for m in mf.get_metric() {
                    let labels: Vec<metrics::Label> = m
                        .get_label()
                        .iter()
                        .map(|p| metrics::Label::new(p.name().to_string(), p.value().to_string()))
                        .collect();
                    match mf.get_field_type() {
                        MetricType::COUNTER => metrics::counter!(name.clone(), labels)
                            .increment(m.get_counter().get_value() as u64),
                        MetricType::GAUGE => {
                            metrics::gauge!(name.clone(), labels).set(m.get_gauge().get_value())
                        }
                        _ => metrics::histogram!(name.clone(), labels).record(0.003),
                    }
                }
            }
        });
        ExporterMirror {
            handle,
            _recorder: recorder,
        }
    }
}
