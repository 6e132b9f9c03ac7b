//! Service level objectives (`slos/*.yaml`), resolved for one environment and turned into rules
//! the way Sloth and Pyrra do, after the Google SRE workbook ("Alerting on SLOs", multiwindow
//! multi-burn-rate alerts):
//!
//! - one SLI error-ratio recording rule per window (`WINDOWS`: 5m, 30m, 1h, 2h, 6h, 1d, 3d),
//!   aggregated by the routing labels (`slo_labels`: `cluster`, `namespace`, `job`);
//! - a page (`PAGE`, severity `critical`): 14.4× the sustainable burn over 1h and 5m, or 6×
//!   over 6h and 30m;
//! - a ticket (`TICKET`, severity `warning`): 3× over 1d and 2h, or 1× over 3d and 6h.
//!
//! That is [`RULES_PER_SLO`] rules per SLO, in a rule file of its own (`slo-<name>`), with promtool
//! fixtures computed from the objective. Both alerts also need `min_traffic` events in the last
//! hour, like every ratio alert of the bundle. The SLO's rules then go through the same catalogue
//! check as every other rule; the SLO itself (its latency bound against the histogram's buckets)
//! is checked in `verify::slos`.

use std::collections::BTreeMap;

use crate::layout::{CRITICAL, WARNING};
use crate::Result;
use serde::Deserialize;

use super::dashboards::{Dashboards, PanelKind, PanelSpec, PanelUnit, QuerySpec};
use super::profile::{parse_spec, Profile, PromDuration};
use super::rules::{
    format_number, AlertRule, AlertTest, ExpectedAlert, InputSeries, RecordingRule, RuleFile, Runbook,
    JOB_PLACEHOLDER, MIN_TRAFFIC_PLACEHOLDER,
};
use super::source::{Folder, SourceFile, SpecSource};
use crate::catalogue::respell_prefix;
use sockudo_obs_catalogue::{echoed, Error};

/// The SLI windows, shortest first; each gets one error-ratio recording rule.
pub(crate) const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
/// A burn-rate condition: the error ratio over both windows above `factor` times the budget.
#[derive(Debug, Clone, Copy)]
pub struct BurnWindow {
    /// How many times the budget the error ratio must exceed over both windows (14.4).
    pub factor: f64,
    /// The long window (`1h`): the burn is significant.
    pub long: &'static str,
    /// The short window (`5m`): the burn still goes on.
    pub short: &'static str,
}
/// One of an SLO's two alerts.
#[derive(Debug, Clone, Copy)]
pub struct BurnAlert {
    /// Appended to the SLO's alert name (`SockudoApiAvailability` + `FastBurn`).
    pub suffix: &'static str,
    /// The alert's severity: `critical` for the page, `warning` for the ticket.
    pub severity: &'static str,
    /// The alert's `for` duration.
    pub for_: &'static str,
    /// The two burn-rate conditions; the alert fires when either holds (and the traffic floor is met).
    pub windows: [BurnWindow; 2],
}
/// The largest burn the fixtures use: the budget must leave room for it (at most 1/20 of the
/// events, an objective of 95% or more), or the page could hardly fire at all.
pub const MAX_FIXTURE_BURN: f64 = 20.0;
/// The page: 2% of a 30-day budget in an hour, or 5% in six hours.
pub(crate) const PAGE: BurnAlert = BurnAlert {
    suffix: "FastBurn",
    severity: CRITICAL,
    for_: "2m",
    windows: [
        BurnWindow {
            factor: 14.4,
            long: "1h",
            short: "5m",
        },
        BurnWindow {
            factor: 6.0,
            long: "6h",
            short: "30m",
        },
    ],
};
/// The ticket: 10% of a 30-day budget in three days, or the whole budget at the end of the period.
pub(crate) const TICKET: BurnAlert = BurnAlert {
    suffix: "SlowBurn",
    severity: WARNING,
    for_: "15m",
    windows: [
        BurnWindow {
            factor: 3.0,
            long: "1d",
            short: "2h",
        },
        BurnWindow {
            factor: 1.0,
            long: "3d",
            short: "6h",
        },
    ],
};
/// Seven SLI recording rules and two alerts.
pub const RULES_PER_SLO: usize = WINDOWS.len() + 2;
/// The window the traffic floor counts events in.
const FLOOR_WINDOW: &str = "1h";
/// The period the dashboard's "budget left" covers.
pub(crate) const BUDGET_PERIOD: &str = "28d";
/// Events per minute in the promtool fixtures (well above any traffic floor).
const FIXTURE_EVENTS_PER_MINUTE: f64 = 1000.0;

