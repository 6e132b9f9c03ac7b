//! What lies in and beside the output folder cannot hurt `generate`: links to `/dev/zero`,
//! FIFOs, look-alike leftovers, a folder that cannot be deleted, a second `generate` at the same
//! time, a name too long for the temporary sibling. Each attack is run against the real binary.

use crate::support::process::run_to_exit;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Far more than a bundle check needs (a few MiB), far less than reading `/dev/zero` reaches:
/// an unbounded read fails the run on this limit instead of exhausting the machine.
const ADDRESS_SPACE_LIMIT: &str = "4294967296";

/// The real binary on the embedded `local` profile, under an address-space limit and a time
/// limit, so a read that never ends fails the test instead of hanging it.
fn generate(out: &Path, extra: &[&str]) -> Output {
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--as={ADDRESS_SPACE_LIMIT}"))
        .arg(env!("CARGO_BIN_EXE_sockudo-obs"))
        .args(["generate", "--env", "local", "--out"])
        .arg(out)
        .args(extra);
    for var in sockudo_obs::config::ENVIRONMENT_VARIABLES {
        command.env_remove(var);
    }
    run_to_exit(&mut command, Duration::from_secs(60))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fresh_bundle(tmp: &Path) -> PathBuf {
    let out = tmp.join("bundle");
    let output = generate(&out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    out
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// The id of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    child.id()
}

#[test]
fn check_names_links_and_fifos_in_the_bundle_without_reading_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_bundle(tmp.path());
    let ok = generate(&out, &["--check"]);
    assert!(
        ok.status.success(),
        "a fresh bundle is up to date: {}",
        stderr(&ok)
    );

    // A rendered file replaced by a link to /dev/zero, an extra one, and a FIFO.
    fs::remove_file(out.join("README.md")).unwrap();
    symlink("/dev/zero", out.join("README.md")).unwrap();
    symlink("/dev/zero", out.join("zero")).unwrap();
    symlink("/", out.join("prometheus/root")).unwrap();
    mkfifo(&out.join("fifo"));
    let stale = generate(&out, &["--check"]);
    let err = stderr(&stale);
    assert_eq!(stale.status.code(), Some(1), "{err}");
    for named in ["README.md", "zero", "prometheus/root", "fifo"] {
        assert!(
            err.lines()
                .any(|l| l.contains("not a regular file") && l.trim_end().ends_with(named)),
            "{named} is named: {err}"
        );
    }
    // A plain generate replaces them, the links' targets untouched.
    let output = generate(&out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(generate(&out, &["--check"]).status.success());
}

/// What a test plants at the marker's path, and how.
type Planted<'a> = (&'a str, &'a dyn Fn(&Path));

#[test]
fn a_marker_that_is_a_link_a_fifo_or_a_folder_does_not_make_a_folder_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.tex"), "mine").unwrap();
    let real_marker = tmp.path().join("real-marker");
    fs::write(
        &real_marker,
        format!("sockudo-obs 0.1.0\n# {}\n", sockudo_obs::bundle::HEADER),
    )
    .unwrap();
    let plant: [Planted; 4] = [
        ("a link to /dev/zero", &|m| symlink("/dev/zero", m).unwrap()),
        ("a link to a real marker", &|m| symlink(&real_marker, m).unwrap()),
        ("a FIFO", &|m| mkfifo(m)),
        ("a folder", &|m| fs::create_dir(m).unwrap()),
    ];
    let marker = out.join(sockudo_obs::bundle::MARKER);
    for (what, plant) in plant {
        plant(&marker);
        let output = generate(&out, &[]);
        assert_eq!(output.status.code(), Some(2), "{what}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("refusing to replace"),
            "{what}: {}",
            stderr(&output)
        );
        assert_eq!(
            fs::read_to_string(out.join("thesis.tex")).unwrap(),
            "mine",
            "{what}"
        );
        if marker.is_dir() && !marker.is_symlink() {
            fs::remove_dir(&marker).unwrap();
        } else {
            fs::remove_file(&marker).unwrap();
        }
    }
}

#[test]
fn only_a_real_folder_with_our_marker_is_claimed_as_a_leftover() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_bundle(tmp.path());
    let marker = sockudo_obs::bundle::MARKER;
    let dead = dead_pid();
    let leftover = |n: u32| tmp.path().join(format!(".bundle.new-{dead}-{n}"));

    // A link to a folder outside, which holds a marker and the user's files.
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join(marker), "sockudo-obs 0.1.0\n").unwrap();
    fs::write(outside.path().join("keep.txt"), "keep").unwrap();
    symlink(outside.path(), leftover(0)).unwrap();
    // A folder whose "marker" is a folder, and one whose marker has foreign content.
    fs::create_dir_all(leftover(1).join(marker)).unwrap();
    fs::write(leftover(1).join(marker).join("x"), "x").unwrap();
    fs::create_dir(leftover(2)).unwrap();
    fs::write(leftover(2).join(marker), "not ours").unwrap();
    fs::write(leftover(2).join("data"), "data").unwrap();
    // A real leftover of ours: removed.
    let ours = leftover(3);
    fs::create_dir(&ours).unwrap();
    fs::write(
        ours.join(marker),
        format!("sockudo-obs 0.0.9\n# {}\n", sockudo_obs::bundle::HEADER),
    )
    .unwrap();
    fs::write(ours.join("old.txt"), "old").unwrap();

    let output = generate(&out, &[]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert_eq!(
        fs::read_to_string(outside.path().join("keep.txt")).unwrap(),
        "keep"
    );
    assert!(fs::symlink_metadata(leftover(0))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(leftover(1).join(marker).join("x").exists());
    assert_eq!(fs::read_to_string(leftover(2).join("data")).unwrap(), "data");
    assert!(!ours.exists(), "our own leftover is cleaned: {err}");
    for n in 0..3 {
        assert!(
            err.contains(&leftover(n).display().to_string()),
            "leftover {n} named: {err}"
        );
    }
}

#[test]
fn names_that_are_not_utf8_never_claim_each_others_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(OsStr::from_bytes(b"b\xff"));
    let output = generate(&out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // Lossily, `.b\xfe.new-...` reads as `.b\u{fffd}.new-...`, exactly as `b\xff`'s would.
    let mut name = b".b\xfe.new-".to_vec();
    name.extend_from_slice(format!("{}-0", dead_pid()).as_bytes());
    let other = tmp.path().join(OsStr::from_bytes(&name));
    fs::create_dir(&other).unwrap();
    fs::write(
        other.join(sockudo_obs::bundle::MARKER),
        format!("sockudo-obs 0.1.0\n# {}\n", sockudo_obs::bundle::HEADER),
    )
    .unwrap();
    fs::write(other.join("theirs.txt"), "theirs").unwrap();
    let output = generate(&out, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(fs::read_to_string(other.join("theirs.txt")).unwrap(), "theirs");
}

/// Makes `folder` undeletable for the binary: immutable as root (`chattr +i`), read-only
/// otherwise. Dropping the guard undoes it for everything below `root`, wherever the swap has
/// moved the folder.
struct Undeletable {
    root: PathBuf,
}

impl Undeletable {
    fn make(folder: &Path, root: &Path) -> Undeletable {
        // SAFETY: geteuid has no preconditions.
        let status = if unsafe { libc::geteuid() } == 0 {
            Command::new("chattr")
                .arg("+i")
                .arg(folder)
                .status()
                .expect("run chattr")
        } else {
            Command::new("chmod")
                .arg("a-w")
                .arg(folder)
                .status()
                .expect("run chmod")
        };
        assert!(
            status.success(),
            "cannot make {} undeletable for the test",
            folder.display()
        );
        Undeletable {
            root: root.to_path_buf(),
        }
    }
}

impl Drop for Undeletable {
    fn drop(&mut self) {
        let _ = Command::new("chattr")
            .arg("-R")
            .arg("-i")
            .arg(&self.root)
            .output();
        let _ = Command::new("chmod")
            .arg("-R")
            .arg("u+w")
            .arg(&self.root)
            .output();
    }
}

#[test]
fn a_folder_that_cannot_be_deleted_never_jams_later_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_bundle(tmp.path());
    let stuck = out.join("stuck");
    fs::create_dir(&stuck).unwrap();
    fs::write(stuck.join("file"), "x").unwrap();
    let _undo = Undeletable::make(&stuck, tmp.path());
    for run in 0..3 {
        let output = generate(&out, &[]);
        let err = stderr(&output);
        assert!(output.status.success(), "run {run}: {err}");
        assert!(
            err.contains("remove it by hand"),
            "run {run} names what it could not remove: {err}"
        );
        assert!(
            generate(&out, &["--check"]).status.success(),
            "run {run} left a whole bundle"
        );
    }
}

#[test]
fn concurrent_generates_take_turns_and_both_succeed() {
    const ROUNDS: usize = 5;
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_bundle(tmp.path());
    for round in 0..ROUNDS {
        let runs: Vec<_> = (0..3)
            .map(|_| {
                let out = out.clone();
                std::thread::spawn(move || generate(&out, &[]))
            })
            .collect();
        for run in runs {
            let output = run.join().unwrap();
            assert!(output.status.success(), "round {round}: {}", stderr(&output));
        }
        assert!(generate(&out, &["--check"]).status.success(), "round {round}");
    }
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["bundle"], "no leftovers");
}

