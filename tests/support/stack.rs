//! The whole monitoring stack on loopback, built from one freshly generated `local` bundle: the
//! exporter (the demo, or the real Sockudo server with the drop-in driver), the nginx basic-auth
//! proxy, Prometheus, Alertmanager with a webhook sink, and VictoriaMetrics as the `remote_write`
//! target. Each server runs from its Debian package on a
//! free port, logs into the stack's temp dir, and is stopped by PID when the stack drops.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

use serde_norway::Value as Yaml;
use sockudo_obs::coverage::Build;

use super::bundle::{read_yaml, Bundle, Ports};
use super::cluster::Cluster;
use super::http::{get, post, PromApi};
use super::nginx;
use super::ports::free_port;
use super::process::{wait_until, ProcessGuard};
use super::sink::WebhookSink;
use super::sockudo::{self, Binary};
use super::tools::find as require_tool;

/// The variables through which the server and the generator read their metrics config; children
/// get only the ones a stack sets, never whatever the test's caller has exported.
const METRICS_VARIABLES: &[&str] = &sockudo_obs::config::ENVIRONMENT_VARIABLES;

/// The programs the stack runs, found on PATH.
struct Tools {
    htpasswd: PathBuf,
    prometheus: PathBuf,
    alertmanager: PathBuf,
    victoria_metrics: PathBuf,
}

impl Tools {
    /// The tools, with Prometheus and Alertmanager of the 2.x line or, with `prometheus_3`, the
    /// 3.x line (`prometheus3`, `alertmanager3`, from Debian's unstable suite).
    fn find(prometheus_3: bool) -> Result<Tools, String> {
        let suffix = if prometheus_3 { "3" } else { "" };
        let tools = Tools {
            htpasswd: require_tool("htpasswd")?,
            prometheus: require_tool(&format!("prometheus{suffix}"))?,
            alertmanager: require_alertmanager(&format!("alertmanager{suffix}"))?,
            victoria_metrics: require_tool("victoria-metrics")?,
        };
        Ok(tools)
    }
}

/// Which server serves the `/metrics` the stack scrapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Exporter {
    /// `sockudo-obs serve --demo`, whose simulator drives every recording call.
    #[default]
    Demo,
    /// The real Sockudo 5.2.0 server with the drop-in driver (see [`sockudo`]).
    Sockudo,
    /// Two nodes of a real Sockudo build on a real Redis ([`Cluster`]), each behind a proxy of
    /// its own (the second one generated from the same specs with its ports), both scraped by
    /// the one Prometheus as the profile's two static targets.
    Cluster(Binary),
}

impl Exporter {
    /// The coverage table's column of the exporter; `None` for the demo, which feeds every
    /// family.
    pub const fn build(self) -> Option<Build> {
        match self {
            Exporter::Demo => None,
            Exporter::Sockudo => Some(Build::DropIn),
            Exporter::Cluster(Binary::DropIn) => Some(Build::DropInCluster),
            Exporter::Cluster(Binary::Instrumented) => Some(Build::Instrumented),
        }
    }

    /// The profile's `server:` for this exporter, so the bundle leaves out what it cannot feed.
    pub const fn server(self) -> &'static str {
        match self {
            Exporter::Demo => "every-family",
            Exporter::Sockudo => "sockudo-5.2.0",
            Exporter::Cluster(Binary::DropIn) => "sockudo-5.2.0-cluster",
            Exporter::Cluster(Binary::Instrumented) => "sockudo-5.2.0-instrumented",
        }
    }
}

/// What to vary between stacks.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackOptions<'a> {
    /// `PROMETHEUS_METRICS_PREFIX` for `generate`; `None` keeps the profile's prefix.
    pub bundle_prefix: Option<&'a str>,
    /// `PROMETHEUS_METRICS_PREFIX` for the exporter; `None` keeps the default.
    pub exporter_prefix: Option<&'a str>,
    pub exporter: Exporter,
    /// Run Prometheus 3 and Alertmanager 0.33 instead of 2.53 and 0.28.
    pub prometheus_3: bool,
}

