//! The `bundle` tests, one binary (`cargo test --test bundle [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod alertmanager;
mod check;
mod crosscheck;
mod output;
mod promtool;
mod secrets;
mod self_monitoring;
mod slos;
mod validators;
