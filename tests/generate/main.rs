//! The `generate` tests, one binary (`cargo test --test generate [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod failures;
mod hostile_folder;
