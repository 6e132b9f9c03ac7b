//! The CPU-overhead workload (goal 6 in `BENCHMARKS.md`): the per-message work of a Pusher
//! server, with the metrics recorded (`on`), resolved but not recorded (`idle`: the same heap as
//! `on`, so glibc's malloc takes the same paths), or not used at all (`off`).
//!
//! Each message is what the server does for a client frame at the least: parse the JSON frame,
//! serialise the event it relays, and (when `on`) count the frame received and the delivery sent
//! for its app. Messages rotate over 1,000 apps. `benches/overhead.sh` runs this under callgrind
//! for two message counts in each mode, so start-up (resolving the apps' handles) cancels out and
//! what remains is the steady-state cost per message.
//!
//! The allocator is Sockudo's: jemalloc, its `#[global_allocator]`. Under glibc's malloc the
//! per-message allocations took a few dozen instructions more or fewer depending on where the
//! handles' memory had been placed, which is an artifact of the allocator the server does not use.
//!
//! Usage: `overhead <on|idle|off> <messages>`

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sockudo_obs::live::{AppMetrics, ChannelType};
use sockudo_obs::{Metrics, MetricsConfig};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const APPS: usize = 1000;

/// A Pusher event frame.
#[derive(Serialize, Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(borrow)]
    channel: Cow<'a, str>,
    #[serde(borrow)]
    data: Cow<'a, str>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (resolve, record) = match args.next().as_deref() {
        Some("on") => (true, true),
        Some("idle") => (true, false),
        Some("off") => (false, false),
        _ => panic!("usage: overhead <on|idle|off> <messages>"),
    };
    let messages: usize = args.next().and_then(|n| n.parse().ok()).expect("a message count");

    let metrics = Metrics::new(&MetricsConfig::default()).expect("metrics");
    let apps: Vec<Option<AppMetrics>> = (0..APPS)
        .map(|i| resolve.then(|| metrics.app(&format!("app-{i}")).clone()))
        .collect();
    let channels = [
        "chat",
        "private-orders",
        "presence-room-42",
        "private-encrypted-dm",
        "cache-prices",
    ];
    let frames: Vec<String> = (0..64)
        .map(|i| {
            let channel = channels[i % channels.len()];
            format!(
                r#"{{"event":"client-typing","channel":"{channel}-{i}","data":"{{\"user\":\"u{i}\",\"text\":\"hello there, message {i}\"}}"}}"#
            )
        })
        .collect();

    let mut out = Vec::with_capacity(256);
    let mut checksum = 0usize;
    for i in 0..messages {
        let frame: Frame = serde_json::from_str(&frames[i % frames.len()]).expect("valid frame");
        // The server classifies the channel anyway (authorisation depends on it).
        let channel = ChannelType::of_channel(&frame.channel);
        out.clear();
        serde_json::to_writer(&mut out, &frame).expect("serialisable");
        checksum = checksum.wrapping_add(out.len()).wrapping_add(channel as usize);
        // Spread consecutive messages over the apps, as connections interleave.
        if let Some(app) = apps[(i * 7919) % APPS].as_ref().filter(|_| record) {
            app.message_received(channel);
            app.message_sent(channel);
        }
    }
    println!("{checksum}");
}
