//! The standard `process_*` metrics (CPU, memory, file descriptors, start time), which the stock
//! driver served and operators' dashboards expect, read from `/proc/self` at each scrape. Names
//! carry no prefix, as everywhere in Prometheus. Elsewhere than Linux they are absent.

use std::fs;
use std::sync::Mutex;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Counter, Gauge, Opts, Registry};

/// Registers the process collector in `registry`.
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    registry.register(Box::new(ProcessCollector::new()?))
}

struct ProcessCollector {
    cpu: Counter,
    /// CPU seconds already added to `cpu`: the counter only moves forward by the difference.
    cpu_seen: Mutex<f64>,
    resident: Gauge,
    virtual_memory: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    start_time: Gauge,
    descs: Vec<Desc>,
}

impl ProcessCollector {
    fn new() -> prometheus::Result<Self> {
        let gauge = |name: &str, help: &str| Gauge::with_opts(Opts::new(name, help));
        let cpu = Counter::with_opts(Opts::new(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
        ))?;
        let resident = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")?;
        let virtual_memory = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")?;
        let open_fds = gauge("process_open_fds", "Number of open file descriptors.")?;
        let max_fds = gauge("process_max_fds", "Maximum number of open file descriptors.")?;
        let start_time = gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
        )?;
        let mut descs = Vec::new();
        for collector in [&resident, &virtual_memory, &open_fds, &max_fds, &start_time] {
            descs.extend(collector.desc().into_iter().cloned());
        }
        descs.extend(cpu.desc().into_iter().cloned());
        Ok(ProcessCollector {
            cpu,
            cpu_seen: Mutex::new(0.0),
            resident,
            virtual_memory,
            open_fds,
            max_fds,
            start_time,
            descs,
        })
    }

    fn refresh(&self) -> Option<()> {
        let stat = ProcStat::read()?;
        let ticks = clock_ticks()?;
        let cpu = (stat.utime + stat.stime) as f64 / ticks;
        if let Ok(mut seen) = self.cpu_seen.lock() {
            if cpu > *seen {
                self.cpu.inc_by(cpu - *seen);
                *seen = cpu;
            }
        }
        self.resident.set((stat.rss_pages * page_size()?) as f64);
        self.virtual_memory.set(stat.vsize as f64);
        self.start_time
            .set(boot_time()? + stat.start_ticks as f64 / ticks);
        if let Ok(fds) = fs::read_dir("/proc/self/fd") {
            self.open_fds.set(fds.count() as f64);
        }
        if let Some(max) = max_open_files() {
            self.max_fds.set(max);
        }
        Some(())
    }
}

impl Collector for ProcessCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        if self.refresh().is_none() {
            return Vec::new();
        }
        let mut families = self.cpu.collect();
        for gauge in [
            &self.resident,
            &self.virtual_memory,
            &self.open_fds,
            &self.max_fds,
            &self.start_time,
        ] {
            families.extend(gauge.collect());
        }
        families
    }
}

/// The fields of `/proc/self/stat` we read (see proc(5)).
struct ProcStat {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

impl ProcStat {
    fn read() -> Option<ProcStat> {
        let text = fs::read_to_string("/proc/self/stat").ok()?;
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
        // `fields[0]` is field 3 (state) of proc(5).
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(ProcStat {
            utime: field(14)?,
            stime: field(15)?,
            start_ticks: field(22)?,
            vsize: field(23)?,
            rss_pages: field(24)?,
        })
    }
}

fn clock_ticks() -> Option<f64> {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then_some(ticks as f64)
}

fn page_size() -> Option<u64> {
    // SAFETY: sysconf only reads a system constant.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0)
}

fn boot_time() -> Option<f64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|secs| secs.trim().parse().ok())
}

fn max_open_files() -> Option<f64> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}
