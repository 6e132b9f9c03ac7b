//! Resolves the `metrics` section of a Sockudo `config.json` into one validated
//! [`MetricsConfig`]: seed defaults, then the file, then the `METRICS_*` environment overrides.
//!
//! The file may be a whole Sockudo `config.json` (only its `metrics` key is read; every other
//! top-level section is ignored) or the bare `metrics` object, told apart by what the document
//! holds (see `metrics_section`): a bare object names at least one of `enabled`, `driver` or
//! `prometheus`, and a document holding only `host`/`port` is refused as ambiguous. Inside
//! `metrics`, unknown keys are errors, so a typo never silently falls back to a default.
//!
//! Environment variables win over the file. `METRICS_PROMETHEUS_PREFIX` (what the real Sockudo
//! server reads) is accepted as an alias of the documented `PROMETHEUS_METRICS_PREFIX`; if both are
//! set they must agree, because the bundle and the server would otherwise use different prefixes.
//! An empty variable is a value, not "unset" (an empty prefix is meaningful).
//!
//! Every error is one line naming the key, where the value came from (the file path as given, or
//! the variable) and what is allowed.

use std::ffi::OsString;
use std::fmt;
use std::net::Ipv6Addr;
use std::path::Path;

use serde_json::{Map, Value};

use crate::catalogue::DEFAULT_PREFIX;
use crate::names;

/// The resolved `metrics` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `metrics.enabled` / `METRICS_ENABLED` (default true): when false, recording goes nowhere
    /// and nothing is served.
    pub enabled: bool,
    /// `metrics.driver` / `METRICS_DRIVER` (default `prometheus`, the only one).
    pub driver: Driver,
    /// `metrics.host` / `METRICS_HOST` (default `0.0.0.0`): the address `/metrics` listens on.
    pub host: String,
    /// `metrics.port` / `METRICS_PORT` (default 9601): the port `/metrics` listens on.
    pub port: u16,
    /// `metrics.prometheus.prefix` / `PROMETHEUS_METRICS_PREFIX` (default `sockudo_`): prepended
    /// to every metric name.
    pub prefix: String,
}

/// The metrics driver; the seed documents only Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The Prometheus text exposition, served on `/metrics`.
    Prometheus,
}

impl Driver {
    /// The name used in `metrics.driver` and `METRICS_DRIVER`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Driver::Prometheus => "prometheus",
        }
    }
}

impl MetricsConfig {
    /// The environment that sets a server to this config: each setting's documented variable
    /// with its value, `METRICS_ENABLED` first. A deployment writes these; [`MetricsConfig::load`]
    /// reads them back to the same config.
    pub fn environment(&self) -> [(&'static str, String); 5] {
        [
            (ENABLED.vars[0], self.enabled.to_string()),
            (DRIVER.vars[0], self.driver.as_str().to_string()),
            (HOST.vars[0], self.host.clone()),
            (PORT.vars[0], self.port.to_string()),
            (PREFIX.vars[0], self.prefix.clone()),
        ]
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            driver: Driver::Prometheus,
            host: "0.0.0.0".to_string(),
            port: 9601,
            prefix: DEFAULT_PREFIX.to_string(),
        }
    }
}

impl MetricsConfig {
    /// Reads `path` (a whole config.json or a bare `metrics` object) when given, applies the
    /// `METRICS_*` environment overrides from the process environment, and validates the result.
    pub fn load(path: Option<&Path>) -> Result<MetricsConfig, ConfigError> {
        let file = path.map(read_file).transpose()?;
        let file = file
            .as_ref()
            .map(|(origin, bytes)| (origin.as_str(), bytes.as_slice()));
        MetricsConfig::from_sources(file, &|var| std::env::var_os(var))
    }

