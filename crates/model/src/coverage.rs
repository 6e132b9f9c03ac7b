//! Which alerts and panels read a catalogue family the profile's server does not feed (the
//! catalogue's coverage table), also through recording rules, so the docs and the dashboards can
//! say so instead of showing an empty panel or a silent alert as if it watched something.

use std::collections::BTreeMap;

use super::dashboards::Dashboards;
use super::expr::{metric_names, panel_query};
use super::profile::TargetServer;
use super::rules::RuleSet;
use crate::catalogue::resolve;
use sockudo_obs_sockudo::coverage::{feed, Build, COVERED_SERVER};

/// The alerts and panels that read unfed families, with those families (unprefixed names).
#[derive(Debug, Clone, Default)]
pub struct Unfed {
    /// The server the notes speak of; empty when every family is fed.
    pub server: &'static str,
    /// The coverage table's column for that server; `None` when every family is fed.
    pub build: Option<Build>,
    /// Alert name → the unfed families it reads.
    pub alerts: BTreeMap<String, Vec<&'static str>>,
    /// (dashboard title, panel title) → the unfed families it reads.
    pub panels: BTreeMap<(String, String), Vec<&'static str>>,
}

impl Unfed {
    /// The alerts and panels that read a family `server` does not feed (metric names read under
    /// `prefix`); empty for a server that feeds every family.
    pub fn of(server: TargetServer, prefix: &str, rules: &RuleSet, dashboards: &Dashboards) -> Unfed {
        let Some(build) = server.build() else {
            return Unfed::default();
        };
        let recorded: BTreeMap<&str, &str> = rules
            .files
            .iter()
            .flat_map(|f| &f.recording)
            .map(|r| (r.record.as_str(), r.expr.as_str()))
            .collect();
        let reads = |expr: &str| unfed_families(build, prefix, expr, &recorded);
        let alerts = rules
            .files
            .iter()
            .flat_map(|f| &f.alerts)
            .map(|a| (a.name.clone(), reads(&a.expr)))
            .filter(|(_, families)| !families.is_empty())
            .collect();
        let panels = dashboards
            .items
            .iter()
            .flat_map(|d| {
                let panels = d.spec.rows.iter().flat_map(|r| &r.panels);
                panels.map(move |p| {
                    let mut families: Vec<_> = p
                        .queries
                        .iter()
                        .flat_map(|q| reads(&panel_query(&q.expr)))
                        .collect();
                    families.sort_unstable();
                    families.dedup();
                    ((d.spec.title.clone(), p.title.clone()), families)
                })
            })
            .filter(|(_, families)| !families.is_empty())
            .collect();
        Unfed {
            server: COVERED_SERVER,
            build: Some(build),
            alerts,
            panels,
        }
    }

    /// The note a panel's description carries, if it reads an unfed family.
    pub fn panel_note(&self, dashboard: &str, panel: &str) -> Option<String> {
        let families = self.panels.get(&(dashboard.to_string(), panel.to_string()))?;
        Some(format!(
            "{} ({}) does not feed {} yet: this panel stays empty there (see METRICS.md).",
            self.server,
            self.build.map_or("", Build::title),
            families.join(", ")
        ))
    }
}

/// The catalogue families `expr` reads that the coverage table calls not fed, following
/// recording rules to the expressions they record. Unparseable expressions read nothing here:
/// the catalogue check reports them.
pub fn unfed_families(
    build: Build,
    prefix: &str,
    expr: &str,
    recorded: &BTreeMap<&str, &str>,
) -> Vec<&'static str> {
    let mut families = Vec::new();
    for name in metric_names(expr).unwrap_or_default() {
        if let Some(recorded_expr) = recorded.get(name.as_str()) {
            families.extend(unfed_families(build, prefix, recorded_expr, recorded));
        } else if let Some((def, _)) = resolve(prefix, &name) {
            if feed(build, def.name).is_some_and(|f| !f.is_fed()) {
                families.push(def.name);
            }
        }
    }
    families.sort_unstable();
    families.dedup();
    families
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfed_families_follow_recording_rules_and_skip_fed_ones() {
        let recorded = BTreeMap::from([("job:http:rate5m", "sum(rate(acme_http_requests_total[5m]))")]);
        let expr = "rate(acme_webhooks_sent_total[5m]) / job:http:rate5m + acme_active_connections + up";
        assert_eq!(
            unfed_families(Build::DropIn, "acme_", expr, &recorded),
            ["http_requests_total", "webhooks_sent_total"]
        );
        assert_eq!(
            unfed_families(Build::DropIn, "acme_", "sum(acme_active_connections)", &recorded),
            Vec::<&str>::new()
        );
        // Under another prefix the names are not the catalogue's, so nothing is claimed unfed.
        assert_eq!(
            unfed_families(Build::DropIn, "other_", expr, &recorded),
            Vec::<&str>::new()
        );
        // A cluster's queue is fed; one node's is not.
        let queue = "rate(acme_queue_jobs_processed_total[5m])";
        assert_eq!(
            unfed_families(Build::DropIn, "acme_", queue, &recorded),
            ["queue_jobs_processed_total"]
        );
        assert_eq!(
            unfed_families(Build::DropInCluster, "acme_", queue, &recorded),
            Vec::<&str>::new()
        );
    }
}