/// A running stack. Dropping it stops every process (by PID) and removes the temp dir.
pub struct Stack {
    pub ports: Ports,
    pub bundle: Bundle,
    /// The prefix the bundle was generated for.
    pub prefix: String,
    /// The scrape job and the instance label of the exporter, as the bundle names them.
    pub job: String,
    pub instance: String,
    /// Every static target's instance label (the cluster's second node's too).
    pub instances: Vec<String>,
    /// The coverage column of the exporter (`None`: the demo, every family).
    pub build: Option<Build>,
    /// With [`Exporter::Cluster`]: Redis and the nodes; `exporter_url` is the first node's.
    pub cluster: Option<Mutex<Cluster>>,
    /// The basic-auth user and password Prometheus scrapes nginx with.
    pub user: String,
    pub password: String,
    pub prometheus: PromApi,
    pub victoria_metrics: PromApi,
    pub sink: WebhookSink,
    /// With [`Exporter::Sockudo`]: the server's Pusher port, and the sink its webhooks post to.
    pub server_port: u16,
    pub server_webhooks: WebhookSink,
    exporter: Mutex<Option<ProcessGuard>>,
    servers: Vec<ProcessGuard>,
    logs: PathBuf,
    // Last, so it is removed after the processes using it have stopped.
    temp: TempDir,
}

fn child(program: &Path) -> Command {
    let mut command = Command::new(program);
    for variable in METRICS_VARIABLES {
        command.env_remove(variable);
    }
    command
}

fn sockudo_obs(prefix: Option<&str>) -> Command {
    let mut command = child(Path::new(env!("CARGO_BIN_EXE_sockudo-obs")));
    if let Some(prefix) = prefix {
        command.env("PROMETHEUS_METRICS_PREFIX", prefix);
    }
    command
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run_to_log(name: &str, mut command: Command, logs: &Path) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("cannot run {name}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    write(&logs.join(format!("{name}.log")), &text)?;
    if !output.status.success() {
        return Err(format!("{name} failed ({}): {command:?}\n{text}", output.status));
    }
    Ok(())
}

/// Where the cluster's second node's bundle and proxy live, beside the first's `bundle` and
/// `nginx`.
const SECOND_BUNDLE: &str = "bundle-2";
const SECOND_PROXY: &str = "nginx-2";

/// Writes the specs with `ports` into `root/specs` (the local profile changed by `edit`) and
/// generates the `local` bundle from them into `root/bundle`, under `prefix` when given.
fn generate_bundle(
    root: &Path,
    ports: &Ports,
    prefix: Option<&str>,
    logs: &Path,
    edit: impl FnOnce(&mut Yaml),
) -> Result<Bundle, String> {
    generate_into(root, "", ports, prefix, logs, edit)
}

/// `root/specs<suffix>` and `root/bundle<suffix>`; `generate<suffix>.log`.
fn generate_into(
    root: &Path,
    suffix: &str,
    ports: &Ports,
    prefix: Option<&str>,
    logs: &Path,
    edit: impl FnOnce(&mut Yaml),
) -> Result<Bundle, String> {
    let specs = root.join(format!("specs{suffix}"));
    super::bundle::write_specs_edited(&specs, ports, edit)?;
    let bundle = Bundle {
        dir: root.join(format!("bundle{suffix}")),
    };
    let mut generate = sockudo_obs(prefix);
    generate
        .args(["generate", "--env", "local", "--out"])
        .arg(&bundle.dir)
        .arg("--specs")
        .arg(&specs);
    run_to_log(&format!("generate{suffix}"), generate, logs)?;
    Ok(bundle)
}

/// Where the stack's specs keep the profile it generates from.
fn profile_path(root: &Path) -> PathBuf {
    root.join("specs/environments/local.yaml")
}

/// The path of an `http://host:port/path` URL.
fn url_path(url: &str) -> Result<String, String> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| format!("{url}: not a URL"))?;
    Ok(rest.find('/').map_or("/", |at| &rest[at..]).to_string())
}

