//! Checks one PromQL expression against the catalogue under the active prefix: every metric is a
//! catalogue series or a recording rule of the bundle, every label exists on what it filters or
//! groups, counters only sit inside `rate`/`irate`/`increase` and gauges never do, and
//! `histogram_quantile` gets bucket rates aggregated by `le` and is compared against bucket bounds.
//!
//! Rule and dashboard checks both call [`check_expr`] with a [`Scope`] built from the model.

use std::collections::BTreeMap;

use promql_parser::label::{MatchOp, Matcher, METRIC_NAME};
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, VectorMatchCardinality, VectorSelector,
};

use super::Problem;
use sockudo_obs_model::catalogue::{resolve_in, Kind, MetricDef, SeriesSuffix, CATALOGUE};
use sockudo_obs_model::expr::{parse_promql, selector_name};
use sockudo_obs_model::external::{self, ExternalMetric, EXTERNAL_METRICS};
use sockudo_obs_model::model::Model;

/// Labels every scraped series carries, whatever the metric.
const TARGET_LABELS: [&str; 2] = ["job", "instance"];
/// Series Prometheus makes up itself, allowed in any expression.
const SCRAPE_HEALTH: &str = "up";
const ALERT_SERIES: [&str; 2] = ["ALERTS", "ALERTS_FOR_STATE"];
/// The functions a counter belongs in.
const COUNTER_FUNCTIONS: [&str; 3] = ["rate", "irate", "increase"];
/// Functions that only ask whether series exist, so any kind of series is fine inside them.
const PRESENCE_FUNCTIONS: [&str; 3] = ["absent", "absent_over_time", "present_over_time"];

/// What an expression may refer to: the catalogue under the active prefix, the bundle's recording
/// rules, and the labels the scrape config adds.
#[derive(Debug, Clone)]
pub struct Scope<'a> {
    /// The active metric name prefix.
    pub(crate) prefix: String,
    /// The metric table the names resolve against.
    pub(crate) catalogue: &'a [MetricDef],
    /// Every recording rule of the bundle, by name.
    pub(crate) recorded: BTreeMap<String, Recorded>,
    /// Labels allowed on any series besides `job` and `instance`: the external labels, and
    /// `namespace`/`pod` when the Kubernetes scrape job adds them.
    pub(crate) extra_labels: Vec<String>,
}

/// What the check knows about a recording rule's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Recorded {
    /// The labels it keeps, in `by` order; `None` when they cannot be worked out.
    pub labels: Option<Vec<String>>,
    /// The histogram whose bucket rates it records (`sum by (le, ...) (rate(x_bucket[5m]))`).
    pub bucket_of: Option<MetricDef>,
    /// The histogram whose quantile it records (`histogram_quantile(...)`).
    pub quantile_of: Option<MetricDef>,
}

/// What a selector's name refers to.
enum Series<'s> {
    Catalogue(MetricDef, SeriesSuffix),
    ScrapeHealth,
    Alerts,
    Recorded(&'s Recorded),
    /// A metric of the Prometheus or Alertmanager the bundle ships ([`sockudo_obs_model::external`]).
    External(&'static ExternalMetric),
    Unknown,
}

impl Scope<'static> {
    /// The scope of `model`, against the real catalogue.
    pub fn new(model: &Model) -> Scope<'static> {
        Scope::with_catalogue(model, CATALOGUE)
    }
}

