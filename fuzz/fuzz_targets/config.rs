//! Fuzzes the config.json reader: any bytes give a config or a `ConfigError`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockudo_obs::MetricsConfig;

fuzz_target!(|data: &[u8]| {
    let _ = MetricsConfig::from_sources(Some(("fuzz.json", data)), &|_| None);
});