/// Every SLO of the bundle, in file-name order.
#[derive(Debug, Clone, Default)]
pub struct Slos {
    /// One per spec file of `slos/`.
    pub items: Vec<Slo>,
}

/// One SLO, its objective resolved for the environment.
#[derive(Debug, Clone)]
pub struct Slo {
    /// The spec file (`slos/api-availability.yaml`).
    pub path: String,
    /// The spec, its objective overridden where the profile says so.
    pub spec: SloSpec,
}

/// An SLO spec as written in `slos/*.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// The spec format's version, checked by `parse_spec`.
    pub version: u32,
    /// Lower-case words joined by `-`; profiles override the objective by this name.
    pub name: String,
    /// What the SLO is about, for the dashboard and the runbook (`HTTP API availability`).
    pub title: String,
    /// What counts as a good event, one sentence for the runbook.
    pub description: String,
    /// The share of good events promised, in percent (99.9).
    pub objective: f64,
    /// The fewest events in the last hour for the burn-rate alerts to judge.
    pub min_traffic: f64,
    /// The middle part of the SLI recording rules' names: a catalogue metric under the default
    /// prefix, maybe qualified (`sockudo_http_requests_5xx`).
    pub record: String,
    /// How the events are counted (`sli:`).
    pub sli: Sli,
    /// The alerts' runbook (their meaning is generated from the windows and the objective).
    pub runbook: SloRunbook,
    /// The series of the promtool fixtures and what each counts.
    pub fixture: Vec<FixtureSeries>,
}

/// Bad events over all events: `ratio:` or `latency:`, exactly one.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "SliSpec")]
pub enum Sli {
    /// Two counter selectors: the bad events and all events.
    Ratio {
        /// The counter of the bad events (`sockudo_http_requests_total{status=~"5.."}`).
        errors: String,
        /// The counter of all events (`sockudo_http_requests_total`).
        total: String,
    },
    /// A histogram: an event is bad when it took longer than `le` (one of its bucket bounds).
    Latency {
        /// The histogram's name, without `_bucket` or `_count`.
        histogram: String,
        /// The bucket bound a good event stays within (`0.5`).
        le: f64,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SliSpec {
    ratio: Option<RatioSli>,
    latency: Option<LatencySli>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RatioSli {
    errors: String,
    total: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencySli {
    histogram: String,
    le: f64,
}

impl TryFrom<SliSpec> for Sli {
    type Error = String;

    fn try_from(spec: SliSpec) -> Result<Sli, String> {
        match (spec.ratio, spec.latency) {
            (Some(RatioSli { errors, total }), None) => Ok(Sli::Ratio { errors, total }),
            (None, Some(LatencySli { histogram, le })) => Ok(Sli::Latency { histogram, le }),
            _ => Err("sli: give exactly one of `ratio` (errors, total) or `latency` (histogram, le)".into()),
        }
    }
}

/// The runbook sections both alerts share (`runbook:`); the meaning is generated.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloRunbook {
    /// What users notice while the budget burns.
    pub impact: String,
    /// How to find the cause (Markdown; queries, commands).
    pub diagnosis: String,
    /// How to make the burn stop.
    pub mitigation: String,
}

/// One input series of the SLO's promtool fixtures (`fixture:`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSeries {
    /// A series with every label but `job` (and `namespace`, added when the Kubernetes job is
    /// on).
    pub series: String,
    /// What the series counts: `errors`, `good` or `total`.
    pub counts: FixtureCount,
}

/// What a fixture series counts, which sets its increase per minute for a given error share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixtureCount {
    /// The bad events only.
    Errors,
    /// The good events only.
    Good,
    /// Every event.
    Total,
}

impl Slos {
    /// Reads every SLO spec and applies the profile's objectives.
    pub fn load(source: &SpecSource, profile: &Profile) -> Result<Slos> {
        let items = source
            .files(Folder::Slos, &[".yaml", ".yml"])?
            .iter()
            .map(Slo::parse)
            .collect::<Result<Vec<_>>>()?;
        let mut slos = Slos { items };
        for (name, over) in &profile.slos {
            let known: Vec<&str> = slos.items.iter().map(|s| s.spec.name.as_str()).collect();
            let known = known.join(", ");
            let slo = slos
                .items
                .iter_mut()
                .find(|s| &s.spec.name == name)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "{}: slos.{}: no SLO of that name in slos/ (known: {known})",
                        profile.path,
                        echoed(name)
                    ))
                    .with_key(format!("slos.{name}"))
                    .with_path(&profile.path)
                })?;
            if let Some(objective) = over.objective {
                check_objective(objective).map_err(|msg| {
                    Error::usage(format!("{}: slos.{name}.objective: {msg}", profile.path))
                        .with_key(format!("slos.{name}.objective"))
                        .with_path(&profile.path)
                })?;
                slo.spec.objective = objective;
            }
        }
        Ok(slos)
    }

    /// One rule file per SLO, under the default prefix, for [`super::rules::RuleSet::load`].
    pub fn rule_files(&self, profile: &Profile) -> Vec<RuleFile> {
        self.items.iter().map(|slo| slo.rule_file(profile)).collect()
    }

    /// Fills the rows that ask for them (`slos: true`) with each SLO's budget and burn-rate
    /// panels, over the recording rules.
    pub fn fill_dashboard_rows(&self, dashboards: &mut Dashboards, profile: &Profile) {
        let panels: Vec<PanelSpec> = self.items.iter().flat_map(|slo| slo.panels(profile)).collect();
        dashboards.fill_slo_rows(&panels, profile);
    }
}