impl<'a> Scope<'a> {
    /// The scope of `model` against `catalogue` (tests pass an edited copy to prove that renaming a
    /// metric breaks the specs that use it).
    pub(crate) fn with_catalogue(model: &Model, catalogue: &'a [MetricDef]) -> Scope<'a> {
        let prometheus = &model.profile.prometheus;
        let mut extra_labels: Vec<String> = prometheus.external_labels.keys().cloned().collect();
        // Every scrape path labels its targets with the path they came through.
        extra_labels.push(sockudo_obs_model::layout::DISCOVERY_LABEL.to_string());
        if prometheus.kubernetes_sd.enabled {
            extra_labels.extend(sockudo_obs_model::layout::KUBERNETES_LABELS.map(String::from));
        }
        let mut scope = Scope {
            prefix: model.prefix().to_string(),
            catalogue,
            recorded: BTreeMap::new(),
            extra_labels,
        };
        // In file order, so a rule may build on the rules before it.
        for (_, rule) in model.spec_rules.recording_rules() {
            if let Ok(expr) = parse_promql(&rule.expr) {
                let recorded = scope.describe(&expr);
                scope.recorded.insert(rule.record.clone(), recorded);
            }
        }
        scope
    }

    /// What a recording rule with this expression records.
    pub(crate) fn describe(&self, expr: &Expr) -> Recorded {
        Recorded {
            labels: self.output_labels(expr),
            bucket_of: self.bucket_rate_of(expr),
            quantile_of: self.quantile_of(expr),
        }
    }

    /// Every series name a selector may select: the catalogue's (a histogram's three), the
    /// recording rules', `up` and the alert series.
    fn known_names(&self) -> impl Iterator<Item = String> + '_ {
        let catalogue = self.catalogue.iter().flat_map(move |def| {
            let name = def.full_name(&self.prefix);
            match def.kind {
                Kind::Histogram => ["_bucket", "_sum", "_count"]
                    .map(|s| format!("{name}{s}"))
                    .to_vec(),
                _ => vec![name],
            }
        });
        let fixed = [SCRAPE_HEALTH]
            .into_iter()
            .chain(ALERT_SERIES)
            .chain(EXTERNAL_METRICS.iter().map(|m| m.name))
            .map(String::from);
        catalogue.chain(self.recorded.keys().cloned()).chain(fixed)
    }

    fn resolve(&self, name: &str) -> Series<'_> {
        if name == SCRAPE_HEALTH {
            return Series::ScrapeHealth;
        }
        if ALERT_SERIES.contains(&name) {
            return Series::Alerts;
        }
        if let Some(recorded) = self.recorded.get(name) {
            return Series::Recorded(recorded);
        }
        if let Some(metric) = external::find(name) {
            return Series::External(metric);
        }
        match resolve_in(self.catalogue, &self.prefix, name) {
            Some((def, suffix)) => Series::Catalogue(*def, suffix),
            None => Series::Unknown,
        }
    }

    /// The catalogue metric a recording rule name's middle part refers to: the exposed name, or
    /// the exposed name without `_total`, optionally followed by `_<qualifier>`.
    pub(crate) fn metric_named_in(&self, middle: &str) -> Option<MetricDef> {
        let bare = middle.strip_prefix(self.prefix.as_str())?;
        self.catalogue.iter().copied().find(|def| {
            [def.name, def.name.strip_suffix("_total").unwrap_or(def.name)]
                .iter()
                .any(|base| bare == *base || bare.strip_prefix(base).is_some_and(|q| q.starts_with('_')))
        })
    }

    /// The labels a series of this name carries, besides the extra labels; `None` when anything
    /// goes (`ALERTS`) or it is unknown.
    fn series_labels(&self, series: &Series<'_>) -> Option<Vec<String>> {
        Some(match series {
            Series::Catalogue(def, suffix) => {
                let mut labels: Vec<String> = TARGET_LABELS.map(String::from).to_vec();
                labels.extend(def.label_names().map(String::from));
                if *suffix == SeriesSuffix::Bucket {
                    labels.push("le".into());
                }
                labels
            }
            Series::ScrapeHealth => TARGET_LABELS.map(String::from).to_vec(),
            Series::External(metric) => TARGET_LABELS
                .iter()
                .chain(metric.labels)
                .map(|l| l.to_string())
                .collect(),
            Series::Recorded(recorded) => recorded.labels.clone()?,
            Series::Alerts | Series::Unknown => return None,
        })
    }

    /// The labels a selector of this series may match on: its own and the extra labels.
    fn selector_labels(&self, series: &Series<'_>) -> Option<Vec<String>> {
        let mut labels = self.series_labels(series)?;
        labels.extend(self.extra_labels.iter().cloned());
        Some(labels)
    }

    /// The labels of the series `expr` returns, where they can be worked out without data.
    pub(crate) fn output_labels(&self, expr: &Expr) -> Option<Vec<String>> {
        match expr {
            Expr::VectorSelector(vs) => self.series_labels(&self.resolve(&selector_name(vs)?)),
            Expr::MatrixSelector(ms) => self.series_labels(&self.resolve(&selector_name(&ms.vs)?)),
            Expr::Aggregate(agg) => match &agg.modifier {
                Some(LabelModifier::Include(by)) => Some(by.labels.clone()),
                Some(LabelModifier::Exclude(without)) => {
                    let inner = self.output_labels(&agg.expr)?;
                    Some(
                        inner
                            .into_iter()
                            .filter(|l| !without.labels.contains(l))
                            .collect(),
                    )
                }
                None if ["topk", "bottomk", "limitk", "limit_ratio"]
                    .contains(&agg.op.to_string().as_str()) =>
                {
                    self.output_labels(&agg.expr)
                }
                None => Some(Vec::new()),
            },
            Expr::Call(call) => match call.func.name {
                "histogram_quantile" => {
                    let inner = self.output_labels(call.args.args.get(1)?)?;
                    Some(inner.into_iter().filter(|l| l != "le").collect())
                }
                // absent() returns one series labelled by its argument's equality matchers.
                "absent" | "absent_over_time" => Some(match strip_parens(call.args.args.first()?) {
                    Expr::VectorSelector(vs) => equality_labels(vs),
                    Expr::MatrixSelector(ms) => equality_labels(&ms.vs),
                    _ => Vec::new(),
                }),
                "vector" | "time" | "scalar" => Some(Vec::new()),
                _ => self.output_labels(call.args.args.first()?),
            },
            Expr::Binary(bin) => {
                let group_right = bin
                    .modifier
                    .as_ref()
                    .is_some_and(|m| matches!(m.card, VectorMatchCardinality::OneToMany(_)));
                let lhs_is_scalar = matches!(strip_parens(&bin.lhs), Expr::NumberLiteral(_));
                if group_right || lhs_is_scalar {
                    self.output_labels(&bin.rhs)
                } else {
                    self.output_labels(&bin.lhs)
                }
            }
            Expr::Paren(p) => self.output_labels(&p.expr),
            Expr::Subquery(s) => self.output_labels(&s.expr),
            Expr::Unary(u) => self.output_labels(&u.expr),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Some(Vec::new()),
            Expr::Extension(_) => None,
        }
    }

    /// The histogram whose bucket rates `expr` yields: `rate(x_bucket[5m])`, an aggregation of it
    /// that keeps `le`, or a recording rule of that shape.
    fn bucket_rate_of(&self, expr: &Expr) -> Option<MetricDef> {
        match strip_parens(expr) {
            Expr::Call(call) if COUNTER_FUNCTIONS.contains(&call.func.name) => {
                match strip_parens(call.args.args.first()?) {
                    Expr::MatrixSelector(ms) => match self.resolve(&selector_name(&ms.vs)?) {
                        Series::Catalogue(def, SeriesSuffix::Bucket) => Some(def),
                        _ => None,
                    },
                    _ => None,
                }
            }
            Expr::Aggregate(agg) if keeps_le(agg) => self.bucket_rate_of(&agg.expr),
            Expr::VectorSelector(vs) => match self.resolve(&selector_name(vs)?) {
                Series::Recorded(recorded) => recorded.bucket_of,
                _ => None,
            },
            _ => None,
        }
    }

    /// The histogram whose quantile `expr` is: a `histogram_quantile` call or a recording rule of
    /// one.
    fn quantile_of(&self, expr: &Expr) -> Option<MetricDef> {
        match strip_parens(expr) {
            Expr::Call(call) if call.func.name == "histogram_quantile" => {
                self.bucket_rate_of(call.args.args.get(1)?)
            }
            Expr::VectorSelector(vs) => match self.resolve(&selector_name(vs)?) {
                Series::Recorded(recorded) => recorded.quantile_of,
                _ => None,
            },
            _ => None,
        }
    }
}