#[test]
fn a_run_waits_for_the_one_writing_beside_it_and_says_so() {
    use std::os::unix::io::AsRawFd;
    let tmp = tempfile::tempdir().unwrap();
    let out = fresh_bundle(tmp.path());
    // Another run's turn: the lock every run takes on the output's parent folder.
    let parent = fs::File::open(tmp.path()).unwrap();
    // SAFETY: the descriptor is open for the duration of the call.
    assert_eq!(unsafe { libc::flock(parent.as_raw_fd(), libc::LOCK_EX) }, 0);
    let waiting = {
        let out = out.clone();
        std::thread::spawn(move || generate(&out, &[]))
    };
    // Long enough for a debug build on a loaded machine to render and reach the lock.
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        !waiting.is_finished(),
        "a run does not write while another holds its turn"
    );
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        ["bundle"],
        "nothing written beside the bundle while waiting"
    );
    drop(parent);
    let output = waiting.join().unwrap();
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains("waited") && err.contains("another sockudo-obs generate"),
        "the run says whom it waited for: {err}"
    );
}

#[test]
fn a_name_too_long_for_the_temporary_sibling_is_named_not_the_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("n".repeat(255));
    let output = generate(&out, &[]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("255 bytes") && err.contains("shorter --out"),
        "{err}"
    );
    assert!(!err.contains("parent"), "{err}");
    let fits = tmp.path().join("n".repeat(236));
    let output = generate(&fits, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
}
