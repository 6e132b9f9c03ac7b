//! What the drop-in needs to know of the server's own settings beyond the two the server passes
//! it (`metrics.port` and the prefix): the adapter's name, which labels the adapter family.
//!
//! The server does not hand its options to the metrics driver, so this resolves them the way
//! Sockudo 5.2.0's `main` does, with Sockudo's own loaders: the defaults, then
//! `config/config.toml` or `config/config.json`, then the file of `--config`/`-c`, then the
//! environment. A setting that fails to load here fails the same way in the server, which then
//! logs it; the drop-in falls back to the defaults for it.

use sockudo_core::options::{AdapterDriver, ServerOptions};

/// The adapter driver's name as the server's config spells it (`local`, `redis`,
/// `redis-cluster`, `nats`, ...).
pub async fn adapter_name() -> String {
    spelling(&server_options().await.adapter.driver)
}

fn spelling(driver: &AdapterDriver) -> String {
    sonic_rs::to_string(driver)
        .map(|quoted| quoted.trim_matches('"').to_string())
        .unwrap_or_else(|_| format!("{driver:?}").to_lowercase())
}

async fn server_options() -> ServerOptions {
    let mut options = ServerOptions::default();
    for default_file in ["config/config.toml", "config/config.json"] {
        if let Ok(file) = ServerOptions::load_from_file(default_file).await {
            options = file;
            break;
        }
    }
    if let Some(path) = config_argument(std::env::args().skip(1)) {
        if let Ok(file) = ServerOptions::load_from_file(&path).await {
            options = file;
        }
    }
    if options.override_from_env().await.is_err() {
        tracing::debug!("sockudo-metrics: the server's environment overrides did not apply here");
    }
    options
}

/// The value of `--config PATH`, `--config=PATH`, `-c PATH` or `-cPATH` (Sockudo's clap flag).
fn config_argument(mut args: impl Iterator<Item = String>) -> Option<String> {
    let mut found = None;
    while let Some(arg) = args.next() {
        if arg == "--config" || arg == "-c" {
            found = args.next();
        } else if let Some(path) = arg.strip_prefix("--config=") {
            found = Some(path.to_string());
        } else if let Some(path) = arg
            .strip_prefix("-c")
            .filter(|p| !p.is_empty() && !arg.starts_with("--"))
        {
            found = Some(path.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter().map(|a| a.to_string()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn every_spelling_of_the_config_flag_is_found() {
        assert_eq!(
            config_argument(args(&["--config", "a.json"])).as_deref(),
            Some("a.json")
        );
        assert_eq!(
            config_argument(args(&["--config=b.json"])).as_deref(),
            Some("b.json")
        );
        assert_eq!(
            config_argument(args(&["-c", "c.json"])).as_deref(),
            Some("c.json")
        );
        assert_eq!(config_argument(args(&["-cd.json"])).as_deref(), Some("d.json"));
        assert_eq!(config_argument(args(&["--debug"])), None);
    }

    #[test]
    fn adapter_names_are_the_config_spelling() {
        assert_eq!(spelling(&AdapterDriver::Redis), "redis");
        assert_eq!(spelling(&AdapterDriver::RedisCluster), "redis-cluster");
        assert_eq!(spelling(&AdapterDriver::Local), "local");
    }
}