/// Checks one expression. `file` and `item` only label the problems.
pub fn check_expr(scope: &Scope<'_>, file: &str, item: &str, expr: &str) -> Vec<Problem> {
    let mut walker = Walker::new(scope, file, item);
    match parse_promql(expr) {
        Ok(ast) => walker.visit(&ast, Context::default()),
        Err(err) => walker.report(format!("does not parse: {err} (in `{expr}`)")),
    }
    walker.problems
}

/// Checks a bare series selector (a federation `match[]`): its metric and label names only, since
/// it selects raw series rather than computing anything.
pub fn check_selector(scope: &Scope<'_>, file: &str, item: &str, selector: &str) -> Vec<Problem> {
    let mut walker = Walker::new(scope, file, item);
    match parse_promql(selector) {
        Ok(Expr::VectorSelector(vs)) => walker.selector(&vs, Context::presence()),
        Ok(_) => walker.report(format!("`{selector}` is not a series selector")),
        Err(err) => walker.report(format!("does not parse: {err} (in `{selector}`)")),
    }
    walker.problems
}

/// Where in the expression the walker is.
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    /// Inside the range argument of this counter function.
    counter_function: Option<&'static str>,
    /// Inside `absent()` and friends: existence only, any kind goes.
    presence: bool,
}

impl Context {
    fn presence() -> Context {
        Context {
            counter_function: None,
            presence: true,
        }
    }
}

