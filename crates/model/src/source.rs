//! Where the generator's inputs come from: the copies embedded in the binary, or a directory the
//! user names with `--specs`. Both expose the same five folders (`environments/`, `alerts/`,
//! `dashboards/`, `templates/`, `slos/`), listed in name order so output is deterministic.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};

use super::output::read_regular;
use crate::Result;
use sockudo_obs_catalogue::{echoed, Error, ErrorExt, ErrorKind, ResultExt};

static ENVIRONMENTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../environments");
static ALERTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../alerts");
static DASHBOARDS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../dashboards");
static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../templates");
static SLOS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../slos");

/// The largest input file read from a `--specs` folder (the shipped ones are a few KiB).
pub(crate) const MAX_SPEC_BYTES: u64 = 1024 * 1024;

/// The input folders the generator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// `environments/`: one profile per environment.
    Environments,
    /// `alerts/`: the alert specs.
    Alerts,
    /// `dashboards/`: the dashboard specs.
    Dashboards,
    /// `templates/`: the text templates of text artifacts.
    Templates,
    /// `slos/`: the SLO specs.
    Slos,
}

impl Folder {
    /// The folder's name, as in a `--specs` directory and in display paths.
    pub const fn name(self) -> &'static str {
        match self {
            Folder::Environments => "environments",
            Folder::Alerts => "alerts",
            Folder::Dashboards => "dashboards",
            Folder::Templates => "templates",
            Folder::Slos => "slos",
        }
    }

    fn embedded(self) -> &'static Dir<'static> {
        match self {
            Folder::Environments => &ENVIRONMENTS,
            Folder::Alerts => &ALERTS,
            Folder::Dashboards => &DASHBOARDS,
            Folder::Templates => &TEMPLATES,
            Folder::Slos => &SLOS,
        }
    }
}

/// One input file: its display path (`alerts/http.yaml`) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Its display path, `/`-separated from the specs root (`alerts/http.yaml`).
    pub path: String,
    /// Its contents.
    pub text: String,
}

impl SourceFile {
    /// The file name without its extension (`http` for `alerts/http.yaml`).
    pub fn stem(&self) -> &str {
        let name = self.path.rsplit('/').next().unwrap_or(&self.path);
        name.split_once('.').map_or(name, |(stem, _)| stem)
    }
}

/// The generator's inputs: embedded in the binary, or read from a directory.
#[derive(Debug, Clone)]
pub enum SpecSource {
    /// The copies built into the binary.
    Embedded,
    /// A `--specs` directory; a folder it lacks falls back to the embedded copy.
    Dir(PathBuf),
}

impl SpecSource {
    /// `--specs DIR` when given, else the embedded copies.
    pub fn new(dir: Option<&Path>) -> Result<SpecSource> {
        match dir {
            None => Ok(SpecSource::Embedded),
            Some(dir) if dir.is_dir() => Ok(SpecSource::Dir(dir.to_path_buf())),
            Some(dir) => Err(Error::usage(format!(
                "--specs {}: not a directory (expected one holding environments/, alerts/, dashboards/, templates/, slos/)",
                dir.display()
            ))
            .with_key("--specs")
            .with_path(dir)),
        }
    }

