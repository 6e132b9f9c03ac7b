//! Renders the docker-compose stack (`compose/docker-compose.yml`): Sockudo, Prometheus,
//! Alertmanager, Grafana and an alert sink, and nginx when the profile puts the proxy in front.
//! Every config it mounts is one the bundle renders next to it (paths relative to `compose/`),
//! except the htpasswd and password files, which hold secrets and so are the operator's to create.
//! The stack's Alertmanager is its own (`compose/alertmanager/alertmanager.yml`, every receiver on
//! the sink), the project is named, Prometheus and Alertmanager keep their data in named
//! volumes, and the services that can say so have healthchecks.

use std::collections::BTreeMap;

use serde::Serialize;
use sockudo_obs_model::Result;

use sockudo_obs_model::layout::{
    ALERTMANAGER_PORT, ALERT_SINK_PORT, COMPOSE_ALERTMANAGER, COMPOSE_ALERTMANAGER_PATH, COMPOSE_ALERT_SINK,
    COMPOSE_ALERT_SINK_CONF_PATH, COMPOSE_CONFIG_PATH, COMPOSE_DATASOURCES_PATH, COMPOSE_GRAFANA,
    COMPOSE_NGINX, COMPOSE_PROMETHEUS, COMPOSE_SOCKUDO, DASHBOARDS_DIR, DASHBOARDS_MOUNT, DEFAULT_APP_PORT,
    GRAFANA_DIR, NGINX_CONF_PATH, NGINX_PREFIX, PROMETHEUS_PORT,
};
use sockudo_obs_model::model::Model;
use sockudo_obs_model::output::Output;
use sockudo_obs_model::profile::{Profile, ProxyTls};
use sockudo_obs_model::topology::in_container;

/// The named volumes Prometheus and Alertmanager keep their data in.
const PROMETHEUS_DATA: &str = "prometheus-data";
const ALERTMANAGER_DATA: &str = "alertmanager-data";

/// A compose file without the obsolete top-level `version`.
#[derive(Debug, Serialize)]
struct ComposeFile {
    /// The project name, so two environments' stacks never share containers or volumes.
    name: String,
    services: BTreeMap<&'static str, Service>,
    volumes: BTreeMap<&'static str, NamedVolume>,
}

/// A named volume with the engine's defaults.
#[derive(Debug, Serialize)]
struct NamedVolume {}

#[derive(Debug, Serialize)]
struct Healthcheck {
    test: Vec<String>,
    interval: &'static str,
    timeout: &'static str,
    retries: u32,
}

/// A healthcheck that fetches `url` from inside the container (busybox `wget`, which the
/// Prometheus, Alertmanager, Grafana and nginx images ship).
fn http_healthcheck(url: String) -> Option<Healthcheck> {
    Some(Healthcheck {
        test: ["CMD", "wget", "-q", "-O", "/dev/null"]
            .into_iter()
            .map(String::from)
            .chain([url])
            .collect(),
        interval: "10s",
        timeout: "5s",
        retries: 5,
    })
}

/// A volume of a service: a rendered file or a named volume (short syntax), or a secret file
/// the operator creates (long syntax, never created when missing).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Mount {
    Short(String),
    Secret(SecretMount),
}

/// A bind mount of a file the operator creates beside the compose file. Short syntax would make
/// docker create a directory where the file is missing, and the service would start on it (an
/// nginx with a folder for its htpasswd file answers 500); `create_host_path: false` makes
/// `docker compose up` fail instead, naming the missing path.
#[derive(Debug, Serialize)]
struct SecretMount {
    #[serde(rename = "type")]
    kind: &'static str,
    source: String,
    target: String,
    read_only: bool,
    bind: BindOptions,
}

#[derive(Debug, Serialize)]
struct BindOptions {
    create_host_path: bool,
}

/// The operator's secret file `source` (relative to `compose/`) at `target`.
fn secret(source: &str, target: &str) -> Mount {
    Mount::Secret(SecretMount {
        kind: "bind",
        source: source.to_string(),
        target: target.to_string(),
        read_only: true,
        bind: BindOptions {
            create_host_path: false,
        },
    })
}

/// The files of `proxy.tls` the operator puts beside the compose file: certificate, key, CA.
pub(crate) const COMPOSE_TLS_FILES: [&str; 3] = [
    "./tls/certificate.pem",
    "./tls/certificate-key.pem",
    "./tls/ca.pem",
];

