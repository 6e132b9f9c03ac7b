//! Reading a folder the user controls without trusting what lies in it: no symbolic link is
//! followed, nothing but a regular file is ever opened (a FIFO would block, a device never
//! ends), and no read is longer than the caller's bound. `generate --check`, the marker lookup
//! and the leftover cleanup read the output folder only through here.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::Result;
use sockudo_obs_catalogue::{Error, ErrorExt, ResultExt};

/// More entries than any bundle holds (a bundle has about a hundred): a walk stops there rather
/// than list a whole disk that `--out` was pointed at by mistake.
pub(super) const MAX_ENTRIES: usize = 100_000;

/// What an entry of the walked folder is, read without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A regular file of this many bytes.
    File(u64),
    /// A real folder (walked into).
    Folder,
    /// Anything else: never opened, never followed.
    Other(&'static str),
}

/// One entry below the walked folder: its `/`-joined path, or `None` for a name that is not
/// UTF-8 (no rendered path has one), and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub path: Option<String>,
    pub shown: String,
    pub kind: Kind,
}

/// Every entry below `dir`, folders walked into, links and special files listed but never
/// followed or opened. `dir` itself may be a link to a folder (an `--out` that is a link); an
/// absent `dir` has no entries.
pub(super) fn walk(dir: &Path) -> Result<Vec<Entry>> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(e)
                .io_context(|| format!("cannot read {}", dir.display()))
                .at_path(dir)
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::usage(format!("{} is not a folder", dir.display())).with_path(dir))
        }
        Ok(_) => {}
    }
    let mut entries = Vec::new();
    let mut pending: Vec<(PathBuf, Vec<String>, bool)> = vec![(dir.to_path_buf(), Vec::new(), true)];
    while let Some((folder, parts, utf8)) = pending.pop() {
        let reading = || format!("cannot read {}", folder.display());
        let listing = fs::read_dir(&folder).io_context(reading).at_path(&folder)?;
        for entry in listing {
            let entry = entry.io_context(reading).at_path(&folder)?;
            if entries.len() == MAX_ENTRIES {
                return Err(Error::usage(format!(
                    "{} holds more than {MAX_ENTRIES} entries, which no bundle does; is --out the right folder?",
                    dir.display()
                ))
                .with_key("--out")
                .with_path(dir));
            }
            let name = entry.file_name();
            let mut child = parts.clone();
            child.push(shown_name(&name));
            let child_utf8 = utf8 && name.to_str().is_some();
            let file_type = entry.file_type().map_err(Error::from).at_path(entry.path())?;
            let kind = kind_of(&file_type, || entry.metadata().map(|m| m.len()));
            let kind = kind
                .io_context(|| format!("cannot read {}", entry.path().display()))
                .at_path(entry.path())?;
            if kind == Kind::Folder {
                pending.push((entry.path(), child.clone(), child_utf8));
            }
            let shown = child.join("/");
            entries.push(Entry {
                path: child_utf8.then(|| shown.clone()),
                shown,
                kind,
            });
        }
    }
    entries.sort_by(|a, b| a.shown.cmp(&b.shown));
    Ok(entries)
}

fn kind_of(file_type: &fs::FileType, len: impl FnOnce() -> io::Result<u64>) -> io::Result<Kind> {
    Ok(if file_type.is_symlink() {
        Kind::Other("a symbolic link")
    } else if file_type.is_dir() {
        Kind::Folder
    } else if file_type.is_file() {
        Kind::File(len()?)
    } else {
        Kind::Other(special_kind(file_type))
    })
}

#[cfg(unix)]
fn special_kind(file_type: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "not a regular file"
}

/// A name as text: UTF-8 as is, anything else with its odd bytes escaped (`\xFF`), so two
/// names that differ only in invalid bytes are never shown, or matched, as one.
pub(super) fn shown_name(name: &OsStr) -> String {
    match name.to_str() {
        Some(text) => text.to_owned(),
        None => {
            let debug = format!("{name:?}");
            debug.trim_matches('"').to_owned()
        }
    }
}

/// The contents of `path` if it is a regular file of at most `limit` bytes; `None` for anything
/// else (a link, a folder, a FIFO, a device, a longer file, or nothing there). The file is opened
/// without following a link and without blocking, then checked on the open descriptor, so an
/// entry swapped for a link or a FIFO after a walk is still refused.
pub(crate) fn read_regular(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_no_follow(path) {
        Ok(file) => file,
        Err(e) if refused_by_open(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > limit {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the bound tells a file that grew since the check.
    file.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    if fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::ErrorKind::InvalidInput.into());
    }
    fs::File::open(path)
}

/// Errors that mean "not a regular file here": absent, a link (`ELOOP` under `O_NOFOLLOW`), a
/// folder, or a device that refuses a non-blocking open.
fn refused_by_open(e: &io::Error) -> bool {
    #[cfg(unix)]
    if matches!(
        e.raw_os_error(),
        Some(libc::ELOOP | libc::EISDIR | libc::ENXIO | libc::ENODEV | libc::EWOULDBLOCK)
    ) {
        return true;
    }
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::InvalidInput)
}

/// True when `path` is a real folder: not a link to one.
pub(super) fn is_real_folder(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_lists_links_and_fifos_without_following_or_opening_them() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::create_dir(root.join("a")).unwrap();
        fs::write(root.join("a/file.txt"), "12345").unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("zero")).unwrap();
        std::os::unix::fs::symlink("/", root.join("a/root")).unwrap();
        make_fifo(&root.join("fifo"));
        let kinds: Vec<(String, Kind)> = walk(root)
            .unwrap()
            .into_iter()
            .map(|e| (e.shown, e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("a".into(), Kind::Folder),
                ("a/file.txt".into(), Kind::File(5)),
                ("a/root".into(), Kind::Other("a symbolic link")),
                ("fifo".into(), Kind::Other("a FIFO")),
                ("zero".into(), Kind::Other("a symbolic link")),
            ]
        );
    }

    #[test]
    fn only_a_regular_file_within_the_bound_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs::write(root.join("small"), "abc").unwrap();
        std::os::unix::fs::symlink(root.join("small"), root.join("link")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join("zero")).unwrap();
        make_fifo(&root.join("fifo"));
        assert_eq!(
            read_regular(&root.join("small"), 3).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            read_regular(&root.join("small"), 2).unwrap(),
            None,
            "longer than the bound"
        );
        for refused in ["link", "zero", "fifo", "absent"] {
            assert_eq!(
                read_regular(&root.join(refused), 1 << 20).unwrap(),
                None,
                "{refused}"
            );
        }
        assert_eq!(
            read_regular(Path::new("/dev/zero"), 1 << 20).unwrap(),
            None,
            "a device"
        );
        assert_eq!(read_regular(root, 1 << 20).unwrap(), None, "a folder");
    }

    #[test]
    fn names_that_are_not_utf8_stay_distinct() {
        use std::os::unix::ffi::OsStrExt;
        let a = shown_name(OsStr::from_bytes(b"x\xff"));
        let b = shown_name(OsStr::from_bytes(b"x\xfe"));
        assert_ne!(a, b);
        assert_ne!(a, String::from_utf8_lossy(b"x\xff"));
    }

    pub(crate) fn make_fifo(path: &Path) {
        let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
        assert!(status.success(), "mkfifo {}", path.display());
    }
}
