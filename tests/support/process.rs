//! Child processes: one guard, [`ProcessGuard`], that stops its child by PID (and reaps it) when
//! it drops, also when an assertion panics; a run to completion with a time limit; polling.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Polls `probe` every 200 ms until it returns `Ok(Some(value))` or `timeout` passes. On timeout
/// the error says what was awaited and the probe's last answer.
pub fn wait_until<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe() {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => String::from("not yet"),
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            return Err(format!(
                "timed out after {timeout:?} waiting for {what}; last answer: {last}"
            ));
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// A running child process. Dropping the guard kills it (SIGKILL, by its PID) and reaps it.
pub struct ProcessGuard {
    pub name: String,
    /// Where its output goes, when [`ProcessGuard::spawn`] started it.
    pub log: PathBuf,
    pub child: Child,
}

impl ProcessGuard {
    /// Starts `command` with the standard streams it was given (piped, null or inherited).
    pub fn start(command: &mut Command) -> ProcessGuard {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        ProcessGuard {
            name: command.get_program().to_string_lossy().into_owned(),
            log: PathBuf::new(),
            child,
        }
    }

    /// Starts `command` with stdin closed and stdout and stderr appended to `<logs>/<name>.log`.
    pub fn spawn(name: &str, mut command: Command, logs: &Path) -> Result<ProcessGuard, String> {
        let log = logs.join(format!("{name}.log"));
        let open = || {
            File::options()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(|e| format!("cannot open {}: {e}", log.display()))
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({command:?}): {e}"))?;
        Ok(ProcessGuard {
            name: name.to_string(),
            log,
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An error if the process has already exited (it crashed or failed to bind).
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!("{} exited early with {status}", self.name)),
            Err(e) => Err(format!("cannot poll {}: {e}", self.name)),
        }
    }

    /// Waits up to `limit` for the child to exit by itself; `None` when it is still running.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM, as a container runtime does on stop.
    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits pid_t");
        // SAFETY: kill(2) with a PID this guard owns (the child is not reaped until the guard
        // waits for it, so the PID cannot have been reused).
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM {pid}");
    }

    /// Kills the process by PID (unless it has exited) and reaps it.
    pub fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// The last `lines` lines of the process's log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `command` to completion with its output captured; a child still running after `limit` is
/// killed and the test fails (a config error must stop the binary, not leave it serving).
pub fn run_to_exit(command: &mut Command, limit: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = ProcessGuard::start(command);
    let status = guard.wait_for_exit(limit);
    assert!(status.is_some(), "still running after {limit:?}: {command:?}");
    let mut output = Output {
        status: status.unwrap(),
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    let child = &mut guard.child;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output.stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut output.stderr)
        .unwrap();
    output
}

/// The last `lines` lines of a file (reading at most its last 64 KiB).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("({} is missing)", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot list {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}
