//! The compose stack runs as it is: every address its Prometheus, Grafana and nginx use is a
//! service of the stack (parsed from the rendered files, never matched as text), the scrape
//! port is one the target service serves, every image is pinned, and every file it mounts is
//! rendered beside it (or is one of the two secrets the operator creates).

use crate::support::specs;

use std::collections::BTreeMap;

use serde_json::Value;
use sockudo_obs::bundle::{self, Output, Overrides, SpecSource};

/// The operator's secrets, which the bundle never holds.
const SECRETS: [&str; 2] = ["./htpasswd", "./metrics-password"];

fn yaml(out: &Output, path: &str) -> Value {
    serde_norway::from_str(&specs::text(out, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `host:port` split on the last colon.
fn host_port(address: &str) -> (&str, u16) {
    let (host, port) = address
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{address}: no port"));
    (host, port.parse().unwrap_or_else(|_| panic!("{address}: port")))
}

/// The host of an `http://host:port/...` URL.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap();
    authority.rsplit_once(':').map_or(authority, |(host, _)| host)
}

/// The ports a service answers on: its own metrics and app ports, and those of every service
/// sharing its network namespace (nginx with `network_mode: service:sockudo`).
fn served_ports(
    services: &BTreeMap<String, Value>,
    host: &str,
    profile: &sockudo_obs::bundle::Profile,
) -> Vec<u16> {
    let mut ports = Vec::new();
    let own = &services[host];
    if let Some(port) = own["environment"]["METRICS_PORT"].as_str() {
        ports.push(port.parse().unwrap());
    }
    // A published port's container side (`[host_ip:]host_port:container_port`).
    for published in own["ports"].as_array().into_iter().flatten() {
        if let Some(port) = published.as_str().and_then(|p| p.rsplit(':').next()) {
            ports.extend(port.parse::<u16>().ok());
        }
    }
    for (name, service) in services {
        if service["network_mode"].as_str() == Some(&format!("service:{host}")) && name == "nginx" {
            ports.push(profile.proxy.listen_port);
        }
    }
    ports
}

/// The source of the volume a service mounts at `target`.
fn mounted_at<'a>(service: &'a Value, target: &str) -> Option<&'a str> {
    service["volumes"]
        .as_array()?
        .iter()
        .map(source_and_target)
        .find(|(_, t)| *t == target)
        .map(|(source, _)| source)
}

/// `(source, target)` of a volume in short (`source:target[:ro]`) or long syntax.
fn source_and_target(volume: &Value) -> (&str, &str) {
    match volume.as_str() {
        Some(short) => {
            let mut parts = short.split(':');
            (parts.next().unwrap(), parts.next().unwrap_or(""))
        }
        None => (
            volume["source"].as_str().unwrap(),
            volume["target"].as_str().unwrap(),
        ),
    }
}

