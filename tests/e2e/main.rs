//! The `e2e` tests, one binary (`cargo test --test e2e [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod cluster;
mod harness;
mod real_server;
mod stack;
