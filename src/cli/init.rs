//! `sockudo-obs init --env NAME [--from production] [--dir DIR]`: writes an embedded profile
//! out as `DIR/environments/NAME.yaml` for the operator to edit, headed by the keys that still
//! hold the template's example values. `generate --env NAME --specs DIR` then reads it (the
//! specs and templates it does not override come from the binary).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use sockudo_obs::bundle::{parsed_profile, Folder, SourceFile, SpecSource};
use sockudo_obs::UsageError;

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
    let name_ok = !args.env.is_empty()
        && args
            .env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(UsageError(format!(
            "--env {:?}: use letters, digits, '-' and '_' (it becomes a file name)",
            args.env
        ))
        .into());
    }
    let template = SpecSource::Embedded
        .environment(&args.from)
        .map_err(|e| e.context("--from"))?;
    let target = args
        .dir
        .join(Folder::Environments.name())
        .join(format!("{}.yaml", args.env));
    if target.exists() {
        return Err(UsageError(format!(
            "--env {}: {} exists; edit it, or remove it to start over",
            args.env,
            target.display()
        ))
        .into());
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

fn write_new(target: &Path, text: &str) -> Result<()> {
    let dir = target.parent().expect("a file in environments/");
    std::fs::create_dir_all(dir)
        .map_err(|e| UsageError(format!("--dir: cannot create {}: {e}", dir.display())))?;
    std::fs::write(target, text)
        .map_err(|e| UsageError(format!("--dir: cannot write {}: {e}", target.display())).into())
}