    /// Resolves the config from explicit sources: `file` is `(name shown in errors, contents)`,
    /// `env` looks a variable up. [`MetricsConfig::load`] is this with the real file and process
    /// environment; tests inject both.
    pub fn from_sources(
        file: Option<(&str, &[u8])>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<MetricsConfig, ConfigError> {
        let mut config = MetricsConfig::default();
        if let Some((origin, bytes)) = file {
            config.apply_file(origin, bytes)?;
        }
        config.apply_env(env)?;
        Ok(config)
    }

    /// The address to bind, `host:port`, with an IPv6 host bracketed (`[::1]:9601`), scoped ones
    /// (`fe80::1%eth0`) included; a host given in brackets already is kept as it is. The exporter
    /// binds this address.
    pub fn listen_addr(&self) -> String {
        let address = self
            .host
            .split_once('%')
            .map_or(&*self.host, |(address, _scope)| address);
        if address.parse::<Ipv6Addr>().is_ok() {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn apply_file(&mut self, origin: &str, bytes: &[u8]) -> Result<(), ConfigError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ConfigError::whole_file(origin, format!("not UTF-8 ({e})")))?;
        // Editors on Windows like to start files with a byte-order mark; JSON parsers do not.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::whole_file(origin, format!("not valid JSON: {e}")))?;
        reject_duplicate_keys(text).map_err(|e| ConfigError::whole_file(origin, e))?;
        let Some(metrics) = metrics_section(origin, &doc)? else {
            return Ok(());
        };

        let section = Section::new(origin, "metrics", metrics, METRICS_KEYS)?;
        set(&mut self.enabled, section.get(&ENABLED)?);
        set(&mut self.driver, section.get(&DRIVER)?);
        set(&mut self.host, section.get(&HOST)?);
        set(&mut self.port, section.get(&PORT)?);
        if let Some(prometheus) = metrics.get("prometheus") {
            let prometheus = expect_object(origin, "metrics.prometheus", prometheus)?;
            let section = Section::new(origin, "metrics.prometheus", prometheus, &["prefix"])?;
            set(&mut self.prefix, section.get(&PREFIX)?);
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<OsString>) -> Result<(), ConfigError> {
        set(&mut self.enabled, env_override(env, &ENABLED)?);
        set(&mut self.driver, env_override(env, &DRIVER)?);
        set(&mut self.host, env_override(env, &HOST)?);
        set(&mut self.port, env_override(env, &PORT)?);
        set(&mut self.prefix, env_override(env, &PREFIX)?);
        Ok(())
    }
}

/// A bad config value, naming the key and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the value came from: the config file path as given, or the environment variable.
    pub source: String,
    /// The setting, as its file key (`metrics.port`, `metrics.prometheus.prefix`); empty when the
    /// file as a whole is unusable (unreadable, not UTF-8, not JSON, not an object).
    pub key: String,
    /// The whole one-line explanation, as `Display` prints it.
    pub message: String,
}

impl ConfigError {
    fn whole_file(origin: &str, problem: String) -> ConfigError {
        ConfigError {
            source: origin.to_string(),
            key: String::new(),
            message: format!("{origin}: {problem}"),
        }
    }

    fn file_key(origin: &str, key: &str, problem: String) -> ConfigError {
        ConfigError {
            source: origin.to_string(),
            key: key.to_string(),
            message: format!("{origin}: {key}: {problem}"),
        }
    }

