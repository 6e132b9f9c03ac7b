//! The harness's own pieces that need no servers: how a dashboard query becomes a PromQL query.

use crate::support::bundle::{substitute_variables, variable_query, DASHBOARD_VARIABLES};

#[test]
fn variables_are_substituted_whole() {
    let expr = r#"rate(x{job=~"$job", app_id=~"${app_id}", i=~"${instance:regex}"}[$__rate_interval])"#;
    assert_eq!(
        substitute_variables(expr, DASHBOARD_VARIABLES).unwrap(),
        r#"rate(x{job=~".*", app_id=~".*", i=~".*"}[1m])"#
    );
    assert!(substitute_variables("x{a=~\"$jobs\"}", DASHBOARD_VARIABLES)
        .unwrap_err()
        .contains("$jobs"));
}

#[test]
fn label_values_becomes_a_group_query() {
    let variable = serde_json::json!({
        "type": "query", "name": "app_id",
        "query": {"query": "label_values(s_active{job=~\"$job\", instance=~\"$instance\"}, app_id)"}
    });
    assert_eq!(
        variable_query(&variable).unwrap(),
        r#"group by (app_id) (s_active{job=~"$job", instance=~"$instance"})"#
    );
}
