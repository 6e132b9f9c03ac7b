//! `MetricsConfig::load` against real files: what the CLI does with `--config`.

use std::io::Write;
use std::path::Path;

use sockudo_obs::config::{ConfigError, Driver, MetricsConfig};

const WHOLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/config/sockudo-config.json"
);

fn temp_file(contents: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(contents).unwrap();
    file
}

/// `load` reads the process environment, which the test harness shares between threads; skip
/// value assertions that a stray `METRICS_*` variable in the caller's shell would change.
fn env_is_clean() -> bool {
    sockudo_obs::config::ENVIRONMENT_VARIABLES
        .iter()
        .all(|var| std::env::var_os(var).is_none())
}

#[test]
fn load_reads_a_whole_sockudo_config() {
    let config = MetricsConfig::load(Some(Path::new(WHOLE))).unwrap();
    if env_is_clean() {
        assert_eq!(
            config,
            MetricsConfig {
                enabled: true,
                driver: Driver::Prometheus,
                host: "127.0.0.1".into(),
                port: 9602,
                prefix: "my_company_sockudo_".into(),
            }
        );
        assert_eq!(config.listen_addr(), "127.0.0.1:9602");
    }
}

#[test]
fn load_reads_a_bare_metrics_object_from_a_temp_file() {
    let file = temp_file(br#"{"enabled": true, "host": "::", "port": 9700}"#);
    let config = MetricsConfig::load(Some(file.path())).unwrap();
    if env_is_clean() {
        assert_eq!(config.listen_addr(), "[::]:9700");
        assert_eq!(config.prefix, "sockudo_");
    }
}

#[test]
fn load_without_a_file_gives_defaults() {
    let config = MetricsConfig::load(None).unwrap();
    if env_is_clean() {
        assert_eq!(config, MetricsConfig::default());
    }
}

#[test]
fn load_names_the_file_as_given() {
    let file = temp_file(br#"{"metrics": {"port": "abc"}}"#);
    let err = MetricsConfig::load(Some(file.path())).unwrap_err();
    let path = file.path().display().to_string();
    assert_eq!(err.source, path);
    assert_eq!(err.key, "metrics.port");
    assert_eq!(
        err.to_string(),
        format!("{path}: metrics.port: expected an integer from 1 to 65535, found \"abc\"")
    );
}

#[test]
fn load_reports_bad_json_with_its_position() {
    let file = temp_file(b"{\n  \"metrics\": {\n    \"port\": 9601\n");
    let err = MetricsConfig::load(Some(file.path())).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(": not valid JSON: EOF while parsing"),
        "{message}"
    );
    assert!(message.contains("line 4 column 0"), "{message}");
}

#[test]
fn missing_file_is_a_config_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let err = MetricsConfig::load(Some(&missing)).unwrap_err();
    assert!(err
        .to_string()
        .starts_with(&format!("{}: cannot read: ", missing.display())));
    let chained = anyhow::Error::new(err.clone()).context("loading the metrics config");
    assert!(chained.chain().any(|e| e.is::<ConfigError>()));
    // As the crate's error: a Config kind (exit code 2), naming the file and no key.
    let converted = sockudo_obs::Error::from(err.clone());
    assert!(matches!(converted.kind(), sockudo_obs::ErrorKind::Config));
    assert!(converted.is_usage());
    assert_eq!(converted.path(), Some(missing.as_path()));
    assert_eq!(converted.key(), None);
    assert_eq!(converted.to_string(), err.to_string());
}