struct Walker<'s, 'a> {
    scope: &'s Scope<'a>,
    file: &'s str,
    item: &'s str,
    problems: Vec<Problem>,
}

impl<'s, 'a> Walker<'s, 'a> {
    fn new(scope: &'s Scope<'a>, file: &'s str, item: &'s str) -> Walker<'s, 'a> {
        Walker {
            scope,
            file,
            item,
            problems: Vec::new(),
        }
    }

    fn report(&mut self, message: String) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            item: self.item.to_string(),
            message,
        });
    }

    fn visit(&mut self, expr: &Expr, ctx: Context) {
        match expr {
            Expr::Aggregate(agg) => self.aggregate(agg, ctx),
            Expr::Binary(bin) => self.binary(bin, ctx),
            Expr::Call(call) => self.call(call, ctx),
            Expr::Paren(p) => self.visit(&p.expr, ctx),
            Expr::Subquery(s) => self.visit(&s.expr, ctx),
            Expr::Unary(u) => self.visit(&u.expr, ctx),
            Expr::VectorSelector(vs) => self.selector(
                vs,
                Context {
                    counter_function: None,
                    ..ctx
                },
            ),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs, ctx),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    fn aggregate(&mut self, agg: &AggregateExpr, ctx: Context) {
        let inner_ctx = Context {
            counter_function: None,
            ..ctx
        };
        self.visit(&agg.expr, inner_ctx);
        if let Some(param) = &agg.param {
            self.visit(param, inner_ctx);
        }
        if let Some(modifier) = &agg.modifier {
            let clause = match modifier {
                LabelModifier::Include(_) => "by",
                LabelModifier::Exclude(_) => "without",
            };
            self.labels_exist(
                &modifier.labels().labels,
                &agg.expr,
                &format!("{} {clause}", agg.op),
            );
        }
    }

    fn binary(&mut self, bin: &BinaryExpr, ctx: Context) {
        self.visit(&bin.lhs, ctx);
        self.visit(&bin.rhs, ctx);
        if let Some(matching) = bin.modifier.as_ref().and_then(|m| m.matching.as_ref()) {
            let clause = match matching {
                LabelModifier::Include(_) => "on",
                LabelModifier::Exclude(_) => "ignoring",
            };
            for side in [&bin.lhs, &bin.rhs] {
                self.labels_exist(&matching.labels().labels, side, clause);
            }
        }
        if bin.op.is_comparison_operator() {
            self.quantile_threshold(&bin.lhs, &bin.rhs);
            self.quantile_threshold(&bin.rhs, &bin.lhs);
        }
    }

    /// `quantile > N` only means something when N is a bucket bound: between bounds the quantile
    /// is interpolated, so the alert would fire on a guess.
    fn quantile_threshold(&mut self, quantile: &Expr, threshold: &Expr) {
        let (Some(def), Expr::NumberLiteral(n)) = (self.scope.quantile_of(quantile), strip_parens(threshold))
        else {
            return;
        };
        if !def.buckets.contains(&n.val) {
            let buckets: Vec<String> = def.buckets.iter().map(|b| b.to_string()).collect();
            self.report(format!(
                "compares a quantile of {}{} with {}, which is not one of its bucket bounds ({})",
                self.scope.prefix,
                def.name,
                n.val,
                buckets.join(", ")
            ));
        }
    }

    fn call(&mut self, call: &Call, ctx: Context) {
        let name = call.func.name;
        let args = &call.args.args;
        if name == "histogram_quantile" {
            self.histogram_quantile_argument(args.get(1).map(|a| a.as_ref()));
        }
        let arg_ctx = if let Some(counter_function) = COUNTER_FUNCTIONS.iter().find(|f| **f == name) {
            Context {
                counter_function: Some(counter_function),
                ..ctx
            }
        } else if PRESENCE_FUNCTIONS.contains(&name) {
            Context::presence()
        } else {
            Context {
                counter_function: None,
                ..ctx
            }
        };
        for arg in args {
            self.visit(arg, arg_ctx);
        }
    }

    fn histogram_quantile_argument(&mut self, arg: Option<&Expr>) {
        let Some(arg) = arg else { return };
        let shaped = match strip_parens(arg) {
            Expr::Aggregate(agg) => keeps_le(agg) && self.scope.bucket_rate_of(&agg.expr).is_some(),
            Expr::VectorSelector(_) => self.scope.bucket_rate_of(arg).is_some(),
            _ => false,
        };
        if !shaped {
            self.report(format!(
                "histogram_quantile needs `sum by (le, ...) (rate(<histogram>_bucket[...]))` or a recording rule of that shape, not `{arg}`"
            ));
        }
    }

    /// Every label of `labels` must be on the series `of` returns (`clause` says where they were
    /// written, for the message).
    fn labels_exist(&mut self, labels: &[String], of: &Expr, clause: &str) {
        let Some(available) = self.scope.output_labels(of) else {
            return;
        };
        let available_with_extra: Vec<&String> =
            available.iter().chain(self.scope.extra_labels.iter()).collect();
        for label in labels {
            if !available_with_extra.contains(&label) {
                self.report(format!(
                    "`{clause} ({label})`: the series it applies to have no label {label:?} (they have: {})",
                    available.join(", ")
                ));
            }
        }
    }

    fn selector(&mut self, vs: &VectorSelector, ctx: Context) {
        let Some(name) = selector_name(vs) else {
            // A regex (or `!=`) on __name__: it must select some series the bundle knows.
            let on_name: Vec<&Matcher> = all_matchers(vs).filter(|m| m.name == METRIC_NAME).collect();
            if !self
                .scope
                .known_names()
                .any(|known| on_name.iter().all(|m| m.is_match(&known)))
            {
                self.report(format!(
                    "`{vs}` matches no metric: none in the catalogue under prefix {:?}, no recording rule of the bundle",
                    self.scope.prefix
                ));
            }
            return;
        };
        let series = self.scope.resolve(&name);
        match &series {
            Series::Unknown => {
                self.report(format!(
                    "unknown metric {name}: not in the catalogue under prefix {:?}, not a recording rule of the bundle, not a declared metric of the Prometheus or Alertmanager it ships",
                    self.scope.prefix
                ));
                return;
            }
            Series::Catalogue(def, SeriesSuffix::None) if def.kind == Kind::Histogram => {
                self.report(format!(
                    "{name} is a histogram: query {name}_bucket, {name}_sum or {name}_count"
                ));
                return;
            }
            _ => {}
        }
        self.kind_fits_context(&name, &series, ctx);
        if let Some(allowed) = self.scope.selector_labels(&series) {
            for matcher in all_matchers(vs).filter(|m| m.name != METRIC_NAME) {
                if !allowed.contains(&matcher.name) {
                    self.report(format!(
                        "{name}{{{}...}}: {name} has no label {:?} (it has: {})",
                        matcher.name,
                        matcher.name,
                        allowed.join(", ")
                    ));
                }
            }
        }
    }

    /// Counters (and a histogram's `_bucket`/`_sum`/`_count`) only mean something as a rate;
    /// a gauge's rate is meaningless (counter resets are invented where it goes down).
    fn kind_fits_context(&mut self, name: &str, series: &Series<'_>, ctx: Context) {
        if ctx.presence || matches!(series, Series::Alerts) {
            return;
        }
        let is_counter = matches!(series, Series::Catalogue(def, suffix)
            if def.kind == Kind::Counter || *suffix != SeriesSuffix::None)
            || matches!(series, Series::External(metric) if metric.kind == Kind::Counter);
        match (is_counter, ctx.counter_function) {
            (true, None) => self.report(format!(
                "counter {name} used outside rate/irate/increase: its raw value only says how long the process has run"
            )),
            (false, Some(function)) => self.report(format!(
                "{function}() of {name}, which is not a counter (a gauge or an already-computed recording rule)"
            )),
            _ => {}
        }
    }
}

/// The metric name of a selector: written before the braces or as `__name__="..."`.
fn all_matchers(vs: &VectorSelector) -> impl Iterator<Item = &Matcher> {
    vs.matchers
        .matchers
        .iter()
        .chain(vs.matchers.or_matchers.iter().flatten())
}

fn equality_labels(vs: &VectorSelector) -> Vec<String> {
    vs.matchers
        .matchers
        .iter()
        .filter(|m| m.name != METRIC_NAME && matches!(m.op, MatchOp::Equal))
        .map(|m| m.name.clone())
        .collect()
}

/// True when the aggregation keeps the `le` label (`by (le, ...)` or `without` not naming it).
fn keeps_le(agg: &AggregateExpr) -> bool {
    match &agg.modifier {
        Some(LabelModifier::Include(by)) => by.labels.iter().any(|l| l == "le"),
        Some(LabelModifier::Exclude(without)) => !without.labels.iter().any(|l| l == "le"),
        None => false,
    }
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}
