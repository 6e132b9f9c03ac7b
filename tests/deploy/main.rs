//! The `deploy` tests, one binary (`cargo test --test deploy [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod compose;
mod k8s;
mod operator;
mod paths;
mod remote_write;