/// The second node's proxy listens on another loopback address, on the same port as the
/// first's, as two hosts would (the generator checks every static target on the proxy port).
const SECOND_HOST: &str = "127.0.0.2";

/// The cluster's bundles, from one local profile naming the cluster's build and both proxies
/// as static targets: the first node's (`root/bundle`, everything the stack runs but the second
/// proxy), and the second node's (`root/bundle-2`: the same profile with that node's metrics
/// port and its own proxy address, for its proxy), as an operator would generate one per host.
fn generate_cluster_bundles(
    root: &Path,
    ports: &Ports,
    cluster: &Cluster,
    options: StackOptions,
    logs: &Path,
) -> Result<Bundle, String> {
    let server = options.exporter.server();
    let both_nodes = |profile: &mut Yaml| {
        profile["server"] = Yaml::from(server);
        if let Some(targets) = profile["prometheus"]["static_targets"].as_sequence_mut() {
            let mut second = serde_norway::Mapping::new();
            second.insert("target".into(), format!("{SECOND_HOST}:{}", ports.nginx).into());
            second.insert("instance".into(), "sockudo-local-2".into());
            targets.push(Yaml::Mapping(second));
        }
    };
    let second_ports = Ports {
        exporter: cluster.nodes[1].metrics_port,
        ..*ports
    };
    let second = generate_into(
        root,
        "-2",
        &second_ports,
        options.bundle_prefix,
        logs,
        |profile| {
            both_nodes(profile);
            profile["proxy"]["listen_host"] = Yaml::from(SECOND_HOST);
        },
    )?;
    debug_assert_eq!(second.dir, root.join(SECOND_BUNDLE));
    generate_bundle(root, ports, options.bundle_prefix, logs, both_nodes)
}

/// The scrape secret: a fresh password in the file Prometheus reads, its hash in the format the
/// generated README recommends in the htpasswd file nginx checks, under `nginx_dir`. Returns the
/// user and the password.
fn write_credentials(
    bundle: &Bundle,
    nginx_dir: &Path,
    tools: &Tools,
    logs: &Path,
) -> Result<(String, String), String> {
    let (user, password_file) = bundle.scrape_credentials()?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let password = format!("e2e-{}-{nanos}", std::process::id());
    write(&password_file, &password)?;
    // nginx resolves a relative path against the directory of its nginx.conf.
    let htpasswd_path = nginx_dir.join(bundle.htpasswd_file()?);
    write(&htpasswd_path, "")?;
    let mut make_htpasswd = child(&tools.htpasswd);
    make_htpasswd
        .args(bundle.recommended_htpasswd_options()?)
        .arg("-b") // the password from the command line
        .arg(&htpasswd_path)
        .args([&user, &password]);
    run_to_log("htpasswd", make_htpasswd, logs)?;
    Ok((user, password))
}