#[test]
fn every_address_in_the_stack_is_a_service_of_the_stack() {
    for env in specs::environments() {
        let out = bundle::build(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let model =
            sockudo_obs::bundle::Model::load(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let compose = yaml(&out, "compose/docker-compose.yml");
        let services: BTreeMap<String, Value> = compose["services"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();

        let prometheus = yaml(&out, "compose/prometheus/prometheus.yml");
        assert!(
            prometheus.get("remote_write").is_none(),
            "{env}: remote_write leaves the stack"
        );
        let jobs = prometheus["scrape_configs"].as_array().unwrap();
        assert!(!jobs.is_empty(), "{env}");
        for job in jobs {
            assert!(
                job.get("kubernetes_sd_configs").is_none(),
                "{env}: no Kubernetes in compose"
            );
            for group in job["static_configs"].as_array().unwrap() {
                for target in group["targets"].as_array().unwrap() {
                    let (host, port) = host_port(target.as_str().unwrap());
                    // Prometheus scrapes itself inside its own container.
                    if host == "localhost" {
                        let [own_job, _] = sockudo_obs::bundle::SELF_MONITORING_JOBS;
                        assert_eq!(job["job_name"], own_job, "{env}: {target} outside the self job");
                        assert!(services.contains_key(own_job), "{env}: no {own_job} service");
                        continue;
                    }
                    assert!(
                        services.contains_key(host),
                        "{env}: scrape target {host} is no service"
                    );
                    let served = served_ports(&services, host, &model.profile);
                    assert!(
                        served.contains(&port),
                        "{env}: {host} serves {served:?}, not {port}"
                    );
                }
            }
        }
        for manager in prometheus["alerting"]["alertmanagers"].as_array().unwrap() {
            for group in manager["static_configs"].as_array().unwrap() {
                for target in group["targets"].as_array().unwrap() {
                    let (host, _) = host_port(target.as_str().unwrap());
                    assert!(
                        services.contains_key(host),
                        "{env}: Alertmanager {host} is no service"
                    );
                }
            }
        }

        // Grafana's provisioned datasource is the one the compose file mounts, and it points at
        // the stack's Prometheus.
        let datasources = mounted_at(&services["grafana"], "/etc/grafana/provisioning/datasources")
            .unwrap_or_else(|| panic!("{env}: Grafana mounts no datasources"));
        let folder = datasources.trim_start_matches("./");
        let file = format!("compose/{folder}/prometheus.yml");
        for datasource in yaml(&out, &file)["datasources"].as_array().unwrap() {
            let host = url_host(datasource["url"].as_str().unwrap());
            assert!(
                services.contains_key(host),
                "{env}: Grafana's datasource {host} is no service"
            );
        }

        // nginx, in Sockudo's network namespace, forwards to loopback: Sockudo itself.
        if let Some(nginx) = services.get("nginx") {
            let joined = nginx["network_mode"]
                .as_str()
                .unwrap()
                .strip_prefix("service:")
                .unwrap();
            assert!(services.contains_key(joined), "{env}");
            let route = model.topology.proxy.as_ref().unwrap();
            assert!(
                route.upstream.is_loopback(),
                "{env}: {} is outside the shared namespace",
                route.upstream
            );
            assert_eq!(
                route.upstream.port.map(|p| p.to_string()).as_deref(),
                services[joined]["environment"]["METRICS_PORT"].as_str(),
                "{env}: nginx forwards to Sockudo's metrics port"
            );
        }

        // Every mounted file is rendered beside the compose file, or is an operator secret; every
        // other volume is one of the file's named volumes.
        for (name, service) in &services {
            for volume in service["volumes"].as_array().into_iter().flatten() {
                let (source, _) = source_and_target(volume);
                if SECRETS.contains(&source) || source.starts_with("./tls/") {
                    continue;
                }
                if !source.starts_with('.') && !source.starts_with('/') {
                    assert!(
                        compose["volumes"].get(source).is_some(),
                        "{env}: {name} mounts the undeclared volume {source}"
                    );
                    continue;
                }
                let path = match source.strip_prefix("../") {
                    Some(bundle_path) => bundle_path.to_string(),
                    None => format!("compose/{}", source.trim_start_matches("./")),
                };
                let rendered =
                    out.get(&path).is_some() || out.paths().any(|p| p.starts_with(&format!("{path}/")));
                assert!(rendered, "{env}: {name} mounts {source}, which the bundle lacks");
            }
        }

        // Pinned images; the Sockudo one is built locally, never pulled.
        for (name, service) in &services {
            let image = service["image"].as_str().unwrap();
            let tag = image.rsplit('/').next().unwrap().split_once(':').map(|(_, t)| t);
            assert!(
                tag.is_some_and(|t| t != "latest"),
                "{env}: {name} image {image} is not pinned"
            );
        }
        assert_eq!(services["sockudo"]["pull_policy"], "never", "{env}");
    }
}

#[test]
fn an_unpinned_image_is_a_usage_error_naming_the_key() {
    let specs = specs::Specs::copy();
    specs.edit_yaml("environments/development.yaml", |profile| {
        specs::set(profile, "compose.sockudo_image", "sockudo/sockudo:latest");
    });
    let err = bundle::build(&specs.source(), "development", &Overrides::default()).unwrap_err();
    assert!(matches!(err.kind(), sockudo_obs::ErrorKind::Usage), "{err:#}");
    assert!(format!("{err:#}").contains("compose.sockudo_image"), "{err:#}");
    assert_eq!(err.key(), Some("compose.sockudo_image"), "{err:#}");
    assert_eq!(
        err.path(),
        Some(std::path::Path::new("environments/development.yaml")),
        "{err:#}"
    );
}

/// The compose stack of every profile (production's included) alerts only inside itself: its
/// Alertmanager is the stack's own config, whose every receiver posts to a service of the stack,
/// and its series carry their own `environment` label. Parsed from the rendered files.
#[test]
fn the_stack_never_notifies_outside_itself() {
    for env in specs::environments() {
        let out = bundle::build(&SpecSource::Embedded, &env, &Overrides::default()).unwrap();
        let compose = yaml(&out, "compose/docker-compose.yml");
        assert_eq!(compose["name"], format!("sockudo-obs-{env}"), "{env}");
        let services = compose["services"].as_object().unwrap();
        let source = mounted_at(&services["alertmanager"], "/etc/alertmanager/alertmanager.yml")
            .unwrap_or_else(|| panic!("{env}: Alertmanager mounts no config"));
        let file = format!(
            "compose/{}",
            source
                .strip_prefix("./")
                .unwrap_or_else(|| panic!("{env}: Alertmanager mounts {source}, not the stack's own config"))
        );
        let config = yaml(&out, &file);
        let receivers = config["receivers"].as_array().unwrap();
        assert_eq!(receivers.len(), 3, "{env}: one receiver per severity");
        let outside = notified_outside(services, &config);
        assert!(outside.is_empty(), "{env}: {outside:#?}");
        // Every route's receiver is one of these.
        let names: Vec<&Value> = receivers.iter().map(|r| &r["name"]).collect();
        let mut routes = vec![&config["route"]];
        while let Some(route) = routes.pop() {
            assert!(names.contains(&&route["receiver"]), "{env}: {route:?}");
            routes.extend(route["routes"].as_array().into_iter().flatten());
        }
        let prometheus = yaml(&out, "compose/prometheus/prometheus.yml");
        assert_eq!(
            prometheus["global"]["external_labels"]["environment"],
            format!("{}-compose", env_label(&out, &env)),
            "{env}"
        );
        for name in ["prometheus", "alertmanager", "grafana", "alert-sink"] {
            assert!(services[name]["healthcheck"]["test"].is_array(), "{env}: {name}");
        }
        for volume in ["prometheus-data", "alertmanager-data"] {
            assert!(compose["volumes"].get(volume).is_some(), "{env}: {volume}");
        }
    }
}

/// The real environment's label: the deployment's external label, else the environment's name.
fn env_label(out: &Output, env: &str) -> String {
    let deployment = yaml(out, "prometheus/prometheus.yml");
    deployment["global"]["external_labels"]["environment"]
        .as_str()
        .unwrap_or(env)
        .to_string()
}

/// Every notification of an Alertmanager config that leaves the stack: a webhook to a host that is
/// no service of it, or a receiver of any other kind (email, Slack, PagerDuty ...).
fn notified_outside(services: &serde_json::Map<String, Value>, config: &Value) -> Vec<String> {
    let mut outside = Vec::new();
    for receiver in config["receivers"].as_array().into_iter().flatten() {
        let name = &receiver["name"];
        for (key, value) in receiver.as_object().unwrap() {
            match key.as_str() {
                "name" => {}
                "webhook_configs" => {
                    for hook in value.as_array().into_iter().flatten() {
                        let url = hook["url"].as_str().unwrap_or("");
                        if !services.contains_key(url_host(url)) {
                            outside.push(format!("receiver {name} posts to {url}"));
                        }
                    }
                }
                other => outside.push(format!("receiver {name} notifies by {other}")),
            }
        }
    }
    outside
}

/// The check above fires on an Alertmanager config that notifies outside the stack: the
/// production profile's own, and the stack's with one receiver sent to a pager.
#[test]
fn a_receiver_outside_the_stack_is_found() {
    let out = bundle::build(&SpecSource::Embedded, "production", &Overrides::default()).unwrap();
    let compose = yaml(&out, "compose/docker-compose.yml");
    let services = compose["services"].as_object().unwrap();
    let production = yaml(&out, "alertmanager/alertmanager.yml");
    // critical, warning and info, the heartbeat, and each native integration of the profile.
    let integrations: usize = model_integrations("production");
    assert_eq!(notified_outside(services, &production).len(), 4 + integrations);
    let mut stack = yaml(&out, "compose/alertmanager/alertmanager.yml");
    assert!(notified_outside(services, &stack).is_empty());
    stack["receivers"][0]["pagerduty_configs"] = serde_json::json!([{"routing_key": "x"}]);
    let outside = notified_outside(services, &stack);
    assert_eq!(
        outside,
        ["receiver \"sockudo-critical\" notifies by pagerduty_configs"]
    );
}

/// `docker-compose config --format json` of the bundle's stack, as compose normalizes it.
fn compose_config(compose_dir: &std::path::Path) -> Value {
    let output = std::process::Command::new(crate::support::tools::require("docker-compose"))
        .args(["-f", "docker-compose.yml", "config", "--format", "json"])
        .current_dir(compose_dir)
        .output()
        .expect("docker-compose runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The bind mounts of a normalized compose config whose source the bundle does not hold (the
/// operator's secret files) and which docker would create as a folder when missing.
fn created_when_missing(config: &Value, compose_dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for (name, service) in config["services"].as_object().unwrap() {
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume["source"].as_str().unwrap_or_default();
            let operators = volume["type"] == "bind" && !std::path::Path::new(source).exists();
            if operators && volume["bind"]["create_host_path"] == true {
                let shown = source
                    .strip_prefix(compose_dir.to_str().unwrap())
                    .unwrap_or(source);
                found.push(format!("{name}: {shown} would be created as a folder"));
            }
        }
    }
    found
}

/// The secret files the operator creates (htpasswd, metrics-password) are mounted so that a
/// missing one is never created: as docker-compose normalizes the stack, none of them has
/// `create_host_path`, so `docker compose up` stops naming the path instead of starting nginx or
/// Prometheus on an empty folder. Written in short syntax, the check finds them.
#[test]
fn a_missing_secret_file_stops_the_stack_instead_of_becoming_a_folder() {
    let mut secrets_seen = 0;
    for env in specs::environments() {
        let built = crate::support::validate::build(&env);
        let compose_dir = built.path().join("compose");
        let config = compose_config(&compose_dir);
        assert_eq!(
            created_when_missing(&config, &compose_dir),
            Vec::<String>::new(),
            "{env}"
        );
        let file = compose_dir.join("docker-compose.yml");
        let mut compose: Value = serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let mut rewritten = 0;
        for service in compose["services"].as_object_mut().unwrap().values_mut() {
            for volume in service
                .get_mut("volumes")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(source) = volume["source"].as_str().filter(|s| SECRETS.contains(s)) {
                    *volume = format!("{source}:{}:ro", volume["target"].as_str().unwrap()).into();
                    rewritten += 1;
                }
            }
        }
        secrets_seen += rewritten;
        if rewritten == 0 {
            continue;
        }
        std::fs::write(&file, serde_norway::to_string(&compose).unwrap()).unwrap();
        let found = created_when_missing(&compose_config(&compose_dir), &compose_dir);
        assert_eq!(found.len(), rewritten, "{env}: {found:?}");
    }
    assert!(secrets_seen > 0, "no environment mounts a secret file");
}

/// With `proxy.tls`, the stack's nginx gets the certificate and key where the proxy's server
/// block reads them, Prometheus the CA where its static job reads it, and the stack scrapes over
/// https, verifying the first static target's name; promtool and docker-compose accept the stack.
#[test]
fn the_stack_serves_and_scrapes_tls_when_the_proxy_has_it() {
    let specs = specs::Specs::copy();
    specs.edit_yaml("environments/production.yaml", |p| {
        let tls: serde_norway::Value = serde_norway::from_str(
            "{certificate: tls/cert.pem, certificate_key: tls/key.pem, ca_file: /etc/prometheus/sockudo-ca.pem}",
        )
        .unwrap();
        specs::set(p, "proxy.tls", tls);
        let ca: serde_norway::Value = serde_norway::from_str("{name: sockudo-metrics-ca, key: ca.crt}").unwrap();
        specs::set(p, "kubernetes.operator.ca_secret", ca);
    });
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    let compose = yaml(&out, "compose/docker-compose.yml");
    let nginx_conf = specs::text(&out, "nginx/sockudo-metrics.conf");
    for directive in ["ssl_certificate", "ssl_certificate_key"] {
        let path = nginx_conf
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{directive} ")))
            .unwrap_or_else(|| panic!("the proxy has no {directive}"))
            .trim_end_matches(';');
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/etc/nginx/{path}")
        };
        let source = mounted_at(&compose["services"]["nginx"], &path)
            .unwrap_or_else(|| panic!("nginx does not mount {path} ({directive})"));
        assert!(source.starts_with("./tls/"), "{source}");
    }
    let prometheus = yaml(&out, "compose/prometheus/prometheus.yml");
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(job["scheme"], "https");
    let ca = job["tls_config"]["ca_file"].as_str().unwrap();
    assert_eq!(
        mounted_at(&compose["services"]["prometheus"], ca),
        Some("./tls/ca.pem")
    );
    assert_eq!(
        job["tls_config"]["server_name"],
        "sockudo-vm-1.production.example.internal"
    );

    let dir = tempfile::tempdir().unwrap();
    out.write_atomically(&dir.path().join("b")).unwrap();
    crate::support::validate::assert_passes(&["prometheus", "compose"], &dir.path().join("b"), None);
    let config = compose_config(&dir.path().join("b/compose"));
    assert_eq!(
        created_when_missing(&config, &dir.path().join("b/compose")),
        Vec::<String>::new()
    );
}

/// How many native integrations (PagerDuty, Slack, ...) the shipped profile `env` gives its
/// severities.
fn model_integrations(env: &str) -> usize {
    let path = format!("{}/environments/{env}.yaml", env!("CARGO_MANIFEST_DIR"));
    let profile: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let by_severity = profile["alertmanager"]["integrations"]
        .as_mapping()
        .cloned()
        .unwrap_or_default();
    by_severity
        .values()
        .filter_map(|i| i.as_mapping())
        .map(|i| i.len())
        .sum()
}
