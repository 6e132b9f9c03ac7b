//! What a PromQL expression reads: the metric names its selectors name. Shared by the catalogue
//! check and the coverage notes, which both need it and must agree.

use promql_parser::label::{MatchOp, METRIC_NAME};
use promql_parser::parser::{self, Expr, VectorSelector};

/// Stands in for Grafana's `$__rate_interval` so a panel query parses; no spec writes this odd
/// range itself, so finding any other range in a panel means a fixed one.
pub const RATE_INTERVAL_STAND_IN_SECS: u64 = 7919;
const RATE_INTERVAL_STAND_IN: &str = "7919s";

/// A panel query as PromQL: its `$__rate_interval` ranges replaced by the stand-in (the other
/// variables stand inside label matchers' strings, where they parse as they are).
pub fn panel_query(expr: &str) -> String {
    expr.replace("$__rate_interval", RATE_INTERVAL_STAND_IN)
}

/// The metric names an expression selects, in order of appearance (a selector without a metric
/// name adds nothing), or the parse error.
pub fn metric_names(expr: &str) -> Result<Vec<String>, String> {
    let ast = parser::parse(expr)?;
    let mut names = Vec::new();
    collect(&ast, &mut names);
    Ok(names)
}

fn collect(expr: &Expr, names: &mut Vec<String>) {
    match expr {
        Expr::Aggregate(agg) => {
            collect(&agg.expr, names);
            if let Some(param) = &agg.param {
                collect(param, names);
            }
        }
        Expr::Binary(bin) => {
            collect(&bin.lhs, names);
            collect(&bin.rhs, names);
        }
        Expr::Call(call) => call.args.args.iter().for_each(|arg| collect(arg, names)),
        Expr::Paren(p) => collect(&p.expr, names),
        Expr::Subquery(s) => collect(&s.expr, names),
        Expr::Unary(u) => collect(&u.expr, names),
        Expr::VectorSelector(vs) => names.extend(selector_name(vs)),
        Expr::MatrixSelector(ms) => names.extend(selector_name(&ms.vs)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The metric a selector names: `name{...}` or `{__name__="name"}`.
pub fn selector_name(vs: &VectorSelector) -> Option<String> {
    vs.name.clone().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .chain(vs.matchers.or_matchers.iter().flatten())
            .find(|m| m.name == METRIC_NAME && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::metric_names;

    #[test]
    fn metric_names_walks_every_kind_of_node() {
        let expr = r#"histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > ignoring(x)
            (sum(b) / clamp_min(-c, 1)) or absent({__name__="d"}) or quantile(0.5, e) or max_over_time(f[5m:1m])"#;
        assert_eq!(metric_names(expr).unwrap(), ["a_bucket", "b", "c", "d", "e", "f"]);
        assert_eq!(metric_names("1 + 2").unwrap(), Vec::<String>::new());
        assert!(metric_names("sum(").is_err());
    }
}
