//! PromQL as the generator reads it: [`parse_promql`], the one way in to the parser, and what an
//! expression reads (the metric names its selectors name), shared by the catalogue check and the
//! coverage notes, which both need it and must agree.

use lrpar::{Lexeme, Lexer, NonStreamingLexer};
use promql_parser::label::{MatchOp, METRIC_NAME};
use promql_parser::parser::token::{TokenId, T_ADD, T_COLON, T_LEFT_BRACKET, T_NUMBER, T_OFFSET, T_SUB};
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
    let ast = parse_promql(expr)?;
    let mut names = Vec::new();
    collect(&ast, &mut names);
    Ok(names)
}

/// Parses PromQL, as `promql_parser::parser::parse` does but without its one known panic: a
/// unitless number where a duration goes (`x[1e30]`, `x offset -NaN`) reaches
/// `Duration::from_secs_f64`, which panics when no `Duration` holds it. Such a number is an error
/// here, found with the parser's own lexer before the parser runs. Every parse goes through this.
pub fn parse_promql(expr: &str) -> Result<Expr, String> {
    check_unitless_durations(expr)?;
    #[allow(clippy::disallowed_methods)] // the one call, behind the guard above
    parser::parse(expr)
}

fn check_unitless_durations(expr: &str) -> Result<(), String> {
    // A text the lexer refuses never reaches the grammar's actions; the parser says why.
    let Ok(lexer) = parser::lexer(expr) else {
        return Ok(());
    };
    // The two tokens before the current one: a duration follows `[`, `:`, `offset`, `offset +`
    // and `offset -`.
    let mut before: [Option<TokenId>; 2] = [None, None];
    for lexeme in lexer.iter().flatten() {
        let token = lexeme.tok_id();
        let duration_place = match before[1] {
            Some(T_LEFT_BRACKET | T_COLON | T_OFFSET) => true,
            Some(T_ADD | T_SUB) => before[0] == Some(T_OFFSET),
            _ => false,
        };
        if token == T_NUMBER && duration_place {
            let number = lexer.span_str(lexeme.span());
            if !fits_a_duration(number) {
                return Err(format!(
                    "`{number}` is no duration a range, a step or an offset can have (in `{expr}`)"
                ));
            }
        }
        before = [before[1], Some(token)];
    }
    Ok(())
}

/// Whether `Duration::from_secs_f64` takes the number: finite, not negative, under 2^64 seconds.
/// A number `f64` does not parse is hexadecimal or octal, which the parser reads as an `i64`.
fn fits_a_duration(number: &str) -> bool {
    const TWO_TO_THE_64: f64 = 18_446_744_073_709_551_616.0;
    match number.to_ascii_lowercase().parse::<f64>() {
        Ok(secs) => secs.is_finite() && (0.0..TWO_TO_THE_64).contains(&secs),
        Err(_) => true,
    }
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
    use super::{metric_names, parse_promql};

    /// A unitless number in each place a duration goes, each too big or not finite for a
    /// `Duration`; the first is what the fuzzer found.
    const UNHOLDABLE_DURATIONS: &[&str] = &[
        "Q[][2222222222222222222222222222222222222222222222222][][]#@",
        "x[1e30]",
        "rate(x[1e309])",
        "x offset inf",
        "x[5m:1e400]",
        "x offset 99999999999999999999",
        "x offset -NaN",
        "x offset +inf",
    ];

    #[test]
    fn promql_parser_itself_panics_on_these_durations() {
        // Says when promql-parser stops panicking, and the guard can go.
        for expr in UNHOLDABLE_DURATIONS {
            #[allow(clippy::disallowed_methods)]
            let parsed = std::panic::catch_unwind(|| promql_parser::parser::parse(expr));
            assert!(parsed.is_err(), "promql-parser no longer panics on `{expr}`");
        }
    }

    #[test]
    fn parse_promql_says_which_duration_no_duration_holds() {
        for expr in UNHOLDABLE_DURATIONS {
            let err = parse_promql(expr).unwrap_err();
            assert!(err.contains("is no duration"), "{expr}: {err}");
        }
        let err = parse_promql("x[1e30]").unwrap_err();
        assert_eq!(
            err,
            "`1e30` is no duration a range, a step or an offset can have (in `x[1e30]`)"
        );
    }

    #[test]
    fn parse_promql_keeps_every_number_a_duration_can_be_and_numbers_elsewhere() {
        for expr in [
            "x[300]",
            "x[5m:30]",
            "x offset 0x10",
            "x offset -017",
            "x > 1e400",
            "x > Inf and x < NaN",
            "-Inf",
            "x[1.5]",
        ] {
            assert!(parse_promql(expr).is_ok(), "{expr}: {:?}", parse_promql(expr));
        }
        assert!(parse_promql("sum(").is_err());
        // The parser refuses this itself, without a panic, so the guard leaves it alone.
        assert!(parse_promql("x @ 1e400").unwrap_err().contains("@ modifier"));
    }

    #[test]
    fn metric_names_walks_every_kind_of_node() {
        let expr = r#"histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > ignoring(x)
            (sum(b) / clamp_min(-c, 1)) or absent({__name__="d"}) or quantile(0.5, e) or max_over_time(f[5m:1m])"#;
        assert_eq!(metric_names(expr).unwrap(), ["a_bucket", "b", "c", "d", "e", "f"]);
        assert_eq!(metric_names("1 + 2").unwrap(), Vec::<String>::new());
        assert!(metric_names("sum(").is_err());
    }
}
