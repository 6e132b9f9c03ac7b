//! The `artifacts` tests, one binary (`cargo test --test artifacts [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod dashboard_check;
mod escaping;
mod nginx;
mod parse;