#[derive(Debug, Default, Serialize)]
struct Service {
    image: String,
    /// `never` for the Sockudo image, which is built locally (see the README), never pulled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pull_policy: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    environment: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    volumes: Vec<Mount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<&'static str>,
    /// nginx joins Sockudo's network namespace, so an upstream on 127.0.0.1 reaches Sockudo and
    /// a loopback-only metrics endpoint stays private.
    #[serde(skip_serializing_if = "Option::is_none")]
    network_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<Healthcheck>,
    restart: &'static str,
}

/// Adds the compose stack to `out`: `compose/docker-compose.yml`, the stack's own Alertmanager
/// config and the alert sink's.
pub fn render(model: &Model, out: &mut Output) -> Result<()> {
    let profile = &model.profile;
    let mut services = BTreeMap::from([
        (COMPOSE_SOCKUDO, sockudo(profile)),
        (COMPOSE_PROMETHEUS, prometheus(profile)),
        (COMPOSE_ALERTMANAGER, alertmanager(profile)),
        (COMPOSE_GRAFANA, grafana(profile)),
        (COMPOSE_ALERT_SINK, alert_sink(profile)),
    ]);
    if profile.proxy.enabled {
        services.insert(COMPOSE_NGINX, nginx(profile));
    }
    out.add_yaml(COMPOSE_ALERTMANAGER_PATH, &model.documents.compose_alertmanager)?;
    out.add_hash_commented(COMPOSE_ALERT_SINK_CONF_PATH, &alert_sink_conf());
    let compose = ComposeFile {
        name: format!("sockudo-obs-{}", model.env),
        services,
        volumes: BTreeMap::from([
            (PROMETHEUS_DATA, NamedVolume {}),
            (ALERTMANAGER_DATA, NamedVolume {}),
        ]),
    };
    out.add_yaml("compose/docker-compose.yml", &compose)
}

/// The sink: answers every notification with 204 and logs it (the path names the severity).
fn alert_sink_conf() -> String {
    format!(
        "# The compose stack's alert sink: every Alertmanager receiver of the stack posts here, and\n\
         # nothing leaves the machine. `docker compose logs {COMPOSE_ALERT_SINK}` shows each notification.\n\
         server {{\n    listen {ALERT_SINK_PORT};\n    location / {{\n        return 204;\n    }}\n}}\n"
    )
}

fn alert_sink(profile: &Profile) -> Service {
    Service {
        image: profile.compose.nginx_image.clone(),
        volumes: vec![mount(
            &format!("./{}", relative(COMPOSE_ALERT_SINK_CONF_PATH)),
            "/etc/nginx/conf.d/default.conf",
        )],
        healthcheck: http_healthcheck(format!("http://127.0.0.1:{ALERT_SINK_PORT}/")),
        ..Service::new()
    }
}

/// A path of the compose folder, relative to it.
fn relative(path: &str) -> &str {
    path.strip_prefix("compose/").unwrap_or(path)
}

/// The folder of a bundle path, relative to `compose/`.
fn parent(path: &str) -> &str {
    let inside = path.strip_prefix("compose/").unwrap_or(path);
    inside.rsplit_once('/').map_or(inside, |(dir, _)| dir)
}

/// A read-only bind mount of `source` (relative to `compose/`), a file the bundle renders.
fn mount(source: &str, target: &str) -> Mount {
    Mount::Short(format!("{source}:{target}:ro"))
}

/// A named volume at `target`.
fn named(volume: &str, target: &str) -> Mount {
    Mount::Short(format!("{volume}:{target}"))
}

fn sockudo(profile: &Profile) -> Service {
    let metrics = &profile.metrics;
    // With the proxy, only its port is published; the metrics port stays inside.
    let scrape_port = if profile.proxy.enabled {
        format!("{0}:{0}", profile.proxy.listen_port)
    } else {
        format!("127.0.0.1:{0}:{0}", metrics.port)
    };
    Service {
        image: profile.compose.sockudo_image.clone(),
        pull_policy: Some("never"),
        environment: BTreeMap::from(metrics.server_config().environment()),
        ports: vec![format!("{0}:{0}", DEFAULT_APP_PORT), scrape_port],
        ..Service::new()
    }
}

