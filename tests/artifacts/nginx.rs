//! The generated nginx proxy, run for real: `nginx -t` accepts it for every environment with the
//! proxy on, and a live nginx on loopback in front of a stand-in metrics endpoint answers 401
//! without or with wrong credentials, 200 with the upstream's body for the right ones (hashed
//! with `htpasswd -B`, the format the README recommends), 404 elsewhere and 403 to a POST.
//! Missing `nginx` or `htpasswd` fails the test: it is never skipped.

use crate::support::http::{self, basic_auth};
use crate::support::ports::free_port;
use crate::support::process::ProcessGuard;
use crate::support::{self, specs, tools, validate};

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sockudo_obs::bundle::Output;
use sockudo_obs::bundle::{renderer, NGINX_CONF_PATH};
use sockudo_obs::bundle::{Model, Overrides, SpecSource};

const UPSTREAM_BODY: &str =
    "# TYPE sockudo_active_connections gauge\nsockudo_active_connections{app_id=\"demo\"} 42\n";
const USER: &str = "prometheus";
const PASSWORD: &str = "correct horse battery staple";

/// A temp dir the nginx workers (`nobody` when run as root) can read.
fn readable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir_all(dir.path().join("tmp")).unwrap();
    dir
}

#[test]
fn nginx_accepts_the_generated_config_of_every_environment() {
    // `nginx -t` is the bundle validator's (scripts/validate-bundle.sh), on every server block.
    let mut tested = 0;
    for env in specs::environments() {
        let bundle = validate::build(&env);
        if !bundle.path().join(NGINX_CONF_PATH).is_file() {
            continue;
        }
        validate::assert_passes(&["nginx"], bundle.path(), None);
        tested += 1;
    }
    assert!(tested >= 2, "only {tested} environments have the proxy on");
}

/// A stand-in metrics endpoint; records each request head it receives.
fn start_upstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let head = read_head(&mut stream);
            let response = if head.starts_with("GET /metrics ") || head.starts_with("HEAD /metrics ") {
                let body = if head.starts_with("GET") {
                    UPSTREAM_BODY
                } else {
                    ""
                };
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    UPSTREAM_BODY.len()
                )
            } else {
                "HTTP/1.1 500 Unexpected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            };
            record.lock().unwrap().push(head);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (port, seen)
}

