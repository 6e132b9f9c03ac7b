//! The end-to-end harness: a generated `local` bundle run by the real servers on loopback
//! ([`stack`]), the real Sockudo server and its Pusher traffic ([`sockudo`]), the test's view of that bundle ([`bundle`]), the child-process, HTTP and webhook
//! helpers, and the assertions ([`steps`]), each a function returning `Result<(), String>`.

#![allow(dead_code)]

pub mod bundle;
pub mod http;
pub mod process;
pub mod sink;
pub mod sockudo;
pub mod stack;
pub mod steps;