    fn env(var: &str, key: &str, message: String) -> ConfigError {
        ConfigError {
            source: var.to_string(),
            key: key.to_string(),
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// How one setting is read from the file and from the environment. Each setting is described
/// once, so the file and the environment cannot disagree on what a valid value is.
struct Setting<T> {
    /// The key inside its section (`port`), and the full file key for messages (`metrics.port`).
    name: &'static str,
    key: &'static str,
    /// The documented variable first, then aliases; all that are set must agree.
    vars: &'static [&'static str],
    /// What a variable may hold, and what the JSON value may be (JSON has real types).
    env_allowed: &'static str,
    file_allowed: &'static str,
    parse: fn(&str) -> Option<T>,
    decode: fn(&Value) -> Option<T>,
}

const ENABLED: Setting<bool> = Setting {
    name: "enabled",
    key: "metrics.enabled",
    vars: &["METRICS_ENABLED"],
    env_allowed: "a boolean (true, false, 1, 0)",
    file_allowed: "a boolean (true or false)",
    parse: parse_bool,
    decode: Value::as_bool,
};

const DRIVER: Setting<Driver> = Setting {
    name: "driver",
    key: "metrics.driver",
    vars: &["METRICS_DRIVER"],
    env_allowed: "a supported driver (allowed: prometheus)",
    file_allowed: "a supported driver (allowed: \"prometheus\")",
    parse: parse_driver,
    decode: |v| v.as_str().and_then(parse_driver),
};

const HOST: Setting<String> = Setting {
    name: "host",
    key: "metrics.host",
    vars: &["METRICS_HOST"],
    env_allowed: "an IP address (v4 or v6) or an RFC 1123 hostname, not multicast or broadcast",
    file_allowed: "a string holding an IP address (v4 or v6) or an RFC 1123 hostname, not \
                   multicast or broadcast",
    parse: parse_host,
    decode: |v| v.as_str().and_then(parse_host),
};

const PORT: Setting<u16> = Setting {
    name: "port",
    key: "metrics.port",
    vars: &["METRICS_PORT"],
    env_allowed: "a port number (1-65535)",
    file_allowed: "an integer from 1 to 65535",
    parse: parse_port,
    decode: |v| v.as_u64().and_then(|n| u16::try_from(n).ok()).filter(|&p| p != 0),
};

const PREFIX: Setting<String> = Setting {
    name: "prefix",
    key: "metrics.prometheus.prefix",
    vars: &["PROMETHEUS_METRICS_PREFIX", "METRICS_PROMETHEUS_PREFIX"],
    env_allowed: "a metric name prefix (empty, or ASCII letters, digits and \"_\", not starting \
                  with a digit)",
    file_allowed: "a string holding a metric name prefix (empty, or ASCII letters, digits and \
                   \"_\", not starting with a digit)",
    parse: parse_prefix,
    decode: |v| v.as_str().and_then(parse_prefix),
};

/// The path a server serves its metrics on, and every scrape of the bundle reads.
pub const METRICS_PATH: &str = "/metrics";

/// The variables that set the prefix: the documented one, then the real Sockudo's alias.
pub const PREFIX_VARIABLES: &[&str] = PREFIX.vars;

/// Every environment variable that overrides the `metrics` section.
pub const ENVIRONMENT_VARIABLES: [&str; 6] = [
    ENABLED.vars[0],
    DRIVER.vars[0],
    HOST.vars[0],
    PORT.vars[0],
    PREFIX.vars[0],
    PREFIX.vars[1],
];

/// The keys of the `metrics` object.
const METRICS_KEYS: &[&str] = &["enabled", "driver", "host", "port", "prometheus"];

/// Keys that only a `metrics` object has, the positive evidence that a document without a
/// `metrics` key is a bare `metrics` object. A whole config.json has top-level `host` and `port`
/// of its own (the WebSocket server's), so those two say nothing either way.
const METRICS_ONLY_KEYS: &[&str] = &["enabled", "driver", "prometheus"];

/// Picks the `metrics` object out of the document, by what the document holds:
/// - a `metrics` key: a whole config.json, and that key is the section;
/// - one of [`METRICS_ONLY_KEYS`]: a bare `metrics` object (its other keys are checked like the
///   section's, so a typo is an error);
/// - a key a `metrics` object cannot hold (`debug`, `adapter`, ...): a whole config.json without a
///   `metrics` section, which means the defaults, as for the Sockudo server reading it;
/// - nothing at all (`{}`): the defaults, whichever it was meant to be;
/// - only `host` and/or `port`: an error, since those are the WebSocket server's address in a whole
///   config.json and the exporter's in a bare section, and either guess silently binds or scrapes
///   the wrong port.
fn metrics_section<'a>(origin: &str, doc: &'a Value) -> Result<Option<&'a Map<String, Value>>, ConfigError> {
    let top = doc.as_object().ok_or_else(|| {
        ConfigError::whole_file(
            origin,
            format!(
                "expected a JSON object (a whole config.json or its \"metrics\" object), found {}",
                describe(doc)
            ),
        )
    })?;
    if let Some(metrics) = top.get("metrics") {
        return expect_object(origin, "metrics", metrics).map(Some);
    }
    if top.keys().any(|k| METRICS_ONLY_KEYS.contains(&k.as_str())) {
        return Ok(Some(top));
    }
    if top.is_empty() || top.keys().any(|k| !METRICS_KEYS.contains(&k.as_str())) {
        return Ok(None);
    }
    let held: Vec<String> = top.keys().map(|k| format!("{k:?}")).collect();
    Err(ConfigError::whole_file(
        origin,
        format!(
            "holds only {}, which is the WebSocket server's address in a whole Sockudo \
             config.json and the exporter's in a bare metrics section; for a whole config.json \
             give the exporter's under \"metrics\" (\"metrics\": {{}} for the defaults), for a \
             bare section add one of {}",
            held.join(" and "),
            METRICS_ONLY_KEYS.join(", ")
        ),
    ))
}

fn expect_object<'a>(
    origin: &str,
    key: &str,
    value: &'a Value,
) -> Result<&'a Map<String, Value>, ConfigError> {
    value.as_object().ok_or_else(|| {
        ConfigError::file_key(
            origin,
            key,
            format!("expected an object, found {}", describe(value)),
        )
    })
}

/// One JSON object of the config (`metrics` or `metrics.prometheus`) whose keys were checked.
struct Section<'a> {
    origin: &'a str,
    object: &'a Map<String, Value>,
}

impl<'a> Section<'a> {
    /// Rejects keys outside `known`, naming the first one, so typos are not silently ignored.
    fn new(
        origin: &'a str,
        path: &str,
        object: &'a Map<String, Value>,
        known: &[&str],
    ) -> Result<Section<'a>, ConfigError> {
        if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ConfigError::file_key(
                origin,
                &format!("{path}.{unknown}"),
                format!("unknown key (allowed: {})", known.join(", ")),
            ));
        }
        Ok(Section { origin, object })
    }

    /// The setting's value from this section, if present; present but invalid is an error.
    fn get<T>(&self, setting: &Setting<T>) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.object.get(setting.name) else {
            return Ok(None);
        };
        (setting.decode)(value).map(Some).ok_or_else(|| {
            let problem = format!("expected {}, found {}", setting.file_allowed, describe(value));
            ConfigError::file_key(self.origin, setting.key, problem)
        })
    }
}

