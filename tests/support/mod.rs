//! What every test binary shares (each `tests/<area>/main.rs` includes this module): loopback
//! ports, one child-process guard, one HTTP client, one way to find a real tool, one nginx
//! wrapper, one way to run the bundle validators; the specs the tests change; the exporter as the
//! live and hardening tests run it; the real server scaled out on Redis ([`cluster`]); and the
//! end-to-end harness, a generated `local` bundle run by the real servers on loopback ([`stack`])
//! with the real Sockudo server and its Pusher traffic ([`sockudo`]), the test's view of that
//! bundle ([`bundle`]), a webhook sink ([`sink`]) and the assertions ([`steps`]), each a function
//! returning `Result<(), String>`.

// Each area's binary uses part of this module; a test binary has no public API to keep small.
#![allow(dead_code, unused_imports, unreachable_pub)]

pub mod abuse;
pub mod bundle;
pub mod cluster;
pub use sockudo_obs::demo;

/// The demo's normal traffic over `metrics`, two ticks in (every family has moved), seeded so
/// each run records the same.
pub fn seeded_demo(metrics: &sockudo_obs::Metrics) -> demo::Demo {
    let mut demo = demo::Demo::with_seed(metrics, demo::Scenario::Normal, 42);
    demo.tick();
    demo.tick();
    demo
}
pub mod http;
pub mod kube;
pub mod layering;
pub mod live;
pub mod nginx;
pub mod ports;
pub mod process;
pub mod serve;
pub mod sink;
pub mod sockudo;
pub mod specs;
pub mod stack;
pub mod steps;
pub mod streams;
pub mod tools;
pub mod validate;

use std::sync::{Mutex, MutexGuard};

/// Held by a test that must not share the machine with another of its kind in the same binary
/// (the end-to-end stacks: each starts a whole monitoring stack, and its timings assume it has
/// the machine). A test that panicked while holding it does not stop the next one.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
