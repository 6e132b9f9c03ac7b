//! `sockudo-obs init --env NAME [--from production] [--dir DIR]`: writes an embedded profile
//! out as `DIR/environments/NAME.yaml` for the operator to edit, headed by the keys that still
//! hold the template's example values. `generate --env NAME --specs DIR` then reads it (the
//! specs and templates it does not override come from the binary).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use sockudo_obs::bundle::{overlay_files, parsed_profile, reference, Folder, SourceFile, SpecSource};
use sockudo_obs::names::{is_environment_name, ENVIRONMENT_NAME_RULE};
use sockudo_obs::{echoed, Error};

use super::stdio::outln;

#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// The new environment's name: the profile becomes environments/<NAME>.yaml.
    #[arg(long, value_name = "NAME", required_unless_present = "reference")]
    pub env: Option<String>,
    /// The embedded profile to start from.
    #[arg(long, value_name = "ENV", default_value = "production")]
    pub from: String,
    /// The specs directory to write into (later `generate --specs DIR`); the Kubernetes overlay
    /// goes to DIR/k8s/<NAME>.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Print the profile reference (every key, its type, default and an example: docs/profile.md)
    /// instead.
    #[arg(long, conflicts_with = "env")]
    pub reference: bool,
}

pub(crate) fn run(args: &InitArgs) -> Result<ExitCode> {
    if args.reference {
        outln!("{}", reference::markdown().trim_end())?;
        return Ok(ExitCode::SUCCESS);
    }
    let env = args.env.as_deref().unwrap_or_default();
    // The one name rule `generate` and `check` read: a profile init writes is one they take.
    if !is_environment_name(env) {
        return Err(Error::usage(format!(
            "--env {}: not an environment name ({ENVIRONMENT_NAME_RULE}); it becomes a file name",
            echoed(env)
        ))
        .with_key("--env")
        .into());
    }
    let embedded = SpecSource::Embedded;
    let template = embedded.environment(&args.from).map_err(|_| {
        let known = embedded.environments().unwrap_or_default().join(", ");
        Error::usage(format!(
            "--from {}: no such embedded profile (have: {known})",
            echoed(&args.from)
        ))
        .with_key("--from")
    })?;
    let target = args
        .dir
        .join(Folder::Environments.name())
        .join(format!("{env}.yaml"));
    let overlay = args.dir.join("k8s").join(env);
    // Anything at the paths, a dangling link too, is the operator's: never overwritten or followed.
    for path in [&target, &overlay] {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let what = if meta.file_type().is_symlink() {
                "is a symbolic link; init never writes through one"
            } else {
                "exists; edit it, or remove it to start over"
            };
            return Err(Error::usage(format!("--env {env}: {} {what}", path.display()))
                .with_key("--env")
                .with_path(path)
                .into());
        }
    }
    let text = profile_text(env, &template)?;
    let profile = parsed_profile(&SourceFile {
        path: format!("environments/{env}.yaml"),
        text: text.clone(),
    })?;
    write_new(&target, &text)?;
    outln!("wrote {}", target.display())?;
    // The overlay points at the bundle where `generate --env <env>` run here writes it.
    let bundle_k8s = relative_to(&overlay, &Path::new("generated").join(env).join("k8s"))?;
    for (file, text) in overlay_files(&profile, env, &bundle_k8s)? {
        let path = overlay.join(file);
        write_new(&path, &text)?;
        outln!("wrote {}", path.display())?;
    }
    outln!(
        "edit them, then (from this folder): sockudo-obs generate --env {env} --specs {} && kubectl apply -k {}",
        args.dir.display(),
        overlay.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `to` (relative to the working folder) as seen from the folder `from` (also relative to it,
/// created if missing), with `/` separators: what a kustomization names it by.
fn relative_to(from: &Path, to: &Path) -> Result<String> {
    let cwd = std::env::current_dir().context("the working folder")?;
    std::fs::create_dir_all(from.parent().unwrap_or(Path::new(".")))
        .map_err(|e| Error::usage(format!("--dir: cannot create {}: {e}", from.display())))?;
    let parent = from.parent().unwrap_or(Path::new("."));
    let parent = parent
        .canonicalize()
        .map_err(|e| Error::usage(format!("--dir: {}: {e}", parent.display())))?;
    let from = parent.join(from.file_name().unwrap_or_default());
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let to = cwd.join(to);
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Ok(parts.join("/"))
}

/// The template's text, unchanged below a header that names the profile's origin
/// ([`reference::INIT_ORIGIN`], which `generate` reads to tell example values from edited ones)
/// and every example value: each key whose value is the deployment's own ([`reference`]'s
/// **yours** keys) and any value holding a reserved example name.
pub(crate) fn profile_text(env: &str, template: &SourceFile) -> Result<String> {
    let value: serde_norway::Value =
        serde_norway::from_str(&template.text).with_context(|| format!("{}: not YAML", template.path))?;
    let examples = reference::example_values(&value, Some(&value));
    let mut header = vec![
        format!(
            "# The {env} environment, {}{}.",
            reference::INIT_ORIGIN,
            template.path
        ),
        "# It is a template: edit it for your deployment before generating (docs/profile.md describes".into(),
        "# every key). These keys still hold the template's example values; `generate` warns while".into(),
        "# one remains:".into(),
    ];
    header.extend(
        examples
            .iter()
            .map(|(key, value)| format!("#   - {key}: {value}")),
    );
    if examples.is_empty() {
        header.push("#   (none)".into());
    }
    let text = format!("{}\n{}", header.join("\n"), template.text);
    // What init writes must be a profile generate accepts.
    parsed_profile(&SourceFile {
        path: format!("environments/{env}.yaml"),
        text: text.clone(),
    })?;
    Ok(text)
}

/// Creates `target` holding `text`, never through a symbolic link: `environments/` must be a real
/// folder (created when missing), and the file is created new (`O_CREAT | O_EXCL`, and
/// `O_NOFOLLOW`), so a file or a link, dangling or not, that appeared there since `run` looked is
/// refused naming it.
fn write_new(target: &Path, text: &str) -> Result<()> {
    let dir = target.parent().expect("a file in environments/");
    let refused =
        |what: String| -> anyhow::Error { Error::usage(format!("--dir: {what}")).with_key("--dir").into() };
    if let Ok(meta) = std::fs::symlink_metadata(dir) {
        if meta.file_type().is_symlink() {
            return Err(refused(format!(
                "{} is a symbolic link; init writes only into a real folder",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| refused(format!("cannot create {}: {e}", dir.display())))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options
        .open(target)
        .map_err(|e| refused(format!("cannot create {}: {e}", target.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| refused(format!("cannot write {}: {e}", target.display())))
}
