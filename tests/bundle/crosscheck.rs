//! The cross-artifact check: every environment's scrape paths, rules, dashboards, proxy and
//! NetworkPolicy agree, and breaking each kind of agreement makes the check name both places.

use crate::support::specs;

use crate::support::specs::{assert_problem, Specs};
use sockudo_obs::bundle::check::{self, Problem};
use sockudo_obs::bundle::PathKind;
use sockudo_obs::bundle::SpecSource;
use sockudo_obs::bundle::{Model, Overrides};

const AVAILABILITY: &str = "alerts/availability.yaml";

fn cross_problems(model: &Model) -> Vec<Problem> {
    check::cross_artifact(model)
}

fn production() -> Model {
    Model::load(&SpecSource::Embedded, "production", &Overrides::default()).unwrap()
}

#[test]
fn every_environment_agrees_with_itself() {
    for env in specs::environments() {
        let model = Model::load(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let problems = cross_problems(&model);
        assert!(problems.is_empty(), "{env}: {problems:#?}");
    }
}

/// Each scrape path without its job relabeling yields the scraper's default job, which the
/// availability rules do not select.
#[test]
fn a_path_without_its_job_relabeling_is_named_with_the_rule() {
    for (kind, defined_in, default_job) in [
        (
            PathKind::ServiceMonitor,
            "k8s/operator/servicemonitor.yaml",
            "sockudo-metrics",
        ),
        (
            PathKind::PodMonitor,
            "k8s/pod-monitor/podmonitor.yaml",
            "sockudo/sockudo-metrics",
        ),
        (
            PathKind::PodDiscovery,
            "prometheus/prometheus.yml",
            "sockudo-pods",
        ),
    ] {
        let mut model = production();
        let path = model.topology.paths.iter_mut().find(|p| p.kind == kind).unwrap();
        path.job_relabel = None;
        let problems = cross_problems(&model);
        let needle = format!("({defined_in}) produces job={default_job:?}");
        assert_problem(&problems, AVAILABILITY, "SockudoInstanceDown", &needle);
        assert_problem(&problems, AVAILABILITY, "SockudoJobAbsent", &needle);
        // And the full check, which `generate` runs, reports it too.
        assert!(check::run(&model)
            .problems
            .iter()
            .any(|p| p.message.contains(&needle)));
    }
}

#[test]
fn a_static_job_other_than_the_rules_is_named() {
    let mut model = production();
    let path = model
        .topology
        .paths
        .iter_mut()
        .find(|p| p.kind == PathKind::Static)
        .unwrap();
    path.default_job = "sockudo-vms".into();
    assert_problem(
        &cross_problems(&model),
        AVAILABILITY,
        "SockudoInstanceDown",
        "the Static scrape path (prometheus/prometheus.yml) produces job=\"sockudo-vms\"",
    );
}

#[test]
fn a_rule_selecting_another_job_is_named_with_each_path() {
    let specs = Specs::copy();
    specs.edit_alert(AVAILABILITY, "SockudoInstanceDown", |alert| {
        alert.insert("expr".into(), r#"up{job="sockudo-old"} == 0"#.into());
    });
    let model = specs.load("production").unwrap();
    let problems = cross_problems(&model);
    for kind in ["Static", "PodDiscovery", "ServiceMonitor", "PodMonitor"] {
        assert_problem(
            &problems,
            AVAILABILITY,
            "SockudoInstanceDown",
            &format!("selects job=\"sockudo-old\", but the {kind} scrape path"),
        );
    }
}

#[test]
fn a_dashboard_variable_selecting_another_job_is_named() {
    let specs = Specs::copy();
    specs.edit_yaml("dashboards/sockudo-overview.yaml", |doc| {
        doc["variable_metric"] = r#"sockudo_active_connections{job="node"}"#.into();
    });
    let model = specs.load("development").unwrap();
    assert_problem(
        &cross_problems(&model),
        "dashboards/sockudo-overview.yaml",
        "variable_metric (the job variable)",
        "selects job=\"node\", but the Static scrape path (prometheus/prometheus.yml) produces job=\"sockudo\"",
    );
}

#[test]
fn a_proxy_upstream_left_behind_by_config_is_named() {
    let specs = Specs::copy();
    specs.edit_yaml("environments/production.yaml", |profile| {
        specs::set(profile, "proxy.upstream", "127.0.0.1:9601");
    });
    // As `--config` with `"metrics": {"port": 9700}` would.
    let overrides = Overrides {
        port: Some(9700),
        ..Overrides::default()
    };
    let model = Model::load(&specs.source(), "production", &overrides).unwrap();
    assert_problem(
        &cross_problems(&model),
        "environments/production.yaml",
        "proxy",
        "forwards to 127.0.0.1:9601 (proxy.upstream), but the exporter listens on 127.0.0.1:9700",
    );
    // Without the key, the upstream follows the exporter and nothing disagrees.
    let model = Model::load(&SpecSource::Embedded, "production", &overrides).unwrap();
    assert_eq!(
        model.topology.proxy.as_ref().unwrap().upstream.to_string(),
        "127.0.0.1:9700"
    );
    assert!(cross_problems(&model).is_empty());
}

#[test]
fn a_proxy_upstream_off_loopback_for_a_loopback_exporter_is_named() {
    let specs = Specs::copy();
    specs.edit_yaml("environments/production.yaml", |profile| {
        specs::set(profile, "proxy.upstream", "sockudo:9601");
    });
    assert_problem(
        &specs.problems("production"),
        "environments/production.yaml",
        "proxy",
        "but the exporter binds only loopback (127.0.0.1:9601)",
    );
}

#[test]
fn a_static_target_on_another_port_is_named() {
    let specs = Specs::copy();
    specs.edit_yaml("environments/staging.yaml", |profile| {
        specs::set(
            profile,
            "prometheus.static_targets",
            serde_norway::to_value(vec![serde_norway::to_value(std::collections::BTreeMap::from([
                ("target", "sockudo-vm-1.staging.example.internal:9601"),
                ("instance", "sockudo-vm-1"),
            ]))
            .unwrap()])
            .unwrap(),
        );
    });
    assert_problem(
        &specs.problems("staging"),
        "environments/staging.yaml",
        "prometheus.static_targets",
        "the Static scrape path (prometheus/prometheus.yml) scrapes port 9601, but the Sockudo \
         instances expose proxy port 9602",
    );
}

#[test]
fn a_network_policy_that_misses_the_scrape_port_is_named() {
    let mut model = production();
    model.topology.policy.as_mut().unwrap().guarded = vec![9601];
    assert_problem(
        &cross_problems(&model),
        "environments/production.yaml",
        "kubernetes.network_policy",
        "the ServiceMonitor scrape path (k8s/operator/servicemonitor.yaml) scrapes port 9602, but \
         k8s/networkpolicy.yaml admits the monitoring peers only to [9601]",
    );
}

#[test]
fn a_network_policy_opening_the_proxy_port_to_all_is_named() {
    let specs = Specs::copy();
    specs.edit_yaml("environments/production.yaml", |profile| {
        specs::set(
            profile,
            "kubernetes.network_policy.app_ports",
            serde_norway::to_value(vec![6001u16, 9602]).unwrap(),
        );
    });
    assert_problem(
        &specs.problems("production"),
        "environments/production.yaml",
        "kubernetes.network_policy",
        "opens port 9602 to everyone",
    );
}

/// Production has static targets and the Operator component: the ScrapeConfig scrapes them there.
/// Without it, or with another job or other target groups, the check names the profile key.
#[test]
fn static_targets_unscraped_under_the_operator_are_named() {
    let profile = "environments/production.yaml";
    let mut model = production();
    model.documents.operator_scrape_config = None;
    assert_problem(
        &cross_problems(&model),
        profile,
        "prometheus.static_targets",
        "has no ScrapeConfig (k8s/operator/scrapeconfig.yaml): under the Operator the static \
         targets are scraped by nothing",
    );
    assert!(!check::run(&model).is_clean());

    let mut model = production();
    let scrape_config = model.documents.operator_scrape_config.as_mut().unwrap();
    scrape_config.body.spec.job_name = "sockudo-vms".into();
    scrape_config.body.spec.static_configs[0]
        .labels
        .insert("environment".into(), "staging".into());
    scrape_config.body.spec.basic_auth = None;
    let problems = cross_problems(&model);
    for needle in [
        "k8s/operator/scrapeconfig.yaml sets job=\"sockudo-vms\", not the profile's job=\"sockudo\"",
        "k8s/operator/scrapeconfig.yaml's staticConfigs",
        "k8s/operator/scrapeconfig.yaml lacks basic auth",
    ] {
        assert_problem(&problems, profile, "prometheus.static_targets", needle);
    }
}

/// The pods carry the private annotations the pod discovery keeps; generic ones, a missing one or
/// another value are named.
#[test]
fn pod_annotations_the_discovery_does_not_select_are_named() {
    let profile = "environments/production.yaml";
    let mut model = production();
    let annotations = &mut model.documents.pod_annotations;
    annotations.clear();
    annotations.insert("prometheus.io/scrape".into(), "true".into());
    annotations.insert("prometheus.io/port".into(), "9602".into());
    let problems = cross_problems(&model);
    for needle in [
        "reads __meta_kubernetes_pod_annotation_sockudo_obs_io_scrape, but no annotation",
        "reads __meta_kubernetes_pod_annotation_sockudo_obs_io_port, but no annotation",
        "sets the generic annotation prometheus.io/scrape",
    ] {
        assert_problem(&problems, profile, "kubernetes.workload", needle);
    }

    let mut model = production();
    model
        .documents
        .pod_annotations
        .insert("sockudo-obs.io/scrape".into(), "false".into());
    assert_problem(
        &cross_problems(&model),
        profile,
        "kubernetes.workload",
        "keeps __meta_kubernetes_pod_annotation_sockudo_obs_io_scrape=\"true\", but \
         k8s/workload/deployment-patch.yaml sets sockudo-obs.io/scrape: \"false\"",
    );
}

/// Cross-field mistakes that would scrape zero pods are usage errors naming both keys.
#[test]
fn pod_discovery_keys_that_miss_the_pods_are_named() {
    for (key, value, needles) in [
        (
            "prometheus.kubernetes_sd.app_label",
            serde_norway::Value::from("sockudo-server"),
            ["prometheus.kubernetes_sd.app_label", "kubernetes.app_label"],
        ),
        (
            "prometheus.kubernetes_sd.namespaces",
            serde_norway::to_value(vec!["realtime"]).unwrap(),
            ["prometheus.kubernetes_sd.namespaces", "kubernetes.namespace"],
        ),
    ] {
        let specs = Specs::copy();
        specs.edit_yaml("environments/production.yaml", |profile| {
            specs::set(profile, key, value.clone());
        });
        let err = specs.load_error("production");
        for needle in needles {
            assert!(err.contains(needle), "{key}: {err}");
        }
    }
}
