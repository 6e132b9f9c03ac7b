//! `sockudo-obs init --env NAME [--from production] [--dir DIR]`: writes an embedded profile
//! out as `DIR/environments/NAME.yaml` for the operator to edit, headed by the keys that still
//! hold the template's example values. `generate --env NAME --specs DIR` then reads it (the
//! specs and templates it does not override come from the binary).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use sockudo_obs::bundle::{parsed_profile, Folder, SourceFile, SpecSource};
use sockudo_obs::names::{is_environment_name, ENVIRONMENT_NAME_RULE};
use sockudo_obs::{echoed, UsageError};

use super::stdio::outln;

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The new environment's name: the profile becomes environments/<NAME>.yaml.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// The embedded profile to start from.
    #[arg(long, value_name = "ENV", default_value = "production")]
    pub from: String,
    /// The specs directory to write into (later `generate --specs DIR`).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// Marks of a template value that is not a real deployment's.
const EXAMPLE_MARKS: [&str; 2] = ["example.", ".example"];

pub fn run(args: &InitArgs) -> Result<ExitCode> {
    // The one name rule `generate` and `check` read: a profile init writes is one they take.
    if !is_environment_name(&args.env) {
        return Err(UsageError(format!(
            "--env {}: not an environment name ({ENVIRONMENT_NAME_RULE}); it becomes a file name",
            echoed(&args.env)
        ))
        .into());
    }
    let embedded = SpecSource::Embedded;
    let template = embedded.environment(&args.from).map_err(|_| {
        let known = embedded.environments().unwrap_or_default().join(", ");
        UsageError(format!(
            "--from {}: no such embedded profile (have: {known})",
            echoed(&args.from)
        ))
    })?;
    let target = args
        .dir
        .join(Folder::Environments.name())
        .join(format!("{}.yaml", args.env));
    // Anything at the path, a dangling link too, is the operator's: never overwritten or followed.
    if let Ok(meta) = std::fs::symlink_metadata(&target) {
        let what = if meta.file_type().is_symlink() {
            "is a symbolic link; init never writes through one"
        } else {
            "exists; edit it, or remove it to start over"
        };
        return Err(UsageError(format!("--env {}: {} {what}", args.env, target.display())).into());
    }
    let text = profile_text(&args.env, &template)?;
    write_new(&target, &text)?;
    outln!("wrote {}", target.display())?;
    outln!(
        "edit it, then: sockudo-obs generate --env {} --specs {}",
        args.env,
        args.dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The template's text, unchanged below a header that names the profile's origin and every key
/// still holding an example value.
pub fn profile_text(env: &str, template: &SourceFile) -> Result<String> {
    let value: serde_norway::Value =
        serde_norway::from_str(&template.text).with_context(|| format!("{}: not YAML", template.path))?;
    let mut examples = Vec::new();
    example_keys(&value, "", &mut examples);
    let mut header = vec![
        format!(
            "# The {env} environment, written by `sockudo-obs init` from {}.",
            template.path
        ),
        "# It is a template: edit it for your deployment before generating. Check at least".into(),
        "# prometheus.external_labels (cluster, environment), kubernetes.namespace,".into(),
        "# alertmanager.webhook_url and the kubernetes.* names. Keys still holding example values:".into(),
    ];
    header.extend(examples.iter().map(|key| format!("#   - {key}")));
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

fn example_keys(value: &serde_norway::Value, at: &str, found: &mut Vec<String>) {
    match value {
        serde_norway::Value::Mapping(map) => {
            for (key, child) in map {
                let key = key.as_str().unwrap_or_default();
                let path = if at.is_empty() {
                    key.to_string()
                } else {
                    format!("{at}.{key}")
                };
                example_keys(child, &path, found);
            }
        }
        serde_norway::Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                example_keys(child, &format!("{at}[{i}]"), found);
            }
        }
        serde_norway::Value::String(text) if EXAMPLE_MARKS.iter().any(|m| text.contains(m)) => {
            found.push(format!("{at} ({text})"));
        }
        _ => {}
    }
}

/// Creates `target` holding `text`, never through a symbolic link: `environments/` must be a real
/// folder (created when missing), and the file is created new (`O_CREAT | O_EXCL`, and
/// `O_NOFOLLOW`), so a file or a link, dangling or not, that appeared there since `run` looked is
/// refused naming it.
fn write_new(target: &Path, text: &str) -> Result<()> {
    let dir = target.parent().expect("a file in environments/");
    let refused = |what: String| -> anyhow::Error { UsageError(format!("--dir: {what}")).into() };
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
