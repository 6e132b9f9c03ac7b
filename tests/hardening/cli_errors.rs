//! Usage and config errors through the real `sockudo-obs` binary, with an environment holding
//! nothing but PATH and the variables under test. Each bad config value must stop `serve` before
//! it binds, with exit code 2 and exactly one stderr line that names the key, where the value came
//! from (the file path or the variable) and what is allowed. `generate` must name what exists when
//! asked for an environment that does not, and must create nothing when it cannot write.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::ports::free_port;
use crate::support::process::{run_to_exit, wait_until, ProcessGuard};
use crate::support::serve::{assert_one_line_usage_error, assert_scrape_ok, sockudo_obs};
use crate::support::streams::{run_with_dead_end, sockudo_obs_with, DeadEnd};

/// Every run must end by itself well within this; a binary still running was serving.
const EXIT_LIMIT: Duration = Duration::from_secs(10);
/// For runs that check every environment of a debug build.
const LONG_LIMIT: Duration = Duration::from_secs(60);

/// `serve --config F`, with F holding `contents`.
fn serve_with_file(dir: &Path, contents: &[u8]) -> (Output, String) {
    let file = dir.join("config.json");
    std::fs::write(&file, contents).unwrap();
    let output = run_to_exit(sockudo_obs().arg("serve").arg("--config").arg(&file), EXIT_LIMIT);
    (output, file.display().to_string())
}

#[test]
fn unusable_config_files_are_one_line_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("malformed", b"{\"metrics\": {\"port\": 9601,}}", "not valid JSON"),
        ("truncated", b"{\"metrics\": {\"port\": 96", "not valid JSON: EOF"),
        (
            "not UTF-8",
            b"{\"metrics\": {\"host\": \"\xff\xfe\"}}",
            "not UTF-8",
        ),
        ("not an object", b"[1, 2]", "expected a JSON object"),
    ];
    for (what, contents, problem) in cases {
        let (output, file) = serve_with_file(dir.path(), contents);
        let line = assert_one_line_usage_error(&output, &[&file, problem]);
        println!("{what}: {line}");
    }
    // A syntax error also says where it is.
    let (output, _) = serve_with_file(dir.path(), cases[0].1);
    assert_one_line_usage_error(&output, &["line 1 column"]);
}

#[test]
fn a_wrong_type_at_each_config_key_is_a_one_line_error_naming_key_file_and_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"metrics": {"enabled": "yes"}}"#,
            "metrics.enabled",
            "a boolean (true or false)",
        ),
        (
            r#"{"metrics": {"driver": 1}}"#,
            "metrics.driver",
            "allowed: \"prometheus\"",
        ),
        (
            r#"{"metrics": {"driver": "statsd"}}"#,
            "metrics.driver",
            "allowed: \"prometheus\"",
        ),
        (
            r#"{"metrics": {"host": 127}}"#,
            "metrics.host",
            "an IP address (v4 or v6) or an RFC 1123 hostname",
        ),
        (
            r#"{"metrics": {"port": "9601"}}"#,
            "metrics.port",
            "an integer from 1 to 65535",
        ),
        (
            r#"{"metrics": {"port": 65536}}"#,
            "metrics.port",
            "an integer from 1 to 65535",
        ),
        (
            r#"{"metrics": {"prometheus": []}}"#,
            "metrics.prometheus",
            "expected an object",
        ),
        (
            r#"{"metrics": {"prometheus": {"prefix": 5}}}"#,
            "metrics.prometheus.prefix",
            "ASCII letters, digits and \"_\"",
        ),
        (
            r#"{"metrics": {"prometheus": {"prefix": "my-company"}}}"#,
            "metrics.prometheus.prefix",
            "not starting with a digit",
        ),
        (
            r#"{"metrics": {"prometheus": {"prefix": "9abc"}}}"#,
            "metrics.prometheus.prefix",
            "not starting with a digit",
        ),
        (
            r#"{"metrics": {"prot": 9601}}"#,
            "metrics.prot",
            "allowed: enabled, driver, host, port, prometheus",
        ),
    ];
    for (json, key, allowed) in cases {
        let (output, file) = serve_with_file(dir.path(), json.as_bytes());
        let line = assert_one_line_usage_error(&output, &[&file, key, allowed]);
        println!("{line}");
    }
}

