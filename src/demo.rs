//! The demo traffic simulator behind `sockudo-obs serve --demo`.
//!
//! It drives every recording call with plausible Pusher traffic, in a [`Scenario`] that can trip
//! one seed alert at a time, so the rules and dashboards can be tried without a real server. It
//! uses only the library's public `live` API.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::live::{
    AdapterMetrics, AdapterOperation, AppMetrics, CacheMetrics, CacheOperation, ChannelType, ControlRoute,
    ErrorType, HttpMethod, LimiterType, Metrics, QueueMetrics, RouteMetrics,
};

/// Where the exporter serves the scenario switch while the demo runs.
pub const SCENARIO_PATH: &str = "/demo/scenario";
/// How often the simulator records a batch of traffic.
pub const TICK: Duration = Duration::from_millis(100);

/// The simulator's traffic shapes; each abnormal one trips one seed alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Scenario {
    /// Healthy traffic: no alert fires.
    Normal,
    /// A burst of 5xx responses (SockudoHighErrorRate).
    Errors,
    /// Slow HTTP handling (SockudoHighLatency).
    Slow,
    /// More connections than the alert threshold (SockudoHighConnections).
    Connections,
    /// A queue backlog (SockudoQueueBacklog).
    Backlog,
}

impl Scenario {
    /// Every scenario, in declaration order (a switch stores the index).
    pub const ALL: [Scenario; 5] = [
        Scenario::Normal,
        Scenario::Errors,
        Scenario::Slow,
        Scenario::Connections,
        Scenario::Backlog,
    ];

    /// The scenario's name, as `--scenario` and the switch's body spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::Errors => "errors",
            Scenario::Slow => "slow",
            Scenario::Connections => "connections",
            Scenario::Backlog => "backlog",
        }
    }

    /// Parses a scenario name, ignoring case and surrounding whitespace.
    pub fn parse(name: &str) -> Result<Scenario, String> {
        let name = name.trim();
        Scenario::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<_> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown scenario {name:?}; expected one of {}\n",
                    known.join(", ")
                )
            })
    }
}

/// The running demo's current scenario, shared with the control endpoint.
#[derive(Clone)]
pub struct ScenarioSwitch(Arc<AtomicU8>);

impl ScenarioSwitch {
    fn new(scenario: Scenario) -> ScenarioSwitch {
        ScenarioSwitch(Arc::new(AtomicU8::new(scenario as u8)))
    }

    /// The scenario the simulator runs now.
    pub fn get(&self) -> Scenario {
        Scenario::ALL[usize::from(self.0.load(Ordering::Relaxed))]
    }

    /// Switches the simulator to `scenario` from its next tick.
    pub fn set(&self, scenario: Scenario) {
        self.0.store(scenario as u8, Ordering::Relaxed);
    }

    /// `POST /demo/scenario` with a scenario name as the body switches the scenario.
    pub fn control_route(&self) -> ControlRoute {
        let switch = self.clone();
        ControlRoute {
            path: SCENARIO_PATH,
            handler: Arc::new(move |body: &[u8]| {
                let scenario = Scenario::parse(&String::from_utf8_lossy(body))?;
                switch.set(scenario);
                Ok(format!("scenario: {}\n", scenario.as_str()))
            }),
        }
    }
}

/// The simulated server: a few apps, HTTP routes, queues, caches and an adapter.
pub struct Demo {
    switch: ScenarioSwitch,
    rng: Rng,
    apps: Vec<SimApp>,
    routes: Vec<RouteMetrics>,
    queues: Vec<SimQueue>,
    caches: Vec<SimCache>,
    adapter: AdapterMetrics,
}

struct SimApp {
    metrics: AppMetrics,
    /// The app whose connections the `connections` scenario inflates.
    is_busy: bool,
    connections: i64,
    channels: [i64; ChannelType::COUNT],
    presence: i64,
}

struct SimQueue {
    metrics: QueueMetrics,
    /// The queue the `backlog` scenario clogs.
    is_busy: bool,
    depth: i64,
}

struct SimCache {
    metrics: CacheMetrics,
    bytes: u64,
}