impl Slo {
    fn parse(file: &SourceFile) -> Result<Slo> {
        let spec: SloSpec = parse_spec(file)?;
        let bad =
            |msg: String| -> Error { Error::usage(format!("{}: {msg}", file.path)).with_path(&file.path) };
        let name_ok = !spec.name.is_empty()
            && spec
                .name
                .split('-')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        if !name_ok {
            return Err(bad(format!(
                "name {}: lower-case words joined by '-' (api-availability)",
                echoed(&spec.name)
            )));
        }
        check_objective(spec.objective).map_err(|msg| bad(format!("objective: {msg}")))?;
        if !(spec.min_traffic.is_finite() && spec.min_traffic >= 0.0) {
            return Err(bad(format!(
                "min_traffic {} must be a number of events, 0 or more",
                spec.min_traffic
            )));
        }
        Ok(Slo {
            path: file.path.clone(),
            spec,
        })
    }

    /// The error budget: the share of bad events the objective allows.
    pub fn budget(&self) -> f64 {
        rounded((100.0 - self.spec.objective) / 100.0)
    }

    /// `SockudoApiAvailability` for `api-availability`.
    pub fn alert_base(&self) -> String {
        let camel: String = self
            .spec
            .name
            .split('-')
            .map(|w| {
                let mut chars = w.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        format!("{}{camel}", super::layout::ALERT_NAME_PREFIX)
    }

    /// The name of `alert` for this SLO: [`Slo::alert_base`] plus the alert's suffix
    /// (`SockudoApiAvailabilityFastBurn`).
    pub fn alert_name(&self, alert: &BurnAlert) -> String {
        format!("{}{}", self.alert_base(), alert.suffix)
    }

    /// The SLI recording rule of `window`, under the default prefix.
    pub fn record(&self, profile: &Profile, window: &str) -> String {
        format!(
            "{}:{}:ratio_rate{window}",
            slo_labels(profile).join("_"),
            self.spec.record
        )
    }

    /// The error ratio over `window`, summed by `by`.
    fn error_ratio(&self, by: &str, window: &str) -> String {
        let sum = |selector: &str| format!("sum by ({by}) (rate({selector}[{window}]))");
        match &self.spec.sli {
            // No bad event yet is a ratio of 0 wherever events exist, not "no data".
            Sli::Ratio { errors, total } => {
                let total = sum(total);
                format!("({} or 0 * {total}) / {total}", sum(errors))
            }
            // The fast requests' bucket exists wherever requests do.
            Sli::Latency { histogram, le } => format!(
                "1 - {} / {}",
                sum(&format!("{histogram}_bucket{{{}}}", le_matcher(*le))),
                sum(&format!("{histogram}_count"))
            ),
        }
    }

    /// The counter of all events (for the traffic floor).
    fn total_selector(&self) -> String {
        match &self.spec.sli {
            Sli::Ratio { total, .. } => total.clone(),
            Sli::Latency { histogram, .. } => format!("{histogram}_count"),
        }
    }

    fn rule_file(&self, profile: &Profile) -> RuleFile {
        let labels = slo_labels(profile);
        let by = labels.join(", ");
        let recording = WINDOWS
            .iter()
            .map(|window| RecordingRule {
                record: self.record(profile, window),
                expr: self.error_ratio(&by, window),
            })
            .collect();
        let alerts = [PAGE, TICKET]
            .iter()
            .map(|alert| self.alert(profile, alert, &by))
            .collect();
        RuleFile {
            path: self.path.clone(),
            stem: format!("slo-{}", self.spec.name),
            recording,
            alerts,
            test_evaluation_interval: Some(fixture_evaluation_interval(profile)),
        }
    }

    fn threshold(&self, factor: f64) -> String {
        format_number(rounded(factor * self.budget()))
    }

    fn alert(&self, profile: &Profile, alert: &BurnAlert, by: &str) -> AlertRule {
        let conditions: Vec<String> = alert
            .windows
            .iter()
            .map(|w| {
                let threshold = self.threshold(w.factor);
                format!(
                    "({} > {threshold} and {} > {threshold})",
                    self.record(profile, w.long),
                    self.record(profile, w.short)
                )
            })
            .collect();
        // One pair a line, as Sloth writes them: readable, and under yamllint's line length in
        // the PrometheusRule.
        let expr = format!(
            "(\n  {}\n)\nand on ({by}) sum by ({by}) (increase({}[{FLOOR_WINDOW}])) >= {MIN_TRAFFIC_PLACEHOLDER}",
            conditions.join("\n  or\n  "),
            self.total_selector()
        );
        let pairs: Vec<String> = alert
            .windows
            .iter()
            .map(|w| format!("{}× over {} and {}", format_number(w.factor), w.long, w.short))
            .collect();
        let objective = format_number(self.spec.objective);
        let title = &self.spec.title;
        let (summary, speed) = match alert.severity {
            CRITICAL => (format!("The {title} SLO burns its error budget fast."), "fast"),
            _ => (format!("The {title} SLO burns its error budget slowly."), "slow"),
        };
        let meaning = format!(
            "{} Objective {objective}%, so the error budget is {}% of events. This {speed}-burn alert fires when the error ratio is above a multiple of the budget over two windows at once: {} (at 1× the budget lasts exactly 30 days). The long window shows the burn is significant, the short one that it still goes on, so the alert stops soon after the burn does. The job must also have served at least `min_traffic` events in the last hour. The SLI is the recording rule `{}` (one per window).",
            self.spec.description,
            format_number(rounded(self.budget() * 100.0)),
            pairs.join(", or "),
            respell_prefix(&self.record(profile, "<window>"), &profile.metrics.prefix),
        );
        AlertRule {
            name: self.alert_name(alert),
            expr,
            threshold: None,
            min_traffic: Some(self.spec.min_traffic),
            for_: Some(PromDuration::parse(alert.for_).expect("valid literal")),
            severity: Some(alert.severity.to_string()),
            summary: Some(summary),
            description: Some(format!(
                "Job {{{{ $labels.job }}}} burns the {title} error budget (objective {objective}%) at more than {}.",
                pairs.join(", or ")
            )),
            runbook: Some(Runbook {
                meaning,
                impact: self.spec.runbook.impact.clone(),
                diagnosis: self.spec.runbook.diagnosis.clone(),
                mitigation: self.spec.runbook.mitigation.clone(),
            }),
            routing_from_profile: false,
            static_labels: BTreeMap::new(),
            runbook_url: String::new(),
            tests: self.fixtures(profile, alert),
        }
    }

    /// The promtool fixtures of `alert`. Each window pair is tested on its own: a burn that
    /// starts after six healthy hours fills the 1h window long before it moves the 6h one, and
    /// a steady burn between two factors trips only the lower pair. The page fires once a burn
    /// just over 14.4× fills the 1h window, stops within the short window after a burn ends
    /// (though the 1h window still burns), and stays quiet at a 1× burn for a day; the ticket
    /// fires on each of its pairs and stays quiet below the traffic floor.
    fn fixtures(&self, profile: &Profile, alert: &BurnAlert) -> Vec<AlertTest> {
        let budget = self.budget();
        let page = self.alert_name(&PAGE);
        let burn = |factor: f64| factor * budget;
        let events = FIXTURE_EVENTS_PER_MINUTE;
        if alert.severity == PAGE.severity {
            vec![
                self.fixture(
                    profile,
                    "pages once a 15× burn after six healthy hours fills the 1h window (the 5m one burning too, the 6h one at 2.6×)",
                    &[(360, 0.0), (80, burn(15.0))],
                    events,
                    "7h",
                    true,
                    &[],
                ),
                self.fixture(
                    profile,
                    "pages on a steady 7× burn through the 6h and 30m windows (under 14.4× in 1h and 5m)",
                    &[(60, burn(7.0))],
                    events,
                    "30m",
                    true,
                    &[],
                ),
                self.fixture(
                    profile,
                    "stops within the short window after a 20× burn ends, the 1h window still at 18×",
                    &[(360, 0.0), (70, burn(20.0)), (30, 0.0)],
                    events,
                    "7h14m",
                    false,
                    &[],
                ),
                self.fixture(
                    profile,
                    "quiet at a 1× burn for a day",
                    &[(1460, burn(1.0))],
                    events,
                    "1d",
                    false,
                    &[],
                ),
            ]
        } else {
            vec![
                self.fixture(
                    profile,
                    "opens a ticket on a steady 3.5× burn (1d and 2h)",
                    &[(160, burn(3.5))],
                    events,
                    TICKET.windows[0].short,
                    true,
                    &[],
                ),
                self.fixture(
                    profile,
                    "opens a ticket on a steady 1.5× burn through the 3d and 6h windows (under 3× in 1d and 2h)",
                    &[(400, burn(1.5))],
                    events,
                    TICKET.windows[1].short,
                    true,
                    &[],
                ),
                self.fixture(
                    profile,
                    "quiet below the traffic floor (every event bad, half the floor an hour)",
                    &[(160, 1.0)],
                    self.spec.min_traffic / 120.0,
                    TICKET.windows[0].short,
                    false,
                    &[page.as_str()],
                ),
            ]
        }
    }

    /// A fixture: every series of the spec rising from 0, phase after phase, each phase
    /// `(minutes, error share)` of `per_minute` events.
    #[allow(clippy::too_many_arguments)]
    fn fixture(
        &self,
        profile: &Profile,
        name: &str,
        phases: &[(u64, f64)],
        per_minute: f64,
        warmup: &str,
        fires: bool,
        quiet: &[&str],
    ) -> AlertTest {
        let namespace = namespace_label(profile);
        let input_series = self
            .spec
            .fixture
            .iter()
            .map(|s| {
                let extra = match &namespace {
                    Some(ns) => format!("job=\"{JOB_PLACEHOLDER}\", namespace=\"{ns}\", "),
                    None => format!("job=\"{JOB_PLACEHOLDER}\", "),
                };
                InputSeries {
                    series: s.series.replacen('{', &format!("{{{extra}"), 1),
                    values: phased_values(s.counts, phases, per_minute),
                }
            })
            .collect();
        let mut labels = BTreeMap::from([("job".to_string(), JOB_PLACEHOLDER.to_string())]);
        if let Some(ns) = namespace {
            labels.insert("namespace".into(), ns);
        }
        AlertTest {
            name: name.to_string(),
            interval: PromDuration::parse("1m").expect("valid literal"),
            warmup: PromDuration::parse(warmup).expect("valid literal"),
            input_series,
            fires: if fires {
                vec![ExpectedAlert { labels, value: None }]
            } else {
                Vec::new()
            },
            quiet: quiet.iter().map(|q| q.to_string()).collect(),
        }
    }

    /// Per SLO: the budget left over [`BUDGET_PERIOD`] and the burn rate of every window.
    fn panels(&self, profile: &Profile) -> Vec<PanelSpec> {
        let budget = format_number(self.budget());
        let selector = |window: &str| format!("{}{{job=~\"$job\"}}", self.record(profile, window));
        let legend_labels = if namespace_label(profile).is_some() {
            "{{job}} {{namespace}}"
        } else {
            "{{job}}"
        };
        let title = &self.spec.title;
        let objective = format_number(self.spec.objective);
        let panel = |title: String, description: String, kind, unit, width, queries| PanelSpec {
            title,
            description: Some(description),
            kind,
            unit: Some(unit),
            width: Some(width),
            height: None,
            min: None,
            max: None,
            stacked: false,
            alert: None,
            alert_below: false,
            runbook_links: false,
            show_name: false,
            queries,
        };
        vec![
            panel(
                format!("{title}: error budget left ({BUDGET_PERIOD})"),
                format!("The share of the {BUDGET_PERIOD} error budget of the {title} SLO (objective {objective}%) not yet spent: 1 minus the average 5-minute error ratio over the period, divided by the budget ({budget}). Below 0 the objective is missed."),
                PanelKind::Stat,
                PanelUnit::Ratio,
                6,
                vec![QuerySpec {
                    expr: format!("1 - avg_over_time({}[{BUDGET_PERIOD}]) / {budget}", selector("5m")),
                    legend: legend_labels.to_string(),
                    unit: None,
                }],
            ),
            panel(
                format!("{title}: burn rate by window"),
                format!("How fast the {title} SLO spends its error budget, per SLI window: the error ratio divided by the budget ({budget}); 1 spends it exactly over 30 days. The page fires above 14.4 (1h and 5m) or 6 (6h and 30m), the ticket above 3 (1d and 2h) or 1 (3d and 6h)."),
                PanelKind::Timeseries,
                PanelUnit::Count,
                18,
                WINDOWS
                    .iter()
                    .map(|w| QuerySpec {
                        expr: format!("{} / {budget}", selector(w)),
                        legend: format!("{legend_labels} {w}"),
                        unit: None,
                    })
                    .collect(),
            ),
        ]
    }
}

/// promtool's expanding notation for a counter of `counts` over `phases`: 0 at the start, then
/// each phase's minutes at its increase per minute (`0 1000+1000x359 ...`).
fn phased_values(counts: FixtureCount, phases: &[(u64, f64)], per_minute: f64) -> String {
    let mut values = vec!["0".to_string()];
    let mut total = 0.0;
    for &(minutes, error_share) in phases {
        let step = rounded(match counts {
            FixtureCount::Errors => error_share * per_minute,
            FixtureCount::Good => (1.0 - error_share) * per_minute,
            FixtureCount::Total => per_minute,
        });
        let first = rounded(total + step);
        values.push(format!(
            "{}+{}x{}",
            format_number(first),
            format_number(step),
            minutes - 1
        ));
        total = rounded(total + step * minutes as f64);
    }
    values.join(" ")
}

/// The labels every SLO rule aggregates by, so alerts route: `cluster` (an external label, kept
/// where a ruler sees several clusters), `namespace` (when the Kubernetes job adds it) and `job`.
pub(crate) fn slo_labels(profile: &Profile) -> Vec<String> {
    let mut labels = super::profile::routing_labels(profile);
    labels.push("job".into());
    labels
}

fn namespace_label(profile: &Profile) -> Option<String> {
    profile
        .prometheus
        .kubernetes_sd
        .enabled
        .then(|| profile.kubernetes.namespace.clone())
}

/// promtool evaluates the SLO fixtures (days of input) every minute, or at the profile's
/// interval when that is longer: the shortest SLI window is five minutes.
fn fixture_evaluation_interval(profile: &Profile) -> PromDuration {
    let minute = PromDuration::parse("1m").expect("valid literal");
    if profile.prometheus.evaluation_interval.millis() > minute.millis() {
        profile.prometheus.evaluation_interval.clone()
    } else {
        minute
    }
}

/// The matcher of a bucket bound's series: `le="0.5"`, and `1` or `1.0` for an integral bound
/// (Prometheus 3 normalizes `1` to `1.0` when it scrapes).
fn le_matcher(le: f64) -> String {
    let plain = format_number(le);
    if le.fract() == 0.0 {
        format!("le=~\"{plain}|{plain}\\\\.0\"")
    } else {
        format!("le=\"{plain}\"")
    }
}

/// `value` to 12 significant digits, so 14.4 × 0.001 prints `0.0144`.
fn rounded(value: f64) -> f64 {
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// An objective is a percentage strictly between 0 and 100.
fn check_objective(objective: f64) -> Result<(), String> {
    if objective.is_finite() && objective > 0.0 && objective < 100.0 {
        Ok(())
    } else {
        Err(format!(
            "{objective} is not a percentage strictly between 0 and 100"
        ))
    }
}
