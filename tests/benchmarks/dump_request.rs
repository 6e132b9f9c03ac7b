//! One callgrind dump request end to end, through the code the real-server goal uses
//! (crates/callgrind/src/run.rs) and the installed tools: a broken `.tools/bin/valgrind` fails
//! here, not in a user's first full `cargo bench --bench goals`. A missing valgrind fails too.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;

use crate::callgrind::Profile;
use crate::callgrind_run::{self, tool};
use crate::process::ProcessGuard;

/// `cat` under callgrind waits for its input as the server waits for clients; the test zeroes its
/// counters, has it echo lines, asks for a dump, and reads the instructions from it.
#[test]
fn a_run_started_as_the_server_is_zeroed_and_dumped_by_pid() {
    for name in ["valgrind", "callgrind_control"] {
        assert!(
            tool(name).is_some(),
            "{name} is not installed: run scripts/install-tools.sh (Debian's valgrind package); \
             the real-server goals are never measured without it"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("callgrind.out");
    let mut command = callgrind_run::command(Path::new("/bin/cat"), &out).unwrap();
    command
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut cat = ProcessGuard::start(&mut command);
    let mut input = cat.child.stdin.take().unwrap();
    let mut echoed = BufReader::new(cat.child.stdout.take().unwrap());
    let mut echo = |lines: usize| {
        let mut line = String::new();
        for n in 0..lines {
            writeln!(input, "line {n}").unwrap();
            line.clear();
            echoed.read_line(&mut line).unwrap();
            assert_eq!(
                line,
                format!("line {n}\n"),
                "cat under callgrind echoes its input"
            );
        }
    };
    // The first echo means the run has started, and registered for callgrind_control.
    echo(1);
    let pid = cat.pid();
    callgrind_run::control("-z", pid).unwrap_or_else(|e| panic!("{e}"));
    echo(100);
    callgrind_run::control("-d", pid).unwrap_or_else(|e| panic!("{e}"));
    let dump = callgrind_run::latest_dump(&out).unwrap_or_else(|e| panic!("{e}"));
    let profile = Profile::parse(&std::fs::read_to_string(&dump).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    // 100 reads and writes through libc (about 110 instructions a line here), and not cat's
    // start-up (about 300,000) from before the counters were zeroed.
    assert!(
        (1_000..150_000).contains(&profile.total),
        "{} instructions in {}",
        profile.total,
        dump.display()
    );
    cat.stop();
}