/// The REST API routes of a Pusher server, most frequent first.
const ROUTES: &[(HttpMethod, &str)] = &[
    (HttpMethod::Post, "/apps/:app_id/events"),
    (HttpMethod::Post, "/apps/:app_id/batch_events"),
    (HttpMethod::Get, "/apps/:app_id/channels"),
    (HttpMethod::Get, "/apps/:app_id/channels/:channel_name"),
    (HttpMethod::Get, "/apps/:app_id/channels/:channel_name/users"),
    (
        HttpMethod::Post,
        "/apps/:app_id/users/:user_id/terminate_connections",
    ),
    (HttpMethod::Get, "/up/:app_id"),
];
const WEBHOOK_EVENTS: &[&str] = &[
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
];

impl Demo {
    /// A simulator recording into `metrics`, starting in `scenario`.
    pub fn new(metrics: &Metrics, scenario: Scenario) -> Demo {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x5eed, |d| d.as_nanos() as u64);
        Demo::with_seed(metrics, scenario, seed)
    }

    /// Like [`Demo::new`] with a fixed random seed, for reproducible runs.
    pub fn with_seed(metrics: &Metrics, scenario: Scenario, seed: u64) -> Demo {
        let app = |id: &str, is_busy| SimApp {
            metrics: metrics.app(id).clone(),
            is_busy,
            connections: 0,
            channels: [0; ChannelType::COUNT],
            presence: 0,
        };
        let queue = |name: &str, is_busy| SimQueue {
            metrics: metrics.queue(name).clone(),
            is_busy,
            depth: 0,
        };
        let cache = |name: &str| SimCache {
            metrics: metrics.cache(name).clone(),
            bytes: 1 << 20,
        };
        Demo {
            switch: ScenarioSwitch::new(scenario),
            rng: Rng(seed | 1),
            apps: vec![app("demo-app", true), app("chat-app", false)],
            routes: ROUTES
                .iter()
                .map(|&(m, e)| metrics.http_route(m, e).clone())
                .collect(),
            queues: vec![queue("webhooks", true), queue("broadcasts", false)],
            caches: vec![cache("apps"), cache("channels")],
            adapter: metrics.adapter("redis").clone(),
        }
    }

    /// The switch the control endpoint (or a test) uses to change the scenario.
    pub fn switch(&self) -> ScenarioSwitch {
        self.switch.clone()
    }

    /// Records one tick's worth of traffic.
    pub fn tick(&mut self) {
        let scenario = self.switch.get();
        let rng = &mut self.rng;
        for app in &mut self.apps {
            app.tick(rng, scenario);
        }
        for route_index in 0..rng.between(8, 16) {
            // The first routes are the busy ones: pick from a prefix that grows with the index.
            let route = &self.routes[rng.below(1 + route_index % self.routes.len() as u64) as usize];
            http_request(route, rng, scenario);
        }
        for queue in &mut self.queues {
            queue.tick(rng, scenario);
        }
        for cache in &mut self.caches {
            cache.tick(rng);
        }
        for &op in AdapterOperation::ALL {
            for _ in 0..rng.between(1, 5) {
                let latency = Duration::from_micros(rng.between(300, 4000));
                if rng.chance(0.001) {
                    self.adapter.operation_failed(op, latency);
                } else {
                    self.adapter.operation(op, latency);
                }
            }
        }
    }

    /// Runs the simulator on a tokio task, one tick per `period`, the first one at once.
    pub fn spawn(mut self, period: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                ticks.tick().await;
                self.tick();
            }
        })
    }
}