/// The setting's value from the environment, if any of its variables is set.
fn env_override<T>(
    env: &dyn Fn(&str) -> Option<OsString>,
    setting: &Setting<T>,
) -> Result<Option<T>, ConfigError> {
    let mut chosen: Option<(&str, String)> = None;
    for &var in setting.vars {
        let Some(value) = read_var(env, var, setting.key)? else {
            continue;
        };
        match &chosen {
            Some((first, first_value)) if *first_value != value => {
                let message = format!(
                    "{first}={} and {var}={} disagree; set only one, or both to the same value",
                    quote(first_value),
                    quote(&value)
                );
                return Err(ConfigError::env(first, setting.key, message));
            }
            Some(_) => {}
            None => chosen = Some((var, value)),
        }
    }
    let Some((var, value)) = chosen else {
        return Ok(None);
    };
    (setting.parse)(&value).map(Some).ok_or_else(|| {
        let message = format!(
            "{var}={} ({}) is not {}",
            quote(&value),
            setting.key,
            setting.env_allowed
        );
        ConfigError::env(var, setting.key, message)
    })
}

fn read_var(
    env: &dyn Fn(&str) -> Option<OsString>,
    var: &str,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    env(var)
        .map(|raw| {
            raw.into_string().map_err(|raw| {
                let message = format!(
                    "{var}={} ({key}) is not valid UTF-8",
                    quote(&raw.to_string_lossy())
                );
                ConfigError::env(var, key, message)
            })
        })
        .transpose()
}

/// The largest config file read: a Sockudo config.json is a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Reads a regular file of at most [`MAX_CONFIG_BYTES`]; a device (`/dev/zero`) or a FIFO, which
/// would never end or never start, is refused before it is opened.
fn read_file(path: &Path) -> Result<(String, Vec<u8>), ConfigError> {
    use std::io::Read;
    let origin = path.display().to_string();
    let cannot = |e: std::io::Error| ConfigError::whole_file(&origin, format!("cannot read: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    let too_big = || ConfigError::whole_file(&origin, format!("larger than {MAX_CONFIG_BYTES} bytes"));
    if !meta.is_file() {
        return Err(ConfigError::whole_file(&origin, "not a regular file".into()));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(cannot)?;
    // Bounded even if the file grows while it is read.
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big());
    }
    Ok((origin, bytes))
}

/// Fails on the first object key that appears twice (JSON parsers keep the last one silently),
/// naming it by its dotted path.
fn reject_duplicate_keys(text: &str) -> Result<(), String> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct Node(String);

    impl<'de> DeserializeSeed<'de> for Node {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Node {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq.next_element_seed(Node(format!("{}[{i}]", self.0)))?.is_some() {
                i += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.0.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.0)
                };
                if !seen.insert(key) {
                    return Err(A::Error::custom(format!(
                        "{path}: the key appears twice (give it once)"
                    )));
                }
                map.next_value_seed(Node(path))?;
            }
            Ok(())
        }
    }

    let mut json = serde_json::Deserializer::from_str(text);
    Node(String::new()).deserialize(&mut json).map_err(|e| {
        // serde_json appends " at line L column C"; the path already says where.
        let text = e.to_string();
        text.split(" at line ").next().unwrap_or(&text).to_string()
    })
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_driver(s: &str) -> Option<Driver> {
    (s == Driver::Prometheus.as_str()).then_some(Driver::Prometheus)
}

/// Digits only: `u16::from_str` would also take `+9601`.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&p| p != 0)
}

/// The rule is [`names::is_listen_host`].
fn parse_host(s: &str) -> Option<String> {
    names::is_listen_host(s).then(|| s.to_string())
}

/// The prefix rule is [`names::is_metric_prefix`]: every catalogue name stays a valid metric
/// name, and no colon (Prometheus reserves those for recording rules).
fn parse_prefix(s: &str) -> Option<String> {
    names::is_metric_prefix(s).then(|| s.to_string())
}

/// A value quoted for a one-line message: escaped, and cut short if long.
fn quote(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head:?}...")
    }
}

