//! The `config` tests, one binary (`cargo test --test config [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod load;
mod profile;
