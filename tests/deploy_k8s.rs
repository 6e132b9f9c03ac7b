//! The Kubernetes path as an operator applies it: the rendered manifests, parsed back.

mod common;

use serde_json::Value;
use sockudo_obs::bundle::{self, Overrides, Source};

fn k8s_yaml(env: &str, overrides: &Overrides, file: &str) -> Value {
    let out = bundle::build(&Source::Embedded, env, overrides).unwrap();
    serde_norway::from_str(&common::text(&out, &format!("k8s/{file}"))).unwrap()
}

/// (from peers?, port) of every port the policy names; fails on an `endPort` range.
fn policy_ports(policy: &Value) -> Vec<(bool, u64)> {
    let mut ports = Vec::new();
    for rule in policy["spec"]["ingress"].as_array().unwrap() {
        for port in rule["ports"].as_array().unwrap() {
            assert!(port.get("endPort").is_none(), "a port range: {port}");
            ports.push((rule.get("from").is_some(), port["port"].as_u64().unwrap()));
        }
    }
    ports
}

#[test]
fn the_network_policy_names_real_ports_only() {
    let policy = k8s_yaml("production", &Overrides::default(), "networkpolicy.yaml");
    assert_eq!(policy_ports(&policy), [(true, 9601), (true, 9602), (false, 6001)]);
    // A metrics port from `--config` moves the guarded port, never the app's.
    let moved = Overrides {
        port: Some(9700),
        ..Overrides::default()
    };
    let policy = k8s_yaml("production", &moved, "networkpolicy.yaml");
    assert_eq!(policy_ports(&policy), [(true, 9602), (true, 9700), (false, 6001)]);
}