fn prometheus(profile: &Profile) -> Service {
    // The stack's own prometheus.yml (scraping the stack's services), the bundle's rules.
    let config = relative(COMPOSE_CONFIG_PATH);
    let mut volumes = vec![
        mount(&format!("./{config}"), "/etc/prometheus/prometheus.yml"),
        mount("../prometheus/rules", "/etc/prometheus/rules"),
        named(PROMETHEUS_DATA, "/prometheus"),
    ];
    if let Some(auth) = &profile.prometheus.basic_auth {
        // Prometheus resolves relative file paths against its config file's directory.
        volumes.push(secret(
            "./metrics-password",
            &in_container("/etc/prometheus", &auth.password_file),
        ));
    }
    // Over TLS, the stack's Prometheus verifies its nginx with the profile's CA.
    if let Some(ca_file) = tls(profile).and_then(|t| t.ca_file.as_ref()) {
        volumes.push(secret(
            COMPOSE_TLS_FILES[2],
            &in_container("/etc/prometheus", ca_file),
        ));
    }
    Service {
        image: profile.compose.prometheus_image.clone(),
        command: vec![
            "--config.file=/etc/prometheus/prometheus.yml".into(),
            "--storage.tsdb.path=/prometheus".into(),
            "--web.enable-lifecycle".into(),
        ],
        ports: vec!["127.0.0.1:9090:9090".into()],
        volumes,
        depends_on: vec![COMPOSE_SOCKUDO, COMPOSE_ALERTMANAGER],
        healthcheck: http_healthcheck(format!("http://127.0.0.1:{PROMETHEUS_PORT}/-/healthy")),
        ..Service::new()
    }
}

fn alertmanager(profile: &Profile) -> Service {
    Service {
        image: profile.compose.alertmanager_image.clone(),
        command: vec![
            "--config.file=/etc/alertmanager/alertmanager.yml".into(),
            "--storage.path=/alertmanager".into(),
        ],
        ports: vec!["127.0.0.1:9093:9093".into()],
        // The stack's own config: the profile's receivers, each on the sink.
        volumes: vec![
            mount(
                &format!("./{}", relative(COMPOSE_ALERTMANAGER_PATH)),
                "/etc/alertmanager/alertmanager.yml",
            ),
            named(ALERTMANAGER_DATA, "/alertmanager"),
        ],
        depends_on: vec![COMPOSE_ALERT_SINK],
        healthcheck: http_healthcheck(format!("http://127.0.0.1:{ALERTMANAGER_PORT}/-/healthy")),
        ..Service::new()
    }
}

fn grafana(profile: &Profile) -> Service {
    Service {
        image: profile.compose.grafana_image.clone(),
        ports: vec!["127.0.0.1:3000:3000".into()],
        volumes: vec![
            // The stack's datasource (its own Prometheus), the bundle's dashboard provider.
            mount(
                &format!("./{}", parent(COMPOSE_DATASOURCES_PATH)),
                "/etc/grafana/provisioning/datasources",
            ),
            mount(
                "../grafana/provisioning/dashboards",
                "/etc/grafana/provisioning/dashboards",
            ),
            mount(&format!("../{GRAFANA_DIR}/{DASHBOARDS_DIR}"), DASHBOARDS_MOUNT),
        ],
        depends_on: vec![COMPOSE_PROMETHEUS],
        healthcheck: http_healthcheck("http://127.0.0.1:3000/api/health".into()),
        ..Service::new()
    }
}

fn nginx(profile: &Profile) -> Service {
    let conf_name = NGINX_CONF_PATH.rsplit('/').next().unwrap_or(NGINX_CONF_PATH);
    Service {
        image: profile.compose.nginx_image.clone(),
        volumes: vec![
            mount(
                &format!("../{NGINX_CONF_PATH}"),
                &format!("/etc/nginx/conf.d/{conf_name}"),
            ),
            // nginx resolves a relative auth_basic_user_file against its prefix, /etc/nginx.
            secret(
                "./htpasswd",
                &in_container(NGINX_PREFIX, &profile.proxy.htpasswd_file),
            ),
        ]
        .into_iter()
        .chain(tls(profile).into_iter().flat_map(|tls| {
            // The proxy's own certificate and key, where its server block reads them.
            [
                secret(
                    COMPOSE_TLS_FILES[0],
                    &in_container(NGINX_PREFIX, &tls.certificate),
                ),
                secret(
                    COMPOSE_TLS_FILES[1],
                    &in_container(NGINX_PREFIX, &tls.certificate_key),
                ),
            ]
        }))
        .collect(),
        depends_on: vec![COMPOSE_SOCKUDO],
        network_mode: Some(format!("service:{COMPOSE_SOCKUDO}")),
        ..Service::new()
    }
}

/// The proxy's TLS, when the proxy is on and has it: the stack's nginx serves the host proxy's
/// config, so it needs the same files.
fn tls(profile: &Profile) -> Option<&ProxyTls> {
    profile.proxy.tls.as_ref().filter(|_| profile.proxy.enabled)
}

impl Service {
    fn new() -> Service {
        Service {
            restart: "unless-stopped",
            ..Service::default()
        }
    }
}
