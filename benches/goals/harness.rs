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

    /// Nanoseconds per op of `batch` (which does `ops` ops) on one thread, in thread CPU time
    /// (what the thread spent, not the time other processes had the core).
    pub fn one_thread(&self, ops: u64, batch: impl Fn()) -> f64 {
        let n = self.calibrate(&batch);
        (0..self.reps())
            .map(|_| {
                let start = thread_cpu();
                (0..n).for_each(|_| batch());
                (thread_cpu() - start).as_nanos() as f64 / (n * ops) as f64
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Nanoseconds per op per thread (thread CPU time) of `batch` run by two threads at once,
    /// each pinned to its own CPU (after one warm-up batch each), and the share of the time the
    /// two were on a CPU (their CPU time over twice the span; 1.0: both ran the whole time, so
    /// a shared cell really contended; 0.5 or less: they took turns, and nothing contended).
    /// The figure is the best of the repetitions with a share of at least 90% (of all, if none
    /// had one: the share says so).
    pub fn two_threads(&self, ops: u64, batch: impl Fn() + Sync) -> (f64, f64) {
        let n = self.calibrate(&batch);
        let cpus = allowed_cpus();
        let reps: Vec<(f64, f64)> = (0..self.reps())
            .map(|_| {
                let barrier = Barrier::new(2);
                let threads: Vec<(Instant, Instant, Duration)> = std::thread::scope(|s| {
                    let handles: Vec<_> = (0..2)
                        .map(|i| {
                            let (barrier, batch, cpu) =
                                (&barrier, &batch, cpus.get(i % cpus.len().max(1)).copied());
                            s.spawn(move || {
                                cpu.into_iter().for_each(pin_to);
                                batch(); // warm: first touch of this thread's shard
                                barrier.wait();
                                let (wall, cpu) = (Instant::now(), thread_cpu());
                                (0..n).for_each(|_| batch());
                                (wall, Instant::now(), thread_cpu() - cpu)
                            })
                        })
                        .collect();
                    handles.into_iter().map(|t| t.join().unwrap()).collect()
                });
                let cpu: Duration = threads.iter().map(|t| t.2).sum();
                let first = threads.iter().map(|t| t.0).min().unwrap();
                let last = threads.iter().map(|t| t.1).max().unwrap();
                let overlap = cpu.as_secs_f64() / (2.0 * (last - first).as_secs_f64());
                (cpu.as_nanos() as f64 / 2.0 / (n * ops) as f64, overlap)
            })
            .collect();
        let together: Vec<&(f64, f64)> = reps.iter().filter(|r| r.1 >= 0.9).collect();
        let pool = if together.is_empty() {
            reps.iter().collect()
        } else {
            together
        };
        pool.into_iter().copied().fold(
            (f64::INFINITY, 0.0),
            |best, r| if r.0 < best.0 { r } else { best },
        )
    }

    /// Nanoseconds per op of each of `batches` (each doing `ops` ops) on one thread, as
    /// [`one_thread`](Self::one_thread) does, with the repetitions interleaved: each round times
    /// every batch once, so a slow spell of the machine (these VMs drift by a third between
    /// seconds) hits all of them rather than whichever ran then.
    pub fn one_thread_interleaved(&self, ops: u64, batches: &[&dyn Fn()]) -> Vec<f64> {
        let calls: Vec<u64> = batches.iter().map(|batch| self.calibrate(batch)).collect();
        let mut best = vec![f64::INFINITY; batches.len()];
        for _ in 0..self.reps() {
            for ((batch, &n), best) in batches.iter().zip(&calls).zip(&mut best) {
                let start = thread_cpu();
                (0..n).for_each(|_| batch());
                *best = best.min((thread_cpu() - start).as_nanos() as f64 / (n * ops) as f64);
            }
        }
        best
    }

    /// Repetitions of one scrape-sized call (a scrape of 100k series takes a while).
    pub fn scrape_reps(&self) -> usize {
        if self.quick {
            2
        } else {
            self.reps()
        }
    }

    /// Best-of wall time of `write` filling `out` (cleared before each call).
    pub fn best_into(&self, reps: usize, out: &mut Vec<u8>, mut write: impl FnMut(&mut Vec<u8>)) -> Duration {
        self.best_of(reps, || {
            out.clear();
            write(out);
            out.len()
        })
    }

    /// Two writers timed in pairs, each filling its own buffer (cleared before each call), the
    /// order alternating from pair to pair so that both are sampled over the same stretch of a
    /// noisy machine: each one's best time (the goal's figure, as everywhere in this bench), and
    /// the median of the pairs' ratios (`a` over `b`, a diagnostic: under contention for memory
    /// the side that reads more memory slows more, so the median moves with the neighbours).
    pub fn paired(
        &self,
        pairs: usize,
        (a_out, mut a): (&mut Vec<u8>, impl FnMut(&mut Vec<u8>)),
        (b_out, mut b): (&mut Vec<u8>, impl FnMut(&mut Vec<u8>)),
    ) -> (Duration, Duration, f64) {
        let timed = |out: &mut Vec<u8>, write: &mut dyn FnMut(&mut Vec<u8>)| {
            out.clear();
            let start = Instant::now();
            write(out);
            let took = start.elapsed();
            black_box(out.len());
            took
        };
        // Warm-up: both buffers at their full size, both writers' code and data in cache.
        timed(a_out, &mut a);
        timed(b_out, &mut b);
        let mut times = Vec::with_capacity(pairs);
        for pair in 0..pairs {
            let (ta, tb) = if pair % 2 == 0 {
                let ta = timed(a_out, &mut a);
                (ta, timed(b_out, &mut b))
            } else {
                let tb = timed(b_out, &mut b);
                (timed(a_out, &mut a), tb)
            };
            times.push((ta, tb));
        }
        let mut ratios: Vec<f64> = times
            .iter()
            .map(|(ta, tb)| ta.as_secs_f64() / tb.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let best_a = times.iter().map(|t| t.0).min().unwrap();
        let best_b = times.iter().map(|t| t.1).min().unwrap();
        (best_a, best_b, ratios[ratios.len() / 2])
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

/// Milliseconds, for the tables.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The scrape sizes goals 3 and 3b measure: label and about how many series.
pub const SIZES: [(&str, usize); 3] = [("1k", 1_000), ("10k", 10_000), ("100k", 100_000)];

/// This thread's CPU time so far.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    assert_eq!(
        // SAFETY: `t` is a valid timespec for the call to fill.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) },
        0
    );
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is an empty set; sched_getaffinity fills it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect()
    }
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) {
    // SAFETY: the set is built in place and passed with its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
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
