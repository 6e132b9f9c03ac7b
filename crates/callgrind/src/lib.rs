//! The benchmarks' measurement code, shared by `benches/goals/main.rs` and the tests that check it
//! (`tests/benchmarks`) on inputs whose answers are worked out by hand.
//!
//! | module | what it does |
//! |---|---|
//! | [`profile`] | reads a `callgrind.out` dump: each function's own instructions, each call's inclusive cost |
//! | [`run`] | runs a program under callgrind and asks the run for dumps by its PID |

pub mod profile;
pub mod run;
