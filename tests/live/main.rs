//! The `live` tests, one binary (`cargo test --test live [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod encode;
mod exporter;
mod gzip;
mod http_layer;
mod prometheus3;
mod promtool;
mod registry;
