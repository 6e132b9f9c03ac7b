//! The benchmarks' own measurement code: the callgrind reader behind the real-server goals
//! (crates/callgrind/src/profile.rs), on inputs whose answers are worked out by hand, and one dump
//! request to a run started as the real-server goal starts the server (dump_request.rs).

use sockudo_obs_callgrind::profile as callgrind;
use sockudo_obs_callgrind::run as callgrind_run;
mod dump_request;
#[path = "../support/process.rs"]
#[allow(dead_code, unreachable_pub)]
mod process;

use std::collections::HashMap;

use callgrind::{grown, Grown, Profile};

/// `main` calls `handle` twice and `record` once; `handle` calls `record` 4 times and `memcmp`;
/// `record` calls `memcmp`; `exporter` is a thread entry no call reaches. Name compression,
/// relative and repeated positions as callgrind writes them.
const DUMP: &str = "# callgrind format
version: 1
positions: line
events: Ir
summary: 1000

ob=(1) /bin/server
fl=(1) ???
fn=(1) main
0 100
cfn=(2) handle
calls=2 0
0 500
+1 10
cfn=(3) record
calls=1 0
0 40

fn=(2)
0 300
cfn=(3)
calls=4 0
0 160
cob=(2) /lib/libc.so
cfn=(4) memcmp
calls=4 0
0 40

fn=(3)
0 150
cfn=(4)
calls=3 0
0 50

fn=(4)
0 90

fn=(5) exporter
0 20
* 5
";

fn parsed() -> Profile {
    Profile::parse(DUMP).expect("a valid dump")
}

#[test]
fn the_summary_and_every_function_are_read() {
    let profile = parsed();
    assert_eq!(profile.total, 1000);
    let mut functions: Vec<&str> = profile.functions().into_iter().collect();
    functions.sort_unstable();
    assert_eq!(functions, ["exporter", "handle", "main", "memcmp", "record"]);
}

#[test]
fn inside_counts_each_entry_from_outside_with_its_callees_once() {
    let profile = parsed();
    // `record` from `main` (40) and from `handle` (160); its own call to `memcmp` is inside
    // those; `exporter` is entered by no call, so its own 20 + 5 count.
    let metrics_only = |f: &str| f == "record" || f == "exporter";
    assert_eq!(profile.inside(metrics_only), 225);
    // A function and its caller both inside: only the entry into the caller counts.
    assert_eq!(profile.inside(|f| f == "handle" || f == "record"), 540);
    assert_eq!(profile.inside(|f| f == "nothing"), 0);
}

/// `main` polls an outer `poll`, which polls a nested `poll` (callgrind's `poll'2`), which calls
/// `work`.
const NESTED: &str = "summary: 1000
fn=(1) main
0 10
cfn=(2) poll
calls=1 0
0 600
fn=(2)
0 100
cfn=(3) poll'2
calls=1 0
0 500
fn=(3)
0 200
cfn=(4) work
calls=1 0
0 300
fn=(4)
0 300
";

#[test]
fn recursive_activations_are_one_function_and_their_calls_to_themselves_count_once() {
    let profile = Profile::parse(NESTED).expect("a valid dump");
    let mut functions: Vec<&str> = profile.functions().into_iter().collect();
    functions.sort_unstable();
    assert_eq!(functions, ["main", "poll", "work"]);
    assert_eq!(profile.call("main", "poll").inclusive, 600);
    assert_eq!(profile.call("poll", "work").inclusive, 300);
    assert_eq!(profile.call("poll", "poll").count, 0);
    // Both activations' own work.
    assert_eq!(profile.own("poll"), 300);
    assert_eq!(profile.times_called(), HashMap::from([("poll", 1), ("work", 1)]));
}

#[test]
fn a_broken_dump_is_an_error_naming_the_line() {
    let no_summary = DUMP.replace("summary: 1000\n", "");
    assert!(Profile::parse(&no_summary).unwrap_err().contains("no summary"));
    let bad_cost = DUMP.replace("0 300", "0 lots");
    let err = Profile::parse(&bad_cost).unwrap_err();
    assert!(err.contains("line 20") && err.contains("0 lots"), "{err}");
    let orphan_call = "summary: 1\nfn=(1) main\ncalls=1 0\n0 5\n";
    assert!(Profile::parse(orphan_call)
        .unwrap_err()
        .contains("calls= without cfn="));
}

