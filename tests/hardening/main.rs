//! The `hardening` tests, one binary (`cargo test --test hardening [NAME]`); each module was a test
//! binary of its own, and all of them share [`support`].

#[path = "../support/mod.rs"]
mod support;

mod abuse;
mod cli_errors;
mod labels;
mod layers;
mod lifecycle;
mod load;
mod profile_values;
