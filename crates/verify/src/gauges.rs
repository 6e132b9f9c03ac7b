//! A gauge is aggregated over instances the same way wherever the bundle aggregates it: every
//! recording rule and every dashboard query that aggregates a catalogue gauge directly uses one
//! operator for it. Otherwise an alert and the panel an operator opens for it show different
//! numbers (the case that made this a check: the queue-depth alert took the maximum over
//! instances, since every node reports the same shared queue, while the panel summed them).
//!
//! One problem per gauge that disagrees, on the first place that uses a second operator, naming
//! every place and its operator so the fix is obvious.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::Expr;

use super::Problem;
use sockudo_obs_model::catalogue::{Kind, CATALOGUE};
use sockudo_obs_model::expr::{panel_query, parse_promql};
use sockudo_obs_model::model::Model;

/// Where a gauge is aggregated: the spec file, the rule or panel, and the operator.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    file: String,
    item: String,
    operator: String,
}

pub(crate) fn check(model: &Model) -> Vec<Problem> {
    let gauges: BTreeSet<String> = CATALOGUE
        .iter()
        .filter(|m| m.kind == Kind::Gauge)
        .map(|m| m.full_name(model.prefix()))
        .collect();
    let rules = model
        .spec_rules
        .recording_rules()
        .map(|(file, rule)| (file.path.clone(), rule.record.clone(), rule.expr.clone()));
    let panels = model.dashboards.items.iter().flat_map(|dashboard| {
        dashboard.spec.panels().flat_map(move |panel| {
            panel.queries.iter().map(move |query| {
                (
                    dashboard.file.clone(),
                    format!("panel {:?}", panel.title),
                    panel_query(&query.expr),
                )
            })
        })
    });
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for (file, item, expr) in rules.chain(panels) {
        // An expression that does not parse is the PromQL check's problem, reported there.
        let Ok(parsed) = parse_promql(&expr) else {
            continue;
        };
        let mut found = Vec::new();
        aggregated_gauges(&parsed, &gauges, &mut found);
        for (gauge, operator) in found {
            uses.entry(gauge).or_default().push(Use {
                file: file.clone(),
                item: item.clone(),
                operator,
            });
        }
    }
    uses.into_iter()
        .filter_map(|(gauge, uses)| disagreement(&gauge, &uses))
        .collect()
}

/// `(gauge, operator)` for every aggregation in `expr` whose argument is a gauge's selector.
fn aggregated_gauges(expr: &Expr, gauges: &BTreeSet<String>, found: &mut Vec<(String, String)>) {
    match expr {
        Expr::Aggregate(agg) => {
            if let Expr::VectorSelector(selector) = &*agg.expr {
                if let Some(name) = selector.name.as_ref().filter(|n| gauges.contains(*n)) {
                    found.push((name.clone(), agg.op.to_string()));
                }
            }
            aggregated_gauges(&agg.expr, gauges, found);
        }
        Expr::Binary(binary) => {
            aggregated_gauges(&binary.lhs, gauges, found);
            aggregated_gauges(&binary.rhs, gauges, found);
        }
        Expr::Call(call) => {
            for arg in &call.args.args {
                aggregated_gauges(arg, gauges, found);
            }
        }
        Expr::Paren(paren) => aggregated_gauges(&paren.expr, gauges, found),
        Expr::Unary(unary) => aggregated_gauges(&unary.expr, gauges, found),
        Expr::Subquery(subquery) => aggregated_gauges(&subquery.expr, gauges, found),
        _ => {}
    }
}

/// The problem when `uses` of `gauge` take more than one operator, reported at the first use
/// whose operator differs from the first one's.
fn disagreement(gauge: &str, uses: &[Use]) -> Option<Problem> {
    let first = uses.first()?;
    let odd = uses.iter().find(|u| u.operator != first.operator)?;
    let places: Vec<String> = uses
        .iter()
        .map(|u| format!("{} in {} {}", u.operator, u.file, u.item))
        .collect();
    Some(Problem {
        file: odd.file.clone(),
        item: odd.item.clone(),
        message: format!(
            "aggregates the gauge {gauge} over instances with {}, where {} {} uses {}; a gauge is \
             aggregated alike everywhere, or an alert and its panel disagree ({})",
            odd.operator,
            first.file,
            first.item,
            first.operator,
            places.join("; ")
        ),
    })
}