/// A server run: `main` calls `now` `now_calls` times (10 instructions each) and `handle`
/// `handle_calls` times (50 each, of which its own call to `now`), `alloc` `noise` times, and
/// `poll` `polls` times for `poll_work` instructions in all, however often it is polled.
fn run(now_calls: u64, handle_calls: u64, noise: u64, (polls, poll_work): (u64, u64)) -> Profile {
    let dump = format!(
        "summary: 100000\nfn=(1) main\n0 1\ncfn=(2) now\ncalls={now_calls} 0\n0 {}\ncfn=(3) handle\ncalls={handle_calls} 0\n0 {}\ncfn=(4) alloc\ncalls={noise} 0\n0 {}\ncfn=(5) poll\ncalls={polls} 0\n0 {poll_work}\nfn=(3)\n0 {}\ncfn=(2)\ncalls={handle_calls} 0\n0 {}\nfn=(2)\n0 {}\nfn=(4)\n0 {}\nfn=(5)\n0 {poll_work}\n",
        10 * now_calls,
        50 * handle_calls,
        5 * noise,
        40 * handle_calls,
        10 * handle_calls,
        10 * (now_calls + handle_calls),
        5 * noise
    );
    Profile::parse(&dump).expect("a valid dump")
}

#[test]
fn grown_is_the_own_work_that_grows_beyond_the_runs_spread() {
    let on = [run(100, 40, 7, (30, 3000)), run(101, 40, 9, (31, 3000))];
    let off = [run(50, 20, 6, (20, 3000)), run(52, 20, 8, (21, 3000))];
    let found = grown(&on.iter().collect::<Vec<_>>(), &off.iter().collect::<Vec<_>>());
    // `handle`'s own 40 a call and `now`'s 10 grow with their calls, against the metrics-off
    // median (the second run's: the larger of two); `alloc` (35, 45 against 30, 40) moves
    // within the noise; `poll` does the same work however often it is polled; `main` its 1.
    let expected = [("handle", 800), ("now", 720)].map(|(function, baseline)| Grown {
        function: function.to_string(),
        baseline,
    });
    assert_eq!(found, expected);
    let on_run = &on[0];
    let growth: u64 = found.iter().map(|g| on_run.own(&g.function) - g.baseline).sum();
    assert_eq!(growth, (1600 - 800) + (1400 - 720));
    // The same runs on both sides: nothing grows.
    assert_eq!(
        grown(&off.iter().collect::<Vec<_>>(), &off.iter().collect::<Vec<_>>()),
        []
    );
    // A wrapper (`wrap`, only with metrics on) around `handle`, which runs as often without it:
    // the wrapper's own 5 a call count; the `handle` it wraps does not grow.
    let wrapped = |calls: u64| {
        let dump = format!(
            "summary: 100000\nfn=(1) main\n0 1\ncfn=(2) wrap\ncalls={calls} 0\n0 {}\nfn=(2)\n0 {}\ncfn=(3) handle\ncalls={calls} 0\n0 {}\nfn=(3)\n0 {}\n",
            55 * calls,
            5 * calls,
            50 * calls,
            50 * calls
        );
        Profile::parse(&dump).expect("a valid dump")
    };
    let bare = |calls: u64| {
        let dump = format!(
            "summary: 100000\nfn=(1) main\n0 1\ncfn=(3) handle\ncalls={calls} 0\n0 {}\nfn=(3)\n0 {}\n",
            50 * calls,
            50 * calls
        );
        Profile::parse(&dump).expect("a valid dump")
    };
    let (with, without) = ([wrapped(20), wrapped(20)], [bare(20), bare(20)]);
    assert_eq!(
        grown(
            &with.iter().collect::<Vec<_>>(),
            &without.iter().collect::<Vec<_>>()
        ),
        [Grown {
            function: "wrap".to_string(),
            baseline: 0
        }]
    );
}