#[test]
fn bad_environment_values_are_one_line_errors_naming_the_variable_key_and_allowed_values() {
    let cases = [
        ("METRICS_PORT", "-1", "metrics.port", "a port number (1-65535)"),
        ("METRICS_PORT", "0", "metrics.port", "a port number (1-65535)"),
        ("METRICS_PORT", "65536", "metrics.port", "a port number (1-65535)"),
        ("METRICS_PORT", "abc", "metrics.port", "a port number (1-65535)"),
        (
            "METRICS_ENABLED",
            "maybe",
            "metrics.enabled",
            "a boolean (true, false, 1, 0)",
        ),
        (
            "METRICS_DRIVER",
            "statsd",
            "metrics.driver",
            "allowed: prometheus",
        ),
        (
            "PROMETHEUS_METRICS_PREFIX",
            "my-company",
            "metrics.prometheus.prefix",
            "ASCII letters, digits and \"_\"",
        ),
        (
            "PROMETHEUS_METRICS_PREFIX",
            "9abc",
            "metrics.prometheus.prefix",
            "not starting with a digit",
        ),
        (
            "METRICS_PROMETHEUS_PREFIX",
            "my-company",
            "metrics.prometheus.prefix",
            "ASCII letters, digits and \"_\"",
        ),
    ];
    for (var, value, key, allowed) in cases {
        let output = run_to_exit(sockudo_obs().arg("serve").env(var, value), EXIT_LIMIT);
        let setting = format!("{var}=\"{value}\"");
        let line = assert_one_line_usage_error(&output, &[&setting, key, allowed]);
        println!("{line}");
    }
}

#[test]
fn an_environment_value_overrides_a_good_file_and_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, r#"{"metrics": {"port": 9700}}"#).unwrap();
    let output = run_to_exit(
        sockudo_obs()
            .arg("serve")
            .arg("--config")
            .arg(&file)
            .env("METRICS_PORT", "abc"),
        EXIT_LIMIT,
    );
    assert_one_line_usage_error(&output, &["METRICS_PORT=\"abc\""]);
}

/// The environments that exist, from the repository's `environments/` folder (the binary embeds
/// the same files).
fn shipped_environments() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".yaml").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn an_unknown_environment_exits_2_listing_the_environments_that_exist() {
    let output = run_to_exit(sockudo_obs().args(["generate", "--env", "nope"]), EXIT_LIMIT);
    let environments = shipped_environments();
    assert!(environments.len() >= 3, "{environments:?}");
    let mut mentions: Vec<&str> = environments.iter().map(String::as_str).collect();
    mentions.push("\"nope\"");
    assert_one_line_usage_error(&output, &mentions);
}

/// The command line maps the library's error kinds to exit codes: a `Usage` error (an unknown
/// environment) or a `Config` one exits 2, an `Io` error (a file where the output folder's
/// parent must be) exits 1; each is one stderr line.
#[test]
fn a_usage_error_exits_2_and_an_io_error_exits_1() {
    let usage = run_to_exit(sockudo_obs().args(["generate", "--env", "nope"]), EXIT_LIMIT);
    assert_one_line_usage_error(&usage, &["--env \"nope\": unknown environment"]);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"metrics": {"port": 0}}"#).unwrap();
    let bad_config = run_to_exit(
        sockudo_obs().arg("serve").arg("--config").arg(&config),
        EXIT_LIMIT,
    );
    assert_one_line_usage_error(&bad_config, &["metrics.port"]);

    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "keep me\n").unwrap();
    let io = run_to_exit(
        sockudo_obs()
            .args(["generate", "--env", "local", "--out"])
            .arg(blocker.join("bundle"))
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    let stderr = String::from_utf8_lossy(&io.stderr);
    assert_eq!(io.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("sockudo-obs: error: cannot create the output folder's parent "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn generate_into_an_unwritable_folder_fails_naming_it_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a folder would have to be: no user, not even root, can write there.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "keep me\n").unwrap();
    let out = blocker.join("bundle");
    let output = run_to_exit(
        sockudo_obs()
            .args(["generate", "--env", "production", "--out"])
            .arg(&out)
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "generate succeeded: {stderr}");
    assert!(
        stderr.contains(&blocker.display().to_string()),
        "the error does not name the folder: {stderr}"
    );
    // Nothing created: the blocker is untouched and is still the only entry.
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "keep me\n");
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["not-a-folder"]);
}