impl Stack {
    /// Generates the bundle and starts every server; returns once each one answers.
    pub fn start(options: StackOptions) -> Result<Stack, String> {
        let tools = Tools::find(options.prometheus_3)?;
        let temp = tempfile::Builder::new()
            .prefix("sockudo-e2e-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let logs = temp.path().join("logs");
        fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let sink = WebhookSink::start()?;
        let cluster = match options.exporter {
            Exporter::Cluster(binary) => Some(Cluster::start(binary, 2)?),
            Exporter::Demo | Exporter::Sockudo => None,
        };
        let ports = Ports {
            exporter: cluster
                .as_ref()
                .map_or_else(free_port, |c| c.nodes[0].metrics_port),
            nginx: free_port(),
            prometheus: free_port(),
            alertmanager: free_port(),
            victoria_metrics: free_port(),
            webhook: sink.port,
        };
        let bundle = match &cluster {
            None => generate_bundle(temp.path(), &ports, options.bundle_prefix, &logs, |profile| {
                profile["server"] = Yaml::from(options.exporter.server());
            })?,
            Some(cluster) => generate_cluster_bundles(temp.path(), &ports, cluster, options, &logs)?,
        };
        let config = read_yaml(&bundle.prometheus_config())?;
        let scrape_job = &config["scrape_configs"][0];
        let job = scrape_job["job_name"]
            .as_str()
            .ok_or("prometheus.yml: the first scrape job has no job_name")?
            .to_string();
        let instances: Vec<String> = scrape_job["static_configs"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|group| group["labels"]["instance"].as_str().map(String::from))
            .collect();
        let instance = instances.first().cloned().unwrap_or_default();
        let (user, password) = write_credentials(&bundle, &temp.path().join("nginx"), &tools, &logs)?;
        if cluster.is_some() {
            // The second node's proxy checks the same htpasswd file.
            let htpasswd = bundle.htpasswd_file()?;
            let from = temp.path().join("nginx").join(&htpasswd);
            let to = temp.path().join(SECOND_PROXY).join(&htpasswd);
            write(
                &to,
                &fs::read_to_string(&from).map_err(|e| format!("{}: {e}", from.display()))?,
            )?;
        }
        let prefix = match options.bundle_prefix {
            Some(prefix) => prefix.to_string(),
            None => read_yaml(&profile_path(temp.path()))?["metrics"]["prefix"]
                .as_str()
                .ok_or("environments/local.yaml: no metrics.prefix")?
                .to_string(),
        };
        let mut stack = Stack {
            ports,
            prefix,
            job,
            instance,
            instances,
            build: options.exporter.build(),
            cluster: cluster.map(Mutex::new),
            user,
            password,
            prometheus: PromApi::new("Prometheus", ports.prometheus),
            victoria_metrics: PromApi::new("VictoriaMetrics", ports.victoria_metrics),
            sink,
            server_port: free_port(),
            server_webhooks: WebhookSink::start()?,
            exporter: Mutex::new(None),
            servers: Vec::new(),
            logs,
            bundle,
            temp,
        };
        stack.spawn_all(&tools, options)?;
        stack.wait_ready()?;
        Ok(stack)
    }

    /// Starts every server, each with its data in the temp dir; the exporter last but one, so
    /// Prometheus's first scrapes find it.
    fn spawn_all(&mut self, tools: &Tools, options: StackOptions) -> Result<(), String> {
        let root = self.root().to_path_buf();
        let ports = self.ports;
        let mut vm = child(&tools.victoria_metrics);
        vm.arg(format!("-httpListenAddr=127.0.0.1:{}", ports.victoria_metrics))
            .arg(format!("-storageDataPath={}", root.join("vm-data").display()))
            // Show samples at once rather than 30 s after they arrive.
            .arg("-search.latencyOffset=1s")
            .arg("-search.disableCache");
        self.spawn_server("victoria-metrics", vm)?;

        let am = alertmanager_command(
            &tools.alertmanager,
            &self.bundle.alertmanager_config(),
            &root.join("am-data"),
            ports.alertmanager,
        );
        self.spawn_server("alertmanager", am)?;

        let exporter = match options.exporter {
            Exporter::Demo => {
                let mut demo = sockudo_obs(options.exporter_prefix);
                demo.args(["serve", "--demo"])
                    .env("METRICS_HOST", "127.0.0.1")
                    .env("METRICS_PORT", ports.exporter.to_string());
                demo
            }
            Exporter::Sockudo => {
                let config = sockudo::config(self.server_port, ports.exporter, self.server_webhooks.port);
                let prefix = options.exporter_prefix.map(|p| ("PROMETHEUS_METRICS_PREFIX", p));
                sockudo::command(&root.join("sockudo"), &config, prefix.as_slice())?
            }
            // The cluster's nodes are running already; the second one gets its own proxy.
            Exporter::Cluster(_) => {
                let second = Bundle {
                    dir: root.join(SECOND_BUNDLE),
                };
                let proxy = nginx::command(&root.join(SECOND_PROXY), &second.nginx_server_block(), "stderr")?;
                return self.spawn_proxy_and_prometheus(tools, Some(proxy));
            }
        };
        *self.exporter.get_mut().unwrap() = Some(ProcessGuard::spawn("exporter", exporter, &self.logs)?);
        self.spawn_proxy_and_prometheus(tools, None)
    }

    /// nginx with the bundle's server block (and `second_proxy`, the cluster's second node's),
    /// then Prometheus.
    fn spawn_proxy_and_prometheus(
        &mut self,
        tools: &Tools,
        second_proxy: Option<Command>,
    ) -> Result<(), String> {
        let root = self.root().to_path_buf();
        let ports = self.ports;
        if let Some(proxy) = second_proxy {
            self.spawn_server("nginx-2", proxy)?;
        }

        let proxy = nginx::command(&root.join("nginx"), &self.bundle.nginx_server_block(), "stderr")?;
        self.spawn_server("nginx", proxy)?;

        let mut prom = child(&tools.prometheus);
        prom.arg(format!(
            "--config.file={}",
            self.bundle.prometheus_config().display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            root.join("prom-data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{}", ports.prometheus));
        self.spawn_server("prometheus", prom)
    }

    fn spawn_server(&mut self, name: &str, command: Command) -> Result<(), String> {
        self.servers.push(ProcessGuard::spawn(name, command, &self.logs)?);
        Ok(())
    }

    /// Waits until every server answers on its port (failing at once if one has exited).
    fn wait_ready(&mut self) -> Result<(), String> {
        let probes = [
            (
                "victoria-metrics",
                self.url(self.ports.victoria_metrics, "/health"),
            ),
            ("alertmanager", self.url(self.ports.alertmanager, "/-/ready")),
            ("exporter", self.exporter_url("/metrics")),
            // Without credentials nginx answers 401, which is an answer.
            ("nginx", self.proxy_url()),
            ("prometheus", self.url(self.ports.prometheus, "/-/ready")),
        ];
        for (name, url) in probes {
            wait_until(Duration::from_secs(30), &format!("{name} at {url}"), || {
                self.check_running()?;
                Ok(get(&url, &[], None).ok().filter(|r| r.status < 500).map(|_| ()))
            })
            .map_err(|e| self.explain(&e))?;
        }
        Ok(())
    }

    fn check_running(&mut self) -> Result<(), String> {
        self.servers
            .iter_mut()
            .chain(self.exporter.get_mut().unwrap().as_mut())
            .try_for_each(ProcessGuard::check_running)
    }

    fn url(&self, port: u16, path: &str) -> String {
        format!("http://127.0.0.1:{port}{path}")
    }

    /// The exporter's own URL (the demo's control endpoint lives there, not behind nginx).
    pub fn exporter_url(&self, path: &str) -> String {
        self.url(self.ports.exporter, path)
    }

    /// `/metrics` through the nginx proxy.
    pub fn proxy_url(&self) -> String {
        self.url(self.ports.nginx, "/metrics")
    }

    /// Switches the demo's scenario (`POST /demo/scenario`).
    pub fn set_scenario(&self, scenario: &str) -> Result<(), String> {
        let url = self.exporter_url("/demo/scenario");
        let reply = post(&url, scenario)?;
        if reply.status != 200 {
            return Err(format!(
                "POST {url} {scenario:?}: HTTP {}: {}",
                reply.status, reply.body
            ));
        }
        Ok(())
    }

    /// Kills the exporter by its PID, as a crash would.
    /// With a cluster, the second node (its proxy stays up and answers 502).
    pub fn kill_exporter(&self) {
        if let Some(exporter) = self.exporter.lock().unwrap().as_mut() {
            exporter.stop();
        }
        if let Some(cluster) = &self.cluster {
            cluster.lock().unwrap().nodes[1].kill();
        }
    }

    /// The cluster of an [`Exporter::Cluster`] stack.
    pub fn cluster(&self) -> Result<std::sync::MutexGuard<'_, Cluster>, String> {
        let cluster = self.cluster.as_ref().ok_or("this stack runs no cluster")?;
        Ok(cluster.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Where each server's log is written.
    pub fn logs(&self) -> &Path {
        &self.logs
    }

    /// The temp dir holding the specs copy, the bundle, the data dirs and the logs.
    /// The profile the bundle was generated from (the local one, with the test's ports and
    /// edits).
    pub fn profile(&self) -> Result<Yaml, String> {
        read_yaml(&profile_path(self.root()))
    }

    /// The sink path the profile's receiver for `severity` posts to.
    pub fn receiver_path(&self, severity: &str) -> Result<String, String> {
        let profile = self.profile()?;
        let url = profile["alertmanager"]["receivers"][severity]
            .as_str()
            .ok_or_else(|| format!("the profile has no alertmanager.receivers.{severity}"))?;
        url_path(url)
    }

    /// The sink path the profile's heartbeat receiver posts to.
    pub fn heartbeat_path(&self) -> Result<String, String> {
        let profile = self.profile()?;
        let url = profile["alertmanager"]["heartbeat_url"]
            .as_str()
            .ok_or("the profile has no alertmanager.heartbeat_url")?;
        url_path(url)
    }

    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// `error`, followed by the tail of every server's log.
    pub fn explain(&self, error: &str) -> String {
        let mut text = format!("{error}\n\nstack files: {}\n", self.root().display());
        for name in ["generate", "htpasswd"] {
            let log = self.logs.join(format!("{name}.log"));
            if log.exists() {
                text += &format!(
                    "\n--- {name} (last lines) ---\n{}\n",
                    super::process::tail(&log, 10)
                );
            }
        }
        if let Ok(cluster) = self.cluster() {
            text += &cluster.explain("the cluster:");
        }
        let exporter = self.exporter.lock().unwrap();
        for guard in self.servers.iter().chain(exporter.as_ref()) {
            text += &format!(
                "\n--- {} (pid {}, last lines) ---\n{}\n",
                guard.name,
                guard.pid(),
                guard.log_tail(15)
            );
        }
        text
    }

    /// Runs one step, printing how long it took; on failure, panics with the step's error and
    /// every server's log tail. The stack's guards stop every process as the panic unwinds.
    pub fn step<T>(&self, name: &str, run: impl FnOnce(&Stack) -> Result<T, String>) -> T {
        let started = Instant::now();
        let result = run(self);
        let took = started.elapsed();
        match result {
            Ok(value) => {
                eprintln!("[e2e {}] {name}: ok in {took:.1?}", self.prefix);
                value
            }
            Err(error) => panic!(
                "[e2e {}] step `{name}` failed after {took:.1?}:\n{}",
                self.prefix,
                self.explain(&error)
            ),
        }
    }
}

/// `alertmanager` from PATH, checked to be a working install.
pub fn require_alertmanager(name: &str) -> Result<PathBuf, String> {
    let alertmanager = require_tool(name)?;
    check_debian_alertmanager_templates(&alertmanager)?;
    Ok(alertmanager)
}

/// A standalone Alertmanager on `127.0.0.1:port` with `config`, keeping its state in `data`.
pub fn alertmanager_command(alertmanager: &Path, config: &Path, data: &Path, port: u16) -> Command {
    let mut am = child(alertmanager);
    am.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=");
    am
}

/// Debian's alertmanager loads its notification templates from a fixed path and will not start
/// without them, so a binary unpacked from the .deb alone is not a working install.
const DEBIAN_ALERTMANAGER_TEMPLATE: &str = "/usr/share/prometheus/alertmanager/default.tmpl";

fn check_debian_alertmanager_templates(alertmanager: &Path) -> Result<(), String> {
    let binary = fs::canonicalize(alertmanager).unwrap_or_else(|_| alertmanager.to_path_buf());
    let is_debian_build = binary.ends_with("prometheus-alertmanager");
    if is_debian_build && !Path::new(DEBIAN_ALERTMANAGER_TEMPLATE).is_file() {
        return Err(format!(
            "alertmanager ({}) is Debian's build, which needs {DEBIAN_ALERTMANAGER_TEMPLATE} \
             (shipped in the same .deb): run scripts/install-tools.sh",
            binary.display()
        ));
    }
    Ok(())
}

/// Seconds since the epoch, as Prometheus takes them.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}