fn read_head(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Sends one request and returns the status code and the body.
fn request(port: u16, method: &str, path: &str, credentials: Option<(&str, &str)>) -> (u16, String) {
    request_at("127.0.0.1", port, method, path, credentials)
}

fn request_at(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    credentials: Option<(&str, &str)>,
) -> (u16, String) {
    let addr = (host, port).to_socket_addrs().unwrap().next().unwrap();
    let auth = credentials.map(|(u, p)| basic_auth(u, p));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let body = if method == "POST" { "{}" } else { "" };
    let (status, _, body) = http::request(addr, method, path, &headers, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn wait_until_listening(port: u16, nginx: &mut ProcessGuard, error_log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = nginx.child.try_wait() {
            panic!(
                "nginx exited ({status}): {}",
                fs::read_to_string(error_log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "nginx did not start listening on {port}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// A real nginx running the `local` proxy as rendered after `edit` changed the profile, in front
/// of a stand-in exporter, with a bcrypt htpasswd file holding [`USER`] and [`PASSWORD`].
struct LiveProxy {
    /// Stops nginx, then removes its directory, when the test ends.
    _nginx: ProcessGuard,
    _dir: tempfile::TempDir,
    listen_port: u16,
    upstream_seen: Arc<Mutex<Vec<String>>>,
    error_log: std::path::PathBuf,
    rendered: String,
}

fn launch_proxy(edit: impl FnOnce(&Path, &mut serde_norway::Value)) -> LiveProxy {
    let dir = readable_tempdir();
    let htpasswd = dir.path().join("htpasswd");
    let created = Command::new(tools::require("htpasswd"))
        .args(["-c", "-b", "-B"])
        .arg(&htpasswd)
        .args([USER, PASSWORD])
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "htpasswd -B: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        fs::read_to_string(&htpasswd).unwrap().contains(":$2y$"),
        "a bcrypt hash"
    );
    fs::set_permissions(&htpasswd, fs::Permissions::from_mode(0o644)).unwrap();

    let (upstream_port, upstream_seen) = start_upstream();
    let listen_port = free_port();
    let specs = specs::specs_copy();
    let mut profile = specs::read_profile(specs.path(), "local");
    // The wildcard: nginx must listen on IPv4 and IPv6 alike.
    specs::set(&mut profile, "proxy.listen_host", "0.0.0.0");
    specs::set(&mut profile, "proxy.listen_port", u64::from(listen_port));
    specs::set(
        &mut profile,
        "proxy.htpasswd_file",
        htpasswd.display().to_string(),
    );
    edit(dir.path(), &mut profile);
    specs::write_profile(specs.path(), "local", &profile);

    let conf = dir.path().join("sockudo-metrics.conf");
    // The exporter's port comes from a Sockudo config (`--config`), as the server reads it: the
    // proxy must follow it there, or the 200 below would be a 502.
    let from_config = Overrides {
        port: Some(upstream_port),
        ..Overrides::default()
    };
    let model = Model::load(
        &SpecSource::Dir(specs.path().to_path_buf()),
        "local",
        &from_config,
    )
    .unwrap();
    let mut out = Output::new();
    renderer::nginx(&model, &mut out).unwrap();
    let rendered = specs::text(&out, NGINX_CONF_PATH);
    fs::write(&conf, &rendered).unwrap();
    let error_log = dir.path().join("error.log");
    let mut nginx = ProcessGuard::start(
        support::nginx::command(dir.path(), &conf, &error_log.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_until_listening(listen_port, &mut nginx, &error_log);
    LiveProxy {
        _nginx: nginx,
        _dir: dir,
        listen_port,
        upstream_seen,
        error_log,
        rendered,
    }
}

#[test]
fn the_live_proxy_guards_metrics_with_basic_auth() {
    let proxy = launch_proxy(|_, _| {});
    let (listen_port, error_log) = (proxy.listen_port, &proxy.error_log);
    let upstream_seen = &proxy.upstream_seen;
    assert!(!proxy.rendered.contains(PASSWORD), "the config holds no password");
    let right = Some((USER, PASSWORD));
    assert_eq!(
        request(listen_port, "GET", "/metrics", None).0,
        401,
        "no credentials"
    );
    assert_eq!(
        request(listen_port, "GET", "/metrics", Some((USER, "wrong"))).0,
        401,
        "wrong password"
    );
    assert_eq!(
        request(listen_port, "GET", "/metrics", Some(("intruder", PASSWORD))).0,
        401,
        "unknown user"
    );
    let (status, body) = request(listen_port, "GET", "/metrics", right);
    assert_eq!(
        status,
        200,
        "right credentials: {}",
        fs::read_to_string(error_log).unwrap_or_default()
    );
    assert_eq!(body, UPSTREAM_BODY, "the upstream's body, unchanged");
    assert_eq!(
        request_at("::1", listen_port, "GET", "/metrics", right).0,
        200,
        "over IPv6 too (listen [::])"
    );
    assert_eq!(
        request(listen_port, "HEAD", "/metrics", right).0,
        200,
        "HEAD rides on GET"
    );
    assert_eq!(request(listen_port, "GET", "/other", right).0, 404);
    assert_eq!(request(listen_port, "GET", "/metrics/extra", right).0, 404);
    assert_eq!(request(listen_port, "GET", "/", None).0, 404);
    let post = request(listen_port, "POST", "/metrics", right).0;
    // What the generated README and the config's header say: 403, from `limit_except`.
    assert_eq!(post, 403, "POST /metrics answered {post}");

    let seen = upstream_seen.lock().unwrap();
    assert!(!seen.is_empty(), "the upstream was reached");
    for head in seen.iter() {
        assert!(
            head.starts_with("GET /metrics ") || head.starts_with("HEAD /metrics "),
            "{head}"
        );
        assert!(
            !head.to_ascii_lowercase().contains("authorization:"),
            "credentials leaked upstream: {head}"
        );
    }
    drop(seen);

    // A password guesser is slowed down: past the burst, 429 instead of 401.
    let statuses: Vec<u16> = (0..40)
        .map(|_| request(listen_port, "GET", "/metrics", Some((USER, "guess"))).0)
        .collect();
    assert!(
        statuses.contains(&429),
        "no rate limit at the auth location: {statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}

/// With `proxy.tls`, the proxy answers only TLS on its port: the right credentials get the
/// metrics over https, a cleartext request is refused, and Prometheus scrapes the static
/// targets over https.
#[test]
fn the_proxy_serves_tls_when_the_profile_names_certificates() {
    let proxy = launch_proxy(|dir, profile| {
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let mut tls = serde_norway::Mapping::new();
        tls.insert("certificate".into(), cert.display().to_string().into());
        tls.insert("certificate_key".into(), key.display().to_string().into());
        specs::set(profile, "proxy.tls", serde_norway::Value::Mapping(tls));
    });
    let curl = |scheme: &str, user: &str| -> String {
        let out = Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-u"])
            .arg(format!("{user}:{PASSWORD}"))
            .arg(format!("{scheme}://127.0.0.1:{}/metrics", proxy.listen_port))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        curl("https", USER),
        "200",
        "{}",
        fs::read_to_string(&proxy.error_log).unwrap_or_default()
    );
    assert_eq!(curl("https", "intruder"), "401");
    assert_eq!(curl("http", USER), "400", "cleartext is refused on the TLS port");
}
