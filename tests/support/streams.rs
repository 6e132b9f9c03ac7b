//! Standard streams a caller can hand the binary that cannot take its output: a pipe whose reader
//! is gone (`| head -c0`), a full device (`>/dev/full`) and a closed descriptor (`>&-`).

use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// A stream the binary's output cannot reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadEnd {
    /// A pipe whose read end is closed: writes fail with EPIPE (SIGPIPE is ignored by Rust).
    BrokenPipe,
    /// `/dev/full`: writes fail with ENOSPC.
    Full,
    /// The descriptor is closed before the binary starts.
    Closed,
}

impl DeadEnd {
    pub const ALL: [DeadEnd; 3] = [DeadEnd::BrokenPipe, DeadEnd::Full, DeadEnd::Closed];

    /// The `Stdio` to hand a child; `None` for [`DeadEnd::Closed`], which
    /// [`sockudo_obs_with`] arranges through the shell instead.
    fn stdio(self) -> Option<Stdio> {
        match self {
            DeadEnd::BrokenPipe => Some(Stdio::from(broken_pipe())),
            DeadEnd::Full => Some(Stdio::from(
                File::options().write(true).open("/dev/full").expect("/dev/full"),
            )),
            DeadEnd::Closed => None,
        }
    }
}

/// The write end of a pipe whose read end is already closed.
fn broken_pipe() -> OwnedFd {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two-element array it is given.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just created by pipe(2) and are owned by nobody else.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    writer
}

/// The real binary with `args`, under the same empty environment as
/// [`super::serve::sockudo_obs`], with descriptor `fd` (1 or 2) sent to `dead_end`. It runs
/// through `sh -c 'exec "$0" "$@" FD>&-'`, the only way to start it with a descriptor closed; the
/// shell replaces itself with the binary, so the child's PID is the binary's. The caller may add
/// variables and set the other streams.
pub fn sockudo_obs_with(fd: u8, dead_end: DeadEnd, args: &[&str]) -> Command {
    let redirect = match dead_end {
        DeadEnd::Closed => format!(" {fd}>&-"),
        DeadEnd::BrokenPipe | DeadEnd::Full => String::new(),
    };
    let mut command = Command::new("/bin/sh");
    command.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\"{redirect}"))
        .arg(env!("CARGO_BIN_EXE_sockudo-obs"))
        .args(args);
    if let Some(stdio) = dead_end.stdio() {
        match fd {
            1 => command.stdout(stdio),
            _ => command.stderr(stdio),
        };
    }
    command
}

/// How a run with one dead-end stream ended: its exit status and what it wrote to the other
/// stream (captured through a pipe read on a thread, so it never blocks the child).
pub struct DeadEndRun {
    pub status: std::process::ExitStatus,
    pub other: String,
}

/// Runs `command` (from [`sockudo_obs_with`] for descriptor `fd`) to completion within `limit`,
/// capturing the other of stdout and stderr.
pub fn run_with_dead_end(mut command: Command, fd: u8, limit: std::time::Duration) -> DeadEndRun {
    use std::io::Read;
    command.stdin(Stdio::null());
    match fd {
        1 => command.stderr(Stdio::piped()),
        _ => command.stdout(Stdio::piped()),
    };
    let mut child = super::process::ProcessGuard::start(&mut command);
    let mut other: Box<dyn Read + Send> = match fd {
        1 => Box::new(child.child.stderr.take().unwrap()),
        _ => Box::new(child.child.stdout.take().unwrap()),
    };
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = other.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = child.wait_for_exit(limit);
    let status = status.unwrap_or_else(|| panic!("still running after {limit:?}: {command:?}"));
    DeadEndRun {
        status,
        other: reader.join().unwrap(),
    }
}