/// A JSON value as a message shows what was found: scalars verbatim, containers by kind.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FILE: &str = "config.json";
    const ENV_VARS: &[&str] = &ENVIRONMENT_VARIABLES;

    fn no_env(_: &str) -> Option<OsString> {
        None
    }

    fn from_file(json: &str) -> Result<MetricsConfig, ConfigError> {
        MetricsConfig::from_sources(Some((FILE, json.as_bytes())), &no_env)
    }

    fn from_env(vars: &[(&str, &str)]) -> Result<MetricsConfig, ConfigError> {
        from_both(None, vars)
    }

    fn from_both(json: Option<&str>, vars: &[(&str, &str)]) -> Result<MetricsConfig, ConfigError> {
        let env = |name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| OsString::from(value))
        };
        MetricsConfig::from_sources(json.map(|j| (FILE, j.as_bytes())), &env)
    }

    fn file_error(json: &str) -> ConfigError {
        from_file(json).expect_err(json)
    }

    /// What a deployment writes from a config, the server reads back as that config, on top of
    /// a file that says otherwise; and each documented variable is written once.
    #[test]
    fn the_environment_of_a_config_loads_back_to_it() {
        let config = MetricsConfig {
            enabled: false,
            host: "127.0.0.1".into(),
            port: 19601,
            prefix: "edge_".into(),
            ..MetricsConfig::default()
        };
        let written = config.environment();
        let vars: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let file = r#"{"metrics": {"enabled": true, "port": 9601, "prometheus": {"prefix": "x_"}}}"#;
        assert_eq!(from_both(Some(file), &vars).unwrap(), config);
        let mut names: Vec<&str> = vars.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), written.len(), "{vars:?}");
        assert!(
            names.iter().all(|n| ENVIRONMENT_VARIABLES.contains(n)),
            "{vars:?}"
        );
    }

    fn env_error(var: &str, value: &str) -> ConfigError {
        from_env(&[(var, value)]).expect_err(value)
    }

    #[test]
    fn defaults_without_file_or_env() {
        let config = MetricsConfig::from_sources(None, &no_env).unwrap();
        assert_eq!(config, MetricsConfig::default());
        assert_eq!(
            (
                config.enabled,
                config.driver,
                config.host.as_str(),
                config.port,
                config.prefix.as_str()
            ),
            (true, Driver::Prometheus, "0.0.0.0", 9601, "sockudo_")
        );
        assert_eq!(config.listen_addr(), "0.0.0.0:9601");
    }

    #[test]
    fn empty_object_and_config_without_metrics_give_defaults() {
        assert_eq!(from_file("{}").unwrap(), MetricsConfig::default());
        let whole = r#"{"debug": false, "host": "127.0.0.1", "port": 6001, "adapter": {}}"#;
        assert_eq!(from_file(whole).unwrap(), MetricsConfig::default());
    }

    #[test]
    fn whole_config_reads_metrics_and_ignores_other_sections() {
        let json = r#"{
            "debug": true, "host": "127.0.0.1", "port": 6001,
            "adapter": {"driver": "redis", "whatever": 1},
            "metrics": {"enabled": false, "driver": "prometheus", "host": "::1", "port": 9100,
                        "prometheus": {"prefix": "acme_"}}
        }"#;
        let config = from_file(json).unwrap();
        assert_eq!(
            config,
            MetricsConfig {
                enabled: false,
                driver: Driver::Prometheus,
                host: "::1".into(),
                port: 9100,
                prefix: "acme_".into(),
            }
        );
        assert_eq!(config.listen_addr(), "[::1]:9100");
    }

    #[test]
    fn bare_metrics_object() {
        let config = from_file(r#"{"port": 9700, "prometheus": {"prefix": ""}}"#).unwrap();
        assert_eq!((config.port, config.prefix.as_str()), (9700, ""));
        assert!(!from_file(r#"{"enabled": false}"#).unwrap().enabled);
        // A bare object is checked for typos like the `metrics` key of a whole file.
        let err = file_error(r#"{"enabled": true, "prot": 1}"#);
        assert_eq!(err.key, "metrics.prot");
        assert!(
            err.to_string()
                .starts_with("config.json: metrics.prot: unknown key"),
            "{err}"
        );
    }

    /// A Sockudo config.json holding only its WebSocket server's `host`/`port` is not taken for the
    /// exporter's: the decision needs a `metrics` key, a key only the metrics section has, or a
    /// key only a whole config has.
    #[test]
    fn host_and_port_alone_are_refused_as_ambiguous() {
        for json in [
            r#"{"host": "0.0.0.0", "port": 6001}"#,
            r#"{"port": 6001}"#,
            r#"{"host": "127.0.0.1"}"#,
        ] {
            let err = file_error(json);
            assert_eq!((err.source.as_str(), err.key.as_str()), (FILE, ""), "{json}");
            let message = err.to_string();
            assert!(message.starts_with("config.json: holds only "), "{message}");
            assert!(
                message.contains("\"metrics\"") && message.contains("enabled, driver, prometheus"),
                "{message}"
            );
            assert!(!message.contains('\n'));
        }
        // With a key only a whole config has, the server's host and port are left alone.
        let whole = from_file(r#"{"host": "0.0.0.0", "port": 6001, "debug": true}"#).unwrap();
        assert_eq!(whole, MetricsConfig::default());
        // With a key only a metrics section has, they are the exporter's.
        let bare = from_file(r#"{"host": "127.0.0.1", "port": 9700, "enabled": true}"#).unwrap();
        assert_eq!((bare.host.as_str(), bare.port), ("127.0.0.1", 9700));
    }

    #[test]
    fn env_overrides_file() {
        let json = r#"{"metrics": {"enabled": true, "host": "10.0.0.1", "port": 9100,
                                   "prometheus": {"prefix": "file_"}}}"#;
        let vars = [
            ("METRICS_ENABLED", "FALSE"),
            ("METRICS_HOST", "metrics.internal"),
            ("METRICS_PORT", "9200"),
            ("PROMETHEUS_METRICS_PREFIX", "env_"),
        ];
        let config = from_both(Some(json), &vars).unwrap();
        assert!(!config.enabled);
        assert_eq!(config.host, "metrics.internal");
        assert_eq!(config.port, 9200);
        assert_eq!(config.prefix, "env_");
        // What the environment does not set keeps the file's value.
        let config = from_both(Some(json), &[("METRICS_PORT", "9300")]).unwrap();
        assert_eq!((config.host.as_str(), config.port), ("10.0.0.1", 9300));
    }

    #[test]
    fn enabled_spellings() {
        for (value, expected) in [
            ("true", true),
            ("1", true),
            ("True", true),
            ("0", false),
            ("false", false),
        ] {
            assert_eq!(
                from_env(&[("METRICS_ENABLED", value)]).unwrap().enabled,
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn prefix_alias() {
        let alias = from_env(&[("METRICS_PROMETHEUS_PREFIX", "alias_")]).unwrap();
        assert_eq!(alias.prefix, "alias_");
        let both_same = [
            ("PROMETHEUS_METRICS_PREFIX", "x_"),
            ("METRICS_PROMETHEUS_PREFIX", "x_"),
        ];
        assert_eq!(from_env(&both_same).unwrap().prefix, "x_");
        let both_differ = [
            ("PROMETHEUS_METRICS_PREFIX", "a_"),
            ("METRICS_PROMETHEUS_PREFIX", "b_"),
        ];
        let err = from_env(&both_differ).unwrap_err();
        assert_eq!(err.source, "PROMETHEUS_METRICS_PREFIX");
        assert_eq!(
            err.to_string(),
            "PROMETHEUS_METRICS_PREFIX=\"a_\" and METRICS_PROMETHEUS_PREFIX=\"b_\" disagree; set \
             only one, or both to the same value"
        );
        let err = env_error("METRICS_PROMETHEUS_PREFIX", "bad-prefix");
        assert_eq!(err.source, "METRICS_PROMETHEUS_PREFIX");
        assert!(err
            .to_string()
            .starts_with("METRICS_PROMETHEUS_PREFIX=\"bad-prefix\" (metrics.prometheus.prefix) is not"));
    }

    #[test]
    fn bad_env_values_name_the_variable_and_what_is_allowed() {
        let cases = [
            (
                "METRICS_PORT",
                "-1",
                "METRICS_PORT=\"-1\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_PORT",
                "0",
                "METRICS_PORT=\"0\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_PORT",
                "65536",
                "METRICS_PORT=\"65536\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_PORT",
                "abc",
                "METRICS_PORT=\"abc\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_PORT",
                "",
                "METRICS_PORT=\"\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_PORT",
                "+9601",
                "METRICS_PORT=\"+9601\" (metrics.port) is not a port number (1-65535)",
            ),
            (
                "METRICS_ENABLED",
                "maybe",
                "METRICS_ENABLED=\"maybe\" (metrics.enabled) is not a boolean (true, false, 1, 0)",
            ),
            (
                "METRICS_DRIVER",
                "statsd",
                "METRICS_DRIVER=\"statsd\" (metrics.driver) is not a supported driver (allowed: prometheus)",
            ),
            (
                "METRICS_DRIVER",
                "Prometheus",
                "METRICS_DRIVER=\"Prometheus\" (metrics.driver) is not a supported driver (allowed: prometheus)",
            ),
            (
                "METRICS_HOST",
                "not a host",
                "METRICS_HOST=\"not a host\" (metrics.host) is not an IP address (v4 or v6) or an RFC 1123 hostname, not multicast or broadcast",
            ),
        ];
        for (var, value, message) in cases {
            let err = env_error(var, value);
            assert_eq!(err.to_string(), message);
            assert_eq!(err.source, var);
        }
        for prefix in ["my-company", "9abc", "a:b_", "sp ace"] {
            let err = env_error("PROMETHEUS_METRICS_PREFIX", prefix);
            assert_eq!(err.key, "metrics.prometheus.prefix");
            assert!(
                err.to_string().starts_with(&format!(
                    "PROMETHEUS_METRICS_PREFIX=\"{prefix}\" (metrics.prometheus.prefix) is not a metric name prefix"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_env_value_is_reported_even_when_the_file_is_fine() {
        let err = from_both(Some(r#"{"metrics": {"port": 9100}}"#), &[("METRICS_PORT", "abc")]).unwrap_err();
        assert_eq!(err.source, "METRICS_PORT");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_env_value_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let env = |name: &str| (name == "METRICS_HOST").then(|| OsString::from_vec(vec![b'a', 0xff]));
        let err = MetricsConfig::from_sources(None, &env).unwrap_err();
        assert_eq!(err.source, "METRICS_HOST");
        assert!(err.to_string().ends_with("is not valid UTF-8"), "{err}");
    }

    #[test]
    fn wrong_type_at_each_file_key() {
        let cases = [
            (
                r#"{"metrics": {"enabled": "yes"}}"#,
                "metrics.enabled",
                "expected a boolean (true or false), found \"yes\"",
            ),
            (
                r#"{"metrics": {"enabled": 1}}"#,
                "metrics.enabled",
                "expected a boolean (true or false), found 1",
            ),
            (
                r#"{"metrics": {"driver": 1}}"#,
                "metrics.driver",
                "expected a supported driver (allowed: \"prometheus\"), found 1",
            ),
            (
                r#"{"metrics": {"driver": "statsd"}}"#,
                "metrics.driver",
                "expected a supported driver (allowed: \"prometheus\"), found \"statsd\"",
            ),
            (
                r#"{"metrics": {"host": 127}}"#,
                "metrics.host",
                "expected a string holding an IP address (v4 or v6) or an RFC 1123 hostname, not multicast or broadcast, found 127",
            ),
            (
                r#"{"metrics": {"host": "-bad-"}}"#,
                "metrics.host",
                "expected a string holding an IP address (v4 or v6) or an RFC 1123 hostname, not multicast or broadcast, found \"-bad-\"",
            ),
            (
                r#"{"metrics": {"port": "abc"}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found \"abc\"",
            ),
            (
                r#"{"metrics": {"port": -1}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found -1",
            ),
            (
                r#"{"metrics": {"port": 0}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found 0",
            ),
            (
                r#"{"metrics": {"port": 65536}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found 65536",
            ),
            (
                r#"{"metrics": {"port": 9601.5}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found 9601.5",
            ),
            (
                r#"{"metrics": {"port": null}}"#,
                "metrics.port",
                "expected an integer from 1 to 65535, found null",
            ),
            (
                r#"{"metrics": {"prometheus": "sockudo_"}}"#,
                "metrics.prometheus",
                "expected an object, found \"sockudo_\"",
            ),
            (
                r#"{"metrics": {"prometheus": {"prefix": 5}}}"#,
                "metrics.prometheus.prefix",
                "expected a string holding a metric name prefix",
            ),
            (
                r#"{"metrics": {"prometheus": {"prefix": "my-company"}}}"#,
                "metrics.prometheus.prefix",
                "expected a string holding a metric name prefix",
            ),
            (
                r#"{"metrics": {"prometheus": {"prefix": "9abc"}}}"#,
                "metrics.prometheus.prefix",
                "expected a string holding a metric name prefix",
            ),
            (
                r#"{"metrics": []}"#,
                "metrics",
                "expected an object, found an array",
            ),
        ];
        for (json, key, problem) in cases {
            let err = file_error(json);
            assert_eq!(err.key, key, "{json}");
            assert_eq!(err.source, FILE);
            assert!(
                err.to_string()
                    .starts_with(&format!("config.json: {key}: {problem}")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_key_given_twice_is_an_error_naming_it() {
        for (json, key) in [
            (r#"{"metrics": {"port": 9601, "port": 9700}}"#, "metrics.port"),
            (
                r#"{"metrics": {"prometheus": {"prefix": "a_", "prefix": "b_"}}}"#,
                "metrics.prometheus.prefix",
            ),
            (r#"{"metrics": {}, "metrics": {"port": 1}}"#, "metrics"),
            (r#"{"adapters": [{"x": 1, "x": 2}]}"#, "adapters[0].x"),
        ] {
            let message = file_error(json).to_string();
            assert!(
                message.contains(&format!("{key}: the key appears twice")),
                "{message}"
            );
        }
        assert!(from_file(r#"{"a": {"port": 1}, "b": {"port": 2}}"#).is_ok());
    }

    #[test]
    fn devices_fifos_and_huge_files_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (path, problem) in [
            (Path::new("/dev/zero"), "not a regular file"),
            (fifo.as_path(), "not a regular file"),
            (big.as_path(), "larger than"),
            (dir.path(), "not a regular file"),
        ] {
            let err = MetricsConfig::load(Some(path)).unwrap_err().to_string();
            assert!(
                err.contains(problem) && err.contains(&path.display().to_string()),
                "{err}"
            );
        }
    }

    #[test]
    fn unknown_keys_in_metrics_are_errors() {
        let err = file_error(r#"{"metrics": {"prot": 9601}}"#);
        assert_eq!(
            err.to_string(),
            "config.json: metrics.prot: unknown key (allowed: enabled, driver, host, port, prometheus)"
        );
        let err = file_error(r#"{"metrics": {"prometheus": {"prefx": "a_"}}}"#);
        assert_eq!(
            err.to_string(),
            "config.json: metrics.prometheus.prefx: unknown key (allowed: prefix)"
        );
    }

    #[test]
    fn unusable_files() {
        let err = file_error("{\"metrics\": {\"port\": 9601,}}");
        assert!(
            err.to_string().starts_with("config.json: not valid JSON: "),
            "{err}"
        );
        assert!(err.to_string().contains("line 1 column"), "{err}");
        let err = file_error("{\"metrics\": {\"port\": 96");
        assert!(
            err.to_string().starts_with("config.json: not valid JSON: EOF"),
            "{err}"
        );
        let err = file_error("");
        assert!(
            err.to_string().starts_with("config.json: not valid JSON: "),
            "{err}"
        );
        let err = file_error("[1, 2]");
        assert!(
            err.to_string().starts_with("config.json: expected a JSON object"),
            "{err}"
        );
        let err = MetricsConfig::from_sources(Some((FILE, b"{\"port\": \xff}")), &no_env).unwrap_err();
        assert!(err.to_string().starts_with("config.json: not UTF-8"), "{err}");
        assert_eq!(err.key, "");
    }

    #[test]
    fn byte_order_mark_is_tolerated() {
        assert_eq!(
            from_file("\u{feff}{\"metrics\": {\"port\": 9700}}").unwrap().port,
            9700
        );
    }

    #[test]
    fn hosts() {
        for good in [
            "0.0.0.0",
            "::",
            "::1",
            "fe80::1",
            "localhost",
            "metrics-1.internal",
            "a.b.c9",
            "1abc",
            "223.255.255.255",
            "240.0.0.1",
            "255.255.255.254",
            "fe02::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(parse_host(good).as_deref(), Some(good));
        }
        for bad in [
            "",
            "256.1.1.1",
            "1.2.3",
            "-a",
            "a-",
            "a..b",
            "a.",
            "[::1]",
            "a b",
            "a_b",
            "h\u{e9}",
            // No socket listens on a multicast group or the broadcast address.
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "ff02::1",
            "FF05::1:3",
            "::ffff:224.0.0.1",
            "::ffff:255.255.255.255",
        ] {
            assert_eq!(parse_host(bad), None, "{bad}");
        }
        assert_eq!(parse_host(&"a".repeat(64)), None);
        assert!(parse_host(&vec!["a".repeat(63); 4].join(".")).is_none()); // 255 characters
    }

    #[test]
    fn prefixes() {
        for good in ["", "sockudo_", "_x", "A9_"] {
            assert_eq!(parse_prefix(good).as_deref(), Some(good));
        }
        for bad in ["my-company", "9abc", "a:", ":", " ", "é_"] {
            assert_eq!(parse_prefix(bad), None, "{bad}");
        }
    }

    #[test]
    fn listen_addr_brackets_ipv6_only() {
        let with = |host: &str| MetricsConfig {
            host: host.into(),
            ..MetricsConfig::default()
        };
        assert_eq!(with("::1").listen_addr(), "[::1]:9601");
        assert_eq!(with("127.0.0.1").listen_addr(), "127.0.0.1:9601");
        assert_eq!(with("localhost").listen_addr(), "localhost:9601");
    }

    #[test]
    fn long_values_are_cut_short() {
        let err = env_error("METRICS_HOST", &"x ".repeat(1000));
        assert!(err.to_string().len() < 200, "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_file_bytes_resolve_or_fail_on_one_line(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Err(err) = MetricsConfig::from_sources(Some((FILE, &bytes)), &no_env) {
                prop_assert!(!err.to_string().contains('\n'));
                prop_assert!(err.to_string().starts_with("config.json: "));
            }
        }

        #[test]
        fn any_metrics_json_resolves_or_fails_on_one_line(
            port in any::<i64>(), host in ".{0,20}", prefix in ".{0,12}", enabled in any::<bool>()
        ) {
            let json = serde_json::json!({"metrics": {
                "enabled": enabled, "host": host, "port": port, "prometheus": {"prefix": prefix}
            }});
            match from_file(&json.to_string()) {
                Ok(config) => {
                    prop_assert_eq!(i64::from(config.port), port);
                    prop_assert_eq!(config.enabled, enabled);
                }
                Err(err) => prop_assert!(!err.to_string().contains('\n')),
            }
        }

        #[test]
        fn any_env_value_resolves_or_fails_on_one_line(
            var in proptest::sample::select(ENV_VARS), value in any::<String>()
        ) {
            if let Err(err) = from_env(&[(var, &value)]) {
                prop_assert!(!err.to_string().contains('\n'));
                prop_assert_eq!(err.source.as_str(), var);
            }
        }

        #[test]
        fn every_valid_port_is_accepted_from_env(port in 1u16..) {
            let config = from_env(&[("METRICS_PORT", &port.to_string())]).unwrap();
            prop_assert_eq!(config.port, port);
        }
    }
}
