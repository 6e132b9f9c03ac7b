//! Hostile profile values (`"`, `:`, `#`, `;`, `{`, newlines) either are rejected with an error
//! naming the profile key, or come out of the YAML and JSON artifacts exactly as the profile
//! said them (parsed back and compared). Nothing a profile says can inject configuration.

use crate::support::specs;

use serde_norway::Value as Yaml;
use sockudo_obs::bundle::Model;
use sockudo_obs::bundle::Output;
use sockudo_obs::bundle::{renderer, Renderer};

const HOSTILE: &str = "so\"ck: #u;d{o}\n- x";

/// Loads the production profile with `change` applied, then runs one renderer.
fn render_with(change: impl FnOnce(&mut Yaml), renderer: Renderer) -> anyhow::Result<Output> {
    let specs = specs::specs_copy();
    let mut profile = specs::read_profile(specs.path(), "production");
    change(&mut profile);
    specs::write_profile(specs.path(), "production", &profile);
    let model: Model = specs::load(specs.path(), "production")?;
    let mut out = Output::new();
    renderer(&model, &mut out)?;
    Ok(out)
}

fn rejected_naming(key: &str, change: impl FnOnce(&mut Yaml), renderer: Renderer) {
    let err = render_with(change, renderer).expect_err(&format!("a hostile {key} must be rejected"));
    let message = format!("{err:#}");
    assert!(message.contains(key), "the error names {key}: {message}");
}

/// A label name Kubernetes would refuse is an error whose key is exactly the label's profile key
/// (what a caller matching `err.key()` looks for); the message says it is the name that is wrong.
#[test]
fn a_label_name_kubernetes_would_refuse_names_its_own_key() {
    let key = "kubernetes.operator.selector_labels.bad name";
    let err = render_with(|p| specs::set(p, key, "x"), renderer::k8s).expect_err("a bad label name");
    let err = err
        .downcast_ref::<sockudo_obs::Error>()
        .expect("the library's typed error");
    assert_eq!(err.key(), Some(key), "{err:#}");
    assert!(format!("{err:#}").contains("is not a valid label key"), "{err:#}");
}

fn yaml(out: &Output, path: &str) -> Yaml {
    serde_norway::from_str(&specs::text(out, path)).unwrap()
}

#[test]
fn names_and_labels_kubernetes_would_refuse_are_rejected_by_key() {
    rejected_naming(
        "kubernetes.namespace",
        |p| specs::set(p, "kubernetes.namespace", HOSTILE),
        renderer::k8s,
    );
    rejected_naming(
        "kubernetes.app_label",
        |p| specs::set(p, "kubernetes.app_label", HOSTILE),
        renderer::k8s,
    );
    rejected_naming(
        "kubernetes.operator.selector_labels.release",
        |p| specs::set(p, "kubernetes.operator.selector_labels.release", HOSTILE),
        renderer::k8s,
    );
    rejected_naming(
        "kubernetes.network_policy.peers[0].pod_selector",
        |p| {
            p["kubernetes"]["network_policy"]["peers"][0]["pod_selector"]["app.kubernetes.io/name"] =
                HOSTILE.into()
        },
        renderer::k8s,
    );
    rejected_naming(
        "kubernetes.grafana_sidecar.label",
        |p| specs::set(p, "kubernetes.grafana_sidecar.label", "a:b"),
        renderer::k8s,
    );
}

#[test]
fn a_metrics_host_that_is_no_host_is_rejected_by_key() {
    rejected_naming(
        "metrics.host",
        |p| specs::set(p, "metrics.host", HOSTILE),
        renderer::compose,
    );
}

#[test]
fn an_empty_network_peer_is_rejected_because_it_would_admit_everyone() {
    rejected_naming(
        "kubernetes.network_policy.peers[0]",
        |p| p["kubernetes"]["network_policy"]["peers"][0] = serde_norway::from_str("{}").unwrap(),
        renderer::k8s,
    );
}

#[test]
fn free_text_survives_the_yaml_round_trip_unchanged() {
    let out = render_with(
        |p| specs::set(p, "kubernetes.grafana_sidecar.folder", HOSTILE),
        renderer::k8s,
    )
    .unwrap();
    let dashboards = yaml(&out, "grafana/kustomization.yaml");
    let generator = &dashboards["configMapGenerator"][0];
    assert_eq!(generator["options"]["annotations"]["grafana_folder"], HOSTILE);
    assert_eq!(generator["namespace"], "sockudo", "nothing else moved");

    // The characters a URL may hold unescaped that mean something to YAML or a shell.
    let url = "http://x/so'ck:#u;d(o)$x";
    let out = render_with(
        |p| {
            specs::set(p, "grafana.datasource_url", url);
            specs::set(p, "kubernetes.grafana_sidecar.folder", HOSTILE);
        },
        renderer::grafana,
    )
    .unwrap();
    let datasources = yaml(&out, "grafana/provisioning/datasources/prometheus.yml");
    assert_eq!(datasources["datasources"][0]["url"], url);
    assert_eq!(datasources["datasources"].as_sequence().unwrap().len(), 1);
    let providers = yaml(&out, "grafana/provisioning/dashboards/sockudo.yml");
    assert_eq!(providers["providers"][0]["folder"], HOSTILE);
}

/// A URL or an image reference is no free text: one holding quotes, newlines or spaces (which
/// would land in the README's shell lines) is rejected by key.
#[test]
fn urls_and_images_outside_their_syntax_are_rejected_by_key() {
    rejected_naming(
        "grafana.datasource_url",
        |p| specs::set(p, "grafana.datasource_url", format!("http://x/{HOSTILE}")),
        renderer::grafana,
    );
    rejected_naming(
        "compose.sockudo_image",
        |p| specs::set(p, "compose.sockudo_image", HOSTILE),
        renderer::compose,
    );
}

#[test]
fn nginx_values_that_could_inject_directives_are_rejected_by_key() {
    for (key, value) in [
        ("proxy.upstream", "127.0.0.1:9601/metrics; } server { listen 80"),
        ("proxy.upstream", "127.0.0.1:9601\n#"),
        ("proxy.listen_host", "0.0.0.0 ssl"),
        ("proxy.htpasswd_file", "/etc/nginx/x;include /etc/passwd"),
        ("proxy.htpasswd_file", "\"/etc/nginx/x\""),
        ("proxy.htpasswd_file", "/etc/$host"),
    ] {
        rejected_naming(key, |p| specs::set(p, key, value), renderer::nginx);
    }
}
