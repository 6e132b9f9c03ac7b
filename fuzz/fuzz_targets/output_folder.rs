//! Fuzzes what `generate` finds in and beside its output folder: any tree of files, folders,
//! links (to `/dev/zero`, to a folder outside, dangling), FIFOs and odd names (not UTF-8, look-
//! alike leftovers) gives `--check` an answer and a forced write a whole bundle, never a panic,
//! a hang or an unbounded read, and never touches what lies outside.
#![no_main]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use sockudo_obs::bundle::{Output, MARKER};

/// Names the fuzzer picks from: rendered paths, the marker, leftover look-alikes, odd bytes.
const NAMES: &[&[u8]] = &[
    b"a.txt",
    b"sub",
    b"README.md",
    MARKER.as_bytes(),
    b"\xff",
    b"\xfe",
    b".out.new-1-0",
    b".out.old-2-3",
    b".out\xff.new-4-0",
    b".out.new-x-0",
];

fn rendered() -> Output {
    let mut output = Output::new();
    output.add("a.txt", "a");
    output.add("sub/b.txt", "b");
    output.add("README.md", "readme");
    output
}

/// Plants one entry per two input bytes: which folder, which name, what kind.
fn plant(root: &Path, outside: &Path, data: &[u8]) {
    let mut folders: Vec<PathBuf> = vec![root.to_path_buf(), root.join("out")];
    for op in data.chunks(2).take(32) {
        let (a, b) = (op[0], *op.get(1).unwrap_or(&0));
        let folder = folders[usize::from(a >> 4) % folders.len()].clone();
        let path = folder.join(OsStr::from_bytes(NAMES[usize::from(b >> 4) % NAMES.len()]));
        let marker = format!("sockudo-obs 0.1.0\n# {}\n", sockudo_obs::bundle::HEADER);
        let _ = match a % 8 {
            0 => create_new(&path, &[b; 3]),
            1 => fs::create_dir(&path).map(|()| folders.push(path.clone())),
            2 => symlink("/dev/zero", &path),
            3 => symlink(outside, &path),
            4 => symlink(root.join("nowhere"), &path),
            5 => mkfifo(&path),
            6 => create_new(&path, marker.as_bytes()),
            _ => create_new(&path, &[b; 300]),
        };
    }
}

/// Writes a new file only: an entry planted earlier (a FIFO, whose open for writing would wait
/// for a reader forever, or a link) is left as it is.
fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    fs::OpenOptions::new().write(true).create_new(true).open(path)?.write_all(bytes)
}

fn mkfifo(path: &Path) -> std::io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fuzz_target!(|data: &[u8]| {
    let tmp = tempfile::tempdir().unwrap();
    let (root, outside) = (tmp.path().join("root"), tmp.path().join("outside"));
    fs::create_dir_all(root.join("out")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join(MARKER), "sockudo-obs 0.1.0\n").unwrap();
    fs::write(outside.join("canary"), "keep").unwrap();
    plant(&root, &outside, data);

    let output = rendered();
    let out = root.join("out");
    let _ = output.diff(&out);
    if output.write_to(&out, true).is_ok() {
        assert_eq!(output.diff(&out).unwrap(), vec![], "a forced write leaves exactly the bundle");
    }
    assert_eq!(fs::read_to_string(outside.join("canary")).unwrap(), "keep", "nothing outside is touched");
});