#[test]
fn duplicate_keys_devices_fifos_and_bad_prefixes_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (output, file) = serve_with_file(dir.path(), br#"{"metrics": {"port": 9601, "port": 9700}}"#);
    assert_one_line_usage_error(&output, &[&file, "metrics.port", "appears twice"]);

    let fifo = dir.path().join("fifo");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    for config in [fifo.as_path(), Path::new("/dev/zero")] {
        let output = run_to_exit(sockudo_obs().arg("serve").arg("--config").arg(config), EXIT_LIMIT);
        let shown = config.display().to_string();
        assert_one_line_usage_error(&output, &[&shown, "not a regular file"]);
    }

    for prefix in ["a-b", "9abc", "a:b"] {
        let output = run_to_exit(sockudo_obs().args(["catalogue", "--prefix", prefix]), EXIT_LIMIT);
        assert_one_line_usage_error(&output, &["--prefix", prefix]);
    }
}

/// `init` writes the template for editing; `generate --specs` takes it as it is. The written
/// profile holds the template's values (comments aside) under a header listing the keys that
/// still hold example values.
#[test]
fn init_writes_an_editable_profile_that_generate_reads() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_to_exit(
        sockudo_obs()
            .args(["init", "--env", "eu-1", "--from", "production", "--dir", "specs"])
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read_to_string(dir.path().join("specs/environments/eu-1.yaml")).unwrap();
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/production.yaml"),
    )
    .unwrap();
    let as_value = |text: &str| serde_norway::from_str::<serde_norway::Value>(text).unwrap();
    assert_eq!(as_value(&written), as_value(&template));
    let listed: Vec<&str> = written
        .lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix("#   - "))
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert!(listed.contains(&"docs.runbook_url"), "{listed:?}");
    assert!(
        listed.contains(&"prometheus.static_targets[0].target"),
        "{listed:?}"
    );

    let generated = run_to_exit(
        sockudo_obs()
            .args(["generate", "--env", "eu-1", "--specs", "specs"])
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(dir
        .path()
        .join("generated/eu-1/prometheus/prometheus.yml")
        .is_file());

    // A second init never overwrites the operator's edits.
    let again = run_to_exit(
        sockudo_obs()
            .args(["init", "--env", "eu-1", "--dir", "specs"])
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    assert_one_line_usage_error(&again, &["--env eu-1", "exists"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("specs/environments/eu-1.yaml")).unwrap(),
        written
    );
}

#[test]
fn init_rejects_a_bad_name_or_template_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad_name = run_to_exit(
        sockudo_obs()
            .args(["init", "--env", "../eu"])
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    assert_one_line_usage_error(&bad_name, &["--env", "\"../eu\""]);
    let bad_from = run_to_exit(
        sockudo_obs()
            .args(["init", "--env", "eu", "--from", "nope"])
            .current_dir(dir.path()),
        EXIT_LIMIT,
    );
    assert_one_line_usage_error(&bad_from, &["--from", "\"nope\"", "production"]);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// What a failed write says: the stream and the system's reason.
fn stream_error(stream: &str, dead_end: DeadEnd) -> String {
    let reason = match dead_end {
        DeadEnd::BrokenPipe => "Broken pipe (os error 32)",
        DeadEnd::Full => "No space left on device (os error 28)",
        DeadEnd::Closed => unreachable!("a closed stream is /dev/null"),
    };
    format!("sockudo-obs: error: cannot write to {stream}: {reason}")
}

/// `generate`, `generate --check`, `check`, `catalogue` and `init` with stdout a pipe nobody reads
/// (`| head -c0`) or a full device: exit 1 with one stderr line naming stdout, never a panic
/// (exit 101). With stdout closed (`>&-`, which Rust's runtime reopens on /dev/null) they
/// succeed. Either way the bundle and the profile they wrote are whole: no byte meant for stdout
/// lands in a file.
#[test]
fn a_broken_or_full_stdout_is_exit_1_naming_it_never_a_panic() {
    let embedded = sockudo_obs::bundle::build(
        &sockudo_obs::bundle::SpecSource::Embedded,
        "local",
        &Default::default(),
    )
    .unwrap();
    for dead_end in DeadEnd::ALL {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle");
        let specs = dir.path().join("specs");
        let (bundle_arg, specs_arg) = (bundle.to_str().unwrap(), specs.to_str().unwrap());
        let runs: [&[&str]; 5] = [
            &["generate", "--env", "local", "--out", bundle_arg],
            &["generate", "--env", "local", "--out", bundle_arg, "--check"],
            &["check", "--env", "local"],
            &["catalogue", "--format", "json"],
            &["init", "--env", "eu-1", "--dir", specs_arg],
        ];
        for args in runs {
            let run = run_with_dead_end(sockudo_obs_with(1, dead_end, args), 1, EXIT_LIMIT);
            let shown = format!("stdout {dead_end:?}, {args:?}: {} {:?}", run.status, run.other);
            if dead_end == DeadEnd::Closed {
                assert_eq!(run.status.code(), Some(0), "{shown}");
                assert!(run.other.is_empty(), "{shown}");
            } else {
                assert_eq!(run.status.code(), Some(1), "{shown}");
                assert_eq!(run.other.trim_end(), stream_error("stdout", dead_end), "{shown}");
            }
        }
        let changes = embedded.diff(&bundle).unwrap();
        assert!(changes.is_empty(), "stdout {dead_end:?}: {changes:?}");
        let profile = std::fs::read_to_string(specs.join("environments/eu-1.yaml")).unwrap();
        assert!(profile.starts_with("# The eu-1 environment"), "{profile}");
        assert!(!profile.contains("wrote "), "{profile}");
    }
}

/// With stderr a dead end, a failing run still exits with its code (2 for a usage error, 1 for a
/// stale bundle), never 101, and writes nothing to stdout.
#[test]
fn a_broken_full_or_closed_stderr_keeps_the_exit_code_never_a_panic() {
    let empty = tempfile::tempdir().unwrap();
    let stale = empty.path().to_str().unwrap();
    for dead_end in DeadEnd::ALL {
        for (args, code) in [
            (&["generate", "--env", "nope"][..], 2),
            (&["generate", "--env", "local", "--out", stale, "--check"][..], 1),
        ] {
            let run = run_with_dead_end(sockudo_obs_with(2, dead_end, args), 2, EXIT_LIMIT);
            let shown = format!("stderr {dead_end:?}, {args:?}: {} {:?}", run.status, run.other);
            assert_eq!(run.status.code(), Some(code), "{shown}");
            assert!(run.other.is_empty(), "{shown}");
        }
    }
}

/// `serve` with stdout a pipe nobody reads, a full device or closed: it warns on stderr (when
/// its banner cannot be written) and goes on serving `/metrics` until SIGTERM, then exits 0.
/// Before, the banner's `println!` panicked right after binding.
#[test]
fn serve_keeps_serving_when_its_stdout_is_broken_full_or_closed() {
    for dead_end in DeadEnd::ALL {
        let port = free_port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = sockudo_obs_with(1, dead_end, &["serve", "--demo"]);
        command
            .env("METRICS_HOST", "127.0.0.1")
            .env("METRICS_PORT", port.to_string())
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut server = ProcessGuard::start(&mut command);
        let stderr = server.child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
        wait_until(EXIT_LIMIT, "the exporter to listen", || {
            server.check_running()?;
            Ok(std::net::TcpStream::connect(addr).ok())
        })
        .unwrap_or_else(|e| panic!("stdout {dead_end:?}: {e}"));
        // The banner is written right after binding: give a failing write time to take effect.
        std::thread::sleep(Duration::from_millis(500));
        for _ in 0..3 {
            assert_scrape_ok(addr, Duration::from_secs(5));
        }
        server
            .check_running()
            .unwrap_or_else(|e| panic!("stdout {dead_end:?}: {e}"));
        server.terminate();
        let status = server.wait_for_exit(EXIT_LIMIT).expect("exits on SIGTERM");
        let stderr = stderr.join().unwrap();
        assert_eq!(status.code(), Some(0), "stdout {dead_end:?}: {stderr}");
        let mut expected = vec!["sockudo-obs: stopped".to_string()];
        if dead_end != DeadEnd::Closed {
            let warning = stream_error("stdout", dead_end).replace("error:", "warning:");
            expected.insert(0, format!("{warning}; serving on http://{addr}/metrics anyway"));
        }
        assert_eq!(
            stderr.lines().collect::<Vec<_>>(),
            expected,
            "stdout {dead_end:?}"
        );
    }
}

/// `init` holds `--env` to the name rule `generate` and `check` read: a name `generate` would
/// refuse (upper case, `_`, a space) is refused by `init` too, before anything is written.
#[test]
fn init_refuses_every_name_generate_refuses() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["Prod_1", "PROD", "a_b", "a b", "", "x.y"] {
        let output = run_to_exit(
            sockudo_obs()
                .args(["init", "--env", name])
                .current_dir(dir.path()),
            EXIT_LIMIT,
        );
        let quoted = format!("{name:?}");
        assert_one_line_usage_error(&output, &["--env", &quoted, "not an environment name"]);
        let generate = run_to_exit(sockudo_obs().args(["generate", "--env", name]), EXIT_LIMIT);
        assert_one_line_usage_error(&generate, &["--env", &quoted, "not an environment name"]);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

/// `check` over every environment of `--specs` fails, naming the file, when `environments/`
/// holds a profile no environment reads (a name outside the rule, a link), and when it holds no
/// profile at all; it never passes having checked nothing.
#[test]
fn check_fails_naming_each_profile_it_does_not_read() {
    let specs = crate::support::specs::Specs::copy();
    let envs = specs.path("environments");
    let production = std::fs::read_to_string(envs.join("production.yaml")).unwrap();
    std::fs::write(envs.join("Prod_1.yaml"), &production).unwrap();
    std::os::unix::fs::symlink("production.yaml", envs.join("linked.yaml")).unwrap();
    let check = |specs: &Path| run_to_exit(sockudo_obs().arg("check").arg("--specs").arg(specs), LONG_LIMIT);
    let output = check(&specs.path(""));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for needle in [
        "environments/Prod_1.yaml: not checked: \"Prod_1\" is not an environment name",
        "environments/linked.yaml: not checked: not a regular file",
    ] {
        assert!(stderr.contains(needle), "no {needle:?} in {stderr}");
    }
    // The others were checked.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("production: ok"), "{stdout}");

    // Only misnamed profiles: nothing to check is a failure too.
    let only = tempfile::tempdir().unwrap();
    std::fs::create_dir(only.path().join("environments")).unwrap();
    std::fs::write(only.path().join("environments/Prod_1.yaml"), &production).unwrap();
    let output = check(only.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("environments/Prod_1.yaml"), "{stderr}");
    std::fs::remove_file(only.path().join("environments/Prod_1.yaml")).unwrap();
    let output = check(only.path());
    assert_one_line_usage_error(&output, &["environments", "no environment profile to check"]);
}

/// `init` never writes through a symbolic link: a dangling link at the profile's path, pointing
/// out of the folder, and an `environments/` that is a link are refused, naming the path, and the
/// link's target is never created.
#[test]
fn init_refuses_to_write_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("environments")).unwrap();
    let link = specs.join("environments/eu-1.yaml");
    std::os::unix::fs::symlink(elsewhere.join("x.yaml"), &link).unwrap();
    let init = |env: &str, specs: &Path| {
        run_to_exit(
            sockudo_obs().args(["init", "--env", env, "--dir"]).arg(specs),
            EXIT_LIMIT,
        )
    };
    let shown = link.display().to_string();
    assert_one_line_usage_error(&init("eu-1", &specs), &[&shown, "symbolic link"]);

    let linked_specs = dir.path().join("linked-specs");
    std::fs::create_dir(&linked_specs).unwrap();
    std::os::unix::fs::symlink(&elsewhere, linked_specs.join("environments")).unwrap();
    let shown = linked_specs.join("environments").display().to_string();
    assert_one_line_usage_error(&init("eu-2", &linked_specs), &[&shown, "symbolic link"]);

    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "init wrote through a link"
    );
}

/// A 5,000-character `--env` is echoed cut to 64 characters with its length, by `generate` (an
/// unknown environment) and `init` (a name outside the rule), never whole.
#[test]
fn a_long_environment_name_is_echoed_cut_with_its_length() {
    let dir = tempfile::tempdir().unwrap();
    for (command, name) in [("generate", "a".repeat(5000)), ("init", "A".repeat(5000))] {
        let output = run_to_exit(
            sockudo_obs()
                .args([command, "--env", &name])
                .current_dir(dir.path()),
            EXIT_LIMIT,
        );
        let cut = format!("{:?}... (5000 characters)", &name[..64]);
        let line = assert_one_line_usage_error(&output, &["--env", &cut]);
        assert!(line.len() < 400, "{command}: {} bytes: {line}", line.len());
    }
}
