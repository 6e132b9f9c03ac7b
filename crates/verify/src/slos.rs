//! Checks the SLOs (`slos/*.yaml`) beyond their generated rules, which the rules check already
//! holds to the catalogue: a latency SLI's histogram is a catalogue histogram and its bound one of
//! that histogram's buckets (between two bounds the share of fast requests cannot be counted), the
//! budget leaves room for the fast-burn page, and no two SLOs share a name or a rule name.

use std::collections::BTreeSet;

use super::Problem;
use sockudo_obs_model::catalogue::{resolve, Kind, SeriesSuffix, DEFAULT_PREFIX};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::slos::{Sli, MAX_FIXTURE_BURN};

pub(crate) fn check(model: &Model) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut records = BTreeSet::new();
    for slo in &model.slos.items {
        let mut report = |message: String| {
            problems.push(Problem {
                file: slo.path.clone(),
                item: format!("SLO {}", slo.spec.name),
                message,
            })
        };
        if !names.insert(slo.spec.name.as_str()) {
            report("another SLO has this name".into());
        }
        if !records.insert(slo.spec.record.as_str()) {
            report(format!(
                "record {:?} is another SLO's too: their recording rules would collide",
                slo.spec.record
            ));
        }
        if slo.budget() * MAX_FIXTURE_BURN > 1.0 {
            report(format!(
                "objective {}% leaves an error budget of {}: a 14.4× burn is (nearly) every event failing, so the page could hardly fire, and its fixtures' {MAX_FIXTURE_BURN}× burn cannot exist; use an objective of {}% or more",
                slo.spec.objective,
                slo.budget(),
                100.0 - 100.0 / MAX_FIXTURE_BURN
            ));
        }
        if let Sli::Latency { histogram, le } = &slo.spec.sli {
            match resolve(DEFAULT_PREFIX, histogram) {
                Some((def, SeriesSuffix::None)) if def.kind == Kind::Histogram => {
                    if !def.buckets.contains(le) {
                        let buckets: Vec<String> = def.buckets.iter().map(|b| b.to_string()).collect();
                        report(format!(
                            "sli.latency.le {le} is not a bucket bound of {histogram} ({})",
                            buckets.join(", ")
                        ));
                    }
                }
                _ => report(format!(
                    "sli.latency.histogram {histogram:?} is not a histogram of the catalogue (written under the prefix {DEFAULT_PREFIX:?})"
                )),
            }
        }
    }
    problems
}
