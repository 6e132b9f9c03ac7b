//! `prometheus.remote_write` with Prometheus's own field names: headers (a Mimir tenant),
//! `basic_auth` or `authorization` with credentials from files, TLS and `queue_config`, copied
//! into `prometheus.yml` as the profile gives them and accepted by promtool of both generations;
//! what Prometheus refuses is refused by the profile, naming the key, and promtool refuses it too.

use crate::support::specs::{self, Specs};
use crate::support::validate;

use serde_json::Value;
use sockudo_obs::bundle::{self, Overrides};

const PROFILE: &str = "environments/production.yaml";

/// A Mimir tenant with a bearer token, client TLS and a tuned queue; a Thanos Receive with basic
/// auth.
const REMOTE_WRITE: &str = r#"
- name: mimir
  url: https://mimir.monitoring.example:443/api/v1/push
  headers:
    X-Scope-OrgID: sockudo-production
  authorization:
    type: Bearer
    credentials_file: /etc/prometheus/secrets/mimir/token
  tls_config:
    ca_file: /etc/prometheus/secrets/mimir/ca.pem
    cert_file: /etc/prometheus/secrets/mimir/client.pem
    key_file: /etc/prometheus/secrets/mimir/client-key.pem
    server_name: mimir.monitoring.example
  queue_config:
    capacity: 10000
    min_shards: 1
    max_shards: 50
    max_samples_per_send: 2000
    batch_send_deadline: 5s
    min_backoff: 30ms
    max_backoff: 5s
- name: thanos-receive
  url: http://thanos-receive.monitoring.svc:19291/api/v1/receive
  basic_auth:
    username: prometheus
    password_file: /etc/prometheus/secrets/thanos/password
"#;

fn with_remote_write(remote_write: serde_norway::Value) -> Specs {
    let specs = Specs::copy();
    specs.edit_yaml(PROFILE, |profile| {
        specs::set(profile, "prometheus.remote_write", remote_write);
    });
    specs
}

fn remote_write() -> serde_norway::Value {
    serde_norway::from_str(REMOTE_WRITE).unwrap()
}

#[test]
fn every_remote_write_setting_reaches_prometheus_and_promtool_accepts_it() {
    let specs = with_remote_write(remote_write());
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    let config: Value = serde_norway::from_str(&specs::text(&out, "prometheus/prometheus.yml")).unwrap();
    let expected: Value = serde_json::to_value(remote_write()).unwrap();
    assert_eq!(config["remote_write"], expected, "prometheus.yml's remote_write");
    let cluster = specs::text(&out, "k8s/prometheus-configmap.yaml");
    let cluster: Value = serde_norway::from_str(&cluster).unwrap();
    let cluster: Value = serde_norway::from_str(cluster["data"]["prometheus.yml"].as_str().unwrap()).unwrap();
    assert_eq!(
        cluster["remote_write"], expected,
        "the ConfigMap's prometheus.yml"
    );

    let dir = tempfile::tempdir().unwrap();
    let bundle_dir = dir.path().join("b");
    out.write_atomically(&bundle_dir).unwrap();
    // promtool of both generations; the credential and certificate files are the deployment's,
    // checked as placeholders.
    validate::assert_passes(&["prometheus"], &bundle_dir, None);
}

/// What Prometheus refuses in a remote_write entry is refused when the profile is read, naming
/// the key; for the refusals Prometheus itself makes (a reserved header, two kinds of
/// credentials), promtool is shown to refuse the same config.
#[test]
fn what_prometheus_refuses_is_refused_naming_the_key() {
    let cases: [(&str, serde_norway::Value, &str); 9] = [
        (
            "headers",
            serde_norway::from_str("{Authorization: Bearer secret}").unwrap(),
            "prometheus.remote_write[0].headers.Authorization: Prometheus sets this header itself",
        ),
        (
            "headers",
            serde_norway::from_str("{Content-Type: text/plain}").unwrap(),
            "prometheus.remote_write[0].headers.Content-Type: Prometheus sets this header itself",
        ),
        (
            "headers",
            serde_norway::from_str("{'X Tenant': a}").unwrap(),
            "prometheus.remote_write[0].headers: \"X Tenant\" is not an HTTP header name",
        ),
        (
            "basic_auth",
            serde_norway::from_str("{username: p, password_file: /p}").unwrap(),
            "prometheus.remote_write[0].authorization: give basic_auth or authorization, not both",
        ),
        (
            "authorization",
            serde_norway::from_str("{type: Basic, credentials_file: /t}").unwrap(),
            "prometheus.remote_write[0].authorization.type: Basic goes in basic_auth",
        ),
        (
            "authorization",
            serde_norway::from_str("{credentials: inline-token}").unwrap(),
            "unknown field `credentials`",
        ),
        (
            "tls_config",
            serde_norway::from_str("{cert_file: /c.pem}").unwrap(),
            "prometheus.remote_write[0].tls_config: cert_file and key_file go together",
        ),
        (
            "queue_config",
            serde_norway::from_str("{min_shards: 10, max_shards: 2}").unwrap(),
            "prometheus.remote_write[0].queue_config.min_shards: 10 is more than queue_config.max_shards 2",
        ),
        (
            "queue_config",
            serde_norway::from_str("{min_backoff: 1m, max_backoff: 5s}").unwrap(),
            "prometheus.remote_write[0].queue_config.min_backoff: 1m is longer than queue_config.max_backoff 5s",
        ),
    ];
    for (field, value, needle) in cases {
        let mut entries = remote_write();
        entries[0][field] = value;
        let error = with_remote_write(entries).load_error("production");
        assert!(error.contains(needle), "{field}: expected {needle:?} in\n{error}");
        assert!(error.contains(PROFILE), "{error}");
    }
    let mut plain_http = remote_write();
    plain_http[0]["url"] = "http://mimir.monitoring.example/api/v1/push".into();
    let error = with_remote_write(plain_http).load_error("production");
    assert!(
        error.contains("prometheus.remote_write[0].tls_config: ") && error.contains("is not an https URL"),
        "{error}"
    );
}

/// The profile's refusals agree with Prometheus's: the accepted config, given a reserved header
/// or both kinds of credentials behind the profile's back, is refused by promtool.
#[test]
fn promtool_refuses_what_the_profile_refuses() {
    let specs = with_remote_write(remote_write());
    let out = bundle::build(&specs.source(), "production", &Overrides::default()).unwrap();
    for (what, edit) in [
        (
            "an Authorization header",
            (|c: &mut Value| c["remote_write"][0]["headers"]["Authorization"] = "Bearer x".into())
                as fn(&mut Value),
        ),
        ("a Content-Type header", |c: &mut Value| {
            c["remote_write"][0]["headers"]["Content-Type"] = "text/plain".into()
        }),
        ("basic_auth and authorization", |c: &mut Value| {
            c["remote_write"][0]["basic_auth"] =
                serde_json::json!({"username": "p", "password_file": "/etc/prometheus/p"})
        }),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let bundle_dir = dir.path().join("b");
        out.write_atomically(&bundle_dir).unwrap();
        let file = bundle_dir.join("prometheus/prometheus.yml");
        let mut config: Value = serde_norway::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        edit(&mut config);
        std::fs::write(&file, serde_norway::to_string(&config).unwrap()).unwrap();
        let output = validate::assert_rejects(
            &["prometheus"],
            &bundle_dir,
            "promtool check config",
            "prometheus/prometheus.yml",
        );
        assert!(!output.is_empty(), "{what}");
    }
}
