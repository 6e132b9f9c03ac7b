//! The timing loops, the goal report and the small helpers every goal shares.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use sockudo_obs::live::Limits;

// --- Timing ------------------------------------------------------------------------------------

pub struct Timing {
    pub quick: bool,
}

impl Timing {
    pub fn target(&self) -> Duration {
        Duration::from_millis(if self.quick { 15 } else { 200 })
    }

    pub fn reps(&self) -> usize {
        if self.quick {
            3
        } else {
            7
        }
    }

    /// How many calls of `batch` take about the target duration.
    fn calibrate(&self, batch: &impl Fn()) -> u64 {
        let mut n = 1u64;
        loop {
            let start = Instant::now();
            (0..n).for_each(|_| batch());
            let took = start.elapsed();
            if took >= self.target() / 4 {
                let scale = self.target().as_secs_f64() / took.as_secs_f64();
                return ((n as f64 * scale) as u64).max(1);
            }
            n *= 2;
        }
    }

    /// Nanoseconds per op of `batch` (which does `ops` ops) on one thread.
    pub fn one_thread(&self, ops: u64, batch: impl Fn()) -> f64 {
        let n = self.calibrate(&batch);
        (0..self.reps())
            .map(|_| {
                let start = Instant::now();
                (0..n).for_each(|_| batch());
                start.elapsed().as_nanos() as f64 / (n * ops) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Nanoseconds per op per thread of `batch` run by two threads at once.
    pub fn two_threads(&self, ops: u64, batch: impl Fn() + Sync) -> f64 {
        let n = self.calibrate(&batch);
        (0..self.reps())
            .map(|_| {
                let barrier = Barrier::new(2);
                let took: Vec<Duration> = std::thread::scope(|s| {
                    let threads: Vec<_> = (0..2)
                        .map(|_| {
                            s.spawn(|| {
                                barrier.wait();
                                let start = Instant::now();
                                (0..n).for_each(|_| batch());
                                start.elapsed()
                            })
                        })
                        .collect();
                    threads.into_iter().map(|t| t.join().unwrap()).collect()
                });
                took.iter().map(Duration::as_nanos).sum::<u128>() as f64 / 2.0 / (n * ops) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// `[one thread, two threads]` nanoseconds per op.
    pub fn both(&self, ops: u64, batch: impl Fn() + Sync) -> [f64; 2] {
        [self.one_thread(ops, &batch), self.two_threads(ops, &batch)]
    }

    /// Best-of wall time of `f`, after one warm-up call.
    pub fn best_of(&self, reps: usize, mut f: impl FnMut() -> usize) -> Duration {
        black_box(f());
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .min()
            .unwrap()
    }
}

// --- Goal lines --------------------------------------------------------------------------------

struct Goal {
    name: String,
    value: String,
    target: String,
    met: bool,
    stretch: bool,
}

#[derive(Default)]
pub struct Report {
    goals: Vec<Goal>,
}

impl Report {
    pub fn goal(&mut self, name: &str, value: String, target: &str, met: bool) {
        self.goals.push(Goal {
            name: name.to_string(),
            value,
            target: target.to_string(),
            met,
            stretch: false,
        });
    }

    pub fn stretch(&mut self, name: &str, value: String, target: &str, met: bool) {
        self.goal(name, value, target, met);
        self.goals.last_mut().unwrap().stretch = true;
    }

    /// Prints one line per goal; whether a goal (not a stretch goal) was missed.
    pub fn print_goals(&self) -> bool {
        let mut missed = false;
        for g in &self.goals {
            let verdict = if g.met { "met" } else { "missed" };
            let stretch = if g.stretch { " [stretch]" } else { "" };
            println!(
                "goal {}: {} (target {}) {verdict}{stretch}",
                g.name, g.value, g.target
            );
            missed |= !g.met && !g.stretch;
        }
        missed
    }
}

pub fn ratio(x: f64) -> String {
    format!("{x:.2}x")
}

/// Limits with no cap on apps or adapters, for data sets larger than the default cap.
pub fn uncapped() -> Limits {
    Limits {
        apps: usize::MAX,
        adapters: usize::MAX,
        ..Limits::default()
    }
}

/// One HTTP/1.0 `GET path` over a fresh connection (so the reply is never chunked): the whole
/// reply, status line and headers included.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: bench\r\n\r\n")?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
