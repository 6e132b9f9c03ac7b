//! The benchmarks' own measurement code: the callgrind reader behind the real-server goals
//! (benches/goals/callgrind.rs), on inputs whose answers are worked out by hand, and one dump
//! request to a run started as the real-server goal starts the server (dump_request.rs).

#[path = "../../benches/goals/callgrind.rs"]
mod callgrind;
#[path = "../../benches/goals/callgrind_run.rs"]
mod callgrind_run;
mod dump_request;
#[path = "../support/process.rs"]
#[allow(dead_code)]
mod process;

use callgrind::{extra_calls, ExtraCalls, Profile};

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
    assert_eq!(
        profile.largest_inside(metrics_only, 2, 5),
        [("record".to_string(), 40.0), ("exporter".to_string(), 5.0)]
    );
    // A function and its caller both inside: only the entry into the caller counts.
    assert_eq!(profile.inside(|f| f == "handle" || f == "record"), 540);
    assert_eq!(profile.inside(|f| f == "nothing"), 0);
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
fn extra_calls_are_the_consistent_ones_from_callers_called_as_often() {
    let on = [run(100, 40, 7, (30, 3000)), run(101, 40, 9, (31, 3000))];
    let off = [run(50, 20, 6, (20, 3000)), run(52, 20, 8, (21, 3000))];
    let found = extra_calls(&on.iter().collect::<Vec<_>>(), &off.iter().collect::<Vec<_>>());
    // `handle` 20 more times at 50 each; `now` from `main` 48 more (100 - 52) at the 10 a call
    // costs with metrics off. `handle`'s own extra calls to `now` are inside its 1000, `alloc`
    // moves within the runs' noise, and the extra polls of `poll` add no instructions (at its
    // 150 a call with metrics off, they would seem to add 1350).
    let expected = [("main", "handle", 20, 1000), ("main", "now", 48, 480)].map(
        |(caller, callee, extra, instructions)| ExtraCalls {
            caller: caller.to_string(),
            callee: callee.to_string(),
            extra,
            instructions,
        },
    );
    assert_eq!(found, expected);
    // The same runs on both sides: nothing is made more often.
    assert_eq!(
        extra_calls(&off.iter().collect::<Vec<_>>(), &off.iter().collect::<Vec<_>>()),
        []
    );
    // Polls that do a little more work count for that work, not for 150 a poll.
    let busier = [run(50, 20, 6, (30, 3100)), run(50, 20, 6, (31, 3100))];
    let found = extra_calls(
        &busier.iter().collect::<Vec<_>>(),
        &off.iter().collect::<Vec<_>>(),
    );
    assert_eq!(
        found,
        [ExtraCalls {
            caller: "main".to_string(),
            callee: "poll".to_string(),
            extra: 9,
            instructions: 100,
        }]
    );
}