    /// The files of `folder` whose names end in one of `extensions`, in name order. A missing
    /// folder in a `--specs` directory falls back to the embedded copy, so a user can override
    /// just the alerts, say.
    pub fn files(&self, folder: Folder, extensions: &[&str]) -> Result<Vec<SourceFile>> {
        let wanted = |name: &str| extensions.iter().any(|ext| name.ends_with(ext));
        let mut files = match self {
            SpecSource::Dir(root) if root.join(folder.name()).is_dir() => {
                read_dir_files(&root.join(folder.name()), folder.name(), &wanted)?
            }
            _ => embedded_files(folder, &wanted)?,
        };
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// One file of `folder` by name, or a usage error listing what exists.
    pub fn file(&self, folder: Folder, name: &str) -> Result<SourceFile> {
        let files = self.files(folder, &[""])?;
        let wanted = format!("{}/{name}", folder.name());
        files.iter().find(|f| f.path == wanted).cloned().ok_or_else(|| {
            let known: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
            Error::usage(format!("{wanted} not found (have: {})", known.join(", "))).with_path(&wanted)
        })
    }

    /// The environment names: one per `environments/<name>.yaml` (or `.yml`), in name order.
    /// Other files (`local.bak.yaml`, `.yaml`) are not environments; one name in both spellings
    /// is an error.
    pub fn environments(&self) -> Result<Vec<String>> {
        Ok(self
            .environment_files()?
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    /// The profile file of `env`, or a usage error listing the environments that exist.
    pub fn environment(&self, env: &str) -> Result<SourceFile> {
        if !is_environment_name(env) {
            return Err(Error::usage(format!(
                "--env {}: not an environment name ({ENVIRONMENT_NAME_RULE})",
                echoed(env)
            ))
            .with_key("--env"));
        }
        let files = self.environment_files()?;
        let known: Vec<_> = files.iter().map(|(name, _)| name.as_str()).collect();
        let unknown = || {
            Error::usage(format!(
                "--env {}: unknown environment (known: {})",
                echoed(env),
                known.join(", ")
            ))
            .with_key("--env")
        };
        let found = files.iter().find(|(name, _)| name == env).ok_or_else(unknown)?;
        Ok(found.1.clone())
    }

    /// The entries of a `--specs` folder's `environments/` named like a profile (`*.yaml`,
    /// `*.yml`) that are no environment, each with the reason: a name outside the environment
    /// name rule (`Prod_1.yaml`, `local.bak.yaml`), or an entry that is not a regular file.
    /// `generate` never reads them; `check` fails naming them rather than check nothing.
    pub fn skipped_profiles(&self) -> Result<Vec<(String, String)>> {
        let SpecSource::Dir(root) = self else {
            return Ok(Vec::new());
        };
        let folder = Folder::Environments.name();
        let dir = root.join(folder);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut skipped = Vec::new();
        let reading = || format!("reading {}", dir.display());
        for entry in std::fs::read_dir(&dir).io_context(reading).at_path(&dir)? {
            let entry = entry.io_context(reading).at_path(&dir)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(stem) = profile_stem(&name) else {
                continue;
            };
            let reason = if !entry
                .file_type()
                .map_err(Error::from)
                .at_path(entry.path())?
                .is_file()
            {
                "not a regular file".to_string()
            } else if !is_environment_name(stem) {
                format!(
                    "{} is not an environment name ({ENVIRONMENT_NAME_RULE})",
                    echoed(stem)
                )
            } else {
                continue;
            };
            skipped.push((format!("{folder}/{name}"), reason));
        }
        skipped.sort();
        Ok(skipped)
    }

    fn environment_files(&self) -> Result<Vec<(String, SourceFile)>> {
        let mut named: Vec<(String, SourceFile)> = Vec::new();
        for file in self.files(Folder::Environments, &PROFILE_EXTENSIONS)? {
            let base = file.path.rsplit('/').next().unwrap_or(&file.path);
            let Some(name) = profile_stem(base).filter(|n| is_environment_name(n)) else {
                continue;
            };
            if let Some((_, other)) = named.iter().find(|(n, _)| n == name) {
                return Err(Error::usage(format!(
                    "environment {name:?} is defined twice: {} and {} (keep one)",
                    other.path, file.path
                ))
                .with_path(&file.path));
            }
            named.push((name.to_string(), file));
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(named)
    }
}

pub(crate) use crate::names::is_environment_name;
use crate::names::ENVIRONMENT_NAME_RULE;

/// The extensions a profile file may have.
const PROFILE_EXTENSIONS: [&str; 2] = [".yaml", ".yml"];

/// `name` without its profile extension; `None` when it has neither.
fn profile_stem(name: &str) -> Option<&str> {
    PROFILE_EXTENSIONS.iter().find_map(|ext| name.strip_suffix(ext))
}

fn embedded_files(folder: Folder, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<SourceFile>> {
    folder
        .embedded()
        .files()
        .filter(|f| wanted(&f.path().to_string_lossy()))
        .map(|f| {
            let path = format!("{}/{}", folder.name(), f.path().display());
            let text = f
                .contents_utf8()
                .ok_or_else(|| Error::new(ErrorKind::Io, format!("{path}: not UTF-8")).with_path(&path))?;
            Ok(SourceFile {
                path,
                text: text.to_string(),
            })
        })
        .collect()
}

fn read_dir_files(dir: &Path, display: &str, wanted: &dyn Fn(&str) -> bool) -> Result<Vec<SourceFile>> {
    let reading = || format!("reading {}", dir.display());
    let entries = std::fs::read_dir(dir).io_context(reading).at_path(dir)?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.io_context(reading).at_path(dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(Error::from).at_path(entry.path())?;
        if !file_type.is_file() || !wanted(&name) {
            continue;
        }
        let size = entry.metadata().map_or(0, |m| m.len());
        if size > MAX_SPEC_BYTES {
            return Err(Error::usage(format!(
                "{}: larger than {MAX_SPEC_BYTES} bytes, which no spec needs",
                entry.path().display()
            ))
            .with_path(entry.path()));
        }
        // Read as the output folder is: no link followed, nothing but a regular file opened, at
        // most the bound (the entry may have changed since it was listed).
        let bytes = read_regular(&entry.path(), MAX_SPEC_BYTES)
            .io_context(|| format!("reading {}", entry.path().display()))
            .at_path(entry.path())?
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: changed while it was read (no longer a regular file of at most {MAX_SPEC_BYTES} bytes)",
                    entry.path().display()
                ))
                .with_path(entry.path())
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::usage(format!("{}: not UTF-8", entry.path().display())).with_path(entry.path())
        })?;
        files.push(SourceFile {
            path: format!("{display}/{name}"),
            text,
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs_with(names: &[&str]) -> (tempfile::TempDir, SpecSource) {
        let dir = tempfile::tempdir().unwrap();
        let envs = dir.path().join("environments");
        std::fs::create_dir(&envs).unwrap();
        for name in names {
            std::fs::write(envs.join(name), format!("# {name}\n")).unwrap();
        }
        let source = SpecSource::Dir(dir.path().to_path_buf());
        (dir, source)
    }

    #[test]
    fn a_backup_or_a_nameless_file_is_no_environment() {
        let (_dir, source) = specs_with(&["local.yaml", "local.bak.yaml", ".yaml", "Prod.yaml"]);
        assert_eq!(source.environments().unwrap(), ["local"]);
        assert_eq!(source.environment("local").unwrap().text, "# local.yaml\n");
        for bad in ["", "local.bak", "../x", "Prod"] {
            let err = source.environment(bad).unwrap_err();
            assert!(matches!(err.kind(), ErrorKind::Usage), "{bad}: {err:#}");
            assert_eq!(err.key(), Some("--env"), "{bad}: {err:#}");
        }
    }

    #[test]
    fn one_name_in_two_spellings_is_an_error_naming_both() {
        let (_dir, source) = specs_with(&["local.yaml", "local.yml"]);
        let err = format!("{:#}", source.environment("local").unwrap_err());
        assert!(err.contains("local.yaml") && err.contains("local.yml"), "{err}");
    }
}
