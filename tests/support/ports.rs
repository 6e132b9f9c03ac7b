//! Loopback ports for the servers a test starts.

use std::net::TcpListener;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("the kernel hands out a free loopback port")
}