impl SimApp {
    fn tick(&mut self, rng: &mut Rng, scenario: Scenario) {
        let m = &self.metrics;
        // Connections drift towards a target, with some churn on top.
        let target = match (scenario, self.is_busy) {
            (Scenario::Connections, true) => 1500,
            (_, true) => 120,
            (_, false) => 60,
        };
        let churn = rng.between(0, 4) as i64;
        let opened = churn + (target - self.connections).clamp(0, 250);
        let closed = (churn + (self.connections - target).clamp(0, 250)).min(self.connections + opened);
        (0..opened).for_each(|_| m.connection_opened());
        (0..closed).for_each(|_| m.connection_closed());
        self.connections += opened - closed;
        if rng.chance(0.02) {
            m.connection_error(*rng.pick(ErrorType::ALL));
        }

        let fan_out = (self.connections / 10).max(1) as u64;
        for &channel in ChannelType::ALL {
            let i = channel as usize;
            for _ in 0..rng.between(0, 5) {
                m.message_received(channel);
            }
            if matches!(channel, ChannelType::Private | ChannelType::Presence) {
                for _ in 0..rng.between(0, 3) {
                    m.client_event(channel);
                    m.message_received(channel);
                    m.messages_sent(channel, rng.between(1, fan_out + 1));
                }
            }
            for _ in 0..rng.between(1, 3) {
                m.broadcast(channel, rng.between(1, fan_out + 1));
            }
            m.message_sent(channel);

            for _ in 0..rng.between(0, 4) {
                m.channel_subscribed(channel);
            }
            for _ in 0..rng.between(0, 4) {
                m.channel_unsubscribed(channel);
            }
            if self.channels[i] < 5 || (self.channels[i] < 30 && rng.chance(0.5)) {
                m.channel_occupied(channel);
                self.channels[i] += 1;
            } else {
                m.channel_vacated(channel);
                self.channels[i] -= 1;
            }
        }

        if self.presence < 10 || (self.presence < 40 && rng.chance(0.5)) {
            m.presence_member_added();
            self.presence += 1;
        } else {
            m.presence_member_removed();
            self.presence -= 1;
        }

        for &limiter in LimiterType::ALL {
            for _ in 0..rng.between(5, 15) {
                m.rate_limit_checked(limiter);
                if rng.chance(0.005) {
                    m.rate_limit_triggered(limiter);
                }
            }
        }

        for _ in 0..rng.between(1, 3) {
            let event = rng.pick(WEBHOOK_EVENTS);
            let duration = Duration::from_millis(rng.between(20, 200));
            if rng.chance(0.01) {
                m.webhook_failed(event, duration);
            } else {
                m.webhook_sent(event, duration);
            }
        }
    }
}

fn http_request(route: &RouteMetrics, rng: &mut Rng, scenario: Scenario) {
    let status = match scenario {
        Scenario::Errors if rng.chance(0.6) => *rng.pick(&[500, 500, 500, 503]),
        _ if rng.chance(0.0025) => 500,
        _ if rng.chance(0.02) => *rng.pick(&[400, 401, 403, 404, 413]),
        _ => 200,
    };
    let millis = match scenario {
        Scenario::Slow => rng.between(2000, 3000),
        _ if rng.chance(0.04) => rng.between(60, 250),
        _ => rng.between(2, 60),
    };
    let bytes = match (status, route.method()) {
        (200, HttpMethod::Get) => rng.between(40, 4000),
        (200, _) => 2,
        _ => rng.between(30, 120),
    };
    route.request_done(status, Duration::from_millis(millis), bytes);
}

impl SimQueue {
    fn tick(&mut self, rng: &mut Rng, scenario: Scenario) {
        let m = &self.metrics;
        let target = match (scenario, self.is_busy) {
            (Scenario::Backlog, true) => 1500,
            _ => 10,
        };
        let started = rng.between(3, 8) as i64 + (target - self.depth).clamp(0, 250);
        let finished =
            (rng.between(3, 8) as i64 + (self.depth - target).clamp(0, 250)).min(self.depth + started);
        (0..started).for_each(|_| m.job_started());
        for _ in 0..finished {
            let duration = Duration::from_millis(rng.between(10, 200));
            if rng.chance(0.003) {
                m.job_failed(duration);
            } else {
                m.job_finished(duration);
            }
        }
        self.depth += started - finished;
        // A backend that can count its queue reports the depth too; here it agrees.
        m.set_active_jobs(self.depth);
    }
}

impl SimCache {
    fn tick(&mut self, rng: &mut Rng) {
        let m = &self.metrics;
        for _ in 0..rng.between(10, 30) {
            m.operation(CacheOperation::Get);
            if rng.chance(0.95) {
                m.hit();
            } else {
                m.miss();
                m.operation(CacheOperation::Set);
            }
        }
        if rng.chance(0.3) {
            m.operation(CacheOperation::Delete);
        }
        if rng.chance(0.3) {
            m.operation(CacheOperation::Expire);
        }
        let drift = rng.between(0, 64 * 1024);
        self.bytes = if rng.chance(0.5) {
            self.bytes.saturating_sub(drift).max(512 * 1024)
        } else {
            (self.bytes + drift).min(4 << 20)
        };
        m.set_memory_bytes(self.bytes);
    }
}

/// xorshift64*: plenty for simulated traffic, and no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..hi` (lo < hi).
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
